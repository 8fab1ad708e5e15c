"""The down-payment saga end to end: stripe-python against a fake Stripe replaying documented response shapes
(test_stripe_fake_server.py), the REAL sandbox lender over HTTP, the customer walking the hosted page.

Every test checks both parties afterwards: no PaymentIntent left holding money, no order left authorized, no
double capture, and the idempotency keys the saga promised."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import stripe
from pytest_httpserver import HTTPServer
from test_stripe_fake_server import FakeStripe
from werkzeug import Request, Response

import bnpl
from bnpl import Money
from bnpl.sandbox import Settings, run_sandbox
from bnpl.sandbox.customer import complete_hosted_page
from bnpl_stripe import DownPaymentSaga, SagaRecord, SagaStore, TransientSagaError

STRIPE_WHSEC = "whsec_test_" + "s" * 24
APPROVE = {"reference": "cust-1", "email": "approve@bnpl.test"}
DECLINE = {"reference": "cust-2", "email": "decline@bnpl.test"}
TOTAL = Money(1_200_000, "CNY")
DOWN = Money(300_000, "CNY")


class CrashError(Exception):
    """The process dies here."""


class Clock:
    """A settable clock for deadlines (the lender keeps real time)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    sandbox: Any
    lender: bnpl.Client
    fake: FakeStripe
    store: SagaStore
    clock: Clock
    made: list[DownPaymentSaga] = field(default_factory=list)

    def saga(self, crash_after: Callable[[str], None] | None = None, **kw: Any) -> DownPaymentSaga:
        return DownPaymentSaga(
            stripe_client=self.fake.client(retries=kw.pop("retries", 2)),
            lender=self.lender,
            store=self.store,
            stripe_webhook_secret=STRIPE_WHSEC,
            lender_webhook_secret=kw.pop("lender_secret", None),
            timeout=timedelta(minutes=30),
            start_grace=timedelta(minutes=5),
            clock=self.clock,
            crash_after=crash_after,
        )

    def stripe_event(self, saga: DownPaymentSaga, pi_id: str, kind: str, event_id: str | None = None) -> Any:
        body = self.fake.event(pi_id, kind, event_id)
        header = stripe.WebhookSignature.generate_signature_header(body.decode(), STRIPE_WHSEC)
        return saga.handle_stripe_webhook(body, header)

    def assert_no_orphans(self, record: SagaRecord) -> None:
        """Both parties agree with the saga and nothing holds money half-way."""
        for pi in self.fake.intents.values():
            assert pi["status"] in {"succeeded", "canceled"}, pi["status"]
            assert self.fake.captures[pi["id"]] <= 1
        checkouts = [c for c in self.lender.checkouts.list(limit=100) if c.merchant_reference == record.order_ref]
        assert checkouts, "the saga opened no checkout"
        for checkout in checkouts:
            assert checkout.status in {"canceled", "declined", "approved"}, checkout.status
            if checkout.order_id:
                order = self.lender.orders.retrieve(checkout.order_id)
                assert order.status in {"captured", "voided"}, order.status
                if order.status == "captured":
                    assert order.amount_captured == record.remainder_minor
        captured_pis = [p for p in self.fake.intents.values() if p["status"] == "succeeded"]
        captured_orders = [c for c in checkouts if c.order_id and
                           self.lender.orders.retrieve(c.order_id).status == "captured"]  # fmt: skip
        if record.status == "captured":
            assert len(captured_pis) == 1
            assert len(captured_orders) == 1
            assert captured_pis[0]["amount"] + record.remainder_minor == record.total_minor
            assert captured_pis[0]["metadata"]["bnpl_saga_id"] == record.id
        else:
            assert record.status == "compensated"
            assert captured_pis == []
            assert captured_orders == []

    def assert_keys(self, record: SagaRecord) -> None:
        """Every Stripe POST carried the key the saga derives for that step, identical across retries."""
        expected = {
            "/v1/payment_intents": f"{record.id}:stripe.create_payment_intent",
            f"/v1/payment_intents/{record.payment_intent_id}/capture": f"{record.id}:stripe.capture_payment_intent",
            f"/v1/payment_intents/{record.payment_intent_id}/cancel": f"{record.id}:stripe.cancel_payment_intent",
            "/v1/refunds": f"{record.id}:stripe.refund_payment_intent",
        }
        posts = [r for r in self.fake.log if r.method == "POST"]
        for req in posts:
            assert req.idempotency_key == expected[req.path], (req.path, req.idempotency_key)


