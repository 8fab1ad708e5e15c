"""Request building and response parsing shared by the sync and async clients (they differ only in I/O).

Everything here is pure: it turns a call into an :class:`APIRequest`, the attempt number into headers, and an
``httpx.Response`` into a model or a typed error. The transports in ``_transport.py`` run the retry loop.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pydantic

from bnpl.client._redact import redact
from bnpl.client._retry import parse_retry_after
from bnpl.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIServerError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    IdempotencyConflictError,
    InvalidParamsError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)
from bnpl.models.common import ApiObject
from bnpl.models.routes import encode_query

logger = logging.getLogger("bnpl")

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)
ObjT = TypeVar("ObjT", bound=ApiObject)
T = TypeVar("T")

MUTATING_METHODS = frozenset({"POST", "DELETE", "PUT", "PATCH"})
IDEMPOTENCY_CONFLICT_CODES = frozenset(
    {"idempotency_key_reused", "idempotency_key_in_use", "idempotency_conflict", "idempotency_mismatch"}
)
_PREVIEW_BYTES = 200
_ID_BODY = re.compile(r"[A-Za-z0-9]{1,64}")  # the id alphabet of bnpl.models.common, after the prefix


@dataclass(frozen=True, slots=True)
class APIRequest:
    """One logical API call: retried attempts share it, and so share its idempotency key."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] | None = None
    body: bytes | None = None
    idempotency_key: str | None = None


def make_request(
    method: str,
    path: str,
    *,
    body: pydantic.BaseModel | None = None,
    query: tuple[tuple[str, str], ...] | None = None,
    idempotency_key: str | None = None,
) -> APIRequest:
    """Build the call; mutating methods get an ``Idempotency-Key`` (uuid4 unless the caller gave one), once."""
    if method in MUTATING_METHODS:
        if idempotency_key is None:
            idempotency_key = str(uuid.uuid4())
        else:
            check_idempotency_key(idempotency_key)
    content = None
    if body is not None:
        content = body.model_dump_json(exclude_unset=True, by_alias=True).encode()
    return APIRequest(method, path, query, content, idempotency_key)


def check_idempotency_key(key: object) -> None:
    """A caller's key must be a printable, non-empty string of at most 255 characters."""
    if not isinstance(key, str) or not key or len(key) > 255 or not key.isprintable() or key != key.strip():
        raise InvalidParamsError(
            "idempotency_key must be a non-empty printable string of at most 255 characters without surrounding "
            "spaces (a uuid4 is a good choice); nothing was sent.",
            param="idempotency_key",
        )


def path_id(value: object, prefix: str, param: str = "id") -> str:
    """Check an object id argument (``ord_…``) and escape it for the URL path."""
    if not isinstance(value, str) or not _ID_BODY.fullmatch(value, len(prefix)) or not value.startswith(prefix):
        raise InvalidParamsError(
            f"{param} must be an id starting with {prefix!r}, got {_short(value)}; pass the id the API returned. "
            "Nothing was sent.",
            param=param,
        )
    return quote(value, safe="")


def validate_params(model: type[ModelT], params: ModelT | Mapping[str, Any] | None, kwargs: dict[str, Any]) -> ModelT:
    """Return a params-model instance from a model, a mapping, or keyword arguments (not both), or raise
    :class:`InvalidParamsError` naming the first bad field. Runs before any network I/O."""
    if params is not None:
        if kwargs:
            raise InvalidParamsError(
                f"Pass either a {model.__name__} instance or keyword arguments, not both "
                f"(got both and {', '.join(sorted(kwargs))}).",
                param=next(iter(sorted(kwargs))),
            )
        if isinstance(params, model):
            return params
        if not isinstance(params, Mapping):
            raise InvalidParamsError(
                f"params must be a {model.__name__} or a mapping, got {type(params).__name__}.", param=None
            )
        kwargs = dict(params)
    try:
        return model.model_validate(kwargs)
    except pydantic.ValidationError as exc:
        raise invalid_params(model, exc) from None


