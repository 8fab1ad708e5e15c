"""``/v1/webhook_endpoints``: create, list, delete, rotate the secret."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from bnpl.models.webhook_endpoints import RotateSecretParams, WebhookEndpointCreateParams, WebhookEndpointListParams
from bnpl.sandbox import service
from bnpl.sandbox.api._base import operation, parse_body, parse_query, state_of
from bnpl.sandbox.auth import Caller

router = APIRouter()


@router.post("/v1/webhook_endpoints", include_in_schema=False)
async def create(request: Request) -> Response:
    """Register an endpoint (201); the answer carries its secret."""
    state = state_of(request)

    def work(caller: Caller, body: bytes, rid: str) -> str:
        params = parse_body(WebhookEndpointCreateParams, body, rid)
        return service.create_endpoint(state.db, caller.merchant_id, params, state.now()).model_dump_json()

    return await operation(request, work, status=201)


@router.get("/v1/webhook_endpoints", include_in_schema=False)
async def list_(request: Request) -> Response:
    """Newest first."""
    state = state_of(request)

    def work(caller: Caller, _body: bytes, rid: str) -> str:
        params = parse_query(WebhookEndpointListParams, request, rid)
        return service.list_endpoints(state.db, caller.merchant_id, params).model_dump_json()

    return await operation(request, work)


@router.delete("/v1/webhook_endpoints/{id}", include_in_schema=False)
async def delete(request: Request) -> Response:
    """Delete an endpoint."""
    state = state_of(request)
    endpoint_id = request.path_params["id"]
    return await operation(
        request,
        lambda caller, _b, _r: service.delete_endpoint(
            state.db, caller.merchant_id, endpoint_id, state.now()
        ).model_dump_json(),
    )


@router.post("/v1/webhook_endpoints/{id}/rotate_secret", include_in_schema=False)
async def rotate_secret(request: Request) -> Response:
    """Rotate the signing secret."""
    state = state_of(request)
    endpoint_id = request.path_params["id"]

    def work(caller: Caller, body: bytes, rid: str) -> str:
        params = parse_body(RotateSecretParams, body, rid)
        return service.rotate_endpoint_secret(
            state.db, caller.merchant_id, endpoint_id, params, state.now()
        ).model_dump_json()

    return await operation(request, work)
