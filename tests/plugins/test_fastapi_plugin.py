"""bnpl_fastapi against the running sandbox: the real FastAPI app served by uvicorn on 127.0.0.1, real
webhook deliveries from the sandbox's worker, replays of their exact bytes and headers."""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

import bnpl
from bnpl.sandbox import SandboxInfo
from bnpl.webhooks.stores import SQLiteStore
from bnpl_fastapi import BnplClient, BnplRouter, BnplRouterDep, BnplSettings, MerchantOrder, SQLiteOrderStore
from bnpl_merchant_kit import MemoryOrderStore, QuoteCache
from conftest import (
    PERSONA,
    Delivery,
    EventLog,
    LiveASGIServer,
    RecordingASGI,
    approve_checkout,
    delivered,
    register_webhook,
)

WEBHOOK_PATH = "/bnpl/webhook"


@dataclass
class Shop:
    """A running FastAPI shop wired to the sandbox."""

    url: str
    router: BnplRouter
    hooks: EventLog
    deliveries: EventLog
    secret: str


def _settings(sb: SandboxInfo, secret: str, tmp: Path) -> BnplSettings:
    return BnplSettings(
        api_key=sb.secret_key,
        base_url=sb.base_url,
        webhook_secret=secret,
        success_url="/thanks/{reference}",
        failure_url="/sorry/{reference}?reason={reason}",
        order_db=str(tmp / "orders.sqlite3"),
        webhook_db=str(tmp / "webhooks.sqlite3"),
    )


def build_app(router: BnplRouter) -> FastAPI:
    """The merchant's app: the router, a buy route using the helper and a client dependency."""
    app = FastAPI(lifespan=router.app_lifespan)
    app.include_router(router)

    @app.get("/buy/{reference}")
    async def buy(reference: str, request: Request, bnpl_router: BnplRouterDep) -> Any:
        return await bnpl_router.redirect_to_checkout(
            request, reference=reference, amount=129900, currency="CNY", description="PEK→SHA", customer=PERSONA
        )

    @app.get("/plans")
    async def plans(client: BnplClient) -> dict[str, int]:
        quotes = await client.plans.quote(amount=129900, currency="CNY")
        return {"count": len(quotes.data)}

    @app.post("/custom-webhook")
    async def custom(request: Request) -> Any:
        await request.json()  # the pitfall: the app reads the JSON first
        return await router.handle_webhook(request)

    return app


@pytest.fixture
def shop(
    plugin_sandbox: SandboxInfo, lender_client: bnpl.Client, live_asgi: LiveASGIServer, tmp_path: Path
) -> Iterator[Shop]:
    secret = register_webhook(lender_client, live_asgi.url + WEBHOOK_PATH)
    router = BnplRouter(_settings(plugin_sandbox, secret, tmp_path))
    hooks = EventLog()

    @router.on("*")
    async def record(event: Any, order: MerchantOrder | None) -> None:
        hooks.add((event, order))

    deliveries = EventLog()
    live_asgi.start(RecordingASGI(build_app(router), deliveries, WEBHOOK_PATH))
    yield Shop(live_asgi.url, router, hooks, deliveries, secret)
    lender_client.webhook_endpoints.delete(_endpoint_id(lender_client, live_asgi.url + WEBHOOK_PATH))


def _endpoint_id(client: bnpl.Client, url: str) -> str:
    return next(ep.id for ep in client.webhook_endpoints.list(limit=100) if ep.url == url)


def _reference() -> str:
    return "ORD-" + secrets.token_hex(6)


def _buy_and_approve(shop: Shop, http: httpx.Client, reference: str) -> MerchantOrder:
    answer = http.get(f"/buy/{reference}")
    assert answer.status_code == 303
    approval_url = answer.headers["location"]
    pending = shop.router.book.get(reference)
    assert pending is not None
    assert pending.status == "pending"
    assert pending.order_id is None
    outcome = approve_checkout(approval_url)
    assert outcome.status == "approved"
    assert outcome.redirect_url.startswith(shop.url + "/bnpl/return?")
    back = http.get(outcome.redirect_url)
    assert back.status_code == 303
    assert back.headers["location"] == f"/thanks/{reference}"
    order = shop.router.book.get(reference)
    assert order is not None
    assert order.order_id is not None
    assert order.checkout_id == outcome.checkout_id
    return order


