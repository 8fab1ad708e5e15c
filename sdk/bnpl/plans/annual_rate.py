"""Annual-rate disclosures: US Regulation Z APR, EU APRC, and China's PBOC 〔2021〕No.3 annualised rate.

One entry point, :func:`annual_rate`, takes the money the consumer actually receives (drawdowns) and
everything they pay (repayments, fees included) as ``(date, amount)`` pairs in major units, and
returns the annual rate in percent for the chosen regulator's method. See docs/disclosures.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple, cast

from bnpl.plans._rate_solver import NoRootError, solve_general, solve_level
from bnpl.plans._unit_period import (
    UnitPeriod,
    anchor_day,
    infer_unit_period,
    months_back,
    parse_unit_period,
    shift_months,
    unit_times,
)

__all__ = ["AnnualRateError", "AnnualRateMethod", "YearBasis", "annual_rate"]


class AnnualRateMethod(StrEnum):
    """Which regulator's annual rate to compute (members compare equal to their string values)."""

    US_REG_Z = "us_reg_z"
    """12 CFR 1026 Appendix J actuarial APR: unit-period rate x unit periods per year."""
    EU_APRC = "eu_aprc"
    """Directive 2008/48/EC Annex I (as amended by 2011/90/EU) APRC: effective annual rate."""
    CN_COMPOUND = "cn_compound"
    """PBOC 〔2021〕No.3 IRR method, compounded: (1 + r)^k - 1."""
    CN_SIMPLE = "cn_simple"
    """PBOC 〔2021〕No.3 IRR method, simple (单利): r x k."""


class YearBasis(StrEnum):
    """How ``eu_aprc`` expresses intervals in years."""

    PERIODS_THEN_DAYS = "periods_then_days"
    """2011/90/EU: whole months counted back to the first drawdown, then days / 365 (or 366)."""
    CALENDAR = "calendar"
    """Every interval in days / 365, as the worked examples of Directive 98/7/EC Annex III do."""


class AnnualRateError(ValueError):
    """The flows or options given to :func:`annual_rate` cannot produce an annual rate."""


_METHODS = frozenset(m.value for m in AnnualRateMethod)
_BASES = frozenset(b.value for b in YearBasis)
_METHOD_CHOICES = ", ".join(m.value for m in AnnualRateMethod)
_BASIS_CHOICES = ", ".join(b.value for b in YearBasis)
_UNIT_CHOICES = (
    '"day", "week", "2weeks", "4weeks", "semimonth", "month", "2months", "quarter", "semiannual", '
    '"year", "<n> days|weeks|months", or a positive number of days'
)
_LEVEL_MAX_DEVIATIONS = 4

Amount = Decimal | int
Flow = tuple[date, Amount]


class _Shape(NamedTuple):
    """Time structure of a schedule: everything that depends on dates only (cached)."""

    draw_times: tuple[tuple[float, float], ...]  # (exponent in base periods, Reg Z fraction)
    rep_times: tuple[tuple[float, float], ...]
    per_year: float  # unit periods per year (us_reg_z, cn_*)
    compounding: int  # base periods per year for eu_aprc (1 = years, 12 = months)
    level: tuple[float, float] | None  # (first exponent, common fraction) when repayments are regular


