"""Customers as the merchant describes them, and prequalification (pre-loan limits and offered plans)."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, StrictInt, StringConstraints, model_validator

from bnpl.models.common import (
    Amount,
    ApiObject,
    ApiParams,
    CountryCode,
    CurrencyCode,
    CustomerId,
    NonNegativeAmount,
    PrequalificationId,
    Timestamp,
)
from bnpl.models.plans import PlanOption

__all__ = [
    "AlternativeData",
    "CustomerInfo",
    "ItemCategory",
    "Prequalification",
    "PrequalificationCreateParams",
]

ItemCategory = Literal["flight", "hotel", "train", "car_rental", "package", "goods", "service"]
"""What is being bought; it drives risk rules and the plans offered."""

Months = Annotated[StrictInt, Field(ge=0, le=1200)]


class AlternativeData(ApiParams):
    """Thin-file signals for customers without a credit history (新市民, new urban residents): how many
    months of each record the customer has. All optional; send what the customer consented to share."""

    social_insurance_months: Months | None = None
    payroll_months: Months | None = None
    utility_payment_months: Months | None = None
    rent_payment_months: Months | None = None
    tenure_months: Months | None = Field(default=None, description="Months with the current employer.")
    residence_months: Months | None = Field(default=None, description="Months at the current city.")


class CustomerInfo(ApiParams):
    """The customer, pseudonymously: a reference of the merchant's, optional contact details and a hash of
    the national ID (never the number itself)."""

    reference: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")] = Field(
        description="Your pseudonymous customer reference (not a name or ID number)."
    )
    id: CustomerId | None = Field(default=None, description="The lender's customer id, for a returning customer.")
    phone: Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")] | None = Field(
        default=None, description="E.164 phone number, e.g. +8613800138000."
    )
    email: Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    national_id_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = Field(
        default=None, description="Lowercase hex SHA-256 of the national ID number; never send the raw number."
    )
    country: CountryCode | None = None
    alternative_data: AlternativeData | None = None


class PrequalificationCreateParams(ApiParams):
    """Ask what this customer may borrow for this amount: ``POST /v1/prequalifications``."""

    customer: CustomerInfo
    amount: Amount
    currency: CurrencyCode
    category: ItemCategory | None = None


class Prequalification(ApiObject):
    """The pre-loan decision: eligible or not, the order-amount range and the plans this customer gets."""

    id: PrequalificationId
    object: Literal["prequalification"] = "prequalification"
    eligible: bool
    decline_reason: str | None = Field(
        default=None, description="Why not eligible: amount_too_low, amount_too_high, insufficient_credit, ..."
    )
    currency: CurrencyCode
    amount: Amount
    customer_id: CustomerId | None = None
    available_credit: NonNegativeAmount | None = None
    min_order_amount: NonNegativeAmount | None = None
    max_order_amount: NonNegativeAmount | None = None
    plans: list[PlanOption] = Field(default_factory=list)
    expires_at: Timestamp
    created: Timestamp
    livemode: bool = False

    @model_validator(mode="after")
    def _range_is_ordered(self) -> Self:
        low, high = self.min_order_amount, self.max_order_amount
        if low is not None and high is not None and low > high:
            raise ValueError(f"min_order_amount {low} exceeds max_order_amount {high}")
        return self
