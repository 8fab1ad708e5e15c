"""Typed webhook events: one model per ``type``, a discriminated union, and a fast, safe parser.

Every event carries ``id`` (evt_...), ``type``, ``created``, ``api_version``, ``object_id`` (the checkout,
order or customer it concerns), ``sequence`` (per object, strictly increasing with each state change: drop
an event whose sequence is below the last one you applied) and ``data`` (the typed object).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal

from pydantic import Discriminator, Field, StrictInt, Tag, TypeAdapter, ValidationError

from bnpl.models.checkouts import Checkout
from bnpl.models.common import (
    ApiObject,
    ApiParams,
    CurrencyCode,
    CustomerId,
    EventId,
    ListResponse,
    NonNegativeAmount,
    RateString,
    Timestamp,
)
from bnpl.models.orders import Order, OrderInstalment

__all__ = [
    "EVENT_CLASSES",
    "EVENT_TYPES",
    "CheckoutApprovedEvent",
    "CheckoutCanceledEvent",
    "CheckoutDeclinedEvent",
    "CheckoutExpiredEvent",
    "CustomerCreditFreezeScheduledEvent",
    "CustomerCreditFrozenEvent",
    "CustomerCreditLimitDecreasedEvent",
    "CustomerCreditLimitIncreasedEvent",
    "CustomerCreditNotice",
    "CustomerCreditUnfrozenEvent",
    "CustomerRateChangedEvent",
    "CustomerRateNotice",
    "Event",
    "EventBase",
    "EventList",
    "EventListParams",
    "EventParseError",
    "InstalmentNotice",
    "InstalmentOverdueNotice",
    "OrderAuthorizationExpiredEvent",
    "OrderAuthorizationExpiringEvent",
    "OrderAuthorizationNotice",
    "OrderAuthorizedEvent",
    "OrderCapturedEvent",
    "OrderInstalmentDueSoonEvent",
    "OrderInstalmentFailedEvent",
    "OrderInstalmentOverdueEvent",
    "OrderInstalmentPaidEvent",
    "OrderPaidOffEvent",
    "OrderRefundedEvent",
    "OrderVoidedEvent",
    "UnknownEvent",
    "parse_event",
]


# --- event payloads that are not a plain resource snapshot ---------------------------------------------------


class CustomerCreditNotice(ApiObject):
    """A change to a customer's credit line. For ``customer.credit_freeze_scheduled`` ``effective_at`` is in
    the future: the customer is told before the change happens."""

    object: Literal["customer_credit_notice"] = "customer_credit_notice"
    customer_id: CustomerId
    currency: CurrencyCode
    credit_limit_before: NonNegativeAmount
    credit_limit_after: NonNegativeAmount
    effective_at: Timestamp
    reason: str | None = None


class CustomerRateNotice(ApiObject):
    """A change to the annual interest rate (percent) a customer is offered, from ``effective_at``."""

    object: Literal["customer_rate_notice"] = "customer_rate_notice"
    customer_id: CustomerId
    old_annual_rate: RateString
    new_annual_rate: RateString
    effective_at: Timestamp
    reason: str | None = None


class OrderAuthorizationNotice(ApiObject):
    """An order whose authorization expires at ``expires_at`` unless captured first."""

    object: Literal["order_authorization_notice"] = "order_authorization_notice"
    order: Order
    expires_at: Timestamp


class InstalmentNotice(ApiObject):
    """An instalment event: the order snapshot plus which instalment, when, and how much (minor units)."""

    object: Literal["instalment_notice"] = "instalment_notice"
    order: Order
    instalment_number: StrictInt = Field(ge=1)
    due_date: dt.date
    amount: NonNegativeAmount
    currency: CurrencyCode

    @property
    def instalment(self) -> OrderInstalment:
        """The instalment this notice is about, from the order snapshot."""
        return self.order.instalment(self.instalment_number)


class InstalmentOverdueNotice(InstalmentNotice):
    """An overdue instalment, with how many days it is late."""

    days_overdue: StrictInt = Field(ge=1)


# --- the events ----------------------------------------------------------------------------------------------


class EventBase(ApiObject):
    """Fields every event has; subclasses narrow ``type`` to a ``Literal`` and type ``data``."""

    id: EventId
    object: Literal["event"] = "event"
    type: str
    created: Timestamp
    api_version: str
    object_id: str = Field(description="Id of the checkout, order or customer this event concerns.")
    sequence: StrictInt = Field(ge=0, description="Per object, strictly increasing with each state change.")
    livemode: bool = False


class CheckoutApprovedEvent(EventBase):
    """The customer was approved; ``data.order_id`` is the authorized order."""

    type: Literal["checkout.approved"] = "checkout.approved"
    data: Checkout


class CheckoutDeclinedEvent(EventBase):
    """The lender declined; ``data.decline_reason`` says why."""

    type: Literal["checkout.declined"] = "checkout.declined"
    data: Checkout


class CheckoutExpiredEvent(EventBase):
    """The checkout expired before the customer finished."""

    type: Literal["checkout.expired"] = "checkout.expired"
    data: Checkout


class CheckoutCanceledEvent(EventBase):
    """The checkout was canceled (by the merchant or the customer)."""

    type: Literal["checkout.canceled"] = "checkout.canceled"
    data: Checkout


class OrderAuthorizedEvent(EventBase):
    """An order was authorized and can be captured."""

    type: Literal["order.authorized"] = "order.authorized"
    data: Order


class OrderCapturedEvent(EventBase):
    """A capture succeeded; the newest capture is ``data.captures[-1]``."""

    type: Literal["order.captured"] = "order.captured"
    data: Order


class OrderVoidedEvent(EventBase):
    """The uncaptured authorization was released."""

    type: Literal["order.voided"] = "order.voided"
    data: Order


class OrderAuthorizationExpiringEvent(EventBase):
    """Advance warning: the authorization expires at ``data.expires_at`` unless captured."""

    type: Literal["order.authorization_expiring"] = "order.authorization_expiring"
    data: OrderAuthorizationNotice


class OrderAuthorizationExpiredEvent(EventBase):
    """The authorization expired uncaptured."""

    type: Literal["order.authorization_expired"] = "order.authorization_expired"
    data: Order


class OrderRefundedEvent(EventBase):
    """A refund succeeded; the newest refund is ``data.refunds[-1]``."""

    type: Literal["order.refunded"] = "order.refunded"
    data: Order


class OrderInstalmentDueSoonEvent(EventBase):
    """Reminder: an instalment falls due on ``data.due_date``."""

    type: Literal["order.instalment_due_soon"] = "order.instalment_due_soon"
    data: InstalmentNotice


class OrderInstalmentPaidEvent(EventBase):
    """The customer paid an instalment."""

    type: Literal["order.instalment_paid"] = "order.instalment_paid"
    data: InstalmentNotice


class OrderInstalmentFailedEvent(EventBase):
    """Collecting an instalment failed (it will be retried)."""

    type: Literal["order.instalment_failed"] = "order.instalment_failed"
    data: InstalmentNotice


class OrderInstalmentOverdueEvent(EventBase):
    """An instalment is overdue by ``data.days_overdue`` days."""

    type: Literal["order.instalment_overdue"] = "order.instalment_overdue"
    data: InstalmentOverdueNotice


class OrderPaidOffEvent(EventBase):
    """The customer repaid the whole plan."""

    type: Literal["order.paid_off"] = "order.paid_off"
    data: Order


class CustomerCreditLimitIncreasedEvent(EventBase):
    """The customer's credit limit went up (real time)."""

    type: Literal["customer.credit_limit_increased"] = "customer.credit_limit_increased"
    data: CustomerCreditNotice


