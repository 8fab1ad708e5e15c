"""Run your handlers once per webhook event, never for a stale one.

:class:`WebhookHandler` (and its twin :class:`AsyncWebhookHandler`) answers one delivery in these steps:

1. **Verify** the raw body and headers with :meth:`bnpl.webhooks.Webhook.unwrap`. A bad signature, missing
   header or a timestamp outside the tolerance answers 400 (413 for an oversized body) and records nothing.
   A verified body that is not a valid event answers 400 ``invalid_payload``.
2. **No handler** registered for the type (and no ``"*"`` catch-all): 200 ``ignored``; nothing recorded, so
   the event does not move the object's sequence.
3. **Claim** the event id in the store, with a lease (``lease_seconds``). Already processed: 200
   ``duplicate``, handlers not run. Claimed by a concurrent delivery whose lease has not expired: 503
   ``retry_later`` (the lender redelivers later). A crashed worker's claim expires with its lease.
4. **Stale**: if the store's last applied ``sequence`` for ``event.object_id`` is ≥ ``event.sequence``, the
   event is marked processed without running handlers: 200 ``stale``. A late event never rolls an order back.
5. **Run** the handlers (those for the type in registration order, then the ``"*"`` ones). Success: mark the
   event processed and raise the object's sequence atomically, 200 ``processed``. A handler raising
   :class:`RetryLater` (e.g. "the order is not in my database yet"): claim released, 503 ``retry_later``.
   Any other exception: claim released, logged, 500 ``handler_failed``; the lender redelivers.

Delivery is at least once per event id: if the process dies after a handler ran but before the store
recorded it, the redelivery runs it again. Keep handlers idempotent at the business level, or fast enough that
this window is small (hand slow work to a task queue).
"""

from __future__ import annotations

import enum
import http
import inspect
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from bnpl.models.events import EVENT_TYPES, EventParseError
from bnpl.webhooks.errors import RawBodyRequiredError, WebhookError, WebhookVerificationError
from bnpl.webhooks.signing import Webhook
from bnpl.webhooks.stores.base import DEFAULT_LEASE_SECONDS, ClaimResult, DedupStore, validate_lease

__all__ = [
    "CATCH_ALL",
    "AsyncWebhookHandler",
    "DispatchError",
    "HandleOutcome",
    "HandleResult",
    "RetryLater",
    "UnknownEventTypeError",
    "WebhookHandler",
]

_LOCK_STRIPES = 64

logger = logging.getLogger("bnpl.webhooks")

CATCH_ALL = "*"
"""Register a handler for every event type with ``@handler.on("*")``."""

_DEFAULT_RETRY_AFTER = 10
F = TypeVar("F", bound=Callable[..., Any])


class DispatchError(WebhookError, ValueError):
    """A handler was registered or called wrongly (a programming error in the receiver)."""


class UnknownEventTypeError(DispatchError):
    """``@handler.on(...)`` was given a type this SDK does not know: probably a typo."""


class RetryLater(Exception):  # noqa: N818 - it is a request ("retry later"), not an error condition
    """Raise from a handler when the event cannot be applied yet (e.g. the order is not in your database yet).

    The claim is released, nothing is recorded and the lender is answered 503 with ``Retry-After``, so it
    redelivers the event later.
    """

    def __init__(self, message: str = "the receiver asked to retry later", *, retry_after: int | None = None) -> None:
        super().__init__(message)
        if retry_after is not None and (isinstance(retry_after, bool) or not isinstance(retry_after, int)):
            raise DispatchError("retry_after must be a whole number of seconds")
        self.retry_after = retry_after


class HandleOutcome(enum.Enum):
    """What happened to one delivery."""

    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    STALE = "stale"
    IGNORED = "ignored"
    INVALID_SIGNATURE = "invalid_signature"
    INVALID_PAYLOAD = "invalid_payload"
    HANDLER_FAILED = "handler_failed"
    RETRY_LATER = "retry_later"


