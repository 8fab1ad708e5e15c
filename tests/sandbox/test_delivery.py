"""The outbox delivery worker against real receivers on 127.0.0.1, stepped with ``run_due(now)`` (no sleeps):
signatures, the SPEC retry schedule, timeouts, connection errors, 410, abandonment, merchant isolation,
subscriptions, secret rotation, PII encryption and two workers racing on one database."""

from __future__ import annotations

import json
import secrets
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from delivery_receiver import Receiver
from hypothesis import given
from hypothesis import strategies as st

from bnpl.models.checkouts import CheckoutCreateParams
from bnpl.models.webhook_endpoints import RotateSecretParams, WebhookEndpointCreateParams
from bnpl.sandbox.auth import create_merchant
from bnpl.sandbox.db import Database
from bnpl.sandbox.delivery import (
    MAX_ATTEMPTS,
    RETRY_SCHEDULE,
    DeliveryWorker,
    encryption_key_for,
    retry_delay,
    webhook_id_for,
)
from bnpl.sandbox.delivery_log import list_attempts, redeliver
from bnpl.sandbox.delivery_schema import DELIVERY_MIGRATIONS, ensure_delivery_schema, migrate_delivery
from bnpl.sandbox.migrations import migrate
from bnpl.sandbox.service._common import dumps, emit_event, to_us
from bnpl.sandbox.service.checkouts import cancel_checkout, create_checkout
from bnpl.sandbox.service.endpoints import create_endpoint, rotate_endpoint_secret
from bnpl.webhooks import DecryptionError, Webhook, decrypt_fields

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


class Clock:
    """A test clock the worker reads; tests move it explicitly."""

    def __init__(self, start: datetime = T0) -> None:
        self.t = start

    def __call__(self) -> datetime:
        return self.t


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(str(tmp_path / "sandbox.db"))
    migrate(database)
    yield database
    database.close()


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    started: list[Receiver] = []
    yield started
    for receiver in started:
        receiver.close()


def receiver(receivers: list[Receiver], secret: str | None = None, port: int = 0) -> Receiver:
    r = Receiver(secret, port)
    receivers.append(r)
    return r


def worker(db: Database, clock: Clock, **kw: Any) -> DeliveryWorker:
    kw.setdefault("jitter", 0)
    return DeliveryWorker(db, now=clock, **kw)


def merchant(db: Database) -> str:
    return create_merchant(db, T0).merchant_id


def endpoint(db: Database, merchant_id: str, url: str, events: list[str] | None = None, **kw: Any) -> tuple[str, str]:
    """Register an endpoint; return (id, secret)."""
    params = WebhookEndpointCreateParams(url=url, enabled_events=events or ["*"], **kw)
    created = create_endpoint(db, merchant_id, params, T0)
    return created.id, created.secret


def checkout(db: Database, merchant_id: str) -> str:
    amount = 129_900
    params = CheckoutCreateParams.model_validate(
        {
            "merchant_reference": "PNR-" + secrets.token_hex(3),
            "amount": amount,
            "currency": "CNY",
            "items": [{"name": "PEK-SHA", "category": "flight", "unit_amount": amount, "total_amount": amount}],
            "return_url": "https://shop.example/return",
            "customer": {"reference": "cust-1", "email": "approve@bnpl.test"},
        }
    )
    created = create_checkout(db, merchant_id, params, now=T0, approval_url_for=lambda c: f"https://x/{c}")
    return created.id


def canceled_event(db: Database, merchant_id: str) -> str:
    """A real ``checkout.canceled`` event written by the service; return its id."""
    checkout_id = checkout(db, merchant_id)
    cancel_checkout(db, merchant_id, checkout_id, T0)
    with db.transaction(readonly=True) as tx:
        row = tx.fetchone("SELECT id FROM events WHERE object_id = ? ORDER BY pk DESC", (checkout_id,))
    assert row is not None
    return str(row["id"])


