"""``bnpl clock create|advance``: sandbox test clocks, and the events an advance produces."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import click

from bnpl.cli._common import api, api_options
from bnpl.cli._output import emit_json, format_time, render_fields, to_json
from bnpl.cli.events import events_after, latest_event_id, render_events
from bnpl.models import TestClock
from bnpl.plans.calendar import add_months as calendar_add_months

__all__ = ["Duration", "add_months", "clock", "parse_duration", "parse_time", "steps_between"]

_DURATION = re.compile(r"^\s*(\d{1,5})\s*(y|m|w|d|h)\s*$")


@dataclass(frozen=True, slots=True)
class Duration:
    """A step of sandbox time: calendar ``months`` (``1m``, ``1y`` = 12 months) plus a fixed ``delta``."""

    months: int = 0
    delta: timedelta = timedelta(0)

    def after(self, start: datetime, times: int = 1) -> datetime:
        """``start`` moved forward ``times`` steps (months counted from ``start``, so Jan 31 + 1m is Feb 28/29)."""
        return add_months(start, self.months * times) + self.delta * times

    @property
    def is_zero(self) -> bool:
        return self.months == 0 and self.delta == timedelta(0)


def parse_duration(text: str) -> Duration:
    """``1m``, ``14d``, ``2w``, ``3h``, ``1y``; raises ``ValueError`` saying what is accepted."""
    found = _DURATION.match(text)
    if found is None:
        raise ValueError(f"{text!r} is not a duration: write e.g. 1m (month), 14d, 2w, 3h or 1y")
    count, unit = int(found.group(1)), found.group(2)
    if unit in {"y", "m"}:
        return Duration(months=count * (12 if unit == "y" else 1))
    return Duration(delta={"w": timedelta(weeks=count), "d": timedelta(days=count), "h": timedelta(hours=count)}[unit])


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus calendar months, the day clamped to the month's length (the plans' calendar rule)."""
    return datetime.combine(calendar_add_months(moment.date(), months), moment.timetz())


def parse_time(text: str) -> datetime:
    """An ISO 8601 date or time; without an offset it is UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time, e.g. 2026-01-10T09:00:00Z or 2026-01-10") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def steps_between(start: datetime, end: datetime, step: Duration | None) -> list[datetime]:
    """The times to advance through from ``start`` to ``end``: every ``step`` from ``start``, then ``end``."""
    if step is None or step.is_zero:
        return [end]
    times: list[datetime] = []
    k = 1
    while (moment := step.after(start, k)) < end:
        times.append(moment)
        k += 1
    times.append(end)
    return times


def _time_option(value: str | None, hint: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=hint) from None


def _duration_option(value: str | None, hint: str) -> Duration | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=hint) from None


def render_clock(c: TestClock) -> str:
    """A clock's id, name, frozen time and status."""
    return render_fields(
        [
            ("clock", c.id),
            ("name", c.name or "-"),
            ("frozen time", format_time(c.frozen_time) + " UTC"),
            ("status", c.status),
        ]
    )


@click.group()
def clock() -> None:
    """Sandbox test clocks: freeze time, attach checkouts (--test-clock), then advance to watch repayments."""


@clock.command("create")
@click.option(
    "--frozen-time", metavar="ISO", default=None, help="Start time (default: now), e.g. 2026-01-10T09:00:00Z."
)
@click.option("--name", default=None, help="A label for the clock.")
@api_options
def create(frozen_time: str | None, name: str | None) -> None:
    """Create a test clock."""
    opts = api()
    start = _time_option(frozen_time, "--frozen-time")
    with opts.client() as client:
        made = client.test_clocks.create(frozen_time=start or datetime.now(UTC).replace(microsecond=0), name=name)
    if opts.as_json:
        emit_json(to_json(made))
    else:
        click.echo(render_clock(made))
        click.echo(f"Attach checkouts with: bnpl checkout create … --test-clock {made.id}")


def _iterate(times: list[datetime], show_bar: bool) -> Iterator[datetime]:
    if not show_bar:
        yield from times
        return
    with click.progressbar(times, label="advancing", item_show_func=lambda t: format_time(t) if t else None) as bar:
        yield from bar


@clock.command("advance")
@click.argument("clock_id")
@click.option("--to", "to", metavar="ISO", default=None, help="Advance to this time.")
@click.option("--by", "by", metavar="DURATION", default=None, help="Advance by 1m, 14d, 2w, 3h or 1y.")
@click.option(
    "--step", metavar="DURATION", default=None, help="Advance in steps of this size (e.g. 1m), with a progress bar."
)
@api_options
def advance(clock_id: str, to: str | None, by: str | None, step: str | None) -> None:
    """Move CLOCK_ID forward (--to or --by) and print the events the lender produced on the way."""
    opts = api()
    if (to is None) == (by is None):
        raise click.UsageError("give exactly one of --to ISO or --by DURATION")
    target = _time_option(to, "--to")
    amount = _duration_option(by, "--by")
    stride = _duration_option(step, "--step")
    with opts.client() as client:
        current = client.test_clocks.retrieve(clock_id)
        start = current.frozen_time.astimezone(UTC)
        end = target if target is not None else amount.after(start) if amount is not None else start
        if end <= start:
            raise click.UsageError(f"the clock is at {format_time(start)} UTC; advance to a later time")
        cursor = latest_event_id(client)
        show_bar = not opts.as_json and sys.stdout.isatty() and stride is not None
        for moment in _iterate(steps_between(start, end, stride), show_bar):
            current = client.test_clocks.advance(clock_id, frozen_time=moment)
        produced = events_after(client, cursor)
    if opts.as_json:
        emit_json({"clock": to_json(current), "events": to_json(produced)})
        return
    click.echo(render_clock(current))
    click.echo("")
    click.echo(f"{len(produced)} event(s):" if produced else "no events")
    if produced:
        click.echo(render_events(produced))
