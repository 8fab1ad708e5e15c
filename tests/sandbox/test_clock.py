"""Test-clock simulation on a real temporary SQLite database, through the service layer (no HTTP).

Every persona is run through a pay-in-4 or 12-month plan and the exact event sequence (type, simulated time,
instalment) is asserted, with statuses and amounts. Also: month-by-month vs one jump, idempotent re-runs, a
crash midway, authorization expiry, uncaptured orders, refunds and checkout expiry.
"""

from __future__ import annotations

import json
import secrets
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bnpl.models.checkouts import Checkout, CheckoutCreateParams
from bnpl.models.orders import CaptureParams, Order, RefundParams
from bnpl.models.test_clocks import TestClock, TestClockAdvanceParams, TestClockCreateParams
from bnpl.sandbox.clock import AdvanceResult, ClockPolicy, advance
from bnpl.sandbox.db import Database
from bnpl.sandbox.migrations import migrate
from bnpl.sandbox.service._common import InvalidRequestError, NotFoundError, from_us
from bnpl.sandbox.service.checkouts import approve_checkout, create_checkout, offered_plans
from bnpl.sandbox.service.clocks import advance_clock, create_clock, get_clock
from bnpl.sandbox.service.orders import capture_order, get_order, refund_order

T0 = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
MERCHANT = "mer_clocktest"
PAY_IN_4 = ("pay_in_4", 4, None)
MONTHLY_12 = ("monthly", 12, "annuity")


def day(n: int, hour: int = 0) -> str:
    """The ISO time of midnight (UTC) ``n`` days after 2025-01-10, as events carry it."""
    return (datetime(2025, 1, 10, tzinfo=UTC) + timedelta(days=n, hours=hour)).isoformat()


def email(persona: str) -> str:
    """A fresh customer standing for ``persona`` (the +tag keeps customers apart between tests)."""
    return f"{persona.replace('_', '-')}+{secrets.token_hex(4)}@bnpl.test"


class World:
    """A migrated SQLite database with one merchant's test clock at :data:`T0`."""

    def __init__(self, path: Path) -> None:
        self.db = Database.open(str(path))
        migrate(self.db)
        self.clock = create_clock(self.db, MERCHANT, TestClockCreateParams(frozen_time=T0), T0)

    @property
    def now(self) -> datetime:
        return get_clock(self.db, MERCHANT, self.clock.id).frozen_time

    def checkout(self, customer_email: str, amount: int) -> Checkout:
        params = CheckoutCreateParams.model_validate(
            {
                "merchant_reference": "R-" + secrets.token_hex(3),
                "amount": amount,
                "currency": "CNY",
                "items": [{"name": "PEK-SHA", "category": "flight", "unit_amount": amount, "total_amount": amount}],
                "return_url": "https://shop.example/return",
                "customer": {"reference": "c-" + secrets.token_hex(3), "email": customer_email},
                "metadata": {"test_clock": self.clock.id},
            }
        )
        return create_checkout(self.db, MERCHANT, params, now=T0, approval_url_for=lambda i: f"https://x/{i}")

    def order(
        self, customer_email: str, amount: int, plan: tuple[str, int, str | None] = PAY_IN_4, *, capture: bool = True
    ) -> Order:
        checkout = self.checkout(customer_email, amount)
        assert checkout.status == "open", checkout.decline_reason
        _, offers = offered_plans(self.db, MERCHANT, checkout.id)
        index = next(o.index for o in offers if (o.option.product, o.option.periods, o.option.method) == plan)
        order = approve_checkout(self.db, MERCHANT, checkout.id, index, T0)
        if capture:
            order = capture_order(self.db, MERCHANT, order.id, CaptureParams(), T0)
        return order

    def advance(self, to: datetime) -> TestClock:
        return advance_clock(self.db, MERCHANT, self.clock.id, TestClockAdvanceParams(frozen_time=to))

    def get(self, order_id: str) -> Order:
        return get_order(self.db, MERCHANT, order_id)

    def events(self, object_id: str | None = None, *, after: str | None = None) -> list[tuple[str, str, Any]]:
        """``(type, created, instalment_number or None)`` in outbox order; ``after`` skips up to that type."""
        sql, args = "SELECT type, payload FROM events", ()
        if object_id is not None:
            sql, args = sql + " WHERE object_id = ?", (object_id,)
        with self.db.transaction(readonly=True) as tx:
            rows = tx.fetchall(sql + " ORDER BY pk", args)
        out = []
        for r in rows:
            payload = json.loads(r["payload"])
            when = datetime.fromisoformat(payload["created"].replace("Z", "+00:00")).isoformat()
            out.append((r["type"], when, payload["data"].get("instalment_number")))
        if after is not None:
            out = out[[e[0] for e in out].index(after) + 1 :]
        return out

    def customer_row(self, customer_id: str) -> Any:
        with self.db.transaction(readonly=True) as tx:
            return tx.fetchone("SELECT * FROM customers WHERE id = ?", (customer_id,))


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path / "sandbox.db")


