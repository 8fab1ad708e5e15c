"""Priced plans: one cached path from a plan offer to a :class:`PlanQuote` with its exact schedule.

Every schedule comes from :func:`bnpl.plans.build_plan` (the engine the SDK shows customers). Quotes are
cached by their full input, so repeated amounts (a flight at the same fare) cost nothing the second time.
"""

from __future__ import annotations

import functools
from datetime import date
from decimal import Decimal
from typing import Final

from bnpl.models.plans import PlanOption, PlanPricing, PlanQuote, PlanQuoteList, PlanQuoteParams, ScheduledInstalment
from bnpl.money import Money
from bnpl.plans import PlanError, Pricing, build_plan

__all__ = ["STANDARD_OFFERS", "OfferTerms", "quote", "rate_string", "standard_quotes"]

OfferTerms = tuple[str, int, str | None, Decimal, Decimal, str]
"""``(product, periods, method, annual_interest_rate, fee_rate, label)`` of one offered plan."""

STANDARD_OFFERS: Final[tuple[OfferTerms, ...]] = (
    ("pay_in_4", 4, None, Decimal(0), Decimal(0), "Pay in 4 · 分4次 · 免息"),
    ("pay_in_30", 1, None, Decimal(0), Decimal(0), "Pay in 30 days · 30天后付"),
    ("monthly", 3, "annuity", Decimal("12"), Decimal(0), "3期 · 年利率12%"),
    ("monthly", 6, "annuity", Decimal("14.4"), Decimal(0), "6期 · 年利率14.4%"),
    ("monthly", 12, "flat_fee", Decimal(0), Decimal("0.6"), "12期 · 月费率0.6%"),
    ("monthly", 24, "equal_principal", Decimal("15.6"), Decimal(0), "24期 · 年利率15.6%"),
)
"""The lender's public price list, quoted when no customer is known (``POST /v1/plan_quotes``)."""

_PLACES: Final = Decimal("0.01")


def rate_string(value: Decimal) -> str:
    """A percentage as the wire's exact decimal string, two places (``Decimal("15.6")`` → ``"15.60"``)."""
    return str(value.quantize(_PLACES))


@functools.lru_cache(maxsize=8192)
def quote(
    amount: int,
    currency: str,
    product: str,
    periods: int,
    method: str | None,
    annual_interest_rate: Decimal,
    fee_rate: Decimal,
    subsidy_percent: int,
    start: date,
) -> PlanQuote:
    """The priced plan for these exact inputs (cached; the result is immutable). Raises ``PlanError``."""
    pricing = Pricing(
        annual_interest_rate=annual_interest_rate, fee_rate=fee_rate, merchant_subsidy=Decimal(subsidy_percent)
    )
    plan = build_plan(
        Money(amount, currency),
        product=product,  # type: ignore[arg-type]  # checked by build_plan, which names the valid choices
        periods=periods if product == "monthly" else None,
        method=method,  # type: ignore[arg-type]
        pricing=pricing,
        start=start,
    )
    return PlanQuote(
        product=plan.product,
        periods=plan.periods,
        method=plan.method,
        pricing=PlanPricing(annual_interest_rate=rate_string(annual_interest_rate), fee_rate=rate_string(fee_rate)),
        amount=amount,
        currency=currency,
        schedule=[
            ScheduledInstalment(
                number=i.number,
                due_date=i.due_date,
                principal=i.principal.minor,
                interest=i.interest.minor,
                fee=i.fee.minor,
                amount=i.amount.minor,
                balance=i.balance.minor,
            )
            for i in plan.instalments
        ],
        total_payable=plan.total_payable.minor,
        total_cost_of_credit=plan.total_payable.minor - amount,
        merchant_subsidy=plan.merchant_subsidy.minor,
        annual_rates={k: rate_string(v) for k, v in plan.annual_rates.items()},
    )


def option_of(terms: OfferTerms) -> PlanOption:
    """The customer-facing :class:`PlanOption` of an offer."""
    product, periods, method, air, fee, label = terms
    return PlanOption(
        product=product,  # pydantic checks the literal at runtime
        periods=periods,
        method=method,
        annual_interest_rate=rate_string(air),
        fee_rate=rate_string(fee),
        label=label,
    )


def standard_quotes(params: PlanQuoteParams, today: date) -> PlanQuoteList:
    """Quote the public price list for ``params``: filtered by ``products`` and ``periods``; a monthly period
    count that is not on the list is quoted at the price of the nearest longer listed plan."""
    start = params.start_date or today
    offers: list[OfferTerms] = []
    for terms in STANDARD_OFFERS:
        product, periods = terms[0], terms[1]
        if params.products is not None and product not in params.products:
            continue
        if product == "monthly" and params.periods is not None and periods not in params.periods:
            continue
        offers.append(terms)
    if params.periods is not None and (params.products is None or "monthly" in params.products):
        listed = {t[1] for t in STANDARD_OFFERS if t[0] == "monthly"}
        monthly = [t for t in STANDARD_OFFERS if t[0] == "monthly"]
        for n in sorted(set(params.periods) - listed):
            base = next((t for t in monthly if t[1] >= n), monthly[-1])
            offers.append(("monthly", n, base[2], base[3], base[4], f"{n}期"))
    data = []
    for product, periods, method, air, fee, _label in offers:
        try:
            data.append(
                quote(
                    params.amount,
                    params.currency,
                    product,
                    periods,
                    method,
                    air,
                    fee,
                    params.merchant_subsidy_percent,
                    start,
                )
            )
        except PlanError:
            continue  # e.g. an amount too small to split: that plan is simply not offered
    return PlanQuoteList(data=data, has_more=False)