def test_full_flow_checkout_return_capture_webhook_moves_the_order(shop: Shop, lender_client: bnpl.Client) -> None:
    reference = _reference()
    with httpx.Client(base_url=shop.url) as http:
        order = _buy_and_approve(shop, http, reference)
        assert order.status in ("authorized",)  # nothing captured yet, whichever came first (return or webhook)
        assert order.amount == 129900
        assert order.amount_captured == 0
        assert order.order_id is not None
        lender_client.orders.capture(order.order_id, amount=50000)
        event, hooked = shop.hooks.wait_for(lambda item: item[0].type == "order.captured")
        assert hooked.reference == reference
        assert hooked.amount_captured == 50000
        stored = shop.router.book.get(reference)
        assert stored is not None
        assert (stored.status, stored.amount_captured, stored.amount_refunded) == ("partially_captured", 50000, 0)
        assert stored.order_sequence == event.sequence
        # the client dependency works in the merchant's own routes
        assert http.get("/plans").json() == {"count": 6}


def test_return_with_a_forged_query_is_confirmed_with_the_api(shop: Shop, lender_client: bnpl.Client) -> None:
    reference = _reference()
    with httpx.Client(base_url=shop.url) as http:
        answer = http.get(f"/buy/{reference}")
        checkout_id = shop.router.book.get(reference).checkout_id  # type: ignore[union-attr]
        # the customer never approved; a hand-made "status=approved" must not be believed
        back = http.get(f"/bnpl/return?checkout_id={checkout_id}&status=approved")
        assert back.status_code == 303
        assert back.headers["location"] == f"/sorry/{reference}?reason=open"
        assert shop.router.book.get(reference).status == "pending"  # type: ignore[union-attr]
        unknown = http.get("/bnpl/return?checkout_id=chk_doesnotexist1")
        assert unknown.headers["location"] == "/sorry/?reason=unknown_checkout"
        bad = http.get("/bnpl/return?checkout_id=<script>")
        assert bad.status_code == 400
        assert bad.json()["error"]["param"] == "checkout_id"
        assert answer.status_code == 303


def test_declined_by_the_customer_goes_to_the_failure_url(shop: Shop) -> None:
    reference = _reference()
    with httpx.Client(base_url=shop.url) as http:
        approval_url = http.get(f"/buy/{reference}").headers["location"]
        outcome = approve_checkout(approval_url, action="cancel")
        back = http.get(outcome.redirect_url)
        assert back.headers["location"] == f"/sorry/{reference}?reason=canceled"
        order = shop.router.book.get(reference)
        assert order is not None
        assert order.status == "canceled"
        assert order.order_id is None


def _replica(shop: Shop, tmp: Path, sb: SandboxInfo, **kw: Any) -> tuple[BnplRouter, httpx.AsyncClient]:
    """A second instance of the shop (fresh stores) to replay captured deliveries into, in-process."""
    own = tmp / ("replica-" + secrets.token_hex(4))  # its own order and de-duplication databases
    own.mkdir()
    router = BnplRouter(_settings(sb, shop.secret, own), **kw)
    app = build_app(router)
    return router, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shop.test")


def _captured_flow(shop: Shop, lender_client: bnpl.Client) -> tuple[str, dict[str, Delivery]]:
    """Run a flow to refund and return the deliveries by type for its order."""
    reference = _reference()
    with httpx.Client(base_url=shop.url) as http:
        order = _buy_and_approve(shop, http, reference)
    assert order.order_id is not None
    lender_client.orders.capture(order.order_id)
    lender_client.orders.refund(order.order_id, amount=20000)
    got: dict[str, Delivery] = {}
    for kind in ("order.authorized", "order.captured", "order.refunded"):
        got[kind] = shop.deliveries.wait_for(delivered(shop.deliveries, kind, order.order_id))
        assert got[kind].status == 200
    got["checkout.approved"] = shop.deliveries.wait_for(
        delivered(shop.deliveries, "checkout.approved", order.checkout_id)
    )
    return reference, got


