"""Time passing: open checkouts and uncaptured authorizations expire, each with its event."""

from __future__ import annotations

from datetime import datetime

from bnpl.sandbox.db import Database
from bnpl.sandbox.service._common import emit_event, to_us

__all__ = ["expire_authorizations", "expire_checkouts"]

_BATCH = 200


def _clock_filter(test_clock_id: str | None) -> tuple[str, tuple[str, ...]]:
    if test_clock_id is None:
        return "test_clock_id IS NULL", ()
    return "test_clock_id = ?", (test_clock_id,)


def expire_checkouts(db: Database, now: datetime, *, test_clock_id: str | None = None) -> int:
    """Expire open checkouts whose ``expires_at`` has passed (only those on ``test_clock_id``, or only those
    on no clock); one short transaction per batch; returns how many expired."""
    from bnpl.sandbox.service.checkouts import checkout_from_row

    where, args = _clock_filter(test_clock_id)
    count = 0
    while True:
        with db.transaction() as tx:
            rows = tx.fetchall(
                f"UPDATE checkouts SET status = 'expired' WHERE id IN (SELECT id FROM checkouts WHERE "  # noqa: S608
                f"status = 'open' AND expires_at <= ? AND {where} LIMIT {_BATCH}) AND status = 'open' RETURNING *",
                (to_us(now), *args),
            )
            for row in rows:
                snap = checkout_from_row(row)
                emit_event(tx, row["merchant_id"], "checkout.expired", row["id"], snap.model_dump_json(), now)
        count += len(rows)
        if len(rows) < _BATCH:
            return count


def expire_authorizations(db: Database, now: datetime, *, test_clock_id: str | None = None) -> int:
    """Expire authorized orders with nothing captured whose authorization has lapsed
    (``order.authorization_expired``); returns how many expired."""
    from bnpl.sandbox.service.orders import load_order

    where, args = _clock_filter(test_clock_id)
    count = 0
    while True:
        with db.transaction() as tx:
            rows = tx.fetchall(
                f"UPDATE orders SET status = 'expired' WHERE id IN (SELECT id FROM orders WHERE "  # noqa: S608
                f"status = 'authorized' AND amount_captured = 0 AND authorization_expires_at <= ? AND {where} "
                f"LIMIT {_BATCH}) AND status = 'authorized' RETURNING id, merchant_id",
                (to_us(now), *args),
            )
            for row in rows:
                order = load_order(tx, row["merchant_id"], row["id"])
                emit_event(
                    tx, row["merchant_id"], "order.authorization_expired", row["id"], order.model_dump_json(), now
                )
        count += len(rows)
        if len(rows) < _BATCH:
            return count
