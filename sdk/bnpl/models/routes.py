"""The route table: one declarative entry per API operation, shared by the client, the sandbox lender and
the OpenAPI generator so the three can never disagree."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final, Literal
from urllib.parse import quote

from pydantic import BaseModel, TypeAdapter

from bnpl.models.checkouts import (
    Checkout,
    CheckoutCancelParams,
    CheckoutCreateParams,
    CheckoutList,
    CheckoutListParams,
)
from bnpl.models.common import ID_PREFIXES, DeletedObject
from bnpl.models.customers import Prequalification, PrequalificationCreateParams
from bnpl.models.events import Event, EventList, EventListParams
from bnpl.models.orders import (
    AmendParams,
    CaptureParams,
    Order,
    OrderList,
    OrderListParams,
    RefundParams,
    VoidParams,
)
from bnpl.models.plans import PlanQuoteList, PlanQuoteParams
from bnpl.models.test_clocks import TestClock, TestClockAdvanceParams, TestClockCreateParams
from bnpl.models.webhook_endpoints import (
    RotateSecretParams,
    WebhookEndpointCreateParams,
    WebhookEndpointList,
    WebhookEndpointListParams,
    WebhookEndpointWithSecret,
)

__all__ = ["ROUTES", "ROUTES_BY_ID", "HttpMethod", "Route", "RouteError", "encode_query"]

HttpMethod = Literal["GET", "POST", "DELETE"]

_PARAM = re.compile(r"\{([a-z_]+)\}")


class RouteError(ValueError):
    """A path parameter is missing or malformed (e.g. an order id where a checkout id belongs)."""


@dataclass(frozen=True, slots=True)
class Route:
    """One operation of the API.

    ``body`` is the JSON request model (POST), ``query`` the query-string model (GET lists); at most one is
    set. ``response`` is what a 2xx answer parses into (a model class, or the :data:`Event` union), and
    ``response_adapter.validate_json(body)`` parses it. ``id_prefix`` is the prefix the ``{id}`` path
    parameter must carry. ``idempotent`` means the client sends an ``Idempotency-Key`` (every POST).
    """

    operation_id: str
    method: HttpMethod
    path: str
    response: Any
    summary: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    id_prefix: str | None = None
    status_code: int = 200
    idempotent: bool = False
    body_required: bool = True
    path_params: tuple[str, ...] = field(init=False)
    response_adapter: TypeAdapter[Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path_params", tuple(_PARAM.findall(self.path)))
        object.__setattr__(self, "response_adapter", TypeAdapter(self.response))
        if self.body is not None and self.query is not None:
            raise ValueError(f"{self.operation_id}: a route has a body or a query model, not both")

    @property
    def resource(self) -> str:
        """The client namespace: ``"checkouts"`` for ``"checkouts.create"``."""
        return self.operation_id.split(".", 1)[0]

    @property
    def action(self) -> str:
        """The client method: ``"create"`` for ``"checkouts.create"``."""
        return self.operation_id.split(".", 1)[1]

    def path_for(self, **params: str) -> str:
        """Fill the path template, checking each id (prefix and characters) and URL-quoting it.

        Raises :class:`RouteError` on a missing, extra or malformed parameter.
        """
        expected = set(self.path_params)
        if set(params) != expected:
            raise RouteError(f"{self.operation_id} needs path parameters {sorted(expected)}, got {sorted(params)}")
        for name, value in params.items():
            if not isinstance(value, str) or not value:
                raise RouteError(f"{self.operation_id}: {name} must be a non-empty string")
            if self.id_prefix and not re.fullmatch(rf"{re.escape(self.id_prefix)}[A-Za-z0-9]{{1,64}}", value):
                raise RouteError(
                    f"{self.operation_id}: {name} must look like {self.id_prefix}... "
                    f"(letters and digits), got {value[:80]!r}"
                )
        return _PARAM.sub(lambda m: quote(params[m.group(1)], safe=""), self.path)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def encode_query(params: BaseModel) -> list[tuple[str, str]]:
    """Encode a query model as ``(name, value)`` pairs: unset/None fields are omitted, lists repeat the
    name (``types=a&types=b``), booleans are ``true``/``false``, timestamps ISO 8601."""
    pairs: list[tuple[str, str]] = []
    for name, value in params.model_dump(exclude_none=True).items():
        if isinstance(value, list | tuple):
            pairs.extend((name, _query_value(item)) for item in value)
        else:
            pairs.append((name, _query_value(value)))
    return pairs


_P = ID_PREFIXES

ROUTES: Final[tuple[Route, ...]] = (
    Route("prequalifications.create", "POST", "/v1/prequalifications", Prequalification,
          "Pre-assess a customer: eligibility, order-amount range and offered plans",
          body=PrequalificationCreateParams, idempotent=True),
    Route("plan_quotes.create", "POST", "/v1/plan_quotes", PlanQuoteList,
          "Quote priced instalment plans with schedules and annual-rate disclosures",
          body=PlanQuoteParams, idempotent=True),
    Route("checkouts.create", "POST", "/v1/checkouts", Checkout,
          "Open a checkout and get the customer's approval_url",
          body=CheckoutCreateParams, idempotent=True, status_code=201),
    Route("checkouts.retrieve", "GET", "/v1/checkouts/{id}", Checkout, "Retrieve a checkout",
          id_prefix=_P["checkout"]),
    Route("checkouts.cancel", "POST", "/v1/checkouts/{id}/cancel", Checkout, "Cancel an open checkout",
          body=CheckoutCancelParams, id_prefix=_P["checkout"], idempotent=True, body_required=False),
    Route("checkouts.list", "GET", "/v1/checkouts", CheckoutList, "List checkouts, newest first",
          query=CheckoutListParams),
    Route("orders.retrieve", "GET", "/v1/orders/{id}", Order, "Retrieve an order",
          id_prefix=_P["order"]),
    Route("orders.capture", "POST", "/v1/orders/{id}/capture", Order,
          "Capture all or part of the authorization",
          body=CaptureParams, id_prefix=_P["order"], idempotent=True, body_required=False),
    Route("orders.refund", "POST", "/v1/orders/{id}/refund", Order, "Refund part or all of what was captured",
          body=RefundParams, id_prefix=_P["order"], idempotent=True),
    Route("orders.void", "POST", "/v1/orders/{id}/void", Order, "Release the uncaptured authorization",
          body=VoidParams, id_prefix=_P["order"], idempotent=True, body_required=False),
    Route("orders.amend", "POST", "/v1/orders/{id}/amend", Order, "Lower the authorized amount",
          body=AmendParams, id_prefix=_P["order"], idempotent=True),
    Route("orders.list", "GET", "/v1/orders", OrderList, "List orders, newest first", query=OrderListParams),
    Route("events.list", "GET", "/v1/events", EventList, "List events, newest first", query=EventListParams),
    Route("events.retrieve", "GET", "/v1/events/{id}", Event, "Retrieve an event",
          id_prefix=_P["event"]),
    Route("webhook_endpoints.create", "POST", "/v1/webhook_endpoints", WebhookEndpointWithSecret,
          "Register a webhook endpoint; the response carries its signing secret, shown once",
          body=WebhookEndpointCreateParams, idempotent=True, status_code=201),
    Route("webhook_endpoints.list", "GET", "/v1/webhook_endpoints", WebhookEndpointList,
          "List webhook endpoints", query=WebhookEndpointListParams),
    Route("webhook_endpoints.delete", "DELETE", "/v1/webhook_endpoints/{id}", DeletedObject,
          "Delete a webhook endpoint", id_prefix=_P["webhook_endpoint"]),
    Route("webhook_endpoints.rotate_secret", "POST", "/v1/webhook_endpoints/{id}/rotate_secret",
          WebhookEndpointWithSecret, "Rotate the signing secret, keeping the old one valid for a while",
          body=RotateSecretParams, id_prefix=_P["webhook_endpoint"], idempotent=True, body_required=False),
    Route("test_clocks.create", "POST", "/v1/test_clocks", TestClock, "Create a sandbox test clock",
          body=TestClockCreateParams, idempotent=True, status_code=201),
    Route("test_clocks.retrieve", "GET", "/v1/test_clocks/{id}", TestClock, "Retrieve a test clock",
          id_prefix=_P["test_clock"]),
    Route("test_clocks.advance", "POST", "/v1/test_clocks/{id}/advance", TestClock,
          "Move a test clock forward; due repayments and expiries happen",
          body=TestClockAdvanceParams, id_prefix=_P["test_clock"], idempotent=True),
)  # fmt: skip
"""Every operation of API v1, in documentation order."""

ROUTES_BY_ID: Final[Mapping[str, Route]] = {route.operation_id: route for route in ROUTES}
"""Routes keyed by operation id (``"orders.capture"``)."""
