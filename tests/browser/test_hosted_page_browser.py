"""The hosted approval page in a real headless Chromium on a phone-sized screen: open the approval URL from a
checkout, pick a plan, confirm or cancel, and land back on the merchant's page (a local HTTP server)."""

from __future__ import annotations

import os
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pytest_httpserver import HTTPServer

try:
    from playwright.sync_api import Page, expect
except ImportError:  # a clear skip on a dev machine; CI must have it (the conftest fails there too)
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        raise
    pytest.skip("the playwright package is not installed (pip install playwright)", allow_module_level=True)

from bnpl.money import Money
from bnpl.sandbox import SandboxInfo

MERCHANT_PAGE = "<!doctype html><html><body><h1 id='merchant'>Back at the shop</h1></body></html>"


def merchant_site(httpserver: HTTPServer) -> tuple[str, str]:
    """The merchant's return and cancel pages on a local HTTP server; returns their URLs."""
    for path in ("/shop/return", "/shop/cart"):
        httpserver.expect_request(path).respond_with_data(MERCHANT_PAGE, content_type="text/html")
    return httpserver.url_for("/shop/return?session=s1"), httpserver.url_for("/shop/cart")


def open_checkout(api: httpx.Client, return_url: str, cancel_url: str) -> dict[str, Any]:
    response = api.post(
        "/v1/checkouts",
        json={
            "merchant_reference": "OTA-<b>2030</b>",
            "amount": 259800,
            "currency": "CNY",
            "items": [
                {
                    "name": "机票 北京→上海",
                    "category": "flight",
                    "quantity": 2,
                    "unit_amount": 129900,
                    "total_amount": 259800,
                },
            ],
            "travel": {
                "origin": "PEK",
                "destination": "SHA",
                "travel_date": "2030-02-01",
                "passengers": [{"name": "张三"}, {"name": "李四"}],
            },
            "customer": {"reference": "browser-approve", "email": "approve@bnpl.test"},
            "return_url": return_url,
            "cancel_url": cancel_url,
        },
    )
    assert response.status_code == 201, response.text
    checkout: dict[str, Any] = response.json()
    assert checkout["status"] == "open"
    return checkout


def offered(checkout: dict[str, Any]) -> list[dict[str, Any]]:
    response = httpx.get(checkout["approval_url"], headers={"Accept": "application/json"})
    assert response.status_code == 200, response.text
    plans: list[dict[str, Any]] = response.json()["plans"]
    return plans


def fits_the_screen(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_pick_the_second_plan_and_confirm(
    phone: Page, sandbox: SandboxInfo, api: httpx.Client, httpserver: HTTPServer
) -> None:
    return_url, cancel_url = merchant_site(httpserver)
    checkout = open_checkout(api, return_url, cancel_url)
    plans = offered(checkout)
    assert len(plans) >= 2

    phone.goto(checkout["approval_url"])
    expect(phone.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(phone.locator("#order-amount")).to_have_text("¥2,598.00")
    expect(phone.locator("#merchant-reference")).to_have_text("OTA-<b>2030</b>")
    expect(phone.locator("#travel")).to_contain_text("PEK → SHA")
    expect(phone.locator("input[name=plan]")).to_have_count(len(plans))
    assert fits_the_screen(phone)
    expect(phone.locator("#confirm")).to_be_in_viewport()

    second = phone.locator(".plan").nth(1)
    expect(second.locator(".total-payable")).to_have_text(
        Money(plans[1]["quote"]["total_payable"], "CNY").format("zh_CN")
    )
    # The schedule is folded until asked for, then lists every instalment.
    table = second.locator("details table")
    expect(table).to_be_hidden()
    second.locator("summary").tap()
    expect(table).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(len(plans[1]["quote"]["schedule"]))
    assert fits_the_screen(phone)  # the wide table scrolls inside its card, not the page

    second.locator("label").tap()
    expect(phone.locator("#plan-1")).to_be_checked()
    expect(phone.locator("#plan-0")).not_to_be_checked()
    phone.locator("#confirm").tap()

    phone.wait_for_url(f"{httpserver.url_for('/shop/return')}?*")
    expect(phone.locator("#merchant")).to_have_text("Back at the shop")
    landed = parse_qs(urlsplit(phone.url).query)
    assert landed == {"session": ["s1"], "checkout_id": [checkout["id"]], "status": ["approved"]}

    after = api.get(f"/v1/checkouts/{checkout['id']}").json()
    assert after["status"] == "approved"
    order = api.get(f"/v1/orders/{after['order_id']}")
    assert order.status_code == 200
    chosen = plans[1]["quote"]
    assert order.json()["amount_authorized"] == 259800
    assert (order.json()["plan"]["product"], order.json()["plan"]["periods"]) == (
        chosen["product"],
        chosen["periods"],
    )


def test_cancel_goes_back_to_the_cancel_url(
    phone: Page, sandbox: SandboxInfo, api: httpx.Client, httpserver: HTTPServer
) -> None:
    return_url, cancel_url = merchant_site(httpserver)
    checkout = open_checkout(api, return_url, cancel_url)

    phone.goto(checkout["approval_url"])
    phone.locator("#cancel").tap()

    phone.wait_for_url(f"{httpserver.url_for('/shop/cart')}?*")
    landed = parse_qs(urlsplit(phone.url).query)
    assert landed == {"checkout_id": [checkout["id"]], "status": ["canceled"]}
    assert api.get(f"/v1/checkouts/{checkout['id']}").json()["status"] == "canceled"
    # Back in history, the page now shows the outcome instead of the plans.
    phone.goto(checkout["approval_url"])
    expect(phone.locator("#result")).to_have_attribute("data-state", "canceled")
    expect(phone.locator("input[name=plan]")).to_have_count(0)


def test_switch_to_english_shows_the_apr(
    phone: Page, sandbox: SandboxInfo, api: httpx.Client, httpserver: HTTPServer
) -> None:
    return_url, cancel_url = merchant_site(httpserver)
    checkout = open_checkout(api, return_url, cancel_url)
    plans = offered(checkout)

    phone.goto(checkout["approval_url"])
    expect(phone.locator(".plan").first.locator("[data-rate=cn_compound] dt")).to_have_text("年化利率(IRR)")
    phone.locator("#lang-switch").tap()

    phone.wait_for_url("**lang=en**")
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    card = phone.locator(".plan").nth(1)
    apr = card.locator("[data-rate=us_reg_z]")
    expect(apr.locator("dt")).to_have_text("APR")
    expected = plans[1]["quote"]["annual_rates"]["us_reg_z"]
    expect(apr.locator("dd")).to_have_text(f"{Decimal(expected).quantize(Decimal('0.01'), ROUND_HALF_UP)}%")
    expect(card.locator("[data-rate=eu_aprc] dt")).to_have_text("APRC")
    expect(phone.locator("#confirm")).to_have_text("Confirm and pay later")
    expect(phone.get_by_text("单利")).to_have_count(0)
    assert fits_the_screen(phone)

    # Confirming from the English page works the same way.
    card.locator("label").tap()
    phone.locator("#confirm").tap()
    phone.wait_for_url(f"{httpserver.url_for('/shop/return')}?*")
    assert parse_qs(urlsplit(phone.url).query)["status"] == ["approved"]