def paid_total(order: Order) -> int:
    return sum(i.amount_paid for i in order.plan.schedule)


# --- personas ------------------------------------------------------------------------------------------------


def test_pays_on_time_pay_in_4(world: World) -> None:
    order = world.order(email("pays_on_time"), 400_000)
    world.advance(T0 + timedelta(days=60))
    assert world.events(order.id, after="order.captured") == [
        ("order.instalment_paid", day(0, 9), 1),  # due on the purchase day: collected at capture
        ("order.instalment_due_soon", day(11), 2),
        ("order.instalment_paid", day(14), 2),
        ("order.instalment_due_soon", day(25), 3),
        ("order.instalment_paid", day(28), 3),
        ("order.instalment_due_soon", day(39), 4),
        ("order.instalment_paid", day(42), 4),
        ("order.paid_off", day(42), None),
    ]
    final = world.get(order.id)
    assert final.status == "paid_off"
    assert [(i.status, i.amount_paid) for i in final.plan.schedule] == [("paid", 100_000)] * 4
    assert paid_total(final) == final.disclosures.total_payable == 400_000


def test_customer_without_persona_pays_on_time(world: World) -> None:
    order = world.order(f"someone+{secrets.token_hex(3)}@example.com", 80_000)
    world.advance(T0 + timedelta(days=50))
    assert world.get(order.id).status == "paid_off"


def test_misses_one_then_catches_up(world: World) -> None:
    order = world.order(email("misses_one"), 400_000)
    world.advance(T0 + timedelta(days=20))
    mid = world.get(order.id)
    assert mid.status == "in_arrears"
    assert [i.status for i in mid.plan.schedule] == ["paid", "overdue", "scheduled", "scheduled"]
    world.advance(T0 + timedelta(days=60))
    assert world.events(order.id, after="order.captured") == [
        ("order.instalment_paid", day(0, 9), 1),
        ("order.instalment_due_soon", day(11), 2),
        ("order.instalment_failed", day(14), 2),
        ("order.instalment_overdue", day(17), 2),
        ("order.instalment_due_soon", day(25), 3),
        ("order.instalment_paid", day(28), 2),  # caught up together with instalment 3
        ("order.instalment_paid", day(28), 3),
        ("order.instalment_due_soon", day(39), 4),
        ("order.instalment_paid", day(42), 4),
        ("order.paid_off", day(42), None),
    ]
    final = world.get(order.id)
    assert final.status == "paid_off"
    assert final.plan.schedule[1].paid_at == datetime(2025, 2, 7, tzinfo=UTC)
    assert paid_total(final) == 400_000


def test_overdue_event_carries_days_overdue(world: World) -> None:
    order = world.order(email("misses_one"), 400_000)
    world.advance(T0 + timedelta(days=18))
    with world.db.transaction(readonly=True) as tx:
        row = tx.fetchone(
            "SELECT payload FROM events WHERE object_id = ? AND type = 'order.instalment_overdue'", (order.id,)
        )
    assert row is not None
    data = json.loads(row["payload"])["data"]
    assert (data["days_overdue"], data["instalment_number"], data["amount"]) == (3, 2, 100_000)
    assert data["order"]["status"] == "in_arrears"


