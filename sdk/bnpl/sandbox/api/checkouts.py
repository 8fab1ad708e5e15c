"""``/v1/checkouts``: create (decision included), retrieve, cancel, list."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from bnpl.models.checkouts import CheckoutCancelParams, CheckoutCreateParams, CheckoutListParams
from bnpl.sandbox import service
from bnpl.sandbox.api._base import operation, parse_body, parse_query, state_of
from bnpl.sandbox.auth import Caller, hosted_token

router = APIRouter()


@router.post("/v1/checkouts", include_in_schema=False)
async def create(request: Request) -> Response:
    """Open a checkout (201)."""
    state = state_of(request)
    base = state.settings.base_url

    def approval_url(checkout_id: str) -> str:
        return f"{base}/hosted/checkouts/{checkout_id}?token={hosted_token(state.hosted_secret, checkout_id)}"

    def work(caller: Caller, body: bytes, rid: str) -> str:
        params = parse_body(CheckoutCreateParams, body, rid)
        checkout = service.create_checkout(
            state.db,
            caller.merchant_id,
            params,
            now=state.now(),
            approval_url_for=approval_url,
            test_clock_id=request.headers.get("bnpl-test-clock"),
        )
        return checkout.model_dump_json()

    return await operation(request, work, status=201)


@router.get("/v1/checkouts/{id}", include_in_schema=False)
async def retrieve(request: Request) -> Response:
    """One checkout."""
    state = state_of(request)
    checkout_id = request.path_params["id"]
    return await operation(
        request,
        lambda caller, _b, _r: service.get_checkout(state.db, caller.merchant_id, checkout_id).model_dump_json(),
    )


@router.post("/v1/checkouts/{id}/cancel", include_in_schema=False)
async def cancel(request: Request) -> Response:
    """Cancel an open checkout."""
    state = state_of(request)
    checkout_id = request.path_params["id"]

    def work(caller: Caller, body: bytes, rid: str) -> str:
        parse_body(CheckoutCancelParams, body, rid)
        return service.cancel_checkout(state.db, caller.merchant_id, checkout_id, state.now()).model_dump_json()

    return await operation(request, work)


@router.get("/v1/checkouts", include_in_schema=False)
async def list_(request: Request) -> Response:
    """Newest first."""
    state = state_of(request)

    def work(caller: Caller, _body: bytes, rid: str) -> str:
        params = parse_query(CheckoutListParams, request, rid)
        return service.list_checkouts(state.db, caller.merchant_id, params).model_dump_json()

    return await operation(request, work)
