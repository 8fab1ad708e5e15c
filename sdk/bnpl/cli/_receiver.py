"""A local merchant webhook receiver: verifies, de-duplicates and records the lender's events.

Used by ``bnpl demo`` to show the merchant side of the conversation. It is a real HTTP server on 127.0.0.1 (an
ephemeral port) whose POST handler runs :class:`bnpl.webhooks.WebhookHandler` on the raw body, exactly as a
merchant's framework view would.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from bnpl.models import Event
from bnpl.webhooks import HandleOutcome, MemoryStore, Webhook, WebhookHandler

__all__ = ["LocalReceiver"]

_MAX_BODY = 1024 * 1024


class LocalReceiver:
    """Receive the lender's webhooks on ``url``; :meth:`wait_for` blocks until a matching event was applied."""

    def __init__(self) -> None:
        self._handler: WebhookHandler | None = None
        self._lock = threading.Condition()
        self.applied: list[Event] = []
        self.outcomes: Counter[str] = Counter()
        self.deliveries = 0
        receiver = self

        class _Request(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, _MAX_BODY))
                status, payload = receiver._receive(body, dict(self.headers.items()))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Request)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="bnpl-demo-receiver", daemon=True)

    @property
    def url(self) -> str:
        """Where the lender should POST its events."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/webhooks/bnpl"

    def use_secret(self, secret: str) -> None:
        """Verify with the endpoint's ``whsec_`` secret from now on (events before this are refused with 400)."""
        handler = WebhookHandler(Webhook(secret), MemoryStore())
        handler.on("*")(self._apply)
        with self._lock:
            self._handler = handler

    def _apply(self, event: Event) -> None:
        with self._lock:
            self.applied.append(event)
            self._lock.notify_all()

    def _receive(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        with self._lock:
            handler = self._handler
            self.deliveries += 1
        if handler is None:
            return 503, b'{"error": "receiver not configured yet"}'
        result = handler.handle(body, headers)
        with self._lock:
            self.outcomes[result.outcome.value] += 1
            self._lock.notify_all()
        return result.status_code, result.body

    @property
    def verified(self) -> int:
        """Deliveries whose signature verified (applied, duplicate or stale)."""
        ok = (HandleOutcome.PROCESSED, HandleOutcome.DUPLICATE, HandleOutcome.STALE, HandleOutcome.IGNORED)
        return sum(self.outcomes[o.value] for o in ok)

    def wait_for(self, predicate: Callable[[Event], bool], *, timeout: float = 10.0) -> Event:
        """Block until an applied event satisfies ``predicate``; raise ``TimeoutError`` after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for event in self.applied:
                    if predicate(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the expected webhook did not arrive in time")
                self._lock.wait(remaining)

    def wait_for_outcome(self, outcome: HandleOutcome, count: int, *, timeout: float = 10.0) -> None:
        """Block until ``count`` deliveries ended with ``outcome``."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self.outcomes[outcome.value] < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"expected {count} {outcome.value} deliveries")
                self._lock.wait(remaining)

    def __enter__(self) -> LocalReceiver:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