def test_arrears_twelve_months(world: World) -> None:
    order = world.order(email("arrears"), 1_200_000, MONTHLY_12)
    world.advance(T0 + timedelta(days=400))
    events = world.events(order.id, after="order.captured")
    dues = [i.due_date for i in order.plan.schedule]
    expected: list[tuple[str, str, Any]] = []
    for n, due in enumerate(dues, start=1):
        midnight = datetime(due.year, due.month, due.day, tzinfo=UTC)
        expected.append(("order.instalment_due_soon", (midnight - timedelta(days=3)).isoformat(), n))
        if n == 1:
            expected.append(("order.instalment_paid", midnight.isoformat(), n))
        else:
            expected.append(("order.instalment_failed", midnight.isoformat(), n))
            expected.append(("order.instalment_overdue", (midnight + timedelta(days=3)).isoformat(), n))
    assert events == expected
    final = world.get(order.id)
    assert final.status == "in_arrears"
    assert [i.status for i in final.plan.schedule] == ["paid"] + ["overdue"] * 11
    assert paid_total(final) == final.plan.schedule[0].amount
    # The schedule itself is untouched: the instalments still sum to the plan.
    assert sum(i.amount for i in final.plan.schedule) == order.disclosures.total_payable
    assert sum(i.principal for i in final.plan.schedule) == 1_200_000


def test_pays_off_early(world: World) -> None:
    order = world.order(email("pays_off_early"), 1_200_000, MONTHLY_12)
    world.advance(T0 + timedelta(days=400))
    events = world.events(order.id, after="order.captured")
    second = order.plan.schedule[1].due_date
    at = datetime(second.year, second.month, second.day, tzinfo=UTC).isoformat()
    assert [e for e in events if e[0] != "order.instalment_due_soon"] == [
        ("order.instalment_paid", events[1][1], 1),
        *[("order.instalment_paid", at, n) for n in range(2, 13)],
        ("order.paid_off", at, None),
    ]
    assert [e[2] for e in events if e[0] == "order.instalment_due_soon"] == [1, 2]  # none after the payoff
    final = world.get(order.id)
    assert final.status == "paid_off"
    assert paid_total(final) == order.disclosures.total_payable
    assert {i.paid_at for i in final.plan.schedule[1:]} == {datetime.fromisoformat(at)}


def test_limit_increase(world: World) -> None:
    who = email("limit_increase")
    order = world.order(who, 1_500_000, MONTHLY_12)
    world.advance(T0 + timedelta(days=13))
    blocked = world.checkout(who, 800_000)
    assert (blocked.status, blocked.decline_reason) == ("declined", "insufficient_credit")
    world.advance(T0 + timedelta(days=15))
    customer_id = order.customer_id
    assert customer_id is not None
    assert world.events(customer_id) == [("customer.credit_limit_increased", day(14, 9), None)]
    with world.db.transaction(readonly=True) as tx:
        row = tx.fetchone("SELECT payload FROM events WHERE object_id = ?", (customer_id,))
    assert row is not None
    data = json.loads(row["payload"])["data"]
    assert (data["credit_limit_before"], data["credit_limit_after"], data["currency"]) == (
        2_000_000,
        3_000_000,
        "CNY",
    )
    assert world.customer_row(customer_id)["credit_limit"] == 3_000_000
    assert world.checkout(who, 800_000).status == "open"


def test_freeze_notice_then_freeze_then_unfreeze(world: World) -> None:
    who = email("freeze")
    order = world.order(who, 400_000)
    customer_id = order.customer_id
    assert customer_id is not None
    world.advance(T0 + timedelta(days=25))
    assert world.events(customer_id) == [("customer.credit_freeze_scheduled", day(23, 9), None)]
    with world.db.transaction(readonly=True) as tx:
        row = tx.fetchone("SELECT payload FROM events WHERE object_id = ?", (customer_id,))
    assert row is not None
    notice = json.loads(row["payload"])["data"]
    assert notice["effective_at"] == "2025-02-09T09:00:00Z"  # announced 7 days before it takes effect
    assert world.checkout(who, 100_000).status == "open"  # not frozen yet
    world.advance(T0 + timedelta(days=31))
    declined = world.checkout(who, 100_000)
    assert (declined.status, declined.decline_reason) == ("declined", "credit_frozen")
    world.advance(T0 + timedelta(days=61))
    assert world.events(customer_id) == [
        ("customer.credit_freeze_scheduled", day(23, 9), None),
        ("customer.credit_frozen", day(30, 9), None),
        ("customer.credit_unfrozen", day(60, 9), None),
    ]
    assert world.checkout(who, 100_000).status == "open"
    assert world.get(order.id).status == "paid_off"  # the freeze stops new credit, not repayments