class CustomerCreditLimitDecreasedEvent(EventBase):
    """The customer's credit limit went down."""

    type: Literal["customer.credit_limit_decreased"] = "customer.credit_limit_decreased"
    data: CustomerCreditNotice


class CustomerCreditFreezeScheduledEvent(EventBase):
    """Advance notice: the credit line will be frozen at ``data.effective_at`` (in the future)."""

    type: Literal["customer.credit_freeze_scheduled"] = "customer.credit_freeze_scheduled"
    data: CustomerCreditNotice


class CustomerCreditFrozenEvent(EventBase):
    """The credit line is frozen: no new checkouts are approved."""

    type: Literal["customer.credit_frozen"] = "customer.credit_frozen"
    data: CustomerCreditNotice


class CustomerCreditUnfrozenEvent(EventBase):
    """The credit line is usable again."""

    type: Literal["customer.credit_unfrozen"] = "customer.credit_unfrozen"
    data: CustomerCreditNotice


class CustomerRateChangedEvent(EventBase):
    """The customer's rate changes (e.g. a rate cut) from ``data.effective_at``."""

    type: Literal["customer.rate_changed"] = "customer.rate_changed"
    data: CustomerRateNotice


_KNOWN: Final[tuple[type[EventBase], ...]] = (
    CheckoutApprovedEvent,
    CheckoutDeclinedEvent,
    CheckoutExpiredEvent,
    CheckoutCanceledEvent,
    OrderAuthorizedEvent,
    OrderCapturedEvent,
    OrderVoidedEvent,
    OrderAuthorizationExpiringEvent,
    OrderAuthorizationExpiredEvent,
    OrderRefundedEvent,
    OrderInstalmentDueSoonEvent,
    OrderInstalmentPaidEvent,
    OrderInstalmentFailedEvent,
    OrderInstalmentOverdueEvent,
    OrderPaidOffEvent,
    CustomerCreditLimitIncreasedEvent,
    CustomerCreditLimitDecreasedEvent,
    CustomerCreditFreezeScheduledEvent,
    CustomerCreditFrozenEvent,
    CustomerCreditUnfrozenEvent,
    CustomerRateChangedEvent,
)

