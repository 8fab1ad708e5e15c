"""A direct dispatcher for the app's plain ``handler(request) -> Response`` routes.

Profiling the sandbox under load showed FastAPI's router (route matching through included routers, the
per-request dependency machinery and exit stacks) costing about as much CPU as the lender's own work on a
checkout. Every route here already takes only the ``Request`` (no parameter injection), so this ASGI
middleware matches those routes itself, by method and literal path segments, and calls the handler directly.
Anything it does not know exactly (another method, a route with dependencies, an unknown path) falls through
to FastAPI unchanged, so 404/405 answers and the OpenAPI document stay FastAPI's. Exceptions go through the
app's own exception handlers, as they would inside FastAPI.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["DirectDispatch"]

log = logging.getLogger("bnpl.sandbox")

Handler = Callable[[Request], Awaitable[Response]]
# One route: literal segments (None where a ``{param}`` goes), the param names by position, the handler.
Pattern = tuple[tuple[str | None, ...], tuple[tuple[int, str], ...], Handler]


def _is_plain(endpoint: Any) -> bool:
    """True for ``async def f(request)``: nothing for FastAPI to inject."""
    if not inspect.iscoroutinefunction(endpoint):
        return False
    params = list(inspect.signature(endpoint).parameters.values())
    return len(params) == 1 and params[0].name == "request"


def _pattern(path: str, endpoint: Handler) -> Pattern | None:
    literals: list[str | None] = []
    names: list[tuple[int, str]] = []
    for i, seg in enumerate(path.removeprefix("/").split("/")):
        if seg.startswith("{") and seg.endswith("}"):
            name = seg[1:-1]
            if ":" in name:  # a converter (``{p:path}``): leave it to FastAPI
                return None
            literals.append(None)
            names.append((i, name))
        elif "{" in seg:
            return None
        else:
            literals.append(seg)
    return tuple(literals), tuple(names), endpoint


def _plain_routes(routes: Sequence[Any], prefix: str) -> Iterator[tuple[str, set[str], Handler]]:
    """``(path, methods, handler)`` of every plain route, in matching order, looking inside included routers
    (FastAPI >= 0.16x keeps them nested) unless the include adds dependencies or a body limit."""
    for route in routes:
        if isinstance(route, APIRoute | Route):
            if isinstance(route, APIRoute) and (route.dependencies or route.dependant.dependencies):
                continue
            if _is_plain(route.endpoint):
                yield prefix + route.path, set(route.methods or ()), route.endpoint
            continue
        inner = getattr(route, "original_router", None)
        context = getattr(route, "include_context", None)
        if inner is None or context is None:
            continue
        if getattr(context, "dependencies", None) or getattr(context, "max_body_size", None) is not None:
            continue
        yield from _plain_routes(inner.routes, prefix + str(getattr(context, "prefix", "") or ""))


class DirectDispatch:
    """ASGI middleware: run a known plain route's handler directly, pass everything else through.

    Install with ``app.add_middleware(DirectDispatch, fastapi_app=app)``; the route table is read when the
    middleware stack is built (at startup), so every router included by then is covered.
    """

    def __init__(self, app: ASGIApp, fastapi_app: FastAPI) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self.table: dict[tuple[str, int], list[Pattern]] = {}
        for path, methods, endpoint in _plain_routes(fastapi_app.routes, ""):
            pattern = _pattern(path, endpoint)
            if pattern is None:
                continue
            for method in methods:
                bucket = self.table.setdefault((method, len(pattern[0])), [])
                # The first registration wins, as in FastAPI's own matching order.
                if not any(p[0] == pattern[0] for p in bucket):
                    bucket.append(pattern)

    def _match(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        segments = path.removeprefix("/").split("/")
        bucket = self.table.get((method, len(segments)))
        if bucket is None:
            return None
        for literals, names, handler in bucket:
            for lit, seg in zip(literals, segments, strict=True):
                if lit is None:
                    if not seg:
                        break
                elif lit != seg:
                    break
            else:
                return handler, {name: segments[i] for i, name in names}
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        found = self._match(scope["method"], scope["path"])
        if found is None:
            await self.app(scope, receive, send)
            return
        handler, params = found
        scope["path_params"] = params
        scope["app"] = self.fastapi_app
        request = Request(scope, receive, send)
        try:
            response = await handler(request)
        except Exception as exc:
            response = await self._handled(request, exc)
        await response(scope, receive, send)

    async def _handled(self, request: Request, exc: Exception) -> Response:
        handlers = self.fastapi_app.exception_handlers
        for cls in type(exc).__mro__:
            handler = handlers.get(cls)
            if handler is not None:
                result = handler(request, exc)
                response: Response = await result if inspect.isawaitable(result) else result
                return response
        raise exc
