"""``Idempotency-Key``: a retried POST returns the first response instead of acting twice.

Per merchant and key, for ``ttl`` (24 h): the first request claims the key (``in_progress``) in its own short
transaction, runs, then stores its response (``done``). A repeat with the same fingerprint (method, path and
body) replays the stored response; a different fingerprint is a 409 ``idempotency_key_reused``; a repeat while
the first is still running is a 409 ``idempotency_request_in_progress`` (retry after a second). A 5xx
answer is not stored, so the client's retry can run again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from bnpl.sandbox.db import Database
from bnpl.sandbox.service._common import to_us

__all__ = ["IdempotencyError", "Replay", "abandon", "begin", "fingerprint", "finish"]

MAX_KEY_LENGTH: Final = 255
_STALE_IN_PROGRESS_US: Final = 60 * 1_000_000  # a claim this old belongs to a crashed request: take it over


class IdempotencyError(Exception):
    """A 409 ``idempotency_error`` (or a 400 for a malformed key) with its stable ``code``."""

    def __init__(self, code: str, message: str, *, status: int = 409, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Replay:
    """The stored answer of the first request with this key."""

    status: int
    body: str


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same": method, path and the exact body bytes."""
    digest = hashlib.sha256()
    for part in (method.encode(), b"\0", path.encode(), b"\0", body):
        digest.update(part)
    return digest.hexdigest()


def begin(db: Database, merchant_id: str, key: str, print_: str, now: datetime, ttl_seconds: int) -> Replay | None:
    """Claim ``key`` for a new request (``None``: go ahead) or return the stored answer to replay.

    Raises :class:`IdempotencyError` for a reused key with another body or a request still in progress.
    """
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise IdempotencyError(
            "idempotency_key_invalid", f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters", status=400
        )
    now_us = to_us(now)
    with db.transaction() as tx:
        tx.execute(
            "DELETE FROM idempotency_keys WHERE merchant_id = ? AND key = ? AND (created < ? OR "
            "(status = 'in_progress' AND created < ?))",
            (merchant_id, key, now_us - ttl_seconds * 1_000_000, now_us - _STALE_IN_PROGRESS_US),
        )
        claimed = tx.execute(
            "INSERT INTO idempotency_keys (merchant_id, key, fingerprint, status, created) "
            "VALUES (?,?,?,'in_progress',?) ON CONFLICT (merchant_id, key) DO NOTHING",
            (merchant_id, key, print_, now_us),
        )
        if claimed == 1:
            return None
        row = tx.fetchone(
            "SELECT fingerprint, status, response_status, response_body FROM idempotency_keys "
            "WHERE merchant_id = ? AND key = ?",
            (merchant_id, key),
        )
    if row is None:  # pragma: no cover - deleted between our statements by another process; let the client retry
        raise IdempotencyError("idempotency_request_in_progress", "Retry this request", retry_after=1)
    if row["fingerprint"] != print_:
        raise IdempotencyError(
            "idempotency_key_reused",
            "This Idempotency-Key was already used with a different request (method, path or body); "
            "use a new key for a new request",
        )
    if row["status"] != "done":
        raise IdempotencyError(
            "idempotency_request_in_progress",
            "A request with this Idempotency-Key is still being processed; retry after it finishes",
            retry_after=1,
        )
    return Replay(status=int(row["response_status"]), body=str(row["response_body"]))


def finish(db: Database, merchant_id: str, key: str, status: int, body: str) -> None:
    """Store the answer of the request that claimed ``key``."""
    with db.transaction() as tx:
        tx.execute(
            "UPDATE idempotency_keys SET status = 'done', response_status = ?, response_body = ? "
            "WHERE merchant_id = ? AND key = ?",
            (status, body, merchant_id, key),
        )


def abandon(db: Database, merchant_id: str, key: str) -> None:
    """Release the claim after a server error, so a retry runs afresh."""
    with db.transaction() as tx:
        tx.execute(
            "DELETE FROM idempotency_keys WHERE merchant_id = ? AND key = ? AND status = 'in_progress'",
            (merchant_id, key),
        )
