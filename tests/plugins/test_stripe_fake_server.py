"""Checks of the fake Stripe (tests/fakes/stripe_server.py) through the real stripe-python client, so a wrong fake
cannot make the saga tests pass. ``FakeStripe`` is re-exported here for the saga tests' import."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from pytest_httpserver import HTTPServer
from tests.fakes.stripe_server import FakeStripe, fixture

__all__ = ["FakeStripe", "fixture"]


@pytest.fixture
def fake_stripe(httpserver: HTTPServer) -> FakeStripe:
    return FakeStripe(httpserver)


# --- the fake, checked through the real stripe-python ------------------------------------------------------


def test_fixtures_have_the_documented_states() -> None:
    names = ("requires_payment_method", "requires_confirmation", "requires_capture", "succeeded", "canceled")
    assert {fixture(f"payment_intent_{s}")["status"] for s in names} == set(names)
    assert fixture("error_card_declined")["error"]["type"] == "card_error"
    assert fixture("error_card_declined")["error"]["code"] == "card_declined"


def test_create_capture_and_cancel_through_stripe_python(fake_stripe: FakeStripe) -> None:
    client = fake_stripe.client(retries=0)
    params: Any = {"amount": 2000, "currency": "usd", "capture_method": "manual",
                   "payment_method": "pm_card_visa", "confirm": True, "metadata": {"k": "v"}}  # fmt: skip
    pi = client.v1.payment_intents.create(params, {"idempotency_key": "key-1"})
    assert (pi.status, pi.amount_capturable, pi.metadata["k"]) == ("requires_capture", 2000, "v")
    assert client.v1.payment_intents.capture(pi.id).status == "succeeded"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.cancel(pi.id)
    assert exc.value.code == "payment_intent_unexpected_state"
    assert fake_stripe.captures[pi.id] == 1


def test_card_declined_is_a_402_card_error_carrying_the_intent(fake_stripe: FakeStripe) -> None:
    client = fake_stripe.client(retries=0)
    params: Any = {"amount": 500, "currency": "jpy", "payment_method": "pm_card_chargeDeclined", "confirm": True}
    with pytest.raises(stripe.CardError) as exc:
        client.v1.payment_intents.create(params)
    assert exc.value.http_status == 402
    assert exc.value.code == "card_declined"
    body: Any = exc.value.json_body
    assert body["error"]["payment_intent"]["status"] == "requires_payment_method"


def test_replays_by_idempotency_key_and_retries_reuse_the_key(fake_stripe: FakeStripe) -> None:
    client = fake_stripe.client(retries=2)
    fake_stripe.fail("POST", "/v1/payment_intents", "drop_after")  # created, but the answer is lost
    params: Any = {"amount": 700, "currency": "usd", "capture_method": "manual"}
    pi = client.v1.payment_intents.create(params, {"idempotency_key": "same"})
    posts = fake_stripe.requests_to("POST", "/v1/payment_intents")
    assert [p.idempotency_key for p in posts] == ["same", "same"]
    assert [p.replayed for p in posts] == [False, True]
    assert len(fake_stripe.intents) == 1
    assert pi.id in fake_stripe.intents


def test_drop_then_500_then_success(fake_stripe: FakeStripe) -> None:
    client = fake_stripe.client(retries=2)
    fake_stripe.fail("POST", "/v1/payment_intents", "drop")
    fake_stripe.fail("POST", "/v1/payment_intents", "500")
    params: Any = {"amount": 700, "currency": "usd"}
    client.v1.payment_intents.create(params)
    posts = fake_stripe.requests_to("POST", "/v1/payment_intents")
    assert [p.fault for p in posts] == ["drop", "500", None]
    assert len({p.idempotency_key for p in posts}) == 1  # stripe-python generated one key for all attempts
    assert len(fake_stripe.intents) == 1
