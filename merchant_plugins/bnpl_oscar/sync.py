"""Move an Oscar order along with the lender's order: Source debits/refunds, PaymentEvents and the merchant's
status pipeline, forward only.

Amounts are synced by difference against what the ``Source`` already records (the lender's captured and
refunded totals never decrease), so a duplicate or late snapshot adds nothing; a status is set only when the
order's own pipeline (``OSCAR_ORDER_STATUS_PIPELINE``) allows it from the current one, so nothing moves back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from oscar.core.loading import get_model

from bnpl.models.orders import Order as LenderOrder
from bnpl.money import Money

__all__ = ["advance_status", "sync_amounts", "to_decimal", "to_minor"]


def to_minor(amount: Decimal, currency: str) -> int:
    """Oscar's Decimal money -> the lender's integer minor units (exact, or ``bnpl.money.PrecisionError``)."""
    return Money.of(amount, currency).minor


def to_decimal(minor: int, currency: str) -> Decimal:
    """Integer minor units -> an exact Decimal in major units."""
    return Money(minor, currency).amount


def _event(order: Any, name: str, amount: Decimal, reference: str) -> None:
    event_type, _ = get_model("order", "PaymentEventType").objects.get_or_create(name=name)
    event = order.payment_events.create(event_type=event_type, amount=amount, reference=reference)
    for line in order.lines.all():  # like OrderPlacementMixin.save_payment_details: the whole order
        event.line_quantities.create(line=line, quantity=line.quantity)


def sync_amounts(order: Any, source: Any, lender: LenderOrder, reference: str) -> list[str]:
    """Record newly captured and refunded money on ``source`` and as PaymentEvents; returns what was added."""
    done: list[str] = []
    captured = to_decimal(lender.amount_captured, lender.currency)
    if captured > source.amount_debited:
        delta = captured - source.amount_debited
        source.debit(delta, reference=reference, status="captured")
        _event(order, "Captured", delta, reference)
        done.append(f"captured {delta}")
    refunded = to_decimal(lender.amount_refunded, lender.currency)
    if refunded > source.amount_refunded:
        delta = refunded - source.amount_refunded
        source.refund(delta, reference=reference, status="refunded")
        _event(order, "Refunded", delta, reference)
        done.append(f"refunded {delta}")
    return done


def advance_status(order: Any, status: str | None, note: str = "") -> bool:
    """Set ``status`` if the pipeline allows it from the current status (never backwards); True if it moved."""
    if not status or status == order.status or status not in order.available_statuses():
        return False
    order.set_status(status)
    if note:
        order.notes.create(message=note, note_type="System")
    return True
