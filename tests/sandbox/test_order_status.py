"""Order status after refunds, voids and captures: arrears win while an instalment is overdue.

A refund used to turn an ``in_arrears`` order into ``partially_refunded`` although its instalments were still
overdue (the amount-based rules ran first). Through the service layer on a real SQLite file with a test clock,
plus a property of :func:`derive_status` over every amount combination.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_clock import T0, World, email

from bnpl.models.orders import RefundParams
from bnpl.sandbox.service.orders import derive_status, refund_order


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path / "status.db")


def test_partial_refund_keeps_an_order_in_arrears_while_an_instalment_is_overdue(world: World) -> None:
    order = world.order(email("arrears"), 400_000)
    world.advance(T0 + timedelta(days=20))
    before = world.get(order.id)
    assert before.status == "in_arrears"
    assert [i.status for i in before.plan.schedule] == ["paid", "overdue", "scheduled", "scheduled"]

    after = refund_order(world.db, "mer_clocktest", order.id, RefundParams(amount=10_000), world.now)

    assert after.amount_refunded == 10_000
    assert after.status == "in_arrears"  # was partially_refunded before the fix
    assert [i.status for i in after.plan.schedule] == ["paid", "overdue", "scheduled", "scheduled"]
    assert world.get(order.id).status == "in_arrears"


def test_refund_that_waives_the_overdue_instalment_ends_the_arrears(world: World) -> None:
    order = world.order(email("arrears"), 400_000)
    world.advance(T0 + timedelta(days=20))
    # The refund rule takes principal from the last instalments first: 300,000 clears numbers 4, 3 and 2.
    after = refund_order(world.db, "mer_clocktest", order.id, RefundParams(amount=300_000), world.now)

    assert [i.status for i in after.plan.schedule] == ["paid", "waived", "waived", "waived"]
    assert after.status == "partially_refunded"


@given(
    authorized=st.integers(1, 10_000),
    data=st.data(),
    overdue=st.booleans(),
    current=st.sampled_from(["authorized", "captured", "partially_captured", "partially_refunded", "in_arrears"]),
)
def test_derive_status_arrears_win_over_amounts(
    authorized: int, data: st.DataObject, overdue: bool, current: str
) -> None:
    voided = data.draw(st.integers(0, authorized))
    captured = data.draw(st.integers(0, authorized - voided))
    refunded = data.draw(st.integers(0, captured))
    status = derive_status(current, authorized, captured, refunded, voided, overdue=overdue)
    if overdue and captured > refunded:
        assert status == "in_arrears"
    else:
        assert status != "in_arrears"
        if refunded > 0:
            assert status in ("refunded", "partially_refunded")
        elif captured > 0:
            assert status == ("captured" if captured + voided == authorized else "partially_captured")
