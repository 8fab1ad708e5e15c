"""The error tree of the bnpl API client.

Every error the client raises is a :class:`BNPLError`. Catch the narrowest class that you can act on::

    BNPLError
    ├── ConfigurationError            the client was built wrongly (missing/unsafe key, base URL, TLS)
    ├── InvalidParamsError            an argument failed local validation; nothing was sent
    ├── APIConnectionError            the request never got an HTTP answer (DNS, refused, reset)
    │   └── APITimeoutError           ... because it timed out
    ├── APIResponseValidationError    the server answered something that is not the expected JSON
    └── APIStatusError                the server answered with an error status (4xx/5xx)
        ├── InvalidRequestError       400 / 422
        ├── AuthenticationError       401
        ├── PermissionDeniedError     403
        ├── NotFoundError             404
        ├── ConflictError             409
        │   └── IdempotencyConflictError   an Idempotency-Key was reused with a different request
        ├── RateLimitError            429
        └── APIServerError            5xx

Messages end with what to do next. No message, repr or attribute ever contains the API key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIServerError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BNPLError",
    "ConfigurationError",
    "ConflictError",
    "IdempotencyConflictError",
    "InvalidParamsError",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
]


class BNPLError(Exception):
    """Root of every error raised by the bnpl API client.

    ``request_id`` is the server's ``Request-Id`` for the failing call when there was an HTTP answer, else None.
    Quote it when you contact support.
    """

    message: str
    request_id: str | None

    def __init__(self, message: str, *, request_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request_id = request_id

    def __str__(self) -> str:
        if self.request_id:
            return f"{self.message} (request id: {self.request_id})"
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, request_id={self.request_id!r})"


class ConfigurationError(BNPLError, ValueError):
    """The client was constructed with a missing, unsafe or malformed setting. Nothing was sent."""


class InvalidParamsError(BNPLError, ValueError):
    """An argument failed local validation against the params model; no request was sent.

    ``param`` names the offending argument (dotted for nested fields, e.g. ``items.0.amount``).
    """

    param: str | None

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class APIConnectionError(BNPLError):
    """The request got no HTTP answer (connection refused or reset, DNS failure, TLS failure).

    Raised after the client's retries are exhausted. Mutating calls carried an Idempotency-Key, so retrying the same
    call with the same ``idempotency_key=`` is safe.
    """


class APITimeoutError(APIConnectionError):
    """The request timed out (after the client's retries). Raise ``timeout=`` or check the server's health."""


class APIResponseValidationError(BNPLError):
    """The server answered, but not with the JSON shape the client expected (an HTML proxy page, a truncated body,
    a field of the wrong type). ``expected`` names what was expected and ``body_preview`` holds the first bytes
    received."""

    status_code: int
    expected: str
    body_preview: str

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        expected: str,
        body_preview: str,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id)
        self.status_code = status_code
        self.expected = expected
        self.body_preview = body_preview


class APIStatusError(BNPLError):
    """The server answered with an error status. Fields mirror the error body
    ``{"error": {"type", "code", "message", "param", "request_id"}}``; ``body`` is the decoded JSON (or None when
    the body was not JSON) and ``headers`` the response headers."""

    status_code: int
    body: object
    type: str | None
    code: str | None
    param: str | None
    headers: Mapping[str, str]

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        request_id: str | None = None,
        body: object = None,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id)
        self.status_code = status_code
        self.body = body
        self.type = type
        self.code = code
        self.param = param
        self.headers = dict(headers) if headers is not None else {}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status_code={self.status_code}, "
            f"code={self.code!r}, param={self.param!r}, request_id={self.request_id!r})"
        )


class InvalidRequestError(APIStatusError):
    """400/422: the server rejected the request's content; ``param`` names the field. Fix it and send again."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, revoked or for the wrong environment. Check BNPL_API_KEY."""


class PermissionDeniedError(APIStatusError):
    """403: the key is valid but not allowed to do this. Use a key with the needed permission."""


class NotFoundError(APIStatusError):
    """404: no such object (or it belongs to another account or mode). Check the id and the key's mode."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the object's current state (e.g. capturing a voided order)."""


class IdempotencyConflictError(ConflictError):
    """409: an Idempotency-Key was reused with a different request body or path. Never retried.
    Use a fresh key for a new operation; reuse a key only to retry the very same request."""


class RateLimitError(APIStatusError):
    """429: too many requests. ``retry_after`` is the server's requested wait in seconds, when it sent one."""

    retry_after: float | None

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class APIServerError(APIStatusError):
    """5xx: the server failed. Retried automatically; if it persists, retry later with the same idempotency key."""
