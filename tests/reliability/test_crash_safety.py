"""Suite 3: the sandbox as a separate process (``bnpl sandbox serve --db FILE --json``), killed with SIGKILL at
random moments under load and restarted on the same database and port.

The load is suite 1's workload (checkouts, hosted-page approvals, captures, refunds, voids with their own
idempotency keys) through a fault-free proxy, so clients keep one address across restarts. After the last
restart:

* the ledger has no half-applied operation (every invariant of ``ledger.invariant_violations``);
* every operation reported done happened exactly once, none reported refused happened, and every unknown one is
  resolved by re-issuing it with its idempotency key (suite 1's reconciliation rule) — across the restarts;
* the outbox resumes: a receiver registered before the load gets every event, including those written just before
  a kill, from the restarted process's background worker.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from faultproxy import FaultProxy, FaultRates
from merchant_receiver import MerchantReceiver, dump
from reliability_helpers import scale
from test_fault_injection import Run, reconcile

import bnpl
from bnpl.sandbox import SandboxInfo
from bnpl.sandbox.auth import create_api_key, default_merchant
from bnpl.sandbox.db import Database
from bnpl.sandbox.delivery import DeliveryWorker

BNPL = str(Path(sys.executable).with_name("bnpl"))


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until true, with a deadline (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        pause.wait(0.02)


class Server:
    """One ``bnpl sandbox serve`` subprocess at a time on a fixed database, key and port."""

    def __init__(self, db_path: Path, api_key: str) -> None:
        self.db_path, self.api_key = db_path, api_key
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None
        self.info: dict[str, Any] = {}

    def start(self) -> dict[str, Any]:
        env = {k: v for k, v in os.environ.items() if k != "BNPL_SANDBOX_DELIVERY"}  # the worker runs
        cmd = [BNPL, "sandbox", "serve", "--db", str(self.db_path), "--port", str(self.port), "--json"]
        self.proc = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
            [*cmd, "--api-key", self.api_key], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # printed once it listens
        assert line, "the sandbox process exited before it was ready"
        self.info = json.loads(line)
        self.port = int(self.info["base_url"].rsplit(":", 1)[1])
        return self.info

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()


def test_sigkill_under_load(tmp_path: Path, pytestconfig: pytest.Config) -> None:
    kills = scale(3, 12, pytestconfig)
    operations = scale(240, 1200, pytestconfig)
    api_key = "sk_test_" + secrets.token_hex(16)
    server = Server(tmp_path / "sandbox.db", api_key)
    info = server.start()
    db = Database.open(str(tmp_path / "sandbox.db"))
    receiver = MerchantReceiver(tmp_path, seed=3)
    try:
        merchant = default_merchant(db, datetime.now(UTC))
        publishable = create_api_key(db, merchant, "publishable", datetime.now(UTC))
        sb = SandboxInfo(info["base_url"], api_key, publishable, merchant, str(tmp_path / "sandbox.db"), db)
        with bnpl.Client(api_key=api_key, base_url=sb.base_url) as client:
            endpoint = client.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
        receiver.configure(endpoint.secret)
        rng = random.Random(99)
        restart_s: list[float] = []
        thresholds = sorted(rng.sample(range(20, operations - 20), kills))
        with FaultProxy(sb.base_url, FaultRates(), seed=1) as proxy:
            run = Run(sb, proxy, operations, seed=5, backoff_base=0.2)
            workers = [threading.Thread(target=run.worker, args=(i,)) for i in range(4)]
            for t in workers:
                t.start()
            for threshold in thresholds:  # kill when the load reaches each threshold
                _wait_for(
                    lambda th=threshold: len(run.ops) >= th or not any(w.is_alive() for w in workers), 120, "load"
                )
                run.gate.clear()
                server.kill()
                started = time.monotonic()
                server.start()
                restart_s.append(time.monotonic() - started)
                run.gate.set()
            for t in workers:
                t.join()
            assert proxy.wait_idle(30)
        figures = reconcile(sb, run)  # includes invariant_violations(db) == []

        undelivered = (
            "SELECT COUNT(*) AS n FROM events e WHERE NOT EXISTS (SELECT 1 FROM deliveries d "
            "WHERE d.event_id = e.id AND d.status = 'succeeded')"
        )

        def only_dead_leases_left() -> bool:
            # Undelivered events are only those whose attempt a killed process had leased (the lease outlives it).
            now_us = int(time.time() * 1_000_000)
            with db.transaction(readonly=True) as tx:
                row = tx.fetchone(
                    undelivered  # noqa: S608 - constant SQL
                    + " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id "
                    "AND d.status = 'pending' AND d.lease_until > ?)",
                    (now_us,),
                )
            return row is not None and int(row["n"]) == 0

        _wait_for(only_dead_leases_left, 120, "the restarted outbox to deliver every unleased event")
        with db.transaction(readonly=True) as tx:
            row = tx.fetchone(undelivered)
        dead_leases = int(row["n"]) if row is not None else -1
        # Let time pass beyond the dead leases (3 x timeout + 30 s): a stepped worker on the same database takes
        # them over, exactly as the restarted process would once the lease expires.
        # An attempt that failed around a kill (e.g. the receiver saw a torn request) is retried on the SPEC's
        # backoff schedule, so "eventually" means stepping simulated time through it: 10 min, then past each retry.
        worker = DeliveryWorker(db, jitter=0)
        left = -1
        try:
            for minutes in (10, 45, 180, 600, 1500, 3000, 6000):
                worker.run_due(datetime.now(UTC) + timedelta(minutes=minutes))
                with db.transaction(readonly=True) as tx:
                    row = tx.fetchone(undelivered)
                left = int(row["n"]) if row is not None else -1
                if left == 0:
                    break
        finally:
            worker.close()
        if left != 0:
            with db.transaction(readonly=True) as tx:
                stuck = tx.fetchall(
                    "SELECT e.id, e.type, d.status, d.attempt FROM events e LEFT JOIN deliveries d "
                    "ON d.event_id = e.id WHERE NOT EXISTS (SELECT 1 FROM deliveries s WHERE s.event_id = e.id "
                    "AND s.status = 'succeeded')"
                )
            details = [{k: r[k] for k in ("id", "type", "status", "attempt")} for r in stuck]
            pytest.fail(f"events never delivered after the restarts: {details}")
        assert receiver.wait_idle()
        with db.transaction(readonly=True) as tx:
            events = {r["id"] for r in tx.fetchall("SELECT id FROM events")}
        delivered = {e[0] for e in receiver.effects()}
        assert delivered <= events
        assert len(receiver.effects()) == len(delivered)  # each event's effect once
        # every event's handler ran, except those superseded by a newer sequence of their object (stale)
        assert len(delivered) + receiver.stats["outcome.stale"] == len(events)
        print(
            "RELIABILITY-CRASH "
            + dump(
                {
                    "kills": kills,
                    "operations": len(run.ops),
                    "dead_leases_taken_over": dead_leases,
                    "restart_seconds": [round(x, 2) for x in restart_s],
                    "events": len(events),
                    "outcomes": dict(figures),
                    "receiver": dict(receiver.stats),
                }
            )
        )
        assert figures["invariant_violations"] == 0
    finally:
        server.stop()
        receiver.close()
        db.close()
