"""The order book: moves merchant orders in an :class:`OrderStore` with compare-and-set retries."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from bnpl.models.checkouts import Checkout
from bnpl.models.orders import Order
from bnpl.webhooks.dispatch import RetryLater
from bnpl_merchant_kit.errors import OrderConflictError
from bnpl_merchant_kit.orders import (
    MerchantOrder,
    advance_with_checkout,
    advance_with_order,
    new_order,
)
from bnpl_merchant_kit.stores import OrderStore

__all__ = ["Applied", "OrderBook", "UnknownOrderError", "snapshot_of"]

_CAS_ATTEMPTS: Final = 50


class UnknownOrderError(RetryLater, OrderConflictError):
    """An event concerns a merchant reference this store does not know (yet): the lender should retry.

    It is a :class:`bnpl.webhooks.RetryLater`, so a webhook handler raising it answers 503.
    """

    def __init__(self, reference: str) -> None:
        super().__init__(f"no merchant order {reference!r:.120} yet; retry later", retry_after=30)
        self.reference = reference


@dataclass(frozen=True, slots=True)
class Applied:
    """The outcome of applying a snapshot: the order as stored now and whether this call changed it."""

    order: MerchantOrder
    changed: bool


def snapshot_of(event: Any) -> Checkout | Order | None:
    """The checkout or order snapshot an event carries (``None`` for customer events)."""
    data = getattr(event, "data", None)
    if isinstance(data, Checkout | Order):
        return data
    nested = getattr(data, "order", None)
    return nested if isinstance(nested, Order) else None


class OrderBook:
    """Record opened checkouts and apply checkout/order snapshots to the merchant's orders, forward only."""

    def __init__(self, store: OrderStore) -> None:
        if not isinstance(store, OrderStore):
            raise TypeError("OrderBook needs an OrderStore (get, insert, replace), e.g. SQLiteOrderStore(path)")
        self.store = store

    def __repr__(self) -> str:
        return f"OrderBook(store={self.store!r})"

    def get(self, reference: str) -> MerchantOrder | None:
        """The merchant order for ``reference``, or ``None``."""
        return self.store.get(reference)

    def record_opened(self, checkout: Checkout) -> MerchantOrder:
        """Record a checkout just opened for ``checkout.merchant_reference`` (status ``pending``).

        A retry for a reference whose earlier checkout was declined, canceled or expired replaces it.
        Raises :class:`OrderConflictError` if that reference already has an authorized order.
        """
        fresh = new_order(checkout)
        for _ in range(_CAS_ATTEMPTS):
            if self.store.insert(fresh):
                return fresh
            current = self.store.get(fresh.reference)
            if current is None:
                continue
            if current.checkout_id == checkout.id:
                return current
            if current.order_id is not None:
                raise OrderConflictError(
                    f"merchant reference {fresh.reference!r:.120} already has order {current.order_id}; "
                    "use a new reference for a new purchase"
                )
            reopened = dataclasses.replace(fresh, version=current.version)
            if self.store.replace(reopened):
                return dataclasses.replace(reopened, version=current.version + 1)
        raise OrderConflictError(f"merchant order {fresh.reference!r:.120} kept changing; try again")

    def apply_checkout(self, checkout: Checkout, sequence: int | None = None, *, create: bool = False) -> Applied:
        """Apply a checkout snapshot; ``create=True`` records an unknown reference first (the API said it is ours)."""
        if create and self.store.get(checkout.merchant_reference) is None:
            self.store.insert(new_order(checkout))
        return self._apply(
            checkout.merchant_reference, lambda current: advance_with_checkout(current, checkout, sequence)
        )

    def apply_order(self, order: Order, sequence: int | None = None) -> Applied:
        """Apply an order snapshot (webhook: with its event ``sequence``; an API read: ``None``)."""
        return self._apply(order.merchant_reference, lambda current: advance_with_order(current, order, sequence))

    def apply_event(self, event: Any) -> Applied | None:
        """Apply a verified checkout or order event; ``None`` for events about customers.

        Raises :class:`UnknownOrderError` (a ``RetryLater``) for a reference not recorded yet.
        """
        snapshot = snapshot_of(event)
        sequence = getattr(event, "sequence", None)
        if snapshot is None or not isinstance(sequence, int):
            return None
        # only an event about the snapshot itself carries its sequence (an order notice is about the order)
        if getattr(event, "object_id", None) != snapshot.id:
            return None
        if isinstance(snapshot, Checkout):
            return self.apply_checkout(snapshot, sequence)
        return self.apply_order(snapshot, sequence)

    def _apply(self, reference: str, step: Callable[[MerchantOrder], MerchantOrder | None]) -> Applied:
        for _ in range(_CAS_ATTEMPTS):
            current = self.store.get(reference)
            if current is None:
                raise UnknownOrderError(reference)
            changed = step(current)
            if changed is None:
                return Applied(current, False)
            if self.store.replace(changed):
                return Applied(dataclasses.replace(changed, version=changed.version + 1), True)
        raise OrderConflictError(f"merchant order {reference!r:.120} kept changing; try again")
