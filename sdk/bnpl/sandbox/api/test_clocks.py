"""``/v1/test_clocks`` (sandbox only): create, retrieve, advance."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from bnpl.models.test_clocks import TestClockAdvanceParams, TestClockCreateParams
from bnpl.sandbox import service
from bnpl.sandbox.api._base import operation, parse_body, state_of
from bnpl.sandbox.auth import Caller

router = APIRouter()


@router.post("/v1/test_clocks", include_in_schema=False)
async def create(request: Request) -> Response:
    """Create a clock (201)."""
    state = state_of(request)

    def work(caller: Caller, body: bytes, rid: str) -> str:
        params = parse_body(TestClockCreateParams, body, rid)
        return service.create_clock(state.db, caller.merchant_id, params, state.now()).model_dump_json()

    return await operation(request, work, status=201)


@router.get("/v1/test_clocks/{id}", include_in_schema=False)
async def retrieve(request: Request) -> Response:
    """One clock."""
    state = state_of(request)
    clock_id = request.path_params["id"]
    return await operation(
        request, lambda caller, _b, _r: service.get_clock(state.db, caller.merchant_id, clock_id).model_dump_json()
    )


@router.post("/v1/test_clocks/{id}/advance", include_in_schema=False)
async def advance(request: Request) -> Response:
    """Move the clock forward; its objects live through the interval."""
    state = state_of(request)
    clock_id = request.path_params["id"]

    def work(caller: Caller, body: bytes, rid: str) -> str:
        params = parse_body(TestClockAdvanceParams, body, rid)
        return service.advance_clock(state.db, caller.merchant_id, clock_id, params).model_dump_json()

    return await operation(request, work)
