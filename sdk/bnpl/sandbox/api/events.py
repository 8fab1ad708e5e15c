"""``/v1/events``: the outbox, for reconciliation when webhooks were missed."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from bnpl.models.events import EventListParams
from bnpl.sandbox import service
from bnpl.sandbox.api._base import operation, parse_query, state_of
from bnpl.sandbox.auth import Caller

router = APIRouter()


@router.get("/v1/events", include_in_schema=False)
async def list_(request: Request) -> Response:
    """Newest first; filters ``types`` and ``object_id``."""
    state = state_of(request)

    def work(caller: Caller, _body: bytes, rid: str) -> str:
        return service.list_events_json(state.db, caller.merchant_id, parse_query(EventListParams, request, rid))

    return await operation(request, work)


@router.get("/v1/events/{id}", include_in_schema=False)
async def retrieve(request: Request) -> Response:
    """One event, exactly as delivered."""
    state = state_of(request)
    event_id = request.path_params["id"]
    return await operation(
        request, lambda caller, _b, _r: service.get_event_json(state.db, caller.merchant_id, event_id)
    )