def invalid_params(model: type[pydantic.BaseModel], exc: pydantic.ValidationError) -> InvalidParamsError:
    """Summarise a pydantic error as one actionable line (no pydantic traceback)."""
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    first = errors[0] if errors else {"loc": (), "msg": str(exc)}
    param = ".".join(str(part) for part in first["loc"]) or None
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    where = f"{param!r}" if param else "the arguments"
    return InvalidParamsError(
        f"Invalid {where} for {model.__name__}: {first['msg']}{more}. Fix the argument; nothing was sent.",
        param=param,
    )


def query_from(params: pydantic.BaseModel) -> tuple[tuple[str, str], ...]:
    """Encode a params model as query pairs exactly as the route table does (lists repeat the name)."""
    return tuple(encode_query(params))


def attempt_headers(base: Mapping[str, str], request: APIRequest, attempt: int) -> dict[str, str]:
    """Headers of one attempt: the client's base headers, the idempotency key, the 0-based attempt number."""
    headers = dict(base)
    headers["BNPL-Retry-Attempt"] = str(attempt)
    if request.idempotency_key is not None:
        headers["Idempotency-Key"] = request.idempotency_key
    if request.body is not None:
        headers["Content-Type"] = "application/json"
    return headers


def request_id_of(response: httpx.Response) -> str | None:
    """The server's request id for this response."""
    request_id: str | None = response.headers.get("request-id")
    return request_id


def parse_model(response: httpx.Response, model: type[ObjT], request: APIRequest) -> ObjT:
    """Validate a 2xx body as ``model`` (pydantic-core's JSON parser) and attach the request id as
    ``obj._request_id``; a non-JSON or malformed body raises :class:`APIResponseValidationError`."""
    try:
        obj = model.model_validate_json(response.content)
    except pydantic.ValidationError as exc:
        raise response_validation_error(response, model.__name__, request, exc) from None
    obj._request_id = response.headers.get("request-id")
    return obj


def parse_with(response: httpx.Response, adapter: pydantic.TypeAdapter[T], expected: str, request: APIRequest) -> T:
    """Like :func:`parse_model` for a non-model type such as the ``Event`` union."""
    try:
        obj = adapter.validate_json(response.content)
    except pydantic.ValidationError as exc:
        raise response_validation_error(response, expected, request, exc) from None
    if isinstance(obj, ApiObject):
        obj._request_id = response.headers.get("request-id")
    return obj


def response_validation_error(
    response: httpx.Response, expected: str, request: APIRequest, exc: pydantic.ValidationError | None
) -> APIResponseValidationError:
    """Say what was expected and show the first bytes received (redacted), never a pydantic traceback."""
    preview = redact(response.content[:_PREVIEW_BYTES].decode("utf-8", errors="replace"))
    problem = ""
    if exc is not None:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        if errors:
            loc = ".".join(str(part) for part in errors[0]["loc"])
            problem = f" ({loc + ': ' if loc else ''}{errors[0]['msg']})"
    content_type = response.headers.get("content-type", "none")
    return APIResponseValidationError(
        f"Expected a JSON {expected} from {request.method} {request.path} but got HTTP {response.status_code} "
        f"with content-type {content_type}{problem}; first bytes: {preview!r}. Check that base_url points at the "
        "BNPL API and not at a proxy or web page.",
        status_code=response.status_code,
        expected=expected,
        body_preview=preview,
        request_id=request_id_of(response),
    )


def error_body(response: httpx.Response) -> tuple[object, dict[str, Any]]:
    """The decoded body (or None) and its ``error`` object (or {}), tolerating any junk."""
    try:
        body: object = json.loads(response.content) if response.content else None
    except ValueError:
        return None, {}
    error = body.get("error") if isinstance(body, dict) else None
    return body, error if isinstance(error, dict) else {}


def error_code(response: httpx.Response) -> str | None:
    """The ``error.code`` of an error response, if any."""
    code = error_body(response)[1].get("code")
    return code if isinstance(code, str) else None