def test_rate_cut_applies_to_new_plans_only(world: World) -> None:
    who = email("rate_cut")
    order = world.order(who, 1_200_000, MONTHLY_12)
    customer_id = order.customer_id
    assert customer_id is not None

    def annuity_rate() -> str:
        checkout = world.checkout(who, 300_000)
        _, offers = offered_plans(world.db, MERCHANT, checkout.id)
        return next(o.option.annual_interest_rate for o in offers if o.option.method == "annuity")

    assert annuity_rate() == "12.00"
    world.advance(T0 + timedelta(days=31))
    assert world.events(customer_id) == [("customer.rate_changed", day(30, 9), None)]
    with world.db.transaction(readonly=True) as tx:
        row = tx.fetchone("SELECT payload FROM events WHERE object_id = ?", (customer_id,))
    assert row is not None
    data = json.loads(row["payload"])["data"]
    assert (data["old_annual_rate"], data["new_annual_rate"]) == ("12.00", "9.60")
    assert annuity_rate() == "9.60"
    assert [i.amount for i in world.get(order.id).plan.schedule] == [i.amount for i in order.plan.schedule]


# --- authorization, capture, refunds, checkouts ---------------------------------------------------------------


def test_uncaptured_order_does_not_collect_and_expires_with_warning(world: World) -> None:
    order = world.order(email("pays_on_time"), 400_000, capture=False)
    assert order.authorization_expires_at == T0 + timedelta(days=7)
    world.advance(T0 + timedelta(days=30))
    assert world.events(order.id, after="order.authorized") == [
        ("order.authorization_expiring", day(6, 9), None),
        ("order.authorization_expired", day(7, 9), None),
    ]
    final = world.get(order.id)
    assert final.status == "expired"
    assert paid_total(final) == 0
    assert {i.status for i in final.plan.schedule} == {"scheduled"}


def test_partial_capture_is_released_at_expiry_and_only_the_captured_part_repaid(world: World) -> None:
    order = world.order(email("pays_on_time"), 400_000, capture=False)
    capture_order(world.db, MERCHANT, order.id, CaptureParams(amount=300_000), T0)
    world.advance(T0 + timedelta(days=6, hours=12))
    assert world.get(order.id).status == "partially_captured"
    assert world.events(order.id, after="order.captured") == [("order.authorization_expiring", day(6, 9), None)]
    world.advance(T0 + timedelta(days=60))
    events = world.events(order.id, after="order.authorization_expiring")
    assert events[0] == ("order.authorization_expired", day(7, 9), None)
    assert events[1] == ("order.instalment_paid", day(7, 9), 1)  # repayable from the release on
    # The released 100,000 came off the last instalment (the core's refund rule): it is waived.
    assert events[-1] == ("order.paid_off", day(28), None)
    final = world.get(order.id)
    assert (final.amount_voided, final.status) == (100_000, "paid_off")
    assert [i.status for i in final.plan.schedule] == ["paid", "paid", "paid", "waived"]
    assert paid_total(final) == 300_000 == sum(i.amount for i in final.plan.schedule)


def test_full_capture_before_expiry_has_no_warning(world: World) -> None:
    order = world.order(email("pays_on_time"), 400_000, capture=False)
    world.advance(T0 + timedelta(days=2))
    capture_order(world.db, MERCHANT, order.id, CaptureParams(), T0)
    world.advance(T0 + timedelta(days=60))
    types = [e[0] for e in world.events(order.id)]
    assert "order.authorization_expiring" not in types
    assert "order.authorization_expired" not in types
    # Instalment 1 was due on day 0, before the capture on day 2: collected at the capture.
    assert world.events(order.id, after="order.captured")[0] == ("order.instalment_paid", day(2, 9), 1)
    assert world.get(order.id).status == "paid_off"


