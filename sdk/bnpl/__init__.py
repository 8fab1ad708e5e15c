"""bnpl: a typed pay-later (先享后付, buy-now-pay-later) toolkit.

The public surface is re-exported here: money, plans and annual-rate disclosures, the API client and its
errors, and webhook verification. Submodules hold the details; import from ``bnpl`` in application code.
"""

from __future__ import annotations

__version__ = "0.1.0"

from bnpl.client import AsyncClient, AsyncCursorPage, Client, Page, RawResponse, SyncCursorPage
from bnpl.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIServerError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BNPLError,
    ConfigurationError,
    ConflictError,
    IdempotencyConflictError,
    InvalidParamsError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)
from bnpl.models import API_VERSION, Event, EventParseError, parse_event
from bnpl.money import Currency, Money, MoneyError
from bnpl.plans import (
    AnnualRateError,
    Disclosure,
    Instalment,
    Plan,
    PlanError,
    Pricing,
    annual_rate,
    build_plan,
)
from bnpl.webhooks import Webhook, WebhookHandler, WebhookVerificationError

__all__ = [
    "API_VERSION",
    "APIConnectionError",
    "APIResponseValidationError",
    "APIServerError",
    "APIStatusError",
    "APITimeoutError",
    "AnnualRateError",
    "AsyncClient",
    "AsyncCursorPage",
    "AuthenticationError",
    "BNPLError",
    "Client",
    "ConfigurationError",
    "ConflictError",
    "Currency",
    "Disclosure",
    "Event",
    "EventParseError",
    "IdempotencyConflictError",
    "Instalment",
    "InvalidParamsError",
    "InvalidRequestError",
    "Money",
    "MoneyError",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "Plan",
    "PlanError",
    "Pricing",
    "RateLimitError",
    "RawResponse",
    "SyncCursorPage",
    "Webhook",
    "WebhookHandler",
    "WebhookVerificationError",
    "__version__",
    "annual_rate",
    "build_plan",
    "parse_event",
]
