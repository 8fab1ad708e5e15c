"""The lender's webhooks for Oscar: verified on the raw body, de-duplicated, applied forward only."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction  # type: ignore[import-untyped]
from django.http import HttpResponse, HttpResponseNotAllowed  # type: ignore[import-untyped]
from django.views.decorators.csrf import csrf_exempt  # type: ignore[import-untyped]
from oscar.core.loading import get_model

from bnpl.models.checkouts import Checkout
from bnpl.models.orders import Order as LenderOrder
from bnpl.webhooks import RawBodyRequiredError, RetryLater, WebhookHandler
from bnpl.webhooks.raw_body.django import raw_body
from bnpl_oscar.conf import bnpl_settings
from bnpl_oscar.sync import advance_status, sync_amounts

__all__ = ["ORDER_EVENTS", "get_handler", "webhook"]

logger = logging.getLogger("bnpl.oscar")

ORDER_EVENTS = (
    "order.captured",
    "order.refunded",
    "order.voided",
    "order.authorization_expired",
    "order.paid_off",
    "order.instalment_paid",
    "order.instalment_overdue",
)
_CHECKOUT_EVENTS = ("checkout.approved", "checkout.declined", "checkout.canceled", "checkout.expired")

_handlers: dict[int, WebhookHandler] = {}


def get_handler() -> WebhookHandler:
    """The webhook handler for the current ``BNPL_OSCAR`` settings (built once per settings object)."""
    conf = bnpl_settings()
    handler = _handlers.get(id(conf))
    if handler is None:
        _handlers.clear()
        handler = WebhookHandler(conf.webhook, conf.store)
        handler.on(*ORDER_EVENTS)(_on_order_event)
        handler.on(*_CHECKOUT_EVENTS)(_on_checkout_event)
        _handlers[id(conf)] = handler
    return handler


def _locked_order(number: str) -> Any:
    return get_model("order", "Order").objects.select_for_update().filter(number=number).first()


def _on_order_event(event: Any) -> None:
    lender: LenderOrder = event.data if isinstance(event.data, LenderOrder) else event.data.order
    order = _locked_order(lender.merchant_reference)
    if order is None:
        raise RetryLater(f"no Oscar order {lender.merchant_reference} yet")
    source = order.sources.filter(reference=lender.id).first()
    if source is None:
        logger.warning("order %s has no pay-later source for %s: event %s ignored", order.number, lender.id, event.id)
        return
    sync_amounts(order, source, lender, reference=event.id)
    key = event.type
    if key == "order.refunded" and lender.amount_refunded < lender.amount_captured:
        key = "order.refunded.partial"
    advance_status(order, bnpl_settings().status_pipeline.get(key), f"bnpl: {event.type} ({event.id})")


def _on_checkout_event(event: Any) -> None:
    checkout: Checkout = event.data
    order = _locked_order(checkout.merchant_reference)
    if order is None:
        if checkout.status == "approved":
            # the order is placed when the customer comes back; until then ask the lender to retry
            raise RetryLater(f"order {checkout.merchant_reference} is not placed yet")
        return  # declined/canceled/expired: nothing was placed; the customer's return thaws the basket
    if checkout.status == "approved":
        advance_status(order, bnpl_settings().status_pipeline.get("checkout.approved"), f"bnpl: approved ({event.id})")


@csrf_exempt  # type: ignore[untyped-decorator]  # the lender cannot send a CSRF token; the signature replaces it
def webhook(request: Any) -> Any:
    """``POST`` from the lender: 200 applied/duplicate/stale, 400 bad signature, 503 retry later."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        body = raw_body(request)  # before anything touches request.POST
    except RawBodyRequiredError as exc:
        return HttpResponse(str(exc), status=500, content_type="text/plain")  # fix the middleware; lender retries
    with transaction.atomic():
        result = get_handler().handle(body, request.headers)
        if not result.ok:
            transaction.set_rollback(True)
    response = HttpResponse(result.body, status=result.status_code, content_type="application/json")
    for name, value in result.headers.items():
        response[name] = value
    return response
