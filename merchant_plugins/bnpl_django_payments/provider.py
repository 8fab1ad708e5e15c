"""``BnplProvider``: the pay-later lender as a django-payments 4.x provider (redirect flow plus webhooks)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any, get_args

from django.db import transaction  # type: ignore[import-untyped]
from django.http import HttpResponse, HttpResponseRedirect  # type: ignore[import-untyped]
from payments import PaymentError, PaymentStatus, RedirectNeeded, get_payment_model
from payments.core import BasicProvider, provider_factory

from bnpl.client import Client
from bnpl.models.checkouts import Checkout, CheckoutCreateParams, LineItem
from bnpl.models.customers import CustomerInfo, ItemCategory
from bnpl.models.events import Event, EventParseError
from bnpl.models.orders import Order
from bnpl.webhooks import (
    DedupStore,
    RawBodyRequiredError,
    RetryLater,
    SQLiteStore,
    Webhook,
    WebhookHandler,
    WebhookVerificationError,
)
from bnpl.webhooks.raw_body.django import raw_body
from bnpl_django_payments.amounts import to_decimal, to_minor
from bnpl_django_payments.errors import BnplConfigurationError
from bnpl_django_payments.state import apply_checkout_outcome, apply_order

__all__ = ["BnplProvider", "event_merchant_reference"]

logger = logging.getLogger("bnpl.django_payments")

_CHECKOUT_EVENTS = ("checkout.approved", "checkout.declined", "checkout.expired", "checkout.canceled")
_ORDER_EVENTS = (
    "order.authorized",
    "order.captured",
    "order.voided",
    "order.refunded",
    "order.authorization_expired",
    "order.paid_off",
)
_NOTICE_EVENTS = ("order.instalment_paid", "order.instalment_failed", "order.instalment_overdue")
_HANDLED = frozenset(_CHECKOUT_EVENTS + _ORDER_EVENTS + _NOTICE_EVENTS)

StoreOption = DedupStore | str | Callable[[], DedupStore] | None


def event_merchant_reference(event: Event) -> str | None:
    """The ``merchant_reference`` (our payment token) an event is about, or None for customer-level events."""
    data: Any = getattr(event, "data", None)
    if data is None:
        return None
    if isinstance(data, Checkout | Order):
        return data.merchant_reference
    order = getattr(data, "order", None)  # instalment and authorization notices carry the order snapshot
    return order.merchant_reference if isinstance(order, Order) else None


def _make_store(store: StoreOption) -> DedupStore:
    if store is None:
        return SQLiteStore()
    if isinstance(store, str):
        return SQLiteStore(store)
    if isinstance(store, DedupStore):
        return store
    if callable(store):
        made = store()
        if isinstance(made, DedupStore):
            return made
    raise BnplConfigurationError(
        "webhook_store must be a bnpl.webhooks store (SQLiteStore, RedisStore, PostgresStore), a SQLite file "
        "path, or a callable returning a store"
    )


class BnplProvider(BasicProvider):  # type: ignore[misc]  # django-payments ships no type information
    """Pay later with the bnpl lender: ``get_form`` sends the customer to the hosted approval page.

    Options (the dict in ``PAYMENT_VARIANTS``): ``api_key`` (``sk_test_``/``sk_live_``), ``webhook_secret``
    (``whsec_`` from the webhook endpoint), ``base_url`` (default: the SDK's default for the key),
    ``capture`` (True: capture as soon as the customer is approved; False: stay ``preauth`` until
    ``payment.capture()``), ``webhook_store`` (de-duplication store: a ``bnpl.webhooks`` store instance, a
    SQLite path, or a zero-argument callable; default ``SQLiteStore()`` in the working directory),
    ``item_category`` (what the shop sells, for the lender's risk rules; default ``"goods"``) and
    ``webhook_tolerance`` (seconds of clock skew accepted on signatures, default 300).
    """

    def __init__(
        self,
        api_key: str,
        webhook_secret: str,
        *,
        base_url: str | None = None,
        capture: bool = True,
        webhook_store: StoreOption = None,
        item_category: str = "goods",
        webhook_tolerance: float | None = 300,
        client: Client | None = None,
    ) -> None:
        if not isinstance(api_key, str) or not api_key.startswith(("sk_test_", "sk_live_")):
            raise BnplConfigurationError("api_key must be a secret key starting with sk_test_ or sk_live_")
        if not isinstance(webhook_secret, str) or not webhook_secret:
            raise BnplConfigurationError("webhook_secret must be the whsec_ secret of your webhook endpoint")
        if item_category not in get_args(ItemCategory):
            raise BnplConfigurationError(f"item_category must be one of {', '.join(get_args(ItemCategory))}")
        if not isinstance(capture, bool):
            raise BnplConfigurationError("capture must be True or False")
        super().__init__(capture=capture)
        try:
            webhook = Webhook(webhook_secret, tolerance=webhook_tolerance)
        except Exception as exc:  # the key error never contains the secret itself
            raise BnplConfigurationError(f"webhook_secret is not usable: {exc}") from None
        self._api_key = api_key
        self._base_url = base_url
        self._client = client
        self._item_category = item_category
        self.webhook = webhook
        self.handler = WebhookHandler(webhook, _make_store(webhook_store))
        self.handler.on(*_CHECKOUT_EVENTS)(self._on_checkout_event)
        self.handler.on(*_ORDER_EVENTS)(self._on_order_event)
        self.handler.on(*_NOTICE_EVENTS)(self._on_notice_event)

    def __repr__(self) -> str:
        return f"BnplProvider(capture={self._capture}, store={self.handler.store!r})"

    @property
    def client(self) -> Client:
        """The lender API client (created on first use, so loading settings never opens a connection)."""
        if self._client is None:
            self._client = Client(api_key=self._api_key, base_url=self._base_url)
        return self._client

    # -- the customer's redirect ----------------------------------------------------------------------------

    def get_form(self, payment: Any, data: Any = None) -> Any:
        """Open (or reuse) the lender checkout for ``payment`` and raise ``RedirectNeeded(approval_url)``."""
        if payment.status not in (PaymentStatus.WAITING, PaymentStatus.INPUT):
            raise PaymentError(f"payment is {payment.status}; only a waiting payment can be sent to the lender")
        if payment.transaction_id:
            existing = self.client.checkouts.retrieve(payment.transaction_id)
            if existing.status == "open":
                raise RedirectNeeded(existing.approval_url)
        checkout = self.client.checkouts.create(
            self._checkout_params(payment),
            # one checkout per payment and attempt, even if the customer double-clicks "pay"
            idempotency_key=f"django-payments-{payment.token}-{payment.transaction_id or 'first'}",
        )
        payment.transaction_id = checkout.id
        payment.attrs.bnpl_checkout_id = checkout.id
        payment.save(update_fields=["transaction_id", "extra_data"])
        raise RedirectNeeded(checkout.approval_url)

    def _checkout_params(self, payment: Any) -> CheckoutCreateParams:
        currency = str(payment.currency).upper()
        amount = to_minor(Decimal(payment.total), currency)
        return CheckoutCreateParams(
            merchant_reference=str(payment.token),
            amount=amount,
            currency=currency,
            items=self._items(payment, amount, currency),
            customer=self._customer(payment),
            return_url=self.get_return_url(payment),
            metadata={"django_payments_variant": str(payment.variant)},
        )

    def _items(self, payment: Any, amount: int, currency: str) -> list[LineItem]:
        items: list[LineItem] = []
        for item in payment.get_purchased_items():
            unit = to_minor(Decimal(item.price), currency)
            quantity = int(item.quantity)
            items.append(
                LineItem(
                    name=str(item.name)[:200] or "item",
                    category=self._item_category,
                    quantity=quantity,
                    unit_amount=unit,
                    total_amount=unit * quantity,
                    reference=str(item.sku)[:100] if item.sku else None,
                )
            )
        if items and sum(i.total_amount for i in items) == amount:
            return items
        # the lender needs items that sum to the total; delivery and tax make them differ, so send one line
        name = str(payment.description or f"Order {payment.token}")[:200]
        return [LineItem(name=name, category=self._item_category, unit_amount=amount, total_amount=amount)]

    @staticmethod
    def _customer(payment: Any) -> CustomerInfo | None:
        email = str(payment.billing_email or "").strip()
        if not email:
            return None
        # a pseudonymous, stable reference: never the e-mail itself
        reference = "dp-" + hashlib.sha256(email.lower().encode()).hexdigest()[:40]
        return CustomerInfo(reference=reference, email=email)

    # -- returns and webhooks --------------------------------------------------------------------------------

    def process_data(self, payment: Any, request: Any) -> Any:
        """The customer's return (a GET: confirmed with the API) or a signed lender webhook (a POST)."""
        if request.method == "POST":  # the lender redirects customers with a GET; a POST must be signed
            return self._webhook_response(request)
        payment = type(payment).objects.select_for_update().get(pk=payment.pk)
        if not payment.transaction_id:
            return HttpResponseRedirect(payment.get_failure_url())
        # never trust ?status=approved: ask the lender what happened to *this payment's* checkout
        checkout = self.client.checkouts.retrieve(payment.transaction_id)
        if checkout.status == "approved":
            self._approved(payment, checkout)
            return HttpResponseRedirect(payment.get_success_url())
        apply_checkout_outcome(payment, checkout)
        return HttpResponseRedirect(payment.get_failure_url())

    def get_token_from_request(self, payment: Any, request: Any) -> str | None:
        """For the static ``/payments/process/<variant>/`` URL: verify the webhook and return the payment token.

        Bad signature -> 400 and nothing changes; an event for a payment this shop does not have (yet) -> 503 so
        the lender retries; events about no payment at all (customer credit notices) are acknowledged (200).
        """
        event = self._verified_event(request)
        reference = event_merchant_reference(event)
        if reference is None or event.type not in _HANDLED:
            raise PaymentError(f"event {event.type} is not about a payment: acknowledged", code=200)
        if not get_payment_model().objects.filter(token=reference).exists():
            raise PaymentError(f"no payment with token {reference!r} yet: retry later", code=503)
        return reference

    def _verified_event(self, request: Any) -> Event:
        try:
            body = raw_body(request)
        except RawBodyRequiredError as exc:
            # a misconfiguration on our side: 500 so the lender keeps the event until it is fixed
            raise PaymentError(str(exc), code=500) from None
        try:
            return self.webhook.unwrap(body, request.headers)
        except WebhookVerificationError as exc:
            raise PaymentError(f"webhook rejected: {exc}", code=exc.status_code) from None
        except EventParseError as exc:
            raise PaymentError(f"webhook body is not an event: {exc}", code=400) from None

    def _webhook_response(self, request: Any) -> Any:
        try:
            body = raw_body(request)
        except RawBodyRequiredError as exc:
            return HttpResponse(str(exc), status=500, content_type="text/plain")
        result = self.handler.handle(body, request.headers)
        if not result.ok:
            # undo any half-applied change; the lender retries (5xx) or the event is refused (4xx)
            transaction.set_rollback(True)
        response = HttpResponse(result.body, status=result.status_code, content_type="application/json")
        for name, value in result.headers.items():
            response[name] = value
        return response

    def _locked_payment(self, event: Event) -> Any:
        reference = event_merchant_reference(event)
        payment = get_payment_model().objects.select_for_update().filter(token=reference).first()
        if payment is None:
            raise RetryLater(f"no payment with token {reference!r} yet")
        return payment

    def _on_checkout_event(self, event: Any) -> None:
        payment = self._locked_payment(event)
        checkout: Checkout = event.data
        if checkout.id != payment.transaction_id:
            logger.warning("event %s is for checkout %s, not this payment's: ignored", event.id, checkout.id)
            return
        if checkout.status == "approved":
            # the static URL names one variant, but the payment's own variant decides whether to capture
            owner = provider_factory(payment.variant, payment)
            (owner if isinstance(owner, BnplProvider) else self)._approved(payment, checkout)
        else:
            apply_checkout_outcome(payment, checkout)

    def _on_order_event(self, event: Any) -> None:
        payment = self._locked_payment(event)
        order: Order = event.data
        if order.checkout_id != payment.transaction_id:
            logger.warning("event %s is for checkout %s, not this payment's: ignored", event.id, order.checkout_id)
            return
        apply_order(payment, order)

    def _on_notice_event(self, event: Any) -> None:
        payment = self._locked_payment(event)
        order: Order = event.data.order
        if order.checkout_id != payment.transaction_id:
            return
        apply_order(payment, order)
        if event.type == "order.instalment_overdue":
            payment.attrs.bnpl_overdue_instalment = event.data.instalment_number
            payment.save(update_fields=["extra_data"])

    def _approved(self, payment: Any, checkout: Checkout) -> None:
        if not checkout.order_id:
            raise RetryLater("approved checkout has no order yet")
        order = self.client.orders.retrieve(checkout.order_id)
        if self._capture and order.status == "authorized":
            # the same key from the return and from the webhook, so racing both captures once
            order = self.client.orders.capture(order.id, idempotency_key=f"django-payments-{payment.token}-capture")
        apply_order(payment, order)

    # -- the merchant's operations (BasePayment.capture/release/refund call these) ------------------------------

    def _order_id(self, payment: Any) -> str:
        order_id = getattr(payment.attrs, "bnpl_order_id", None)
        if order_id:
            return str(order_id)
        if payment.transaction_id:
            checkout = self.client.checkouts.retrieve(payment.transaction_id)
            if checkout.order_id:
                return checkout.order_id
        raise PaymentError("this payment has no approved lender order yet")

    def capture(self, payment: Any, amount: Decimal | None = None) -> Decimal:
        """Capture ``amount`` (default: all) and return the net captured amount, saved on the payment."""
        minor = None if amount is None else to_minor(Decimal(amount), str(payment.currency))
        order = self.client.orders.capture(self._order_id(payment), amount=minor)
        apply_order(payment, order, move=False)  # BasePayment.capture() moves the status itself
        return to_decimal(order.amount_captured - order.amount_refunded, order.currency)

    def release(self, payment: Any) -> None:
        """Void the authorization (``BasePayment.release()`` then marks the payment ``refunded``)."""
        order = self.client.orders.void(self._order_id(payment), reason="released by the merchant")
        apply_order(payment, order, move=False)

    def refund(self, payment: Any, amount: Decimal | None = None) -> Decimal:
        """Refund ``amount`` (default: everything still captured) and return it as a ``Decimal``.

        ``BasePayment.refund()`` subtracts the returned amount from ``captured_amount`` and saves the payment.
        """
        value = Decimal(payment.captured_amount) if amount is None else Decimal(amount)
        if value <= 0:
            raise PaymentError("refund amount must be positive")
        order = self.client.orders.refund(self._order_id(payment), amount=to_minor(value, str(payment.currency)))
        # record the lender's amounts (so a late webhook is recognised as older) but leave captured_amount to
        # BasePayment.refund(), which subtracts the value we return
        for name, lender in (
            ("bnpl_amount_captured", order.amount_captured),
            ("bnpl_amount_refunded", order.amount_refunded),
            ("bnpl_amount_voided", order.amount_voided),
        ):
            setattr(payment.attrs, name, lender)
        payment.attrs.bnpl_order_status = order.status
        return value

    def cancel(self, payment: Any) -> None:
        """Cancel the still-open checkout of a waiting payment (``BasePayment.cancel()`` sets ``cancelled``)."""
        if payment.transaction_id:
            checkout = self.client.checkouts.retrieve(payment.transaction_id)
            if checkout.status == "open":
                self.client.checkouts.cancel(payment.transaction_id, reason="canceled by the merchant")
