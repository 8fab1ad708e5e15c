"""bnpl_flask against the running sandbox: the real Flask app served by werkzeug on 127.0.0.1, real webhook
deliveries from the sandbox's worker, and replays of their exact bytes and headers through Flask's test client."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask, request

import bnpl
from bnpl.sandbox import SandboxInfo
from bnpl_flask import Bnpl, MerchantOrder, current_bnpl
from bnpl_merchant_kit import MemoryOrderStore
from conftest import (
    PERSONA,
    Delivery,
    EventLog,
    LiveWSGIServer,
    RecordingWSGI,
    approve_checkout,
    delivered,
    register_webhook,
)

WEBHOOK_PATH = "/bnpl/webhook"


@dataclass
class Shop:
    """A running Flask shop wired to the sandbox."""

    url: str
    app: Flask
    ext: Bnpl
    hooks: EventLog
    deliveries: EventLog
    secret: str

    def order(self, reference: str) -> MerchantOrder | None:
        return self.app.extensions["bnpl"].book.get(reference)  # type: ignore[no-any-return]


def build_app(sb: SandboxInfo, secret: str, tmp: Path, **kw: Any) -> tuple[Flask, Bnpl]:
    """The merchant's app configured through app.config, with a buy route and a form-reading hook."""
    app = Flask(__name__)
    app.config.update(
        BNPL_API_KEY=sb.secret_key,
        BNPL_BASE_URL=sb.base_url,
        BNPL_WEBHOOK_SECRET=secret,
        BNPL_SUCCESS_URL="/thanks/{reference}",
        BNPL_FAILURE_URL="/sorry/{reference}?reason={reason}",
        BNPL_ORDER_DB=str(tmp / "orders.sqlite3"),
        BNPL_WEBHOOK_DB=str(tmp / "webhooks.sqlite3"),
    )

    @app.before_request
    def read_form_first() -> None:
        # the pitfall: something in the app (a CSRF extension, a logging hook) reads request.form first
        _ = request.form.get("anything")

    ext = Bnpl(app, **kw)

    @app.get("/buy/<reference>")
    def buy(reference: str) -> Any:
        return ext.redirect_to_checkout(
            reference=reference, amount=129900, currency="CNY", description="PEK→SHA", customer=PERSONA
        )

    @app.get("/plans")
    def plans() -> dict[str, int]:
        return {"count": len(current_bnpl().client.plans.quote(amount=129900, currency="CNY").data)}

    return app, ext


@pytest.fixture
def shop(
    plugin_sandbox: SandboxInfo, lender_client: bnpl.Client, live_wsgi: LiveWSGIServer, tmp_path: Path
) -> Iterator[Shop]:
    secret = register_webhook(lender_client, live_wsgi.url + WEBHOOK_PATH)
    app, ext = build_app(plugin_sandbox, secret, tmp_path)
    hooks = EventLog()

    @ext.on("*")
    def record(event: Any, order: MerchantOrder | None) -> None:
        hooks.add((event, order))

    deliveries = EventLog()
    live_wsgi.app = RecordingWSGI(app, deliveries, WEBHOOK_PATH)
    yield Shop(live_wsgi.url, app, ext, hooks, deliveries, secret)
    endpoint = next(ep for ep in lender_client.webhook_endpoints.list(limit=100) if ep.url.startswith(live_wsgi.url))
    lender_client.webhook_endpoints.delete(endpoint.id)


def _buy_and_approve(shop: Shop, http: httpx.Client, reference: str) -> MerchantOrder:
    answer = http.get(f"/buy/{reference}")
    assert answer.status_code == 303
    pending = shop.order(reference)
    assert pending is not None
    assert pending.status == "pending"
    outcome = approve_checkout(answer.headers["location"])
    assert outcome.redirect_url.startswith(shop.url + "/bnpl/return?")
    back = http.get(outcome.redirect_url)
    assert back.status_code == 303
    assert back.headers["location"] == f"/thanks/{reference}"
    order = shop.order(reference)
    assert order is not None
    assert order.order_id is not None
    return order


