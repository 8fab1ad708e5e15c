"""Delivery in the running sandbox over HTTP: the background worker (started by the app's lifespan) delivers
events as the API commits them; the sandbox-only delivery log and redelivery routes; their auth and scoping."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from delivery_receiver import Receiver
from sandbox_helpers import Api, checkout_body

from bnpl.sandbox import SandboxInfo, Settings, run_sandbox
from bnpl.sandbox.auth import create_merchant
from bnpl.sandbox.delivery import webhook_id_for
from bnpl.webhooks import Webhook


@pytest.fixture
def live(tmp_path: Path) -> Iterator[SandboxInfo]:
    with run_sandbox(str(tmp_path / "sandbox.db"), settings=Settings(expiry_sweep_seconds=0)) as info:
        yield info


@pytest.fixture
def hooks() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


class Attempts(logging.Handler):
    """Counts the worker's per-attempt log records, which it writes after the attempt is recorded."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0
        self.changed = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("delivery "):
            with self.changed:
                self.count += 1
                self.changed.notify_all()

    def wait_for(self, count: int, timeout: float = 20.0) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.count >= count, timeout)


@pytest.fixture
def attempts() -> Iterator[Attempts]:
    logger = logging.getLogger("bnpl.sandbox.delivery")
    handler, level = Attempts(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_background_worker_delivers_logs_and_redelivers(live: SandboxInfo, hooks: Receiver, attempts: Attempts) -> None:
    api = Api(live)
    try:
        created = api.post("/v1/webhook_endpoints", {"url": hooks.url, "enabled_events": ["checkout.canceled"]})
        assert created.status_code == 201, created.text
        endpoint_id, hooks.secret = created.json()["id"], created.json()["secret"]
        checkout = api.post("/v1/checkouts", checkout_body()).json()
        assert api.post(f"/v1/checkouts/{checkout['id']}/cancel", {}).status_code == 200
        [got] = hooks.wait_for(1)  # woken by the commit, not by a poll
        attempts.wait_for(1)
        assert got.verified, got.error
        event = Webhook(hooks.secret).unwrap(got.body, got.headers)
        assert event.type == "checkout.canceled"
        assert event.object_id == checkout["id"]
        # The body is the event exactly as GET /v1/events/{id} returns it.
        assert got.body == api.get(f"/v1/events/{event.id}").content

        log = api.get(f"/v1/webhook_endpoints/{endpoint_id}/deliveries")
        assert log.status_code == 200, log.text
        assert log.headers["request-id"].startswith("req_")
        [entry] = log.json()["data"]
        assert entry["event_id"] == event.id
        assert entry["outcome"] == "succeeded"
        assert entry["status_code"] == 200
        assert entry["webhook_id"] == webhook_id_for(event.id, endpoint_id)

        again = api.post(f"/v1/events/{event.id}/redeliver")
        assert again.status_code == 200, again.text
        assert [d["endpoint_id"] for d in again.json()["deliveries"]] == [endpoint_id]
        first, second = hooks.wait_for(2)
        attempts.wait_for(2)
        assert second.verified
        assert second.body == first.body
        assert second.headers["webhook-id"] == first.headers["webhook-id"]
        one = api.post(f"/v1/events/{event.id}/redeliver", params={"endpoint": endpoint_id})
        assert [d["endpoint_id"] for d in one.json()["deliveries"]] == [endpoint_id]
        assert len(hooks.wait_for(3)) == 3
        attempts.wait_for(3)
        page = api.get(f"/v1/webhook_endpoints/{endpoint_id}/deliveries", params={"limit": 2}).json()
        assert len(page["data"]) == 2
        assert page["has_more"] is True
        rest = api.get(
            f"/v1/webhook_endpoints/{endpoint_id}/deliveries", params={"starting_after": page["next_cursor"]}
        ).json()
        assert len(rest["data"]) == 1
        assert rest["has_more"] is False
    finally:
        api.close()


def test_delivery_routes_are_authenticated_and_scoped(live: SandboxInfo, hooks: Receiver) -> None:
    api = Api(live)
    keys = create_merchant(live.db, datetime.now(UTC))
    stranger = Api(live, keys.secret_key)
    try:
        endpoint_id = api.post("/v1/webhook_endpoints", {"url": hooks.url, "enabled_events": ["*"]}).json()["id"]
        checkout = api.post("/v1/checkouts", checkout_body()).json()
        api.post(f"/v1/checkouts/{checkout['id']}/cancel", {})
        event_id = api.get("/v1/events").json()["data"][0]["id"]

        anonymous = httpx.get(f"{live.base_url}/v1/webhook_endpoints/{endpoint_id}/deliveries")
        assert anonymous.status_code == 401
        assert anonymous.json()["error"]["code"] == "missing_api_key"
        publishable = Api(live, live.publishable_key)
        try:
            assert publishable.post(f"/v1/events/{event_id}/redeliver").status_code == 403
        finally:
            publishable.close()
        # Another merchant's endpoint and event answer exactly like missing ones.
        for response in (
            stranger.get(f"/v1/webhook_endpoints/{endpoint_id}/deliveries"),
            stranger.post(f"/v1/events/{event_id}/redeliver"),
            api.get("/v1/webhook_endpoints/we_doesnotexist/deliveries"),
            api.post("/v1/events/evt_doesnotexist/redeliver"),
        ):
            assert response.status_code == 404, response.text
            assert response.json()["error"]["type"] == "not_found_error"
        bad = api.get(f"/v1/webhook_endpoints/{endpoint_id}/deliveries", params={"limit": 0})
        assert bad.status_code == 400
        assert bad.json()["error"]["param"] == "limit"
        typo = api.post(f"/v1/events/{event_id}/redeliver", params={"endpoint": "nope"})
        assert typo.status_code == 400
        assert typo.json()["error"]["param"] == "endpoint"
    finally:
        api.close()
        stranger.close()


def test_background_worker_can_be_disabled(tmp_path: Path, hooks: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BNPL_SANDBOX_DELIVERY", "0")
    with run_sandbox(str(tmp_path / "off.db"), settings=Settings(expiry_sweep_seconds=0)) as info:
        api = Api(info)
        try:
            api.post("/v1/webhook_endpoints", {"url": hooks.url, "enabled_events": ["*"]})
            checkout = api.post("/v1/checkouts", checkout_body()).json()
            api.post(f"/v1/checkouts/{checkout['id']}/cancel", {})
        finally:
            api.close()
        from bnpl.sandbox.delivery import DeliveryWorker

        # Nothing was sent by the app; a worker the test drives delivers the queued event.
        assert hooks.received == []
        stepped = DeliveryWorker(info.db)
        try:
            assert stepped.run_due() == 1
        finally:
            stepped.close()
    assert [json.loads(r.body)["type"] for r in hooks.received] == ["checkout.canceled"]


async def test_only_requests_that_wrote_events_wake_the_worker(tmp_path: Path) -> None:
    from starlette.responses import PlainTextResponse
    from starlette.types import Receive, Scope, Send

    from bnpl.models.checkouts import CheckoutCreateParams
    from bnpl.sandbox.db import Database
    from bnpl.sandbox.delivery_api import _NotifyAfterWrites
    from bnpl.sandbox.migrations import migrate
    from bnpl.sandbox.service._common import emit_event
    from bnpl.sandbox.service.checkouts import create_checkout

    db = Database.open(str(tmp_path / "wake.db"))
    try:
        migrate(db)
        now = datetime.now(UTC)
        merchant_id = create_merchant(db, now).merchant_id
        params = CheckoutCreateParams.model_validate(checkout_body())
        checkout_id = create_checkout(db, merchant_id, params, now=now, approval_url_for=lambda c: c).id

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["path"] == "/emits":
                with db.transaction() as tx:
                    emit_event(tx, merchant_id, "checkout.canceled", checkout_id, "{}", now)
            await PlainTextResponse("ok")(scope, receive, send)

        woken: list[str] = []
        wrapped = _NotifyAfterWrites(app, lambda: woken.append("wake"))
        transport = httpx.ASGITransport(app=wrapped)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            assert (await client.post("/writes-no-event")).status_code == 200
            assert woken == []  # e.g. a checkout create: no event, no wake-up
            assert (await client.post("/emits")).status_code == 200
            assert woken == ["wake"]
            await client.get("/reads")
            assert woken == ["wake"]
    finally:
        db.close()
