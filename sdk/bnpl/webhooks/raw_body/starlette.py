"""Starlette and FastAPI: the raw webhook body, a ready-made endpoint, and the FastAPI dependency ``RawBody``.

::

    from bnpl.webhooks.raw_body.starlette import webhook_endpoint
    app.add_route("/webhooks/bnpl", webhook_endpoint(handler), methods=["POST"])   # Starlette or FastAPI

    # or inside your own FastAPI endpoint:
    from bnpl.webhooks.raw_body.starlette import RawBody

    @app.post("/webhooks/bnpl")
    async def receive(body: RawBody, request: Request) -> Response: ...
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import anyio.to_thread
from fastapi import Depends
from starlette.requests import Request
from starlette.responses import Response

from bnpl.webhooks.dispatch import AsyncWebhookHandler, HandleOutcome, HandleResult, WebhookHandler
from bnpl.webhooks.errors import RawBodyRequiredError
from bnpl.webhooks.raw_body import DEFAULT_MAX_BODY_BYTES

__all__ = ["RawBody", "raw_body", "webhook_endpoint"]

_STREAM_HELP = (
    "the request body stream was already consumed (request.stream() was iterated before), so the raw bytes "
    "are gone. Call `await raw_body(request)` (request.body()) first; it caches the bytes for later readers."
)


async def raw_body(request: Request) -> bytes:
    """Return the exact bytes of ``request``'s body (``await request.body()``, cached by Starlette).

    Raises :class:`~bnpl.webhooks.RawBodyRequiredError` if the stream was consumed with ``request.stream()``.
    Never verify ``json.dumps(await request.json())`` or a pydantic model's ``model_dump_json()``: those are
    re-serialised and their bytes differ from what was signed.
    """
    try:
        return await request.body()
    except RuntimeError:
        raise RawBodyRequiredError(_STREAM_HELP) from None


async def _raw_body_dependency(request: Request) -> bytes:
    return await raw_body(request)


RawBody = Annotated[bytes, Depends(_raw_body_dependency)]
"""A FastAPI parameter type giving the raw body: ``async def receive(body: RawBody, request: Request)``."""


def _too_large(limit: int) -> HandleResult:
    return HandleResult(HandleOutcome.INVALID_SIGNATURE, 413, message=f"body larger than {limit} bytes")


def webhook_endpoint(
    handler: AsyncWebhookHandler | WebhookHandler, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette/FastAPI endpoint passing webhooks to ``handler`` and answering with its result.

    A sync :class:`WebhookHandler` runs in a worker thread so the event loop never blocks. A declared
    ``Content-Length`` above ``max_body_bytes`` is refused with 413 before the body is read.
    """
    if not isinstance(handler, AsyncWebhookHandler | WebhookHandler):
        raise TypeError("webhook_endpoint() takes an AsyncWebhookHandler or a WebhookHandler")

    async def endpoint(request: Request) -> Response:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_body_bytes:
            result = _too_large(max_body_bytes)
        else:
            body = await raw_body(request)
            if len(body) > max_body_bytes:
                result = _too_large(max_body_bytes)
            elif isinstance(handler, AsyncWebhookHandler):
                result = await handler.handle(body, request.headers)
            else:
                result = await anyio.to_thread.run_sync(handler.handle, body, request.headers)
        return Response(result.body, status_code=result.status_code, headers=result.headers)

    return endpoint
