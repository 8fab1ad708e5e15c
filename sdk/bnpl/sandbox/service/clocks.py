"""Test clocks: frozen sandbox time for the objects attached to them."""

from __future__ import annotations

import importlib
from datetime import datetime

from bnpl.models.test_clocks import TestClock, TestClockAdvanceParams, TestClockCreateParams
from bnpl.sandbox.db import Database, Row, Transaction
from bnpl.sandbox.service._common import InvalidRequestError, NotFoundError, from_us, new_id, to_us

__all__ = ["advance_clock", "clock_now", "create_clock", "get_clock", "object_now"]


def _clock(row: Row) -> TestClock:
    return TestClock(
        id=row["id"],
        frozen_time=from_us(row["frozen_time"]),
        status=row["status"],
        name=row["name"],
        created=from_us(row["created"]),
    )


def object_now(tx: Transaction, test_clock_id: str | None, now: datetime) -> datetime:
    """The time an object lives at: its test clock's ``frozen_time``, or ``now`` when it has no clock."""
    if test_clock_id is None:
        return now
    row = tx.fetchone("SELECT frozen_time FROM test_clocks WHERE id = ?", (test_clock_id,))
    return from_us(row["frozen_time"]) if row is not None else now


def clock_now(tx: Transaction, merchant_id: str, test_clock_id: str) -> datetime:
    """The frozen time of one of the merchant's clocks (400 ``param`` test_clock when it is not theirs)."""
    row = tx.fetchone(
        "SELECT frozen_time FROM test_clocks WHERE id = ? AND merchant_id = ?", (test_clock_id, merchant_id)
    )
    if row is None:
        raise InvalidRequestError(
            f"No such test clock: {test_clock_id[:80]!r}", code="resource_missing", param="metadata.test_clock"
        )
    return from_us(row["frozen_time"])


def create_clock(db: Database, merchant_id: str, params: TestClockCreateParams, now: datetime) -> TestClock:
    """Create a clock frozen at ``params.frozen_time``."""
    clock_id = new_id("clk_")
    with db.transaction() as tx:
        tx.execute(
            "INSERT INTO test_clocks (id, merchant_id, name, frozen_time, status, created) VALUES (?,?,?,?,?,?)",
            (clock_id, merchant_id, params.name, to_us(params.frozen_time), "ready", to_us(now)),
        )
        row = tx.fetchone("SELECT * FROM test_clocks WHERE id = ?", (clock_id,))
    if row is None:  # pragma: no cover - inserted above in the same transaction
        raise NotFoundError("test_clock", clock_id)
    return _clock(row)


def get_clock(db: Database, merchant_id: str, clock_id: str) -> TestClock:
    """One of the merchant's clocks (404 otherwise)."""
    with db.transaction(readonly=True) as tx:
        row = tx.fetchone("SELECT * FROM test_clocks WHERE id = ? AND merchant_id = ?", (clock_id, merchant_id))
    if row is None:
        raise NotFoundError("test_clock", clock_id)
    return _clock(row)


def advance_clock(db: Database, merchant_id: str, clock_id: str, params: TestClockAdvanceParams) -> TestClock:
    """Move the clock to ``params.frozen_time`` (strictly later), then let time pass for its objects.

    The simulation (instalments falling due, collections, credit notices) belongs to
    ``bnpl.sandbox.clock.advance(db, clock, new_time)`` when that module exists; without it, checkouts and
    authorizations on this clock still expire.
    """
    new_us = to_us(params.frozen_time)
    with db.transaction() as tx:
        row = tx.fetchone(
            "UPDATE test_clocks SET status = status WHERE id = ? AND merchant_id = ? RETURNING *",
            (clock_id, merchant_id),
        )
        if row is None:
            raise NotFoundError("test_clock", clock_id)
        if new_us <= int(row["frozen_time"]):
            raise InvalidRequestError(
                f"frozen_time must be later than the clock's current time {from_us(row['frozen_time']).isoformat()}",
                code="clock_cannot_go_back",
                param="frozen_time",
            )
        tx.execute("UPDATE test_clocks SET frozen_time = ? WHERE id = ?", (new_us, clock_id))
    clock = get_clock(db, merchant_id, clock_id)
    try:
        simulation = importlib.import_module("bnpl.sandbox.clock")
    except ImportError:
        simulation = None
    if simulation is not None:
        simulation.advance(db, clock, params.frozen_time)
    else:
        from bnpl.sandbox.service.expiry import expire_authorizations, expire_checkouts

        expire_checkouts(db, params.frozen_time, test_clock_id=clock_id)
        expire_authorizations(db, params.frozen_time, test_clock_id=clock_id)
    return get_clock(db, merchant_id, clock_id)
