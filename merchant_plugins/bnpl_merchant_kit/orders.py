"""The merchant's own view of a pay-later order, and the pure rules that move it forward.

One :class:`MerchantOrder` per merchant reference (your order number). It links the lender's checkout and
order ids and mirrors the status and amounts (integer minor units). It only ever moves forward:

- webhook snapshots are applied only when their per-object ``sequence`` is above the last one applied for
  that object (checkouts and orders have separate sequences);
- a snapshot showing less money captured or refunded than we already recorded is older than what we have,
  whatever its sequence (captured and refunded amounts never decrease at the lender);
- the API snapshot read by the checkout return (no sequence) only fills an order nothing has moved yet.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Final

from bnpl.models.checkouts import Checkout
from bnpl.models.orders import Order

__all__ = [
    "PRE_ORDER_STATUSES",
    "MerchantOrder",
    "advance_with_checkout",
    "advance_with_order",
    "new_order",
]

PRE_ORDER_STATUSES: Final = frozenset({"pending", "declined", "canceled", "expired"})
"""Statuses before the lender authorized an order: ``pending`` (checkout open) and the checkout's failures."""


@dataclass(frozen=True, slots=True)
class MerchantOrder:
    """One merchant order as the plugin records it (amounts in integer minor units).

    ``status`` is ``pending``/``declined``/``canceled``/``expired`` before approval, then the lender's order
    status (``authorized``, ``captured``, ``partially_refunded``, ``paid_off`` …). ``version`` increases with
    every stored change (stores use it for compare-and-set).
    """

    reference: str
    currency: str
    amount: int
    status: str = "pending"
    checkout_id: str | None = None
    order_id: str | None = None
    amount_captured: int = 0
    amount_refunded: int = 0
    checkout_sequence: int | None = None
    order_sequence: int | None = None
    version: int = 0

    @property
    def is_approved(self) -> bool:
        """True once the lender authorized an order for this reference."""
        return self.order_id is not None


def new_order(checkout: Checkout) -> MerchantOrder:
    """The record for a freshly opened checkout (``pending``), keyed by its ``merchant_reference``."""
    return MerchantOrder(
        reference=checkout.merchant_reference,
        currency=checkout.currency,
        amount=checkout.amount,
        checkout_id=checkout.id,
    )


def _newer(sequence: int | None, last: int | None) -> bool:
    return sequence is None or last is None or sequence > last


def advance_with_checkout(current: MerchantOrder, checkout: Checkout, sequence: int | None) -> MerchantOrder | None:
    """Apply a checkout snapshot (webhook with ``sequence``, or from the API with ``None``).

    Returns the new record, or ``None`` when nothing changes (stale, another attempt's checkout, or already
    further along). An approval adopts its checkout even if the merchant opened a newer one for the same
    reference: the customer does have an authorized order.
    """
    if checkout.merchant_reference != current.reference:
        return None
    same = checkout.id == current.checkout_id
    if same and sequence is not None and not _newer(sequence, current.checkout_sequence):
        return None
    seq = (sequence if sequence is not None else current.checkout_sequence) if same else sequence
    if checkout.status == "approved" and checkout.order_id is not None:
        if current.order_id is not None and current.order_id != checkout.order_id:
            return None  # a second approval for the same reference: keep the first order
        status = "authorized" if current.status in PRE_ORDER_STATUSES else current.status
        changed = dataclasses.replace(
            current, checkout_id=checkout.id, order_id=checkout.order_id, status=status, checkout_sequence=seq
        )
    elif checkout.status in ("declined", "canceled", "expired"):
        if not same or current.order_id is not None:
            return None
        changed = dataclasses.replace(current, status=checkout.status, checkout_sequence=seq)
    else:  # still open: only the sequence can move
        if not same:
            return None
        changed = dataclasses.replace(current, checkout_sequence=seq)
    return None if changed == current else changed


def advance_with_order(current: MerchantOrder, order: Order, sequence: int | None) -> MerchantOrder | None:
    """Apply an order snapshot (webhook with ``sequence``, or from the API with ``None``); ``None`` = no change."""
    if order.merchant_reference != current.reference:
        return None
    if current.order_id is not None and order.id != current.order_id:
        return None
    if sequence is None and current.order_sequence is not None:
        return None  # webhooks already drive this order; an unsequenced read may be older
    if not _newer(sequence, current.order_sequence):
        return None
    behind = order.amount_captured < current.amount_captured or order.amount_refunded < current.amount_refunded
    if behind:
        # older than what we hold: remember its sequence so it stays stale, keep the state
        changed = dataclasses.replace(current, order_sequence=sequence)
    else:
        changed = dataclasses.replace(
            current,
            order_id=order.id,
            checkout_id=order.checkout_id,
            status=order.status,
            currency=order.currency,
            amount=order.amount_authorized,
            amount_captured=order.amount_captured,
            amount_refunded=order.amount_refunded,
            order_sequence=sequence if sequence is not None else current.order_sequence,
        )
    return None if changed == current else changed