@dataclass(frozen=True)
class HandleResult:
    """The answer to give the lender: use :attr:`status_code`, :attr:`headers` and :attr:`body`.

    2xx means "durably received, do not send again"; 4xx "this request will never be accepted"; 5xx
    "send it again later".
    """

    outcome: HandleOutcome
    status_code: int
    event_id: str | None = None
    event_type: str | None = None
    message: str = ""
    retry_after: int | None = field(default=None)

    @property
    def http_status(self) -> http.HTTPStatus:
        """:attr:`status_code` as an :class:`http.HTTPStatus`."""
        return http.HTTPStatus(self.status_code)

    @property
    def ok(self) -> bool:
        """True when the lender should consider the event delivered (a 2xx answer)."""
        return 200 <= self.status_code < 300

    @property
    def headers(self) -> dict[str, str]:
        """Response headers: JSON content type, plus ``Retry-After`` on a retry-later answer."""
        headers = {"Content-Type": "application/json"}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        return headers

    @property
    def body(self) -> bytes:
        """A small JSON body (outcome, event id, message) for the lender's delivery log."""
        payload = {"outcome": self.outcome.value, "event_id": self.event_id, "message": self.message}
        return json.dumps(payload, separators=(",", ":")).encode()


class _EventLike(Protocol):
    """What dispatch needs from an event (every :mod:`bnpl.models.events` model has it)."""

    @property
    def id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def object_id(self) -> str: ...
    @property
    def sequence(self) -> int: ...


def _result(outcome: HandleOutcome, status: int, event: _EventLike | None, message: str, **kw: Any) -> HandleResult:
    return HandleResult(
        outcome=outcome,
        status_code=status,
        event_id=None if event is None else event.id,
        event_type=None if event is None else event.type,
        message=message,
        **kw,
    )


def _check_event(event: object) -> _EventLike:
    for name, kind in (("id", str), ("type", str), ("object_id", str), ("sequence", int)):
        value = getattr(event, name, None)
        if not isinstance(value, kind) or isinstance(value, bool) or value == "":
            raise DispatchError(
                f"handle_event() needs a bnpl event (from parse_event or GET /v1/events); "
                f"{type(event).__name__}.{name} is missing or invalid"
            )
    return event  # type: ignore[return-value]  # checked field by field above


class _Registry:
    """Handler registration shared by the sync and async handlers."""

    def __init__(self, webhook: Webhook, lease_seconds: float) -> None:
        if not isinstance(webhook, Webhook):
            raise DispatchError(f"webhook must be a bnpl.webhooks.Webhook, got {type(webhook).__name__}")
        self.webhook = webhook
        self.lease_seconds = validate_lease(lease_seconds)
        self._handlers: dict[str, list[Callable[..., Any]]] = {}

    def on(self, *event_types: str, allow_unknown: bool = False) -> Callable[[F], F]:
        """Decorator registering a function for one or more event types (``"*"`` = every type).

        A type this SDK does not know raises :class:`UnknownEventTypeError` (a typo would otherwise silently
        ignore events); pass ``allow_unknown=True`` for a type newer than this SDK.
        """
        if not event_types:
            raise DispatchError('on() needs at least one event type, e.g. @handler.on("order.captured")')
        for event_type in event_types:
            if not isinstance(event_type, str) or not event_type:
                raise DispatchError(f"event types are non-empty strings, got {event_type!r:.60}")
            if event_type != CATCH_ALL and event_type not in EVENT_TYPES and not allow_unknown:
                raise UnknownEventTypeError(
                    f"unknown event type {event_type!r}; known types: {', '.join(EVENT_TYPES)}. "
                    "Pass allow_unknown=True for a type newer than this SDK."
                )

        def register(func: F) -> F:
            if not callable(func):
                raise DispatchError("on() decorates a function taking the event")
            self._check_callable(func)
            for event_type in event_types:
                self._handlers.setdefault(event_type, []).append(func)
            return func

        return register

    def _check_callable(self, func: Callable[..., Any]) -> None:
        """Hook for the async twin; the sync handler refuses coroutine functions."""
        if inspect.iscoroutinefunction(func):
            raise DispatchError("WebhookHandler runs plain functions; use AsyncWebhookHandler for async def handlers")

    def handlers_for(self, event_type: str) -> list[Callable[..., Any]]:
        """The functions registered for ``event_type``, then the catch-all ones."""
        return [*self._handlers.get(event_type, ()), *self._handlers.get(CATCH_ALL, ())]

    def _unwrap(self, body: bytes, headers: Mapping[str, str]) -> _EventLike | HandleResult:
        try:
            return self.webhook.unwrap(body, headers)
        except RawBodyRequiredError:
            raise  # a receiver bug (a decoded body was passed): fail loudly instead of answering 400
        except WebhookVerificationError as exc:
            logger.warning("webhook rejected: %s", exc.code)
            return _result(HandleOutcome.INVALID_SIGNATURE, exc.status_code, None, f"{exc.code}: {exc}")
        except EventParseError as exc:
            logger.warning("verified webhook is not a valid event: %s", exc.reason)
            return _result(HandleOutcome.INVALID_PAYLOAD, 400, None, str(exc))


