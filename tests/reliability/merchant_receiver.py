"""A merchant's webhook receiver on 127.0.0.1 that can misbehave on purpose.

It is what a merchant deploys: ``WebhookHandler(Webhook(secret), SQLiteStore(...))`` in front of a handler that
writes into the merchant's own database (a SQLite file): one row per handler effect in ``effects`` (no unique
constraint, so a double effect would show as two rows) and the order's state in ``orders``, overwritten by every
event the handler runs for (the handler trusts ``WebhookHandler`` to drop stale events, so a stale event that got
through would roll the state back and the test would see it).

Modes per request (``set_faults``): ``down`` (the socket is closed: connection refused), ``status_500`` (answers
500 before looking at the request), ``slow`` (holds the request ``slow_seconds`` before handling it, longer than
the sender's timeout, then handles it anyway), ``crash`` (the handler raises midway: after receiving and writing,
before committing, so its transaction rolls back and ``WebhookHandler`` answers 500).
"""

from __future__ import annotations

import contextlib
import json
import random
import sqlite3
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bnpl.webhooks import Webhook
from bnpl.webhooks.dispatch import WebhookHandler
from bnpl.webhooks.stores import SQLiteStore

__all__ = ["MerchantReceiver"]


class _Crash(RuntimeError):  # noqa: N818 - a simulated process crash, not an error condition of the code
    """The handler died midway."""


class MerchantReceiver:
    """``MerchantReceiver(tmp_path)`` then ``configure(secret)``: ``url``, ``set_faults(...)``,
    ``stop()``/``start()`` (down/up), ``wait_idle()``, ``stats``, ``effects()``, ``orders()``."""

    def __init__(self, directory: Path, *, seed: int = 0, slow_seconds: float = 1.5) -> None:
        self.db_path = directory / "merchant.db"
        self._store = SQLiteStore(directory / "dedup.db")
        self.handler: WebhookHandler | None = None
        self.stats: Counter[str] = Counter()
        self.slow_seconds = slow_seconds
        self._rates: dict[str, float] = {}
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._local = threading.local()
        self._release = threading.Event()  # never set: a slow request waits its full slow_seconds
        with contextlib.closing(sqlite3.connect(self.db_path)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE effects (event_id TEXT NOT NULL, type TEXT, object_id TEXT, sequence INT)")
            conn.execute(
                "CREATE TABLE orders (order_id TEXT PRIMARY KEY, status TEXT, captured INT, refunded INT, "
                "voided INT, sequence INT)"
            )
            conn.commit()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0
        self.start()

    def configure(self, secret: str) -> None:
        """Verify with the endpoint's ``whsec_`` secret (known once the endpoint is registered at our URL)."""
        handler = WebhookHandler(Webhook(secret), self._store)
        handler.on("*")(self._effect)
        self.handler = handler

    # --- the merchant's handler --------------------------------------------------------------------------------

    def _effect(self, event: Any) -> None:
        conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        try:
            self._write(conn, event)
        finally:
            conn.close()

    def _write(self, conn: sqlite3.Connection, event: Any) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT INTO effects VALUES (?, ?, ?, ?)", (event.id, event.type, event.object_id, event.sequence)
            )
            if event.type.startswith("order."):
                d = event.data
                conn.execute(
                    "INSERT OR REPLACE INTO orders VALUES (?, ?, ?, ?, ?, ?)",
                    (event.object_id, d.status, d.amount_captured, d.amount_refunded, d.amount_voided, event.sequence),
                )
            if getattr(self._local, "crash", False):
                raise _Crash("the handler died before committing")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # --- the HTTP side ---------------------------------------------------------------------------------------

    def set_faults(self, **rates: float) -> None:
        """Per-request probabilities of ``status_500``, ``slow`` and ``crash`` (the rest is handled normally)."""
        with self._lock:
            self._rates = dict(rates)

    def _pick(self) -> str:
        with self._lock:
            draw = self._rng.random()
            for name, rate in self._rates.items():
                draw -= rate
                if draw < 0:
                    return name
            return "ok"

    def _serve_one(self, body: bytes, headers: dict[str, str]) -> int:
        mode = self._pick()
        with self._lock:
            self.stats["requests"] += 1
            self.stats[mode] += 1
        if mode == "status_500":
            return 500
        if mode == "slow":
            self._release.wait(self.slow_seconds)  # the fault: slower than the sender's timeout
        self._local.crash = mode == "crash"
        assert self.handler is not None, "configure(secret) first"
        try:
            result = self.handler.handle(body, headers)
        finally:
            self._local.crash = False
        with self._lock:
            self.stats["outcome." + result.outcome.value] += 1
        return result.status_code

    def start(self) -> None:
        """Listen (again, on the same port once it had one): the receiver is up."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                with receiver._lock:
                    receiver._in_flight += 1
                try:
                    body = self.rfile.read(int(self.headers.get("content-length", "0")))
                    status = receiver._serve_one(body, {k.lower(): v for k, v in self.headers.items()})
                    try:
                        self.send_response(status)
                        self.send_header("content-length", "0")
                        self.end_headers()
                    except OSError:
                        pass  # the sender gave up (timeout): exactly the case under test
                finally:
                    with receiver._idle:
                        receiver._in_flight -= 1
                        receiver._idle.notify_all()

            def log_message(self, *_args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        """Close the socket: the receiver is down (connection refused)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        """The webhook endpoint URL."""
        return f"http://127.0.0.1:{self.port}/webhooks/bnpl"

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no request is being handled (slow ones included)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def effects(self) -> list[tuple[str, str, str, int]]:
        """Every handler effect: (event_id, type, object_id, sequence)."""
        with contextlib.closing(sqlite3.connect(self.db_path)) as conn:
            return [tuple(r) for r in conn.execute("SELECT * FROM effects")]

    def orders(self) -> dict[str, dict[str, Any]]:
        """The merchant's view of each order."""
        with contextlib.closing(sqlite3.connect(self.db_path)) as conn:
            rows = conn.execute("SELECT * FROM orders").fetchall()
        keys = ("status", "captured", "refunded", "voided", "sequence")
        return {r[0]: dict(zip(keys, r[1:], strict=True)) for r in rows}

    def close(self) -> None:
        """Stop serving."""
        self.stop()


def dump(obj: Any) -> str:
    """Compact JSON for the figures line."""
    return json.dumps(obj, sort_keys=True, default=str)
