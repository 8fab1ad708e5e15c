"""The OTA site's card down payment for expensive fares, end to end: the site on 127.0.0.1, the REAL sandbox
lender, the real stripe-python talking to the fake Stripe on pytest-httpserver (tests/fakes/stripe_server.py),
and the customer approving on the lender's hosted page.

Webhook delivery is stepped (``BNPL_SANDBOX_DELIVERY=0`` and ``DeliveryWorker.run_due()``), so every transition
is observed deterministically: the saga moves when the site's webhook hook runs, never by waiting.
"""

from __future__ import annotations

import html
import re
import secrets
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from pytest_httpserver import HTTPServer
from tests.fakes.stripe_server import FakeStripe

from bnpl.client import Client
from bnpl.sandbox import SandboxInfo
from bnpl.sandbox.customer import complete_hosted_page
from bnpl.sandbox.delivery import DeliveryWorker
from bnpl.sandbox.server import run_sandbox
from bnpl_stripe import SagaRecord

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the examples folder is not an installed package
    sys.path.insert(0, str(ROOT))

from examples.ota_flights import RunningSite, running_site  # noqa: E402
from examples.ota_flights.down_payment import (  # noqa: E402
    DownPaymentPolicy,
    StripeSettings,
    build_down_payments,
)

STRIPE_KEY = "sk_test_ota_fake"
STRIPE_WHSEC = "whsec_ota_" + "w" * 24
EXPENSIVE = "MU5101-F"  # ¥12,999.00 first class: ¥2,599.00 by card, ¥10,400.00 financed
FARE, DOWN, FINANCED = 1_299_900, 259_900, 1_040_000
CHEAP = "MU5401-Y"  # ¥1,299.00: financed in full, Stripe never called


class CrashError(Exception):
    """The process dies here."""


def traveller() -> str:
    """A fresh pays-on-time customer (its own ¥20,000 limit: tests do not share credit)."""
    return f"pays-on-time+{secrets.token_hex(4)}@bnpl.test"


def policy_for(fake: FakeStripe) -> DownPaymentPolicy:
    return DownPaymentPolicy.with_stripe(StripeSettings(STRIPE_KEY, STRIPE_WHSEC, fake.url))


@pytest.fixture(scope="module")
def lender() -> Iterator[SandboxInfo]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BNPL_SANDBOX_DELIVERY", "0")  # the test steps webhook delivery itself
        with run_sandbox() as sandbox:
            yield sandbox


@pytest.fixture(scope="module")
def deliver(lender: SandboxInfo) -> Iterator[Callable[[], int]]:
    """Deliver every due webhook now (the call returns once the site answered each)."""
    worker = DeliveryWorker(lender.db, jitter=0)
    try:
        yield worker.run_due
    finally:
        worker.close()


@pytest.fixture(scope="module")
def api(lender: SandboxInfo) -> Iterator[Client]:
    with Client(api_key=lender.secret_key, base_url=lender.base_url) as client:
        yield client


@pytest.fixture
def fake_stripe(httpserver: HTTPServer) -> FakeStripe:
    return FakeStripe(httpserver)


@pytest.fixture
def site(lender: SandboxInfo, fake_stripe: FakeStripe, tmp_path: Path) -> Iterator[RunningSite]:
    policy = policy_for(fake_stripe)
    with running_site(lender.base_url, lender.secret_key, data_dir=tmp_path, down_payment=policy) as running:
        yield running


@pytest.fixture
def http(site: RunningSite) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.url, timeout=30) as client:
        yield client


# --- helpers --------------------------------------------------------------------------------------------------


