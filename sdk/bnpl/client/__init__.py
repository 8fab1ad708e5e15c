"""The typed BNPL API client: :class:`Client` (sync) and :class:`AsyncClient` (async) over httpx.

Both share one request-building and response-parsing module (``_core``); they differ only in I/O
(``_transport``). Errors live in :mod:`bnpl.errors`.
"""

from __future__ import annotations

from bnpl.client._client import AsyncClient, AsyncClientWithRawResponse, Client, ClientWithRawResponse
from bnpl.client._config import API_KEY_ENV, BASE_URL_ENV, SANDBOX_BASE_URL
from bnpl.client._pagination import AsyncCursorPage, AsyncPaginator, SyncCursorPage
from bnpl.client._response import RawResponse

Page = SyncCursorPage
"""Alias of :class:`SyncCursorPage`."""

__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "SANDBOX_BASE_URL",
    "AsyncClient",
    "AsyncClientWithRawResponse",
    "AsyncCursorPage",
    "AsyncPaginator",
    "Client",
    "ClientWithRawResponse",
    "Page",
    "RawResponse",
    "SyncCursorPage",
]
