"""``bnpl listen --forward-to URL``: receive (or poll) the lender's events and forward each, re-signed, to a local URL.

Like ``stripe listen``: a receiver on 127.0.0.1 is registered as a webhook endpoint on the lender; every delivery
is verified with the endpoint's secret, re-signed with the *forwarding* secret printed at start (or ``--secret``),
and POSTed to ``--forward-to`` with the same body. ``--poll`` reads ``GET /v1/events`` from a cursor instead of
registering an endpoint (for lenders that cannot reach this machine). The forwarding code (:class:`Forwarder`) is
shared with ``bnpl trigger --forward-to``.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import click
import httpx

from bnpl.cli._common import api, api_options
from bnpl.cli._output import emit_json, format_time, to_json
from bnpl.cli.events import events_after, latest_event_id
from bnpl.client import Client
from bnpl.errors import BNPLError
from bnpl.models import EVENT_TYPES, Event
from bnpl.webhooks import Webhook, WebhookError, WebhookVerificationError, generate_secret

__all__ = ["Forwarded", "Forwarder", "event_body", "forward_events", "listen"]

_RECEIVER_PATH = "/bnpl-listen"


@dataclass(frozen=True, slots=True)
class Forwarded:
    """One event forwarded: when, what, and the local endpoint's answer (``status`` None when it failed)."""

    at: str
    type: str
    id: str
    object_id: str
    status: int | None
    error: str | None = None

    def line(self) -> str:
        """``time  type  id  → status``, the line printed per event."""
        outcome = str(self.status) if self.status is not None else f"failed ({self.error})"
        return f"{self.at}  {self.type:<34} {self.id}  → {outcome}"


class Forwarder:
    """Signs bodies with the forwarding secret and POSTs them to the local URL; the same for listen and trigger."""

    def __init__(self, url: str, secret: str, *, timeout: float = 10.0) -> None:
        try:
            self._hook = Webhook(secret)
        except WebhookError as exc:
            raise click.BadParameter(str(exc), param_hint="--secret") from None
        self.url = url
        self._http = httpx.Client(timeout=timeout)

    def forward(self, msg_id: str, body: bytes, summary: dict[str, Any]) -> Forwarded:
        """Sign ``body`` as ``msg_id`` now and POST it; never raises for the local endpoint's failures."""
        headers = self._hook.sign(msg_id, int(time.time()), body)
        headers["content-type"] = "application/json"
        at = format_time(datetime.now(UTC))
        kind, event_id, object_id = (str(summary.get(k, "?")) for k in ("type", "id", "object_id"))
        try:
            answer = self._http.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return Forwarded(at, kind, event_id, object_id, None, f"{type(exc).__name__}: {exc}")
        return Forwarded(at, kind, event_id, object_id, answer.status_code)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()


def event_body(event: Event) -> bytes:
    """The JSON body of an event as the API serialises it (compact, UTF-8)."""
    return json.dumps(to_json(event), ensure_ascii=False, separators=(",", ":")).encode()


def forward_events(forwarder: Forwarder, found: Sequence[Event]) -> list[Forwarded]:
    """Forward events read from ``GET /v1/events``; the event id is the ``webhook-id``."""
    return [
        forwarder.forward(e.id, event_body(e), {"type": e.type, "id": e.id, "object_id": e.object_id}) for e in found
    ]


@dataclass(frozen=True, slots=True)
class _Delivery:
    msg_id: str
    body: bytes
    summary: dict[str, Any]


class _Receiver:
    """The local webhook receiver the lender delivers to: verifies, acknowledges, and queues each delivery."""

    def __init__(self, port: int) -> None:
        self.deliveries: queue.Queue[_Delivery | str] = queue.Queue()
        self.webhook: Webhook | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                status = receiver.accept(body, {k.lower(): v for k, v in self.headers.items()})
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass  # the listen loop prints one line per event instead

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{_RECEIVER_PATH}"

    def accept(self, body: bytes, headers: dict[str, str]) -> int:
        hook = self.webhook
        if hook is None:
            return 503  # not registered yet: the lender retries
        try:
            hook.verify(body, headers)
            payload = json.loads(body)
        except WebhookVerificationError as exc:
            self.deliveries.put(f"rejected a delivery: {exc.code}: {exc}")
            return exc.status_code
        except ValueError:
            self.deliveries.put("rejected a delivery: the verified body is not JSON")
            return 400
        summary = payload if isinstance(payload, dict) else {}
        self.deliveries.put(_Delivery(headers.get("webhook-id", str(summary.get("id"))), body, summary))
        return 200

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def _registered(client: Client, receiver: _Receiver, enabled: list[str]) -> Iterator[str]:
    """Register (or reuse, by URL) the receiver's endpoint; delete it on exit if this run created it."""
    existing = next((e for e in client.webhook_endpoints.list(limit=100) if e.url == receiver.url), None)
    if existing is not None:
        # The secret is only ever returned on create/rotate: rotate (old one expiring now) to learn it.
        endpoint = client.webhook_endpoints.rotate_secret(existing.id, expire_current_in_seconds=0)
    else:
        endpoint = client.webhook_endpoints.create(
            url=receiver.url, enabled_events=enabled, description="bnpl listen (local forwarding)"
        )
    receiver.webhook = Webhook(endpoint.secret)
    try:
        yield endpoint.id
    finally:
        if existing is None:
            # Best effort on the way out (the lender may be gone): a leftover endpoint only collects failed attempts.
            with suppress(BNPLError):
                client.webhook_endpoints.delete(endpoint.id)


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - time.monotonic()