EVENT_CLASSES: Final[Mapping[str, type[EventBase]]] = {cls.model_fields["type"].default: cls for cls in _KNOWN}
"""Each known event type and its model class."""

EVENT_TYPES: Final[tuple[str, ...]] = tuple(EVENT_CLASSES)
"""Every event type this SDK version knows, in documentation order."""


class UnknownEvent(EventBase):
    """An event of a ``type`` this SDK version does not know; ``data`` is kept as the raw dict, so a newer
    lender never breaks an older receiver."""

    # The schema excludes the known types so that the union is a sound JSON Schema "oneOf".
    type: str = Field(json_schema_extra={"not": {"enum": list(EVENT_TYPES)}})
    data: dict[str, Any]


_UNKNOWN_TAG: Final = "__unknown__"


def _event_tag(value: Any) -> str | None:
    # Known types pick their model; any other string falls back to UnknownEvent. A missing or non-string
    # type yields None, which pydantic reports as an error.
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if not isinstance(kind, str):
        return None
    return kind if kind in EVENT_CLASSES else _UNKNOWN_TAG


Event = Annotated[
    Annotated[CheckoutApprovedEvent, Tag("checkout.approved")]
    | Annotated[CheckoutDeclinedEvent, Tag("checkout.declined")]
    | Annotated[CheckoutExpiredEvent, Tag("checkout.expired")]
    | Annotated[CheckoutCanceledEvent, Tag("checkout.canceled")]
    | Annotated[OrderAuthorizedEvent, Tag("order.authorized")]
    | Annotated[OrderCapturedEvent, Tag("order.captured")]
    | Annotated[OrderVoidedEvent, Tag("order.voided")]
    | Annotated[OrderAuthorizationExpiringEvent, Tag("order.authorization_expiring")]
    | Annotated[OrderAuthorizationExpiredEvent, Tag("order.authorization_expired")]
    | Annotated[OrderRefundedEvent, Tag("order.refunded")]
    | Annotated[OrderInstalmentDueSoonEvent, Tag("order.instalment_due_soon")]
    | Annotated[OrderInstalmentPaidEvent, Tag("order.instalment_paid")]
    | Annotated[OrderInstalmentFailedEvent, Tag("order.instalment_failed")]
    | Annotated[OrderInstalmentOverdueEvent, Tag("order.instalment_overdue")]
    | Annotated[OrderPaidOffEvent, Tag("order.paid_off")]
    | Annotated[CustomerCreditLimitIncreasedEvent, Tag("customer.credit_limit_increased")]
    | Annotated[CustomerCreditLimitDecreasedEvent, Tag("customer.credit_limit_decreased")]
    | Annotated[CustomerCreditFreezeScheduledEvent, Tag("customer.credit_freeze_scheduled")]
    | Annotated[CustomerCreditFrozenEvent, Tag("customer.credit_frozen")]
    | Annotated[CustomerCreditUnfrozenEvent, Tag("customer.credit_unfrozen")]
    | Annotated[CustomerRateChangedEvent, Tag("customer.rate_changed")]
    | Annotated[UnknownEvent, Tag(_UNKNOWN_TAG)],
    Discriminator(
        _event_tag,
        custom_error_type="invalid_event_type",
        custom_error_message="the event has no string 'type' field",
    ),
]
"""Any event: a union discriminated on ``type``; unrecognised types become :class:`UnknownEvent`."""


