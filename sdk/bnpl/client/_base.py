"""Base classes of the resource namespaces: send a built request and parse the answer (or hand it back raw)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar, cast

import httpx

from bnpl.client._core import APIRequest, parse_model, query_from, request_id_of
from bnpl.client._pagination import AsyncCursorPage, AsyncPaginator, SyncCursorPage
from bnpl.client._response import RawResponse
from bnpl.client._transport import AsyncTransport, SyncTransport
from bnpl.models import ApiParams, ListResponse
from bnpl.models.common import ApiObject

T = TypeVar("T")
P = ParamSpec("P")
M = TypeVar("M", bound=ApiObject)
Item = TypeVar("Item")


def list_request(path: str, params: ApiParams) -> APIRequest:
    """A GET of one list page with the params as the query string."""
    return APIRequest("GET", path, query_from(params))


class SyncResource:
    """A namespace such as ``client.orders``; in raw mode its methods return :class:`RawResponse`."""

    __slots__ = ("_raw", "_transport")

    def __init__(self, transport: SyncTransport, *, raw: bool = False) -> None:
        self._transport = transport
        self._raw = raw

    def _send(self, request: APIRequest, parse: Callable[[httpx.Response], T]) -> T:
        response = self._transport.send(request)
        if self._raw:
            return cast(T, RawResponse(response, parse))
        return parse(response)

    def _model(self, request: APIRequest, model: type[M]) -> M:
        return self._send(request, lambda response: parse_model(response, model, request))

    def _page(self, path: str, params: ApiParams, list_model: type[ListResponse[Item]]) -> SyncCursorPage[Item]:
        request = list_request(path, params)
        transport = self._transport

        def fetch_next(cursor: str) -> SyncCursorPage[Item]:
            # Later pages are always parsed, even when the first page was asked for raw.
            following = params.model_copy(update={"starting_after": cursor})
            return SyncResource(transport)._page(path, following, list_model)

        def parse(response: httpx.Response) -> SyncCursorPage[Item]:
            page = parse_model(response, list_model, request)
            return SyncCursorPage(page.data, page.has_more, page.next_cursor, fetch_next, request_id_of(response))

        return self._send(request, parse)


class AsyncResource:
    """The async twin of :class:`SyncResource`."""

    __slots__ = ("_raw", "_transport")

    def __init__(self, transport: AsyncTransport, *, raw: bool = False) -> None:
        self._transport = transport
        self._raw = raw

    async def _send(self, request: APIRequest, parse: Callable[[httpx.Response], T]) -> T:
        response = await self._transport.send(request)
        if self._raw:
            return cast(T, RawResponse(response, parse))
        return parse(response)

    async def _model(self, request: APIRequest, model: type[M]) -> M:
        return await self._send(request, lambda response: parse_model(response, model, request))

    def _page(self, path: str, params: ApiParams, list_model: type[ListResponse[Item]]) -> AsyncPaginator[Item]:
        request = list_request(path, params)
        transport = self._transport

        async def fetch_next(cursor: str) -> AsyncCursorPage[Item]:
            following = params.model_copy(update={"starting_after": cursor})
            return await AsyncResource(transport)._page(path, following, list_model)

        def parse(response: httpx.Response) -> AsyncCursorPage[Item]:
            page = parse_model(response, list_model, request)
            return AsyncCursorPage(page.data, page.has_more, page.next_cursor, fetch_next, request_id_of(response))

        return AsyncPaginator(lambda: self._send(request, parse))


def raw(method: Callable[P, T]) -> Callable[P, RawResponse[T]]:
    """Type a raw-mode resource's bound method as returning ``RawResponse`` (it does at run time)."""
    return cast(Callable[P, RawResponse[T]], method)


def async_raw(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[RawResponse[T]]]:
    """The async twin of :func:`raw`."""
    return cast(Callable[P, Awaitable[RawResponse[T]]], method)


__all__ = ["AsyncResource", "SyncResource", "async_raw", "raw"]
