"""A de-duplication store in a SQLite file: safe across threads and processes on one host."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bnpl.webhooks.stores.base import (
    DEFAULT_LEASE_SECONDS,
    DEFAULT_RETENTION_SECONDS,
    ClaimResult,
    Clock,
    DedupStoreError,
    InvalidStoreArgumentError,
    now_from,
    validate_event_id,
    validate_lease,
    validate_object_id,
    validate_retention,
    validate_sequence,
)

__all__ = ["DEFAULT_SQLITE_PATH", "SQLiteStore"]

DEFAULT_SQLITE_PATH = "bnpl_webhooks.sqlite3"
"""The file used when no path is given (relative to the current working directory)."""


class SQLiteStore:
    """Keeps claims, processed ids and sequences in a SQLite file (WAL mode).

    Each thread gets its own connection. Every read-then-write runs in ``BEGIN IMMEDIATE``, which takes the
    database's write lock first, so two threads or processes can never both claim the same event id. Use it
    for a receiver running on one host (several worker processes are fine); use Redis or PostgreSQL when
    instances run on several hosts, since SQLite over a network filesystem is not safe.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = DEFAULT_SQLITE_PATH,
        *,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
        busy_timeout_seconds: float = 10.0,
        clock: Clock | None = None,
    ) -> None:
        if not isinstance(path, str | os.PathLike) or str(path) == "":
            raise InvalidStoreArgumentError(f"path must be a file path, got {path!r:.80}")
        if str(path) == ":memory:":
            # every thread would get its own empty database: nothing would be de-duplicated
            raise InvalidStoreArgumentError("SQLiteStore needs a file path; use MemoryStore for an in-memory store")
        self._path = Path(path)
        self._retention = validate_retention(retention_seconds)
        self._busy_timeout = float(busy_timeout_seconds)
        self._clock = clock
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._closed = False
        self._create_tables()

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self._path)!r})"

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise DedupStoreError("this SQLiteStore is closed; create a new one")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # isolation_level=None: we issue BEGIN IMMEDIATE ourselves instead of the module's deferred BEGIN
            conn = sqlite3.connect(
                self._path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _create_tables(self) -> None:
        with self._write() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS bnpl_webhook_events ("
                " event_id TEXT PRIMARY KEY,"
                " lease_until REAL,"  # NULL once processed
                " processed_at REAL)"  # NULL while only claimed
            )
            conn.execute(
                "CREATE TABLE IF NOT EXISTS bnpl_webhook_objects ("
                " object_id TEXT PRIMARY KEY, sequence INTEGER NOT NULL)"
            )

    def claim(self, event_id: str, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> ClaimResult:
        """Take a lease on ``event_id`` (see :meth:`bnpl.webhooks.stores.base.DedupStore.claim`)."""
        validate_event_id(event_id)
        lease = validate_lease(lease_seconds)
        with self._write() as conn:
            now = now_from(self._clock)
            row = conn.execute(
                "SELECT lease_until, processed_at FROM bnpl_webhook_events WHERE event_id = ?",
                (event_id,),
            ).fetchone()
            if row is not None:
                lease_until, processed_at = row
                if processed_at is not None:
                    return ClaimResult.ALREADY_PROCESSED
                if lease_until is not None and lease_until > now:
                    return ClaimResult.IN_PROGRESS
            conn.execute(
                "INSERT INTO bnpl_webhook_events (event_id, lease_until, processed_at) VALUES (?, ?, NULL) "
                "ON CONFLICT (event_id) DO UPDATE SET lease_until = excluded.lease_until",
                (event_id, now + lease),
            )
            return ClaimResult.CLAIMED

    def complete(self, event_id: str, object_id: str, sequence: int) -> None:
        """Mark processed and raise the object's sequence, in one transaction."""
        validate_event_id(event_id)
        validate_object_id(object_id)
        validate_sequence(sequence)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO bnpl_webhook_events (event_id, lease_until, processed_at) VALUES (?, NULL, ?) "
                "ON CONFLICT (event_id) DO UPDATE SET lease_until = NULL, processed_at = excluded.processed_at",
                (event_id, now_from(self._clock)),
            )
            conn.execute(
                "INSERT INTO bnpl_webhook_objects (object_id, sequence) VALUES (?, ?) "
                "ON CONFLICT (object_id) DO UPDATE SET sequence = max(sequence, excluded.sequence)",
                (object_id, sequence),
            )

    def release(self, event_id: str) -> None:
        """Drop the lease on ``event_id``; a processed id stays processed."""
        validate_event_id(event_id)
        with self._write() as conn:
            conn.execute("DELETE FROM bnpl_webhook_events WHERE event_id = ? AND processed_at IS NULL", (event_id,))

    def last_sequence(self, object_id: str) -> int | None:
        """The highest sequence applied for ``object_id``."""
        validate_object_id(object_id)
        row = (
            self._connection()
            .execute("SELECT sequence FROM bnpl_webhook_objects WHERE object_id = ?", (object_id,))
            .fetchone()
        )
        return None if row is None else int(row[0])

    def purge_expired(self) -> int:
        """Forget processed ids past the retention and expired leases."""
        with self._write() as conn:
            now = now_from(self._clock)
            cursor = conn.execute(
                "DELETE FROM bnpl_webhook_events WHERE (processed_at IS NOT NULL AND processed_at <= ?) "
                "OR (processed_at IS NULL AND lease_until <= ?)",
                (now - self._retention, now),
            )
            return cursor.rowcount

    def close(self) -> None:
        """Close every connection this store opened (in any thread)."""
        self._closed = True
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
