"""Regulation Z Appendix J time arithmetic: unit periods, whole periods counted back, odd-day fractions.

Paragraph references are to 12 CFR 1026 Appendix J (b). Everything here is pure date arithmetic on
``datetime.date``; amounts never enter, so results can be cached per schedule shape.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date

__all__ = [
    "UNIT_PERIOD_NAMES",
    "UnitPeriod",
    "days_in_month",
    "infer_unit_period",
    "months_back",
    "parse_unit_period",
    "shift_months",
    "single_payment_unit",
    "unit_times",
]

_DIM = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MONTH_DAYS = 365 / 12


def days_in_month(year: int, month: int) -> int:
    """Number of days in ``month`` of ``year`` (Gregorian)."""
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DIM[month - 1]


def shift_months(d: date, months: int, anchor: int) -> date:
    """``d`` moved back ``months`` months, landing on day ``anchor`` clamped to the month's length.

    (b)(3)(iv): months run from a date to the same date of another month; a series on the last day of
    the month (or the 29th/30th) uses the last day of shorter months, which the clamp gives.
    """
    y, m0 = divmod(d.year * 12 + d.month - 1 - months, 12)
    dim = days_in_month(y, m0 + 1)
    return date(y, m0 + 1, anchor if anchor <= dim else dim)


def anchor_day(d: date, series_anchor: int) -> int:
    """The day of month to count months back from ``d``: a month-end date follows the series' day."""
    if series_anchor > d.day and d.day == days_in_month(d.year, d.month):
        return series_anchor
    return d.day


def months_back(d: date, start: date, anchor: int) -> tuple[int, date]:
    """Whole months counted back from ``d`` without passing ``start``, and the date reached."""
    m = (d.year - start.year) * 12 + d.month - start.month
    if m <= 0:
        return 0, d
    back = shift_months(d, m, anchor)
    if back < start:
        m -= 1
        back = shift_months(d, m, anchor) if m else d
    return m, back


@dataclass(frozen=True, slots=True)
class UnitPeriod:
    """A unit period of Appendix J (b)(4): its kind, size and the number of unit periods per year.

    ``kind`` is ``"day"`` (``count`` days), ``"week"`` (``count`` weeks), ``"semimonth"``,
    ``"month"`` (``count`` months, 12 = a year) or ``"term"`` (the whole term of a single advance,
    single payment transaction shorter than a year, (b)(5)(vi)-(vii)).
    """

    kind: str
    count: int
    per_year: float

    @property
    def nominal_days(self) -> float:
        """Approximate length in days, used to order candidates (smaller wins a tie, (b)(4)(i)(A))."""
        if self.kind == "day":
            return float(self.count)
        if self.kind == "week":
            return 7.0 * self.count
        if self.kind == "semimonth":
            return _MONTH_DAYS / 2
        if self.kind == "month":
            return _MONTH_DAYS * self.count
        return 365.0 / self.per_year


def _day(n: int) -> UnitPeriod:
    return UnitPeriod("day", n, 365.0 / n)


def _week(k: int) -> UnitPeriod:
    return UnitPeriod("week", k, 52.0 / k)


def _month(k: int) -> UnitPeriod:
    return UnitPeriod("month", k, 12.0 / k)


_SEMIMONTH = UnitPeriod("semimonth", 1, 24.0)

UNIT_PERIOD_NAMES: dict[str, UnitPeriod] = {
    "day": _day(1),
    "week": _week(1),
    "2weeks": _week(2),
    "biweek": _week(2),
    "fortnight": _week(2),
    "4weeks": _week(4),
    "semimonth": _SEMIMONTH,
    "month": _month(1),
    "2months": _month(2),
    "quarter": _month(3),
    "4months": _month(4),
    "semiannual": _month(6),
    "6months": _month(6),
    "year": _month(12),
}
_PATTERN = re.compile(r"^(\d{1,3})\s*(day|week|month)s?$")

# Standard intervals (b)(3)(iii), ascending by length: the candidates of the average rule (b)(4)(i)(B).
_STANDARD = sorted(
    [_day(1), _SEMIMONTH, *(_week(k) for k in range(1, 53)), *(_month(k) for k in range(1, 13))],
    key=lambda u: u.nominal_days,
)