def annual_rate(
    drawdowns: Iterable[Flow],
    repayments: Iterable[Flow],
    *,
    method: AnnualRateMethod | str,
    year_basis: YearBasis | str = "periods_then_days",
    unit_period: str | int | None = None,
) -> Decimal:
    """The annual rate, in percent, at which ``drawdowns`` and ``repayments`` are equivalent.

    ``drawdowns`` are the amounts the consumer receives (net of any fee deducted up front) and
    ``repayments`` everything they pay, both as ``(datetime.date, amount)`` pairs in major units
    (``Decimal`` or ``int``; floats are refused). ``method`` is one of ``us_reg_z``, ``eu_aprc``,
    ``cn_compound`` or ``cn_simple``. ``year_basis`` applies to ``eu_aprc`` only; ``unit_period``
    overrides the inferred unit period of ``us_reg_z`` and ``cn_*`` ("month", "2weeks", 14, ...).

    The result is unrounded (12 significant digits); round it as the disclosure requires (Reg Z: to
    1/8 point tolerance, usually 2 decimals; EU: at least 1 decimal). Equal totals give exactly 0.

    Raises :class:`AnnualRateError` for an unknown method, year basis or unit period, empty or
    non-positive flows, floats, negative amounts, repayments dated before the first drawdown, or
    flows that no rate above -100 % balances.
    """
    if method not in _METHODS:
        raise AnnualRateError(f"unknown method {method!r}; choose one of: {_METHOD_CHOICES}")
    if year_basis not in _BASES:
        raise AnnualRateError(f"unknown year_basis {year_basis!r}; choose one of: {_BASIS_CHOICES}")
    unit: UnitPeriod | None = None
    if unit_period is not None:
        if method == AnnualRateMethod.EU_APRC:
            raise AnnualRateError("unit_period applies to us_reg_z, cn_compound and cn_simple, not eu_aprc")
        unit = _parse_unit(unit_period)

    draw_dates, draw_exact, draw_amounts = _collect(drawdowns, "drawdown")
    rep_dates, rep_exact, rep_amounts = _collect(repayments, "repayment")
    start = draw_dates[0]
    if rep_dates[0] < start:
        raise AnnualRateError(
            f"repayment dated {rep_dates[0].isoformat()} is before the first drawdown on {start.isoformat()}"
        )
    draw_total = math.fsum(draw_amounts)
    rep_total = math.fsum(rep_amounts)
    # Floats screen; only totals within rounding of each other are compared exactly in Decimal.
    if abs(rep_total - draw_total) <= 1e-9 * max(rep_total, draw_total) and sum(rep_exact) == sum(draw_exact):
        return Decimal(0)

    shape = _shape(str(method), str(year_basis), unit, draw_dates, rep_dates)
    try:
        rate = _solve(shape, draw_amounts, rep_amounts)
    except NoRootError as exc:
        raise AnnualRateError(f"{exc}; check the dates and amounts of the flows") from exc

    if method == AnnualRateMethod.EU_APRC:
        percent = math.expm1(shape.compounding * math.log1p(rate)) * 100.0
    elif method == AnnualRateMethod.CN_COMPOUND:
        percent = math.expm1(shape.per_year * math.log1p(rate)) * 100.0
    else:
        percent = rate * shape.per_year * 100.0
    if not math.isfinite(percent):
        raise AnnualRateError("the annual rate overflows; check the dates and amounts of the flows")
    return Decimal(f"{percent:.12g}")


def _parse_unit(value: object) -> UnitPeriod:
    parsed = parse_unit_period(value) if isinstance(value, str | int) else None
    if parsed is None:
        raise AnnualRateError(f"unknown unit_period {value!r}; use {_UNIT_CHOICES}")
    return parsed


