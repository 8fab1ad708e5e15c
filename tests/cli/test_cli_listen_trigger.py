"""`bnpl listen` (webhook endpoint and --poll modes) and `bnpl trigger`, forwarding to a local receiver that
verifies every request with the forwarding secret."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import pytest
from click.testing import Result

from bnpl import Client
from bnpl.cli.trigger import RECIPES
from bnpl.sandbox.customer import complete_hosted_page
from conftest import FORWARDING_SECRET, Bnpl, Receiver


def approve_new_checkout(client: Client, tag: str) -> str:
    checkout = client.checkouts.create(
        merchant_reference=f"listen-{tag}",
        amount=50000,
        currency="CNY",
        items=[{"name": "hotel night", "category": "hotel", "unit_amount": 50000, "total_amount": 50000}],
        customer={"reference": f"listen-{tag}", "email": f"approve+{tag}@bnpl.test"},
        return_url="https://merchant.example/return",
    )
    complete_hosted_page(checkout.approval_url)
    return checkout.id


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Wait for a condition on the lender (a bounded check, not a fixed sleep)."""
    done = threading.Event()
    for _ in range(int(timeout / 0.02)):
        if condition():
            return True
        done.wait(0.02)
    return condition()


def test_listen_registers_an_endpoint_and_forwards_verified_events(
    bnpl: Bnpl, client: Client, receiver: Receiver
) -> None:
    before = {e.id for e in client.webhook_endpoints.list()}
    results: list[Result] = []
    args = (
        "listen",
        "--forward-to",
        receiver.url,
        "--secret",
        FORWARDING_SECRET,
        "--max-events",
        "2",
        "--timeout",
        "60",
    )
    thread = threading.Thread(target=lambda: results.append(bnpl.run(*args)))
    thread.start()
    assert wait_until(lambda: any("bnpl-listen" in e.url for e in client.webhook_endpoints.list()))
    checkout_id = approve_new_checkout(client, "ep")
    thread.join(90)
    assert not thread.is_alive()
    result = results[0]
    assert result.exit_code == 0, result.stderr
    # both events arrived at the merchant's receiver, re-signed with the forwarding secret
    assert sorted(r.event_type or "" for r in receiver.verified) == ["checkout.approved", "order.authorized"]
    assert len(receiver.received) == 2
    approved = next(r for r in receiver.verified if r.event_type == "checkout.approved")
    assert json.loads(approved.body)["data"]["id"] == checkout_id
    lines = [line for line in result.stdout.splitlines() if "→" in line]
    assert len(lines) == 2
    assert all(line.endswith("→ 200") for line in lines)
    assert f"Your forwarding secret is {FORWARDING_SECRET}" in result.stdout
    # the temporary endpoint is gone again
    assert {e.id for e in client.webhook_endpoints.list()} == before


def test_listen_poll_from_a_cursor_json(bnpl: Bnpl, client: Client, receiver: Receiver) -> None:
    cursor = client.events.list(limit=1).data[0].id if client.events.list(limit=1).data else None
    approve_new_checkout(client, "poll")
    args = ["listen", "--poll", "--forward-to", receiver.url, "--secret", FORWARDING_SECRET, "--max-events", "1"]
    args += ["--events", "order.authorized", "--timeout", "30"]
    if cursor:
        args += ["--since", cursor]
    doc = bnpl.json(*args)
    assert doc["mode"] == "poll"
    assert [e["type"] for e in doc["events"]] == ["order.authorized"]
    assert doc["events"][0]["status"] == 200
    assert [r.event_type for r in receiver.verified] == ["order.authorized"]
    assert receiver.verified[0].event_id == doc["events"][0]["id"]


def test_listen_times_out_cleanly_with_nothing_to_forward(bnpl: Bnpl, receiver: Receiver) -> None:
    doc = bnpl.json("listen", "--poll", "--forward-to", receiver.url, "--timeout", "0.3", "--poll-interval", "0.1")
    assert doc["events"] == []
    assert doc["forwarding_secret"].startswith("whsec_")
    assert receiver.received == []


def test_listen_rejects_unknown_event_types(bnpl: Bnpl, receiver: Receiver) -> None:
    result = bnpl.run("listen", "--forward-to", receiver.url, "--events", "order.shipped")
    assert result.exit_code == 2
    assert "order.shipped" in result.stderr


def test_trigger_captured_forwards_a_real_event(bnpl: Bnpl, client: Client, receiver: Receiver) -> None:
    doc = bnpl.json("trigger", "order.captured", "--forward-to", receiver.url, "--secret", FORWARDING_SECRET)
    [event_id] = doc["event_ids"]
    event = client.events.retrieve(event_id)
    assert event.type == "order.captured"
    order = client.orders.retrieve(doc["created"]["order"])
    assert order.amount_captured == order.amount_authorized == 129900
    assert [(r.event_type, r.event_id) for r in receiver.verified] == [("order.captured", event_id)]
    assert doc["forwarded"][0]["status"] == 200


@pytest.mark.parametrize(
    "event_type",
    ["checkout.declined", "checkout.canceled", "order.refunded", "order.voided", "order.instalment_overdue"],
)
def test_trigger_fires_the_requested_event(bnpl: Bnpl, client: Client, event_type: str) -> None:
    out = bnpl("trigger", event_type).stdout
    first = out.splitlines()[0]
    assert first.startswith(f"Triggered {event_type}: evt_")
    for event_id in first.split(": ", 1)[1].split(", "):
        assert client.events.retrieve(event_id).type == event_type


def test_trigger_customer_event_via_persona_and_clock(bnpl: Bnpl, client: Client) -> None:
    doc = bnpl.json("trigger", "customer.credit_freeze_scheduled")
    event = client.events.retrieve(doc["event_ids"][0])
    assert event.type == "customer.credit_freeze_scheduled"
    assert event.object_id.startswith("cus_")
    assert "test_clock" in doc["created"]


def test_trigger_unsupported_type_lists_the_supported_ones(bnpl: Bnpl) -> None:
    result = bnpl.run("trigger", "customer.credit_limit_decreased")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert all(t in result.stderr for t in RECIPES)
