"""The hosted approval page over real HTTP against a running sandbox (httpx, no browser): GET the page, POST
the form, follow the 303 back to the merchant, and check the order through the API."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bnpl.money import Money
from bnpl.sandbox import SandboxInfo, Settings, server
from bnpl.sandbox.auth import create_merchant
from bnpl.sandbox.pages import MAX_FORM_BYTES, install

RETURN_URL = "http://127.0.0.1:9/shop/return?session=s1"
CANCEL_URL = "http://127.0.0.1:9/shop/cart"
HOSTILE_REF = "<script>alert('ref')</script>"
HOSTILE_ITEM = "'; DROP TABLE orders; -- <img src=x onerror=alert(1)>"


class SettableClock:
    """The lender's clock, moved by the test (a real Clock implementation, not a mock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._now = dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: int) -> None:
        with self._lock:
            self._now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


def _pg_schema(url: str) -> Iterator[str]:
    import psycopg

    schema = "pages_" + secrets.token_hex(6)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgres"])
def sandbox(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, clock: SettableClock, tmp_path: Path
) -> Iterator[SandboxInfo]:
    """A running sandbox with the page mounted, on SQLite and on PostgreSQL (a fresh schema)."""
    # install() is idempotent: once create_app mounts the page itself this shim changes nothing.
    real = server.create_app

    def with_pages(db: Any, **kwargs: Any) -> Any:
        app = real(db, **kwargs)
        install(app)
        return app

    monkeypatch.setattr(server, "create_app", with_pages)
    settings = Settings(expiry_sweep_seconds=0)  # expiry happens when the test moves the clock, not on a timer
    if request.param == "sqlite":
        with server.run_sandbox(str(tmp_path / "sandbox.db"), clock=clock, settings=settings) as info:
            yield info
        return
    url: str = request.getfixturevalue("postgres_url")
    for schema in _pg_schema(url):
        with server.run_sandbox(url, clock=clock, settings=settings, schema=schema) as info:
            yield info


@pytest.fixture
def api(sandbox: SandboxInfo) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {sandbox.secret_key}"}) as c:
        yield c


@pytest.fixture
def browser(sandbox: SandboxInfo) -> Iterator[httpx.Client]:
    """The customer's side: no API key, HTML wanted, redirects not followed (we check where they point)."""
    with httpx.Client(base_url=sandbox.base_url, headers={"Accept": "text/html", "Accept-Language": "zh-CN"}) as c:
        yield c


