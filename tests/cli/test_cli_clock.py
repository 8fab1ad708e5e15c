"""`bnpl clock create|advance`: durations (properties), stepping month by month, and the events an advance produced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bnpl import Client
from bnpl.cli.clock import Duration, add_months, parse_duration, parse_time, steps_between
from conftest import Bnpl

moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC))


def test_parse_duration_units() -> None:
    assert parse_duration("1m") == Duration(months=1)
    assert parse_duration("1y") == Duration(months=12)
    assert parse_duration("14d") == Duration(delta=timedelta(days=14))
    assert parse_duration("2w") == Duration(delta=timedelta(days=14))
    assert parse_duration("3h") == Duration(delta=timedelta(hours=3))
    for bad in ("", "1", "m", "1.5m", "-1d", "3s"):
        with pytest.raises(ValueError, match="not a duration"):
            parse_duration(bad)


def test_parse_time_defaults_to_utc() -> None:
    assert parse_time("2026-01-10") == datetime(2026, 1, 10, tzinfo=UTC)
    assert parse_time("2026-01-10T09:00:00+08:00") == datetime(2026, 1, 10, 1, tzinfo=UTC)
    assert parse_time("2026-01-10T09:00:00Z") == datetime(2026, 1, 10, 9, tzinfo=UTC)


@given(moments, st.integers(min_value=0, max_value=240))
def test_add_months_lands_in_the_right_month_with_a_clamped_day(moment: datetime, months: int) -> None:
    moved = add_months(moment, months)
    assert (moved.year * 12 + moved.month) - (moment.year * 12 + moment.month) == months
    assert moved.day == moment.day or (moved.day < moment.day and (moved + timedelta(days=1)).day == 1)
    assert moved.time() == moment.time()


@given(moments, st.integers(min_value=1, max_value=800), st.sampled_from(["1m", "2w", "14d", "3h", "1y"]))
def test_steps_are_increasing_and_end_at_the_target(start: datetime, hours: int, step: str) -> None:
    end = start + timedelta(hours=hours * 24)
    times = steps_between(start, end, parse_duration(step))
    assert times[-1] == end
    assert all(a < b for a, b in zip([start, *times], times, strict=False))
    assert steps_between(start, end, None) == [end]


def test_clock_create_and_advance_month_by_month(bnpl: Bnpl, client: Client) -> None:
    made = bnpl.json("clock", "create", "--frozen-time", "2026-01-10T09:00:00Z", "--name", "cli test")
    assert made["frozen_time"] == "2026-01-10T09:00:00Z"
    clock_id = made["id"]
    checkout = bnpl.json(
        "checkout", "create", "1000", "CNY", "--reference", "clk-1", "--customer-email", "misses-one+cli@bnpl.test",
        "--test-clock", clock_id,
    )  # fmt: skip
    assert checkout["metadata"] == {"test_clock": clock_id}
    bnpl("checkout", "approve", checkout["id"], "--plan", "0")
    order_id = client.checkouts.retrieve(checkout["id"]).order_id
    assert order_id is not None
    bnpl("order", "capture", order_id)
    out = bnpl("clock", "advance", clock_id, "--by", "2m", "--step", "1m").stdout
    assert "2026-03-10 09:00:00 UTC" in out
    # misses_one on pay in 4: #2 fails, goes overdue, is caught up with #3; then #4 and paid off
    types = [line.split()[2] for line in out.splitlines() if " evt_" in line]
    assert types.count("order.instalment_failed") == 1
    assert types.count("order.instalment_overdue") == 1
    assert types[-1] == "order.paid_off"
    order = client.orders.retrieve(order_id)
    assert order.status == "paid_off"
    assert sum(i.amount_paid for i in order.plan.schedule) == 100000
    assert client.test_clocks.retrieve(clock_id).frozen_time == datetime(2026, 3, 10, 9, tzinfo=UTC)


def test_clock_advance_json_lists_the_events(bnpl: Bnpl, client: Client) -> None:
    clock_id = bnpl.json("clock", "create")["id"]
    doc = bnpl.json("clock", "advance", clock_id, "--by", "1d")
    assert doc["clock"]["id"] == clock_id
    assert doc["events"] == []  # nothing attached to this clock


def test_clock_advance_usage_errors(bnpl: Bnpl) -> None:
    clock_id = bnpl.json("clock", "create", "--frozen-time", "2026-01-10")["id"]
    both = bnpl.run("clock", "advance", clock_id, "--to", "2026-02-01", "--by", "1m")
    assert both.exit_code == 2
    assert "exactly one of --to" in both.stderr
    back = bnpl.run("clock", "advance", clock_id, "--to", "2025-01-01")
    assert back.exit_code == 2
    assert "later time" in back.stderr
    bad = bnpl.run("clock", "advance", clock_id, "--by", "soon")
    assert bad.exit_code == 2
    assert "--by" in bad.stderr
    missing = bnpl.run("clock", "advance", "clk_doesnotexist1", "--by", "1d")
    assert missing.exit_code == 1
    assert "not_found_error" in missing.stderr