class EventParseError(ValueError):
    """The payload is not a valid event. ``reason`` says what is wrong (field paths and messages only: the
    offending values are never echoed, since events carry personal data)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid event: {reason}")
        self.reason = reason


# Built once at import: validate_json parses and validates in one pass inside pydantic-core.
_EVENT_ADAPTER: Final[TypeAdapter[Event]] = TypeAdapter(Event)


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False, include_input=False, include_context=False)[:5]:
        # Drop the union tag from the location: "data.amount" reads better than "order.captured.data.amount".
        loc = [str(p) for p in item["loc"]]
        if loc and (loc[0] in EVENT_CLASSES or loc[0] == _UNKNOWN_TAG):
            loc = loc[1:]
        parts.append(f"{'.'.join(loc) or '<root>'}: {item['msg']}")
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def parse_event(data: bytes | bytearray | str | Mapping[str, Any]) -> Event:
    """Parse a webhook body (raw JSON bytes/str, or an already-decoded mapping) into a typed event.

    Unknown ``type`` values give :class:`UnknownEvent`. Anything else that is not a valid event raises
    :class:`EventParseError` (never a pydantic or JSON exception). Verify the signature first: see
    ``bnpl.webhooks.Webhook.unwrap``.
    """
    try:
        if isinstance(data, bytes | bytearray | str):
            return _EVENT_ADAPTER.validate_json(data)
        if isinstance(data, Mapping):
            return _EVENT_ADAPTER.validate_python(dict(data))
    except ValidationError as exc:
        raise EventParseError(_describe(exc)) from None
    except (RecursionError, json.JSONDecodeError, UnicodeDecodeError) as exc:  # defensive: pydantic wraps most
        raise EventParseError(type(exc).__name__) from None
    raise EventParseError(f"expected JSON bytes, str or a mapping, got {type(data).__name__}")


class EventListParams(ApiParams):
    """Filter and page ``GET /v1/events`` (newest first)."""

    types: list[str] | None = Field(default=None, min_length=1, max_length=50, description="Event types.")
    object_id: str | None = Field(default=None, max_length=80)
    starting_after: EventId | None = None
    limit: int = Field(default=10, ge=1, le=100)  # lax: it arrives as a query string


class EventList(ListResponse[Event]):
    """A page of events."""