_NEXT_STEP = {
    400: "Fix the request (see param) and send it again.",
    401: "Check BNPL_API_KEY (or api_key=): it must be a valid secret key for this environment.",
    403: "Use a key that is allowed to perform this action.",
    404: "Check the id and that the key's mode (test/live) matches the object's.",
    409: "Re-read the object's current state before trying again.",
    422: "Fix the request (see param) and send it again.",
    429: "Slow down: wait for retry_after seconds, or lower your request rate.",
}


def make_status_error(response: httpx.Response, request: APIRequest) -> APIStatusError:
    """Map an error response to the narrowest :class:`APIStatusError` subclass, with the body's fields."""
    status = response.status_code
    body, error = error_body(response)
    code = _str_or_none(error.get("code"))
    err_type = _str_or_none(error.get("type"))
    param = _str_or_none(error.get("param"))
    request_id = request_id_of(response) or _str_or_none(error.get("request_id"))
    server_message = _str_or_none(error.get("message"))
    if server_message is None:
        if body is None and response.content:
            preview = response.content[:_PREVIEW_BYTES].decode("utf-8", errors="replace")
            server_message = f"non-JSON error body: {preview!r}"
        else:
            server_message = response.reason_phrase or "error"
    cls: type[APIStatusError]
    if status in (400, 422):
        cls = InvalidRequestError
    elif status == 401:
        cls = AuthenticationError
    elif status == 403:
        cls = PermissionDeniedError
    elif status == 404:
        cls = NotFoundError
    elif status == 409:
        is_key_conflict = code in IDEMPOTENCY_CONFLICT_CODES or err_type == "idempotency_error"
        cls = (
            IdempotencyConflictError if is_key_conflict and code != "idempotency_request_in_progress" else ConflictError
        )
    elif status == 429:
        cls = RateLimitError
    elif status >= 500:
        cls = APIServerError
    else:
        cls = APIStatusError
    if cls is IdempotencyConflictError:
        step = "Use a new idempotency_key for a different request; reuse a key only to retry the same request."
    elif cls is APIServerError:
        step = "The server failed; retry later with the same idempotency_key (retries are safe)."
    else:
        step = _NEXT_STEP.get(status, "See the error code and message.")
    message = redact(f"HTTP {status} on {request.method} {request.path}: {server_message}. {step}")
    kwargs: dict[str, Any] = {
        "status_code": status,
        "request_id": request_id,
        "body": body,
        "type": err_type,
        "code": code,
        "param": param,
        "headers": response.headers,
    }
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=parse_retry_after(response.headers), **kwargs)
    return cls(message, **kwargs)


def connection_error(exc: httpx.TransportError, request: APIRequest, attempts: int) -> APIConnectionError:
    """Wrap an httpx transport failure; the message says what to do and never includes headers."""
    tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(
            f"{request.method} {request.path} timed out ({type(exc).__name__}) after {tries}. Raise timeout= "
            "with client.with_options(timeout=...) or check the server; retrying with the same idempotency_key "
            "is safe."
        )
    return APIConnectionError(
        redact(
            f"Could not reach the BNPL API for {request.method} {request.path} after {tries}: "
            f"{type(exc).__name__}: {exc}. Check base_url and your network; retrying with the same "
            "idempotency_key is safe."
        )
    )


def log_attempt(request: APIRequest, status: int | str, request_id: str | None, elapsed: float, attempt: int) -> None:
    """One debug line per attempt; callers check ``logger.isEnabledFor(DEBUG)`` first to keep the hot path lean."""
    logger.debug(
        "%s %s -> %s request_id=%s elapsed_ms=%.1f attempt=%d",
        request.method,
        redact(request.path),
        status,
        request_id,
        elapsed * 1000.0,
        attempt,
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _short(value: object) -> str:
    text = repr(value)
    return redact(text if len(text) <= 40 else text[:37] + "...")


ParseFn = Callable[[httpx.Response], Any]