def field(page: httpx.Response, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', page.text)
    assert match is not None, f"no #{element_id} on the page"
    return html.unescape(match.group(1))


def status_of(page: httpx.Response) -> str:
    return field(page, "status")


def book(http: httpx.Client, flight_id: str = EXPENSIVE, card: str = "pm_card_visa") -> httpx.Response:
    return http.post(
        "/bookings",
        data={
            "flight_id": flight_id,
            "travel_date": "",
            "plan": "monthly:6:annuity",
            "passenger": "韩梅梅 HAN Meimei",
            "email": traveller(),
            "card": card,
        },
    )


def approve(http: httpx.Client, approval_url: str) -> tuple[str, httpx.Response]:
    outcome = complete_hosted_page(approval_url, plan=0, action="confirm")
    page = http.get(outcome.redirect_url, follow_redirects=True)
    assert page.status_code == 200, page.text
    match = re.match(r"^/bookings/(OTA-[A-Z2-9]{10})$", page.url.path)
    assert match is not None, page.url
    return match.group(1), page


def booking_of(answer: httpx.Response) -> str:
    """The booking reference the site just remembered in this browser's "my trips" cookie."""
    match = re.search(r"ota_trips=(OTA-[A-Z2-9]{10})", answer.headers["set-cookie"])
    assert match is not None
    return match.group(1)


def saga_of(site: RunningSite, reference: str) -> SagaRecord:
    desk = site.app.state.desk
    run = desk.down_payments.record(desk.bookings.get(reference).payment_reference)
    assert run is not None
    return run  # type: ignore[no-any-return]


def checkouts_of(api: Client, merchant_reference: str) -> list[Any]:
    return [c for c in api.checkouts.list(limit=100) if c.merchant_reference == merchant_reference]


def stripe_posts(fake: FakeStripe) -> list[tuple[str, str | None]]:
    return [(r.path, r.idempotency_key) for r in fake.log if r.method == "POST"]


# --- the fare page --------------------------------------------------------------------------------------------


def test_the_fare_page_offers_the_down_payment_only_on_expensive_fares(http: httpx.Client) -> None:
    page = http.get(f"/flights/{EXPENSIVE}")
    assert "首付 Down payment ¥2,599.00 by card now" in page.text
    assert "finance the remaining ¥10,400.00" in page.text
    assert set(re.findall(r'data-card="([^"]+)"', page.text)) == {"pm_card_visa", "pm_card_chargeDeclined"}
    assert f'data-bnpl-amount="{FINANCED}"' in page.text  # "as low as" is for the financed part
    cheap = http.get(f"/flights/{CHEAP}")
    assert 'id="down-payment"' not in cheap.text
    assert "data-card=" not in cheap.text


def test_an_unknown_card_is_refused_before_anything_is_created(http: httpx.Client, fake_stripe: FakeStripe) -> None:
    page = book(http, card="pm_card_<script>")
    assert page.status_code == 400
    assert field(page, "error") == "card: choose one of the test cards listed"
    assert "<script>" not in page.text
    assert fake_stripe.log == []


# --- the whole trip -------------------------------------------------------------------------------------------


def test_down_payment_booking_approved_ticketed_and_canceled(
    http: httpx.Client, site: RunningSite, fake_stripe: FakeStripe, deliver: Callable[[], int], api: Client
) -> None:
    answer = book(http)
    assert answer.status_code == 303, answer.text
    approval_url = answer.headers["location"]
    checkout_id = re.search(r"/hosted/checkouts/(chk_[A-Za-z0-9]+)", approval_url)
    assert checkout_id is not None, approval_url

    # the card hold: one manual-capture PaymentIntent for the down payment, linked to the lender checkout
    (pi,) = fake_stripe.intents.values()
    assert (pi["amount"], pi["currency"], pi["capture_method"], pi["status"]) == (
        DOWN,
        "cny",
        "manual",
        "requires_capture",
    )
    assert pi["metadata"]["bnpl_checkout_id"] == checkout_id.group(1)

    reference, page = approve(http, approval_url)
    run = saga_of(site, reference)
    assert run.payment_intent_id == pi["id"]
    assert (run.total_minor, run.down_minor, run.remainder_minor) == (FARE, DOWN, FINANCED)
    assert status_of(page) == "pending"  # approved on the return; the lender's webhook has not come yet
    assert fake_stripe.captures[pi["id"]] == 0

    assert deliver() >= 2  # checkout.approved, order.authorized → the site's hook runs saga.refresh
    page = http.get(f"/bookings/{reference}")
    assert status_of(page) == "confirmed"
    assert field(page, "down-amount") == "¥2,599.00"
    assert field(page, "financed-amount") == "¥10,400.00"
    payment = site.app.state.desk.router.book.get(f"{reference}-1")
    order = api.orders.retrieve(payment.order_id)
    rows = re.findall(r'<tr data-instalment="(\d+)">', page.text)
    assert [int(n) for n in rows] == [i.number for i in order.plan.schedule]
    assert sum(i.amount for i in order.plan.schedule) == order.disclosures.total_payable

    page = http.post(f"/bookings/{reference}/ticket", follow_redirects=True)
    assert page.status_code == 200, page.text
    assert status_of(page) == "ticketed"
    assert re.fullmatch(
        r"Ticket 781-\d{10} issued; ¥2,599\.00 down payment by card and ¥10,400\.00 on pay-later captured\.",
        field(page, "message"),
    )
    run = saga_of(site, reference)
    assert (run.status, run.card_status, run.lender_status) == ("captured", "captured", "captured")
    # exactly one capture at Stripe, sent with the saga's own idempotency key; the loan captured once, in full
    captures = fake_stripe.requests_to("POST", rf"/v1/payment_intents/{pi['id']}/capture")
    assert [c.idempotency_key for c in captures] == [f"{run.id}:stripe.capture_payment_intent"]
    assert fake_stripe.captures[pi["id"]] == 1
    assert pi["status"] == "succeeded"
    order = api.orders.retrieve(payment.order_id)
    assert (order.status, order.amount_captured, len(order.captures)) == ("captured", FINANCED, 1)
    assert pi["amount"] + order.amount_captured == FARE
    assert field(page, "card-status") == "charged"
    deliver()  # order.captured reaches the site: the saga is finished, nothing moves twice
    assert fake_stripe.captures[pi["id"]] == 1

    page = http.post(f"/bookings/{reference}/cancel", follow_redirects=True)
    assert status_of(page) == "canceled"
    assert (
        field(page, "message")
        == "Trip canceled: ¥2,599.00 refunded to your card and ¥10,400.00 to your pay-later plan."
    )
    refunds = fake_stripe.requests_to("POST", "/v1/refunds")
    assert [(r.form["payment_intent"], r.idempotency_key) for r in refunds] == [
        (pi["id"], f"{run.id}:site.refund_card")
    ]
    assert fake_stripe.refunds[pi["id"]] == 1
    order = api.orders.retrieve(payment.order_id)
    assert (order.status, order.amount_refunded) == ("refunded", FINANCED)
    run = saga_of(site, reference)
    assert (run.card_status, run.lender_status) == ("refunded", "refunded")
    assert field(page, "card-refunded") == "¥2,599.00"
    assert http.post(f"/bookings/{reference}/cancel").status_code == 409  # nothing refunded twice
    assert fake_stripe.refunds[pi["id"]] == 1
    deliver()
    assert "lender webhook order.refunded: payment refunded" in http.get(f"/bookings/{reference}").text


def test_a_down_payment_booking_cannot_be_rebooked_online(
    http: httpx.Client, site: RunningSite, deliver: Callable[[], int]
) -> None:
    reference, _ = approve(http, book(http).headers["location"])
    deliver()
    page = http.post(f"/bookings/{reference}/rebook", data={"flight_id": "MU5401-J"})
    assert page.status_code == 409
    assert field(page, "error").startswith("A booking with a card down payment cannot be changed online")
    assert 'id="rebook"' not in page.text


def test_canceling_before_approval_releases_the_card_hold_and_the_checkout(
    http: httpx.Client, site: RunningSite, fake_stripe: FakeStripe, api: Client
) -> None:
    answer = book(http)
    reference = booking_of(answer)
    page = http.get(f"/bookings/{reference}")
    assert status_of(page) == "awaiting_approval"
    assert field(page, "card-status") == "held on your card"
    assert field(page, "continue-approval").strip().startswith("继续付款")
    assert f'href="{answer.headers["location"]}"' in html.unescape(page.text)

    page = http.post(f"/bookings/{reference}/cancel", follow_redirects=True)
    assert status_of(page) == "canceled"
    assert field(page, "message") == (
        "Booking canceled: the card hold of ¥2,599.00 was released and the pay-later payment withdrawn; "
        "nothing was charged."
    )
    (pi,) = fake_stripe.intents.values()
    run = saga_of(site, reference)
    assert pi["status"] == "canceled"
    assert (run.status, run.card_status, run.lender_status) == ("compensated", "canceled", "canceled")
    cancels = fake_stripe.requests_to("POST", rf"/v1/payment_intents/{pi['id']}/cancel")
    assert [c.idempotency_key for c in cancels] == [f"{run.id}:stripe.cancel_payment_intent"]
    assert [(c.status, c.order_id) for c in checkouts_of(api, f"{reference}-1")] == [("canceled", None)]
    assert fake_stripe.captures[pi["id"]] == 0


# --- failures -------------------------------------------------------------------------------------------------


def test_a_declined_card_leaves_no_loan_and_the_booking_says_so(
    http: httpx.Client, site: RunningSite, fake_stripe: FakeStripe, deliver: Callable[[], int], api: Client
) -> None:
    answer = book(http, card="pm_card_chargeDeclined")
    assert answer.status_code == 303
    target = answer.headers["location"]
    assert target.startswith("/bookings/OTA-"), "a declined card must not send the customer to the lender"
    reference = target.removeprefix("/bookings/")

    page = http.get(target)
    assert status_of(page) == "card_declined"
    assert field(page, "status-text") == (
        "Your card was declined for the ¥2,599.00 down payment, so the pay-later application was withdrawn. "
        "Nothing was charged."
    )
    assert 'id="cancel"' not in page.text
    assert 'id="issue-ticket"' not in page.text
    assert 'id="continue-approval"' not in page.text

    # Stripe answered 402; the saga canceled that PaymentIntent and the lender checkout: nothing authorized
    creates = fake_stripe.requests_to("POST", "/v1/payment_intents")
    assert len(creates) == 1
    (pi,) = fake_stripe.intents.values()
    assert pi["status"] == "canceled"
    assert fake_stripe.captures[pi["id"]] == 0
    checkouts = checkouts_of(api, f"{reference}-1")
    assert [(c.status, c.order_id) for c in checkouts] == [("canceled", None)]
    run = saga_of(site, reference)
    assert (run.status, run.card_status, run.lender_status) == ("compensated", "canceled", "canceled")
    assert (run.failure or "").startswith("card failed")
    steps = site.app.state.desk.down_payments.saga.store.steps(run.id)
    assert steps["stripe.create_payment_intent"].detail == "card_error card_declined"

    deliver()  # checkout.canceled reaches the site: the booking still says why
    assert status_of(http.get(target)) == "card_declined"


def test_cheap_fares_never_touch_stripe(
    http: httpx.Client, site: RunningSite, fake_stripe: FakeStripe, deliver: Callable[[], int], api: Client
) -> None:
    reference, _ = approve(http, book(http, CHEAP).headers["location"])
    deliver()
    assert status_of(http.get(f"/bookings/{reference}")) == "confirmed"
    page = http.post(f"/bookings/{reference}/ticket", follow_redirects=True)
    assert re.fullmatch(r"Ticket 781-\d{10} issued; ¥1,299.00 captured\.", field(page, "message"))
    assert 'id="down-payment"' not in page.text
    page = http.post(f"/bookings/{reference}/cancel", follow_redirects=True)
    assert field(page, "message") == "Trip canceled: ¥1,299.00 refunded."
    deliver()
    assert site.app.state.desk.down_payments.record(f"{reference}-1") is None
    assert fake_stripe.log == []


# --- Stripe's webhooks ----------------------------------------------------------------------------------------


def test_stripe_webhooks_are_verified_on_the_raw_body_and_deduplicated(
    http: httpx.Client, site: RunningSite, fake_stripe: FakeStripe
) -> None:
    book(http)
    (pi,) = fake_stripe.intents.values()
    body = fake_stripe.event(pi["id"], "payment_intent.amount_capturable_updated", "evt_ota_1")
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), STRIPE_WHSEC)
    headers = {"Stripe-Signature": header, "Content-Type": "application/json"}

    first = http.post("/stripe/webhook", content=body, headers=headers)
    assert (first.status_code, first.json()["outcome"]) == (200, "applied")
    again = http.post("/stripe/webhook", content=body, headers=headers)
    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
    tampered = body.replace(b'"evt_ota_1"', b'"evt_ota_2"')
    forged = http.post("/stripe/webhook", content=tampered, headers=headers)
    assert (forged.status_code, forged.json()["outcome"]) == (400, "invalid")
    assert STRIPE_WHSEC not in forged.text
    reference = pi["metadata"]["order_ref"].rsplit("-", 1)[0]
    assert "Stripe webhook: down payment held on your card" in http.get(f"/bookings/{reference}").text