def parse_unit_period(value: str | int) -> UnitPeriod | None:
    """The unit period named by ``value`` ("month", "2weeks", "quarter", 14, ...), or None if unknown."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if value <= 0 or value > 366:
            return None
        return _week(value // 7) if value % 7 == 0 else _day(value)
    name = value.strip().lower()
    if name in UNIT_PERIOD_NAMES:
        return UNIT_PERIOD_NAMES[name]
    match = _PATTERN.match(name)
    if match is None:
        return None
    n, what = int(match.group(1)), match.group(2)
    if n == 0:
        return None
    if what == "day":
        return parse_unit_period(n)
    if what == "week":
        return _week(n) if n <= 52 else None
    return _month(n) if n <= 12 else None


def _steps(a: date, b: date, series_anchor: int) -> list[UnitPeriod]:
    """The standard intervals that the period from ``a`` to ``b`` is exactly one of."""
    days = (b - a).days
    found: list[UnitPeriod] = []
    if days == 1:
        found.append(_day(1))
    if days % 7 == 0 and 0 < days <= 364:
        found.append(_week(days // 7))
    if 13 <= days <= 17:
        found.append(_SEMIMONTH)
    m, back = months_back(b, a, anchor_day(b, series_anchor))
    if back == a and 1 <= m <= 12:
        found.append(_month(m))
    return found


def single_payment_unit(start: date, end: date, series_anchor: int) -> UnitPeriod:
    """(b)(4)(ii), (b)(5)(vi)-(vii): a single advance, single payment term shorter than a year is one
    unit period (12/months or 365/days per year); a longer term uses a one-year unit period."""
    if end <= start:  # no term at all: any unit will do, the equation then has no root unless balanced
        return _day(1)
    m, back = months_back(end, start, anchor_day(end, series_anchor))
    if m >= 12:
        return _month(12)
    if back == start:
        return UnitPeriod("term", 1, 12.0 / m)
    return UnitPeriod("term", 1, 365.0 / (end - start).days)


def infer_unit_period(start: date, advances: list[date], payments: list[date], series_anchor: int) -> UnitPeriod:
    """(b)(4): the common period occurring most often (the smaller on a tie); with no common period,
    the average period rounded to the nearest standard interval (the smaller on a tie)."""
    if len(advances) == 1 and len(payments) == 1:
        return single_payment_unit(start, payments[0], series_anchor)
    periods = [(start, payments[0])] if payments[0] > start else []
    periods += list(itertools.pairwise(payments))
    periods += list(itertools.pairwise(advances))
    counts: Counter[UnitPeriod] = Counter()
    for a, b in periods:
        counts.update(_steps(a, b, series_anchor))
    if counts:
        best = max(counts.values())
        if best >= 2:
            return min((u for u, c in counts.items() if c == best), key=lambda u: u.nominal_days)
    last = max(payments[-1], advances[-1])
    average = (last - start).days / max(1, len(periods))
    return min(_STANDARD, key=lambda u: (abs(u.nominal_days - average), u.nominal_days))


def unit_times(dates: list[date], start: date, unit: UnitPeriod, series_anchor: int) -> list[tuple[int, float]]:
    """For each date, (whole unit periods, fraction of a unit period) from ``start``, per (b)(5).

    Months are counted back from the later date; the remaining days count 30 to a month, 15 to a
    semimonth ((b)(5)(ii)-(iii)); weeks and days divide the day count ((b)(5)(iv)); a year unit uses
    remaining months / 12 or remaining days / 365 ((b)(5)(v)).
    """
    out: list[tuple[int, float]] = []
    kind, count = unit.kind, unit.count
    for d in dates:
        if d == start:
            out.append((0, 0.0))
        elif kind == "term":
            out.append((1, 0.0))
        elif kind in ("day", "week"):
            size = count if kind == "day" else 7 * count
            t, r = divmod((d - start).days, size)
            out.append((t, r / size))
        else:
            anchor = anchor_day(d, series_anchor)
            m, back = months_back(d, start, anchor)
            rem = (back - start).days
            if kind == "month" and count == 12:
                years, month_rem = divmod(m, 12)
                if rem == 0:
                    out.append((years, month_rem / 12))
                else:
                    year_back = shift_months(d, 12 * years, anchor) if years else d
                    out.append((years, (year_back - start).days / 365))
            else:
                size = 15 if kind == "semimonth" else 30 * count
                t, r = divmod(30 * m + rem, size)
                out.append((t, r / size))
    return out
