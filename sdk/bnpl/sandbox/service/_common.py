"""Shared service plumbing: typed errors, ids, time conversion, JSON and the event outbox."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from bnpl.models.common import API_VERSION
from bnpl.sandbox.db import Transaction

__all__ = [
    "ConflictError",
    "InvalidRequestError",
    "NotFoundError",
    "ServiceError",
    "dumps",
    "emit_event",
    "events_emitted",
    "from_us",
    "new_id",
    "to_us",
]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class ServiceError(Exception):
    """A domain error the API turns into the contract's error body (``type`` decides the HTTP status)."""

    type: str = "api_error"

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param


class InvalidRequestError(ServiceError):
    """The request is well-formed but not acceptable (400)."""

    type = "invalid_request_error"


class NotFoundError(ServiceError):
    """No such object for this merchant (404): another merchant's object answers exactly the same."""

    type = "not_found_error"

    def __init__(self, kind: str, object_id: str) -> None:
        super().__init__(f"No such {kind}: {object_id[:80]!r}", code="resource_missing", param="id")


class ConflictError(ServiceError):
    """The object's state forbids the operation (409), e.g. capturing a voided order."""

    type = "conflict_error"


def new_id(prefix: str) -> str:
    """A fresh random id such as ``chk_3f9a…`` (24 hex characters after the prefix)."""
    return prefix + secrets.token_hex(12)


def to_us(when: datetime) -> int:
    """An aware datetime as integer microseconds since the epoch (the storage format)."""
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(value: int) -> datetime:
    """Integer microseconds since the epoch back to an aware UTC datetime."""
    return _EPOCH + timedelta(microseconds=value)


def dumps(value: Any) -> str:
    """Compact JSON text for storage."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


_SEQUENCE_TABLES: Final = {"chk_": "checkouts", "ord_": "orders", "cus_": "customers"}


class _Tally:
    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0


_EMITTED: Final = _Tally()


def events_emitted() -> int:
    """How many events this process has written so far (committed or rolled back): a cheap change detector, so
    the API wakes the delivery worker only after a request that wrote events."""
    return _EMITTED.n


def emit_event(
    tx: Transaction, merchant_id: str, event_type: str, object_id: str, data_json: str, now: datetime
) -> str:
    """Write one event to the outbox in the caller's transaction and return its id.

    ``sequence`` is the object's next number (its ``sequence`` column is bumped in the same transaction, so
    events of one object are strictly ordered even under concurrent requests). ``data_json`` is the object's
    snapshot, already serialised by its response model.
    """
    table = _SEQUENCE_TABLES[object_id[:4]]
    row = tx.fetchone(
        f"UPDATE {table} SET sequence = sequence + 1 WHERE id = ? RETURNING sequence",  # noqa: S608
        (object_id,),
    )
    if row is None:
        raise NotFoundError(table.rstrip("s"), object_id)
    sequence = int(row["sequence"])
    event_id = new_id("evt_")
    created = now.astimezone(UTC)
    head = dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": created.isoformat().replace("+00:00", "Z"),
            "api_version": API_VERSION,
            "object_id": object_id,
            "sequence": sequence,
            "livemode": False,
        }
    )
    payload = head[:-1] + ',"data":' + data_json + "}"
    tx.execute(
        "INSERT INTO events (id, merchant_id, type, object_id, sequence, payload, created) VALUES (?,?,?,?,?,?,?)",
        (event_id, merchant_id, event_type, object_id, sequence, payload, to_us(created)),
    )
    _EMITTED.n += 1  # racy across threads: a lost update only delays delivery to the worker's next poll
    return event_id
