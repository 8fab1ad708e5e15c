"""What every route shares: auth, idempotency, body and query parsing, error bodies, ``Request-Id``.

Handlers take only the ``Request`` (no FastAPI parameter injection: it is the slowest part of a request) and
parse with the contract's params models. The synchronous part of a request (auth, idempotency, the service
call) runs inline on SQLite, whose statements are microsecond-fast local calls, and in a worker thread on
PostgreSQL, where a statement waits on the network.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, TypeVar

import anyio.to_thread
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from bnpl.models.common import ERROR_TYPES
from bnpl.sandbox import idempotency
from bnpl.sandbox.auth import AuthError, Caller, authenticate
from bnpl.sandbox.db import Database
from bnpl.sandbox.service import ServiceError
from bnpl.sandbox.settings import Clock, Settings

__all__ = [
    "SandboxState",
    "error_response",
    "json_response",
    "operation",
    "parse_body",
    "parse_query",
    "run_sync",
    "state_of",
]

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
JSON: Final = "application/json"
DB_THREADS: Final = 8
"""PostgreSQL work runs on at most this many threads per process: enough to overlap network round trips,
few enough that 32 concurrent requests don't spend their CPU handing the GIL around."""
_LIMITER: Final = "db_thread_limiter"


@dataclass(slots=True)
class SandboxState:
    """Everything a request needs, kept on ``app.state.sandbox``.

    ``clock.now()`` is the lender's time (inject a fake clock in tests); ``hosted_renderer`` is the seam for
    the hosted-page templates: ``renderer(request, checkout, plans) -> Response`` used when the browser asks
    for HTML.
    """

    db: Database
    settings: Settings
    clock: Clock
    hosted_secret: bytes
    hosted_renderer: Callable[..., Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def now(self) -> datetime:
        """The lender's current time."""
        return self.clock.now()


def state_of(request: Request) -> SandboxState:
    """The sandbox state of the app serving ``request``."""
    state: SandboxState = request.app.state.sandbox
    return state


def request_id() -> str:
    """A fresh request id (``req_…``)."""
    return "req_" + secrets.token_hex(10)


def json_response(
    body: str, status: int = 200, rid: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    """A JSON response with its ``Request-Id``."""
    out = {"Request-Id": rid or request_id()}
    if headers:
        out.update(headers)
    return Response(content=body, status_code=status, media_type=JSON, headers=out)


def error_body(type_: str, message: str, *, code: str | None, param: str | None, rid: str) -> str:
    """The contract's error JSON."""
    return json.dumps(
        {"error": {"type": type_, "code": code, "message": message, "param": param, "request_id": rid}},
        ensure_ascii=False,
    )


def error_response(
    type_: str,
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    status: int | None = None,
    rid: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """An error response in the contract's shape; the status follows the type unless given."""
    rid = rid or request_id()
    return json_response(
        error_body(type_, message, code=code, param=param, rid=rid), status or ERROR_TYPES.get(type_, 500), rid, headers
    )


class _RequestError(Exception):
    def __init__(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = headers


def _param_of(loc: tuple[int | str, ...]) -> str | None:
    return ".".join(str(p) for p in loc) or None


def _validation_failure(exc: ValidationError, rid: str) -> _RequestError:
    first = exc.errors(include_url=False, include_input=False, include_context=False)[0]
    param = _param_of(tuple(first["loc"]))
    message = f"{param}: {first['msg']}" if param else first["msg"]
    if exc.error_count() > 1:
        message += f" (and {exc.error_count() - 1} more)"
    code = "parameter_unknown" if first["type"] == "extra_forbidden" else "parameter_invalid"
    if first["type"] == "missing":
        code = "parameter_missing"
    return _RequestError(400, error_body("invalid_request_error", message, code=code, param=param, rid=rid))


def parse_body(model: type[M], raw: bytes, rid: str = "") -> M:
    """Validate a JSON body (empty means ``{}``) with a params model; a 400 with ``param`` otherwise."""
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors(include_input=False)):
            raise _RequestError(
                400,
                error_body(
                    "invalid_request_error", "The body is not valid JSON", code="invalid_json", param=None, rid=rid
                ),
            ) from None
        raise _validation_failure(exc, rid) from None


def parse_query(model: type[M], request: Request, rid: str = "") -> M:
    """Validate the query string with a params model (list fields repeat the name: ``types=a&types=b``)."""
    query = request.query_params
    data: dict[str, Any] = {}
    for name in query:
        info = model.model_fields.get(name)
        is_list = info is not None and "list" in str(info.annotation)
        data[name] = query.getlist(name) if is_list else query[name]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _validation_failure(exc, rid) from None


def run_sync(state: SandboxState, fn: Callable[[], T]) -> Any:
    """Awaitable running ``fn`` inline (SQLite) or in a worker thread (PostgreSQL)."""
    if state.db.inline:

        async def inline() -> T:
            return fn()

        return inline()
    limiter = state.extra.get(_LIMITER)
    if limiter is None:  # created on the event loop, on first use
        limiter = state.extra[_LIMITER] = anyio.CapacityLimiter(DB_THREADS)
    return anyio.to_thread.run_sync(fn, limiter=limiter)


Work = Callable[[Caller, bytes, str], str]


def _execute(
    state: SandboxState,
    auth: str | None,
    key: str | None,
    method: str,
    path: str,
    body: bytes,
    work: Work,
    status: int,
    secret_required: bool,
    rid: str,
) -> tuple[int, str, dict[str, str] | None]:
    try:
        caller = authenticate(state.db, auth, secret_required=secret_required)
    except AuthError as exc:
        return ERROR_TYPES[exc.type], error_body(exc.type, exc.message, code=exc.code, param=None, rid=rid), None
    if key is None:
        return _invoke(work, caller, body, status, rid)
    try:
        replay = idempotency.begin(
            state.db,
            caller.merchant_id,
            key,
            idempotency.fingerprint(method, path, body),
            state.now(),
            state.settings.idempotency_ttl_seconds,
        )
    except idempotency.IdempotencyError as exc:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        kind = "idempotency_error" if exc.status == 409 else "invalid_request_error"
        return exc.status, error_body(kind, exc.message, code=exc.code, param=None, rid=rid), headers
    if replay is not None:
        return replay.status, replay.body, {"Idempotent-Replayed": "true"}
    try:
        result = _invoke(work, caller, body, status, rid)
    except BaseException:
        idempotency.abandon(state.db, caller.merchant_id, key)
        raise
    if result[0] >= 500:
        idempotency.abandon(state.db, caller.merchant_id, key)
    else:
        idempotency.finish(state.db, caller.merchant_id, key, result[0], result[1])
    return result


def _invoke(work: Work, caller: Caller, body: bytes, status: int, rid: str) -> tuple[int, str, dict[str, str] | None]:
    try:
        return status, work(caller, body, rid), None
    except _RequestError as exc:
        return exc.status, exc.body, exc.headers
    except ServiceError as exc:
        return (
            ERROR_TYPES.get(exc.type, 500),
            error_body(exc.type, exc.message, code=exc.code, param=exc.param, rid=rid),
            None,
        )


async def operation(request: Request, work: Work, *, status: int = 200, secret_required: bool = True) -> Response:
    """Run one API operation: authenticate, honour ``Idempotency-Key`` (POST), call ``work(caller, body,
    request_id) -> JSON`` and answer with the contract's JSON or error body."""
    state = state_of(request)
    rid = request_id()
    body = await request.body() if request.method == "POST" else b""
    key = request.headers.get("idempotency-key") if request.method == "POST" else None
    auth = request.headers.get("authorization")
    path = request.url.path
    code, text, headers = await run_sync(
        state, lambda: _execute(state, auth, key, request.method, path, body, work, status, secret_required, rid)
    )
    return json_response(text, code, rid, headers)
