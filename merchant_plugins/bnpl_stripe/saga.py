"""The down-payment saga: a card hold at Stripe for part of the order and a pay-later loan for the rest,
both captured only when both are authorized, both released when either fails or the deadline passes.

Every step is recorded (with its idempotency key) before its side effect and its outcome after; a crash
anywhere leaves a row that :meth:`DownPaymentSaga.recover` finishes by re-issuing the same calls with the same
keys, which Stripe and the lender de-duplicate. The state machine is in ``docs/plugins/stripe-down-payments.md``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import stripe

import bnpl
from bnpl.models import CustomerInfo
from bnpl.money import Money
from bnpl_stripe._parties import card_error_intent, lender_call, stripe_call
from bnpl_stripe.amounts import to_stripe_amount
from bnpl_stripe.errors import AmountError, SagaConflictError, SagaError, TransientSagaError
from bnpl_stripe.states import (
    CARD_DONE_UNDONE,
    CARD_FAILED,
    LENDER_DONE_UNDONE,
    LENDER_FAILED,
    card_status_of_intent,
    lender_status_of_checkout,
    lender_status_of_order,
)
from bnpl_stripe.store import SagaRecord, SagaStore
from bnpl_stripe.webhooks import WebhookResult, handle_lender, handle_stripe

__all__ = ["STEPS", "DownPaymentSaga"]

log = logging.getLogger("bnpl_stripe")

STEPS: Final = (
    "lender.create_checkout",
    "stripe.create_payment_intent",
    "lender.capture_order",
    "stripe.capture_payment_intent",
    "stripe.cancel_payment_intent",
    "stripe.refund_payment_intent",
    "lender.cancel_checkout",
    "lender.void_order",
    "lender.refund_order",
)
"""Every step; its idempotency key is ``"<saga id>:<step>"``. ``crash_after`` sees ``before:<step>`` (recorded,
side effect not yet made), ``after:<step>`` (side effect made, outcome not yet recorded) and ``status:<status>``."""

_ID_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DownPaymentSaga:
    """Run down-payment sagas between a Stripe account and the pay-later lender.

    ``stripe_client`` is a ``stripe.StripeClient`` (give it ``max_network_retries=2``: retries reuse the
    idempotency key), ``lender`` a ``bnpl.Client``, ``store`` a :class:`SagaStore`. ``timeout`` is how long the
    customer has to authorize both sides; ``start_grace`` how long ``recover()`` leaves a saga whose ``start()``
    has not returned before it compensates it. ``clock`` and ``crash_after`` exist for tests.
    """

    def __init__(
        self,
        *,
        stripe_client: stripe.StripeClient,
        lender: bnpl.Client,
        store: SagaStore,
        stripe_webhook_secret: str | None = None,
        lender_webhook_secret: str | None = None,
        timeout: timedelta = timedelta(minutes=30),
        start_grace: timedelta = timedelta(minutes=5),
        clock: Callable[[], datetime] = _utcnow,
        crash_after: Callable[[str], None] | None = None,
    ) -> None:
        if not isinstance(stripe_client, stripe.StripeClient):
            raise SagaError("stripe_client must be a stripe.StripeClient(api_key, max_network_retries=2)")
        if not isinstance(lender, bnpl.Client):
            raise SagaError("lender must be a bnpl.Client(api_key=..., base_url=...)")
        if not isinstance(store, SagaStore):
            raise SagaError("store must be a bnpl_stripe.SagaStore (SQLite path or postgresql:// URL)")
        if timeout <= timedelta(0) or start_grace < timedelta(0):
            raise SagaError("timeout must be positive and start_grace not negative")
        self._stripe = stripe_client
        self._lender = lender
        self.store = store
        self._stripe_secret = stripe_webhook_secret
        self._lender_webhook = bnpl.Webhook(lender_webhook_secret) if lender_webhook_secret else None
        self.timeout = timeout
        self.start_grace = start_grace
        self._clock = clock
        self._crash_after = crash_after

    def __repr__(self) -> str:
        return f"DownPaymentSaga(store={self.store!r}, timeout={self.timeout})"

    # --- public API ----------------------------------------------------------------------------------------

    def start(
        self,
        order_ref: str,
        total: Money,
        down_payment: Money,
        customer: CustomerInfo | Mapping[str, Any],
        *,
        return_url: str,
        cancel_url: str | None = None,
        payment_method: str | None = None,
        stripe_customer: str | None = None,
        category: str = "package",
        description: str | None = None,
        saga_id: str | None = None,
    ) -> SagaRecord:
        """Open the card hold and the pay-later checkout for ``order_ref``; return the saga.

        Send the customer to ``saga.approval_url`` (the lender) and, unless ``payment_method`` was given (then the
        card is confirmed server-side now), let the browser confirm ``saga.client_secret`` with Stripe.js. Calling
        ``start`` again with the same ``order_ref`` and amounts resumes or returns the same saga.
        """
        remainder = self._check_amounts(total, down_payment)
        if not isinstance(order_ref, str) or not 1 <= len(order_ref) <= 100:
            raise SagaError("order_ref must be your order reference, 1 to 100 characters")
        cust = customer if isinstance(customer, CustomerInfo) else CustomerInfo.model_validate(customer)
        sid = saga_id or uuid.uuid4().hex
        if not 8 <= len(sid) <= 64 or set(sid) - _ID_CHARS:
            raise SagaError("saga_id must be 8 to 64 characters of letters, digits, '_' or '-'")
        now = self._now()
        params = {
            "customer": cust.model_dump(mode="json", exclude_none=True),
            "return_url": return_url,
            "cancel_url": cancel_url,
            "payment_method": payment_method,
            "stripe_customer": stripe_customer,
            "category": category,
            "description": description or f"Pay-later balance of order {order_ref}",
        }
        inserted = self.store.insert(
            {
                "id": sid,
                "order_ref": order_ref,
                "currency": total.currency.code,
                "total_minor": total.minor,
                "down_minor": down_payment.minor,
                "remainder_minor": remainder.minor,
                "status": "starting",
                "card_status": "none",
                "lender_status": "none",
                "params": params,
                "deadline_ms": _ms(now + self.timeout),
                "created_ms": _ms(now),
                "updated_ms": _ms(now),
            }
        )
        saga = self.store.find(order_ref=order_ref)
        assert saga is not None  # noqa: S101 - inserted or found by the unique order_ref
        if not inserted and (saga.total != total or saga.down_payment != down_payment):
            raise SagaConflictError(
                f"order {order_ref!r} already has a down-payment saga for {saga.total} with {saga.down_payment} "
                "down; use a new order reference for different amounts"
            )
        if saga.status != "starting":
            return saga
        return self._run_start(saga)

    def get(self, saga_id: str) -> SagaRecord:
        """The stored saga (:class:`SagaNotFoundError` if unknown)."""
        return self.store.get(saga_id)

    def refresh(self, saga_id: str) -> SagaRecord:
        """Read both parties' current state (e.g. when the customer lands on your return URL) and move on."""
        saga = self.store.get(saga_id)
        now = _ms(self._now())
        if saga.payment_intent_id:
            pi = stripe_call("retrieve", self._stripe.v1.payment_intents.retrieve, saga.payment_intent_id)
            self.store.move_side(saga.id, "card", _card_status(pi), now)
        if saga.checkout_id:
            checkout = lender_call("retrieve checkout", self._lender.checkouts.retrieve, saga.checkout_id)
            self.store.move_side(
                saga.id, "lender", lender_status_of_checkout(checkout.status), now, order_id=checkout.order_id
            )
        saga = self.store.get(saga_id)
        if saga.order_id:
            order = lender_call("retrieve order", self._lender.orders.retrieve, saga.order_id)
            self.store.move_side(saga.id, "lender", lender_status_of_order(order.status), now)
        return self._advance(saga_id)

    def recover(self) -> list[SagaRecord]:
        """Finish or compensate every half-done saga; return them as they are afterwards.

        Sagas whose ``start()`` never returned (older than ``start_grace``) are compensated: the customer never
        got the links. The others are refreshed from both parties and moved on: captured when both sides are
        authorized, compensated when one failed or the deadline passed. Interrupted calls are re-issued with
        their original idempotency keys. Safe to run concurrently with webhooks and with itself; schedule it
        every minute or so (cron, Celery beat, RQ scheduler).
        """
        results: list[SagaRecord] = []
        now = self._now()
        for saga in self.store.unfinished():
            try:
                if saga.status == "starting":
                    if now - _dt(saga.created_ms) < self.start_grace:
                        results.append(saga)
                        continue
                    self._transition(saga.id, ("starting",), "compensating", "start() did not finish")
                results.append(self.refresh(saga.id))
            except TransientSagaError as exc:
                log.warning("saga %s not finished yet: %s", saga.id, exc)
                results.append(self.store.get(saga.id))
        return results

    # --- webhooks ------------------------------------------------------------------------------------------

    def handle_stripe_webhook(self, payload: bytes, signature_header: str | None) -> WebhookResult:
        """Verify a Stripe webhook with stripe's own library on the raw body, then feed the saga.

        Pass the raw request body (bytes, never re-serialised JSON) and the ``Stripe-Signature`` header; answer
        the HTTP request with ``result.status_code``.
        """
        return handle_stripe(self, payload, signature_header)

    def handle_lender_webhook(self, payload: bytes, headers: Mapping[str, str]) -> WebhookResult:
        """Verify a lender webhook with ``bnpl.webhooks`` on the raw body, then feed the saga."""
        return handle_lender(self, payload, headers)

    # --- the steps -----------------------------------------------------------------------------------------

    def _run_start(self, saga: SagaRecord) -> SagaRecord:
        saga = self._create_checkout(saga)
        if saga.lender_status != "open":
            # Declined up front (or refused): no card hold is ever placed.
            self._transition(saga.id, ("starting",), "compensating", f"lender checkout {saga.lender_status}")
            return self._advance(saga.id)
        saga = self._create_payment_intent(saga)
        self._transition(saga.id, ("starting",), "pending")
        return self._advance(saga.id)

    def _begin(self, saga: SagaRecord, step: str) -> str | None:
        """Record the step before its side effect; ``None`` if it already finished."""
        rec = self.store.begin_step(saga.id, step, f"{saga.id}:{step}", _ms(self._now()))
        if rec.state != "started":
            return None
        self._hook(f"before:{step}")
        return rec.idempotency_key

    def _finish(self, saga: SagaRecord, step: str, ok: bool, detail: str, **kwargs: Any) -> SagaRecord:
        self._hook(f"after:{step}")
        self.store.finish_step(saga.id, step, "succeeded" if ok else "failed", detail, _ms(self._now()), **kwargs)
        return self.store.get(saga.id)

    def _create_checkout(self, saga: SagaRecord) -> SagaRecord:
        step = "lender.create_checkout"
        key = self._begin(saga, step)
        if key is None:
            return saga
        p = saga.params
        rem = saga.remainder_minor
        body: dict[str, Any] = {
            "merchant_reference": saga.order_ref,
            "amount": rem,
            "currency": saga.currency,
            "items": [{"name": p["description"], "category": p["category"], "unit_amount": rem, "total_amount": rem}],
            "customer": p["customer"],
            "return_url": p["return_url"],
            "expires_in_seconds": min(max(int(self.timeout.total_seconds()), 60), 7 * 24 * 3600),
            "metadata": {"bnpl_saga_id": saga.id, "down_payment": str(saga.down_minor), "down_payment_via": "stripe"},
        }
        if p.get("cancel_url"):
            body["cancel_url"] = p["cancel_url"]
        try:
            checkout = lender_call("create checkout", self._lender.checkouts.create, body, idempotency_key=key)
        except bnpl.APIStatusError as exc:  # refused (400/409/422): nothing was created
            return self._finish(saga, step, False, f"{exc.status_code} {exc.code or ''}".strip())
        return self._finish(
            saga,
            step,
            True,
            checkout.status,
            side="lender",
            side_status=lender_status_of_checkout(checkout.status),
            checkout_id=checkout.id,
            approval_url=checkout.approval_url,
            order_id=checkout.order_id,
        )

    def _create_payment_intent(self, saga: SagaRecord) -> SagaRecord:
        step = "stripe.create_payment_intent"
        key = self._begin(saga, step)
        if key is None:
            return saga
        amount, currency = to_stripe_amount(saga.down_payment)
        p = saga.params
        params: dict[str, Any] = {
            "amount": amount,
            "currency": currency,
            "capture_method": "manual",
            "description": f"Down payment for order {saga.order_ref}",
            "metadata": {
                "bnpl_saga_id": saga.id,
                "bnpl_checkout_id": saga.checkout_id or "",
                "order_ref": saga.order_ref,
            },
        }
        if p.get("stripe_customer"):
            params["customer"] = p["stripe_customer"]
        if p.get("payment_method"):
            params.update(payment_method=p["payment_method"], confirm=True, payment_method_types=["card"])
        else:
            params["automatic_payment_methods"] = {"enabled": True}
        create = self._stripe.v1.payment_intents.create
        try:
            pi = stripe_call("create payment intent", create, params, {"idempotency_key": key})
        except stripe.CardError as exc:  # 402: declined; the PaymentIntent exists and must be canceled
            intent = card_error_intent(exc)
            return self._finish(
                saga, step, False, f"card_error {exc.code}", side="card", side_status="failed",
                payment_intent_id=intent.get("id"),
            )  # fmt: skip
        except stripe.StripeError as exc:  # 400/401/403: refused, nothing created
            return self._finish(saga, step, False, f"{type(exc).__name__} {exc.code or ''}".strip())
        return self._finish(
            saga, step, True, str(pi["status"]), side="card", side_status=_card_status(pi),
            payment_intent_id=pi["id"], client_secret=pi.get("client_secret"),
        )  # fmt: skip

    def _advance(self, saga_id: str) -> SagaRecord:
        """Take every transition the stored state allows, running the side effects they need."""
        for _ in range(8):  # each pass moves the saga forward or returns; 8 is more than the longest path
            saga = self.store.get(saga_id)
            if saga.status == "pending":
                both = {"authorized", "captured"}
                if saga.card_status in both and saga.lender_status in both:
                    self._transition(saga.id, ("pending",), "capturing")
                elif saga.card_status in CARD_FAILED or saga.lender_status in LENDER_FAILED:
                    why = f"card {saga.card_status}, lender {saga.lender_status}"
                    self._transition(saga.id, ("pending",), "compensating", why)
                elif _ms(self._now()) >= saga.deadline_ms:
                    self._transition(saga.id, ("pending",), "compensating", "timed out")
                else:
                    return saga
            elif saga.status == "capturing":
                self._capture(saga)
            elif saga.status == "compensating":
                self._compensate(saga)
            else:
                return saga  # starting (start() owns it), captured, compensated
            if self.store.get(saga_id).status == saga.status:
                return self.store.get(saga_id)
        return self.store.get(saga_id)

    def _capture(self, saga: SagaRecord) -> None:
        if saga.card_status in CARD_FAILED or saga.lender_status in LENDER_FAILED:
            why = f"authorization lost before capture: card {saga.card_status}, lender {saga.lender_status}"
            self._transition(saga.id, ("capturing",), "compensating", why)
            return
        # The loan first: if the card capture then fails, refunding a just-captured loan costs nothing,
        # whereas a Stripe refund keeps Stripe's fee.
        if saga.lender_status == "authorized":
            saga = self._lender_capture(saga)
        if saga.lender_status == "captured" and saga.card_status == "authorized":
            saga = self._stripe_capture(saga)
        if saga.card_status == "captured" and saga.lender_status == "captured":
            self._transition(saga.id, ("capturing",), "captured")
        elif saga.card_status not in {"authorized", "captured"} or saga.lender_status not in {"authorized", "captured"}:
            why = f"capture failed: card {saga.card_status}, lender {saga.lender_status}"
            self._transition(saga.id, ("capturing",), "compensating", why)

    def _lender_capture(self, saga: SagaRecord) -> SagaRecord:
        step = "lender.capture_order"
        key = self._begin(saga, step)
        if key is None or saga.order_id is None:
            return saga
        try:
            order = lender_call("capture", self._lender.orders.capture, saga.order_id, idempotency_key=key)
        except bnpl.ConflictError:  # e.g. captured by a key that expired, voided or expired: read what it is
            order = lender_call("retrieve order", self._lender.orders.retrieve, saga.order_id)
        status = lender_status_of_order(order.status)
        return self._finish(saga, step, status == "captured", order.status, side="lender", side_status=status)

    def _stripe_capture(self, saga: SagaRecord) -> SagaRecord:
        step = "stripe.capture_payment_intent"
        key = self._begin(saga, step)
        if key is None or saga.payment_intent_id is None:
            return saga
        intents = self._stripe.v1.payment_intents
        try:
            pi = stripe_call("capture", intents.capture, saga.payment_intent_id, None, {"idempotency_key": key})
        except stripe.InvalidRequestError:  # payment_intent_unexpected_state: read what it is now
            pi = stripe_call("retrieve", intents.retrieve, saga.payment_intent_id)
        status = _card_status(pi)
        return self._finish(saga, step, status == "captured", str(pi["status"]), side="card", side_status=status)

    def _compensate(self, saga: SagaRecord) -> None:
        steps = self.store.steps(saga.id)
        # A create interrupted before its outcome was recorded may have created something: re-issue it with
        # the same key (the party replays the first answer) to learn the id, then undo it.
        if steps.get("lender.create_checkout") and steps["lender.create_checkout"].state == "started":
            saga = self._create_checkout(saga)
        if steps.get("stripe.create_payment_intent") and steps["stripe.create_payment_intent"].state == "started":
            saga = self._create_payment_intent(saga)
        if saga.card_status not in CARD_DONE_UNDONE and saga.payment_intent_id:
            saga = self._undo_card(saga)
        if saga.lender_status not in LENDER_DONE_UNDONE:
            saga = self._undo_lender(saga)
        if saga.card_status in CARD_DONE_UNDONE and saga.lender_status in LENDER_DONE_UNDONE:
            self._transition(saga.id, ("compensating",), "compensated")

    def _undo_card(self, saga: SagaRecord) -> SagaRecord:
        assert saga.payment_intent_id is not None  # noqa: S101 - checked by the caller
        intents = self._stripe.v1.payment_intents
        if saga.card_status == "captured":
            step = "stripe.refund_payment_intent"
            key = self._begin(saga, step)
            if key is None:
                return saga
            refund = stripe_call(
                "refund", self._stripe.v1.refunds.create, {"payment_intent": saga.payment_intent_id},
                {"idempotency_key": key},
            )  # fmt: skip
            return self._finish(saga, step, True, str(refund["status"]), side="card", side_status="refunded")
        step = "stripe.cancel_payment_intent"
        key = self._begin(saga, step)
        if key is None:
            return saga
        try:
            pi = stripe_call("cancel", intents.cancel, saga.payment_intent_id, None, {"idempotency_key": key})
        except stripe.InvalidRequestError:  # already canceled or captured: read what it is
            pi = stripe_call("retrieve", intents.retrieve, saga.payment_intent_id)
        status = _card_status(pi)
        if status == "captured":  # captured meanwhile (dashboard): the next pass refunds it
            self.store.finish_step(
                saga.id, step, "failed", "succeeded", _ms(self._now()), side="card", side_status=status
            )
            return self.store.get(saga.id)
        return self._finish(saga, step, status == "canceled", str(pi["status"]), side="card", side_status=status)

    def _undo_lender(self, saga: SagaRecord) -> SagaRecord:
        if saga.lender_status == "open" and saga.checkout_id:
            step = "lender.cancel_checkout"
            key = self._begin(saga, step)
            if key is None:
                return saga
            try:
                checkout = lender_call(
                    "cancel checkout", self._lender.checkouts.cancel, saga.checkout_id, idempotency_key=key
                )
            except bnpl.ConflictError:  # no longer open: approved meanwhile, or already closed
                checkout = lender_call("retrieve checkout", self._lender.checkouts.retrieve, saga.checkout_id)
            status = lender_status_of_checkout(checkout.status)
            saga = self._finish(
                saga, step, status != "open", checkout.status, side="lender", side_status=status,
                order_id=checkout.order_id,
            )  # fmt: skip
        if saga.lender_status == "authorized" and saga.order_id:
            step = "lender.void_order"
            key = self._begin(saga, step)
            if key is None:
                return saga
            try:
                order = lender_call("void", self._lender.orders.void, saga.order_id, idempotency_key=key)
            except bnpl.ConflictError:
                order = lender_call("retrieve order", self._lender.orders.retrieve, saga.order_id)
            status = lender_status_of_order(order.status)
            saga = self._finish(saga, step, status != "authorized", order.status, side="lender", side_status=status)
        if saga.lender_status == "captured" and saga.order_id:
            step = "lender.refund_order"
            key = self._begin(saga, step)
            if key is None:
                return saga
            order = lender_call(
                "refund", self._lender.orders.refund, saga.order_id, amount=saga.remainder_minor, reason="other",
                idempotency_key=key,
            )  # fmt: skip
            status = lender_status_of_order(order.status)
            saga = self._finish(saga, step, status == "refunded", order.status, side="lender", side_status=status)
        return saga

    # --- helpers -------------------------------------------------------------------------------------------

    def _transition(self, saga_id: str, from_: tuple[str, ...], to: str, failure: str | None = None) -> bool:
        moved = self.store.transition(saga_id, from_, to, _ms(self._now()), failure)
        if moved:
            log.info("saga %s -> %s%s", saga_id, to, f" ({failure})" if failure else "")
            self._hook(f"status:{to}")
        return moved

    def _hook(self, point: str) -> None:
        if self._crash_after is not None:
            self._crash_after(point)

    def _now(self) -> datetime:
        return self._clock()

    @staticmethod
    def _check_amounts(total: Money, down_payment: Money) -> Money:
        if not isinstance(total, Money) or not isinstance(down_payment, Money):
            raise AmountError("total and down_payment must be bnpl.Money (integer minor units), not numbers")
        if total.currency != down_payment.currency:
            raise AmountError(f"down payment in {down_payment.currency.code} but total in {total.currency.code}")
        if down_payment.minor <= 0 or down_payment >= total:
            raise AmountError(f"the down payment {down_payment} must be more than zero and less than {total}")
        to_stripe_amount(down_payment)  # refuses amounts Stripe cannot take exactly (e.g. fractional ISK)
        return total - down_payment


def _card_status(pi: Any) -> str:
    return card_status_of_intent(str(pi["status"]), bool(pi.get("last_payment_error")))


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)
