"""HTTP routes of the hosted approval page: ``GET /pay/{id}?token=…`` (HTML) and ``POST /pay/{id}`` (the form).

The domain work is the core's: the token is checked with :func:`bnpl.sandbox.auth.verify_hosted_token`, the
checkout and its offers come from :func:`bnpl.sandbox.service.offered_plans`, and the customer's choice goes
through :func:`~bnpl.sandbox.service.approve_checkout` / :func:`~bnpl.sandbox.service.cancel_checkout`, the
same functions behind the JSON ``/hosted/checkouts/{id}`` routes. The token (an HMAC of the checkout id) is the
capability: an unknown checkout and a wrong token get the same 404 page, so nothing about any checkout leaks.

:func:`hosted_renderer` plugs the page into the core's ``GET /hosted/checkouts/{id}`` (``SandboxState.
hosted_renderer``) for browsers asking for HTML, so the ``approval_url`` the API hands out opens the page.
:func:`install` does both wirings on an app.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bnpl.models import Checkout, LineItem, TravelDetails
from bnpl.sandbox import service
from bnpl.sandbox.api._base import SandboxState, request_id, run_sync, state_of
from bnpl.sandbox.auth import verify_hosted_token
from bnpl.sandbox.db import Database
from bnpl.sandbox.pages.i18n import PageLocale, messages, negotiate_locale
from bnpl.sandbox.pages.render import (
    content_security_policy,
    merchant_return_url,
    render_approval_page,
    render_not_found_page,
    render_result_page,
)
from bnpl.sandbox.service import ConflictError, InvalidRequestError, OfferedPlan

__all__ = ["MAX_FORM_BYTES", "hosted_renderer", "install", "router"]

MAX_FORM_BYTES: Final = 8 * 1024
"""The approval form is four short fields; anything larger is refused unread."""

router = APIRouter()


def _headers(locale: PageLocale, form_targets: Sequence[str | None] = ()) -> dict[str, str]:
    # no-store and no-referrer: the URL carries the checkout's token, which must not end up in caches or in
    # the Referer sent to other sites.
    return {
        "Content-Security-Policy": content_security_policy([t for t in form_targets if t]),
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Content-Language": locale,
        "Request-Id": request_id(),
    }


def _html(body: str, locale: PageLocale, status: int = 200, checkout: Checkout | None = None) -> HTMLResponse:
    targets = (checkout.return_url, checkout.cancel_url) if checkout is not None else ()
    return HTMLResponse(body, status_code=status, headers=_headers(locale, targets))


def _not_found(locale: PageLocale) -> HTMLResponse:
    return _html(render_not_found_page(locale=locale), locale, 404)


def _locale(request: Request, lang: str | None = None) -> PageLocale:
    return negotiate_locale(lang or request.query_params.get("lang"), request.headers.get("accept-language"))


def _merchant(state: SandboxState, checkout_id: str, token: str | None) -> str | None:
    """The checkout's merchant if the token is right; None for a wrong token or unknown checkout alike."""
    if not token or len(checkout_id) > 64 or not checkout_id.startswith("chk_"):
        return None
    merchant = service.checkout_merchant(state.db, checkout_id)
    if merchant is None or not verify_hosted_token(state.hosted_secret, checkout_id, token):
        return None
    return merchant


def _basket(db: Database, merchant_id: str, checkout_id: str) -> tuple[list[LineItem], TravelDetails | None]:
    """The items and itinerary of the checkout's create request (the ``Checkout`` object omits them)."""
    with db.transaction(readonly=True) as tx:
        row = tx.fetchone("SELECT request FROM checkouts WHERE id = ? AND merchant_id = ?", (checkout_id, merchant_id))
    if row is None:
        return [], None
    try:
        stored = json.loads(row["request"])
        items = [LineItem.model_validate(item) for item in stored.get("items") or []]
        travel = TravelDetails.model_validate(stored["travel"]) if stored.get("travel") else None
    except (ValueError, ValidationError, TypeError, AttributeError):
        # The page can still be shown without the basket; the amount and plans are what the customer approves.
        return [], None
    return items, travel


def _page(
    state: SandboxState,
    merchant_id: str,
    checkout: Checkout,
    plans: Sequence[OfferedPlan],
    *,
    locale: PageLocale,
    token: str,
    error: str | None = None,
    selected: int = 0,
    status: int = 200,
) -> HTMLResponse:
    """The approval page of an open checkout, or the outcome page of a closed one."""
    if checkout.status != "open" or not plans:
        state_shown = checkout.status if checkout.status != "open" else "expired"
        body = render_result_page(checkout=checkout, locale=locale, state=state_shown, message=error)
        return _html(body, locale, status, checkout)
    items, travel = _basket(state.db, merchant_id, checkout.id)
    body = render_approval_page(
        checkout=checkout,
        offers=[plan.quote for plan in plans],
        locale=locale,
        token=token,
        items=items,
        travel=travel,
        error=error,
        selected=selected if 0 <= selected < len(plans) else 0,
    )
    return _html(body, locale, status, checkout)


