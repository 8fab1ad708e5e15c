"""The plan picker: a stable key per quoted plan (``monthly:6:annuity``), its name, and the checkout filter.

The fare page lists the lender's quotes (``client.plans.quote``); the customer's choice travels as a key in the
booking form and becomes the checkout's ``allowed_plans``, so the hosted page offers exactly that plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from bnpl.models.plans import PlanQuote
from bnpl.money import Money

__all__ = ["PlanChoice", "allowed_plans", "parse_plan_key", "plan_choices", "plan_key", "plan_name"]

_KEY: Final = re.compile(r"^(pay_in_4|pay_in_30|monthly):([1-9][0-9]?):([a-z_]*)$")
_METHODS: Final = {
    "annuity": "等额本息 annuity",
    "equal_principal": "等额本金 equal principal",
    "flat_fee": "等本等息 flat fee",
    "interest_only": "先息后本 interest only",
}


def plan_key(product: str, periods: int, method: str | None) -> str:
    """The form value of a plan, e.g. ``monthly:6:annuity`` or ``pay_in_4:4:``."""
    return f"{product}:{periods}:{method or ''}"


def parse_plan_key(key: str) -> tuple[str, int, str | None]:
    """``(product, periods, method)`` from a form value; :class:`ValueError` says what a valid key looks like."""
    match = _KEY.match(key) if isinstance(key, str) else None
    if match is None:
        raise ValueError("plan: choose one of the plans listed (a key such as monthly:6:annuity)")
    product, periods, method = match.groups()
    if method and method not in _METHODS:
        raise ValueError(f"plan: unknown repayment method {method!r}")
    return product, int(periods), method or None


def plan_name(key: str) -> str:
    """A customer-facing name: ``分4期 Pay in 4``, ``30天后付 Pay in 30 days``, ``6期 等额本息 annuity``."""
    product, periods, method = parse_plan_key(key)
    if product == "pay_in_4":
        return "分4期 Pay in 4 (every 2 weeks, no fee)"
    if product == "pay_in_30":
        return "30天后付 Pay in 30 days"
    return f"{periods}期 {periods} months · {_METHODS.get(method or '', method or '')}"


def allowed_plans(key: str) -> list[dict[str, Any]]:
    """The checkout's ``allowed_plans`` for the chosen plan (the hosted page then offers only that one)."""
    product, periods, method = parse_plan_key(key)
    choice: dict[str, Any] = {"product": product, "periods": [periods]}
    if method is not None:
        choice["method"] = method
    return [choice]


@dataclass(frozen=True, slots=True)
class PlanChoice:
    """One radio button of the plan picker."""

    key: str
    name: str
    instalments: str
    quote: PlanQuote


def _instalments(quote: PlanQuote, locale: str) -> str:
    amounts = [i.amount for i in quote.schedule]
    first = Money(amounts[0], quote.currency).format(locale)
    if len(amounts) == 1:
        return f"1 × {first}"
    if len(set(amounts)) == 1:
        return f"{len(amounts)} × {first}"
    # equal principal falls month by month; an odd fen can make the first or last one differ
    last = Money(amounts[-1], quote.currency).format(locale)
    return f"{len(amounts)} instalments, {first} first … {last} last"


def plan_choices(quotes: list[PlanQuote], locale: str = "zh_CN") -> list[PlanChoice]:
    """The picker's rows, shortest plans first."""
    rows = []
    for quote in sorted(quotes, key=lambda q: (q.product != "pay_in_30", q.periods, q.method or "")):
        key = plan_key(quote.product, quote.periods, quote.method)
        rows.append(PlanChoice(key, plan_name(key), _instalments(quote, locale), quote))
    return rows
