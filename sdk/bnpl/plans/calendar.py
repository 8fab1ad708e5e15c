"""Due-date calendar: month arithmetic that clamps at month ends without drifting.

A plan bought on 31 January falls due on 28 (or 29) February and then on 31 March, not on 28 March: every due
date is computed from the anchor day, never from the previous (possibly clamped) due date.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

__all__ = ["add_months", "every_n_days", "monthly_due_dates"]


def add_months(start: date, months: int, *, anchor_day: int | None = None) -> date:
    """Return ``start`` moved by ``months`` calendar months, clamped to the last day of the target month.

    ``anchor_day`` (default: ``start.day``) is the day of the month the schedule aims for; passing it keeps a
    31st-of-the-month schedule on the 31st whenever the month has one.
    """
    day = start.day if anchor_day is None else anchor_day
    if not 1 <= day <= 31:
        raise ValueError(f"anchor_day must be between 1 and 31, got {day}")
    month_index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day, last_day))


def monthly_due_dates(first_due: date, periods: int, *, anchor_day: int | None = None) -> list[date]:
    """``periods`` monthly due dates starting at ``first_due``, all aiming at ``anchor_day`` (clamped)."""
    anchor = first_due.day if anchor_day is None else anchor_day
    return [add_months(first_due, k, anchor_day=anchor) for k in range(periods)]


def every_n_days(first_due: date, periods: int, days: int) -> list[date]:
    """``periods`` due dates ``days`` apart, starting at ``first_due`` (pay-in-4 uses 14)."""
    return [first_due + timedelta(days=days * k) for k in range(periods)]
