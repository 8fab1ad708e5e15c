"""Flask receiver: a real Flask app and its test client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request

from bnpl.webhooks import RawBodyRequiredError, Webhook
from bnpl.webhooks.dispatch import WebhookHandler
from bnpl.webhooks.raw_body.flask import make_view, raw_body
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
        },
        indent=2,
    ).encode()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[Flask, WebhookHandler, list[str]]]:
    handler = WebhookHandler(Webhook(SECRET, clock=lambda: NOW), SQLiteStore(tmp_path / "f.sqlite3"))
    seen: list[str] = []
    handler.on("customer.credit_unfrozen")(lambda e: seen.append(e.id))
    flask_app = Flask(__name__)
    flask_app.testing = True
    flask_app.add_url_rule("/webhooks/bnpl", view_func=make_view(handler), methods=["POST"])

    @flask_app.post("/form-first")
    def form_first() -> Any:
        request.form  # noqa: B018 - the pitfall: the form parse consumes a form-encoded body
        return raw_body()

    @flask_app.post("/json-first")
    def json_first() -> Any:
        request.get_json(force=True, silent=True)  # harmless: get_json caches the bytes
        result = handler.handle(raw_body(), request.headers)  # type: ignore[arg-type]
        return result.body, result.status_code

    yield flask_app, handler, seen
    handler.store.close()


def test_signed_post_runs_once_and_duplicates_are_acknowledged(app: Any) -> None:
    flask_app, handler, seen = app
    client = flask_app.test_client()
    body = event_body("evt_fl1")
    headers = handler.webhook.sign("msg_1", NOW, body)
    first = client.post("/webhooks/bnpl", data=body, headers=headers, content_type="application/json")
    again = client.post("/webhooks/bnpl", data=body, headers=headers, content_type="application/json")
    assert (first.status_code, first.get_json()["outcome"]) == (200, "processed")
    assert (again.status_code, again.get_json()["outcome"]) == (200, "duplicate")
    assert seen == ["evt_fl1"]


def test_bad_signature_is_400(app: Any) -> None:
    flask_app, handler, seen = app
    body = event_body("evt_fl2")
    headers = {**handler.webhook.sign("msg_1", NOW, body), "webhook-signature": "v1,AAAA"}
    response = flask_app.test_client().post("/webhooks/bnpl", data=body, headers=headers)
    assert response.status_code == 400
    assert seen == []


def test_reading_request_form_first_is_detected_and_explained(app: Any) -> None:
    flask_app, _, _ = app
    with pytest.raises(RawBodyRequiredError, match=r"request\.form"):
        flask_app.test_client().post("/form-first", data=b"a=1&b=2", content_type="application/x-www-form-urlencoded")


def test_get_json_first_is_harmless(app: Any) -> None:
    flask_app, handler, seen = app
    body = event_body("evt_fl3")
    response = flask_app.test_client().post(
        "/json-first", data=body, headers=handler.webhook.sign("msg_1", NOW, body), content_type="application/json"
    )
    assert response.status_code == 200
    assert seen == ["evt_fl3"]
