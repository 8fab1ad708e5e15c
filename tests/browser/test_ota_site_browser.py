"""The example OTA site in a real headless Chromium on a phone-sized screen (Debian's /usr/bin/chromium driven by
Playwright through ``executable_path``; never ``playwright install``).

A traveller searches SHA → CTU, opens a fare, sees "as low as" and the plan picker, books with pay-later,
approves on the sandbox's hosted page, comes back to a booking that turns "confirmed" once the lender's webhook
arrived (the sandbox's background delivery worker sends it; Playwright's ``expect`` polls the self-refreshing page,
no fixed sleeps), sees the schedule, gets the ticket issued, cancels and sees the refund. The ``phone`` fixture
(tests/browser/conftest.py) keeps a screenshot and the HTML under tests/browser/artifacts/ when a test fails.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

try:
    from playwright.sync_api import Page, expect
except ImportError:  # a clear skip on a dev machine; CI must have it (the conftest fails there too)
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        raise
    pytest.skip("the playwright package is not installed (pip install playwright)", allow_module_level=True)

from bnpl.client import Client
from bnpl.money import Money
from bnpl.sandbox import SandboxInfo
from bnpl.sandbox.server import run_sandbox

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the examples folder is not an installed package
    sys.path.insert(0, str(ROOT))

from examples.ota_flights import RunningSite, running_site  # noqa: E402

WEBHOOK_TIMEOUT_MS = 20_000  # generous for a loaded 2-core CI box; expect() returns as soon as it holds


@pytest.fixture(scope="module")
def lender() -> Iterator[SandboxInfo]:
    """The sandbox with its background webhook delivery on, as a merchant would see it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("BNPL_SANDBOX_DELIVERY", raising=False)
        with run_sandbox() as sandbox:
            yield sandbox


@pytest.fixture(scope="module")
def site(lender: SandboxInfo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSite]:
    with running_site(lender.base_url, lender.secret_key, data_dir=tmp_path_factory.mktemp("ota-browser")) as s:
        yield s


def fits_the_screen(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def yuan(minor: int) -> str:
    return Money(minor, "CNY").format("zh_CN")


def test_book_with_pay_later_confirm_by_webhook_then_cancel_and_refund(
    phone: Page, site: RunningSite, lender: SandboxInfo
) -> None:
    # search
    phone.goto(f"{site.url}/")
    phone.locator("#origin").select_option("SHA")
    phone.locator("#destination").select_option("CTU")
    phone.locator("#search button[type=submit]").tap()
    expect(phone.locator("li.flight")).to_have_count(5)
    assert fits_the_screen(phone)
    phone.locator('li.flight[data-flight="MU5401-Y"] a').tap()

    # fare page: the plugin's widget fetched "as low as" from the plugin's endpoint, and the plan picker
    with Client(api_key=lender.secret_key, base_url=lender.base_url) as api:
        quotes = api.plans.quote(amount=129900, currency="CNY").data
    cheapest = min(max(i.amount for i in q.schedule) for q in quotes if q.product == "monthly")
    expect(phone.locator("#fare-price")).to_have_text("¥1,299.00")
    expect(phone.locator("[data-bnpl-amount]")).to_have_attribute("data-bnpl-state", "ready")
    expect(phone.locator(".bnpl-summary")).to_have_text(f"低至 {yuan(cheapest)}/月 · as low as {yuan(cheapest)}/month")
    expect(phone.locator("label.plan")).to_have_count(len(quotes))
    six = phone.locator('label.plan[data-plan="monthly:6:annuity"]')
    expect(six).to_contain_text("单利")
    six.tap()
    expect(six.locator("input")).to_be_checked()
    phone.locator("#passenger").fill("李雷 LI Lei")
    phone.locator("#email").fill(f"pays-on-time+{secrets.token_hex(4)}@bnpl.test")
    assert fits_the_screen(phone)
    phone.locator("#pay-later").tap()

    # the sandbox's hosted approval page: only the picked plan is offered
    phone.wait_for_url(f"{lender.base_url}/hosted/checkouts/**")
    expect(phone.locator("input[name=plan]")).to_have_count(1)
    phone.locator("#plan-0").check()
    phone.locator("#confirm").tap()

    # back on the site: pending until the webhook, then confirmed (the page refreshes itself while pending)
    phone.wait_for_url(f"{site.url}/bookings/**")
    expect(phone.locator("#status")).to_have_text("confirmed", timeout=WEBHOOK_TIMEOUT_MS)
    # either of the lender's two signed approvals (sent concurrently) confirms the booking
    expect(phone.locator("#history")).to_contain_text(
        re.compile(r"lender webhook (checkout\.approved|order\.authorized)")
    )
    expect(phone.locator("#schedule tr[data-instalment]")).to_have_count(6)
    expect(phone.locator("#authorized")).to_have_text("¥1,299.00")
    assert fits_the_screen(phone)

    # the live schedule on "my instalments"
    phone.locator("#instalments-link").tap()
    expect(phone.locator("#order-status")).to_have_text("authorized")
    expect(phone.locator("#schedule tr[data-instalment]")).to_have_count(6)
    phone.go_back()

    # ticket issued = captured
    phone.locator("#issue-ticket").tap()
    expect(phone.locator("#status")).to_have_text("ticketed")
    expect(phone.locator("#captured")).to_have_text("¥1,299.00")
    expect(phone.locator("#ticket")).to_have_text(re.compile(r"^781-\d{10}$"))

    # cancel: the whole fare is refunded, and the lender's order.refunded webhook shows up in the history
    refunded = threading.Event()
    site.app.state.desk.router.on("order.refunded")(lambda event, order: refunded.set())
    phone.locator("#cancel").tap()
    expect(phone.locator("#status")).to_have_text("canceled")
    expect(phone.locator("#message")).to_have_text("Trip canceled: ¥1,299.00 refunded.")
    expect(phone.locator("#refunded")).to_have_text("¥1,299.00")
    expect(phone.locator("#status-text")).to_have_text("Canceled; ¥1,299.00 refunded to your pay-later plan.")
    assert refunded.wait(WEBHOOK_TIMEOUT_MS / 1000), "the lender's order.refunded webhook never reached the site"
    phone.reload()
    expect(phone.locator("#history")).to_contain_text("lender webhook order.refunded: payment refunded")
    expect(phone.locator("#cancel")).to_have_count(0)
