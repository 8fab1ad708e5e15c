"""The hosted approval flow (sandbox): what the customer's browser calls after following ``approval_url``.

``GET /hosted/checkouts/{id}?token=…`` answers JSON (the checkout and the offered plans with schedules); when
the browser asks for HTML and a page renderer is installed (``SandboxState.hosted_renderer``), the page.
``POST …/confirm`` (form or JSON: ``plan`` index, ``key`` = the merchant's publishable key, ``token``) approves
and redirects (303) to ``return_url?checkout_id=…&status=approved``; ``POST …/cancel`` cancels and redirects
to ``cancel_url`` (or ``return_url``) with ``status=canceled``. The token is an HMAC of the checkout id with
the server's secret, so only the holder of the approval URL can act on the checkout.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bnpl.sandbox import service
from bnpl.sandbox.api._base import SandboxState, error_response, json_response, run_sync, state_of
from bnpl.sandbox.auth import AuthError, authenticate, verify_hosted_token
from bnpl.sandbox.service import ServiceError

router = APIRouter()


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


async def _form(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


def _authorise(state: SandboxState, checkout_id: str, token: str | None, key: str | None) -> str:
    """The merchant of the checkout, once the token (and the publishable key, if required) check out."""
    return _owner(state, checkout_id, token, key)[0]


def _owner(state: SandboxState, checkout_id: str, token: str | None, key: str | None) -> tuple[str, str | None]:
    """``(merchant, return_url)`` of the checkout, once the token (and the key, if given) check out."""
    owner = service.checkout_owner(state.db, checkout_id)
    if owner is None or not verify_hosted_token(state.hosted_secret, checkout_id, token):
        # Same answer for a missing checkout and a wrong token: the URL is the capability.
        raise ServiceError("This approval link is invalid or has been tampered with", code="invalid_token")
    if key is not None:
        caller = authenticate(state.db, f"Bearer {key}", secret_required=False)
        if caller.merchant_id != owner[0]:
            raise AuthError("permission_error", "key_mismatch", "This key does not belong to the checkout's merchant")
    return owner


def _failure(exc: Exception) -> Response:
    if isinstance(exc, AuthError):
        return error_response(exc.type, exc.message, code=exc.code)
    if not isinstance(exc, ServiceError):  # pragma: no cover - callers pass only these two kinds
        raise exc
    if exc.code == "invalid_token":
        return error_response("permission_error", exc.message, code=exc.code, status=403)
    return error_response(exc.type, exc.message, code=exc.code, param=exc.param)


@router.get("/hosted/checkouts/{id}", include_in_schema=False)
async def show(request: Request) -> Response:
    """The checkout and its offered plans (JSON), or the page (HTML, when a renderer is installed)."""
    state = state_of(request)
    checkout_id = request.path_params["id"]
    token = request.query_params.get("token")

    def work() -> Any:
        merchant = _authorise(state, checkout_id, token, None)
        return service.offered_plans(state.db, merchant, checkout_id)

    try:
        checkout, plans = await run_sync(state, work)
    except (ServiceError, AuthError) as exc:
        return _failure(exc)
    if state.hosted_renderer is not None and "text/html" in request.headers.get("accept", ""):
        response: Response = state.hosted_renderer(request, checkout, plans)
        return response
    body = json.dumps(
        {"checkout": checkout.model_dump(mode="json"), "plans": [p.to_json() for p in plans]}, ensure_ascii=False
    )
    return json_response(body)


@router.post("/hosted/checkouts/{id}/confirm", include_in_schema=False)
async def confirm(request: Request) -> Response:
    """Approve with plan ``plan`` (0-based) and redirect (303) to the merchant's return URL."""
    state = state_of(request)
    checkout_id = request.path_params["id"]
    form = await _form(request)
    token = str(form.get("token") or request.query_params.get("token") or "")
    key = str(form.get("key") or "")
    try:
        plan = int(form.get("plan", ""))
    except (TypeError, ValueError):
        return error_response(
            "invalid_request_error", "plan must be the index of an offered plan", code="parameter_invalid", param="plan"
        )
    if not key:
        return error_response(
            "authentication_error", "The merchant's publishable key (key=pk_test_…) is required", code="missing_api_key"
        )

    def work() -> str | None:
        merchant, return_url = _owner(state, checkout_id, token, key)
        service.approve_checkout(
            state.db,
            merchant,
            checkout_id,
            plan,
            state.now(),
            authorization_ttl_seconds=state.settings.authorization_ttl_seconds,
        )
        return return_url  # fixed at creation: no need to read the checkout again

    try:
        return_url = await run_sync(state, work)
    except (ServiceError, AuthError) as exc:
        return _failure(exc)
    target = _with_query(return_url or state.settings.base_url, checkout_id=checkout_id, status="approved")
    return RedirectResponse(target, status_code=303)


@router.post("/hosted/checkouts/{id}/cancel", include_in_schema=False)
async def cancel(request: Request) -> Response:
    """The customer gives up: cancel and redirect (303) to ``cancel_url`` (else ``return_url``)."""
    state = state_of(request)
    checkout_id = request.path_params["id"]
    form = await _form(request)
    token = str(form.get("token") or request.query_params.get("token") or "")
    key = str(form.get("key") or "")
    if not key:
        return error_response(
            "authentication_error", "The merchant's publishable key (key=pk_test_…) is required", code="missing_api_key"
        )

    def work() -> Any:
        merchant = _authorise(state, checkout_id, token, key)
        return service.cancel_checkout(state.db, merchant, checkout_id, state.now())

    try:
        checkout = await run_sync(state, work)
    except (ServiceError, AuthError) as exc:
        return _failure(exc)
    url = checkout.cancel_url or checkout.return_url or state.settings.base_url
    return RedirectResponse(_with_query(url, checkout_id=checkout_id, status="canceled"), status_code=303)