def test_partial_refund_waives_instalments(world: World) -> None:
    order = world.order(email("pays_on_time"), 400_000)
    world.advance(T0 + timedelta(days=1))
    refund_order(world.db, MERCHANT, order.id, RefundParams(amount=250_000, reason="trip_canceled"), T0)
    world.advance(T0 + timedelta(days=60))
    final = world.get(order.id)
    assert [(i.status, i.amount, i.amount_paid) for i in final.plan.schedule] == [
        ("paid", 100_000, 100_000),
        ("paid", 50_000, 50_000),
        ("waived", 0, 0),
        ("waived", 0, 0),
    ]
    paid_numbers = [e[2] for e in world.events(order.id) if e[0] == "order.instalment_paid"]
    reminded = [e[2] for e in world.events(order.id) if e[0] == "order.instalment_due_soon"]
    assert (paid_numbers, reminded) == ([1, 2], [2])
    assert paid_total(final) == final.amount_captured - final.amount_refunded == 150_000
    assert final.status == "paid_off"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.integers(min_value=5_000, max_value=500_000), data=st.data())
def test_refunds_property_paid_equals_captured_minus_refunded(amount: int, data: st.DataObject) -> None:
    refund = data.draw(st.integers(min_value=1, max_value=amount - 100_000 if amount > 200_000 else amount))
    with tempfile.TemporaryDirectory() as tmp:
        world = World(Path(tmp) / "s.db")
        order = world.order(email("pays_on_time"), amount)
        world.advance(T0 + timedelta(hours=1))  # instalment 1 (due on day 0) is collected
        first = world.get(order.id).plan.schedule[0].amount_paid
        refund = min(refund, amount - first) if amount - first > 0 else 0
        if refund:
            refund_order(world.db, MERCHANT, order.id, RefundParams(amount=refund, reason="other"), T0)
        world.advance(T0 + timedelta(days=60))
        final = world.get(order.id)
        world.db.close()
    assert paid_total(final) == final.amount_captured - final.amount_refunded
    assert all(i.amount_paid == 0 for i in final.plan.schedule if i.status == "waived")
    assert {i.status for i in final.plan.schedule} <= {"paid", "waived"}
    assert final.status == "paid_off"


def test_open_checkout_expires_at_its_time(world: World) -> None:
    checkout = world.checkout(email("pays_on_time"), 100_000)
    world.advance(T0 + timedelta(hours=2))
    assert world.events(checkout.id) == [("checkout.expired", (T0 + timedelta(minutes=30)).isoformat(), None)]


# --- time travel: one jump = many steps, idempotence, crash recovery -----------------------------------------


def _scenario(path: Path) -> tuple[World, list[str]]:
    world = World(path)
    ids = [
        world.order(email("misses_one"), 1_200_000, MONTHLY_12).id,
        world.order(email("freeze"), 400_000).id,
        world.order(email("pays_on_time"), 400_000, capture=False).id,
    ]
    world.checkout(email("pays_on_time"), 100_000)
    return world, ids


def _normalised(world: World) -> list[tuple[str, str, str, int, Any]]:
    """Events with ids replaced by their order of first appearance (ids are random per database)."""
    names: dict[str, str] = {}
    with world.db.transaction(readonly=True) as tx:
        rows = tx.fetchall("SELECT type, object_id, sequence, payload, created FROM events ORDER BY pk")
    out = []
    for r in rows:
        name = names.setdefault(r["object_id"], f"obj{len(names)}")
        data = json.loads(r["payload"])["data"]
        out.append((r["type"], name, from_us(r["created"]).isoformat(), r["sequence"], data.get("instalment_number")))
    return out


