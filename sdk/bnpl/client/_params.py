"""Keyword-argument types of the client's methods, mirroring the params models in :mod:`bnpl.models`.

They give editors and mypy the argument names and types; the params models stay the single source of truth
for validation (every call is validated by its model before anything is sent, so a missing required field is
an ``InvalidParamsError``). ``tests/client/test_params_sync.py`` fails when a model gains or loses a field
that is not mirrored here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from bnpl.models import (
    AlternativeData,
    CheckoutStatus,
    CustomerInfo,
    ItemCategory,
    LineItem,
    OrderStatus,
    PlanFilter,
    Product,
    RefundReason,
    TravelDetails,
)

#: A nested params object: the model instance, or a plain mapping of its fields.
LineItemArg = LineItem | Mapping[str, Any]
CustomerArg = CustomerInfo | Mapping[str, Any]


class PrequalificationCreateArgs(TypedDict, total=False):
    """``client.prequalifications.create(...)``; required: customer, amount, currency."""

    customer: CustomerArg
    amount: int
    currency: str
    category: ItemCategory | None


class PlanQuoteArgs(TypedDict, total=False):
    """``client.plans.quote(...)``; required: amount, currency."""

    amount: int
    currency: str
    products: Sequence[Product] | None
    periods: Sequence[int] | None
    merchant_subsidy_percent: int
    start_date: dt.date | None


class CheckoutCreateArgs(TypedDict, total=False):
    """``client.checkouts.create(...)``; required: merchant_reference, amount, currency, items, return_url."""

    merchant_reference: str
    amount: int
    currency: str
    items: Sequence[LineItemArg]
    travel: TravelDetails | Mapping[str, Any] | None
    customer: CustomerArg | None
    merchant_subsidy_percent: int | None
    promotion_code: str | None
    allowed_plans: Sequence[PlanFilter | Mapping[str, Any]] | None
    return_url: str
    cancel_url: str | None
    expires_in_seconds: int | None
    expires_at: dt.datetime | None
    metadata: Mapping[str, str]


class CheckoutCancelArgs(TypedDict, total=False):
    """``client.checkouts.cancel(id, ...)``."""

    reason: str | None


class CheckoutListArgs(TypedDict, total=False):
    """``client.checkouts.list(...)``."""

    status: CheckoutStatus | None
    limit: int
    starting_after: str | None


class CaptureArgs(TypedDict, total=False):
    """``client.orders.capture(id, ...)``; omit amount to capture everything still capturable."""

    amount: int | None
    reference: str | None
    final_capture: bool


class RefundArgs(TypedDict, total=False):
    """``client.orders.refund(id, ...)``; required: amount."""

    amount: int
    reason: RefundReason
    reference: str | None


class VoidArgs(TypedDict, total=False):
    """``client.orders.void(id, ...)``."""

    reason: str | None


class AmendArgs(TypedDict, total=False):
    """``client.orders.amend(id, ...)``; required: new_amount, reason."""

    new_amount: int
    items: Sequence[LineItemArg] | None
    currency: str | None
    reason: str


class OrderListArgs(TypedDict, total=False):
    """``client.orders.list(...)``."""

    status: OrderStatus | None
    customer_id: str | None
    created_gte: dt.datetime | None
    created_lte: dt.datetime | None
    limit: int
    starting_after: str | None


class EventListArgs(TypedDict, total=False):
    """``client.events.list(...)``."""

    types: Sequence[str] | None
    object_id: str | None
    starting_after: str | None
    limit: int


class WebhookEndpointCreateArgs(TypedDict, total=False):
    """``client.webhook_endpoints.create(...)``; required: url, enabled_events."""

    url: str
    enabled_events: Sequence[str]
    description: str | None
    encrypt_pii: bool
    metadata: Mapping[str, str]


class WebhookEndpointListArgs(TypedDict, total=False):
    """``client.webhook_endpoints.list(...)``."""

    limit: int
    starting_after: str | None


class RotateSecretArgs(TypedDict, total=False):
    """``client.webhook_endpoints.rotate_secret(id, ...)``."""

    expire_current_in_seconds: int


class TestClockCreateArgs(TypedDict, total=False):
    """``client.test_clocks.create(...)``; required: frozen_time."""

    frozen_time: dt.datetime
    name: str | None


class TestClockAdvanceArgs(TypedDict, total=False):
    """``client.test_clocks.advance(id, ...)``; required: frozen_time."""

    frozen_time: dt.datetime


__all__ = [
    "AlternativeData",
    "AmendArgs",
    "CaptureArgs",
    "CheckoutCancelArgs",
    "CheckoutCreateArgs",
    "CheckoutListArgs",
    "EventListArgs",
    "OrderListArgs",
    "PlanQuoteArgs",
    "PrequalificationCreateArgs",
    "RefundArgs",
    "RotateSecretArgs",
    "TestClockAdvanceArgs",
    "TestClockCreateArgs",
    "VoidArgs",
    "WebhookEndpointCreateArgs",
    "WebhookEndpointListArgs",
]
