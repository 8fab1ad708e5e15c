"""Django receiver: a real Django (settings configured in-test) driven by django.test.Client."""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import django
import pytest
from django.conf import settings

from bnpl.webhooks import RawBodyRequiredError, Webhook
from bnpl.webhooks.dispatch import WebhookHandler
from bnpl.webhooks.stores import SQLiteStore

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NOW = 1_800_000_000
URLS = "bnpl_test_django_urls"

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="test-only-not-secret",
        ALLOWED_HOSTS=["testserver"],
        ROOT_URLCONF=URLS,
        INSTALLED_APPS=[],
        MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],
        DATABASES={},
    )
    django.setup()

from django.test import Client, override_settings  # noqa: E402 - needs configured settings
from django.urls import clear_url_caches, path  # noqa: E402

from bnpl.webhooks.raw_body.django import raw_body, webhook_view  # noqa: E402


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
        indent=2,  # unusual spacing: re-serialising would change the bytes
    ).encode()


def sig_meta(webhook: Webhook, body: bytes) -> dict[str, str]:
    # Django's test client takes headers as META keys
    return {"HTTP_" + k.upper().replace("-", "_"): v for k, v in webhook.sign("msg_1", NOW, body).items()}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[WebhookHandler, list[str]]]:
    webhook = Webhook(SECRET, clock=lambda: NOW)
    handler = WebhookHandler(webhook, SQLiteStore(tmp_path / "d.sqlite3"))
    seen: list[str] = []
    handler.on("customer.credit_unfrozen")(lambda e: seen.append(e.id))

    def reads_post_first(request: Any) -> Any:
        request.POST  # noqa: B018 - the pitfall: a form parse before the raw body
        raw_body(request)

    module = types.ModuleType(URLS)
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("webhooks/bnpl/", webhook_view(handler)),
        path("bad/", reads_post_first),
    ]
    sys.modules[URLS] = module
    # another test module may have configured Django first: pin our URLconf and middleware either way
    with override_settings(
        ROOT_URLCONF=URLS, MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"], ALLOWED_HOSTS=["testserver"]
    ):
        clear_url_caches()
        yield handler, seen
    clear_url_caches()
    del sys.modules[URLS]
    handler.store.close()


def test_signed_post_runs_once_duplicates_are_acknowledged_and_csrf_is_exempt(app: Any) -> None:
    handler, seen = app
    client = Client(enforce_csrf_checks=True)  # as strict as production: no CSRF token from the lender
    body = event_body("evt_dj1")
    first = client.post("/webhooks/bnpl/", body, content_type="application/json", **sig_meta(handler.webhook, body))
    again = client.post("/webhooks/bnpl/", body, content_type="application/json", **sig_meta(handler.webhook, body))
    assert first.status_code == 200
    assert json.loads(first.content)["outcome"] == "processed"
    assert again.status_code == 200
    assert json.loads(again.content)["outcome"] == "duplicate"
    assert seen == ["evt_dj1"]


def test_bad_signature_is_400_and_get_is_405(app: Any) -> None:
    handler, seen = app
    client = Client()
    body = event_body("evt_dj2")
    meta = sig_meta(handler.webhook, body)
    meta["HTTP_WEBHOOK_SIGNATURE"] = "v1,AAAA"
    assert client.post("/webhooks/bnpl/", body, content_type="application/json", **meta).status_code == 400
    assert client.get("/webhooks/bnpl/").status_code == 405
    assert seen == []


def test_multipart_post_read_first_raises_our_typed_error(app: Any) -> None:
    with pytest.raises(RawBodyRequiredError, match=r"request\.POST"):
        Client().post("/bad/", {"field": "value"})  # multipart/form-data by default
