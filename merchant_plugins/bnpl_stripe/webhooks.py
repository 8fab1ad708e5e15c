"""Both parties' webhooks into the one state machine: verify on the raw body, de-duplicate by event id,
move a side forward only (stale events are recorded and dropped), then let the saga take its next step.

Stripe's are verified by stripe-python (``stripe.Webhook.construct_event``), the lender's by ``bnpl.webhooks``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal

import stripe

import bnpl
from bnpl.models import Checkout, Order
from bnpl_stripe._parties import plain
from bnpl_stripe.errors import SagaError, TransientSagaError
from bnpl_stripe.states import lender_status_of_order

if TYPE_CHECKING:
    from bnpl_stripe.saga import DownPaymentSaga

__all__ = ["LENDER_EVENTS", "STRIPE_EVENTS", "WebhookResult", "handle_lender", "handle_stripe"]

log = logging.getLogger("bnpl_stripe")

STRIPE_EVENTS: Final[dict[str, str]] = {
    "payment_intent.amount_capturable_updated": "authorized",
    "payment_intent.succeeded": "captured",
    "payment_intent.payment_failed": "failed",
    "payment_intent.canceled": "canceled",
}
LENDER_EVENTS: Final[dict[str, str | None]] = {
    "checkout.approved": "authorized",
    "checkout.declined": "declined",
    "checkout.expired": "expired",
    "checkout.canceled": "canceled",
    "order.authorized": "authorized",
    "order.captured": None,  # from the order's status (a partial capture is still "captured")
    "order.voided": "voided",
}

Outcome = Literal["applied", "duplicate", "ignored", "unknown_saga", "invalid", "retry"]


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """What happened to a webhook; answer the sender with ``status_code``."""

    status_code: int
    outcome: Outcome
    event_id: str | None = None
    saga_id: str | None = None
    message: str = ""


def _now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def handle_stripe(saga: DownPaymentSaga, payload: bytes, signature_header: str | None) -> WebhookResult:
    """Verify and apply one Stripe webhook (see :meth:`DownPaymentSaga.handle_stripe_webhook`)."""
    secret = saga._stripe_secret
    if not secret:
        raise SagaError("set stripe_webhook_secret (whsec_… from the Stripe dashboard) to receive Stripe webhooks")
    try:
        event = stripe.Webhook.construct_event(payload, signature_header, secret)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        # ValueError: the verified body is not JSON. Never echo the payload or the secret.
        return WebhookResult(400, "invalid", message=f"{type(exc).__name__}: pass the raw request body")
    raw = plain(event)
    event_type = str(raw["type"])
    status = STRIPE_EVENTS.get(event_type)
    obj: Mapping[str, Any] = raw["data"]["object"]
    if status is None or obj.get("object") != "payment_intent":
        return WebhookResult(200, "ignored", raw["id"])
    metadata = obj.get("metadata") or {}
    found = saga.store.find(payment_intent_id=str(obj["id"]))
    if found is None and metadata.get("bnpl_saga_id"):
        found = saga.store.find(id=str(metadata["bnpl_saga_id"]))
    saga_id = found.id if found else None
    fresh = saga.store.apply_event(
        "stripe", str(raw["id"]), event_type, saga_id, _now_ms(), "card", status, payment_intent_id=str(obj["id"])
    )
    return _after(saga, str(raw["id"]), saga_id, fresh)


def handle_lender(saga: DownPaymentSaga, payload: bytes, headers: Mapping[str, str]) -> WebhookResult:
    """Verify and apply one lender webhook (see :meth:`DownPaymentSaga.handle_lender_webhook`)."""
    webhook = saga._lender_webhook
    if webhook is None:
        raise SagaError("set lender_webhook_secret (the whsec_… from webhook_endpoints.create) to receive its webhooks")
    try:
        event: Any = webhook.unwrap(payload, headers)
    except bnpl.WebhookVerificationError as exc:
        return WebhookResult(exc.status_code, "invalid", message=type(exc).__name__)
    except bnpl.EventParseError:
        return WebhookResult(400, "invalid", message="not a lender event")
    if event.type not in LENDER_EVENTS:
        return WebhookResult(200, "ignored", event.id)
    data = event.data
    ids: dict[str, str | None] = {}
    found = None
    if isinstance(data, Checkout):
        ids = {"checkout_id": data.id, "order_id": data.order_id}
        found = saga.store.find(checkout_id=data.id)
        if found is None and data.metadata.get("bnpl_saga_id"):
            found = saga.store.find(id=data.metadata["bnpl_saga_id"])
    elif isinstance(data, Order):
        ids = {"checkout_id": data.checkout_id, "order_id": data.id}
        found = saga.store.find(order_id=data.id) or saga.store.find(checkout_id=data.checkout_id)
    status = LENDER_EVENTS[event.type] or (lender_status_of_order(data.status) if isinstance(data, Order) else None)
    saga_id = found.id if found else None
    fresh = saga.store.apply_event("bnpl", event.id, event.type, saga_id, _now_ms(), "lender", status, **ids)
    return _after(saga, event.id, saga_id, fresh)


def _after(saga: DownPaymentSaga, event_id: str, saga_id: str | None, fresh: bool) -> WebhookResult:
    if saga_id is None:
        return WebhookResult(200, "unknown_saga", event_id, message="not a down-payment saga of this store")
    try:
        # Duplicates advance too: the first delivery may have been recorded just before a crash.
        saga._advance(saga_id)
    except TransientSagaError as exc:
        log.warning("saga %s: %s", saga_id, exc)
        return WebhookResult(503, "retry", event_id, saga_id, str(exc))
    return WebhookResult(200, "applied" if fresh else "duplicate", event_id, saga_id)
