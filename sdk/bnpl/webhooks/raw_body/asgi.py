"""A framework-free ASGI app receiving webhooks (uvicorn, hypercorn, or mounted under any ASGI framework).

::

    from bnpl.webhooks.raw_body.asgi import make_asgi_app
    app = make_asgi_app(handler)                   # uvicorn myreceiver:app
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio.to_thread

from bnpl.webhooks.dispatch import AsyncWebhookHandler, HandleResult, WebhookHandler
from bnpl.webhooks.raw_body import DEFAULT_MAX_BODY_BYTES

__all__ = ["ASGIApp", "make_asgi_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _respond(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    raw_headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


async def _plain(send: Send, status: int, message: str, extra: dict[str, str] | None = None) -> None:
    await _respond(send, status, message.encode(), {"content-type": "text/plain; charset=utf-8", **(extra or {})})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def make_asgi_app(
    handler: AsyncWebhookHandler | WebhookHandler, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
) -> ASGIApp:
    """An ASGI application answering every POST with ``handler``'s verdict (other methods: 405).

    The body is read from the ``receive`` loop and refused with 413 as soon as it passes ``max_body_bytes``
    (also up front when ``content-length`` announces more). A sync :class:`WebhookHandler` runs in a thread.
    """
    if not isinstance(handler, AsyncWebhookHandler | WebhookHandler):
        raise TypeError("make_asgi_app() takes an AsyncWebhookHandler or a WebhookHandler")
    if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int) or max_body_bytes <= 0:
        raise ValueError("max_body_bytes must be a positive integer")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise ValueError(f"this webhook app serves HTTP only, not {scope['type']!r}")
        if scope["method"] != "POST":
            await _plain(send, 405, "POST only", {"allow": "POST"})
            return
        headers: dict[str, str] = {}
        for name, value in scope.get("headers", ()):
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            if key in headers:
                # repeated lines are joined; signature lists are space-separated entries, other headers use ", "
                text = f"{headers[key]}{' ' if key.endswith('-signature') else ', '}{text}"
            headers[key] = text
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_body_bytes:
            await _plain(send, 413, f"body larger than {max_body_bytes} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away: nothing to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > max_body_bytes:
                await _plain(send, 413, f"body larger than {max_body_bytes} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        result: HandleResult
        if isinstance(handler, AsyncWebhookHandler):
            result = await handler.handle(body, headers)
        else:
            result = await anyio.to_thread.run_sync(handler.handle, body, headers)
        await _respond(send, result.status_code, result.body, result.headers)

    return app
