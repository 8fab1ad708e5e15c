"""The disclosure every plan carries: totals and the annual rate under each market's rule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from bnpl.money import Money, total
from bnpl.plans.annual_rate import annual_rate

__all__ = ["RATE_METHODS", "SIMPLE_RATE_LABEL", "Disclosure", "disclose"]

RATE_METHODS: Final[tuple[str, ...]] = ("us_reg_z", "eu_aprc", "cn_compound", "cn_simple")
"""The annual-rate methods every disclosure carries, in display order."""

SIMPLE_RATE_LABEL: Final = "单利"
"""PBOC 2021 No.3: a simple (non-compounded) annualised rate must be labelled as such wherever it is shown."""


@dataclass(frozen=True, slots=True)
class Disclosure:
    """Pre-contractual figures of a plan.

    ``amount_of_credit`` is the money the customer actually receives on credit (amount financed less the
    upfront fee); ``total_cost_of_credit`` is everything paid on top of it; ``annual_rates`` maps each method of
    :data:`RATE_METHODS` to the annual rate in percent, unrounded.
    """

    amount_of_credit: Money
    total_payable: Money
    total_cost_of_credit: Money
    annual_rates: Mapping[str, Decimal] = field(default_factory=dict)

    def rate(self, method: str, *, places: int = 2) -> str:
        """The rate of ``method`` for display, e.g. ``"13.03 % (单利)"`` for ``cn_simple``."""
        value = self.annual_rates[method].quantize(Decimal(1).scaleb(-places))
        suffix = f" ({SIMPLE_RATE_LABEL})" if method == "cn_simple" else ""
        return f"{value} %{suffix}"


def disclose(
    *,
    purchase_date: date,
    amount_financed: Money,
    upfront_fee: Money,
    down_payment: Money,
    instalments: Sequence[tuple[date, Money]],
    cost_of_instalments: Money,
) -> Disclosure:
    """Compute the disclosure of a schedule of customer repayments.

    The drawdown is the amount financed less the customer's upfront fee, on the purchase date (PBOC 2021 No.3
    and Reg Z's prepaid finance charge alike: a fee taken at the start reduces the credit received).
    """
    currency = amount_financed.currency
    repaid = total((amount for _, amount in instalments), currency)
    credit = amount_financed - upfront_fee
    cost = cost_of_instalments + upfront_fee
    if cost.is_zero():
        rates = dict.fromkeys(RATE_METHODS, Decimal(0))
    else:
        drawdowns = [(purchase_date, credit.amount)]
        repayments = [(due, amount.amount) for due, amount in instalments]
        rates = {m: annual_rate(drawdowns, repayments, method=m) for m in RATE_METHODS}
    return Disclosure(
        amount_of_credit=credit,
        total_payable=down_payment + upfront_fee + repaid,
        total_cost_of_credit=cost,
        annual_rates=MappingProxyType(rates),
    )
