"""WebhookHandler: verify, de-duplicate, drop stale events, retry semantics; real SQLite files and the real
Webhook signer (no mocks)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bnpl.models.events import CustomerCreditLimitIncreasedEvent, parse_event
from bnpl.webhooks import RawBodyRequiredError, Webhook
from bnpl.webhooks.dispatch import (
    DispatchError,
    HandleOutcome,
    RetryLater,
    UnknownEventTypeError,
    WebhookHandler,
)
from bnpl.webhooks.stores import ClaimResult, MemoryStore, SQLiteStore

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NOW = 1_800_000_000


class FakeClock:
    def __init__(self, start: float = NOW) -> None:
        self.now = float(start)

    def __call__(self) -> float:
        return self.now


def event_body(
    event_id: str, sequence: int, *, object_id: str = "cus_1", type_: str = "customer.credit_limit_increased"
) -> bytes:
    payload = {
        "id": event_id,
        "object": "event",
        "type": type_,
        "created": "2027-01-15T08:00:00Z",
        "api_version": "2026-01-01",
        "object_id": object_id,
        "sequence": sequence,
        "data": {
            "object": "customer_credit_notice",
            "customer_id": object_id,
            "currency": "CNY",
            "credit_limit_before": 100_00,
            "credit_limit_after": 100_00 + sequence,
            "effective_at": "2027-01-15T08:00:00Z",
        },
    }
    return json.dumps(payload).encode()


def signed(webhook: Webhook, body: bytes, msg_id: str = "msg_1", timestamp: int = NOW) -> dict[str, str]:
    return webhook.sign(msg_id, timestamp, body)


@pytest.fixture
def webhook() -> Webhook:
    return Webhook(SECRET, clock=lambda: NOW)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = SQLiteStore(tmp_path / "dedup.sqlite3")
    yield s
    s.close()


@pytest.fixture
def handler(webhook: Webhook, store: SQLiteStore) -> WebhookHandler:
    return WebhookHandler(webhook, store)


def deliver(handler: WebhookHandler, event_id: str, sequence: int, **kw: Any) -> Any:
    body = event_body(event_id, sequence, **kw)
    return handler.handle(body, signed(handler.webhook, body))


def test_a_valid_delivery_runs_the_handler_once_and_records_the_sequence(
    handler: WebhookHandler, store: SQLiteStore
) -> None:
    seen: list[CustomerCreditLimitIncreasedEvent] = []
    handler.on("customer.credit_limit_increased")(seen.append)
    result = deliver(handler, "evt_a1", 3)
    assert result.outcome is HandleOutcome.PROCESSED
    assert result.status_code == 200
    assert result.ok
    assert result.event_id == "evt_a1"
    assert [type(e) for e in seen] == [CustomerCreditLimitIncreasedEvent]
    assert seen[0].data.credit_limit_after == 100_03
    assert store.last_sequence("cus_1") == 3
    assert store.claim("evt_a1", 30) is ClaimResult.ALREADY_PROCESSED


def test_a_duplicate_delivery_answers_200_without_rerunning(handler: WebhookHandler) -> None:
    calls: list[str] = []
    handler.on("customer.credit_limit_increased")(lambda e: calls.append(e.id))
    body = event_body("evt_d1", 1)
    first = handler.handle(body, signed(handler.webhook, body, "msg_d1"))
    # the lender retries with a new attempt timestamp and the same body
    second = handler.handle(body, signed(handler.webhook, body, "msg_d1", NOW + 60))
    assert (first.outcome, second.outcome) == (HandleOutcome.PROCESSED, HandleOutcome.DUPLICATE)
    assert second.status_code == 200
    assert calls == ["evt_d1"]


@pytest.mark.parametrize(
    ("mutate", "status"),
    [
        (lambda body, headers: (body + b" ", headers), 400),  # body altered after signing
        (lambda body, headers: (body, {**headers, "webhook-signature": "v1,AAAA"}), 400),
        (lambda body, headers: (body, {k: v for k, v in headers.items() if k != "webhook-id"}), 400),
        (lambda body, headers: (body, {**headers, "webhook-timestamp": str(NOW - 3600)}), 400),
    ],
    ids=["tampered-body", "wrong-signature", "missing-header", "stale-timestamp"],
)
def test_a_bad_signature_answers_400_and_records_nothing(
    handler: WebhookHandler, store: SQLiteStore, mutate: Any, status: int
) -> None:
    calls: list[str] = []
    handler.on("*")(lambda e: calls.append(e.id))
    body = event_body("evt_bad", 7)
    bad_body, bad_headers = mutate(body, signed(handler.webhook, body))
    result = handler.handle(bad_body, bad_headers)
    assert result.outcome is HandleOutcome.INVALID_SIGNATURE
    assert result.status_code == status
    assert result.event_id is None
    assert calls == []
    assert store.last_sequence("cus_1") is None
    assert store.claim("evt_bad", 30) is ClaimResult.CLAIMED  # nothing was recorded for that id


def test_an_oversized_body_answers_413(store: SQLiteStore) -> None:
    small = Webhook(SECRET, clock=lambda: NOW, max_body_bytes=100)
    handler = WebhookHandler(small, store)
    handler.on("*")(lambda e: None)
    body = event_body("evt_big", 1)
    result = handler.handle(body, signed(small, body))
    assert (result.outcome, result.status_code) == (HandleOutcome.INVALID_SIGNATURE, 413)


def test_a_late_event_never_rolls_the_object_back(handler: WebhookHandler, store: SQLiteStore) -> None:
    applied: list[int] = []
    handler.on("customer.credit_limit_increased", "customer.credit_limit_decreased")(
        lambda e: applied.append(e.sequence)
    )
    assert deliver(handler, "evt_s5", 5).outcome is HandleOutcome.PROCESSED
    late = deliver(handler, "evt_s3", 3, type_="customer.credit_limit_decreased")
    same = deliver(handler, "evt_s5b", 5)
    assert (late.outcome, late.status_code) == (HandleOutcome.STALE, 200)
    assert same.outcome is HandleOutcome.STALE  # equal sequence: already applied
    assert applied == [5]
    assert store.last_sequence("cus_1") == 5
    # the stale event is remembered, so its redelivery is a plain duplicate
    assert deliver(handler, "evt_s3", 3, type_="customer.credit_limit_decreased").outcome is HandleOutcome.DUPLICATE
    # other objects are independent
    assert deliver(handler, "evt_o1", 1, object_id="cus_2").outcome is HandleOutcome.PROCESSED


def test_no_handler_answers_200_ignored_and_does_not_move_the_sequence(
    handler: WebhookHandler, store: SQLiteStore
) -> None:
    handler.on("order.captured")(lambda e: None)
    result = deliver(handler, "evt_i1", 9)
    assert (result.outcome, result.status_code) == (HandleOutcome.IGNORED, 200)
    assert store.last_sequence("cus_1") is None
    assert store.claim("evt_i1", 30) is ClaimResult.CLAIMED


def test_catch_all_and_several_types_per_function(handler: WebhookHandler) -> None:
    calls: list[tuple[str, str]] = []
    handler.on("customer.credit_limit_increased", "customer.credit_limit_decreased")(
        lambda e: calls.append(("typed", e.id))
    )
    handler.on("*")(lambda e: calls.append(("all", e.id)))
    deliver(handler, "evt_c1", 1)
    deliver(handler, "evt_c2", 2, type_="customer.credit_limit_decreased")
    deliver(handler, "evt_c3", 3, type_="customer.credit_frozen")
    assert calls == [("typed", "evt_c1"), ("all", "evt_c1"), ("typed", "evt_c2"), ("all", "evt_c2"), ("all", "evt_c3")]


def test_a_failing_handler_answers_500_and_the_redelivery_runs_it_again(
    handler: WebhookHandler, store: SQLiteStore
) -> None:
    attempts: list[str] = []

    @handler.on("customer.credit_limit_increased")
    def flaky(event: CustomerCreditLimitIncreasedEvent) -> None:
        attempts.append(event.id)
        if len(attempts) == 1:
            raise ConnectionError("database down")

    failed = deliver(handler, "evt_f1", 1)
    assert (failed.outcome, failed.status_code) == (HandleOutcome.HANDLER_FAILED, 500)
    assert "ConnectionError" in failed.message
    assert "database down" not in failed.body.decode()  # exception text may hold personal data: not echoed
    assert store.last_sequence("cus_1") is None
    retried = deliver(handler, "evt_f1", 1)
    assert retried.outcome is HandleOutcome.PROCESSED
    assert attempts == ["evt_f1", "evt_f1"]
    assert store.last_sequence("cus_1") == 1


def test_retry_later_answers_503_with_retry_after_and_leaves_the_event_unmarked(handler: WebhookHandler) -> None:
    known_orders: set[str] = set()

    @handler.on("customer.credit_limit_increased")
    def apply(event: CustomerCreditLimitIncreasedEvent) -> None:
        if event.object_id not in known_orders:
            raise RetryLater("customer not synced yet", retry_after=30)

    result = deliver(handler, "evt_r1", 1)
    assert (result.outcome, result.status_code, result.retry_after) == (HandleOutcome.RETRY_LATER, 503, 30)
    assert result.headers["Retry-After"] == "30"
    known_orders.add("cus_1")
    assert deliver(handler, "evt_r1", 1).outcome is HandleOutcome.PROCESSED


def test_a_concurrent_delivery_of_the_same_event_is_told_to_retry_and_the_handler_runs_once(
    handler: WebhookHandler,
) -> None:
    body = event_body("evt_cc", 1)
    headers = signed(handler.webhook, body)
    inner: list[Any] = []
    runs: list[str] = []

    @handler.on("customer.credit_limit_increased")
    def slow(event: CustomerCreditLimitIncreasedEvent) -> None:
        runs.append(event.id)
        # while this delivery is still running, the lender's retry of the same event arrives
        inner.append(handler.handle(body, headers))

    outer = handler.handle(body, headers)
    assert outer.outcome is HandleOutcome.PROCESSED
    assert inner[0].outcome is HandleOutcome.RETRY_LATER
    assert inner[0].status_code == 503
    assert runs == ["evt_cc"]


def test_a_crashed_workers_claim_expires_with_its_lease(webhook: Webhook, tmp_path: Path) -> None:
    clock = FakeClock()
    store = SQLiteStore(tmp_path / "lease.sqlite3", clock=clock)
    handler = WebhookHandler(webhook, store, lease_seconds=30)
    runs: list[str] = []
    handler.on("*")(lambda e: runs.append(e.id))
    assert store.claim("evt_crash", 30) is ClaimResult.CLAIMED  # a worker claimed it, then died
    assert deliver(handler, "evt_crash", 1).outcome is HandleOutcome.RETRY_LATER
    clock.now += 31
    assert deliver(handler, "evt_crash", 1).outcome is HandleOutcome.PROCESSED
    assert runs == ["evt_crash"]
    store.close()


def test_handle_event_applies_reconciled_events_with_the_same_rules(handler: WebhookHandler) -> None:
    runs: list[str] = []
    handler.on("*")(lambda e: runs.append(e.id))
    fetched = parse_event(event_body("evt_rec", 4))  # as returned by GET /v1/events
    assert handler.handle_event(fetched).outcome is HandleOutcome.PROCESSED
    assert deliver(handler, "evt_rec", 4).outcome is HandleOutcome.DUPLICATE
    assert handler.handle_event(parse_event(event_body("evt_old", 2))).outcome is HandleOutcome.STALE
    assert runs == ["evt_rec"]
    with pytest.raises(DispatchError):
        handler.handle_event({"id": "evt_x"})


def test_a_verified_body_that_is_not_an_event_answers_400(handler: WebhookHandler) -> None:
    handler.on("*")(lambda e: None)
    body = b'{"id": "evt_1", "type": "order.captured"}'
    result = handler.handle(body, signed(handler.webhook, body))
    assert (result.outcome, result.status_code) == (HandleOutcome.INVALID_PAYLOAD, 400)


def test_a_decoded_body_is_a_receiver_bug_and_raises(handler: WebhookHandler) -> None:
    body = event_body("evt_str", 1)
    with pytest.raises(RawBodyRequiredError):
        handler.handle(body.decode(), signed(handler.webhook, body))  # type: ignore[arg-type]


def test_registration_errors_are_typed(handler: WebhookHandler) -> None:
    with pytest.raises(UnknownEventTypeError, match=r"order\.capture'"):
        handler.on("order.capture")
    handler.on("order.brand_new", allow_unknown=True)(lambda e: None)
    with pytest.raises(DispatchError):
        handler.on()
    with pytest.raises(DispatchError):
        handler.on("")

    async def coro(event: Any) -> None:
        return None

    with pytest.raises(DispatchError, match="AsyncWebhookHandler"):
        handler.on("order.captured")(coro)
    with pytest.raises(DispatchError):
        WebhookHandler("whsec_not_a_webhook", MemoryStore())  # type: ignore[arg-type]


def test_a_store_outage_answers_503_so_the_lender_retries(webhook: Webhook, tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "gone.sqlite3")
    handler = WebhookHandler(webhook, store)
    runs: list[str] = []
    handler.on("*")(lambda e: runs.append(e.id))
    store.close()  # every store call now raises
    result = deliver(handler, "evt_down", 1)
    assert (result.outcome, result.status_code) == (HandleOutcome.RETRY_LATER, 503)
    assert runs == []


def test_the_default_store_is_a_sqlite_file_in_the_working_directory(
    webhook: Webhook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    handler = WebhookHandler(webhook)
    handler.on("*")(lambda e: None)
    assert deliver(handler, "evt_def", 1).outcome is HandleOutcome.PROCESSED
    assert (tmp_path / "bnpl_webhooks.sqlite3").exists()
    handler.store.close()
    # a second handler (a restarted process) sees the same history
    again = WebhookHandler(webhook)
    again.on("*")(lambda e: None)
    assert deliver(again, "evt_def", 1).outcome is HandleOutcome.DUPLICATE
    again.store.close()


def test_result_exposes_http_status_headers_and_json_body(handler: WebhookHandler) -> None:
    handler.on("*")(lambda e: None)
    result = deliver(handler, "evt_res", 1)
    assert result.http_status.phrase == "OK"
    assert result.headers == {"Content-Type": "application/json"}
    assert json.loads(result.body) == {"outcome": "processed", "event_id": "evt_res", "message": "processed"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n_events=st.integers(min_value=1, max_value=8),
    extra=st.lists(st.integers(min_value=0, max_value=7), max_size=10),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    fail_first=st.booleans(),
)
def test_any_order_of_deliveries_applies_each_event_at_most_once_and_never_goes_backwards(
    webhook: Webhook, n_events: int, extra: list[int], seed: int, fail_first: bool
) -> None:
    store = MemoryStore()
    handler = WebhookHandler(webhook, store)
    applied: list[int] = []
    failures = [fail_first]

    @handler.on("*")
    def apply(event: Any) -> None:
        if failures and failures.pop():
            raise RuntimeError("transient")
        applied.append(event.sequence)

    # every event is delivered at least once, some several times, in a random order
    deliveries = list(range(1, n_events + 1)) + [1 + i % n_events for i in extra]
    random.Random(seed).shuffle(deliveries)
    deliveries.append(n_events)  # the lender keeps retrying the newest until it gets a 2xx
    for seq in deliveries:
        deliver(handler, f"evt_q{seq}", seq)
    assert len(applied) == len(set(applied))  # never twice
    assert applied == sorted(applied)  # never backwards
    assert applied[-1] == n_events  # the newest state always lands
    assert store.last_sequence("cus_1") == n_events
