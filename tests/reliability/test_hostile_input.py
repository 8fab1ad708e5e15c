"""Suite 5 (HTTP side): hostile requests to the sandbox answer 4xx with the contract's error shape, never 5xx;
JPY (0 decimals) and KWD (3 decimals) work end to end; SQL-ish and HTML-ish text is stored and returned
verbatim and escaped on the hosted page. (Schema-driven fuzzing of every route: tests/sandbox/test_schemathesis.py.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bnpl
from bnpl.sandbox import SandboxInfo
from bnpl.sandbox.customer import complete_hosted_page

HOSTILE = [
    "'; DROP TABLE orders; --",
    '" OR 1=1 --',
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "</textarea><script>document.cookie</script>",
    "Robert'); DELETE FROM checkouts WHERE ('1'='1",
    "${jndi:ldap://x}",
    "{{7*7}}",
    "张三 <b>粗</b> & co",
]


@pytest.fixture
def http(sqlite_sandbox: SandboxInfo) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sqlite_sandbox.base_url,
        headers={"Authorization": f"Bearer {sqlite_sandbox.secret_key}"},
        timeout=30,
    ) as client:
        yield client


def _body(amount: int = 129_900, currency: str = "CNY", text: str = "PEK-SHA", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "merchant_reference": text[:100],
        "amount": amount,
        "currency": currency,
        "items": [{"name": text, "category": "flight", "unit_amount": amount, "total_amount": amount}],
        "return_url": "https://shop.example/return",
        "customer": {"reference": "c", "email": "approve@bnpl.test"},
        "metadata": {"note": text},
        "travel": {
            "origin": "PEK",
            "destination": "SHA",
            "travel_date": "2031-05-01",
            "passengers": [{"name": text}],
        },
    }
    body.update(extra)
    return body


def _assert_contract_error(response: httpx.Response) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    error = response.json()["error"]
    assert {"type", "code", "message", "param", "request_id"} <= set(error)
    assert response.headers.get("request-id") == error["request_id"]
    return dict(error)


def test_oversized_body(http: httpx.Client) -> None:
    huge = _body(text="x" * 50) | {"metadata": {f"k{i}": "v" * 400 for i in range(20_000)}}  # ~8 MB
    _assert_contract_error(http.post("/v1/checkouts", content=json.dumps(huge).encode()))


def test_deeply_nested_json(http: httpx.Client) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    body = json.dumps(_body())[:-1] + ', "metadata": ' + nested + "}"
    _assert_contract_error(http.post("/v1/checkouts", content=body.encode()))


def test_invalid_utf8(http: httpx.Client) -> None:
    body = json.dumps(_body()).encode().replace(b"PEK-SHA", b"PEK-\xff\xfe\xc3")
    _assert_contract_error(http.post("/v1/checkouts", content=body, headers={"content-type": "application/json"}))


@pytest.mark.parametrize("amount", [-1, 0, -(2**63), 2**63, 2**200, 10**18, "100", 1.5, True, None])
def test_bad_amounts(http: httpx.Client, amount: Any) -> None:
    body = _body()
    body["amount"] = amount
    error = _assert_contract_error(http.post("/v1/checkouts", json=body))
    assert error["param"] is not None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.integers(min_value=-(2**80), max_value=2**80), currency=st.sampled_from(["CNY", "JPY", "KWD"]))
def test_any_amount_never_5xx(http: httpx.Client, amount: int, currency: str) -> None:
    response = http.post("/v1/checkouts", json=_body(amount, currency))
    assert response.status_code < 500, response.text[:300]
    if response.status_code >= 400:
        _assert_contract_error(response)


@pytest.mark.parametrize(("currency", "amount"), [("JPY", 29_999), ("KWD", 129_905)])
def test_zero_and_three_decimal_currencies_end_to_end(sqlite_sandbox: SandboxInfo, currency: str, amount: int) -> None:
    with bnpl.Client(api_key=sqlite_sandbox.secret_key, base_url=sqlite_sandbox.base_url) as client:
        body = _body(amount, currency)
        body["customer"]["email"] = f"approve+{currency.lower()}@bnpl.test"
        checkout = client.checkouts.create(**body)
        assert checkout.status == "open", checkout.decline_reason
        assert complete_hosted_page(checkout.approval_url).status == "approved"
        order_id = client.checkouts.retrieve(checkout.id).order_id
        assert order_id is not None
        order = client.orders.capture(order_id, amount=amount - 7)
        order = client.orders.refund(order_id, amount=3)
        order = client.orders.void(order_id)
    assert order.currency == currency
    assert (order.amount_captured, order.amount_refunded, order.amount_voided) == (amount - 7, 3, 7)
    principals = sum(i.principal for i in order.plan.schedule)
    assert principals == amount - 7 - 3  # every split exact in the currency's minor units


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_verbatim_and_escaped(sqlite_sandbox: SandboxInfo, http: httpx.Client, text: str) -> None:
    created = http.post("/v1/checkouts", json=_body(text=text))
    assert created.status_code in (200, 201), created.text[:300]
    checkout = created.json()
    again = http.get(f"/v1/checkouts/{checkout['id']}").json()
    for got in (checkout, again):
        assert got["merchant_reference"] == text[:100]
        assert got["metadata"] == {"note": text}
    page = httpx.get(checkout["approval_url"], headers={"Accept": "text/html"})
    assert page.status_code == 200
    for dangerous in ("<script>alert", "<script>document", "<img src=x", "</textarea><script>", "<b>粗</b>"):
        assert dangerous not in page.text
