"""Starlette and FastAPI receivers: real apps driven by the httpx-based TestClient."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from bnpl.webhooks import RawBodyRequiredError, Webhook
from bnpl.webhooks.dispatch import AsyncWebhookHandler, WebhookHandler
from bnpl.webhooks.raw_body.starlette import RawBody, raw_body, webhook_endpoint
from bnpl.webhooks.stores import SQLiteStore

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette 1.x notes the httpx TestClient is superseded; it still works
    from starlette.testclient import TestClient

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
        },
        indent=2,  # the lender's exact bytes; json.dumps(await request.json()) would differ
    ).encode()


class AnyEvent(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str


@pytest.fixture
def webhook() -> Webhook:
    return Webhook(SECRET, clock=lambda: NOW)


@pytest.fixture
def seen() -> list[str]:
    return []


@pytest.fixture
def async_handler(webhook: Webhook, tmp_path: Path, seen: list[str]) -> Iterator[AsyncWebhookHandler]:
    handler = AsyncWebhookHandler(webhook, SQLiteStore(tmp_path / "a.sqlite3"))

    @handler.on("customer.credit_unfrozen")
    async def on_unfrozen(event: Any) -> None:
        seen.append(event.id)

    yield handler
    handler.store.close()


@pytest.fixture
def sync_handler(webhook: Webhook, tmp_path: Path, seen: list[str]) -> Iterator[WebhookHandler]:
    handler = WebhookHandler(webhook, SQLiteStore(tmp_path / "s.sqlite3"))
    handler.on("customer.credit_unfrozen")(lambda e: seen.append(e.id))
    yield handler
    handler.store.close()


def _exercise(client: TestClient, url: str, webhook: Webhook, seen: list[str]) -> None:
    body = event_body("evt_st1")
    headers = webhook.sign("msg_1", NOW, body)
    first = client.post(url, content=body, headers=headers)
    again = client.post(url, content=body, headers=headers)
    bad = client.post(url, content=event_body("evt_st2"), headers=headers)  # signature of another body
    assert (first.status_code, first.json()["outcome"]) == (200, "processed")
    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
    assert bad.status_code == 400
    assert seen == ["evt_st1"]


def test_starlette_endpoint_with_the_async_handler(async_handler: AsyncWebhookHandler, seen: list[str]) -> None:
    app = Starlette(routes=[Route("/webhooks/bnpl", webhook_endpoint(async_handler), methods=["POST"])])
    with TestClient(app) as client:
        _exercise(client, "/webhooks/bnpl", async_handler.webhook, seen)


def test_fastapi_add_route_with_the_sync_handler(sync_handler: WebhookHandler, seen: list[str]) -> None:
    app = FastAPI()
    app.add_route("/webhooks/bnpl", webhook_endpoint(sync_handler), methods=["POST"])
    with TestClient(app) as client:
        _exercise(client, "/webhooks/bnpl", sync_handler.webhook, seen)


def test_fastapi_pitfall_reserialised_json_fails_while_raw_body_verifies(
    async_handler: AsyncWebhookHandler, seen: list[str]
) -> None:
    app = FastAPI()

    @app.post("/naive")
    async def naive(request: Request) -> Response:
        # the classic bug: verify what the framework parsed and serialised again
        reserialised = json.dumps(await request.json()).encode()
        result = await async_handler.handle(reserialised, request.headers)
        return Response(result.body, status_code=result.status_code)

    @app.post("/right")
    async def right(event: AnyEvent, body: RawBody, request: Request) -> Response:
        # a pydantic body parameter and the raw bytes coexist: Starlette caches the body
        assert event.id == "evt_fa1"
        result = await async_handler.handle(body, request.headers)
        return Response(result.body, status_code=result.status_code, headers=result.headers)

    body = event_body("evt_fa1")
    headers = {**async_handler.webhook.sign("msg_1", NOW, body), "content-type": "application/json"}
    with TestClient(app) as client:
        assert client.post("/naive", content=body, headers=headers).status_code == 400
        assert seen == []
        assert client.post("/right", content=body, headers=headers).status_code == 200
    assert seen == ["evt_fa1"]


def test_consumed_stream_is_detected_and_explained() -> None:
    async def consumes(request: Request) -> Response:
        async for _ in request.stream():
            pass
        return Response(await raw_body(request))

    app = Starlette(routes=[Route("/consumes", consumes, methods=["POST"])])
    with TestClient(app) as client, pytest.raises(RawBodyRequiredError, match="stream"):
        client.post("/consumes", content=b"{}")


def test_oversized_body_is_refused_before_dispatch(async_handler: AsyncWebhookHandler, seen: list[str]) -> None:
    app = Starlette(routes=[Route("/w", webhook_endpoint(async_handler, max_body_bytes=64), methods=["POST"])])
    body = event_body("evt_big")
    with TestClient(app) as client:
        response = client.post("/w", content=body, headers=async_handler.webhook.sign("msg_1", NOW, body))
    assert response.status_code == 413
    assert seen == []
