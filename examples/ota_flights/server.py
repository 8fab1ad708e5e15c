"""Run the site: bind a port, register the site's webhook endpoint with the lender, serve with uvicorn.

The webhook secret comes from registering the endpoint, and the endpoint's URL needs the port, so the socket is
bound first, then the endpoint registered, then the app built with its secret.
"""

from __future__ import annotations

import contextlib
import socket
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import uvicorn
from fastapi import FastAPI

from bnpl.client import Client

from .app import SiteConfig, create_app
from .down_payment import DownPaymentPolicy

__all__ = ["RunningSite", "bind", "register_webhook", "running_site", "uvicorn_server"]

_STOP_TIMEOUT_S: Final = 10.0


@dataclass(frozen=True, slots=True)
class RunningSite:
    """A site being served: its URL, app, config and the lender's id for its webhook endpoint."""

    url: str
    app: FastAPI
    config: SiteConfig = field(repr=False)
    webhook_endpoint_id: str


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (``port=0`` picks a free one)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


def site_url(sock: socket.socket, host: str) -> str:
    """The URL clients (and the lender's webhooks) use to reach ``sock``."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else (f"[{host}]" if ":" in host else host)  # noqa: S104
    return f"http://{shown}:{sock.getsockname()[1]}"


def register_webhook(lender_url: str, api_key: str, url: str) -> tuple[str, str]:
    """Register ``url/bnpl/webhook`` for every event; returns ``(endpoint id, whsec_ secret)``."""
    with Client(api_key=api_key, base_url=lender_url) as client:
        endpoint = client.webhook_endpoints.create(
            url=f"{url}/bnpl/webhook", enabled_events=["*"], description="examples/ota_flights"
        )
    return endpoint.id, endpoint.secret


def uvicorn_server(app: FastAPI, log_level: str = "warning") -> uvicorn.Server:
    """A uvicorn server for ``app`` (lifespan on, so the plugin closes its client on shutdown)."""
    return uvicorn.Server(uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on"))


@contextlib.contextmanager
def running_site(
    lender_url: str,
    api_key: str,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    data_dir: Path | None = None,
    sandbox_hint: bool = True,
    down_payment: DownPaymentPolicy | None = None,
) -> Iterator[RunningSite]:
    """Serve the site in a background thread until the block ends (then stop it and delete its endpoint)."""
    with contextlib.ExitStack() as stack:
        if data_dir is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ota-flights-")))
        sock = bind(host, port)
        stack.callback(sock.close)
        url = site_url(sock, host)
        endpoint_id, secret = register_webhook(lender_url, api_key, url)
        stack.callback(_delete_endpoint, lender_url, api_key, endpoint_id)
        config = SiteConfig(
            lender_url=lender_url,
            api_key=api_key,
            webhook_secret=secret,
            data_dir=data_dir,
            sandbox_hint=sandbox_hint,
            down_payment=down_payment or DownPaymentPolicy(),
        )
        app = create_app(config)
        server = uvicorn_server(app)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="ota-site", daemon=True)
        thread.start()
        ready = threading.Event()
        while not server.started and thread.is_alive():  # uvicorn's own flag; ends early if the thread died
            ready.wait(0.005)
        if not server.started:
            raise RuntimeError("the site did not start; see the log above")

        def stop() -> None:
            server.should_exit = True
            thread.join(_STOP_TIMEOUT_S)

        stack.callback(stop)
        yield RunningSite(url, app, config, endpoint_id)


def _delete_endpoint(lender_url: str, api_key: str, endpoint_id: str) -> None:
    with contextlib.suppress(Exception), Client(api_key=api_key, base_url=lender_url) as client:
        # best effort: a lender that is already gone has nothing left to deliver
        client.webhook_endpoints.delete(endpoint_id)