def _collect(flows: object, label: str) -> tuple[tuple[date, ...], list[Amount], list[float]]:
    """Validate ``flows``; return their dates (sorted, unique), exact amounts and float amounts.

    Written for speed: one pass, a float conversion skipped when an amount repeats the previous one
    (equal instalments), and grouping/sorting only when the input is not already in date order.
    """
    kind_of_flows = type(flows)
    if (
        kind_of_flows is not list
        and kind_of_flows is not tuple
        and (isinstance(flows, str | bytes) or not isinstance(flows, Iterable))
    ):
        raise AnnualRateError(f"{label}s must be a sequence of (date, amount) pairs")
    dates: list[date] = []
    exact: list[Amount] = []
    floats: list[float] = []
    ordered = True
    last = date.min
    prev: Amount = _NAN
    prev_float = 0.0
    try:
        for item in cast(Iterable[Flow], flows):
            try:
                when, amount = item
            except (TypeError, ValueError):
                raise AnnualRateError(f"each {label} must be a (date, amount) pair, got {item!r}") from None
            if type(when) is not date:
                _check_date_type(when, label)
            kind = type(amount)
            if kind is Decimal and amount == prev:
                value = prev_float
            elif kind is Decimal or kind is int:
                try:
                    value = float(amount)
                except (ValueError, OverflowError):
                    value = math.nan
                if not 0.0 < value < math.inf:  # zero, negative, NaN, infinite: let the slow path judge
                    value = _to_float(amount, label)
                prev, prev_float = amount, value
            else:
                _check_amount_type(amount, label)
                value = _to_float(amount, label)  # a Decimal or int subclass
            if when <= last:
                ordered = False
            last = when
            dates.append(when)
            exact.append(amount)
            floats.append(value)
    except InvalidOperation:  # a signalling NaN refuses even to be compared
        raise AnnualRateError(f"a {label} amount is not a finite number (sNaN)") from None
    if not dates:
        raise AnnualRateError(f"no {label}s given; pass at least one (date, amount) pair")
    if not ordered:
        dates, exact, floats = _group(dates, exact)
    if not math.fsum(floats) > 0.0 and sum(exact) <= 0:
        raise AnnualRateError(f"the {label}s total zero; at least one must be positive")
    return tuple(dates), exact, floats


_NAN = Decimal("NaN")


def _to_float(amount: Amount, label: str) -> float:
    """Float of a validated amount; raises for NaN, infinities, negatives and overflow."""
    if isinstance(amount, Decimal) and not amount.is_finite():
        raise AnnualRateError(f"{label} amount {amount} is not a finite number")
    try:
        value = float(amount)
    except OverflowError:
        raise AnnualRateError(f"{label} amount {amount} is too large") from None
    if value < 0.0 or (value == 0.0 and amount < 0):
        raise AnnualRateError(f"{label} amount {amount} is negative; pass amounts as positive numbers")
    if value == math.inf:
        raise AnnualRateError(f"{label} amount {amount} is too large")
    return value


def _group(dates: list[date], exact: list[Amount]) -> tuple[list[date], list[Amount], list[float]]:
    """Sum the amounts falling on one date and sort by date."""
    totals: dict[date, Amount] = {}
    for when, amount in zip(dates, exact, strict=True):
        totals[when] = totals.get(when, 0) + amount
    keys = sorted(totals)
    grouped = [totals[d] for d in keys]
    return keys, grouped, [float(a) for a in grouped]


def _check_amount_type(amount: object, label: str) -> None:
    if isinstance(amount, float):
        raise AnnualRateError(
            f"{label} amount {amount!r} is a float; pass Decimal('...') or int major units (floats are inexact)"
        )
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise AnnualRateError(f"{label} amount {amount!r} must be a Decimal or int, not {type(amount).__name__}")


def _check_date_type(when: object, label: str) -> None:
    if isinstance(when, datetime) or not isinstance(when, date):
        raise AnnualRateError(f"{label} date {when!r} must be a datetime.date (not {type(when).__name__})")


