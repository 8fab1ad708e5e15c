"""The pay-later step of Oscar's checkout: ``BnplPaymentMixin.handle_payment`` and the customer's return."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.contrib import messages  # type: ignore[import-untyped]
from django.shortcuts import redirect  # type: ignore[import-untyped]
from django.urls import reverse  # type: ignore[import-untyped]
from oscar.core.loading import get_class, get_model

from bnpl.errors import BNPLError
from bnpl.models.checkouts import Checkout, CheckoutCreateParams, LineItem
from bnpl.models.customers import CustomerInfo
from bnpl_oscar.conf import bnpl_settings
from bnpl_oscar.sync import advance_status, to_minor

__all__ = ["SESSION_KEY", "BnplPaymentDetailsView", "BnplPaymentMixin", "BnplReturnView"]

logger = logging.getLogger("bnpl.oscar")

SESSION_KEY = "bnpl_oscar_checkout"
"""Where the open checkout (id, order number, basket id) is kept between the redirect and the return."""

PaymentDetailsView: Any = get_class("checkout.views", "PaymentDetailsView")
RedirectRequired: Any = get_class("payment.exceptions", "RedirectRequired")
UnableToTakePayment: Any = get_class("payment.exceptions", "UnableToTakePayment")
Applicator: Any = get_class("offer.applicator", "Applicator")

_NOT_APPROVED = {
    "declined": "Pay later was declined for this order. Your basket is unchanged: please choose another way to pay.",
    "canceled": "You canceled pay later. Your basket is unchanged: please choose another way to pay.",
    "expired": "The pay-later approval expired. Your basket is unchanged: please try again.",
    "open": "The pay-later approval was not finished. Your basket is unchanged: please try again.",
}


class BnplPaymentMixin:
    """Mix into Oscar's ``PaymentDetailsView`` to take payment with the pay-later lender.

    First pass (``submit`` from the preview page): open a checkout for the order number and total and raise
    ``RedirectRequired`` to the hosted approval page; Oscar keeps the basket frozen. Second pass (from
    :class:`BnplReturnView`, with ``payment_kwargs["bnpl_checkout"]`` set to the API-confirmed checkout):
    record a ``Source`` with an ``Authorise`` transaction and an ``Authorised`` payment event.
    """

    request: Any
    checkout_session: Any

    def handle_payment(self, order_number: Any, total: Any, **kwargs: Any) -> None:
        """Oscar's payment hook (see the class docstring)."""
        checkout: Checkout | None = kwargs.get("bnpl_checkout")
        if checkout is None:
            self._redirect_to_lender(str(order_number), total)
        else:
            self._record_approval(str(order_number), total, checkout)

    def _redirect_to_lender(self, order_number: str, total: Any) -> None:
        conf = bnpl_settings()
        currency = str(total.currency)
        amount = to_minor(Decimal(total.incl_tax), currency)
        basket_id = int(self.checkout_session.get_submitted_basket_id())
        email = self.checkout_session.get_guest_email() or getattr(self.request.user, "email", "") or None
        params = CheckoutCreateParams(
            merchant_reference=order_number,
            amount=amount,
            currency=currency,
            # one line for the order total: it always sums exactly, shipping and discounts included
            items=[
                LineItem(
                    name=f"Order {order_number}", category=conf.item_category, unit_amount=amount, total_amount=amount
                )
            ],
            customer=CustomerInfo(reference=f"oscar-{order_number}", email=email) if email else None,
            return_url=self.request.build_absolute_uri(reverse("bnpl_oscar:return", kwargs={"basket_id": basket_id})),
            metadata={"oscar_basket_id": str(basket_id)},
        )
        try:
            checkout = conf.client.checkouts.create(params)
        except BNPLError as exc:
            raise UnableToTakePayment(
                "Pay later is not available right now; please choose another way to pay."
            ) from exc
        self.request.session[SESSION_KEY] = {
            "checkout_id": checkout.id,
            "order_number": order_number,
            "basket_id": basket_id,
        }
        raise RedirectRequired(checkout.approval_url)

    def _record_approval(self, order_number: str, total: Any, checkout: Checkout) -> None:
        conf = bnpl_settings()
        currency = str(total.currency)
        amount = Decimal(total.incl_tax)
        if checkout.status != "approved" or not checkout.order_id:
            raise UnableToTakePayment("Pay later was not approved for this order.")
        lender = conf.client.orders.retrieve(checkout.order_id)
        if lender.merchant_reference != order_number or lender.amount_authorized != to_minor(amount, currency):
            # the basket changed after approval: never place an order the lender did not approve
            raise UnableToTakePayment("The approved amount does not match this order; please check out again.")
        source_type, _ = get_model("payment", "SourceType").objects.get_or_create(name=conf.source_type)
        source = get_model("payment", "Source")(
            source_type=source_type,
            currency=currency,
            amount_allocated=amount,
            reference=lender.id,
            label=f"{lender.plan.periods} x {lender.plan.product}"[:128],
        )
        source.create_deferred_transaction("Authorise", amount, reference=checkout.id, status="approved")
        self.add_payment_source(source)  # type: ignore[attr-defined]
        self.add_payment_event("Authorised", amount, reference=lender.id)  # type: ignore[attr-defined]

    def handle_successful_order(self, order: Any) -> Any:
        """Apply the ``checkout.approved`` status of the pipeline, forget the checkout, then Oscar's thank-you."""
        advance_status(order, bnpl_settings().status_pipeline.get("checkout.approved"), "bnpl: approved")
        self.request.session.pop(SESSION_KEY, None)
        return super().handle_successful_order(order)  # type: ignore[misc]


