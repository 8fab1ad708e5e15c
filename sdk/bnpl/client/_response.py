"""``RawResponse``: the HTTP response behind a call, for callers who need headers (``with_raw_response``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import httpx

T = TypeVar("T")

_UNSET: Any = object()


class RawResponse(Generic[T]):
    """The HTTP response of a successful call; ``parse()`` gives the typed object (parsed once, then cached).

    Error statuses still raise the typed :mod:`bnpl.errors` exceptions; only 2xx responses come back raw.
    """

    __slots__ = ("_parsed", "_parser", "http_response")

    def __init__(self, http_response: httpx.Response, parser: Callable[[httpx.Response], T]) -> None:
        self.http_response = http_response
        self._parser = parser
        self._parsed: T = _UNSET

    @property
    def headers(self) -> httpx.Headers:
        """The response headers (case-insensitive)."""
        return self.http_response.headers

    @property
    def status_code(self) -> int:
        """The HTTP status code."""
        return self.http_response.status_code

    @property
    def request_id(self) -> str | None:
        """The server's ``Request-Id`` header."""
        request_id: str | None = self.http_response.headers.get("request-id")
        return request_id

    @property
    def content(self) -> bytes:
        """The raw body bytes."""
        return self.http_response.content

    def parse(self) -> T:
        """Validate the body into the call's typed result (raises ``APIResponseValidationError`` if malformed)."""
        if self._parsed is _UNSET:
            self._parsed = self._parser(self.http_response)
        return self._parsed

    def __repr__(self) -> str:
        return f"<RawResponse [{self.status_code}] request_id={self.request_id!r}>"
