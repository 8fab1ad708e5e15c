"""Checkouts: what the merchant sells, the travel itinerary, and the customer's approval session."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Self

from pydantic import Field, StrictInt, StringConstraints, model_validator

from bnpl.models.common import (
    Amount,
    ApiObject,
    ApiParams,
    CheckoutId,
    CurrencyCode,
    CustomerId,
    HttpUrlStr,
    ListResponse,
    Metadata,
    NonNegativeAmount,
    OrderId,
    Timestamp,
)
from bnpl.models.customers import CustomerInfo, ItemCategory
from bnpl.models.plans import PlanFilter, SubsidyPercent

__all__ = [
    "Checkout",
    "CheckoutCancelParams",
    "CheckoutCreateParams",
    "CheckoutList",
    "CheckoutListParams",
    "CheckoutStatus",
    "LineItem",
    "Passenger",
    "TravelDetails",
    "check_items_total",
]

CheckoutStatus = Literal["open", "approved", "declined", "expired", "canceled"]
"""open → approved | declined | expired | canceled; only ``open`` can change."""

Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Reference = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Place = Annotated[
    str,
    StringConstraints(min_length=2, max_length=100, strip_whitespace=True),
    Field(description="IATA airport/city code (PEK, SHA) or a city name.", examples=["PEK"]),
]


class LineItem(ApiParams):
    """One line of the basket; ``total_amount = quantity * unit_amount`` in minor units."""

    name: Name
    category: ItemCategory
    quantity: StrictInt = Field(default=1, ge=1, le=10_000)
    unit_amount: NonNegativeAmount
    total_amount: NonNegativeAmount
    currency: CurrencyCode | None = Field(default=None, description="If given, must be the checkout currency.")
    reference: Reference | None = Field(default=None, description="Your SKU, PNR or booking line id.")

    @model_validator(mode="after")
    def _total_is_quantity_times_unit(self) -> Self:
        if self.quantity * self.unit_amount != self.total_amount:
            raise ValueError(
                f"total_amount {self.total_amount} != quantity {self.quantity} * unit_amount {self.unit_amount}"
            )
        return self


def check_items_total(items: list[LineItem], amount: int, currency: str) -> None:
    """Raise ``ValueError`` unless the items are in ``currency`` and sum exactly to ``amount``."""
    for index, item in enumerate(items):
        if item.currency is not None and item.currency != currency:
            raise ValueError(f"items[{index}].currency {item.currency} differs from the currency {currency}")
    total = sum(item.total_amount for item in items)
    if total != amount:
        raise ValueError(f"items total_amount sums to {total}, not the amount {amount}")


class Passenger(ApiParams):
    """A traveller on the booking."""

    name: Name
    type: Literal["adult", "child", "infant"] = "adult"


class TravelDetails(ApiParams):
    """The itinerary for travel purchases; lenders use it for risk and to time the authorization."""

    origin: Place
    destination: Place
    travel_date: dt.date
    return_date: dt.date | None = None
    passengers: list[Passenger] = Field(default_factory=list, max_length=50)
    booking_reference: Reference | None = Field(default=None, description="PNR or booking number.")

    @model_validator(mode="after")
    def _return_after_departure(self) -> Self:
        if self.return_date is not None and self.return_date < self.travel_date:
            raise ValueError(f"return_date {self.return_date} is before travel_date {self.travel_date}")
        return self


class CheckoutCreateParams(ApiParams):
    """Open a checkout: ``POST /v1/checkouts``; send the customer to ``Checkout.approval_url``."""

    merchant_reference: Reference
    amount: Amount
    currency: CurrencyCode
    items: list[LineItem] = Field(min_length=1, max_length=200)
    travel: TravelDetails | None = None
    customer: CustomerInfo | None = None
    merchant_subsidy_percent: SubsidyPercent | None = None
    promotion_code: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    allowed_plans: list[PlanFilter] | None = Field(default=None, min_length=1, max_length=20)
    return_url: HttpUrlStr
    cancel_url: HttpUrlStr | None = None
    expires_in_seconds: StrictInt | None = Field(default=None, ge=60, le=7 * 24 * 3600)
    expires_at: Timestamp | None = None
    metadata: Metadata = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        check_items_total(self.items, self.amount, self.currency)
        if self.merchant_subsidy_percent is not None and self.promotion_code is not None:
            raise ValueError("give merchant_subsidy_percent or promotion_code, not both")
        if self.expires_in_seconds is not None and self.expires_at is not None:
            raise ValueError("give expires_in_seconds or expires_at, not both")
        return self


class CheckoutCancelParams(ApiParams):
    """Cancel an open checkout: ``POST /v1/checkouts/{id}/cancel``."""

    reason: Annotated[str, StringConstraints(max_length=500)] | None = None


class Checkout(ApiObject):
    """A checkout session; once ``approved`` it carries the ``order_id`` of the authorized order."""

    id: CheckoutId
    object: Literal["checkout"] = "checkout"
    status: CheckoutStatus
    amount: Amount
    currency: CurrencyCode
    merchant_reference: str
    approval_url: str
    return_url: str | None = None
    cancel_url: str | None = None
    expires_at: Timestamp
    order_id: OrderId | None = None
    customer_id: CustomerId | None = None
    decline_reason: str | None = None
    created: Timestamp
    metadata: dict[str, str] = Field(default_factory=dict)
    livemode: bool = False


class CheckoutListParams(ApiParams):
    """Filter and page ``GET /v1/checkouts`` (newest first)."""

    status: CheckoutStatus | None = None
    limit: int = Field(default=10, ge=1, le=100)  # lax: it arrives as a query string
    starting_after: CheckoutId | None = None


class CheckoutList(ListResponse[Checkout]):
    """A page of checkouts."""
