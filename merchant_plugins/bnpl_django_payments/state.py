"""Apply the lender's view of a checkout or order to a django-payments ``Payment``, forward only.

Both the customer's return (state read from the API) and webhooks (state carried by the event) end here, so
the rules live in one place:

* a payment's status only moves forward (``waiting/input`` -> ``preauth`` -> ``confirmed`` -> ``refunded``;
  ``rejected``/``cancelled`` only from ``waiting/input``);
* an order snapshot is applied only if none of its captured, refunded or voided amounts is lower than the
  last applied one (those amounts never decrease at the lender), so a late event never rolls money back,
  whatever order events arrive in and whether the newer state came from a webhook or from an API call.
"""

from __future__ import annotations

from typing import Any

from payments import PaymentStatus

from bnpl.models.checkouts import Checkout
from bnpl.models.orders import Order
from bnpl_django_payments.amounts import to_decimal

__all__ = ["STATUS_RANK", "apply_checkout_outcome", "apply_order", "move_status", "order_status_for"]

STATUS_RANK: dict[str, int] = {
    PaymentStatus.WAITING: 0,
    PaymentStatus.INPUT: 0,
    PaymentStatus.PREAUTH: 1,
    PaymentStatus.CONFIRMED: 2,
    PaymentStatus.REFUNDED: 3,
    PaymentStatus.REJECTED: 3,
    PaymentStatus.CANCELLED: 3,
    PaymentStatus.ERROR: 3,
}
"""How far along each django-payments status is; a payment never moves to a lower or equal rank."""

_AMOUNT_ATTRS = ("bnpl_amount_captured", "bnpl_amount_refunded", "bnpl_amount_voided")


def move_status(payment: Any, status: str, message: str = "") -> bool:
    """Change ``payment``'s status (saved, ``status_changed`` sent) only if it moves forward; True if moved."""
    if STATUS_RANK.get(status, 0) <= STATUS_RANK.get(payment.status, 0):
        return False
    payment.change_status(status, message)
    return True


def order_status_for(order: Order) -> str:
    """The django-payments status an order snapshot stands for."""
    net = order.amount_captured - order.amount_refunded
    if net > 0:
        return str(PaymentStatus.CONFIRMED)
    if order.amount_captured > 0 or order.amount_voided > 0 or order.status in ("voided", "expired", "refunded"):
        return str(PaymentStatus.REFUNDED)  # django-payments' word for "released" as well as "refunded"
    return str(PaymentStatus.PREAUTH)


def _is_older(payment: Any, order: Order) -> bool:
    applied = [int(getattr(payment.attrs, name, 0) or 0) for name in _AMOUNT_ATTRS]
    fresh = [order.amount_captured, order.amount_refunded, order.amount_voided]
    return any(new < old for new, old in zip(fresh, applied, strict=True))


def apply_order(payment: Any, order: Order, *, move: bool = True) -> bool:
    """Record ``order`` (amounts, status, id) on ``payment`` and move its status; False if the snapshot is older
    than what is already applied (nothing changes then).

    ``captured_amount`` becomes captured minus refunded, in major units, and is saved explicitly (django-payments'
    ``change_status`` saves only ``status`` and ``message``). With ``move=False`` the status is left to the
    caller (``BasePayment.capture()``/``release()`` set it themselves).
    """
    if order.checkout_id != payment.transaction_id:
        raise ValueError(f"order {order.id} belongs to checkout {order.checkout_id}, not {payment.transaction_id}")
    if _is_older(payment, order):
        return False
    payment.attrs.bnpl_order_id = order.id
    payment.attrs.bnpl_order_status = order.status
    payment.attrs.bnpl_amount_captured = order.amount_captured
    payment.attrs.bnpl_amount_refunded = order.amount_refunded
    payment.attrs.bnpl_amount_voided = order.amount_voided
    payment.captured_amount = to_decimal(order.amount_captured - order.amount_refunded, order.currency)
    payment.save(update_fields=["captured_amount", "extra_data"])
    if move:
        move_status(payment, order_status_for(order), f"lender order {order.status}")
    return True


def apply_checkout_outcome(payment: Any, checkout: Checkout) -> bool:
    """Reject ``payment`` when its checkout was declined, expired or canceled; True if the status moved."""
    if checkout.id != payment.transaction_id:
        raise ValueError(f"checkout {checkout.id} is not this payment's checkout ({payment.transaction_id})")
    if checkout.status in ("declined", "expired", "canceled"):
        reason = f": {checkout.decline_reason}" if checkout.decline_reason else ""
        return move_status(payment, PaymentStatus.REJECTED, f"checkout {checkout.status}{reason}")
    return False
