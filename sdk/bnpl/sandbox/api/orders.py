"""``/v1/orders``: retrieve, capture, refund, void, amend, list."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from bnpl.models.orders import AmendParams, CaptureParams, OrderListParams, RefundParams, VoidParams
from bnpl.sandbox import service
from bnpl.sandbox.api._base import operation, parse_body, parse_query, state_of
from bnpl.sandbox.auth import Caller

router = APIRouter()


@router.get("/v1/orders/{id}", include_in_schema=False)
async def retrieve(request: Request) -> Response:
    """One order with its live schedule."""
    state = state_of(request)
    order_id = request.path_params["id"]
    return await operation(
        request, lambda caller, _b, _r: service.get_order(state.db, caller.merchant_id, order_id).model_dump_json()
    )


@router.post("/v1/orders/{id}/capture", include_in_schema=False)
async def capture(request: Request) -> Response:
    """Capture all or part of the authorization."""
    state = state_of(request)
    order_id = request.path_params["id"]

    def work(caller: Caller, body: bytes, rid: str) -> str:
        params = parse_body(CaptureParams, body, rid)
        return service.capture_order(state.db, caller.merchant_id, order_id, params, state.now()).model_dump_json()

    return await operation(request, work)


@router.post("/v1/orders/{id}/refund", include_in_schema=False)
async def refund(request: Request) -> Response:
    """Refund part or all of what was captured."""
    state = state_of(request)
    order_id = request.path_params["id"]

    def work(caller: Caller, body: bytes, rid: str) -> str:
        params = parse_body(RefundParams, body, rid)
        return service.refund_order(state.db, caller.merchant_id, order_id, params, state.now()).model_dump_json()

    return await operation(request, work)


@router.post("/v1/orders/{id}/void", include_in_schema=False)
async def void(request: Request) -> Response:
    """Release the uncaptured authorization."""
    state = state_of(request)
    order_id = request.path_params["id"]

    def work(caller: Caller, body: bytes, rid: str) -> str:
        parse_body(VoidParams, body, rid)
        return service.void_order(state.db, caller.merchant_id, order_id, state.now()).model_dump_json()

    return await operation(request, work)


@router.post("/v1/orders/{id}/amend", include_in_schema=False)
async def amend(request: Request) -> Response:
    """Lower the authorized amount."""
    state = state_of(request)
    order_id = request.path_params["id"]

    def work(caller: Caller, body: bytes, rid: str) -> str:
        params = parse_body(AmendParams, body, rid)
        return service.amend_order(state.db, caller.merchant_id, order_id, params, state.now()).model_dump_json()

    return await operation(request, work)


@router.get("/v1/orders", include_in_schema=False)
async def list_(request: Request) -> Response:
    """Newest first."""
    state = state_of(request)

    def work(caller: Caller, _body: bytes, rid: str) -> str:
        params = parse_query(OrderListParams, request, rid)
        return service.list_orders(state.db, caller.merchant_id, params).model_dump_json()

    return await operation(request, work)
