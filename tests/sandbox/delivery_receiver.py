"""A real webhook receiver on 127.0.0.1 for the delivery tests: verifies every request with
``bnpl.webhooks.Webhook`` and records it; answers from a script of status codes; can hold requests (slow)."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bnpl.webhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Reception:
    """One request as received."""

    headers: dict[str, str]
    body: bytes
    verified: bool
    error: str | None


class Receiver:
    """``Receiver(secret)``: ``.url``, ``.received``, ``.script(500, 500)`` (answers, then 200),
    ``.hold()``/``.release()`` (requests wait until released)."""

    def __init__(self, secret: str | None = None, port: int = 0) -> None:
        self.secret = secret
        self.received: list[Reception] = []
        self._answers: deque[int] = deque()
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._held = threading.Event()
        self._held.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = receiver._record(headers, body)
                receiver._held.wait(30)  # a "slow" receiver: bounded so a broken test cannot hang forever
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def script(self, *statuses: int) -> None:
        """Answer the next requests with these statuses (then 200)."""
        with self._lock:
            self._answers.extend(statuses)

    def hold(self) -> None:
        self._held.clear()

    def release(self) -> None:
        self._held.set()

    def _record(self, headers: dict[str, str], body: bytes) -> int:
        verified, error = True, None
        if self.secret is not None:
            try:
                Webhook(self.secret).verify(body, headers)
            except WebhookVerificationError as exc:
                verified, error = False, type(exc).__name__
        with self._lock:
            self.received.append(Reception(headers, body, verified, error))
            self._arrived.notify_all()
            if not verified:
                return 400
            return self._answers.popleft() if self._answers else 200

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Reception]:
        """Block until ``count`` requests have arrived (for a worker running in the background); bounded."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)

    def close(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
