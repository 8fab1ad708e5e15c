"""Core rules of the sandbox on both backends: merchant isolation, concurrent capture/refund limits,
idempotency, authentication, error shapes."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
from sandbox_helpers import Api, approve, checkout_body

from bnpl.models.openapi import build_openapi
from bnpl.sandbox import SandboxInfo, idempotency
from bnpl.sandbox.auth import MerchantKeys, revoke_api_key


def test_another_merchant_gets_404_for_everything(
    api: Api, other_merchant: MerchantKeys, api_for: Callable[[str], Api]
) -> None:
    order = api.approved_order()
    event_id = api.get("/v1/events", params={"limit": 1}).json()["data"][0]["id"]
    endpoint = api.post("/v1/webhook_endpoints", {"url": "https://a.example/wh", "enabled_events": ["*"]}).json()
    other = api_for(other_merchant.secret_key)
    for path in (
        f"/v1/checkouts/{order['checkout_id']}",
        f"/v1/orders/{order['id']}",
        f"/v1/events/{event_id}",
    ):
        response = other.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["type"] == "not_found_error"
    assert other.post(f"/v1/orders/{order['id']}/capture").status_code == 404
    assert other.post(f"/v1/webhook_endpoints/{endpoint['id']}/rotate_secret").status_code == 404
    assert other.http.delete(f"/v1/webhook_endpoints/{endpoint['id']}").status_code == 404
    assert other.get("/v1/events").json()["data"] == []
    assert other.get("/v1/orders").json()["data"] == []
    assert other.get("/v1/webhook_endpoints").json()["data"] == []
    # The other merchant's publishable key cannot approve this merchant's checkout either.
    checkout = api.post("/v1/checkouts", checkout_body()).json()
    refused = approve(api.info, checkout, key=other_merchant.publishable_key)
    assert refused.status_code == 403
    # And the owner still sees its order untouched.
    assert api.get(f"/v1/orders/{order['id']}").json()["amount_captured"] == 0


def test_concurrent_captures_never_exceed_the_authorization(api: Api) -> None:
    order = api.approved_order(100_000)

    def capture(_: int) -> int:
        with httpx.Client(base_url=api.info.base_url, headers=dict(api.http.headers), timeout=60) as http:
            return http.post(f"/v1/orders/{order['id']}/capture", json={"amount": 7_000}).status_code

    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(capture, range(20)))
    assert sorted(set(codes)) == [200, 400]
    assert codes.count(200) == 14  # 14 * 7000 = 98000 <= 100000 < 15 * 7000
    final = api.get(f"/v1/orders/{order['id']}").json()
    assert final["amount_captured"] == 98_000
    assert sum(c["amount"] for c in final["captures"]) == 98_000


def test_concurrent_refunds_never_exceed_the_capture(api: Api) -> None:
    order = api.approved_order(100_000)
    api.post(f"/v1/orders/{order['id']}/capture", {"amount": 50_000})

    def refund(_: int) -> int:
        with httpx.Client(base_url=api.info.base_url, headers=dict(api.http.headers), timeout=60) as http:
            return http.post(f"/v1/orders/{order['id']}/refund", json={"amount": 6_000}).status_code

    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(refund, range(20)))
    assert codes.count(200) == 8  # 8 * 6000 = 48000 <= 50000
    final = api.get(f"/v1/orders/{order['id']}").json()
    assert final["amount_refunded"] == 48_000
    assert sum(r["amount"] for r in final["refunds"]) == 48_000
    assert sum(i["principal"] for i in final["plan"]["schedule"]) == 100_000 - 48_000


def test_idempotent_replay_reuse_and_in_progress(api: Api, sandbox: SandboxInfo) -> None:
    body = json.dumps(checkout_body()).encode()
    headers = {"Idempotency-Key": "order-1", "Content-Type": "application/json"}
    first = api.http.post("/v1/checkouts", content=body, headers=headers)
    again = api.http.post("/v1/checkouts", content=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(api.get("/v1/checkouts", params={"limit": 100}).json()["data"]) == 1

    other_body = json.dumps(checkout_body(5_000)).encode()
    reused = api.http.post("/v1/checkouts", content=other_body, headers=headers)
    assert reused.status_code == 409
    assert reused.json()["error"]["type"] == "idempotency_error"
    assert reused.json()["error"]["code"] == "idempotency_key_reused"

    # A request that is still running holds the key: claim it as a first request would, then retry.
    key = "order-2"
    claim = idempotency.begin(
        sandbox.db,
        sandbox.merchant_id,
        key,
        idempotency.fingerprint("POST", "/v1/checkouts", body),
        datetime.now(UTC),
        86_400,
    )
    assert claim is None
    busy = api.http.post("/v1/checkouts", content=body, headers={**headers, "Idempotency-Key": key})
    assert busy.status_code == 409
    assert busy.json()["error"]["code"] == "idempotency_request_in_progress"
    assert busy.headers["Retry-After"] == "1"


def test_authentication_errors(api: Api, sandbox: SandboxInfo, api_for: Callable[[str], Api]) -> None:
    bare = httpx.get(f"{sandbox.base_url}/v1/orders")
    assert bare.status_code == 401
    assert bare.json()["error"]["code"] == "missing_api_key"
    malformed = httpx.get(f"{sandbox.base_url}/v1/orders", headers={"Authorization": "Bearer nope"})
    assert (malformed.status_code, malformed.json()["error"]["code"]) == (401, "invalid_api_key")
    unknown = api_for("sk_test_" + "0" * 32).get("/v1/orders")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (401, "invalid_api_key")
    publishable = api_for(sandbox.publishable_key).get("/v1/orders")
    assert publishable.status_code == 403
    assert publishable.json()["error"]["type"] == "permission_error"
    assert sandbox.secret_key not in publishable.text
    assert revoke_api_key(sandbox.db, sandbox.secret_key, datetime.now(UTC))
    revoked = api.get("/v1/orders")
    assert (revoked.status_code, revoked.json()["error"]["code"]) == (401, "api_key_revoked")
    assert sandbox.secret_key not in revoked.text


def test_hosted_token_is_required(api: Api) -> None:
    checkout = api.post("/v1/checkouts", checkout_body()).json()
    base = f"{api.info.base_url}/hosted/checkouts/{checkout['id']}"
    assert httpx.get(base + "?token=" + "0" * 32).status_code == 403
    forged = httpx.post(base + "/confirm", data={"plan": "0", "key": api.info.publishable_key, "token": "x"})
    assert forged.status_code == 403
    assert api.get(f"/v1/checkouts/{checkout['id']}").json()["status"] == "open"


def test_errors_have_the_contract_shape(api: Api) -> None:
    unknown_field = api.post("/v1/checkouts", checkout_body(bogus=1))
    assert unknown_field.status_code == 400
    error = unknown_field.json()["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", "bogus")
    assert error["request_id"] == unknown_field.headers["Request-Id"]
    bad_amount = api.post("/v1/checkouts", checkout_body(amount=12.5))
    assert bad_amount.status_code == 400
    assert bad_amount.json()["error"]["param"] == "amount"
    not_json = api.http.post("/v1/checkouts", content=b"{", headers={"Content-Type": "application/json"})
    assert (not_json.status_code, not_json.json()["error"]["code"]) == (400, "invalid_json")
    route = api.get("/v1/nothing-here")
    assert route.status_code == 404
    assert route.json()["error"]["type"] == "not_found_error"
    assert route.headers["Request-Id"].startswith("req_")
    bad_query = api.get("/v1/orders", params={"limit": 1000})
    assert (bad_query.status_code, bad_query.json()["error"]["param"]) == (400, "limit")


def test_openapi_document_is_the_contract(api: Api) -> None:
    assert api.get("/openapi.json").json() == json.loads(json.dumps(build_openapi()))


@pytest.mark.parametrize("types", [["order.captured"], ["order.captured", "order.authorized"]])
def test_event_filters(api: Api, types: list[str]) -> None:
    order = api.approved_order()
    api.post(f"/v1/orders/{order['id']}/capture")
    got = api.get("/v1/events", params={"types": types}).json()["data"]
    assert {e["type"] for e in got} == set(types)
    assert all(e["object_id"] == order["id"] for e in got)