@pytest.fixture
def fake_stripe(httpserver: HTTPServer) -> FakeStripe:
    return FakeStripe(httpserver)


@pytest.fixture
def world(fake_stripe: FakeStripe, tmp_path: Path) -> Iterator[World]:
    with run_sandbox(str(tmp_path / "lender.db"), settings=Settings(expiry_sweep_seconds=0)) as sb:
        lender = bnpl.Client(api_key=sb.secret_key, base_url=sb.base_url)
        store = SagaStore(str(tmp_path / "sagas.sqlite3"))
        try:
            yield World(sb, lender, fake_stripe, store, Clock())
        finally:
            store.close()
            lender.close()


def start(saga: DownPaymentSaga, order_ref: str = "ORD-1", customer: Any = APPROVE, **kw: Any) -> SagaRecord:
    return saga.start(order_ref, TOTAL, DOWN, customer, return_url="https://shop.example/return", **kw)


# --- the outcomes --------------------------------------------------------------------------------------------


def test_happy_path_captures_both(world: World) -> None:
    saga = world.saga()
    run = start(saga, payment_method="pm_card_visa")
    assert (run.status, run.card_status, run.lender_status) == ("pending", "authorized", "open")
    pi = world.fake.intents[run.payment_intent_id or ""]
    assert (pi["amount"], pi["currency"], pi["capture_method"]) == (300_000, "cny", "manual")
    assert pi["metadata"] == {"bnpl_saga_id": run.id, "bnpl_checkout_id": run.checkout_id, "order_ref": "ORD-1"}
    assert complete_hosted_page(run.approval_url or "").status == "approved"
    done = saga.refresh(run.id)
    assert (done.status, done.card_status, done.lender_status) == ("captured", "captured", "captured")
    order = world.lender.orders.retrieve(done.order_id or "")
    assert (order.status, order.amount_captured) == ("captured", 900_000)
    assert world.fake.captures[pi["id"]] == 1
    world.assert_no_orphans(done)
    world.assert_keys(done)
    assert saga.recover() == []  # nothing left to do


def test_browser_confirmation_arrives_by_stripe_webhook(world: World) -> None:
    saga = world.saga()
    run = start(saga)  # no payment_method: Stripe.js confirms client_secret in the browser
    assert run.card_status == "pending"
    assert run.client_secret
    assert run.client_secret.startswith(run.payment_intent_id or "?")
    assert "client_secret" not in repr(run)
    assert run.client_secret not in repr(run)
    world.fake.confirm(run.payment_intent_id or "")
    assert (
        world.stripe_event(saga, run.payment_intent_id or "", "payment_intent.amount_capturable_updated").outcome
        == "applied"
    )
    assert saga.get(run.id).card_status == "authorized"
    complete_hosted_page(run.approval_url or "")
    assert saga.refresh(run.id).status == "captured"
    world.assert_no_orphans(saga.get(run.id))


def test_stripe_webhook_must_be_the_raw_signed_body(world: World) -> None:
    saga = world.saga()
    run = start(saga)
    body = world.fake.event(run.payment_intent_id or "", "payment_intent.canceled")
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), STRIPE_WHSEC)
    reserialised = json.dumps(json.loads(body), indent=1).encode()
    assert saga.handle_stripe_webhook(reserialised, header).status_code == 400
    assert saga.handle_stripe_webhook(body, header.replace("v1=", "v1=0")).status_code == 400
    assert saga.handle_stripe_webhook(body, None).status_code == 400
    assert saga.get(run.id).status == "pending"  # nothing unverified was applied


