"""Shared fixtures for the merchant-plugin tests (framework-neutral; Django tests may reuse them).

- ``plugin_sandbox`` / ``lender_client``: a real sandbox lender on 127.0.0.1 (its delivery worker POSTs signed
  webhooks to registered endpoints) and a ``bnpl.Client`` for it.
- ``PERSONA`` and :func:`approve_checkout`: a customer who is approved, and the hosted page walked over HTTP.
- :class:`LiveWSGIServer` / :class:`LiveASGIServer`: serve a real app on 127.0.0.1 (the URL is known before the
  app is built, so a webhook endpoint can be registered first and its secret passed to the app).
- :class:`EventLog` with :class:`RecordingWSGI` / :class:`RecordingASGI`: capture each webhook delivery's exact
  bytes, headers and answer, and wait for one on a condition (never sleep).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn
from werkzeug.serving import BaseWSGIServer, make_server

import bnpl
from bnpl.sandbox import SandboxInfo, Settings, run_sandbox
from bnpl.sandbox.customer import HostedPageOutcome, complete_hosted_page

T = TypeVar("T")
WAIT_SECONDS = 30.0

PERSONA: dict[str, str] = {"reference": "cust-plugin-1", "email": "pays-on-time@bnpl.test"}
"""A customer the sandbox approves (docs/sandbox-personas.md); without a persona ¥1,299 is declined."""


@pytest.fixture(scope="module")
def plugin_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxInfo]:
    """One SQLite sandbox lender per test module, delivering webhooks in the background."""
    path = tmp_path_factory.mktemp("plugin-sandbox") / "sandbox.db"
    with run_sandbox(str(path), settings=Settings(expiry_sweep_seconds=0)) as info:
        yield info


@pytest.fixture(scope="module")
def lender_client(plugin_sandbox: SandboxInfo) -> Iterator[bnpl.Client]:
    """The merchant's own API client for the sandbox (captures, refunds, webhook endpoints)."""
    with bnpl.Client(api_key=plugin_sandbox.secret_key, base_url=plugin_sandbox.base_url) as client:
        yield client


def approve_checkout(approval_url: str, *, plan: int = 0, action: str = "confirm") -> HostedPageOutcome:
    """Walk the hosted approval page as the customer; returns where the lender redirected them."""
    assert action in ("confirm", "cancel")
    return complete_hosted_page(approval_url, plan=plan, action="confirm" if action == "confirm" else "cancel")


def register_webhook(client: bnpl.Client, url: str) -> str:
    """Subscribe ``url`` to every event; returns the endpoint's ``whsec_`` secret."""
    endpoint = client.webhook_endpoints.create(url=url, enabled_events=["*"])
    return str(endpoint.secret)


# --- waiting without sleeping ---------------------------------------------------------------------------------


class EventLog:
    """A thread-safe list that tests can wait on (a condition variable with a timeout)."""

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._cond = threading.Condition()

    def add(self, item: Any) -> None:
        """Append and wake the waiters."""
        with self._cond:
            self._items.append(item)
            self._cond.notify_all()

    def items(self) -> list[Any]:
        """A snapshot of what was recorded."""
        with self._cond:
            return list(self._items)

    def wait_for(self, predicate: Callable[[Any], bool], timeout: float = WAIT_SECONDS) -> Any:
        """The first recorded item matching ``predicate``, waiting up to ``timeout`` seconds for it."""
        found: list[Any] = []

        def match() -> bool:
            found[:] = [item for item in self._items if predicate(item)][:1]
            return bool(found)

        with self._cond:
            if not self._cond.wait_for(match, timeout):
                raise AssertionError(f"nothing matching arrived within {timeout} s; got {len(self._items)} items")
        return found[0]


