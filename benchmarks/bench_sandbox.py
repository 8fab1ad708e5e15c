"""Sandbox lender throughput: checkout-create latency and complete flows per second at 32 concurrent clients.

The sandbox runs in its own process (``bnpl sandbox serve --json``, so the load generator does not share its
interpreter or GIL); the load generator here is the lightest one we could write: raw asyncio streams (uvloop
when installed) speaking HTTP/1.1 keep-alive, one connection per client, no HTTP library on the client side.

For each backend (SQLite, then PostgreSQL when reachable) it measures, in one run against one server:

- baseline: ``GET /health`` (the framework's own cost: uvicorn + Starlette routing + a constant response)
- create: ``POST /v1/checkouts`` (auth, validation, customer lookup, the credit decision, plan pricing, insert):
  p50/p99 latency and requests/s
- flow: create → the hosted page's own confirm (``POST /hosted/checkouts/{id}/confirm``, the customer's
  browser form post, 303) → ``GET /v1/checkouts/{id}`` (the merchant reads the order id on return) →
  ``POST /v1/orders/{id}/capture``: flows/s and per-step p50/p99

and prints ``os.cpu_count()`` and each figure's ratio to the baseline. Goals (2 cores): checkout decision
p99 < 50 ms, >= 300 flows/s on SQLite.

SQLite is measured twice: as served (with the webhook delivery worker, which wakes after every POST) and with
that worker off (``BNPL_SANDBOX_DELIVERY=0``), which isolates the lender core. The server's CPU seconds per
request come from ``/proc`` and are steadier than wall-clock rates on a shared machine.

Run: ``.venv/bin/python benchmarks/bench_sandbox.py [--seconds 5] [--clients 32] [--workers N] [--no-postgres]
[--delivery both|on|off]``
(``BNPL_BENCH_PG`` overrides the PostgreSQL URL, default ``postgresql://postgres@127.0.0.1:5432/test``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("BNPL_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")


class Conn:
    """One keep-alive HTTP/1.1 connection (Content-Length bodies only: all the sandbox sends)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: bytes) -> None:
        self.reader = reader
        self.writer = writer
        self.host = host

    @classmethod
    async def open(cls, host: str, port: int) -> Conn:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, f"{host}:{port}".encode())

    async def request(
        self, method: bytes, path: bytes, headers: bytes = b"", body: bytes = b""
    ) -> tuple[int, dict[bytes, bytes], bytes]:
        head = b"%s %s HTTP/1.1\r\nHost: %s\r\n%sContent-Length: %d\r\n\r\n" % (
            method,
            path,
            self.host,
            headers,
            len(body),
        )
        self.writer.write(head + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        out: dict[bytes, bytes] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(b":")
                out[name.strip().lower()] = value.strip()
        length = int(out.get(b"content-length", b"0"))
        data = await self.reader.readexactly(length) if length else b""
        return status, out, data

    def close(self) -> None:
        self.writer.close()


@contextmanager
def server(db_url: str, workers: int, delivery: bool = True) -> Iterator[dict[str, str]]:
    """``bnpl sandbox serve --json`` in a subprocess; yields its ready line (base URL and keys)."""
    cmd = [sys.executable, "-m", "bnpl.cli", "sandbox", "serve", "--port", "0", "--db", db_url, "--json"]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "sdk")}
    if not delivery:  # the webhook delivery worker off: the lender core alone
        env["BNPL_SANDBOX_DELIVERY"] = "0"
    if os.environ.get("BNPL_BENCH_PYSPY"):  # profile the server: py-spy's collapsed stacks to that file
        cmd = ["py-spy", "record", "--format", "raw", "-r", "200", "-o", os.environ["BNPL_BENCH_PYSPY"], "--", *cmd]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env, text=True)  # noqa: S603 - our own CLI
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        while line and not line.startswith("{"):  # (py-spy's own chatter when profiling)
            line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the sandbox did not start (exit {proc.wait()})")
        info = json.loads(line)
        info["pid"] = str(proc.pid)
        yield info
    finally:
        # SIGINT lets py-spy write its profile; the CLI itself stops quietly on SIGTERM.
        proc.send_signal(signal.SIGINT if os.environ.get("BNPL_BENCH_PYSPY") else signal.SIGTERM)
        proc.wait(20)