async def test_duplicate_and_out_of_order_deliveries_change_the_order_once_never_backwards(
    shop: Shop, lender_client: bnpl.Client, plugin_sandbox: SandboxInfo, tmp_path: Path
) -> None:
    reference, got = _captured_flow(shop, lender_client)
    live = shop.router.book.get(reference)
    assert live is not None
    assert (live.status, live.amount_captured, live.amount_refunded) == (
        "partially_refunded",
        129900,
        20000,
    )
    # the live app already saw each event once: a redelivery is a duplicate and changes nothing
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(shop.router)), base_url="http://x") as c:
        again = await c.post(
            WEBHOOK_PATH, content=got["order.captured"].body, headers=got["order.captured"].signed_headers
        )
    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert shop.router.book.get(reference) == live

    # a replica that knows the order but gets the events newest first, each twice
    router, client = _replica(shop, tmp_path, plugin_sandbox)
    checkout = lender_client.checkouts.retrieve(live.checkout_id)  # type: ignore[arg-type]
    router.book.record_opened(checkout)
    seen: list[MerchantOrder] = []
    outcomes: list[str] = []
    async with client:
        for kind in ("order.refunded", "order.captured", "order.authorized", "checkout.approved"):
            for _ in range(2):
                answer = await client.post(WEBHOOK_PATH, content=got[kind].body, headers=got[kind].signed_headers)
                assert answer.status_code == 200
                outcomes.append(answer.json()["outcome"])
                seen.append(router.book.get(reference))  # type: ignore[arg-type]
    assert outcomes == ["processed", "duplicate", "stale", "duplicate", "stale", "duplicate", "processed", "duplicate"]
    money = [(o.status, o.amount_captured, o.amount_refunded) for o in seen]
    assert set(money) == {("partially_refunded", 129900, 20000)}  # moved once, never back
    assert seen[0].order_id == live.order_id
    # version: +1 for the refund, +1 for linking the checkout sequence; duplicates and stale ones changed nothing
    assert [o.version for o in seen] == [seen[0].version] * 6 + [seen[0].version + 1] * 2


async def test_unknown_order_answers_503_then_processes_once_known(
    shop: Shop, lender_client: bnpl.Client, plugin_sandbox: SandboxInfo, tmp_path: Path
) -> None:
    reference, got = _captured_flow(shop, lender_client)
    router, client = _replica(shop, tmp_path, plugin_sandbox, order_store=MemoryOrderStore())
    delivery = got["order.captured"]
    async with client:
        first = await client.post(WEBHOOK_PATH, content=delivery.body, headers=delivery.signed_headers)
        assert first.status_code == 503
        assert first.json()["outcome"] == "retry_later"
        assert int(first.headers["retry-after"]) > 0
        assert router.book.get(reference) is None
        checkout = lender_client.checkouts.retrieve(got["checkout.approved"].event["object_id"])
        router.book.record_opened(checkout)
        retried = await client.post(WEBHOOK_PATH, content=delivery.body, headers=delivery.signed_headers)
    assert retried.status_code == 200
    assert retried.json()["outcome"] == "processed"
    stored = router.book.get(reference)
    assert stored is not None
    assert (stored.status, stored.amount_captured) == ("captured", 129900)


