"""``/v1/prequalifications`` and ``/v1/plan_quotes``: decisions and prices before a checkout."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from bnpl.models.customers import PrequalificationCreateParams
from bnpl.models.plans import PlanQuoteParams
from bnpl.sandbox import service
from bnpl.sandbox.api._base import operation, parse_body, state_of
from bnpl.sandbox.auth import Caller

router = APIRouter()


@router.post("/v1/prequalifications", include_in_schema=False)
async def prequalify(request: Request) -> Response:
    """Pre-assess a customer."""
    state = state_of(request)

    def work(caller: Caller, body: bytes, rid: str) -> str:
        params = parse_body(PrequalificationCreateParams, body, rid)
        return service.prequalify(
            state.db, caller.merchant_id, params, state.now(), ttl_seconds=state.settings.prequalification_ttl_seconds
        ).model_dump_json()

    return await operation(request, work)


@router.post("/v1/plan_quotes", include_in_schema=False)
async def plan_quotes(request: Request) -> Response:
    """Quote the public price list for an amount."""
    state = state_of(request)

    def work(_caller: Caller, body: bytes, rid: str) -> str:
        params = parse_body(PlanQuoteParams, body, rid)
        return service.standard_quotes(params, state.now().date()).model_dump_json()

    return await operation(request, work)