def cpu_seconds(pid: str) -> float:
    """User + system CPU used by the server process and its direct children (``--workers``), from Linux
    ``/proc`` (0 elsewhere). On a shared machine the CPU a request costs is steadier than its wall-clock rate."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == pid or fields[1] == pid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def checkout_body() -> bytes:
    amount = 129_900
    return json.dumps(
        {
            "merchant_reference": "PNR-" + secrets.token_hex(3),
            "amount": amount,
            "currency": "CNY",
            "items": [{"name": "PEK-SHA", "category": "flight", "unit_amount": amount, "total_amount": amount}],
            "return_url": "https://shop.example/return",
            "customer": {"reference": "bench", "email": f"approve+{secrets.token_hex(6)}@bnpl.test"},
        }
    ).encode()


class Load:
    """Drive ``clients`` concurrent connections running ``step`` repeatedly for ``seconds``."""

    def __init__(self, info: dict[str, str], clients: int) -> None:
        parts = urlsplit(info["base_url"])
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.auth = b"Authorization: Bearer %s\r\n" % info["secret_key"].encode()
        self.json_auth = self.auth + b"Content-Type: application/json\r\n"
        self.pk = info["publishable_key"]
        self.clients = clients
        self.pid = info["pid"]

    async def run(
        self, seconds: float, step: Callable[[Conn, dict[str, list[float]]], Awaitable[None]]
    ) -> tuple[int, float, dict[str, list[float]]]:
        """Run the phase; ``timings`` also gets ``"cpu"``: the server's CPU seconds during it."""
        conns = [await Conn.open(self.host, self.port) for _ in range(self.clients)]
        timings: dict[str, list[float]] = {}
        done = 0
        stop = time.perf_counter() + seconds

        async def client(conn: Conn) -> None:
            nonlocal done
            while time.perf_counter() < stop:
                await step(conn, timings)
                done += 1

        cpu0 = cpu_seconds(self.pid)
        start = time.perf_counter()
        await asyncio.gather(*(client(c) for c in conns))
        elapsed = time.perf_counter() - start
        timings["cpu"] = [cpu_seconds(self.pid) - cpu0]
        for c in conns:
            c.close()
        return done, elapsed, timings

    async def health(self, conn: Conn, t: dict[str, list[float]]) -> None:
        t0 = time.perf_counter()
        status, _, _ = await conn.request(b"GET", b"/health")
        t.setdefault("health", []).append(time.perf_counter() - t0)
        assert status == 200, status

    async def _create(self, conn: Conn, t: dict[str, list[float]]) -> dict[str, Any]:
        t0 = time.perf_counter()
        status, _, body = await conn.request(b"POST", b"/v1/checkouts", self.json_auth, checkout_body())
        t.setdefault("create", []).append(time.perf_counter() - t0)
        checkout: dict[str, Any] = json.loads(body)
        if status != 201 or checkout["status"] != "open":
            raise RuntimeError(f"create answered {status}: {body[:300]!r}")
        return checkout

    async def create(self, conn: Conn, t: dict[str, list[float]]) -> None:
        await self._create(conn, t)

    async def flow(self, conn: Conn, t: dict[str, list[float]]) -> None:
        checkout = await self._create(conn, t)
        cid = checkout["id"].encode()
        token = checkout["approval_url"].split("token=", 1)[1]
        form = f"plan=0&key={self.pk}&token={token}".encode()
        t0 = time.perf_counter()
        status, headers, body = await conn.request(
            b"POST",
            b"/hosted/checkouts/%s/confirm" % cid,
            b"Content-Type: application/x-www-form-urlencoded\r\n",
            form,
        )
        t1 = time.perf_counter()
        if status != 303 or b"status=approved" not in headers.get(b"location", b""):
            raise RuntimeError(f"confirm answered {status}: {body[:300]!r}")
        status, _, body = await conn.request(b"GET", b"/v1/checkouts/%s" % cid, self.auth)
        t2 = time.perf_counter()
        order_id = json.loads(body)["order_id"]
        status, _, body = await conn.request(
            b"POST", b"/v1/orders/%s/capture" % order_id.encode(), self.json_auth, b"{}"
        )
        t3 = time.perf_counter()
        if status != 200 or json.loads(body)["status"] != "captured":
            raise RuntimeError(f"capture answered {status}: {body[:300]!r}")
        t.setdefault("confirm", []).append(t1 - t0)
        t.setdefault("get", []).append(t2 - t1)
        t.setdefault("capture", []).append(t3 - t2)
        t.setdefault("flow", []).append(t3 - t0 + t["create"][-1])