def _in_progress(event: _EventLike) -> HandleResult:
    return _result(
        HandleOutcome.RETRY_LATER,
        503,
        event,
        "another delivery of this event is being processed",
        retry_after=_DEFAULT_RETRY_AFTER,
    )


def _store_failed(event: _EventLike, exc: Exception) -> HandleResult:
    logger.error("webhook store failed for %s: %s", event.id, type(exc).__name__, exc_info=exc)
    return _result(
        HandleOutcome.RETRY_LATER,
        503,
        event,
        "the de-duplication store is unavailable",
        retry_after=_DEFAULT_RETRY_AFTER,
    )


def _is_stale(last: int | None, event: _EventLike) -> bool:
    return last is not None and last >= event.sequence


def _stale(event: _EventLike, last: int | None) -> HandleResult:
    return _result(HandleOutcome.STALE, 200, event, f"object {event.object_id} is already at sequence {last}")


def _retry(event: _EventLike, exc: RetryLater) -> HandleResult:
    return _result(HandleOutcome.RETRY_LATER, 503, event, str(exc), retry_after=exc.retry_after or _DEFAULT_RETRY_AFTER)


def _failed(event: _EventLike, exc: BaseException) -> HandleResult:
    logger.error("webhook handler failed for %s (%s)", event.id, event.type, exc_info=exc)
    return _result(HandleOutcome.HANDLER_FAILED, 500, event, f"handler raised {type(exc).__name__}")


def _processed(event: _EventLike) -> HandleResult:
    return _result(HandleOutcome.PROCESSED, 200, event, "processed")