def test_stripe_webhook_route_is_absent_without_stripe(lender: SandboxInfo, tmp_path: Path) -> None:
    with running_site(lender.base_url, lender.secret_key, data_dir=tmp_path) as plain, httpx.Client() as client:
        answer = client.post(f"{plain.url}/stripe/webhook", content=b"{}")
        assert answer.status_code == 404


# --- crash recovery at start-up -------------------------------------------------------------------------------


def test_startup_recovery_finishes_a_capture_cut_short_by_a_crash(
    lender: SandboxInfo, fake_stripe: FakeStripe, tmp_path: Path, api: Client
) -> None:
    policy = policy_for(fake_stripe)
    with running_site(lender.base_url, lender.secret_key, data_dir=tmp_path, down_payment=policy) as first:
        with httpx.Client(base_url=first.url, timeout=30) as http:
            reference, _ = approve(http, book(http).headers["location"])
        run = saga_of(first, reference)

        # another worker of the site refreshes the saga and dies right after the lender captured the loan
        def crash(point: str) -> None:
            if point == "after:lender.capture_order":
                raise CrashError(point)

        assert policy.stripe is not None
        worker = build_down_payments(policy.stripe, lender.base_url, lender.secret_key, tmp_path, crash_after=crash)
        with pytest.raises(CrashError):
            worker.saga.refresh(run.id)
        worker.close()
    half = saga_of_dir(tmp_path, policy, lender, run.id)
    assert (half.status, half.card_status) == ("capturing", "authorized")
    assert api.orders.retrieve(half.order_id or "").status == "captured"

    # the site starts again on the same data: recover() runs before it serves
    with running_site(lender.base_url, lender.secret_key, data_dir=tmp_path, down_payment=policy) as second:
        run = saga_of(second, reference)
        assert (run.status, run.card_status, run.lender_status) == ("captured", "captured", "captured")
        history = [line.text for line in second.app.state.desk.bookings.history(reference)]
        assert (
            "recovered at start-up: down payment ¥2,599.00 charged to your card and ¥10,400.00 captured on pay-later"
            in history
        )
    assert fake_stripe.captures[run.payment_intent_id or ""] == 1
    order = api.orders.retrieve(run.order_id or "")
    assert (order.amount_captured, len(order.captures)) == (FINANCED, 1)


def saga_of_dir(data_dir: Path, policy: DownPaymentPolicy, lender: SandboxInfo, saga_id: str) -> SagaRecord:
    assert policy.stripe is not None
    payments = build_down_payments(policy.stripe, lender.base_url, lender.secret_key, data_dir)
    try:
        return payments.saga.get(saga_id)
    finally:
        payments.close()
