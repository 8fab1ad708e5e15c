"""Serving the sandbox: ``run_sandbox()`` for tests and demos (a background uvicorn thread) and ``serve()``
for ``bnpl sandbox serve`` (the foreground)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import uvicorn

from bnpl.sandbox.app import create_app
from bnpl.sandbox.auth import create_api_key, default_merchant, ensure_api_key
from bnpl.sandbox.db import Database, redact_url
from bnpl.sandbox.migrations import migrate
from bnpl.sandbox.settings import Clock, Settings

__all__ = ["DEFAULT_PORT", "SandboxInfo", "open_sandbox", "run_sandbox", "serve"]

DEFAULT_PORT: Final = 8787
"""The port ``bnpl sandbox serve`` listens on (the SDK's default base URL for ``sk_test_`` keys)."""

_START_TIMEOUT_S: Final = 20.0


@dataclass(frozen=True, slots=True)
class SandboxInfo:
    """A running sandbox: where it answers and the default merchant's fresh keys."""

    base_url: str
    secret_key: str = field(repr=False)
    publishable_key: str = field(repr=False)
    merchant_id: str
    db_url: str
    db: Database = field(repr=False, compare=False)

    def as_json(self) -> dict[str, str]:
        """The public fields for ``--json`` output (the keys included: the user asked for them)."""
        return {
            "base_url": self.base_url,
            "secret_key": self.secret_key,
            "publishable_key": self.publishable_key,
            "merchant_id": self.merchant_id,
            "db": redact_url(self.db_url),
        }


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::"):  # noqa: S104 - listening everywhere; local clients still use loopback
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def open_sandbox(
    db_url: str, *, api_key: str | None = None, schema: str | None = None
) -> tuple[Database, str, str, str]:
    """Open and migrate ``db_url``; return ``(db, merchant_id, secret_key, publishable_key)`` of the default
    merchant (``api_key`` registered as its secret key when given, else a fresh one minted)."""
    db = Database.open(db_url, schema=schema)
    migrate(db)
    now = datetime.now(UTC)
    merchant = default_merchant(db, now)
    if api_key is not None:
        ensure_api_key(db, merchant, api_key, now)
        secret = api_key
    else:
        secret = create_api_key(db, merchant, "secret", now)
    return db, merchant, secret, create_api_key(db, merchant, "publishable", now)


def _config(app: Any, log_level: str) -> uvicorn.Config:
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return uvicorn.Config(
        app,
        loop=loop,
        http=http,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_keep_alive=30,
        backlog=2048,
    )


@contextlib.contextmanager
def run_sandbox(
    db_url: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    api_key: str | None = None,
    clock: Clock | None = None,
    settings: Settings | None = None,
    schema: str | None = None,
) -> Iterator[SandboxInfo]:
    """Start the sandbox in a background thread and yield its :class:`SandboxInfo`; stop it on exit.

    ``db_url`` is a SQLite path or a ``postgresql://`` URL (default: a temporary SQLite file, deleted after);
    ``port=0`` picks a free port. Returns once the server accepts connections.
    """
    with contextlib.ExitStack() as stack:
        if db_url is None:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="bnpl-sandbox-"))
            db_url = os.path.join(tmp, "sandbox.db")
        db, merchant, secret, publishable = open_sandbox(db_url, api_key=api_key, schema=schema)
        stack.callback(db.close)
        sock = _bind(host, port)
        stack.callback(sock.close)
        base_url = f"http://{_url_host(host)}:{sock.getsockname()[1]}"
        settings = settings or Settings()
        settings.base_url = base_url
        server = uvicorn.Server(_config(create_app(db, clock=clock, settings=settings), "warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="bnpl-sandbox", daemon=True)
        thread.start()
        started = threading.Event()

        def wait_started() -> None:
            # Poll the server's own flag (set once it listens); bounded, and it ends early if the thread dies.
            while not server.started and thread.is_alive():
                started.wait(0.005)

        wait_started()
        if not server.started:
            raise RuntimeError("the sandbox server did not start; see the log above")

        def stop() -> None:
            server.should_exit = True
            thread.join(_START_TIMEOUT_S)

        stack.callback(stop)
        yield SandboxInfo(
            base_url=base_url,
            secret_key=secret,
            publishable_key=publishable,
            merchant_id=merchant,
            db_url=db_url,
            db=db,
        )


def serve(
    db_url: str,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    *,
    api_key: str | None = None,
    on_ready: Any = None,
    workers: int = 1,
) -> None:
    """Run the sandbox in the foreground until interrupted; ``on_ready(info)`` is called once it listens.

    ``workers > 1`` (PostgreSQL only) forks that many server processes sharing the listening socket; each
    opens its own connections and runs its own delivery worker and expiry sweep (both are safe to race).
    SQLite is refused there: its writers serialise on one file lock, so more processes only add lock waits.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    db, merchant, secret, publishable = open_sandbox(db_url, api_key=api_key)
    if workers > 1 and db.dialect != "postgres":
        db.close()
        raise ValueError("--workers > 1 needs PostgreSQL (--db postgresql://…); SQLite serves best from one process")
    sock = _bind(host, port)
    base_url = f"http://{_url_host(host)}:{sock.getsockname()[1]}"
    info = SandboxInfo(
        base_url=base_url, secret_key=secret, publishable_key=publishable, merchant_id=merchant, db_url=db_url, db=db
    )
    if workers > 1:
        db.close()  # each worker opens its own connections after the fork
        _serve_forked(db_url, base_url, sock, workers, on_ready, info)
        return
    server = uvicorn.Server(_config(create_app(db, settings=Settings(base_url=base_url)), "warning"))
    if on_ready is not None:
        on_ready(info)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        db.close()


def _serve_forked(db_url: str, base_url: str, sock: socket.socket, workers: int, on_ready: Any, info: Any) -> None:
    """Fork ``workers`` uvicorn processes on ``sock``; forward SIGINT/SIGTERM to them and wait for all."""
    children: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # the worker: its own database connections, app and event loop
            code = 0
            try:
                db = Database.open(db_url)
                server = uvicorn.Server(_config(create_app(db, settings=Settings(base_url=base_url)), "warning"))
                server.run(sockets=[sock])
                db.close()
            except BaseException:  # report, then leave without running the parent's cleanup
                import traceback

                traceback.print_exc()
                code = 1
            os._exit(code)
        children.append(pid)
    sock.close()

    def forward(signum: int, _frame: Any) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if on_ready is not None:
            on_ready(info)  # the socket listens already: connections queue until a worker accepts
        for child in children:
            while True:
                try:
                    os.waitpid(child, 0)
                    break
                except InterruptedError:  # pragma: no cover - PEP 475 retries; kept for old platforms
                    continue
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
