"""Webhook glue: move the merchant order, then run the merchant's own hooks, inside ``bnpl.webhooks`` dispatch.

The plugins build a :class:`bnpl.webhooks.WebhookHandler` (Flask) or :class:`AsyncWebhookHandler` (FastAPI)
with one catch-all function from here, so de-duplication, stale-event detection and the status codes are the
SDK's. Merchant hooks are called as ``hook(event, order)`` with the merchant order after the update (``None``
for events about customers). An event for a reference not recorded yet raises ``RetryLater`` (503).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio.to_thread

from bnpl.models.events import EVENT_TYPES
from bnpl.webhooks.dispatch import CATCH_ALL, AsyncWebhookHandler, WebhookHandler
from bnpl.webhooks.signing import Webhook
from bnpl.webhooks.stores.base import DEFAULT_LEASE_SECONDS, DedupStore
from bnpl_merchant_kit.book import OrderBook
from bnpl_merchant_kit.orders import MerchantOrder

__all__ = ["Hook", "MerchantWebhooks"]

Hook = Callable[[Any, MerchantOrder | None], Any]
"""``hook(event, order)``; may be ``async def`` on FastAPI."""

H = TypeVar("H", bound=Hook)


class MerchantWebhooks:
    """The merchant's hooks and the order book they act on."""

    def __init__(self, book: OrderBook | None, *, allow_async: bool) -> None:
        self.book = book
        self.allow_async = allow_async
        self._hooks: dict[str, list[Hook]] = {}

    def on(self, *event_types: str) -> Callable[[H], H]:
        """Register ``hook(event, order)`` for event types (``"*"`` for all), run after the order was moved."""
        if not event_types:
            raise ValueError('on() needs at least one event type, e.g. @bnpl.on("order.captured")')
        for event_type in event_types:
            if event_type != CATCH_ALL and event_type not in EVENT_TYPES:
                raise ValueError(f"unknown event type {event_type!r:.60}; known: {', '.join(EVENT_TYPES)}")

        def register(func: H) -> H:
            if not callable(func):
                raise TypeError("on() decorates a function hook(event, order)")
            if inspect.iscoroutinefunction(func) and not self.allow_async:
                raise TypeError("Flask hooks are plain functions; async def hooks need the FastAPI plugin")
            for event_type in event_types:
                self._hooks.setdefault(event_type, []).append(func)
            return func

        return register

    def bound_to(self, book: OrderBook) -> MerchantWebhooks:
        """A twin acting on ``book`` that shares this one's hooks (hooks registered later apply to both)."""
        twin = MerchantWebhooks(book, allow_async=self.allow_async)
        twin._hooks = self._hooks
        return twin

    def hooks_for(self, event_type: str) -> list[Hook]:
        """Hooks for ``event_type``, then the catch-all ones."""
        return [*self._hooks.get(event_type, ()), *self._hooks.get(CATCH_ALL, ())]

    def apply(self, event: Any) -> MerchantOrder | None:
        """Move the merchant order for ``event`` (raises ``RetryLater`` for an unknown reference)."""
        if self.book is None:
            raise RuntimeError("these hooks are not bound to an order book yet (call bound_to(book))")
        applied = self.book.apply_event(event)
        return None if applied is None else applied.order

    def _dispatch_sync(self, event: Any) -> None:
        order = self.apply(event)
        for hook in self.hooks_for(event.type):
            hook(event, order)

    async def _dispatch_async(self, event: Any) -> None:
        order = await anyio.to_thread.run_sync(self.apply, event)
        for hook in self.hooks_for(event.type):
            if inspect.iscoroutinefunction(hook):
                await hook(event, order)
            else:
                result = await anyio.to_thread.run_sync(hook, event, order)
                if inspect.isawaitable(result):
                    await result

    def sync_handler(
        self, webhook: Webhook, store: DedupStore, *, lease_seconds: float = DEFAULT_LEASE_SECONDS
    ) -> WebhookHandler:
        """A ``WebhookHandler`` that applies every event to the order book, then runs the hooks."""
        handler = WebhookHandler(webhook, store, lease_seconds=lease_seconds)
        handler.on(CATCH_ALL)(self._dispatch_sync)
        return handler

    def async_handler(
        self, webhook: Webhook, store: DedupStore, *, lease_seconds: float = DEFAULT_LEASE_SECONDS
    ) -> AsyncWebhookHandler:
        """The ``AsyncWebhookHandler`` twin of :meth:`sync_handler`."""
        handler = AsyncWebhookHandler(webhook, store, lease_seconds=lease_seconds)
        dispatch: Callable[[Any], Awaitable[None]] = self._dispatch_async
        handler.on(CATCH_ALL)(dispatch)
        return handler