def _flow(shop: Shop, lender_client: bnpl.Client) -> tuple[str, dict[str, Delivery]]:
    reference = "ORD-" + secrets.token_hex(6)
    with httpx.Client(base_url=shop.url) as http:
        order = _buy_and_approve(shop, http, reference)
    assert order.order_id is not None
    lender_client.orders.capture(order.order_id)
    lender_client.orders.refund(order.order_id, amount=20000)
    got = {
        kind: shop.deliveries.wait_for(delivered(shop.deliveries, kind, order.order_id))
        for kind in ("order.authorized", "order.captured", "order.refunded")
    }
    got["checkout.approved"] = shop.deliveries.wait_for(
        delivered(shop.deliveries, "checkout.approved", order.checkout_id)
    )
    assert {d.status for d in got.values()} == {200}
    return reference, got


def _replica(shop: Shop, sb: SandboxInfo, tmp: Path, **kw: Any) -> tuple[Flask, Bnpl]:
    own = tmp / ("replica-" + secrets.token_hex(4))
    own.mkdir()
    return build_app(sb, shop.secret, own, **kw)


def test_full_flow_moves_the_order_through_real_webhooks(shop: Shop, lender_client: bnpl.Client) -> None:
    reference = "ORD-" + secrets.token_hex(6)
    with httpx.Client(base_url=shop.url) as http:
        order = _buy_and_approve(shop, http, reference)
        assert (order.status, order.amount, order.amount_captured) == ("authorized", 129900, 0)
        assert order.order_id is not None
        lender_client.orders.capture(order.order_id, amount=30000)
        event, hooked = shop.hooks.wait_for(lambda item: item[0].type == "order.captured")
        assert hooked.amount_captured == 30000
        stored = shop.order(reference)
        assert stored is not None
        assert (stored.status, stored.amount_captured, stored.order_sequence) == (
            "partially_captured",
            30000,
            event.sequence,
        )
        assert http.get("/plans").json() == {"count": 6}


def test_return_never_trusts_the_query(shop: Shop) -> None:
    reference = "ORD-" + secrets.token_hex(6)
    with httpx.Client(base_url=shop.url) as http:
        http.get(f"/buy/{reference}")
        pending = shop.order(reference)
        assert pending is not None
        back = http.get(f"/bnpl/return?checkout_id={pending.checkout_id}&status=approved")
        assert back.headers["location"] == f"/sorry/{reference}?reason=open"
        assert shop.order(reference) == pending
        bad = http.get("/bnpl/return?checkout_id=%22%3E%3Cscript%3E")
        assert bad.status_code == 400
        assert bad.json()["error"]["param"] == "checkout_id"


def test_duplicates_and_out_of_order_change_the_order_once_never_backwards(
    shop: Shop, lender_client: bnpl.Client, plugin_sandbox: SandboxInfo, tmp_path: Path
) -> None:
    reference, got = _flow(shop, lender_client)
    live = shop.order(reference)
    assert live is not None
    assert (live.status, live.amount_captured, live.amount_refunded) == ("partially_refunded", 129900, 20000)
    again = shop.app.test_client().post(
        WEBHOOK_PATH, data=got["order.captured"].body, headers=got["order.captured"].signed_headers
    )
    assert again.json["outcome"] == "duplicate"  # type: ignore[index]
    assert shop.order(reference) == live

    app, _ = _replica(shop, plugin_sandbox, tmp_path)
    app.extensions["bnpl"].book.record_opened(lender_client.checkouts.retrieve(live.checkout_id))  # type: ignore[arg-type]
    client = app.test_client()
    outcomes, seen = [], []
    for kind in ("order.refunded", "order.captured", "order.authorized"):
        for _ in range(2):
            answer = client.post(WEBHOOK_PATH, data=got[kind].body, headers=got[kind].signed_headers)
            assert answer.status_code == 200
            outcomes.append(answer.json["outcome"])  # type: ignore[index]
            seen.append(app.extensions["bnpl"].book.get(reference))
    assert outcomes == ["processed", "duplicate", "stale", "duplicate", "stale", "duplicate"]
    assert {(o.status, o.amount_captured, o.amount_refunded, o.version) for o in seen} == {
        ("partially_refunded", 129900, 20000, seen[0].version)
    }