def stored_payload(db: Database, event_id: str) -> bytes:
    with db.transaction(readonly=True) as tx:
        row = tx.fetchone("SELECT payload FROM events WHERE id = ?", (event_id,))
    assert row is not None
    return str(row["payload"]).encode()


def delivery(db: Database, event_id: str, endpoint_id: str) -> Any:
    with db.transaction(readonly=True) as tx:
        return tx.fetchone("SELECT * FROM deliveries WHERE event_id = ? AND endpoint_id = ?", (event_id, endpoint_id))


# --- the schedule --------------------------------------------------------------------------------------------


def test_schedule_is_the_spec_schedule() -> None:
    assert RETRY_SCHEDULE == (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
    assert [retry_delay(n, jitter=0) for n in range(1, MAX_ATTEMPTS)] == [float(s) for s in RETRY_SCHEDULE]
    assert retry_delay(MAX_ATTEMPTS, jitter=0) is None
    with pytest.raises(ValueError, match="attempts_made"):
        retry_delay(0)
    with pytest.raises(ValueError, match="jitter"):
        retry_delay(1, jitter=1.5)


@given(st.integers(min_value=1, max_value=MAX_ATTEMPTS - 1), st.integers(min_value=0, max_value=2**32))
def test_jitter_stays_within_twenty_percent(attempts: int, seed: int) -> None:
    import random

    delay = retry_delay(attempts, rng=random.Random(seed))
    base = RETRY_SCHEDULE[attempts - 1]
    assert delay is not None
    assert base * 0.8 <= delay <= base * 1.2


def test_encryption_key_is_hkdf_of_the_secret_bytes() -> None:
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    secret = "whsec_" + base64.b64encode(bytes(range(32))).decode()
    expected = HKDF(hashes.SHA256(), 32, None, b"bnpl-webhook-encryption").derive(bytes(range(32)))
    assert encryption_key_for(secret) == "whenc_" + base64.b64encode(expected).decode()
    # The whsec_ prefix is optional, as for signing (SPEC §3).
    assert encryption_key_for(secret.removeprefix("whsec_")) == encryption_key_for(secret)


def test_worker_validates_its_options(db: Database) -> None:
    for bad in ({"timeout": 0}, {"poll_interval": -1}, {"concurrency": 0}, {"jitter": 1.0}, {"batch_size": True}):
        with pytest.raises(ValueError):
            DeliveryWorker(db, **bad)
    w = DeliveryWorker(db)
    try:
        with pytest.raises(ValueError, match="timezone-aware"):
            w.run_due(datetime(2030, 1, 1))
    finally:
        w.close()


# --- delivering ----------------------------------------------------------------------------------------------


def test_delivers_stored_bytes_signed_and_verifiable(db: Database, receivers: list[Receiver]) -> None:
    m = merchant(db)
    r = receiver(receivers)
    endpoint_id, secret = endpoint(db, m, r.url)
    r.secret = secret
    event_id = canceled_event(db, m)
    clock = Clock()
    with_worker = worker(db, clock)
    try:
        assert with_worker.run_due(T0) == 1
        assert with_worker.run_due(T0) == 0  # nothing left: delivered once
    finally:
        with_worker.close()
    [got] = r.received
    assert got.verified, got.error
    assert got.body == stored_payload(db, event_id)  # the stored bytes exactly
    assert got.headers["content-type"] == "application/json"
    assert got.headers["user-agent"].startswith("bnpl-sandbox/")
    assert got.headers["webhook-id"] == webhook_id_for(event_id, endpoint_id)
    event = Webhook(secret).unwrap(got.body, got.headers)
    assert event.id == event_id
    assert event.type == "checkout.canceled"
    row = delivery(db, event_id, endpoint_id)
    assert (row["status"], row["attempt"], row["response_code"]) == ("succeeded", 1, 200)
    log = list_attempts(db, m, endpoint_id)
    assert [(a.attempt, a.outcome, a.status_code) for a in log.data] == [(1, "succeeded", 200)]


def test_two_failures_then_delivered_on_the_backoff_schedule(db: Database, receivers: list[Receiver]) -> None:
    m = merchant(db)
    r = receiver(receivers)
    endpoint_id, r.secret = endpoint(db, m, r.url)
    event_id = canceled_event(db, m)
    r.script(500, 503)
    clock = Clock()
    w = worker(db, clock)
    try:
        assert w.run_due(T0) == 1
        row = delivery(db, event_id, endpoint_id)
        assert row["status"] == "pending"
        assert row["next_attempt_at"] == to_us(T0 + timedelta(seconds=5))
        assert w.run_due(T0 + timedelta(seconds=4)) == 0  # not due yet
        assert w.run_due(T0 + timedelta(seconds=5)) == 1
        second = T0 + timedelta(seconds=5)
        assert delivery(db, event_id, endpoint_id)["next_attempt_at"] == to_us(second + timedelta(minutes=5))
        assert w.run_due(second + timedelta(minutes=4, seconds=59)) == 0
        assert w.run_due(second + timedelta(minutes=5)) == 1
    finally:
        w.close()
    assert len(r.received) == 3
    assert all(x.verified for x in r.received)
    assert len({x.headers["webhook-id"] for x in r.received}) == 1  # same id on every retry (SPEC §1)
    assert len({x.body for x in r.received}) == 1
    row = delivery(db, event_id, endpoint_id)
    assert (row["status"], row["attempt"]) == ("succeeded", 3)
    log = list_attempts(db, m, endpoint_id).data
    assert [(a.attempt, a.outcome, a.status_code) for a in log] == [
        (3, "succeeded", 200),
        (2, "retrying", 503),
        (1, "retrying", 500),
    ]
    assert log[2].next_attempt_at == T0 + timedelta(seconds=5)
    assert log[1].next_attempt_at == second + timedelta(minutes=5)


def test_jittered_retry_is_within_twenty_percent(db: Database, receivers: list[Receiver]) -> None:
    m = merchant(db)
    r = receiver(receivers)
    endpoint_id, _ = endpoint(db, m, r.url)
    event_id = canceled_event(db, m)
    r.script(500)
    w = DeliveryWorker(db, now=Clock())  # default jitter 0.2
    try:
        w.run_due(T0)
    finally:
        w.close()
    due = delivery(db, event_id, endpoint_id)["next_attempt_at"]
    assert to_us(T0 + timedelta(seconds=4)) <= due <= to_us(T0 + timedelta(seconds=6))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_receiver_down_then_up(db: Database, receivers: list[Receiver]) -> None:
    m = merchant(db)
    port = _free_port()
    endpoint_id, secret = endpoint(db, m, f"http://127.0.0.1:{port}/hooks")
    event_id = canceled_event(db, m)
    w = worker(db, Clock())
    try:
        assert w.run_due(T0) == 1  # connection refused
        [first] = list_attempts(db, m, endpoint_id).data
        assert first.status_code is None
        assert first.error is not None
        assert "Connect" in first.error
        assert first.outcome == "retrying"
        r = receiver(receivers, secret, port=port)
        assert w.run_due(T0 + timedelta(seconds=5)) == 1
    finally:
        w.close()
    assert [x.verified for x in r.received] == [True]
    assert delivery(db, event_id, endpoint_id)["status"] == "succeeded"


def test_slow_receiver_times_out_and_is_retried(db: Database, receivers: list[Receiver]) -> None:
    m = merchant(db)
    r = receiver(receivers)
    endpoint_id, r.secret = endpoint(db, m, r.url)
    event_id = canceled_event(db, m)
    w = worker(db, Clock(), timeout=0.3)
    try:
        r.hold()
        assert w.run_due(T0) == 1
        [timed_out] = list_attempts(db, m, endpoint_id).data
        assert timed_out.status_code is None
        assert timed_out.error is not None
        assert "timeout" in timed_out.error
        r.release()
        assert w.run_due(T0 + timedelta(seconds=5)) == 1
    finally:
        w.close()
    assert len(r.received) == 2
    assert delivery(db, event_id, endpoint_id)["status"] == "succeeded"


def test_410_disables_the_endpoint(db: Database, receivers: list[Receiver]) -> None:
    m = merchant(db)
    r = receiver(receivers)
    endpoint_id, _ = endpoint(db, m, r.url)
    first = canceled_event(db, m)
    r.script(410)
    w = worker(db, Clock())
    try:
        assert w.run_due(T0) == 1
        second = canceled_event(db, m)  # after the endpoint is disabled: never fanned out to it
        assert w.run_due(T0 + timedelta(days=5)) == 0
    finally:
        w.close()
    assert len(r.received) == 1
    assert delivery(db, first, endpoint_id)["status"] == "failed"
    assert delivery(db, second, endpoint_id) is None
    with db.transaction(readonly=True) as tx:
        row = tx.fetchone("SELECT status FROM webhook_endpoints WHERE id = ?", (endpoint_id,))
    assert row is not None
    assert row["status"] == "disabled"
    assert list_attempts(db, m, endpoint_id).data[0].outcome == "failed"


def test_abandoned_after_the_last_retry(db: Database, receivers: list[Receiver]) -> None:
    m = merchant(db)
    r = receiver(receivers)
    endpoint_id, _ = endpoint(db, m, r.url)
    event_id = canceled_event(db, m)
    r.script(*([500] * MAX_ATTEMPTS))
    clock = Clock()
    w = worker(db, clock)
    try:
        now = T0
        for delay in (0, *RETRY_SCHEDULE):
            now += timedelta(seconds=delay)
            assert w.run_due(now) == 1
        assert w.run_due(now + timedelta(days=30)) == 0
    finally:
        w.close()
    assert len(r.received) == MAX_ATTEMPTS == 10
    row = delivery(db, event_id, endpoint_id)
    assert (row["status"], row["attempt"]) == ("abandoned", MAX_ATTEMPTS)
    log = list_attempts(db, m, endpoint_id, limit=100).data
    assert [a.outcome for a in log] == ["abandoned"] + ["retrying"] * (MAX_ATTEMPTS - 1)
    # The whole schedule spans about 3.5 days (SPEC §4), compressed here into ten calls.
    assert now - T0 == timedelta(seconds=sum(RETRY_SCHEDULE))


def test_other_merchants_events_never_reach_this_endpoint(db: Database, receivers: list[Receiver]) -> None:
    mine, theirs = merchant(db), merchant(db)
    r = receiver(receivers)
    endpoint_id, _ = endpoint(db, mine, r.url)
    other = receiver(receivers)
    endpoint(db, theirs, other.url)
    my_event = canceled_event(db, mine)
    their_event = canceled_event(db, theirs)
    w = worker(db, Clock())
    try:
        assert w.run_due(T0) == 2
    finally:
        w.close()
    assert [json.loads(x.body)["id"] for x in r.received] == [my_event]
    assert [json.loads(x.body)["id"] for x in other.received] == [their_event]
    assert delivery(db, their_event, endpoint_id) is None
    from bnpl.sandbox.service._common import NotFoundError

    with pytest.raises(NotFoundError):
        list_attempts(db, theirs, endpoint_id)  # another merchant's log answers like a missing endpoint
    with pytest.raises(NotFoundError):
        redeliver(db, theirs, my_event, T0)


def test_subscription_filter(db: Database, receivers: list[Receiver]) -> None:
    m = merchant(db)
    wants_declines = receiver(receivers)
    wants_cancels = receiver(receivers)
    endpoint(db, m, wants_declines.url, ["checkout.declined"])
    endpoint(db, m, wants_cancels.url, ["checkout.canceled", "order.captured"])
    event_id = canceled_event(db, m)
    w = worker(db, Clock())
    try:
        assert w.run_due(T0) == 1
    finally:
        w.close()
    assert wants_declines.received == []
    assert [json.loads(x.body)["id"] for x in wants_cancels.received] == [event_id]


def test_rotation_signs_with_both_secrets_until_the_old_expires(db: Database, receivers: list[Receiver]) -> None:
    m = merchant(db)
    r = receiver(receivers)
    endpoint_id, old = endpoint(db, m, r.url)
    new = rotate_endpoint_secret(db, m, endpoint_id, RotateSecretParams(expire_current_in_seconds=3600), T0).secret
    canceled_event(db, m)
    w = worker(db, Clock())
    try:
        w.run_due(T0)
        canceled_event(db, m)
        w.run_due(T0 + timedelta(hours=2))  # the old secret has expired
    finally:
        w.close()
    during, after = r.received
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(during.body, during.headers)  # a receiver not yet updated
    Webhook(new).verify(during.body, during.headers)  # an updated one
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(after.body, after.headers)
    with pytest.raises(Exception, match="signature"):
        Webhook(old).verify(after.body, after.headers)


def test_encrypted_pii_decrypts_with_the_derived_key(db: Database, receivers: list[Receiver]) -> None:
    m = merchant(db)
    r = receiver(receivers)
    endpoint_id, secret = endpoint(db, m, r.url, encrypt_pii=True)
    r.secret = secret
    checkout_id = checkout(db, m)
    customer = {"name": "张三", "phone": "+8613800138000", "id_number": "110101199003074514"}
    from bnpl.sandbox.service.checkouts import get_checkout

    data = {**get_checkout(db, m, checkout_id).model_dump(mode="json"), "customer": customer}
    with db.transaction() as tx:
        event_id = emit_event(tx, m, "checkout.canceled", checkout_id, dumps(data), T0)
    w = worker(db, Clock())
    try:
        assert w.run_due(T0) == 1
    finally:
        w.close()
    [got] = r.received
    assert got.verified
    assert "张三".encode() not in got.body
    assert b"13800138000" not in got.body
    envelope = json.loads(got.body)["data"]["customer"]["encrypted"]
    assert envelope["algorithm"] == "AEAD_AES_256_GCM"
    assert envelope["associated_data"] == event_id
    key = encryption_key_for(secret)
    event = Webhook(secret, encryption_key=key).unwrap(got.body, got.headers)
    assert event.id == event_id
    assert decrypt_fields(json.loads(got.body), key)["data"]["customer"] == customer
    from bnpl.webhooks import generate_encryption_key

    with pytest.raises(DecryptionError):
        Webhook(secret, encryption_key=generate_encryption_key()).unwrap(got.body, got.headers)
    with pytest.raises(DecryptionError):
        Webhook(secret).unwrap(got.body, got.headers)  # without the key, never the envelope as the object
    assert delivery(db, event_id, endpoint_id)["status"] == "succeeded"


def test_redelivery_queues_a_fresh_schedule(db: Database, receivers: list[Receiver]) -> None:
    m = merchant(db)
    r = receiver(receivers)
    endpoint_id, r.secret = endpoint(db, m, r.url)
    event_id = canceled_event(db, m)
    w = worker(db, Clock())
    try:
        w.run_due(T0)
        later = T0 + timedelta(days=1)
        queued = redeliver(db, m, event_id, later)
        assert [(d.endpoint_id, d.next_attempt_at) for d in queued.deliveries] == [(endpoint_id, later)]
        r.script(500)
        assert w.run_due(later) == 1
        row = delivery(db, event_id, endpoint_id)
        assert (row["status"], row["attempt"]) == ("pending", 1)  # the schedule restarted: retry in 5 s
        assert row["next_attempt_at"] == to_us(later + timedelta(seconds=5))
        assert w.run_due(later + timedelta(seconds=5)) == 1
    finally:
        w.close()
    assert len(r.received) == 3
    assert all(x.verified for x in r.received)
    assert len({x.headers["webhook-id"] for x in r.received}) == 1


def test_a_closed_worker_starts_new_senders_when_used_again(db: Database, receivers: list[Receiver]) -> None:
    m = merchant(db)
    r = receiver(receivers)
    _, r.secret = endpoint(db, m, r.url)
    w = worker(db, Clock())
    w.close()  # before any attempt: nothing had been started
    first = canceled_event(db, m)
    try:
        assert w.run_due(T0) == 1
        w.close()
        second = canceled_event(db, m)
        assert w.run_due(T0) == 1
    finally:
        w.close()
    assert [json.loads(x.body)["id"] for x in r.received] == [first, second]
    assert all(x.verified for x in r.received)


# --- the fan-out queue ------------------------------------------------------------------------------------


def pending(db: Database) -> list[int]:
    with db.transaction(readonly=True) as tx:
        return [int(r["event_pk"]) for r in tx.fetchall("SELECT event_pk FROM delivery_pending ORDER BY event_pk")]


def event_pks(db: Database, merchant_id: str) -> list[int]:
    with db.transaction(readonly=True) as tx:
        rows = tx.fetchall("SELECT pk FROM events WHERE merchant_id = ? ORDER BY pk", (merchant_id,))
    return [int(r["pk"]) for r in rows]


def test_only_events_of_merchants_with_an_enabled_endpoint_are_queued(db: Database, receivers: list[Receiver]) -> None:
    ensure_delivery_schema(db)
    quiet, listening = merchant(db), merchant(db)
    canceled_event(db, quiet)
    assert event_pks(db, quiet)
    assert pending(db) == []  # nobody listens: the worker has nothing to read, let alone write
    r = receiver(receivers)
    endpoint(db, listening, r.url)
    mine = canceled_event(db, listening)
    assert pending(db) == event_pks(db, listening)
    w = worker(db, Clock())
    try:
        assert w.run_due(T0) == 1
        assert pending(db) == []
        assert w.fan_out(T0) == 0  # taken off the queue: fanned out once
        assert w.run_due(T0) == 0
    finally:
        w.close()
    assert [json.loads(x.body)["id"] for x in r.received] == [mine]


def test_an_endpoint_receives_the_events_written_after_it_exists(db: Database, receivers: list[Receiver]) -> None:
    ensure_delivery_schema(db)
    m = merchant(db)
    canceled_event(db, m)  # before any endpoint: nobody was subscribed when it happened
    r = receiver(receivers)
    endpoint(db, m, r.url)
    after = canceled_event(db, m)
    w = worker(db, Clock())
    try:
        assert w.run_due(T0) == 1
    finally:
        w.close()
    assert [json.loads(x.body)["id"] for x in r.received] == [after]


def test_upgrade_from_version_1_queues_what_it_had_not_fanned_out(db: Database, receivers: list[Receiver]) -> None:
    version, _, statements = DELIVERY_MIGRATIONS[0]
    assert version == 1
    assert isinstance(statements, tuple)
    with db.transaction() as tx:  # a database a version-1 worker ran on
        for statement in statements:
            tx.execute(statement.replace("{PK}", "pk INTEGER PRIMARY KEY"))
        tx.execute("INSERT INTO meta (key, value) VALUES ('delivery_schema_version', '1')")
    m = merchant(db)
    r = receiver(receivers)
    endpoint(db, m, r.url)
    done = canceled_event(db, m)
    left = canceled_event(db, m)
    with db.transaction() as tx:  # version 1 fanned out the first event and its checkout's, not the second's
        tx.execute(
            "INSERT INTO delivery_fanout (event_pk, fanned) SELECT pk, 0 FROM events WHERE object_id = "
            "(SELECT object_id FROM events WHERE id = ?)",
            (done,),
        )
    assert migrate_delivery(db) == 2
    w = worker(db, Clock())
    try:
        assert w.run_due(T0) == 1
    finally:
        w.close()
    assert [json.loads(x.body)["id"] for x in r.received] == [left]


def test_events_committed_out_of_pk_order_are_each_fanned_out_once_postgres(
    postgres_url: str, receivers: list[Receiver]
) -> None:
    import psycopg

    schema = "delivery_" + secrets.token_hex(6)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    first = Database.open(postgres_url, schema=schema)
    second = Database.open(postgres_url, schema=schema)  # another process's connection
    try:
        migrate(first)
        ensure_delivery_schema(first)
        m = merchant(first)
        r = receiver(receivers)
        endpoint(first, m, r.url)
        slow_checkout, fast_checkout = checkout(first, m), checkout(first, m)
        w = worker(second, Clock())
        try:
            slow = first.transaction()
            tx = slow.__enter__()
            try:
                slow_id = emit_event(tx, m, "checkout.canceled", slow_checkout, "{}", T0)  # the lower pk...
                with second.transaction() as other:
                    fast_id = emit_event(other, m, "checkout.canceled", fast_checkout, "{}", T0)
                assert w.run_due(T0) == 1  # ...is not committed yet: only the higher one goes out
            finally:
                slow.__exit__(None, None, None)
            assert w.run_due(T0) == 1  # committed late, still fanned out
            assert w.run_due(T0) == 0
        finally:
            w.close()
        assert [json.loads(x.body)["id"] for x in r.received] == [fast_id, slow_id]
        with first.transaction(readonly=True) as check:
            rows = check.fetchall("SELECT id FROM events WHERE id IN (?, ?) ORDER BY pk", (slow_id, fast_id))
        assert [row["id"] for row in rows] == [slow_id, fast_id]
    finally:
        first.close()
        second.close()
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


# --- concurrency ---------------------------------------------------------------------------------------------


def _race(db_url: str, schema: str | None, receivers: list[Receiver], workers: int = 3, events: int = 30) -> None:
    setup = Database.open(db_url, schema=schema)
    migrate(setup)
    m = merchant(setup)
    r = receiver(receivers)
    endpoint(setup, m, r.url)
    r.script(*([500] * (events // 3)))  # some attempts fail: their retries race too
    ids = [canceled_event(setup, m) for _ in range(events)]
    dbs = [Database.open(db_url, schema=schema) for _ in range(workers)]  # one "process" each
    pool = [worker(d, Clock(), concurrency=4) for d in dbs]
    gate = threading.Barrier(workers)
    errors: list[BaseException] = []

    def run(w: DeliveryWorker, now: datetime) -> None:
        try:
            gate.wait(10)
            w.run_due(now)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    try:
        for now in (T0, T0 + timedelta(seconds=5)):
            threads = [threading.Thread(target=run, args=(w, now)) for w in pool]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
    finally:
        for w in pool:
            w.close()
        for d in dbs:
            d.close()
    assert errors == []
    # Every attempt was sent exactly once: the failing ones twice in all (attempt 1 and 2), the rest once.
    by_id = Counter(json.loads(x.body)["id"] for x in r.received)
    assert set(by_id) == set(ids)
    assert sum(by_id.values()) == events + events // 3
    assert sorted(by_id.values()) == [1] * (events - events // 3) + [2] * (events // 3)
    with setup.transaction(readonly=True) as tx:
        rows = tx.fetchall("SELECT status, attempt FROM deliveries")
        logged = tx.fetchall("SELECT delivery_pk, attempt FROM delivery_attempts")
    assert {row["status"] for row in rows} == {"succeeded"}
    assert len(rows) == events
    assert len(logged) == len({(row["delivery_pk"], row["attempt"]) for row in logged}) == len(r.received)
    setup.close()


def test_racing_workers_never_double_send_sqlite(tmp_path: Path, receivers: list[Receiver]) -> None:
    _race(str(tmp_path / "race.db"), None, receivers)


def test_racing_workers_never_double_send_postgres(postgres_url: str, receivers: list[Receiver]) -> None:
    import psycopg

    schema = "delivery_" + secrets.token_hex(6)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        _race(postgres_url, schema, receivers)
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
