"""The saga's states and the one rule that keeps it safe: a side's status only ever moves forward.

Each party (the card at Stripe, the loan at the lender) has a status with a rank; an update with a lower or
equal rank is stale (a duplicated or out-of-order webhook, a slow poll) and is dropped.
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = [
    "CARD_DONE_UNDONE",
    "CARD_RANK",
    "LENDER_DONE_UNDONE",
    "LENDER_RANK",
    "TERMINAL",
    "CardStatus",
    "LenderStatus",
    "SagaStatus",
    "card_status_of_intent",
    "lender_status_of_checkout",
    "lender_status_of_order",
]

SagaStatus = Literal["starting", "pending", "capturing", "captured", "compensating", "compensated"]
"""starting → pending → capturing → captured; starting | pending | capturing → compensating → compensated."""

CardStatus = Literal["none", "pending", "authorized", "failed", "captured", "canceled", "refunded"]
LenderStatus = Literal[
    "none", "open", "authorized", "declined", "expired", "captured", "canceled", "voided", "refunded"
]

CARD_RANK: Final[dict[str, int]] = {
    "none": 0,
    "pending": 1,
    "authorized": 2,
    "failed": 3,
    "captured": 4,
    "canceled": 4,
    "refunded": 5,
}
LENDER_RANK: Final[dict[str, int]] = {
    "none": 0,
    "open": 1,
    "authorized": 2,
    "declined": 3,
    "expired": 3,
    "captured": 4,
    "canceled": 4,
    "voided": 4,
    "refunded": 5,
}
TERMINAL: Final = frozenset({"captured", "compensated"})
CARD_DONE_UNDONE: Final = frozenset({"none", "canceled", "refunded"})
"""Card statuses that hold no money: compensation is finished on the Stripe side."""
LENDER_DONE_UNDONE: Final = frozenset({"none", "declined", "expired", "canceled", "voided", "refunded"})
"""Lender statuses that hold no money: compensation is finished on the lender side."""
CARD_FAILED: Final = frozenset({"failed", "canceled"})
LENDER_FAILED: Final = frozenset({"declined", "expired", "canceled", "voided"})


def card_status_of_intent(status: str, has_error: bool) -> CardStatus:
    """Map a PaymentIntent ``status`` to the card side's status (``has_error``: ``last_payment_error`` set)."""
    if status == "requires_capture":
        return "authorized"
    if status == "succeeded":
        return "captured"
    if status == "canceled":
        return "canceled"
    if status == "requires_payment_method" and has_error:
        return "failed"
    return "pending"  # requires_payment_method / requires_confirmation / requires_action / processing


_CHECKOUT_TO_LENDER: Final[dict[str, LenderStatus]] = {
    "open": "open",
    "approved": "authorized",
    "declined": "declined",
    "expired": "expired",
}


def lender_status_of_checkout(status: str) -> LenderStatus:
    """Map a lender checkout ``status`` to the lender side's status."""
    return _CHECKOUT_TO_LENDER.get(status, "canceled")


def lender_status_of_order(status: str) -> LenderStatus:
    """Map a lender order ``status`` to the lender side's status."""
    if status == "authorized":
        return "authorized"
    if status in {"voided", "expired"}:
        return "voided" if status == "voided" else "expired"
    if status == "refunded":
        return "refunded"
    return "captured"  # partially_captured, captured, partially_refunded, paid_off, in_arrears