def _check_events(types: tuple[str, ...]) -> list[str]:
    unknown = sorted(set(types) - set(EVENT_TYPES))
    if unknown:
        raise click.BadParameter(
            f"unknown event types {unknown}; known: {', '.join(EVENT_TYPES)}", param_hint="--events"
        )
    return list(types)


@click.command()
@click.option("--forward-to", required=True, metavar="URL", help="Local URL to POST each event to, re-signed.")
@click.option("--events", "event_types", multiple=True, metavar="TYPE", help="Only these event types (repeatable).")
@click.option("--secret", default=None, metavar="whsec_…", help="Forwarding secret (default: a fresh one, printed).")
@click.option("--poll", is_flag=True, help="Poll GET /v1/events instead of registering a webhook endpoint.")
@click.option("--since", metavar="evt_…", default=None, help="With --poll: start after this event (default: now).")
@click.option("--poll-interval", type=click.FloatRange(0.05), default=1.0, show_default=True, metavar="SECONDS")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Receiver port (default: any free port).")
@click.option("--max-events", type=click.IntRange(1), default=None, help="Exit after forwarding N events.")
@click.option(
    "--timeout", type=click.FloatRange(0, min_open=True), default=None, metavar="SECONDS", help="Exit after S seconds."
)
@api_options
def listen(
    forward_to: str,
    event_types: tuple[str, ...],
    secret: str | None,
    poll: bool,
    since: str | None,
    poll_interval: float,
    port: int,
    max_events: int | None,
    timeout: float | None,
) -> None:
    """Receive the lender's events and forward each, signed with the forwarding secret, to --forward-to."""
    opts = api()
    wanted = _check_events(event_types)
    if since is not None and not poll:
        raise click.UsageError("--since works with --poll (a webhook endpoint only receives new events)")
    forwarding_secret = secret or generate_secret()
    forwarder = Forwarder(forward_to, forwarding_secret)
    deadline = None if timeout is None else time.monotonic() + timeout
    forwarded: list[Forwarded] = []

    def done() -> bool:
        if max_events is not None and len(forwarded) >= max_events:
            return True
        left = _remaining(deadline)
        return left is not None and left <= 0

    def record(item: Forwarded) -> None:
        forwarded.append(item)
        if not opts.as_json:
            click.echo(item.line())

    def ready(mode: str) -> None:
        if not opts.as_json:
            click.echo(f"Ready! {mode}; forwarding to {forward_to}")
            click.echo(f"Your forwarding secret is {forwarding_secret} (^C to quit)")

    endpoint_id: str | None = None
    try:
        with opts.client() as client:
            if poll:
                cursor = since if since is not None else latest_event_id(client)
                ready("Polling the lender's events")
                wake = threading.Event()
                while not done():
                    fresh = events_after(client, cursor)
                    if fresh:
                        cursor = fresh[-1].id  # past everything seen, filtered out or not
                    for event in fresh:
                        if done():
                            break
                        if not wanted or event.type in wanted:
                            record(forward_events(forwarder, [event])[0])
                    if done():
                        break
                    left = _remaining(deadline)
                    wake.wait(poll_interval if left is None else max(0.0, min(poll_interval, left)))
            else:
                receiver = _Receiver(port)
                receiver.start()
                try:
                    with _registered(client, receiver, wanted or ["*"]) as endpoint_id:
                        ready(f"Receiving on {receiver.url} (endpoint {endpoint_id})")
                        while not done():
                            left = _remaining(deadline)
                            try:
                                item = receiver.deliveries.get(timeout=left if left is None else max(left, 0.0))
                            except queue.Empty:
                                break
                            if isinstance(item, str):
                                click.echo(item, err=True)
                                continue
                            record(forwarder.forward(item.msg_id, item.body, item.summary))
                finally:
                    receiver.stop()
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a listening session ends
    finally:
        forwarder.close()
    if opts.as_json:
        emit_json(
            {
                "forwarding_secret": forwarding_secret,
                "forward_to": forward_to,
                "mode": "poll" if poll else "endpoint",
                "endpoint_id": endpoint_id,
                "events": [asdict(item) for item in forwarded],
            }
        )