def test_month_by_month_equals_one_jump(tmp_path: Path) -> None:
    jump, _ = _scenario(tmp_path / "jump.db")
    result = advance(jump.db, jump.clock, T0 + timedelta(days=396))
    steps, _ = _scenario(tmp_path / "steps.db")
    for month in range(1, 14):
        steps.advance(T0 + timedelta(days=min(30 * month + month // 2, 396)))
    reference = _normalised(jump)
    assert _normalised(steps) == reference
    assert len(reference) > 40
    assert result.events == len(reference) - 8


@settings(max_examples=10, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=395), max_size=8, unique=True))
def test_any_partition_of_time_gives_the_same_events(cuts: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        reference_world, _ = _scenario(Path(tmp) / "a.db")
        reference_world.advance(T0 + timedelta(days=396))
        world, _ = _scenario(Path(tmp) / "b.db")
        for cut in sorted(cuts):
            world.advance(T0 + timedelta(days=cut, minutes=cut))
        world.advance(T0 + timedelta(days=396))
        assert _normalised(world) == _normalised(reference_world)
        world.db.close()
        reference_world.db.close()


def test_advancing_to_the_same_time_twice_is_a_no_op(world: World) -> None:
    world.order(email("misses_one"), 400_000)
    target = T0 + timedelta(days=30)
    clock = world.advance(target)
    before = world.events()
    assert advance(world.db, clock, target) == AdvanceResult(steps=0, events=0)
    assert advance(world.db, clock, target - timedelta(days=10)) == AdvanceResult(steps=0, events=0)
    assert world.events() == before
    assert world.now == target  # never moved back
    with pytest.raises(InvalidRequestError) as info:
        world.advance(target)  # the API refuses a time that is not later
    assert info.value.code == "clock_cannot_go_back"


def test_crash_midway_is_finished_by_the_next_run(tmp_path: Path) -> None:
    clean, _ = _scenario(tmp_path / "clean.db")
    advance(clean.db, clean.clock, T0 + timedelta(days=120))
    crashed, _ = _scenario(tmp_path / "crashed.db")
    seen: list[datetime] = []

    def crash_after_five(at: datetime) -> None:
        seen.append(at)
        if len(seen) == 5:
            raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError, match="simulated crash"):
        advance(crashed.db, crashed.clock, T0 + timedelta(days=120), on_step=crash_after_five)
    assert get_clock(crashed.db, MERCHANT, crashed.clock.id).status == "advancing"
    partial = _normalised(crashed)
    assert 0 < len(partial) < len(_normalised(clean))
    assert seen == sorted(seen)  # the hook saw simulated instants in order
    advance(crashed.db, crashed.clock, T0 + timedelta(days=120))
    assert get_clock(crashed.db, MERCHANT, crashed.clock.id).status == "ready"
    assert _normalised(crashed) == _normalised(clean)


def test_status_is_advancing_during_the_run(world: World) -> None:
    world.order(email("pays_on_time"), 400_000)
    statuses: list[str] = []
    advance(
        world.db,
        world.clock,
        T0 + timedelta(days=20),
        on_step=lambda _at: statuses.append(get_clock(world.db, MERCHANT, world.clock.id).status),
    )
    assert len(statuses) >= 3
    assert set(statuses) == {"advancing"}
    assert get_clock(world.db, MERCHANT, world.clock.id).status == "ready"


def test_policy_changes_reminder_and_grace(world: World) -> None:
    order = world.order(email("misses_one"), 400_000)
    advance(world.db, world.clock, T0 + timedelta(days=30), policy=ClockPolicy(reminder_days=1, grace_days=5))
    assert world.events(order.id, after="order.captured")[1:4] == [
        ("order.instalment_due_soon", day(13), 2),
        ("order.instalment_failed", day(14), 2),
        ("order.instalment_overdue", day(19), 2),
    ]


# --- input validation ---------------------------------------------------------------------------------------


def test_invalid_inputs_raise_typed_errors(world: World) -> None:
    with pytest.raises(InvalidRequestError, match="timezone-aware"):
        advance(world.db, world.clock, datetime(2025, 2, 1))
    with pytest.raises(InvalidRequestError, match="TestClock"):
        advance(world.db, "clk_x", T0)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="ClockPolicy"):
        advance(world.db, world.clock, T0, policy="fast")  # type: ignore[arg-type]
    ghost = world.clock.model_copy(update={"id": "clk_" + "0" * 24})
    with pytest.raises(NotFoundError):
        advance(world.db, ghost, T0 + timedelta(days=1))
    with pytest.raises(ValueError, match="grace_days"):
        ClockPolicy(grace_days=0)
    with pytest.raises(ValueError, match="reminder_days"):
        ClockPolicy(reminder_days=-1)
