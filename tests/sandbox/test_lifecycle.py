"""End to end through the SDK client: checkout → hosted approval → capture → partial refund → void → events."""

from __future__ import annotations

from typing import Any

import httpx
from sandbox_helpers import Api, approve, checkout_body

import bnpl.client
from bnpl.models import Checkout, OrderAuthorizedEvent, OrderCapturedEvent
from bnpl.sandbox import SandboxInfo


def test_full_flow_with_the_sdk_client(sandbox: SandboxInfo) -> None:
    with bnpl.client.Client(api_key=sandbox.secret_key, base_url=sandbox.base_url) as client:
        checkout = client.checkouts.create(checkout_body(120_000))
        assert isinstance(checkout, Checkout)
        assert checkout.status == "open"
        assert checkout.approval_url.startswith(sandbox.base_url + "/hosted/checkouts/" + checkout.id + "?token=")

        page = httpx.get(checkout.approval_url).json()
        assert page["checkout"]["id"] == checkout.id
        monthly = next(p for p in page["plans"] if p["option"]["product"] == "monthly")
        assert sum(i["principal"] for i in monthly["quote"]["schedule"]) == 120_000

        redirect = approve(sandbox, checkout.model_dump(mode="json"), monthly["index"])
        assert redirect.status_code == 303
        assert redirect.headers["location"] == (
            f"https://shop.example/return?checkout_id={checkout.id}&status=approved"
        )

        approved = client.checkouts.retrieve(checkout.id)
        assert approved.status == "approved"
        assert approved.order_id is not None
        order = client.orders.retrieve(approved.order_id)
        assert order.status == "authorized"
        assert order.plan.product == "monthly"
        assert order.plan.periods == monthly["option"]["periods"]
        assert [i.amount for i in order.plan.schedule] == [i["amount"] for i in monthly["quote"]["schedule"]]
        assert order.authorization_expires_at is not None

        order = client.orders.capture(order.id, amount=100_000)
        assert (order.status, order.amount_captured) == ("partially_captured", 100_000)
        order = client.orders.refund(order.id, amount=30_000, reason="rebooked")
        assert (order.status, order.amount_refunded) == ("partially_refunded", 30_000)
        # The refund came off the last instalments first: the schedule now finances 120000 - 30000.
        assert sum(i.principal for i in order.plan.schedule) == 90_000
        order = client.orders.void(order.id)
        assert order.amount_voided == 20_000
        assert sum(i.principal for i in order.plan.schedule) == 70_000
        assert order.disclosures.total_payable == sum(i.amount for i in order.plan.schedule)

        events = list(client.events.list(object_id=order.id, limit=2))
        types = [e.type for e in events]
        assert types == ["order.voided", "order.refunded", "order.captured", "order.authorized"]
        assert [e.sequence for e in events] == [4, 3, 2, 1]
        assert isinstance(events[-1], OrderAuthorizedEvent)
        assert isinstance(events[-2], OrderCapturedEvent)
        assert events[-2].data.amount_captured == 100_000
        checkout_events = [e.type for e in client.events.list(object_id=checkout.id)]
        assert checkout_events == ["checkout.approved"]
        assert client.events.retrieve(events[0].id).id == events[0].id


def test_declined_checkout_has_reason_and_event(api: Api) -> None:
    body = checkout_body(customer={"reference": "d1", "email": "decline@bnpl.test"})
    checkout = api.post("/v1/checkouts", body).json()
    assert checkout["status"] == "declined"
    assert checkout["decline_reason"]
    events = api.get("/v1/events", params={"object_id": checkout["id"]}).json()["data"]
    assert [e["type"] for e in events] == ["checkout.declined"]
    assert events[0]["data"]["status"] == "declined"


def test_cancel_then_no_approval(api: Api) -> None:
    checkout = api.post("/v1/checkouts", checkout_body()).json()
    canceled = api.post(f"/v1/checkouts/{checkout['id']}/cancel", {"reason": "changed mind"})
    assert canceled.json()["status"] == "canceled"
    again = api.post(f"/v1/checkouts/{checkout['id']}/cancel")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "checkout_not_open"
    refused = approve(api.info, checkout)
    assert refused.status_code == 409


def test_hosted_cancel_redirects_to_cancel_url(api: Api) -> None:
    checkout = api.post("/v1/checkouts", checkout_body()).json()
    token = checkout["approval_url"].split("token=", 1)[1]
    response = httpx.post(
        f"{api.info.base_url}/hosted/checkouts/{checkout['id']}/cancel",
        data={"key": api.info.publishable_key, "token": token},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"https://shop.example/cancel?checkout_id={checkout['id']}&status=canceled"


def test_capture_final_releases_rest_and_amend(api: Api) -> None:
    order = api.approved_order(100_000, plan=2)
    amended = api.post(f"/v1/orders/{order['id']}/amend", {"new_amount": 80_000, "reason": "cheaper fare"}).json()
    assert amended["amount_authorized"] == 80_000
    assert sum(i["principal"] for i in amended["plan"]["schedule"]) == 80_000
    final = api.post(f"/v1/orders/{order['id']}/capture", {"amount": 50_000, "final_capture": True}).json()
    assert (final["amount_captured"], final["amount_voided"], final["status"]) == (50_000, 30_000, "captured")
    assert sum(i["principal"] for i in final["plan"]["schedule"]) == 50_000
    too_much = api.post(f"/v1/orders/{order['id']}/refund", {"amount": 50_001})
    assert too_much.status_code == 400
    assert too_much.json()["error"]["param"] == "amount"


def test_lists_paginate_newest_first(api: Api) -> None:
    ids = [api.post("/v1/checkouts", checkout_body()).json()["id"] for _ in range(3)]
    first = api.get("/v1/checkouts", params={"limit": 2}).json()
    assert [c["id"] for c in first["data"]] == ids[::-1][:2]
    assert first["has_more"]
    rest = api.get("/v1/checkouts", params={"limit": 2, "starting_after": first["next_cursor"]}).json()
    assert [c["id"] for c in rest["data"]] == [ids[0]]
    assert not rest["has_more"]


def test_quotes_and_prequalification(api: Api) -> None:
    quotes = api.post("/v1/plan_quotes", {"amount": 60_000, "currency": "CNY", "products": ["monthly"]}).json()
    assert quotes["data"]
    assert all(q["product"] == "monthly" for q in quotes["data"])
    assert all(sum(i["principal"] for i in q["schedule"]) == 60_000 for q in quotes["data"])
    pq: dict[str, Any] = api.post(
        "/v1/prequalifications",
        {"amount": 60_000, "currency": "CNY", "customer": {"reference": "p1", "email": "approve@bnpl.test"}},
    ).json()
    assert pq["eligible"] is True
    assert pq["plans"]
    assert pq["min_order_amount"] <= 60_000 <= pq["max_order_amount"]
