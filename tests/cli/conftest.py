"""CLI fixtures: one sandbox lender per test module, a runner that passes its key and URL, and a local receiver
that records and verifies what ``bnpl listen``/``bnpl trigger`` forward."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bnpl import Client
from bnpl.cli import cli
from bnpl.sandbox import SandboxInfo, Settings, run_sandbox
from bnpl.webhooks import Webhook, WebhookVerificationError


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxInfo]:
    """A sandbox lender on SQLite for the whole module (expiry sweeper off: the tests move time explicitly)."""
    path = tmp_path_factory.mktemp("cli-sandbox") / "sandbox.db"
    with run_sandbox(str(path), settings=Settings(expiry_sweep_seconds=0)) as info:
        yield info


@pytest.fixture
def client(sandbox: SandboxInfo) -> Iterator[Client]:
    """The SDK on the same lender, to check what the CLI really did."""
    with Client(api_key=sandbox.secret_key, base_url=sandbox.base_url) as c:
        yield c


class Bnpl:
    """Runs ``bnpl …`` through click's runner with ``--api-key``/``--base-url`` of the sandbox appended."""

    def __init__(self, sandbox: SandboxInfo) -> None:
        self.sandbox = sandbox
        self.runner = CliRunner()

    def raw(self, *args: str, env: Mapping[str, str] | None = None, input: str | bytes | None = None) -> Result:
        """Run exactly these arguments."""
        return self.runner.invoke(cli, list(args), env=dict(env) if env else None, input=input)

    def __call__(self, *args: str, input: str | bytes | None = None) -> Result:
        """Run against the sandbox; fails the test (with stderr) on a non-zero exit."""
        result = self.run(*args, input=input)
        assert result.exit_code == 0, f"exit {result.exit_code}: {result.stderr}{result.output}"
        return result

    def run(self, *args: str, input: str | bytes | None = None) -> Result:
        """Run against the sandbox, whatever the exit code."""
        return self.raw(*args, "--api-key", self.sandbox.secret_key, "--base-url", self.sandbox.base_url, input=input)

    def json(self, *args: str) -> Any:
        """Run with ``--json`` and parse stdout, which must be exactly one JSON document."""
        return json.loads(self(*args, "--json").stdout)


@pytest.fixture
def bnpl(sandbox: SandboxInfo) -> Bnpl:
    return Bnpl(sandbox)


@dataclass(frozen=True)
class Received:
    """One request the receiver got, and whether it verified with the forwarding secret."""

    headers: dict[str, str]
    body: bytes
    event_type: str | None
    event_id: str | None
    error: str | None


class Receiver:
    """A merchant's webhook endpoint on 127.0.0.1: verifies each request with ``secret`` and records it."""

    def __init__(self, secret: str) -> None:
        self.webhook = Webhook(secret)
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = receiver._record(headers, body)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/merchant/webhooks"

    def _record(self, headers: dict[str, str], body: bytes) -> int:
        try:
            event = self.webhook.unwrap(body, headers)
        except WebhookVerificationError as exc:
            item = Received(headers, body, None, None, exc.code)
        else:
            item = Received(headers, body, event.type, event.id, None)
        with self._lock:
            self.received.append(item)
        return 400 if item.error else 200

    @property
    def verified(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.error is None]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


FORWARDING_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local receiver verifying with :data:`FORWARDING_SECRET`."""
    r = Receiver(FORWARDING_SECRET)
    yield r
    r.close()


@pytest.fixture
def payload_file(tmp_path: Path) -> Path:
    """A webhook body on disk."""
    path = tmp_path / "event.json"
    path.write_bytes(b'{"id":"evt_1","object":"event"}')
    return path