def test_card_declined_cancels_the_lender_checkout(world: World) -> None:
    saga = world.saga()
    run = start(saga, payment_method="pm_card_chargeDeclined")
    assert (run.status, run.card_status, run.lender_status) == ("compensated", "canceled", "canceled")
    assert world.fake.intents[run.payment_intent_id or ""]["status"] == "canceled"
    assert world.lender.checkouts.retrieve(run.checkout_id or "").status == "canceled"
    assert run.failure
    assert "card failed" in run.failure
    world.assert_no_orphans(run)
    world.assert_keys(run)


def test_lender_decline_places_no_card_hold(world: World) -> None:
    saga = world.saga()
    run = start(saga, customer=DECLINE, payment_method="pm_card_visa")
    assert (run.status, run.lender_status, run.card_status) == ("compensated", "declined", "none")
    assert world.fake.requests_to("POST", "/v1/payment_intents") == []  # declined before any money moved
    world.assert_no_orphans(run)


def test_customer_cancelling_at_the_lender_cancels_the_payment_intent(world: World) -> None:
    saga = world.saga()
    run = start(saga, payment_method="pm_card_visa")
    assert complete_hosted_page(run.approval_url or "", action="cancel").status == "canceled"
    done = saga.refresh(run.id)
    assert (done.status, done.card_status, done.lender_status) == ("compensated", "canceled", "canceled")
    assert world.fake.intents[run.payment_intent_id or ""]["status"] == "canceled"
    world.assert_no_orphans(done)
    world.assert_keys(done)


def test_timeout_releases_the_card_hold_and_the_loan(world: World) -> None:
    saga = world.saga()
    run = start(saga)  # the card is never confirmed
    complete_hosted_page(run.approval_url or "")  # but the loan is approved
    assert saga.refresh(run.id).lender_status == "authorized"
    assert saga.recover()[0].status == "pending"  # before the deadline nothing is undone
    world.clock.now += timedelta(minutes=31)
    (done,) = saga.recover()
    assert (done.status, done.failure) == ("compensated", "timed out")
    assert world.lender.orders.retrieve(done.order_id or "").status == "voided"
    assert world.fake.intents[done.payment_intent_id or ""]["status"] == "canceled"
    world.assert_no_orphans(done)


def test_timeout_with_the_card_authorized_and_the_customer_gone(world: World) -> None:
    saga = world.saga()
    start(saga, payment_method="pm_card_visa")
    world.clock.now += timedelta(hours=1)
    (done,) = saga.recover()
    assert (done.status, done.card_status, done.lender_status) == ("compensated", "canceled", "canceled")
    world.assert_no_orphans(done)


# --- duplicates, retries, network failures ------------------------------------------------------------------


