"""The instalment engine: turn a price, a product and pricing into an exact schedule with its disclosure.

Rounding rules (all amounts are integer minor units):

* Interest of a period is ``balance × per-period rate`` rounded half up; a flat fee is ``principal × fee rate``
  rounded half up, the same every period.
* Annuity (等额本息): the level payment is rounded half up; each period's principal is the payment minus that
  period's interest; the last instalment takes the remaining balance, so the principal parts always sum to the
  amount financed.
* Equal principal and flat fee: the principal is split with :meth:`Money.split`, the odd minor units on the first
  instalments.
* Pay-in-4: the price split in four, odd minor units on the first (paid at checkout).
* Merchant subsidy (贴息): the merchant's share of the total interest, of the total fees and of the upfront fee
  is each rounded half up, then spread over the instalments in proportion to what each one carried
  (:meth:`Money.allocate`, largest fraction); the customer pays the rest. So the customer's and the merchant's
  parts always add up to the full cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Final

from bnpl.money import Currency, Money, total
from bnpl.plans.calendar import add_months, every_n_days, monthly_due_dates
from bnpl.plans.disclosure import Disclosure, disclose
from bnpl.plans.terms import METHODS, PRODUCTS, PlanError, Pricing, Product, RepaymentMethod

__all__ = ["Instalment", "Plan", "build_plan"]

_PAY_IN_4_INTERVAL_DAYS: Final = 14
_PAY_IN_30_DAYS: Final = 30
_MAX_PERIODS: Final = 120


@dataclass(frozen=True, slots=True)
class Instalment:
    """One repayment: when it is due and what it is made of. ``balance`` is the principal still owed after it."""

    number: int
    due_date: date
    principal: Money
    interest: Money
    fee: Money
    amount: Money
    balance: Money


@dataclass(frozen=True, slots=True)
class Plan:
    """A complete, exact instalment plan and its disclosure.

    ``price`` is the order amount; ``down_payment`` is paid at purchase and not financed; ``amount_financed`` is
    the credit (price − down payment); ``upfront_fee`` is the customer's part of the fee charged at purchase.
    """

    product: Product
    method: RepaymentMethod | None
    periods: int
    purchase_date: date
    price: Money
    down_payment: Money
    amount_financed: Money
    upfront_fee: Money
    instalments: tuple[Instalment, ...]
    merchant_subsidy: Money
    pricing: Pricing
    disclosure: Disclosure

    @property
    def currency(self) -> str:
        """The ISO 4217 code of every amount in the plan."""
        return self.price.currency.code

    @property
    def total_payable(self) -> Money:
        """Everything the customer pays: down payment, upfront fee and every instalment."""
        return self.disclosure.total_payable

    @property
    def total_cost_of_credit(self) -> Money:
        """What the credit costs the customer: interest and fees, the upfront fee included."""
        return self.disclosure.total_cost_of_credit

    @property
    def annual_rates(self) -> dict[str, Decimal]:
        """The annual rate in percent under each method (``us_reg_z``, ``eu_aprc``, ``cn_compound``, ``cn_simple``)."""
        return dict(self.disclosure.annual_rates)


def build_plan(
    price: Money,
    *,
    product: Product = "monthly",
    periods: int | None = None,
    method: RepaymentMethod | None = None,
    pricing: Pricing | None = None,
    start: date | None = None,
    first_due: date | None = None,
) -> Plan:
    """Build the exact plan for ``price``.

    ``start`` is the purchase date (default today). For monthly plans ``first_due`` defaults to one month after
    ``start``, and every later due date aims at the same day of the month, clamped at month ends.
    Raises :class:`PlanError` naming the bad input and the valid choices.
    """
    if not isinstance(price, Money):
        raise PlanError(f"price must be Money, e.g. Money.of('1299', 'CNY'), got {type(price).__name__}")
    if price.minor <= 0:
        raise PlanError(f"price must be positive, got {price}")
    if product not in PRODUCTS:
        raise PlanError(f"unknown product {product!r}: choose one of {', '.join(PRODUCTS)}")
    pricing = pricing or Pricing()
    start = start or date.today()
    down = _same_currency("down_payment", pricing.down_payment, price)
    upfront_full = _same_currency("upfront_fee", pricing.upfront_fee, price)
    financed = price - down
    if financed.minor <= 0:
        raise PlanError(f"the down payment ({down}) must be less than the price ({price})")
    if upfront_full >= financed:
        raise PlanError(f"the upfront fee ({upfront_full}) must be less than the amount financed ({financed})")

    if product == "pay_in_4":
        _check_pay_in_4(periods, method, pricing)
        rows = _pay_in_4(financed, start)
        count, method = 4, None
    elif product == "pay_in_30":
        if periods not in (None, 1):
            raise PlanError("pay_in_30 has exactly one payment: leave periods unset")
        if method is not None:
            raise PlanError("pay_in_30 has no repayment method: leave method unset")
        rows = _pay_in_30(financed, start, pricing)
        count = 1
    else:
        if method not in METHODS:
            raise PlanError(f"monthly plans need method=: one of {', '.join(METHODS)}")
        if isinstance(periods, bool) or not isinstance(periods, int) or not 1 <= periods <= _MAX_PERIODS:
            raise PlanError(
                f"monthly plans need periods between 1 and {_MAX_PERIODS} (3, 6, 12, 24 …), got {periods!r}"
            )
        if first_due is not None and first_due <= start:
            raise PlanError(f"first_due ({first_due}) must be after the purchase date ({start})")
        dates = (
            monthly_due_dates(first_due, periods)
            if first_due is not None
            else [add_months(start, k, anchor_day=start.day) for k in range(1, periods + 1)]
        )
        rows = _monthly(financed, dates, method, pricing)
        count = periods

    customer_rows, upfront, subsidy = _apply_subsidy(rows, upfront_full, pricing.merchant_subsidy)
    instalments = _with_balances(customer_rows, financed)
    disclosure = disclose(
        purchase_date=start,
        amount_financed=financed,
        upfront_fee=upfront,
        down_payment=down,
        instalments=[(i.due_date, i.amount) for i in instalments],
        cost_of_instalments=total((i.interest + i.fee for i in instalments), price.currency),
    )
    return Plan(
        product=product,
        method=method,
        periods=count,
        purchase_date=start,
        price=price,
        down_payment=down,
        amount_financed=financed,
        upfront_fee=upfront,
        instalments=instalments,
        merchant_subsidy=subsidy,
        pricing=pricing,
        disclosure=disclosure,
    )


@dataclass(frozen=True, slots=True)
class _Row:
    due_date: date
    principal: int
    interest: int
    fee: int


def _same_currency(name: str, value: Money | None, price: Money) -> Money:
    if value is None:
        return Money.zero(price.currency)
    if value.currency != price.currency:
        raise PlanError(f"{name} is in {value.currency.code} but the price is in {price.currency.code}")
    return value


def _check_pay_in_4(periods: int | None, method: str | None, pricing: Pricing) -> None:
    if periods not in (None, 4):
        raise PlanError("pay_in_4 always has 4 payments: leave periods unset")
    if method is not None:
        raise PlanError("pay_in_4 has no repayment method: leave method unset")
    charged = pricing.annual_interest_rate or pricing.fee_rate or (pricing.upfront_fee and pricing.upfront_fee.minor)
    if charged or (pricing.down_payment is not None and pricing.down_payment.minor):
        raise PlanError(
            "pay_in_4 is free and its first payment is the down payment: remove rates, fees and down payment"
        )


def _half_up(value: Fraction) -> int:
    """Round a non-negative exact value half up to an int."""
    return int((value * 2 + 1) // 2)


def _times_rate_half_up(amount: int, rate: Fraction) -> int:
    """``amount × rate`` rounded half up, in integer arithmetic (the hot path of every schedule)."""
    num, den = rate.numerator, rate.denominator
    return (2 * amount * num + den) // (2 * den)


def _pay_in_4(financed: Money, start: date) -> list[_Row]:
    parts = financed.split(4, remainder="first")
    dates = every_n_days(start, 4, _PAY_IN_4_INTERVAL_DAYS)
    return [_Row(d, p.minor, 0, 0) for d, p in zip(dates, parts, strict=True)]


def _pay_in_30(financed: Money, start: date, pricing: Pricing) -> list[_Row]:
    rate = Fraction(pricing.annual_interest_rate) / 100 * _PAY_IN_30_DAYS / 365
    interest = _times_rate_half_up(financed.minor, rate)
    fee = _times_rate_half_up(financed.minor, Fraction(pricing.fee_rate) / 100)
    return [_Row(start + timedelta(days=_PAY_IN_30_DAYS), financed.minor, interest, fee)]


def _monthly(financed: Money, dates: Sequence[date], method: str, pricing: Pricing) -> list[_Row]:
    n = len(dates)
    p = financed.minor
    rate = Fraction(pricing.annual_interest_rate) / 1200
    fee = _times_rate_half_up(p, Fraction(pricing.fee_rate) / 100)
    rows: list[_Row] = []
    if method == "annuity":
        if rate == 0:
            principals = [m.minor for m in financed.split(n, remainder="first")]
            return [_Row(d, pr, 0, fee) for d, pr in zip(dates, principals, strict=True)]
        payment = _half_up(p * rate / (1 - (1 + rate) ** -n))
        balance = p
        for k, due in enumerate(dates):
            interest = _times_rate_half_up(balance, rate)
            principal = balance if k == n - 1 else min(payment - interest, balance)
            rows.append(_Row(due, principal, interest, fee))
            balance -= principal
        return rows
    if method == "interest_only":
        interest = _times_rate_half_up(p, rate)
        return [_Row(d, p if k == n - 1 else 0, interest, fee) for k, d in enumerate(dates)]
    principals = [m.minor for m in financed.split(n, remainder="first")]
    balance = p
    flat_interest = _times_rate_half_up(p, rate)
    for due, principal in zip(dates, principals, strict=True):
        # equal_principal charges interest on the declining balance; flat_fee (等本等息) on the original principal.
        interest = _times_rate_half_up(balance, rate) if method == "equal_principal" else flat_interest
        rows.append(_Row(due, principal, interest, fee))
        balance -= principal
    return rows


def _merchant_parts(amounts: list[int], share: Decimal, currency: Currency) -> list[int]:
    whole = sum(amounts)
    if whole == 0 or share == 0:
        return [0] * len(amounts)
    merchant_total = _half_up(whole * Fraction(share) / 100)
    if merchant_total == 0:
        return [0] * len(amounts)
    return [m.minor for m in Money(merchant_total, currency).allocate(amounts)]


def _apply_subsidy(rows: list[_Row], upfront: Money, share: Decimal) -> tuple[list[_Row], Money, Money]:
    merchant_interest = _merchant_parts([r.interest for r in rows], share, upfront.currency)
    merchant_fee = _merchant_parts([r.fee for r in rows], share, upfront.currency)
    merchant_upfront = _half_up(upfront.minor * Fraction(share) / 100)
    customer_rows = [
        _Row(r.due_date, r.principal, r.interest - mi, r.fee - mf)
        for r, mi, mf in zip(rows, merchant_interest, merchant_fee, strict=True)
    ]
    subsidy = sum(merchant_interest) + sum(merchant_fee) + merchant_upfront
    return (
        customer_rows,
        Money(upfront.minor - merchant_upfront, upfront.currency),
        Money(subsidy, upfront.currency),
    )


def _with_balances(rows: list[_Row], financed: Money) -> tuple[Instalment, ...]:
    currency = financed.currency
    balance = financed.minor
    result = []
    for number, row in enumerate(rows, start=1):
        balance -= row.principal
        result.append(
            Instalment(
                number=number,
                due_date=row.due_date,
                principal=Money(row.principal, currency),
                interest=Money(row.interest, currency),
                fee=Money(row.fee, currency),
                amount=Money(row.principal + row.interest + row.fee, currency),
                balance=Money(balance, currency),
            )
        )
    return tuple(result)
