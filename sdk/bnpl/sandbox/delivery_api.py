"""Webhook delivery in the running sandbox: sandbox-only routes (not in the contract's route table) and the
wiring of the :class:`~bnpl.sandbox.delivery.DeliveryWorker` into the app's lifespan.

* ``GET /v1/webhook_endpoints/{id}/deliveries?limit=&starting_after=`` → the endpoint's delivery log, newest
  first (:class:`~bnpl.sandbox.delivery_log.DeliveryAttemptList`).
* ``POST /v1/events/{id}/redeliver[?endpoint=we_…]`` → queue a fresh delivery
  (:class:`~bnpl.sandbox.delivery_log.Redelivery`).

``attach_delivery(app)`` (called by ``create_app``) mounts :data:`router`, wakes the worker after every
request that wrote events (the commit of a state change and its events) and runs the worker for the app's
lifetime. A redelivery writes no event: its route wakes the worker itself.
Disable the background worker (tests that step ``run_due`` themselves) with the environment variable
``BNPL_SANDBOX_DELIVERY=0`` or ``app.state.sandbox.extra["delivery_background"] = False`` before startup.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable
from typing import Any, Final

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from bnpl.models.common import ApiParams
from bnpl.sandbox.api._base import operation, parse_query, state_of
from bnpl.sandbox.auth import Caller
from bnpl.sandbox.delivery import DeliveryWorker
from bnpl.sandbox.delivery_log import list_attempts, redeliver
from bnpl.sandbox.service._common import events_emitted

__all__ = ["DeliveryLogParams", "RedeliverParams", "attach_delivery", "router", "worker_of"]

_WORKER: Final = "delivery_worker"
_BACKGROUND: Final = "delivery_background"
_ENV: Final = "BNPL_SANDBOX_DELIVERY"
_READS: Final = frozenset({"GET", "HEAD", "OPTIONS"})

router = APIRouter()


class DeliveryLogParams(ApiParams):
    """Query of ``GET /v1/webhook_endpoints/{id}/deliveries``."""

    limit: int = Field(default=20, ge=1, le=100)  # lax: it arrives as a query string
    starting_after: str | None = Field(default=None, max_length=40)


class RedeliverParams(ApiParams):
    """Query of ``POST /v1/events/{id}/redeliver``: ``endpoint`` limits it to one endpoint."""

    endpoint: str | None = Field(default=None, pattern=r"^we_[A-Za-z0-9]{1,64}$")


def worker_of(app: Any) -> DeliveryWorker | None:
    """The app's running delivery worker, if any (``app.state.sandbox.extra["delivery_worker"]``)."""
    worker: DeliveryWorker | None = app.state.sandbox.extra.get(_WORKER)
    return worker


@router.get("/v1/webhook_endpoints/{id}/deliveries", include_in_schema=False)
async def delivery_log(request: Request) -> Response:
    """The endpoint's delivery attempts, newest first (sandbox extension)."""
    state = state_of(request)
    endpoint_id = request.path_params["id"]

    def work(caller: Caller, _body: bytes, rid: str) -> str:
        params = parse_query(DeliveryLogParams, request, rid)
        page = list_attempts(
            state.db, caller.merchant_id, endpoint_id, limit=params.limit, starting_after=params.starting_after
        )
        return page.model_dump_json()

    return await operation(request, work)


@router.post("/v1/events/{id}/redeliver", include_in_schema=False)
async def redeliver_event(request: Request) -> Response:
    """Queue a fresh delivery of the event to every subscribed endpoint, or to ``?endpoint=we_…``."""
    state = state_of(request)
    event_id = request.path_params["id"]

    def work(caller: Caller, _body: bytes, rid: str) -> str:
        params = parse_query(RedeliverParams, request, rid)
        result = redeliver(state.db, caller.merchant_id, event_id, state.now(), endpoint_id=params.endpoint)
        return result.model_dump_json()

    response = await operation(request, work)
    worker = worker_of(request.app)
    if worker is not None:
        worker.notify()  # the queued delivery is due now (the middleware wakes only on new events)
    return response


class _NotifyAfterWrites:
    """Pure ASGI middleware: after a write request (not GET/HEAD/OPTIONS) during which this process wrote
    events, wake the delivery worker. Requests that wrote none (a checkout create) leave it asleep; a wake-up
    caused by a concurrent request's events is harmless (the worker coalesces them)."""

    def __init__(self, app: ASGIApp, notify: Callable[[], None]) -> None:
        self.app = app
        self.notify = notify

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in _READS:
            await self.app(scope, receive, send)
            return
        before = events_emitted()
        try:
            await self.app(scope, receive, send)
        finally:
            if events_emitted() != before:
                self.notify()


def _background_enabled(app: FastAPI) -> bool:
    if os.environ.get(_ENV, "").strip().lower() in {"0", "false", "no", "off"}:
        return False
    return bool(app.state.sandbox.extra.get(_BACKGROUND, True))


def attach_delivery(app: FastAPI, **worker_options: Any) -> None:
    """Mount the delivery routes on a ``create_app`` app and run a :class:`DeliveryWorker` during its lifespan.

    ``worker_options`` go to :class:`DeliveryWorker` (``timeout``, ``poll_interval``, ``concurrency``, …);
    the worker's clock is the app's (``state.now``).
    """
    state = app.state.sandbox
    app.include_router(router)

    def notify() -> None:
        worker = state.extra.get(_WORKER)
        if worker is not None:
            worker.notify()

    app.add_middleware(_NotifyAfterWrites, notify=notify)
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(asgi_app: Any) -> AsyncIterator[Any]:
        async with inner(asgi_app) as value:
            worker = None
            if _background_enabled(app):
                worker = DeliveryWorker(state.db, now=state.now, **worker_options)
                worker.start()
                state.extra[_WORKER] = worker
            try:
                yield value
            finally:
                if worker is not None:
                    state.extra.pop(_WORKER, None)
                    await anyio.to_thread.run_sync(worker.stop)

    app.router.lifespan_context = lifespan
