"""Plan vocabulary and plan quotes: products, repayment methods, offered options and priced schedules."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Annotated, Literal, Self

from pydantic import Field, StrictInt, model_validator

from bnpl.models.common import (
    Amount,
    ApiObject,
    ApiParams,
    CurrencyCode,
    ListResponse,
    NonNegativeAmount,
    RateString,
)

__all__ = [
    "ANNUAL_RATE_KEYS",
    "PlanFilter",
    "PlanOption",
    "PlanPricing",
    "PlanQuote",
    "PlanQuoteList",
    "PlanQuoteParams",
    "Product",
    "RepaymentMethod",
    "ScheduledInstalment",
    "SubsidyPercent",
]

Product = Literal["pay_in_4", "pay_in_30", "monthly"]
"""pay_in_4: four payments two weeks apart, the first at checkout; pay_in_30: one payment deferred 30 days;
monthly: N monthly instalments with a repayment method."""

RepaymentMethod = Literal["annuity", "equal_principal", "flat_fee", "interest_only"]
"""annuity 等额本息, equal_principal 等额本金, flat_fee 等本等息, interest_only 先息后本."""

ANNUAL_RATE_KEYS: tuple[str, ...] = ("us_reg_z", "eu_aprc", "cn_compound", "cn_simple")
"""The keys of ``annual_rates``: US Reg Z APR, EU APRC, China IRR compound, China IRR simple (单利)."""

Periods = Annotated[StrictInt, Field(ge=1, le=120, description="Number of instalments.")]

SubsidyPercent = Annotated[
    StrictInt,
    Field(ge=0, le=100, description="Percent (0-100) of the interest and fees that the merchant pays (贴息)."),
]
"""The merchant's share of interest and fees, in whole percent."""


class PlanFilter(ApiParams):
    """Restricts which plans are offered: a product, optionally narrowed to period counts and a method."""

    product: Product
    periods: list[Periods] | None = Field(default=None, min_length=1, max_length=24)
    method: RepaymentMethod | None = None


class PlanOption(ApiObject):
    """A plan the lender offers this customer: product, periods, method and its price."""

    product: Product
    periods: int
    method: RepaymentMethod | None = None
    annual_interest_rate: RateString | None = None
    fee_rate: RateString | None = Field(
        default=None, description="Fee per period as a percent of the principal (flat_fee plans)."
    )
    label: str = Field(description="Customer-facing label, e.g. '12期 · 月费率0.6%'.")


class PlanPricing(ApiObject):
    """How a quoted plan is priced, before the merchant subsidy."""

    annual_interest_rate: RateString = Field(default="0", description="Nominal annual interest rate, percent.")
    fee_rate: RateString = Field(default="0", description="Fee per period, percent of the principal.")


class ScheduledInstalment(ApiObject):
    """One instalment of a schedule; every amount is in minor units and ``amount = principal + interest +
    fee``. ``balance`` is the principal still outstanding after this instalment."""

    number: StrictInt = Field(ge=1)
    due_date: dt.date
    principal: NonNegativeAmount
    interest: NonNegativeAmount
    fee: NonNegativeAmount
    amount: NonNegativeAmount
    balance: NonNegativeAmount

    @model_validator(mode="after")
    def _parts_sum_to_amount(self) -> Self:
        if self.principal + self.interest + self.fee != self.amount:
            raise ValueError(
                f"instalment {self.number}: principal + interest + fee "
                f"({self.principal} + {self.interest} + {self.fee}) != amount ({self.amount})"
            )
        return self


class PlanQuoteParams(ApiParams):
    """Ask for priced plans for an amount: ``POST /v1/plan_quotes``."""

    amount: Amount
    currency: CurrencyCode
    products: list[Product] | None = Field(default=None, min_length=1, description="Only these products.")
    periods: list[Periods] | None = Field(default=None, min_length=1, max_length=24, description="Only these.")
    merchant_subsidy_percent: SubsidyPercent = 0
    start_date: dt.date | None = Field(default=None, description="Checkout date the schedule starts from.")


def check_schedule(amount: int, schedule: Sequence[ScheduledInstalment], total_payable: int) -> None:
    """Raise ``ValueError`` unless the schedule is numbered 1..n, in date order, and sums exactly."""
    numbers = [inst.number for inst in schedule]
    if numbers != list(range(1, len(schedule) + 1)):
        raise ValueError(f"schedule must be numbered 1..{len(schedule)}, got {numbers}")
    if any(a.due_date > b.due_date for a, b in itertools.pairwise(schedule)):
        raise ValueError("schedule due dates must not go backwards")
    principal = sum(inst.principal for inst in schedule)
    if principal != amount:
        raise ValueError(f"schedule principal sums to {principal}, not the amount {amount}")
    payable = sum(inst.amount for inst in schedule)
    if payable != total_payable:
        raise ValueError(f"schedule amounts sum to {payable}, not total_payable {total_payable}")


class PlanQuote(ApiObject):
    """A fully priced plan with its schedule and the annual rate under each market's rule.

    ``total_payable`` is what the customer pays; ``total_cost_of_credit = total_payable - amount``;
    ``merchant_subsidy`` is the part of interest and fees the merchant pays instead.
    """

    object: Literal["plan_quote"] = "plan_quote"
    product: Product
    periods: int
    method: RepaymentMethod | None = None
    pricing: PlanPricing
    amount: Amount
    currency: CurrencyCode
    schedule: list[ScheduledInstalment] = Field(min_length=1)
    total_payable: NonNegativeAmount
    total_cost_of_credit: NonNegativeAmount
    merchant_subsidy: NonNegativeAmount = 0
    annual_rates: dict[str, RateString] = Field(
        description="Annual rate in percent by rule: us_reg_z, eu_aprc, cn_compound, cn_simple."
    )
    simple_rate_label: str = Field(default="单利", description="Label shown next to the cn_simple rate.")

    @model_validator(mode="after")
    def _sums_are_exact(self) -> Self:
        check_schedule(self.amount, self.schedule, self.total_payable)
        if self.total_payable - self.amount != self.total_cost_of_credit:
            raise ValueError("total_cost_of_credit must equal total_payable - amount")
        return self


class PlanQuoteList(ListResponse[PlanQuote]):
    """The plans quoted for an amount (never paginated: ``has_more`` is false)."""