@pytest.fixture
def hooks_server() -> Iterator[HTTPServer]:
    """The merchant's webhook receiver: its own threaded server, since a handler calls Stripe (the fake) back."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def test_duplicated_webhooks_from_both_parties_change_state_once(world: World, hooks_server: HTTPServer) -> None:
    httpserver = hooks_server
    endpoint = world.lender.webhook_endpoints.create(url=httpserver.url_for("/lender-hooks"), enabled_events=["*"])
    saga = world.saga(lender_secret=endpoint.secret)
    deliveries: list[tuple[bytes, dict[str, str], Any]] = []
    arrived = threading.Condition()

    def receive(request: Request) -> Response:
        body = request.get_data()
        headers = dict(request.headers.items())
        result = saga.handle_lender_webhook(body, headers)
        with arrived:
            deliveries.append((body, headers, result))
            arrived.notify_all()
        return Response(status=result.status_code)

    httpserver.expect_request("/lender-hooks", method="POST").respond_with_handler(receive)

    def wait_for(event_type: str) -> tuple[bytes, dict[str, str], Any]:
        def found() -> Any:
            return next((d for d in deliveries if json.loads(d[0])["type"] == event_type), None)

        with arrived:
            assert arrived.wait_for(found, timeout=30), f"the lender never delivered {event_type}"
            return found()  # type: ignore[no-any-return]

    run = start(saga)
    pi_id = run.payment_intent_id or ""
    world.fake.confirm(pi_id)
    first = world.stripe_event(saga, pi_id, "payment_intent.amount_capturable_updated", "evt_dup_1")
    again = world.stripe_event(saga, pi_id, "payment_intent.amount_capturable_updated", "evt_dup_1")
    assert (first.outcome, again.outcome) == ("applied", "duplicate")

    complete_hosted_page(run.approval_url or "")
    body, headers, result = wait_for("checkout.approved")
    assert result.status_code == 200
    wait_for("order.captured")  # the approval webhook alone drove both captures
    assert saga.get(run.id).status == "captured"
    replay = saga.handle_lender_webhook(body, headers)  # byte-identical redelivery
    assert (replay.status_code, replay.outcome) == (200, "duplicate")
    # A late, fresh "authorized" event from Stripe must not move the captured card backwards.
    late = world.stripe_event(saga, pi_id, "payment_intent.amount_capturable_updated", "evt_late")
    assert late.outcome == "applied"
    assert saga.get(run.id).card_status == "captured"
    assert world.stripe_event(saga, pi_id, "payment_intent.succeeded").status_code == 200
    # checkout.approved and order.authorized arrive together and may both try to capture: with one key per
    # step, each party applies it once.
    order = world.lender.orders.retrieve(saga.get(run.id).order_id or "")
    assert len(order.captures) == 1
    assert world.fake.captures[pi_id] == 1
    assert len({r.idempotency_key for r in world.fake.requests_to("POST", r"/v1/payment_intents/.*/capture")}) == 1
    world.assert_no_orphans(saga.get(run.id))


def test_lost_capture_response_is_replayed_not_repeated(world: World) -> None:
    saga = world.saga()
    run = start(saga, payment_method="pm_card_visa")
    world.fake.fail("POST", r"/v1/payment_intents/.*/capture", "drop_after")
    complete_hosted_page(run.approval_url or "")
    assert saga.refresh(run.id).status == "captured"
    captures = world.fake.requests_to("POST", r"/v1/payment_intents/.*/capture")
    assert [c.replayed for c in captures] == [False, True]
    assert world.fake.captures[run.payment_intent_id or ""] == 1
    world.assert_keys(saga.get(run.id))


def test_stripe_down_longer_than_the_retries_is_finished_by_recover(world: World) -> None:
    saga = world.saga(retries=1)
    run = start(saga, payment_method="pm_card_visa")
    world.fake.fail("POST", r"/v1/payment_intents/.*/capture", "drop")
    world.fake.fail("POST", r"/v1/payment_intents/.*/capture", "500")
    complete_hosted_page(run.approval_url or "")
    with pytest.raises(TransientSagaError):
        saga.refresh(run.id)
    assert saga.get(run.id).status == "capturing"  # the loan is captured; the card capture is owed
    (done,) = saga.recover()
    assert done.status == "captured"
    captures = world.fake.requests_to("POST", r"/v1/payment_intents/.*/capture")
    assert [c.fault for c in captures] == ["drop", "500", None]
    assert len({c.idempotency_key for c in captures}) == 1
    world.assert_no_orphans(done)


def test_start_again_returns_the_same_saga_and_refuses_other_amounts(world: World) -> None:
    saga = world.saga()
    run = start(saga, payment_method="pm_card_visa")
    assert start(saga, payment_method="pm_card_visa").id == run.id
    assert len(world.fake.intents) == 1
    from bnpl_stripe import SagaConflictError

    with pytest.raises(SagaConflictError):
        saga.start("ORD-1", TOTAL, Money(100_000, "CNY"), APPROVE, return_url="https://shop.example/return")


# --- crash at every step, then recover() --------------------------------------------------------------------

HAPPY_POINTS = [
    *(f"{when}:{step}" for step in ("lender.create_checkout", "stripe.create_payment_intent",
                                    "lender.capture_order", "stripe.capture_payment_intent")
      for when in ("before", "after")),
    "status:pending", "status:capturing", "status:captured",
]  # fmt: skip
STARTING_POINTS = {p for p in HAPPY_POINTS if "create" in p}


def _shop(saga: DownPaymentSaga, started: list[SagaRecord]) -> None:
    """The shop's request handlers: start (the card confirmed server-side), the customer approves, return URL."""
    run = start(saga, payment_method="pm_card_visa")
    started.append(run)
    complete_hosted_page(run.approval_url or "")
    saga.refresh(run.id)