class WebhookHandler(_Registry):
    """Verify, de-duplicate and dispatch webhook deliveries to your functions (see the module docstring).

    ``store`` defaults to a :class:`~bnpl.webhooks.stores.SQLiteStore` in ``bnpl_webhooks.sqlite3`` in the
    current directory; with several instances on several hosts, pass a ``RedisStore`` or ``PostgresStore``.
    ``lease_seconds`` must exceed your slowest handler.
    """

    def __init__(
        self,
        webhook: Webhook,
        store: DedupStore | None = None,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        super().__init__(webhook, lease_seconds)
        if store is None:
            from bnpl.webhooks.stores.sqlite import SQLiteStore

            store = SQLiteStore()
        self.store: DedupStore = store
        # Two events of one object handled at once (concurrent deliveries) would both pass the stale check and an
        # older handler could finish last, rolling the object back: stale check → handlers → complete run under a
        # per-object lock (striped, so memory stays bounded). Within one process; several processes share the
        # store's sequence, which this lock does not cover.
        self._object_locks = tuple(threading.Lock() for _ in range(_LOCK_STRIPES))

    def __repr__(self) -> str:
        return f"WebhookHandler(types={sorted(self._handlers)}, store={self.store!r})"

    def handle(self, body: bytes, headers: Mapping[str, str]) -> HandleResult:
        """Verify one delivery (raw body bytes and its headers) and dispatch it; never raises for bad input.

        Raises :class:`~bnpl.webhooks.RawBodyRequiredError` only if ``body`` is not bytes (a receiver bug).
        """
        event = self._unwrap(body, headers)
        if isinstance(event, HandleResult):
            return event
        return self.handle_event(event)

    def handle_event(self, event: Any) -> HandleResult:
        """Dispatch an already-trusted event (e.g. fetched with ``GET /v1/events`` during reconciliation).

        Same de-duplication and stale rules as :meth:`handle`, without signature verification.
        """
        ev = _check_event(event)
        handlers = self.handlers_for(ev.type)
        if not handlers:
            return _result(HandleOutcome.IGNORED, 200, ev, "no handler for this event type")
        try:
            claim = self.store.claim(ev.id, self.lease_seconds)
        except Exception as exc:
            return _store_failed(ev, exc)
        if claim is ClaimResult.ALREADY_PROCESSED:
            return _result(HandleOutcome.DUPLICATE, 200, ev, "already processed")
        if claim is ClaimResult.IN_PROGRESS:
            return _in_progress(ev)
        with self._object_locks[hash(ev.object_id) % _LOCK_STRIPES]:
            return self._run_claimed(event, ev, handlers)

    def _run_claimed(self, event: Any, ev: _EventLike, handlers: list[Callable[..., Any]]) -> HandleResult:
        try:
            last = self.store.last_sequence(ev.object_id)
            if _is_stale(last, ev):
                # recorded as processed so redeliveries answer "duplicate"; max() leaves the sequence as is
                self.store.complete(ev.id, ev.object_id, ev.sequence)
                return _stale(ev, last)
        except Exception as exc:
            self._release_quietly(ev)
            return _store_failed(ev, exc)
        try:
            for func in handlers:
                func(event)
        except RetryLater as exc:
            self._release_quietly(ev)
            return _retry(ev, exc)
        except Exception as exc:
            self._release_quietly(ev)
            return _failed(ev, exc)
        try:
            self.store.complete(ev.id, ev.object_id, ev.sequence)
        except Exception as exc:
            self._release_quietly(ev)
            return _store_failed(ev, exc)
        return _processed(ev)

    def _release_quietly(self, event: _EventLike) -> None:
        try:
            self.store.release(event.id)
        except Exception as exc:  # the lease will expire by itself; the original failure matters more
            logger.warning("could not release the claim on %s: %s", event.id, type(exc).__name__)


class AsyncWebhookHandler(_Registry):
    """The asyncio/trio twin of :class:`WebhookHandler`, for Starlette/FastAPI and ASGI receivers.

    Handlers may be ``async def`` (awaited) or plain functions (run in a worker thread). The store is one of
    the same synchronous stores; its calls run in a worker thread through :func:`anyio.to_thread.run_sync`,
    so the event loop never blocks on SQLite, Redis or PostgreSQL.
    """

    def __init__(
        self,
        webhook: Webhook,
        store: DedupStore | None = None,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        super().__init__(webhook, lease_seconds)
        if store is None:
            from bnpl.webhooks.stores.sqlite import SQLiteStore

            store = SQLiteStore()
        self.store: DedupStore = store

    def __repr__(self) -> str:
        return f"AsyncWebhookHandler(types={sorted(self._handlers)}, store={self.store!r})"

    def _check_callable(self, func: Callable[..., Any]) -> None:
        """Both ``async def`` and plain functions are accepted."""

    async def _store(self, func: Callable[..., Any], *args: Any) -> Any:
        import anyio.to_thread

        return await anyio.to_thread.run_sync(func, *args)

    async def handle(self, body: bytes, headers: Mapping[str, str]) -> HandleResult:
        """Verify one delivery and dispatch it (see :meth:`WebhookHandler.handle`)."""
        event = self._unwrap(body, headers)
        if isinstance(event, HandleResult):
            return event
        return await self.handle_event(event)

    async def handle_event(self, event: Any) -> HandleResult:
        """Dispatch an already-trusted event (see :meth:`WebhookHandler.handle_event`)."""
        import anyio.to_thread

        ev = _check_event(event)
        handlers = self.handlers_for(ev.type)
        if not handlers:
            return _result(HandleOutcome.IGNORED, 200, ev, "no handler for this event type")
        try:
            claim = await self._store(self.store.claim, ev.id, self.lease_seconds)
        except Exception as exc:
            return _store_failed(ev, exc)
        if claim is ClaimResult.ALREADY_PROCESSED:
            return _result(HandleOutcome.DUPLICATE, 200, ev, "already processed")
        if claim is ClaimResult.IN_PROGRESS:
            return _in_progress(ev)
        try:
            last = await self._store(self.store.last_sequence, ev.object_id)
            if _is_stale(last, ev):
                await self._store(self.store.complete, ev.id, ev.object_id, ev.sequence)
                return _stale(ev, last)
        except Exception as exc:
            await self._release_quietly(ev)
            return _store_failed(ev, exc)
        try:
            for func in handlers:
                if inspect.iscoroutinefunction(func):
                    await func(event)
                else:
                    outcome = await anyio.to_thread.run_sync(func, event)
                    if inspect.isawaitable(outcome):  # a sync callable returning a coroutine (e.g. a partial)
                        await outcome
        except RetryLater as exc:
            await self._release_quietly(ev)
            return _retry(ev, exc)
        except Exception as exc:
            await self._release_quietly(ev)
            return _failed(ev, exc)
        try:
            await self._store(self.store.complete, ev.id, ev.object_id, ev.sequence)
        except Exception as exc:
            await self._release_quietly(ev)
            return _store_failed(ev, exc)
        return _processed(ev)

    async def _release_quietly(self, event: _EventLike) -> None:
        try:
            await self._store(self.store.release, event.id)
        except Exception as exc:
            logger.warning("could not release the claim on %s: %s", event.id, type(exc).__name__)
