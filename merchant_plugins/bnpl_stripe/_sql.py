"""One small SQL dialect over SQLite (stdlib) and PostgreSQL (psycopg 3), the approach of the sandbox's db.py.

SQL is written once with ``?`` placeholders and ``INSERT … ON CONFLICT``; for PostgreSQL the placeholders become
``%s``. Each thread has its own connection. SQLite write transactions start with ``BEGIN IMMEDIATE`` so
concurrent writers (a webhook and ``recover()``) queue on the lock instead of failing on a lock upgrade.
The plugin must not import ``bnpl.sandbox`` (a merchant deploys without it), hence this copy of the idea.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bnpl_stripe.errors import StoreError

__all__ = ["Connection", "Tx", "redact_url"]


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (safe for reprs and errors)."""
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}" if ":" in creds else url


class Tx:
    """An open transaction; statements use ``?`` placeholders on both databases."""

    __slots__ = ("_cur", "_pg")

    def __init__(self, cursor: Any, pg: bool) -> None:
        self._cur = cursor
        self._pg = pg

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; return how many rows it changed."""
        self._cur.execute(sql.replace("?", "%s") if self._pg else sql, tuple(params))
        return int(self._cur.rowcount)

    def one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        """The first row of a query as a dict, or ``None``."""
        self.execute(sql, params)
        row = self._cur.fetchone()
        return None if row is None else dict(row)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Every row of a query, as dicts."""
        self.execute(sql, params)
        return [dict(row) for row in self._cur.fetchall()]


class Connection:
    """A SQLite file (path or ``sqlite:///path``) or a ``postgresql://`` URL behind one API."""

    def __init__(self, url: str, *, schema: str | None = None) -> None:
        if not isinstance(url, str) or not url:
            raise StoreError("the saga store needs a SQLite file path or a postgresql:// URL")
        self.url = url
        self.pg = url.startswith(("postgresql://", "postgres://"))
        self.schema = schema
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        if not self.pg:
            self._path = url.removeprefix("sqlite:///").removeprefix("sqlite://")
            if self._path != ":memory:" and not Path(self._path).parent.exists():
                raise StoreError(f"the directory of the SQLite file {self._path!r} does not exist")
        self._conn()  # fail at construction, not at the first webhook

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if self.pg:
            try:
                import psycopg
                from psycopg.rows import dict_row
            except ImportError:
                raise StoreError("PostgreSQL needs psycopg: pip install 'bnpl[postgres]'") from None
            try:
                conn = psycopg.connect(self.url, autocommit=True, row_factory=dict_row)
            except psycopg.Error as exc:
                msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise StoreError(f"cannot connect to PostgreSQL at {redact_url(self.url)}: {msg}") from None
            if self.schema:
                conn.execute(f'SET search_path TO "{self.schema}"')
        else:
            try:
                conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False, timeout=30)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open SQLite database {self._path!r}: {exc}") from None
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA journal_mode = WAL")
        self._local.conn = conn
        with self._lock:
            self._all.append(conn)
        return conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A write transaction: committed when the block ends, rolled back on any exception."""
        conn = self._conn()
        if self.pg:
            with conn.transaction(), conn.cursor() as cur:
                yield Tx(cur, True)
            return
        cur = conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield Tx(cur, False)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")
        finally:
            cur.close()

    def close(self) -> None:
        """Close every connection this object opened."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.close()
        self._local = threading.local()
