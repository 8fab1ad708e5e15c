""" "As low as ¥X/month": the cheapest monthly amount among the lender's quoted plans, cached briefly.

The monthly amount of a plan is its **largest** instalment (equal-principal plans start higher), so "as low as
¥X/month" never understates what the customer pays in any month of the plan shown.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from bnpl.models.plans import PlanQuote, PlanQuoteList
from bnpl.money import Currency, Money, MoneyError
from bnpl_merchant_kit.errors import InvalidParamError

__all__ = ["AsLowAs", "PlanSummary", "QuoteCache", "as_low_as", "parse_amount_query"]

_DIGITS = re.compile(r"^[1-9][0-9]{0,14}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_AMOUNT: Final = 10**15
"""The largest amount (minor units) the endpoint accepts; the lender applies its own limits below it."""


def parse_amount_query(amount: str | None, currency: str | None) -> tuple[int, str]:
    """Validate ``?amount=129900&currency=CNY`` (strings from a query) into ``(minor units, ISO code)``.

    Raises :class:`InvalidParamError` naming the bad parameter: amounts are positive whole minor units
    (``129900`` for ¥1,299.00, never ``1299.00``), currencies ISO 4217 codes.
    """
    if amount is None or not _DIGITS.match(amount):
        raise InvalidParamError("amount", "a positive whole number of minor units is required, e.g. 129900")
    if currency is None or not _CURRENCY.match(currency):
        raise InvalidParamError("currency", "a three-letter ISO 4217 code is required, e.g. CNY")
    try:
        Currency.of(currency)
    except MoneyError:
        raise InvalidParamError("currency", f"{currency} is not an active ISO 4217 currency") from None
    return int(amount), currency


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """One quoted plan as the widget shows it (amounts in minor units, rates in percent strings)."""

    product: str
    periods: int
    method: str | None
    monthly_amount: int
    first_amount: int
    total_payable: int
    total_cost_of_credit: int
    annual_rates: Mapping[str, str]
    formatted_monthly: str
    formatted_total: str

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "product": self.product,
            "periods": self.periods,
            "method": self.method,
            "monthly_amount": self.monthly_amount,
            "first_amount": self.first_amount,
            "total_payable": self.total_payable,
            "total_cost_of_credit": self.total_cost_of_credit,
            "annual_rates": dict(self.annual_rates),
            "formatted_monthly": self.formatted_monthly,
            "formatted_total": self.formatted_total,
        }


@dataclass(frozen=True, slots=True)
class AsLowAs:
    """The cheapest monthly plan for an amount (``cheapest`` is ``None`` if no monthly plan is offered)."""

    amount: int
    currency: str
    cheapest: PlanSummary | None
    plans: tuple[PlanSummary, ...]

    def as_json(self) -> dict[str, Any]:
        """The body of ``GET /bnpl/as-low-as``."""
        cheapest = self.cheapest
        return {
            "amount": self.amount,
            "currency": self.currency,
            "as_low_as": None
            if cheapest is None
            else {
                "monthly_amount": cheapest.monthly_amount,
                "periods": cheapest.periods,
                "formatted": cheapest.formatted_monthly,
            },
            "plans": [plan.as_json() for plan in self.plans],
        }


def _summary(quote: PlanQuote, locale: str) -> PlanSummary:
    monthly = max(inst.amount for inst in quote.schedule)
    return PlanSummary(
        product=quote.product,
        periods=quote.periods,
        method=quote.method,
        monthly_amount=monthly,
        first_amount=quote.schedule[0].amount,
        total_payable=quote.total_payable,
        total_cost_of_credit=quote.total_cost_of_credit,
        annual_rates=dict(quote.annual_rates),
        formatted_monthly=Money(monthly, quote.currency).format(locale),
        formatted_total=Money(quote.total_payable, quote.currency).format(locale),
    )


def as_low_as(amount: int, currency: str, quotes: PlanQuoteList, *, locale: str = "zh_CN") -> AsLowAs:
    """Summarise the lender's quotes: every plan, and the monthly plan with the smallest monthly amount
    (ties: fewer periods, so the customer pays less in total)."""
    plans = tuple(_summary(q, locale) for q in quotes.data if q.amount == amount and q.currency == currency)
    monthly = [p for p in plans if p.product == "monthly"]
    cheapest = min(monthly, key=lambda p: (p.monthly_amount, p.periods)) if monthly else None
    return AsLowAs(amount, currency, cheapest, plans)


class QuoteCache:
    """A small thread-safe TTL cache of :class:`AsLowAs` per ``(amount, currency)``.

    Product pages show the same few prices to many visitors; a short TTL (60 s by default) keeps the lender's
    quote endpoint out of every page view while rate changes still show within a minute.
    """

    def __init__(
        self, ttl_seconds: float = 60.0, *, max_entries: int = 1024, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int | float) or ttl_seconds < 0:
            raise ValueError("ttl_seconds must be a number of seconds >= 0 (0 disables caching)")
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError("max_entries must be a positive integer")
        self.ttl_seconds = float(ttl_seconds)
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[int, str], tuple[float, AsLowAs]] = OrderedDict()

    def get(self, amount: int, currency: str) -> AsLowAs | None:
        """The cached result, or ``None`` if absent or expired."""
        key = (amount, currency)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if self._clock() >= entry[0]:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, result: AsLowAs) -> None:
        """Remember ``result`` for ``ttl_seconds`` (evicting the least recently used beyond ``max_entries``)."""
        if self.ttl_seconds == 0:
            return
        key = (result.amount, result.currency)
        with self._lock:
            self._entries[key] = (self._clock() + self.ttl_seconds, result)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
