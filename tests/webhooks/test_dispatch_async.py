"""AsyncWebhookHandler: async and sync handlers, sync stores run in worker threads, concurrent deliveries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest

from bnpl.models.events import parse_event
from bnpl.webhooks import Webhook
from bnpl.webhooks.dispatch import AsyncWebhookHandler, HandleOutcome, RetryLater
from bnpl.webhooks.stores import RedisStore, SQLiteStore

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NOW = 1_800_000_000


def event_body(event_id: str, sequence: int, object_id: str = "cus_1") -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "customer.credit_limit_increased",
            "created": "2027-01-15T08:00:00Z",
            "api_version": "2026-01-01",
            "object_id": object_id,
            "sequence": sequence,
            "data": {
                "object": "customer_credit_notice",
                "customer_id": object_id,
                "currency": "CNY",
                "credit_limit_before": 100_00,
                "credit_limit_after": 200_00,
                "effective_at": "2027-01-15T08:00:00Z",
            },
        }
    ).encode()


@pytest.fixture
def webhook() -> Webhook:
    return Webhook(SECRET, clock=lambda: NOW)


@pytest.fixture
def handler(webhook: Webhook, tmp_path: Path) -> Any:
    h = AsyncWebhookHandler(webhook, SQLiteStore(tmp_path / "dedup.sqlite3"))
    yield h
    h.store.close()


async def deliver(handler: AsyncWebhookHandler, event_id: str, sequence: int) -> Any:
    body = event_body(event_id, sequence)
    return await handler.handle(body, handler.webhook.sign("msg_1", NOW, body))


async def test_async_and_sync_handlers_both_run_once(handler: AsyncWebhookHandler) -> None:
    calls: list[str] = []

    @handler.on("customer.credit_limit_increased")
    async def on_async(event: Any) -> None:
        await anyio.lowlevel.checkpoint()
        calls.append("async:" + event.id)

    @handler.on("*")
    def on_sync(event: Any) -> None:
        calls.append("sync:" + event.id)

    assert (await deliver(handler, "evt_1", 1)).outcome is HandleOutcome.PROCESSED
    assert (await deliver(handler, "evt_1", 1)).outcome is HandleOutcome.DUPLICATE
    assert (await deliver(handler, "evt_0", 0)).outcome is HandleOutcome.STALE
    assert calls == ["async:evt_1", "sync:evt_1"]


async def test_failures_and_retry_later_leave_the_event_unmarked(handler: AsyncWebhookHandler) -> None:
    plan: list[BaseException | None] = [RetryLater("not yet"), ValueError("boom"), None]

    @handler.on("customer.credit_limit_increased")
    async def flaky(event: Any) -> None:
        exc = plan.pop(0)
        if exc is not None:
            raise exc

    first, second, third = [await deliver(handler, "evt_f", 1) for _ in range(3)]
    assert (first.outcome, first.status_code) == (HandleOutcome.RETRY_LATER, 503)
    assert (second.outcome, second.status_code) == (HandleOutcome.HANDLER_FAILED, 500)
    assert (third.outcome, third.status_code) == (HandleOutcome.PROCESSED, 200)


async def test_a_concurrent_delivery_is_told_to_retry_while_the_first_runs(handler: AsyncWebhookHandler) -> None:
    started, gate = anyio.Event(), anyio.Event()
    runs: list[str] = []

    @handler.on("customer.credit_limit_increased")
    async def slow(event: Any) -> None:
        runs.append(event.id)
        started.set()
        await gate.wait()

    results: list[Any] = []

    async def first() -> None:
        results.append(await deliver(handler, "evt_cc", 1))

    async with anyio.create_task_group() as tg:
        tg.start_soon(first)
        await started.wait()
        second = await deliver(handler, "evt_cc", 1)
        gate.set()
    assert (second.outcome, second.status_code) == (HandleOutcome.RETRY_LATER, 503)
    assert results[0].outcome is HandleOutcome.PROCESSED
    assert runs == ["evt_cc"]


async def test_bad_signature_and_reconciliation(handler: AsyncWebhookHandler) -> None:
    runs: list[str] = []
    handler.on("*")(lambda e: runs.append(e.id))
    body = event_body("evt_b", 1)
    bad = await handler.handle(body, {**handler.webhook.sign("msg_1", NOW, body), "webhook-signature": "v1,AAAA"})
    assert (bad.outcome, bad.status_code) == (HandleOutcome.INVALID_SIGNATURE, 400)
    assert (await handler.handle_event(parse_event(body))).outcome is HandleOutcome.PROCESSED
    assert runs == ["evt_b"]


async def test_works_with_the_redis_store(webhook: Webhook, redis_url: str) -> None:
    store = RedisStore(redis_url, prefix="t_async")
    handler = AsyncWebhookHandler(webhook, store)
    runs: list[int] = []

    @handler.on("customer.credit_limit_increased")
    async def apply(event: Any) -> None:
        runs.append(event.sequence)

    outcomes = [
        (await deliver(handler, eid, seq)).outcome for eid, seq in [("evt_r2", 2), ("evt_r1", 1), ("evt_r2", 2)]
    ]
    assert outcomes == [HandleOutcome.PROCESSED, HandleOutcome.STALE, HandleOutcome.DUPLICATE]
    assert runs == [2]
    store.close()
