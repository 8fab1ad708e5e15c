"""The ASGI app of the sandbox lender: ``create_app(db, clock=..., settings=...)``."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import AsyncIterator
from datetime import datetime

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from bnpl.models.openapi import build_openapi
from bnpl.sandbox import service
from bnpl.sandbox.api import ROUTERS
from bnpl.sandbox.api._base import SandboxState, error_response, json_response, run_sync
from bnpl.sandbox.api._dispatch import DirectDispatch
from bnpl.sandbox.auth import hosted_secret
from bnpl.sandbox.db import Database
from bnpl.sandbox.delivery_api import attach_delivery
from bnpl.sandbox.migrations import migrate
from bnpl.sandbox.pages import install as install_pages
from bnpl.sandbox.settings import Clock, Settings, SystemClock

__all__ = ["create_app"]

log = logging.getLogger("bnpl.sandbox")


@functools.cache
def _openapi_json() -> str:
    return json.dumps(build_openapi(), ensure_ascii=False)


def _expire_all(db: Database, now: datetime) -> None:
    service.expire_checkouts(db, now)
    service.expire_authorizations(db, now)


async def _sweep(state: SandboxState) -> None:
    # Expire open checkouts and lapsed authorizations that live on the real clock (test clocks expire theirs
    # when they are advanced).
    interval = state.settings.expiry_sweep_seconds
    while True:
        await asyncio.sleep(interval)
        try:
            now = state.now()
            await run_sync(state, functools.partial(_expire_all, state.db, now))
        except Exception:  # keep sweeping; a failed sweep is retried next time
            log.exception("expiry sweep failed")


def create_app(db: Database, *, clock: Clock | None = None, settings: Settings | None = None) -> FastAPI:
    """The lender over ``db`` (migrated here). ``clock`` supplies "now" (default: the wall clock);
    ``app.state.sandbox`` holds the :class:`SandboxState` other modules hook into."""
    migrate(db)
    state = SandboxState(
        db=db, settings=settings or Settings(), clock=clock or SystemClock(), hosted_secret=hosted_secret(db)
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_sweep(state)) if state.settings.expiry_sweep_seconds > 0 else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(
        title="bnpl sandbox lender",
        openapi_url=None,  # the contract's own document is served below
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.sandbox = state
    for router in ROUTERS:
        app.include_router(router)
    install_pages(app)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi() -> Response:
        return Response(_openapi_json(), media_type="application/json")

    @app.get("/health", include_in_schema=False)
    async def health(request: Request) -> Response:
        return json_response('{"status":"ok"}')

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return error_response(
                "not_found_error", "Unrecognised request URL; see /openapi.json", code="route_not_found"
            )
        if exc.status_code == 405:
            return error_response(
                "invalid_request_error", "This method is not allowed on this URL", code="method_not_allowed", status=405
            )
        return error_response("invalid_request_error", str(exc.detail), status=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        param = ".".join(str(p) for p in first["loc"][1:]) or None
        return error_response(
            "invalid_request_error",
            f"{param}: {first['msg']}" if param else str(first["msg"]),
            code="parameter_invalid",
            param=param,
        )

    @app.exception_handler(Exception)
    async def server_error(_request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        return error_response(
            "api_error", "The sandbox hit an internal error; the request may be retried", code="internal_error"
        )

    # Inside the delivery middleware (added next, so outermost), which must still see every write.
    app.add_middleware(DirectDispatch, fastapi_app=app)
    attach_delivery(app)  # webhook delivery worker (lifespan) + delivery log / redeliver routes
    return app