def pct(values: list[float], q: float) -> float:
    """The q-quantile in milliseconds."""
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def bench_backend(name: str, db_url: str, args: argparse.Namespace, *, delivery: bool = True) -> dict[str, float]:
    with server(db_url, args.workers, delivery) as info:
        load = Load(info, args.clients)
        await load.run(min(1.0, args.seconds), load.flow)  # warm up: imports, caches, connections, plans
        n_h, s_h, t_h = await load.run(args.seconds, load.health)
        n_c, s_c, t_c = await load.run(args.seconds, load.create)
        n_f, s_f, t_f = await load.run(args.seconds, load.flow)
    base_rps = n_h / s_h
    res = {
        "health_rps": base_rps,
        "health_p50": pct(t_h["health"], 0.5),
        "health_p99": pct(t_h["health"], 0.99),
        "create_rps": n_c / s_c,
        "create_p50": pct(t_c["create"], 0.5),
        "create_p99": pct(t_c["create"], 0.99),
        "flows_per_s": n_f / s_f,
        "health_cpu_ms": 1000 * t_h["cpu"][0] / n_h,
        "create_cpu_ms": 1000 * t_c["cpu"][0] / n_c,
        "flow_cpu_ms": 1000 * t_f["cpu"][0] / n_f,
    }
    worker = "on" if delivery else "OFF"
    print(
        f"\n== {name} ({args.clients} clients, {args.seconds:g} s per phase, server processes={args.workers}, "
        f"webhook delivery worker {worker})"
    )
    print(f"{'phase':<28}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'x baseline req/s':>19}")
    print(
        f"{'baseline GET /health':<28}{base_rps:>10.0f}{res['health_p50']:>10.2f}{res['health_p99']:>10.2f}{1:>19.2f}"
    )
    print(
        f"{'POST /v1/checkouts':<28}{res['create_rps']:>10.0f}{res['create_p50']:>10.2f}"
        f"{res['create_p99']:>10.2f}{base_rps / res['create_rps']:>19.2f}"
    )
    print(
        f"flows (create→confirm→get→capture): {res['flows_per_s']:.0f} flows/s "
        f"({4 * res['flows_per_s']:.0f} req/s, baseline/flow-req = {base_rps / (4 * res['flows_per_s']):.2f})"
    )
    print(
        f"server CPU per request: health {res['health_cpu_ms']:.3f} ms, create {res['create_cpu_ms']:.3f} ms "
        f"({res['create_cpu_ms'] / res['health_cpu_ms']:.1f}x), per flow {res['flow_cpu_ms']:.3f} ms "
        f"({res['flow_cpu_ms'] / res['health_cpu_ms']:.1f}x)"
    )
    for step in ("create", "confirm", "get", "capture", "flow"):
        print(f"  in flow {step:<10} p50 {pct(t_f[step], 0.5):7.2f} ms   p99 {pct(t_f[step], 0.99):7.2f} ms")
    p99_ok = "yes" if res["create_p99"] < 50 else "NO"
    print(f"goal checkout p99 < 50 ms: {p99_ok}; goal >= 300 flows/s: {'yes' if res['flows_per_s'] >= 300 else 'NO'}")
    return res


@contextmanager
def pg_schema() -> Iterator[str | None]:
    """A fresh schema on the benchmark PostgreSQL (the URL pins ``search_path`` to it), or None."""
    try:
        import psycopg

        conn = psycopg.connect(PG_URL, autocommit=True, connect_timeout=3)
    except Exception as exc:  # no server here: skip that backend, say so
        print(f"\n(PostgreSQL at {PG_URL} not reachable: {str(exc).splitlines()[0]}; skipped)")
        yield None
        return
    schema = "bench_" + secrets.token_hex(5)
    conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each phase")
    parser.add_argument("--clients", type=int, default=32, help="concurrent keep-alive clients")
    parser.add_argument("--workers", type=int, default=1, help="server processes (PostgreSQL only; SQLite uses 1)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--delivery",
        choices=("both", "on", "off"),
        default="both",
        help="SQLite runs with the webhook delivery worker on, off (the lender core alone), or both",
    )
    args = parser.parse_args()
    try:
        import uvloop

        run: Callable[[Any], Any] = uvloop.run
    except ImportError:
        run = asyncio.run
    print(f"os.cpu_count() = {os.cpu_count()}; load average {os.getloadavg()[0]:.2f} (other processes share the CPU)")
    workers = args.workers
    args.workers = 1  # SQLite: one process (its writers serialise on the file lock anyway)
    for delivery in (True, False) if args.delivery == "both" else (args.delivery == "on",):
        with tempfile.TemporaryDirectory(prefix="bnpl-bench-") as tmp:
            run(bench_backend("SQLite", os.path.join(tmp, "sandbox.db"), args, delivery=delivery))
    args.workers = workers
    if not args.no_postgres:
        with pg_schema() as url:
            if url is not None:
                run(bench_backend("PostgreSQL", url, args))


if __name__ == "__main__":
    main()