def test_unknown_order_503_bad_signature_400(
    shop: Shop, lender_client: bnpl.Client, plugin_sandbox: SandboxInfo, tmp_path: Path
) -> None:
    reference, got = _flow(shop, lender_client)
    app, _ = _replica(shop, plugin_sandbox, tmp_path, order_store=MemoryOrderStore())
    client = app.test_client()
    delivery = got["order.captured"]
    unknown = client.post(WEBHOOK_PATH, data=delivery.body, headers=delivery.signed_headers)
    assert unknown.status_code == 503
    assert int(unknown.headers["Retry-After"]) > 0
    book = app.extensions["bnpl"].book
    assert book.get(reference) is None
    book.record_opened(lender_client.checkouts.retrieve(got["checkout.approved"].event["object_id"]))
    before = book.get(reference)
    tampered = delivery.body.replace(b'"status":"captured"', b'"status":"refunded"')
    assert tampered != delivery.body
    bad = client.post(WEBHOOK_PATH, data=tampered, headers=delivery.signed_headers)
    assert bad.status_code == 400
    assert book.get(reference) == before
    good = client.post(WEBHOOK_PATH, data=delivery.body, headers=delivery.signed_headers)
    assert good.json["outcome"] == "processed"  # type: ignore[index]
    assert book.get(reference).status == "captured"


def test_form_read_first_pitfall_is_defused(
    shop: Shop, lender_client: bnpl.Client, plugin_sandbox: SandboxInfo, tmp_path: Path
) -> None:
    """A form-encoded content type plus ``request.form`` read in a before_request hook: Werkzeug would give the
    view ``b""``; the extension's WSGI wrapper kept the exact bytes, so the signature still verifies."""
    reference, got = _flow(shop, lender_client)
    app, _ = _replica(shop, plugin_sandbox, tmp_path)
    book = app.extensions["bnpl"].book
    book.record_opened(lender_client.checkouts.retrieve(got["checkout.approved"].event["object_id"]))
    delivery = got["order.captured"]
    headers = {**delivery.signed_headers, "content-type": "application/x-www-form-urlencoded"}
    answer = app.test_client().post(WEBHOOK_PATH, data=delivery.body, headers=headers)
    assert answer.status_code == 200
    assert answer.json["outcome"] == "processed"  # type: ignore[index]
    assert book.get(reference).amount_captured == 129900

    # without the wrapper, the SDK's plain view sees the consumed body and refuses to verify an empty string
    from bnpl.webhooks.raw_body.flask import make_view

    plain = Flask("plain")
    plain.config["TESTING"] = False
    plain.before_request(lambda: request.form.get("x") and None)
    plain.add_url_rule("/hook", view_func=make_view(app.extensions["bnpl"].handler), methods=["POST"])
    failed = plain.test_client().post("/hook", data=delivery.body, headers=headers)
    assert failed.status_code == 500


def test_as_low_as_and_widget_match_the_sandbox(shop: Shop, lender_client: bnpl.Client) -> None:
    quotes = lender_client.plans.quote(amount=259900, currency="CNY").data
    expected = min(max(i.amount for i in q.schedule) for q in quotes if q.product == "monthly")
    client = shop.app.test_client()
    body = client.get("/bnpl/as-low-as?amount=259900&currency=CNY").json
    assert body is not None
    assert body["as_low_as"]["monthly_amount"] == expected
    assert body["as_low_as"]["formatted"] == bnpl.Money(expected, "CNY").format("zh_CN")
    assert [p["total_payable"] for p in body["plans"]] == [q.total_payable for q in quotes]
    bad = client.get("/bnpl/as-low-as?amount=2599.00&currency=CNY")
    assert bad.status_code == 400
    assert bad.json["error"]["param"] == "amount"  # type: ignore[index]
    widget = client.get("/bnpl/widget.js")
    assert widget.content_type.startswith("application/javascript")
    assert b"innerHTML" not in widget.data
    assert b"https://" not in widget.data
