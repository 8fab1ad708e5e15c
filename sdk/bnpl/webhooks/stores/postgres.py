"""A de-duplication store in PostgreSQL: for receivers running as several instances on several hosts.

Needs the ``psycopg`` package (version 3): ``pip install 'bnpl[postgres]'``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bnpl.webhooks.stores.base import (
    DEFAULT_LEASE_SECONDS,
    DEFAULT_RETENTION_SECONDS,
    ClaimResult,
    Clock,
    DedupStoreError,
    InvalidStoreArgumentError,
    MissingExtraError,
    now_from,
    validate_event_id,
    validate_lease,
    validate_object_id,
    validate_prefix,
    validate_retention,
    validate_sequence,
)

__all__ = ["PostgresStore"]


def _import_psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - the extra is installed in the dev venv
        raise MissingExtraError("PostgresStore", "psycopg", "postgres") from exc
    return psycopg


def _statements(psycopg: Any, events: str, objects: str) -> dict[str, Any]:
    sql = psycopg.sql
    ids = {"events": sql.Identifier(events), "objects": sql.Identifier(objects)}
    texts = {
        "create_events": "CREATE TABLE IF NOT EXISTS {events} ("
        " event_id text PRIMARY KEY, lease_until double precision, processed_at double precision)",
        "create_objects": "CREATE TABLE IF NOT EXISTS {objects} (object_id text PRIMARY KEY, sequence bigint NOT NULL)",
        # the WHERE of DO UPDATE runs under the row lock: of two concurrent claims exactly one returns a row
        "claim": "INSERT INTO {events} AS e (event_id, lease_until, processed_at) VALUES (%s, %s, NULL) "
        "ON CONFLICT (event_id) DO UPDATE SET lease_until = EXCLUDED.lease_until "
        "WHERE e.processed_at IS NULL AND e.lease_until <= %s RETURNING event_id",
        "state": "SELECT processed_at FROM {events} WHERE event_id = %s",
        "complete_event": "INSERT INTO {events} (event_id, lease_until, processed_at) VALUES (%s, NULL, %s) "
        "ON CONFLICT (event_id) DO UPDATE SET lease_until = NULL, processed_at = EXCLUDED.processed_at",
        "complete_object": "INSERT INTO {objects} AS o (object_id, sequence) VALUES (%s, %s) "
        "ON CONFLICT (object_id) DO UPDATE SET sequence = GREATEST(o.sequence, EXCLUDED.sequence)",
        "release": "DELETE FROM {events} WHERE event_id = %s AND processed_at IS NULL",
        "last_sequence": "SELECT sequence FROM {objects} WHERE object_id = %s",
        "purge": "DELETE FROM {events} WHERE (processed_at IS NOT NULL AND processed_at <= %s) "
        "OR (processed_at IS NULL AND lease_until <= %s)",
    }
    return {
        name: sql.SQL(text).format(**{k: v for k, v in ids.items() if "{" + k + "}" in text})
        for name, text in texts.items()
    }


class PostgresStore:
    """Keeps claims, processed ids and sequences in two PostgreSQL tables, created if missing.

    Pass a DSN (``postgresql://user@host/db``; each thread then gets its own autocommit connection) or a
    ``psycopg_pool.ConnectionPool`` (anything with a ``connection()`` context manager; you close it yourself).
    A claim is one ``INSERT … ON CONFLICT DO UPDATE … WHERE <lease expired>`` statement, so PostgreSQL's row
    lock decides which of two concurrent deliveries wins; a completion is one transaction.
    """

    def __init__(
        self,
        dsn_or_pool: str | Any,
        *,
        table_prefix: str = "bnpl_webhook",
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
        clock: Clock | None = None,
    ) -> None:
        self._psycopg = _import_psycopg()
        if isinstance(dsn_or_pool, str):
            if not dsn_or_pool.startswith(("postgresql://", "postgres://")) and "=" not in dsn_or_pool:
                raise InvalidStoreArgumentError("dsn must be a postgresql:// URL or a 'key=value' connection string")
            self._dsn: str | None = dsn_or_pool
            self._pool: Any = None
        elif callable(getattr(dsn_or_pool, "connection", None)):
            self._dsn = None
            self._pool = dsn_or_pool
        else:
            raise InvalidStoreArgumentError(
                f"PostgresStore needs a DSN or a psycopg connection pool, got {type(dsn_or_pool).__name__}"
            )
        prefix = validate_prefix(table_prefix)
        self._events = f"{prefix}_events"
        self._objects = f"{prefix}_objects"
        # statements composed once with quoted identifiers (psycopg.sql), never by string formatting
        self._sql = _statements(self._psycopg, self._events, self._objects)
        self._retention = validate_retention(retention_seconds)
        self._clock = clock
        self._local = threading.local()
        self._all: list[Any] = []
        self._all_lock = threading.Lock()
        self._closed = False
        self._create_tables()

    def __repr__(self) -> str:
        # never show the DSN: it may carry a password
        return f"PostgresStore(tables={self._events!r}, {self._objects!r})"

    @contextmanager
    def _conn(self) -> Iterator[Any]:
        if self._closed:
            raise DedupStoreError("this PostgresStore is closed; create a new one")
        if self._pool is not None:
            with self._pool.connection() as conn:
                yield conn
            return
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self._psycopg.connect(self._dsn, autocommit=True)
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        yield conn

    def _create_tables(self) -> None:
        with self._conn() as conn, conn.transaction():
            # serialise concurrent CREATE TABLE IF NOT EXISTS from several processes (it can race on pg_type)
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self._events,))
            conn.execute(self._sql["create_events"])
            conn.execute(self._sql["create_objects"])

    def claim(self, event_id: str, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> ClaimResult:
        """Take a lease on ``event_id`` (see :meth:`bnpl.webhooks.stores.base.DedupStore.claim`)."""
        validate_event_id(event_id)
        lease = validate_lease(lease_seconds)
        with self._conn() as conn:
            # a row may vanish between the two statements (released); then try again
            for _ in range(5):
                now = now_from(self._clock)
                won = conn.execute(
                    self._sql["claim"],
                    (event_id, now + lease, now),
                ).fetchone()
                if won is not None:
                    return ClaimResult.CLAIMED
                row = conn.execute(
                    self._sql["state"],
                    (event_id,),
                ).fetchone()
                if row is not None:
                    return ClaimResult.IN_PROGRESS if row[0] is None else ClaimResult.ALREADY_PROCESSED
        raise DedupStoreError(f"could not claim {event_id!r}: its row kept changing; retry the delivery")

    def complete(self, event_id: str, object_id: str, sequence: int) -> None:
        """Mark processed and raise the object's sequence, in one transaction."""
        validate_event_id(event_id)
        validate_object_id(object_id)
        validate_sequence(sequence)
        with self._conn() as conn, conn.transaction():
            conn.execute(
                self._sql["complete_event"],
                (event_id, now_from(self._clock)),
            )
            conn.execute(
                self._sql["complete_object"],
                (object_id, sequence),
            )

    def release(self, event_id: str) -> None:
        """Drop the lease on ``event_id``; a processed id stays processed."""
        validate_event_id(event_id)
        with self._conn() as conn:
            conn.execute(self._sql["release"], (event_id,))

    def last_sequence(self, object_id: str) -> int | None:
        """The highest sequence applied for ``object_id``."""
        validate_object_id(object_id)
        with self._conn() as conn:
            row = conn.execute(self._sql["last_sequence"], (object_id,)).fetchone()
        return None if row is None else int(row[0])

    def purge_expired(self) -> int:
        """Forget processed ids past the retention and expired leases."""
        now = now_from(self._clock)
        with self._conn() as conn:
            cursor = conn.execute(
                self._sql["purge"],
                (now - self._retention, now),
            )
            return int(cursor.rowcount)

    def close(self) -> None:
        """Close the connections this store opened (a pool you passed in is left open)."""
        self._closed = True
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
