"""A fault-injecting HTTP/1.1 proxy on 127.0.0.1, for the reliability tests.

It sits between a client and a server and, per request, at configurable rates:

* ``drop_before``: closes the client's connection without forwarding (the server never sees the request);
* ``drop_after``: forwards, lets the server process the request, reads its whole answer, then closes the client's
  connection without a byte of it (the honest "request applied, answer lost" case);
* ``delay``: waits ``delay_seconds`` before forwarding, then forwards whatever the client did meanwhile (a client
  whose timeout is shorter gives up and retries while the original is still on its way);
* ``status_502`` / ``status_503`` / ``status_429``: answers itself with that status (the server never sees it);
* ``truncate``: forwards, then sends the server's headers and only half of its body, and closes.

Everything else is forwarded untouched. ``stats`` counts each kind, the
requests that were retries (``BNPL-Retry-Attempt`` > 0) and ``duplicate_deliveries`` (a request forwarded with an
``Idempotency-Key`` the server had already received: each one would be a double operation without idempotency);
``wait_idle()`` waits until no request is in
flight (so a reconciliation never races a delayed request). It runs its own event loop in a daemon thread.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from dataclasses import dataclass, fields
from typing import Self

__all__ = ["FAULT_KINDS", "FaultProxy", "FaultRates"]

FAULT_KINDS = ("drop_before", "drop_after", "delay", "status_502", "status_503", "status_429", "truncate")
_MAX_HEADER_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class FaultRates:
    """Probability of each fault per request; the sum must be at most 1 (the rest is forwarded cleanly)."""

    drop_before: float = 0.0
    drop_after: float = 0.0
    delay: float = 0.0
    status_502: float = 0.0
    status_503: float = 0.0
    status_429: float = 0.0
    truncate: float = 0.0

    @classmethod
    def uniform(cls, total: float) -> FaultRates:
        """``total`` split evenly over every kind (``uniform(0.2)`` is a 20 % fault rate)."""
        share = total / len(FAULT_KINDS)
        return cls(**dict.fromkeys(FAULT_KINDS, share))

    def __post_init__(self) -> None:
        values = [getattr(self, f.name) for f in fields(self)]
        if any(v < 0 for v in values) or sum(values) > 1.0 + 1e-9:
            raise ValueError(f"fault rates must be >= 0 and sum to at most 1, got {values}")

    def pick(self, rng: random.Random) -> str | None:
        """The fault for one request, or None to forward it cleanly."""
        draw = rng.random()
        for name in FAULT_KINDS:
            draw -= getattr(self, name)
            if draw < 0:
                return name
        return None


class _ClosedError(Exception):
    """The peer closed the connection before a whole message arrived."""


async def _read_head(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        raise _ClosedError from exc
    except asyncio.LimitOverrunError as exc:
        raise _ClosedError from exc


def _header(head: bytes, name: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return None


async def _read_body(reader: asyncio.StreamReader, head: bytes, *, response: bool) -> tuple[bytes, bool]:
    """The raw body bytes (chunked framing kept) and whether the connection must close after this message."""
    close = (_header(head, b"connection") or b"").lower() == b"close"
    if response and head[9:12] in (b"204", b"304"):
        return b"", close
    length = _header(head, b"content-length")
    try:
        if length is not None:
            return await reader.readexactly(int(length)), close
        if (_header(head, b"transfer-encoding") or b"").lower() == b"chunked":
            raw = bytearray()
            while True:
                size_line = await reader.readuntil(b"\r\n")
                raw += size_line
                size = int(size_line.split(b";")[0], 16)
                raw += await reader.readexactly(size + 2)
                if size == 0:
                    return bytes(raw), close
        if response:
            return await reader.read(), True
        return b"", close
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        raise _ClosedError from exc


class FaultProxy:
    """A fault-injecting proxy to ``upstream`` (``host:port``); use as a context manager, read ``url``."""

    def __init__(self, upstream: str, rates: FaultRates, *, seed: int = 0, delay_seconds: float = 0.05) -> None:
        host, _, port = upstream.rpartition(":")
        self.upstream_host = host.removeprefix("http://").strip("[]")
        self.upstream_port = int(port)
        self.rates = rates
        self.delay_seconds = delay_seconds
        self.stats: Counter[str] = Counter()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._forwarded_keys: set[bytes] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The proxy's base URL (``http://127.0.0.1:PORT``)."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0, limit=_MAX_HEADER_BYTES), self._loop
        ).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop accepting, drop every connection, stop the loop."""
        if self._server is None:
            return
        server, self._server = self._server, None

        async def shutdown() -> None:
            server.close()
            while tasks := [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def set_rates(self, rates: FaultRates) -> None:
        """Change the fault rates (e.g. to 0 for a clean phase)."""
        with self._lock:
            self.rates = rates

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until no request is in flight through the proxy; False if ``timeout`` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def _begin(self, head: bytes) -> str | None:
        with self._lock:
            self._in_flight += 1
            if (_header(head, b"bnpl-retry-attempt") or b"0") != b"0":
                self.stats["retries"] += 1
            fault = self.rates.pick(self._rng)
            self.stats["requests"] += 1
            self.stats[fault or "clean"] += 1
            return fault

    def _note_forwarded(self, request: bytes) -> None:
        # A key the server already saw: without idempotency this delivery would apply the operation twice.
        key = _header(request.split(b"\r\n\r\n", 1)[0], b"idempotency-key")
        if key is None:
            return
        with self._lock:
            if key in self._forwarded_keys:
                self.stats["duplicate_deliveries"] += 1
            self._forwarded_keys.add(key)

    def _end(self) -> None:
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                try:
                    head = await _read_head(client_r)
                    body, close_after = await _read_body(client_r, head, response=False)
                except _ClosedError:
                    return
                fault = self._begin(head)
                try:
                    upstream, keep = await self._one(fault, head + body, client_w, upstream)
                finally:
                    self._end()
                if not keep or close_after:
                    return
        except (ConnectionError, OSError):
            return
        finally:
            if upstream is not None:
                upstream[1].close()
            client_w.close()

    async def _one(
        self,
        fault: str | None,
        request: bytes,
        client_w: asyncio.StreamWriter,
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None,
    ) -> tuple[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None, bool]:
        """Handle one request; return the upstream connection to reuse and whether the client connection stays."""
        if fault == "drop_before":
            return upstream, False
        if fault is not None and fault.startswith("status_"):
            status = int(fault.removeprefix("status_"))
            body = b'{"error":{"type":"api_error","code":"proxy_fault","message":"injected by the fault proxy"}}'
            client_w.write(
                b"HTTP/1.1 %d Injected\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                % (status, len(body), body)
            )
            await client_w.drain()
            return upstream, True
        if fault == "delay":
            await asyncio.sleep(self.delay_seconds)  # the fault itself, not synchronisation
        if upstream is None:
            upstream = await asyncio.open_connection(self.upstream_host, self.upstream_port)
        up_r, up_w = upstream
        self._note_forwarded(request)
        up_w.write(request)
        await up_w.drain()
        try:
            head = await _read_head(up_r)
            body, up_close = await _read_body(up_r, head, response=True)
        except _ClosedError:
            up_w.close()
            return None, False
        if up_close:
            up_w.close()
            upstream = None
        if fault == "drop_after":
            return upstream, False
        if fault == "truncate":
            client_w.write(head + body[: len(body) // 2])
            await client_w.drain()
            return upstream, False
        client_w.write(head + body)
        await client_w.drain()
        return upstream, True