@lru_cache(maxsize=1024)
def _shape(
    method: str, year_basis: str, unit: UnitPeriod | None, draw_dates: tuple[date, ...], rep_dates: tuple[date, ...]
) -> _Shape:
    """Exponents and fractions for every date. Cached: plans repeat the same shapes over and over."""
    start = draw_dates[0]
    series_anchor = max(d.day for d in rep_dates)
    if method == AnnualRateMethod.EU_APRC:
        draw_e, draw_ok = _eu_exponents(draw_dates, start, year_basis, series_anchor)
        rep_e, rep_ok = _eu_exponents(rep_dates, start, year_basis, series_anchor)
        if draw_ok[1] and rep_ok[1]:  # every interval is whole months: compound monthly, exactly
            draws_t = tuple((float(m), 0.0) for m in draw_ok[0])
            reps_t = tuple((float(m), 0.0) for m in rep_ok[0])
            return _Shape(draws_t, reps_t, 12.0, 12, _level(draws_t, reps_t))
        draws_t = tuple((e, 0.0) for e in draw_e)
        reps_t = tuple((e, 0.0) for e in rep_e)
        return _Shape(draws_t, reps_t, 1.0, 1, None)

    if unit is None:
        unit = infer_unit_period(start, list(draw_dates), list(rep_dates), series_anchor)
    draw_tf = unit_times(list(draw_dates), start, unit, series_anchor)
    rep_tf = unit_times(list(rep_dates), start, unit, series_anchor)
    if method == AnnualRateMethod.US_REG_Z:
        # Appendix J (b)(8): whole periods compound, the odd fraction earns simple interest.
        draws_t = tuple((float(t), f) for t, f in draw_tf)
        reps_t = tuple((float(t), f) for t, f in rep_tf)
    else:
        # PBOC IRR: a plain per-period IRR, so the odd fraction is a fractional exponent.
        draws_t = tuple((t + f, 0.0) for t, f in draw_tf)
        reps_t = tuple((t + f, 0.0) for t, f in rep_tf)
    level = _level(tuple((float(t), f) for t, f in draw_tf), tuple((float(t), f) for t, f in rep_tf))
    if level is not None and method != AnnualRateMethod.US_REG_Z:
        level = (level[0] + level[1], 0.0)
    return _Shape(draws_t, reps_t, unit.per_year, 1, level)


def _level(draws: tuple[tuple[float, float], ...], reps: tuple[tuple[float, float], ...]) -> tuple[float, float] | None:
    """(first whole periods, common fraction) if one drawdown at 0 is repaid at consecutive periods."""
    if len(draws) != 1 or draws[0] != (0.0, 0.0):
        return None
    e0, f0 = reps[0]
    for k, (e, f) in enumerate(reps):
        if e != e0 + k or f != f0:
            return None
    return e0, f0


def _eu_exponents(
    dates: tuple[date, ...], start: date, year_basis: str, series_anchor: int
) -> tuple[list[float], tuple[list[int], bool]]:
    """Years from ``start`` per Annex I remark (c); also the whole-month counts if no days remain."""
    years: list[float] = []
    months: list[int] = []
    whole = year_basis == YearBasis.PERIODS_THEN_DAYS
    for d in dates:
        if year_basis == YearBasis.CALENDAR:
            years.append((d - start).days / 365)
            continue
        anchor = anchor_day(d, series_anchor)
        m, back = months_back(d, start, anchor)
        days = (back - start).days
        if days:
            whole = False
            # 2011/90/EU: days over the length (365 or 366) of the year counted back from the last day.
            year_length = (back - shift_months(back, 12, back.day)).days
            years.append(m / 12 + days / year_length)
        else:
            years.append(m / 12)
        months.append(m)
    return years, (months, whole)


def _solve(shape: _Shape, draws: list[float], reps: list[float]) -> float:
    if shape.level is not None:
        e0, f = shape.level
        n = len(reps)
        payment = reps[n // 2]
        if reps.count(payment) == n:
            return solve_level(draws[0], payment, e0, n, f, [])
        deviations = [(a - payment, e0 + k) for k, a in enumerate(reps) if a != payment]
        if len(deviations) <= _LEVEL_MAX_DEVIATIONS:
            return solve_level(draws[0], payment, e0, n, f, deviations)
    terms = [(a, e, f) for a, (e, f) in zip(draws, shape.draw_times, strict=True)]
    terms += [(-a, e, f) for a, (e, f) in zip(reps, shape.rep_times, strict=True)]
    return solve_general(terms)