def _crash_at(point: str) -> Callable[[str], None]:
    fired: list[str] = []

    def hook(at: str) -> None:
        if at == point and not fired:
            fired.append(at)
            raise CrashError(at)

    return hook


@pytest.mark.parametrize("point", HAPPY_POINTS)
def test_crash_at_every_step_of_the_happy_path(world: World, point: str) -> None:
    saga = world.saga(crash_after=_crash_at(point))
    started: list[SagaRecord] = []
    with pytest.raises(CrashError):
        _shop(saga, started)
    run = started[0] if started else None
    if run is None and point not in STARTING_POINTS:
        # start() had finished its work: the customer got the links (a retried request) and approves.
        run = start(world.saga(), payment_method="pm_card_visa")
        complete_hosted_page(run.approval_url or "")
    world.clock.now += timedelta(minutes=6)  # past start_grace, well before the 30 min deadline
    results = world.saga().recover()
    record = world.store.find(order_ref="ORD-1")
    assert record is not None
    assert results == [] or results[-1].terminal
    expected = "compensated" if point in STARTING_POINTS else "captured"
    assert record.status == expected, (point, record)
    world.assert_no_orphans(record)
    world.assert_keys(record)


COMPENSATION_POINTS = [
    *(f"{when}:{step}" for step in ("stripe.cancel_payment_intent", "lender.void_order")
      for when in ("before", "after")),
    "status:compensating", "status:compensated",
]  # fmt: skip


@pytest.mark.parametrize("point", COMPENSATION_POINTS)
def test_crash_at_every_step_of_a_compensation(world: World, point: str) -> None:
    saga = world.saga(crash_after=_crash_at(point))
    run = start(saga)  # the card is never confirmed, the loan is approved, the deadline passes
    complete_hosted_page(run.approval_url or "")
    world.clock.now += timedelta(minutes=31)
    with pytest.raises(CrashError):
        saga.refresh(run.id)
    world.saga().recover()
    record = world.saga().get(run.id)
    assert record.status == "compensated"
    world.assert_no_orphans(record)
    world.assert_keys(record)


DECLINE_POINTS = [
    f"{when}:{step}"
    for step in ("lender.cancel_checkout", "stripe.cancel_payment_intent")
    for when in ("before", "after")
]


@pytest.mark.parametrize("point", DECLINE_POINTS)
def test_crash_while_undoing_a_declined_card(world: World, point: str) -> None:
    saga = world.saga(crash_after=_crash_at(point))
    with pytest.raises(CrashError):
        start(saga, payment_method="pm_card_chargeDeclined")
    world.clock.now += timedelta(minutes=6)
    world.saga().recover()
    record = world.store.find(order_ref="ORD-1")
    assert record is not None
    assert record.status == "compensated"
    world.assert_no_orphans(record)
    world.assert_keys(record)


# --- PostgreSQL -------------------------------------------------------------------------------------------


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[SagaStore]:
    import psycopg

    schema = "bnpl_stripe_" + secrets.token_hex(6)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    store = SagaStore(postgres_url, schema=schema)
    try:
        yield store
    finally:
        store.close()
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.mark.parametrize("point", ["after:stripe.create_payment_intent", "after:lender.capture_order"])
def test_postgres_store_crash_and_recover(world: World, pg_store: SagaStore, point: str) -> None:
    world.store = pg_store
    saga = world.saga(crash_after=_crash_at(point))
    with pytest.raises(CrashError):
        _shop(saga, [])
    world.clock.now += timedelta(minutes=6)
    world.saga().recover()
    record = pg_store.find(order_ref="ORD-1")
    assert record is not None
    assert record.status == ("compensated" if "create" in point else "captured")
    world.assert_no_orphans(record)
    world.assert_keys(record)
