"""``client.events``: read the lender's events (the same objects the webhooks deliver)."""

from __future__ import annotations

from typing import Final, Unpack

import pydantic

from bnpl.client._base import AsyncResource, SyncResource, async_raw, raw
from bnpl.client._core import APIRequest, make_request, parse_with, path_id, validate_params
from bnpl.client._pagination import AsyncPaginator, SyncCursorPage
from bnpl.client._params import EventListArgs
from bnpl.models import ID_PREFIXES, Event, EventList, EventListParams

PATH = "/v1/events"
PREFIX = ID_PREFIXES["event"]

# Built once: validating the discriminated union needs a TypeAdapter (Event is not a single model class).
_EVENT: Final[pydantic.TypeAdapter[Event]] = pydantic.TypeAdapter(Event)


def _retrieve(event_id: str) -> APIRequest:
    return make_request("GET", f"{PATH}/{path_id(event_id, PREFIX)}")


class Events(SyncResource):
    """Events, newest first: use them to catch up when webhooks were missed."""

    __slots__ = ()

    def retrieve(self, event_id: str, /) -> Event:
        """Read one event (``GET /v1/events/{id}``); unknown types come back as ``UnknownEvent``."""
        request = _retrieve(event_id)
        return self._send(request, lambda response: parse_with(response, _EVENT, "Event", request))

    get = retrieve

    def list(self, params: EventListParams | None = None, /, **kwargs: Unpack[EventListArgs]) -> SyncCursorPage[Event]:
        """List events (filter by ``types`` or ``object_id``); iterate the page to walk every event."""
        return self._page(PATH, validate_params(EventListParams, params, dict(kwargs)), EventList)


class AsyncEvents(AsyncResource):
    """The async twin of :class:`Events`."""

    __slots__ = ()

    async def retrieve(self, event_id: str, /) -> Event:
        """Read one event (``GET /v1/events/{id}``); unknown types come back as ``UnknownEvent``."""
        request = _retrieve(event_id)
        return await self._send(request, lambda response: parse_with(response, _EVENT, "Event", request))

    get = retrieve

    def list(self, params: EventListParams | None = None, /, **kwargs: Unpack[EventListArgs]) -> AsyncPaginator[Event]:
        """List events: ``await`` for the first page, or ``async for`` over every event."""
        return self._page(PATH, validate_params(EventListParams, params, dict(kwargs)), EventList)


class EventsWithRawResponse:
    """``client.with_raw_response.events``."""

    def __init__(self, resource: Events) -> None:
        raw_mode = Events(resource._transport, raw=True)
        self.retrieve = raw(raw_mode.retrieve)
        self.get = self.retrieve
        self.list = raw(raw_mode.list)


class AsyncEventsWithRawResponse:
    """``client.with_raw_response.events`` on the async client."""

    def __init__(self, resource: AsyncEvents) -> None:
        raw_mode = AsyncEvents(resource._transport, raw=True)
        self.retrieve = async_raw(raw_mode.retrieve)
        self.get = self.retrieve
        self.list = async_raw(raw_mode.list)
