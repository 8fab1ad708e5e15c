"""Framework-free receivers: the WSGI app (werkzeug test client, raw environ) and the ASGI app (httpx
ASGITransport, raw receive loop)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import httpx
import pytest
from werkzeug.test import Client

from bnpl.webhooks import Webhook
from bnpl.webhooks.dispatch import AsyncWebhookHandler, WebhookHandler
from bnpl.webhooks.raw_body.asgi import make_asgi_app
from bnpl.webhooks.raw_body.wsgi import make_wsgi_app
from bnpl.webhooks.stores import SQLiteStore

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NOW = 1_800_000_000


def event_body(event_id: str, sequence: int = 1) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "type": "customer.credit_unfrozen",
            "created": "2027-01-15T08:00:00Z",
            "api_version": "2026-01-01",
            "object_id": "cus_1",
            "sequence": sequence,
            "data": {
                "customer_id": "cus_1",
                "currency": "CNY",
                "credit_limit_before": 0,
                "credit_limit_after": 500_00,
                "effective_at": "2027-01-15T08:00:00Z",
            },
        }
    ).encode()


@pytest.fixture
def seen() -> list[str]:
    return []


@pytest.fixture
def webhook() -> Webhook:
    return Webhook(SECRET, clock=lambda: NOW)


@pytest.fixture
def sync_handler(webhook: Webhook, tmp_path: Path, seen: list[str]) -> Iterator[WebhookHandler]:
    handler = WebhookHandler(webhook, SQLiteStore(tmp_path / "w.sqlite3"))
    handler.on("customer.credit_unfrozen")(lambda e: seen.append(e.id))
    yield handler
    handler.store.close()


@pytest.fixture
def async_handler(webhook: Webhook, tmp_path: Path, seen: list[str]) -> Iterator[AsyncWebhookHandler]:
    handler = AsyncWebhookHandler(webhook, SQLiteStore(tmp_path / "a.sqlite3"))

    @handler.on("customer.credit_unfrozen")
    async def on_unfrozen(event: Any) -> None:
        seen.append(event.id)

    yield handler
    handler.store.close()


# --- WSGI ------------------------------------------------------------------------------------------------


def test_wsgi_app_processes_once_acknowledges_duplicates_and_rejects_bad_signatures(
    sync_handler: WebhookHandler, seen: list[str]
) -> None:
    client = Client(make_wsgi_app(sync_handler))
    body = event_body("evt_w1")
    headers = sync_handler.webhook.sign("msg_1", NOW, body)
    first = client.post("/", data=body, headers=headers)
    again = client.post("/", data=body, headers=headers)
    bad = client.post("/", data=body + b"\n", headers=headers)
    assert (first.status_code, first.json["outcome"]) == (200, "processed")  # type: ignore[index]
    assert (again.status_code, again.json["outcome"]) == (200, "duplicate")  # type: ignore[index]
    assert bad.status_code == 400
    assert client.get("/").status_code == 405
    assert seen == ["evt_w1"]


def _call_wsgi(app: Any, body: bytes, content_length: str | None) -> tuple[str, bytes]:
    environ: dict[str, Any] = {"REQUEST_METHOD": "POST", "wsgi.input": io.BytesIO(body)}
    setup_testing_defaults(environ)
    if content_length is not None:
        environ["CONTENT_LENGTH"] = content_length
    status: list[str] = []
    out = b"".join(app(environ, lambda s, h: status.append(s)))
    return status[0], out


def test_wsgi_reads_by_content_length_and_refuses_missing_short_or_oversized_bodies(
    sync_handler: WebhookHandler, seen: list[str]
) -> None:
    app = make_wsgi_app(sync_handler, max_body_bytes=10_000)
    assert _call_wsgi(app, b"{}", None)[0].startswith("411")
    assert _call_wsgi(app, b"{}", "10")[0].startswith("400")  # shorter than announced
    assert _call_wsgi(app, b"x" * 20_000, "20000")[0].startswith("413")
    # bytes past CONTENT_LENGTH are never read (WSGI servers may keep the connection alive)
    body = event_body("evt_w2")
    environ: dict[str, Any] = {"REQUEST_METHOD": "POST", "wsgi.input": io.BytesIO(body + b"NEXT REQUEST")}
    setup_testing_defaults(environ)
    environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in sync_handler.webhook.sign("msg_1", NOW, body).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    statuses: list[str] = []
    b"".join(app(environ, lambda s, h: statuses.append(s)))
    assert statuses == ["200 OK"]
    assert environ["wsgi.input"].read() == b"NEXT REQUEST"
    assert seen == ["evt_w2"]


# --- ASGI ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["async", "sync"])
async def test_asgi_app_processes_once_acknowledges_duplicates_and_rejects_bad_signatures(
    flavour: str, async_handler: AsyncWebhookHandler, sync_handler: WebhookHandler, seen: list[str]
) -> None:
    handler = async_handler if flavour == "async" else sync_handler
    app = make_asgi_app(handler)
    body = event_body("evt_a1")
    headers = handler.webhook.sign("msg_1", NOW, body)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        first = await client.post("/", content=body, headers=headers)
        again = await client.post("/", content=body, headers=headers)
        bad = await client.post("/", content=body, headers={**headers, "webhook-timestamp": str(NOW - 3600)})
        not_post = await client.get("/")
    assert (first.status_code, first.json()["outcome"]) == (200, "processed")
    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
    assert bad.status_code == 400
    assert not_post.status_code == 405
    assert seen == ["evt_a1"]


async def test_asgi_refuses_a_body_over_the_limit_announced_or_streamed(async_handler: AsyncWebhookHandler) -> None:
    app = make_asgi_app(async_handler, max_body_bytes=100)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        assert (await client.post("/", content=b"x" * 101)).status_code == 413

    # chunked, no content-length: the receive loop stops at the limit
    chunks = [{"type": "http.request", "body": b"x" * 60, "more_body": True}] * 5
    sent: list[dict[str, Any]] = []
    received = 0

    async def receive() -> dict[str, Any]:
        nonlocal received
        received += 1
        return chunks[received - 1]

    async def send(message: Any) -> None:
        sent.append(message)

    await app({"type": "http", "method": "POST", "headers": []}, receive, send)
    assert sent[0]["status"] == 413
    assert received == 2  # stopped reading as soon as the limit was passed