async def test_bad_signature_answers_400_and_changes_nothing(
    shop: Shop, lender_client: bnpl.Client, plugin_sandbox: SandboxInfo, tmp_path: Path
) -> None:
    reference, got = _captured_flow(shop, lender_client)
    store = SQLiteStore(tmp_path / "dedup.sqlite3")
    router, client = _replica(shop, tmp_path, plugin_sandbox, webhook_store=store)
    router.book.record_opened(lender_client.checkouts.retrieve(got["checkout.approved"].event["object_id"]))
    before = router.book.get(reference)
    delivery = got["order.captured"]
    tampered = delivery.body.replace(b'"amount_captured":129900', b'"amount_captured":129800')
    assert tampered != delivery.body
    wrong_key = {**delivery.signed_headers, "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}
    async with client:
        for body, headers in ((tampered, delivery.signed_headers), (delivery.body, wrong_key)):
            answer = await client.post(WEBHOOK_PATH, content=body, headers=headers)
            assert answer.status_code == 400
            assert answer.json()["outcome"] == "invalid_signature"
        assert router.book.get(reference) == before
        # nothing was recorded: the genuine delivery is still processed afterwards
        genuine = await client.post(WEBHOOK_PATH, content=delivery.body, headers=delivery.signed_headers)
    assert genuine.json()["outcome"] == "processed"


async def test_raw_body_pitfall_request_json_first_still_verifies(
    shop: Shop, lender_client: bnpl.Client, plugin_sandbox: SandboxInfo, tmp_path: Path
) -> None:
    reference, got = _captured_flow(shop, lender_client)
    router, client = _replica(shop, tmp_path, plugin_sandbox)
    router.book.record_opened(lender_client.checkouts.retrieve(got["checkout.approved"].event["object_id"]))
    delivery = got["order.captured"]
    async with client:
        answer = await client.post("/custom-webhook", content=delivery.body, headers=delivery.signed_headers)
        assert answer.status_code == 200
        assert answer.json()["outcome"] == "processed"
        # the trap the helper avoids: re-serialised JSON is not what was signed
        reserialised = json.dumps(json.loads(got["order.refunded"].body)).encode()
        wrong = await client.post(WEBHOOK_PATH, content=reserialised, headers=got["order.refunded"].signed_headers)
        assert wrong.status_code == 400
    assert router.book.get(reference).amount_captured == 129900  # type: ignore[union-attr]


class _Counting(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.quotes = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/plan_quotes":
            self.quotes += 1
        return await self.inner.handle_async_request(request)


async def test_as_low_as_equals_the_sandbox_quote_and_is_cached(
    shop: Shop, lender_client: bnpl.Client, plugin_sandbox: SandboxInfo, tmp_path: Path
) -> None:
    counting = _Counting()
    now = [0.0]
    sdk = bnpl.AsyncClient(
        plugin_sandbox.secret_key, base_url=plugin_sandbox.base_url, http_client=httpx.AsyncClient(transport=counting)
    )
    cache = QuoteCache(60, clock=lambda: now[0])
    _router, client = _replica(shop, tmp_path, plugin_sandbox, client=sdk, quote_cache=cache)
    quotes = lender_client.plans.quote(amount=129900, currency="CNY").data
    monthly = [q for q in quotes if q.product == "monthly"]
    expected = min(max(i.amount for i in q.schedule) for q in monthly)
    async with client:
        body = (await client.get("/bnpl/as-low-as", params={"amount": "129900", "currency": "CNY"})).json()
        assert body["as_low_as"]["monthly_amount"] == expected
        best = next(q for q in monthly if max(i.amount for i in q.schedule) == expected)
        assert body["as_low_as"]["periods"] == best.periods
        assert body["as_low_as"]["formatted"] == bnpl.Money(expected, "CNY").format("zh_CN")
        assert [(p["product"], p["periods"], p["total_payable"]) for p in body["plans"]] == [
            (q.product, q.periods, q.total_payable) for q in quotes
        ]
        await client.get("/bnpl/as-low-as", params={"amount": "129900", "currency": "CNY"})
        assert counting.quotes == 1  # served from the cache
        now[0] = 61.0
        await client.get("/bnpl/as-low-as", params={"amount": "129900", "currency": "CNY"})
        assert counting.quotes == 2  # expired, asked again
        for params, param in (
            ({"amount": "1299.00", "currency": "CNY"}, "amount"),
            ({"amount": "-5", "currency": "CNY"}, "amount"),
            ({"amount": "129900", "currency": "cny"}, "currency"),
            ({"amount": "129900", "currency": "XXQ"}, "currency"),
            ({"currency": "CNY"}, "amount"),
        ):
            bad = await client.get("/bnpl/as-low-as", params=params)
            assert bad.status_code == 400
            assert bad.json()["error"]["param"] == param
        widget = await client.get("/bnpl/widget.js")
    await sdk.aclose()
    assert widget.status_code == 200
    assert widget.headers["content-type"].startswith("application/javascript")
    assert "innerHTML" not in widget.text
    assert "http://" not in widget.text
    assert "https://" not in widget.text
    assert "as-low-as" in widget.text
    assert "data-bnpl-amount" in widget.text


def test_router_needs_a_webhook_secret(tmp_path: Path) -> None:
    from bnpl_merchant_kit import PluginConfigurationError

    with pytest.raises(PluginConfigurationError, match="BNPL_WEBHOOK_SECRET"):
        BnplRouter(BnplSettings(order_db=str(tmp_path / "o.db"), webhook_db=str(tmp_path / "w.db")))
    settings = BnplSettings(webhook_secret="whsec_" + "A" * 32, api_key="sk_test_secretvalue123")
    assert "sk_test_secretvalue123" not in repr(settings)
    assert "whsec_" not in repr(settings)
    assert dataclasses.replace(settings, success_url="/ok").success_url == "/ok"
    assert isinstance(SQLiteOrderStore(tmp_path / "x.db"), SQLiteOrderStore)