def open_checkout(api: httpx.Client, *, email: str = "approve@bnpl.test", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "merchant_reference": HOSTILE_REF,
        "amount": 129900,
        "currency": "CNY",
        "items": [
            {"name": HOSTILE_ITEM, "category": "flight", "quantity": 2, "unit_amount": 59950, "total_amount": 119900},
            {"name": "选座", "category": "service", "quantity": 1, "unit_amount": 10000, "total_amount": 10000},
        ],
        "travel": {
            "origin": "PEK",
            "destination": "SHA",
            "travel_date": "2030-02-01",
            "passengers": [{"name": "张三"}, {"name": "O'Brien <b>", "type": "child"}],
        },
        "customer": {"reference": "cust-" + email.split("@")[0], "email": email},
        "return_url": RETURN_URL,
        "cancel_url": CANCEL_URL,
    }
    body.update(extra)
    response = api.post("/v1/checkouts", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def token_of(checkout: dict[str, Any]) -> str:
    return parse_qs(urlsplit(checkout["approval_url"]).query)["token"][0]


def plans_json(sandbox: SandboxInfo, checkout: dict[str, Any]) -> list[dict[str, Any]]:
    response = httpx.get(checkout["approval_url"], headers={"Accept": "application/json"})
    assert response.status_code == 200, response.text
    plans: list[dict[str, Any]] = response.json()["plans"]
    return plans


def pay(browser: httpx.Client, checkout: dict[str, Any], **form: str) -> httpx.Response:
    data = {"token": token_of(checkout), **form}
    return browser.post(f"/pay/{checkout['id']}", data=data)


def test_approval_url_opens_the_page_with_the_order_and_every_offered_plan(
    sandbox: SandboxInfo, api: httpx.Client, browser: httpx.Client
) -> None:
    checkout = open_checkout(api)
    plans = plans_json(sandbox, checkout)
    page = browser.get(checkout["approval_url"])
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert html.count('type="radio"') == len(plans) >= 2
    assert "¥1,299.00" in html
    assert "&lt;script&gt;alert(&#39;ref&#39;)&lt;/script&gt;" in html
    assert HOSTILE_REF not in html
    assert "<img" not in html
    assert "PEK → SHA" in html
    assert "张三" in html
    assert "O&#39;Brien &lt;b&gt;" in html
    # Each card states the plan's own total payable, formatted like the rest of the page.
    for plan in plans:
        assert Money(plan["quote"]["total_payable"], "CNY").format("zh_CN") in html
    assert "年化利率(IRR)" in html
    assert "年化利率(单利)" in html


def test_pay_route_serves_the_same_page_with_protective_headers(api: httpx.Client, browser: httpx.Client) -> None:
    checkout = open_checkout(api)
    response = browser.get(f"/pay/{checkout['id']}", params={"token": token_of(checkout)})
    assert response.status_code == 200
    assert f'action="/pay/{checkout["id"]}"' in response.text
    policy = response.headers["content-security-policy"]
    assert "form-action 'self' http://127.0.0.1:9;" in policy
    assert "script-src" not in policy  # default-src 'none' forbids scripts altogether
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["request-id"].startswith("req_")


@pytest.mark.parametrize(
    ("query", "header", "expect", "absent"),
    [
        ({}, "zh-CN,zh;q=0.9", "年化利率(IRR)", "APRC"),
        ({}, "en-US,en;q=0.9", "APRC", "单利"),
        ({"lang": "en"}, "zh-CN", "Confirm and pay later", "确认"),
        ({"lang": "zh-CN"}, "en-US", "年化利率(单利)", "APR<"),
    ],
)
def test_language_follows_lang_then_accept_language(
    api: httpx.Client, sandbox: SandboxInfo, query: dict[str, str], header: str, expect: str, absent: str
) -> None:
    checkout = open_checkout(api)
    response = httpx.get(
        f"{sandbox.base_url}/pay/{checkout['id']}",
        params={"token": token_of(checkout), **query},
        headers={"Accept-Language": header},
    )
    assert response.status_code == 200
    assert expect in response.text
    assert absent not in response.text


def test_confirm_approves_the_chosen_plan_and_redirects_to_the_return_url(
    sandbox: SandboxInfo, api: httpx.Client, browser: httpx.Client
) -> None:
    checkout = open_checkout(api)
    plans = plans_json(sandbox, checkout)
    response = pay(browser, checkout, plan="1", action="confirm", lang="zh-CN")
    assert response.status_code == 303
    target = urlsplit(response.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == "http://127.0.0.1:9/shop/return"
    assert parse_qs(target.query) == {"session": ["s1"], "checkout_id": [checkout["id"]], "status": ["approved"]}
    after = api.get(f"/v1/checkouts/{checkout['id']}").json()
    assert after["status"] == "approved"
    order = api.get(f"/v1/orders/{after['order_id']}")
    assert order.status_code == 200
    body = order.json()
    assert body["checkout_id"] == checkout["id"]
    assert body["amount_authorized"] == 129900
    chosen = plans[1]["quote"]
    assert (body["plan"]["product"], body["plan"]["periods"]) == (chosen["product"], chosen["periods"])
    assert body["disclosures"]["total_payable"] == chosen["total_payable"]


def test_cancel_redirects_to_the_cancel_url_and_cancels(api: httpx.Client, browser: httpx.Client) -> None:
    checkout = open_checkout(api)
    response = pay(browser, checkout, plan="0", action="cancel")
    assert response.status_code == 303
    target = urlsplit(response.headers["location"])
    assert target.path == "/shop/cart"
    assert parse_qs(target.query) == {"checkout_id": [checkout["id"]], "status": ["canceled"]}
    assert api.get(f"/v1/checkouts/{checkout['id']}").json()["status"] == "canceled"
    # Reopening the link now shows the outcome, not the plans.
    page = browser.get(checkout["approval_url"])
    assert "已取消" in page.text
    assert 'type="radio"' not in page.text


def test_a_second_confirm_shows_the_outcome_and_creates_no_second_order(
    api: httpx.Client, browser: httpx.Client
) -> None:
    checkout = open_checkout(api)
    assert pay(browser, checkout, plan="0", action="confirm").status_code == 303
    again = pay(browser, checkout, plan="1", action="confirm")
    assert again.status_code == 409
    assert "已确认" in again.text
    assert "status=approved" in again.text
    cancel = pay(browser, checkout, action="cancel")
    assert cancel.status_code == 409
    assert api.get(f"/v1/checkouts/{checkout['id']}").json()["status"] == "approved"
    orders = api.get("/v1/orders").json()["data"]
    assert [o["checkout_id"] for o in orders].count(checkout["id"]) == 1


@pytest.mark.parametrize(
    "form",
    [
        {"action": "confirm"},
        {"action": "confirm", "plan": ""},
        {"action": "confirm", "plan": "-1"},
        {"action": "confirm", "plan": "99"},
        {"action": "confirm", "plan": "1e3"},
        {"action": "approve-everything", "plan": "0"},
        {"plan": "0"},
    ],
)
def test_a_bad_choice_reshows_the_page_with_the_error(
    api: httpx.Client, browser: httpx.Client, form: dict[str, str]
) -> None:
    checkout = open_checkout(api)
    response = pay(browser, checkout, **form)
    assert response.status_code == 400
    assert "请选择一个分期方案。" in response.text
    assert 'type="radio"' in response.text
    assert api.get(f"/v1/checkouts/{checkout['id']}").json()["status"] == "open"


def test_wrong_token_unknown_id_and_foreign_checkout_all_get_the_same_404(
    sandbox: SandboxInfo, api: httpx.Client, browser: httpx.Client
) -> None:
    mine = open_checkout(api)
    other_keys = create_merchant(sandbox.db, dt.datetime.now(dt.UTC), name="other")
    with httpx.Client(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {other_keys.secret_key}"}) as c:
        theirs = open_checkout(c, merchant_reference="THEIR-SECRET-REF")
    attempts = [
        (mine["id"], "0" * 32),  # wrong token
        (mine["id"], ""),  # no token
        ("chk_" + "0" * 24, token_of(mine)),  # unknown checkout
        (theirs["id"], token_of(mine)),  # another merchant's checkout with my token
        ("chk_<script>", token_of(mine)),  # hostile id
    ]
    bodies = set()
    for checkout_id, token in attempts:
        response = browser.get(f"/pay/{checkout_id}", params={"token": token})
        assert response.status_code == 404
        assert "THEIR-SECRET-REF" not in response.text
        assert "&lt;script&gt;" not in response.text
        bodies.add(response.text)
        posted = browser.post(f"/pay/{checkout_id}", data={"token": token, "plan": "0", "action": "confirm"})
        assert posted.status_code == 404
        bodies.add(posted.text)
    assert len(bodies) == 1
    assert api.get(f"/v1/checkouts/{mine['id']}").json()["status"] == "open"
    with httpx.Client(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {other_keys.secret_key}"}) as c:
        assert c.get(f"/v1/checkouts/{theirs['id']}").json()["status"] == "open"


def test_declined_checkout_shows_the_decline_page_with_a_link_to_the_cancel_url(
    api: httpx.Client, browser: httpx.Client
) -> None:
    checkout = open_checkout(api, email="decline@bnpl.test")
    assert checkout["status"] == "declined"
    page = browser.get(checkout["approval_url"])
    assert page.status_code == 200
    assert "未通过审核" in page.text
    assert checkout["decline_reason"] in page.text
    assert f"{CANCEL_URL}?checkout_id={checkout['id']}&amp;status=declined" in page.text
    posted = pay(browser, checkout, plan="0", action="confirm")
    assert posted.status_code == 409
    assert "未通过审核" in posted.text


def test_confirming_after_expiry_shows_the_expired_page(
    api: httpx.Client, browser: httpx.Client, clock: SettableClock
) -> None:
    checkout = open_checkout(api, expires_in_seconds=60)
    clock.advance(61)
    response = pay(browser, checkout, plan="0", action="confirm", lang="en")
    assert response.status_code == 409
    assert "<h1>Expired</h1>" in response.text
    assert api.get(f"/v1/checkouts/{checkout['id']}").json()["status"] == "expired"


def test_an_oversized_form_is_refused_unread(api: httpx.Client, browser: httpx.Client) -> None:
    checkout = open_checkout(api)
    response = pay(browser, checkout, plan="0", action="confirm", padding="x" * (MAX_FORM_BYTES + 1))
    assert response.status_code == 413
    assert api.get(f"/v1/checkouts/{checkout['id']}").json()["status"] == "open"