def hosted_renderer(request: Request, checkout: Checkout, plans: list[OfferedPlan]) -> Response:
    """The seam for the core's ``GET /hosted/checkouts/{id}`` (token already verified there): the page."""
    state = state_of(request)
    merchant = service.checkout_merchant(state.db, checkout.id)
    if merchant is None:  # deleted between the core's lookup and now; answer like any unknown checkout
        return _not_found(_locale(request))
    token = request.query_params.get("token") or ""
    return _page(state, merchant, checkout, plans, locale=_locale(request), token=token)


@router.get("/pay/{checkout_id}", include_in_schema=False)
async def show_page(request: Request) -> Response:
    """The approval page (or the outcome page once the checkout is closed); 404 page for a bad link."""
    state = state_of(request)
    checkout_id = request.path_params["checkout_id"]
    token = request.query_params.get("token")
    locale = _locale(request)

    def work() -> Response:
        merchant = _merchant(state, checkout_id, token)
        if merchant is None:
            return _not_found(locale)
        checkout, plans = service.offered_plans(state.db, merchant, checkout_id)
        return _page(state, merchant, checkout, plans, locale=locale, token=token or "")

    response: Response = await run_sync(state, work)
    return response


async def _form(request: Request) -> dict[str, str] | None:
    """The urlencoded form (first value per field), or None if it is too large."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_FORM_BYTES):
        return None
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_FORM_BYTES:
            return None
    fields: dict[str, str] = {}
    for key, value in parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True):
        fields.setdefault(key, value)
    return fields


def _redirect(url: str | None, checkout: Checkout, status: str, locale: PageLocale) -> Response:
    target = merchant_return_url(url, checkout_id=checkout.id, status=status)
    if target is None:  # no usable merchant URL: show the outcome here instead
        return _html(render_result_page(checkout=checkout, locale=locale), locale, 200, checkout)
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store", "Request-Id": request_id()})


@router.post("/pay/{checkout_id}", include_in_schema=False)
async def submit(request: Request) -> Response:
    """The form: ``token``, ``plan`` (0-based index), ``action`` = ``confirm`` | ``cancel``, ``lang``.

    confirm → :func:`~bnpl.sandbox.service.approve_checkout`, 303 to ``return_url?checkout_id=…&status=approved``;
    cancel → :func:`~bnpl.sandbox.service.cancel_checkout`, 303 to ``cancel_url`` (else ``return_url``) with
    ``status=canceled``. A checkout that is no longer open (expired, declined, already approved) answers its
    outcome page (409); a missing plan re-shows the page with the error (400).
    """
    state = state_of(request)
    checkout_id = request.path_params["checkout_id"]
    form = await _form(request)
    if form is None:
        locale = _locale(request)
        return _html(render_not_found_page(locale=locale), locale, 413)
    locale = _locale(request, form.get("lang"))
    token = form.get("token", "")
    action = form.get("action", "")
    msg = messages(locale)

    def work() -> Response:
        merchant = _merchant(state, checkout_id, token)
        if merchant is None:
            return _not_found(locale)

        def current(status: int, error: str | None = None, selected: int = 0) -> Response:
            checkout, plans = service.offered_plans(state.db, merchant, checkout_id)
            return _page(
                state,
                merchant,
                checkout,
                plans,
                locale=locale,
                token=token,
                error=error,
                selected=selected,
                status=status,
            )

        if action == "cancel":
            try:
                checkout = service.cancel_checkout(state.db, merchant, checkout_id, state.now())
            except ConflictError:
                return current(409)
            return _redirect(checkout.cancel_url or checkout.return_url, checkout, "canceled", locale)
        if action != "confirm":
            return current(400, msg["error_choose_plan"])
        plan_text = form.get("plan", "")
        if not plan_text.isdigit() or len(plan_text) > 4:
            return current(400, msg["error_choose_plan"])
        plan = int(plan_text)
        try:
            service.approve_checkout(
                state.db,
                merchant,
                checkout_id,
                plan,
                state.now(),
                authorization_ttl_seconds=state.settings.authorization_ttl_seconds,
            )
        except InvalidRequestError:
            return current(400, msg["error_choose_plan"])
        except ConflictError:
            return current(409)
        checkout = service.get_checkout(state.db, merchant, checkout_id)
        return _redirect(checkout.return_url, checkout, "approved", locale)

    response: Response = await run_sync(state, work)
    return response


def install(app: FastAPI) -> None:
    """Mount the page on a sandbox app: the ``/pay`` routes, and the HTML answer of ``GET /hosted/…``."""
    sandbox: Any = getattr(app.state, "sandbox", None)
    if sandbox is None:
        raise RuntimeError("install() needs an app made by bnpl.sandbox.create_app (app.state.sandbox is missing)")
    # Idempotent, so wiring it in create_app and again in a test fixture is harmless.
    if not any(getattr(route, "path", None) == "/pay/{checkout_id}" for route in app.routes):
        app.include_router(router)
    sandbox.hosted_renderer = hosted_renderer
