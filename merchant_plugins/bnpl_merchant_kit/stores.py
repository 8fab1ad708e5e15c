"""Where merchant orders live: a small :class:`OrderStore` protocol, in memory and in SQLite.

A store only needs three operations; the rules that move an order live in :mod:`bnpl_merchant_kit.orders`
and :class:`bnpl_merchant_kit.book.OrderBook`. ``replace`` is a compare-and-set on ``version`` so two
workers (threads or processes) never overwrite each other's change.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

from bnpl_merchant_kit.errors import PluginConfigurationError
from bnpl_merchant_kit.orders import MerchantOrder

__all__ = ["MemoryOrderStore", "OrderStore", "SQLiteOrderStore"]


@runtime_checkable
class OrderStore(Protocol):
    """Persistence for :class:`MerchantOrder` records, keyed by merchant reference."""

    def get(self, reference: str) -> MerchantOrder | None:
        """The order for ``reference``, or ``None``."""
        ...

    def insert(self, order: MerchantOrder) -> bool:
        """Store a new order (``version`` as given); ``False`` if the reference already exists."""
        ...

    def replace(self, order: MerchantOrder) -> bool:
        """Store ``order`` with ``version + 1`` if the stored version is still ``order.version``; else ``False``."""
        ...


class MemoryOrderStore:
    """In-process store for tests and single-process demos (lost on restart)."""

    def __init__(self) -> None:
        self._orders: dict[str, MerchantOrder] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryOrderStore(orders={len(self._orders)})"

    def get(self, reference: str) -> MerchantOrder | None:
        """The order for ``reference``, or ``None``."""
        with self._lock:
            return self._orders.get(reference)

    def insert(self, order: MerchantOrder) -> bool:
        """Store a new order; ``False`` if the reference already exists."""
        with self._lock:
            if order.reference in self._orders:
                return False
            self._orders[order.reference] = order
            return True

    def replace(self, order: MerchantOrder) -> bool:
        """Compare-and-set on ``version``."""
        with self._lock:
            stored = self._orders.get(order.reference)
            if stored is None or stored.version != order.version:
                return False
            self._orders[order.reference] = dataclasses.replace(order, version=order.version + 1)
            return True


_COLUMNS = (
    "reference",
    "currency",
    "amount",
    "status",
    "checkout_id",
    "order_id",
    "amount_captured",
    "amount_refunded",
    "checkout_sequence",
    "order_sequence",
    "version",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bnpl_merchant_orders (
    reference TEXT PRIMARY KEY,
    currency TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount >= 0),
    status TEXT NOT NULL,
    checkout_id TEXT,
    order_id TEXT,
    amount_captured INTEGER NOT NULL DEFAULT 0 CHECK (amount_captured >= 0),
    amount_refunded INTEGER NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0 AND amount_refunded <= amount_captured),
    checkout_sequence INTEGER,
    order_sequence INTEGER,
    version INTEGER NOT NULL DEFAULT 0
)
"""


class SQLiteOrderStore:
    """Orders in a SQLite file (WAL mode): safe for several threads and worker processes on one host."""

    def __init__(self, path: str | Path = "bnpl_orders.sqlite3") -> None:
        if not isinstance(path, str | Path) or str(path) == "":
            raise PluginConfigurationError("SQLiteOrderStore needs a file path (or ':memory:')")
        self.path = str(path)
        self._lock = threading.Lock()
        # one connection guarded by a lock: SQLite serialises writers anyway, and WAL lets readers in
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(_SCHEMA)

    def __repr__(self) -> str:
        return f"SQLiteOrderStore(path={self.path!r})"

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    def get(self, reference: str) -> MerchantOrder | None:
        """The order for ``reference``, or ``None``."""
        with self._lock:
            row = self._conn.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM bnpl_merchant_orders WHERE reference = ?",  # noqa: S608
                (reference,),
            ).fetchone()
        return None if row is None else MerchantOrder(*row)

    def insert(self, order: MerchantOrder) -> bool:
        """Store a new order; ``False`` if the reference already exists."""
        values = tuple(getattr(order, name) for name in _COLUMNS)
        with self._lock:
            cur = self._conn.execute(
                f"INSERT INTO bnpl_merchant_orders ({', '.join(_COLUMNS)}) "  # noqa: S608
                f"VALUES ({', '.join('?' * len(_COLUMNS))}) ON CONFLICT (reference) DO NOTHING",
                values,
            )
            return cur.rowcount == 1

    def replace(self, order: MerchantOrder) -> bool:
        """Compare-and-set on ``version`` (one conditional UPDATE, atomic across processes)."""
        fields = [name for name in _COLUMNS if name not in ("reference", "version")]
        assignments = ", ".join(f"{name} = ?" for name in fields)
        values = [getattr(order, name) for name in fields]
        with self._lock:
            cur = self._conn.execute(
                f"UPDATE bnpl_merchant_orders SET {assignments}, version = version + 1 "  # noqa: S608
                "WHERE reference = ? AND version = ?",
                (*values, order.reference, order.version),
            )
            return cur.rowcount == 1