@dataclass
class Delivery:
    """One webhook request as received: exact body bytes, headers, and the status the app answered."""

    path: str
    body: bytes
    headers: dict[str, str]
    status: int = 0
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def event(self) -> dict[str, Any]:
        """The JSON payload."""
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    @property
    def signed_headers(self) -> dict[str, str]:
        """The headers worth replaying (content type and the three webhook-* headers)."""
        keep = ("content-type", "webhook-id", "webhook-timestamp", "webhook-signature")
        return {k: v for k, v in self.headers.items() if k in keep}


def delivered(log: EventLog, event_type: str, object_id: str | None = None) -> Callable[[Any], bool]:
    """A predicate for :meth:`EventLog.wait_for`: a completed delivery of that type (and object)."""

    def check(item: Any) -> bool:
        return (
            isinstance(item, Delivery)
            and item.done.is_set()
            and item.event.get("type") == event_type
            and (object_id is None or item.event.get("object_id") == object_id)
        )

    return check


class RecordingWSGI:
    """WSGI middleware recording POSTs to ``path`` into an :class:`EventLog` once answered."""

    def __init__(self, app: Callable[..., Any], log: EventLog, path: str) -> None:
        self.app, self.log, self.path = app, log, path

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != self.path:
            return self.app(environ, start_response)
        import io

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
        headers["content-type"] = str(environ.get("CONTENT_TYPE", ""))
        delivery = Delivery(self.path, body, headers)

        def recording_start(status: str, response_headers: Any, exc_info: Any = None) -> Any:
            delivery.status = int(status.split()[0])
            return start_response(status, response_headers, exc_info)

        result = list(self.app(environ, recording_start))
        delivery.done.set()
        self.log.add(delivery)
        return result


class RecordingASGI:
    """ASGI middleware recording POSTs to ``path`` into an :class:`EventLog` once answered."""

    def __init__(self, app: Any, log: EventLog, path: str) -> None:
        self.app, self.log, self.path = app, log, path

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        delivery = Delivery(self.path, body, headers)
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return {"type": "http.disconnect"}
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def recording_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                delivery.status = int(message["status"])
            await send(message)

        await self.app(scope, replay, recording_send)
        delivery.done.set()
        self.log.add(delivery)


# --- live servers on 127.0.0.1 --------------------------------------------------------------------------------


class LiveWSGIServer:
    """A threaded werkzeug server on a free port; set :attr:`app` before the first request."""

    def __init__(self) -> None:
        self.app: Callable[..., Any] | None = None
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="plugin-wsgi", daemon=True)
        self._thread.start()

    def _dispatch(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.app is not None, "LiveWSGIServer.app was not set"
        return self.app(environ, start_response)

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(WAIT_SECONDS)


class LiveASGIServer:
    """uvicorn in a thread on a socket bound now (so :attr:`url` is known); :meth:`start` serves an app."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, app: Any) -> None:
        """Serve ``app`` (running its lifespan); returns once uvicorn accepts connections."""
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False, loop="asyncio")
        self._server = uvicorn.Server(config)
        started = threading.Event()
        server = self._server

        def run() -> None:
            server.run(sockets=[self._sock])

        self._thread = threading.Thread(target=run, name="plugin-asgi", daemon=True)
        self._thread.start()
        while not server.started and self._thread.is_alive():
            started.wait(0.005)
        assert server.started, "uvicorn did not start"

    def close(self) -> None:
        """Stop serving (runs the app's lifespan shutdown)."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(WAIT_SECONDS)
        self._sock.close()


@pytest.fixture
def live_wsgi() -> Iterator[LiveWSGIServer]:
    """A live WSGI server; assign ``live_wsgi.app``."""
    server = LiveWSGIServer()
    yield server
    server.close()


@pytest.fixture
def live_asgi() -> Iterator[LiveASGIServer]:
    """A live ASGI server; call ``live_asgi.start(app)``."""
    server = LiveASGIServer()
    yield server
    server.close()


@pytest.fixture
def db_dir(tmp_path: Path) -> Path:
    """A directory for the plugin's SQLite files."""
    return tmp_path
