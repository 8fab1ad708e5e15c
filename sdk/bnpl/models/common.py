"""Shared building blocks of the wire contract: base classes, field types, lists and errors.

Responses derive from :class:`ApiObject` (unknown fields from a newer server are ignored, instances are
frozen); request parameters derive from :class:`ApiParams` (an unknown field is a typo and is refused, which
the lender answers with a 400 ``invalid_request_error``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Generic, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictInt,
    StringConstraints,
)

from bnpl.money import Currency

__all__ = [
    "API_VERSION",
    "API_VERSION_HEADER",
    "ERROR_TYPES",
    "ID_PREFIXES",
    "Amount",
    "ApiObject",
    "ApiParams",
    "CaptureId",
    "CheckoutId",
    "CountryCode",
    "CurrencyCode",
    "CustomerId",
    "DeletedObject",
    "ErrorBody",
    "ErrorDetail",
    "ErrorType",
    "EventId",
    "HttpUrlStr",
    "ListResponse",
    "Metadata",
    "NonNegativeAmount",
    "OrderId",
    "PrequalificationId",
    "RateString",
    "RefundId",
    "TestClockId",
    "Timestamp",
    "WebhookEndpointId",
]


API_VERSION: Final = "2026-11-01"
"""The API version this contract describes; sent as the ``BNPL-Version`` header."""

API_VERSION_HEADER: Final = "BNPL-Version"
"""The request header that pins the API version."""


class ApiObject(BaseModel):
    """Base of every response object: frozen, and forward compatible (unknown fields are ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    _request_id: str | None = PrivateAttr(default=None)
    """The ``Request-Id`` of the HTTP response this object came from (set by the client; quote it to support)."""


class ApiParams(BaseModel):
    """Base of every request-parameter model: an unknown field is refused, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --- amounts -----------------------------------------------------------------------------------------------
# StrictInt refuses 12.5, 12.0 and "12": an amount is always an integer count of minor units.

Amount = Annotated[StrictInt, Field(gt=0, le=10**15, description="A charge, in minor units (> 0).")]
"""A positive amount in integer minor units (a charge, a capture, a refund)."""

NonNegativeAmount = Annotated[StrictInt, Field(ge=0, le=10**15, description="An amount in minor units (>= 0).")]
"""A balance or total in integer minor units; zero is allowed."""


def _check_currency(code: str) -> str:
    # The pattern already guarantees three uppercase letters; Currency.of checks it is a real, active code.
    return Currency.of(code).code


CurrencyCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{3}$"),
    AfterValidator(_check_currency),
    Field(description="ISO 4217 alphabetic currency code, uppercase (CNY, USD, EUR, JPY).", examples=["CNY"]),
]
"""An active ISO 4217 currency code in uppercase, checked with :meth:`bnpl.money.Currency.of`."""

CountryCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{2}$"),
    Field(description="ISO 3166-1 alpha-2 country code, uppercase.", examples=["CN"]),
]
"""An ISO 3166-1 alpha-2 country code in uppercase."""

RateString = Annotated[
    str,
    StringConstraints(pattern=r"^(0|[1-9][0-9]{0,5})(\.[0-9]{1,10})?$"),
    Field(description='A non-negative percentage as a decimal string ("17.9" means 17.9 %).', examples=["17.9"]),
]
"""A percentage as an exact decimal string: never a float on the wire."""


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


Timestamp = Annotated[
    AwareDatetime,
    AfterValidator(_to_utc),
    Field(description="ISO 8601 timestamp with a UTC offset; normalised to UTC."),
]
"""A timezone-aware instant, normalised to UTC (naive datetimes are refused: they are ambiguous)."""


def _check_http_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http:// or https:// URL with a host")
    return url


HttpUrlStr = Annotated[
    str,
    StringConstraints(min_length=1, max_length=2048, pattern=r"^https?://"),
    AfterValidator(_check_http_url),
    Field(json_schema_extra={"format": "uri"}),
]
"""An absolute http(s) URL kept as a plain string."""


# --- ids -----------------------------------------------------------------------------------------------------

ID_PREFIXES: Final[dict[str, str]] = {
    "prequalification": "pq_",
    "checkout": "chk_",
    "order": "ord_",
    "capture": "cap_",
    "refund": "re_",
    "event": "evt_",
    "webhook_endpoint": "we_",
    "customer": "cus_",
    "test_clock": "clk_",
}
"""The id prefix of every resource kind: ids are ``<prefix><1-64 letters or digits>``."""

_ID_BODY = r"[A-Za-z0-9]{1,64}"


def _id(kind: str) -> StringConstraints:
    return StringConstraints(pattern=rf"^{re.escape(ID_PREFIXES[kind])}{_ID_BODY}$")


def _id_doc(kind: str) -> Any:
    prefix = ID_PREFIXES[kind]
    return Field(description=f"{kind.replace('_', ' ').capitalize()} id ({prefix}...).", examples=[f"{prefix}1a2b3c4d"])


PrequalificationId = Annotated[str, _id("prequalification"), _id_doc("prequalification")]
CheckoutId = Annotated[str, _id("checkout"), _id_doc("checkout")]
OrderId = Annotated[str, _id("order"), _id_doc("order")]
CaptureId = Annotated[str, _id("capture"), _id_doc("capture")]
RefundId = Annotated[str, _id("refund"), _id_doc("refund")]
EventId = Annotated[str, _id("event"), _id_doc("event")]
WebhookEndpointId = Annotated[str, _id("webhook_endpoint"), _id_doc("webhook_endpoint")]
CustomerId = Annotated[str, _id("customer"), _id_doc("customer")]
TestClockId = Annotated[str, _id("test_clock"), _id_doc("test_clock")]


# --- metadata ------------------------------------------------------------------------------------------------

Metadata = Annotated[
    dict[
        Annotated[str, StringConstraints(min_length=1, max_length=40)],
        Annotated[str, StringConstraints(max_length=500)],
    ],
    Field(
        max_length=50,
        description="Up to 50 string key/value pairs of your own (key <= 40 chars, value <= 500 chars).",
    ),
]
"""Merchant-owned key/value pairs: at most 50 keys, keys 1-40 chars, values up to 500 chars."""


# --- lists, deletion and errors ------------------------------------------------------------------------------

T = TypeVar("T")


class ListResponse(ApiObject, Generic[T]):
    """One page of a cursor-paginated list; pass ``next_cursor`` as ``starting_after`` for the next page."""

    object: Literal["list"] = "list"
    data: list[T]
    has_more: bool
    next_cursor: str | None = None


class DeletedObject(ApiObject):
    """The answer to a DELETE: the id of what was deleted."""

    id: str
    object: str
    deleted: Literal[True] = True


ErrorType = Literal[
    "invalid_request_error",
    "authentication_error",
    "permission_error",
    "not_found_error",
    "conflict_error",
    "idempotency_error",
    "rate_limit_error",
    "api_error",
]
"""The category of an API error; the HTTP status follows from it."""

ERROR_TYPES: Final[dict[str, int]] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "conflict_error": 409,
    "idempotency_error": 409,
    "rate_limit_error": 429,
    "api_error": 500,
}
"""Each error type and the HTTP status the lender answers it with."""


class ErrorDetail(ApiObject):
    """What went wrong: ``type`` (the category), a stable machine ``code``, a human ``message``, the
    offending ``param`` (dotted path) and the ``request_id`` to quote to support."""

    type: ErrorType
    code: str | None = None
    message: str
    param: str | None = None
    request_id: str | None = None


class ErrorBody(ApiObject):
    """The body of every non-2xx response: ``{"error": {...}}``."""

    error: ErrorDetail
