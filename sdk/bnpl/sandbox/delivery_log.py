"""The delivery log of an endpoint and manual redelivery: sandbox-only operations over the delivery tables.

Both are scoped to the calling merchant: another merchant's endpoint or event answers ``NotFoundError``, exactly
like a missing one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from bnpl.sandbox.db import Database, Row
from bnpl.sandbox.delivery import is_subscribed, webhook_id_for
from bnpl.sandbox.delivery_schema import ensure_delivery_schema
from bnpl.sandbox.service._common import ConflictError, InvalidRequestError, NotFoundError, from_us, to_us

__all__ = ["DeliveryAttempt", "DeliveryAttemptList", "QueuedDelivery", "Redelivery", "list_attempts", "redeliver"]

_ATTEMPT_PREFIX = "wda_"


class DeliveryAttempt(BaseModel):
    """One attempt in an endpoint's delivery log.

    ``outcome``: ``succeeded`` (2xx), ``retrying`` (failed; ``next_attempt_at`` is when the next attempt is
    due), ``abandoned`` (failed, and it was the last retry of the schedule) or ``failed`` (410 Gone: the
    endpoint was disabled). ``status_code`` is absent on a timeout or connection error, ``error`` says which.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    object: Literal["webhook_delivery_attempt"] = "webhook_delivery_attempt"
    endpoint_id: str
    event_id: str
    event_type: str
    webhook_id: str
    attempt: int
    created: datetime
    duration_ms: float
    status_code: int | None
    error: str | None
    outcome: Literal["succeeded", "retrying", "abandoned", "failed"]
    next_attempt_at: datetime | None


class DeliveryAttemptList(BaseModel):
    """A page of the delivery log, newest first; pass ``next_cursor`` as ``starting_after`` for the next."""

    model_config = ConfigDict(frozen=True)

    object: Literal["list"] = "list"
    data: list[DeliveryAttempt]
    has_more: bool
    next_cursor: str | None = None


class QueuedDelivery(BaseModel):
    """A delivery queued by a redelivery: due at ``next_attempt_at`` with a fresh retry schedule."""

    model_config = ConfigDict(frozen=True)

    endpoint_id: str
    webhook_id: str
    status: Literal["pending"] = "pending"
    next_attempt_at: datetime


class Redelivery(BaseModel):
    """The answer to ``POST /v1/events/{id}/redeliver``."""

    model_config = ConfigDict(frozen=True)

    object: Literal["redelivery"] = "redelivery"
    event_id: str
    deliveries: list[QueuedDelivery]


def _attempt(row: Row) -> DeliveryAttempt:
    return DeliveryAttempt(
        id=f"{_ATTEMPT_PREFIX}{row['pk']}",
        endpoint_id=row["endpoint_id"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        webhook_id=row["webhook_id"],
        attempt=row["attempt"],
        created=from_us(row["started"]),
        duration_ms=round(int(row["duration_us"]) / 1000, 3),
        status_code=row["status_code"],
        error=row["error"],
        outcome=row["outcome"],
        next_attempt_at=from_us(row["next_attempt_at"]) if row["next_attempt_at"] is not None else None,
    )


def _cursor_pk(value: str) -> int:
    digits = value.removeprefix(_ATTEMPT_PREFIX)
    if not value.startswith(_ATTEMPT_PREFIX) or not digits.isdigit() or len(digits) > 18:
        raise InvalidRequestError(
            "starting_after must be a delivery attempt id (wda_…) from this log",
            code="parameter_invalid",
            param="starting_after",
        )
    return int(digits)


def list_attempts(
    db: Database, merchant_id: str, endpoint_id: str, *, limit: int = 20, starting_after: str | None = None
) -> DeliveryAttemptList:
    """The endpoint's delivery log, newest first (deleted endpoints keep theirs). ``limit`` is 1–100."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
        raise InvalidRequestError("limit must be an integer from 1 to 100", code="parameter_invalid", param="limit")
    ensure_delivery_schema(db)
    sql = "SELECT * FROM delivery_attempts WHERE endpoint_id = ? AND merchant_id = ?"
    args: list[Any] = [endpoint_id, merchant_id]
    if starting_after is not None:
        sql += " AND pk < ?"
        args.append(_cursor_pk(starting_after))
    with db.transaction(readonly=True) as tx:
        owner = tx.fetchone(
            "SELECT 1 FROM webhook_endpoints WHERE id = ? AND merchant_id = ?", (endpoint_id, merchant_id)
        )
        if owner is None:
            raise NotFoundError("webhook_endpoint", endpoint_id)
        rows = tx.fetchall(sql + " ORDER BY pk DESC LIMIT ?", [*args, limit + 1])
    data = [_attempt(r) for r in rows[:limit]]
    more = len(rows) > limit
    return DeliveryAttemptList(data=data, has_more=more, next_cursor=data[-1].id if more and data else None)


def redeliver(
    db: Database, merchant_id: str, event_id: str, now: datetime, *, endpoint_id: str | None = None
) -> Redelivery:
    """Queue a fresh delivery of one of the merchant's events, due at ``now``, with a new retry schedule.

    Without ``endpoint_id``: to every enabled endpoint subscribed to the event's type now. With it: to that
    endpoint (which must be enabled; it need not be subscribed). A delivery already in flight keeps its
    attempt; its result no longer changes the queued one. Raises ``NotFoundError`` (event or endpoint),
    ``ConflictError`` (a disabled endpoint).
    """
    ensure_delivery_schema(db)
    now_us = to_us(now)
    queued: list[QueuedDelivery] = []
    with db.transaction() as tx:
        event = tx.fetchone("SELECT id, type FROM events WHERE id = ? AND merchant_id = ?", (event_id, merchant_id))
        if event is None:
            raise NotFoundError("event", event_id)
        if endpoint_id is not None:
            endpoint = tx.fetchone(
                "SELECT id, status FROM webhook_endpoints WHERE id = ? AND merchant_id = ? AND deleted_at IS NULL",
                (endpoint_id, merchant_id),
            )
            if endpoint is None:
                raise NotFoundError("webhook_endpoint", endpoint_id)
            if endpoint["status"] != "enabled":
                raise ConflictError(
                    "That webhook endpoint is disabled; re-enable it before redelivering",
                    code="endpoint_disabled",
                    param="endpoint",
                )
            targets = [str(endpoint["id"])]
        else:
            rows = tx.fetchall(
                "SELECT id, enabled_events FROM webhook_endpoints WHERE merchant_id = ? AND "
                "status = 'enabled' AND deleted_at IS NULL ORDER BY pk",
                (merchant_id,),
            )
            targets = [str(r["id"]) for r in rows if is_subscribed(r["enabled_events"], str(event["type"]))]
        for target in targets:
            tx.execute(
                "INSERT INTO deliveries (event_id, endpoint_id, next_attempt_at, created) VALUES (?,?,?,?) "
                "ON CONFLICT (event_id, endpoint_id) DO UPDATE SET status = 'pending', attempt = 0, "
                "next_attempt_at = excluded.next_attempt_at, response_code = NULL, error = NULL, "
                "lease_token = NULL, lease_until = NULL",
                (event_id, target, now_us, now_us),
            )
            queued.append(
                QueuedDelivery(
                    endpoint_id=target, webhook_id=webhook_id_for(event_id, target), next_attempt_at=from_us(now_us)
                )
            )
    return Redelivery(event_id=event_id, deliveries=queued)