class BnplPaymentDetailsView(BnplPaymentMixin, PaymentDetailsView):  # type: ignore[misc]
    """Oscar's ``PaymentDetailsView`` paying with the lender; route ``checkout:preview`` (or fork) to it."""


class BnplReturnView(BnplPaymentMixin, PaymentDetailsView):  # type: ignore[misc]
    """Where the lender sends the customer back: ``GET <prefix>/return/<basket_id>/``.

    The outcome is read from the API for the checkout stored in the session (never from the query string).
    Approved: the frozen basket is submitted again and the order placed. Otherwise: the basket is thawed and
    the customer is sent back to the basket with a message.
    """

    preview = True

    def get_pre_conditions(self, request: Any) -> list[str]:
        return []  # the frozen basket is not request.basket any more; it is checked below

    def get_skip_conditions(self, request: Any) -> list[str]:
        return []

    def get(self, request: Any, basket_id: int, *args: Any, **kwargs: Any) -> Any:
        data = request.session.get(SESSION_KEY)
        if not data or int(data.get("basket_id", -1)) != basket_id:
            messages.error(request, "We could not find your pay-later checkout; please try again.")
            return redirect("basket:summary")
        basket_model = get_model("basket", "Basket")
        basket = basket_model.objects.filter(id=basket_id, status=basket_model.FROZEN).first()
        if basket is None:
            messages.error(request, "This basket was already submitted or changed; please check out again.")
            return redirect("basket:summary")
        checkout = bnpl_settings().client.checkouts.retrieve(data["checkout_id"])
        if checkout.merchant_reference != data["order_number"] or checkout.status != "approved":
            basket.thaw()
            request.session.pop(SESSION_KEY, None)
            messages.error(request, _NOT_APPROVED.get(checkout.status, _NOT_APPROVED["open"]))
            return redirect("basket:summary")
        basket.strategy = request.strategy
        Applicator().apply(basket, request.user, request)
        request.basket = basket  # surcharges and totals are computed on request.basket
        submission = self.build_submission(basket=basket)
        submission["payment_kwargs"]["bnpl_checkout"] = checkout
        return self.submit(**submission)
