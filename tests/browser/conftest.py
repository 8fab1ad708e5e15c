"""Headless Chromium for the hosted-page tests: Debian's ``chromium`` driven by Playwright's Python package.

Playwright's own browser downloads are never used (no ``playwright install``): the browser is launched from
``executable_path`` (``/usr/bin/chromium``, or ``BNPL_CHROMIUM``). Without it the tests skip on a developer
machine and FAIL under ``CI=true``, like the Redis/PostgreSQL fixtures. A failing test leaves a full-page
screenshot and the page's HTML in ``tests/browser/artifacts/``.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from bnpl.sandbox import SandboxInfo, server
from bnpl.sandbox.pages import install

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = os.environ.get("BNPL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
PHONE = {"width": 390, "height": 844}

_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


def require_chromium() -> None:
    """Skip with a clear reason when Chromium or Playwright is missing; fail under CI=true."""
    problems = []
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        problems.append(f"no Chromium executable at {CHROMIUM} (apt-get install -y chromium, or set BNPL_CHROMIUM)")
    if importlib.util.find_spec("playwright") is None:
        problems.append("the playwright package is not installed (pip install playwright; no 'playwright install')")
    if not problems:
        return
    message = "; ".join(problems)
    if IN_CI:
        pytest.fail(f"{message}; CI must provide them (see docs/hosted-page.md)", pytrace=False)
    pytest.skip(message)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    # Keep each phase's report so the page fixture knows, at teardown, whether the test failed.
    report: pytest.TestReport = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One headless Chromium per module."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def phone(chromium: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh phone-sized page (390×844, touch, zh-CN) whose screenshot is kept if the test fails."""
    context = chromium.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        reports = request.node.stash.get(_REPORTS, {})
        if any(r.failed for r in reports.values()):
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
            try:
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
                (ARTIFACTS / f"{name}.html").write_text(page.content(), encoding="utf-8")
            except Exception as exc:  # a crashed page must not hide the test's own failure
                (ARTIFACTS / f"{name}.error.txt").write_text(repr(exc), encoding="utf-8")
        context.close()


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxInfo]:
    """A running sandbox with the hosted page mounted (install() is idempotent once create_app mounts it)."""
    real = server.create_app

    def with_pages(db: Any, **kwargs: Any) -> Any:
        app = real(db, **kwargs)
        install(app)
        return app

    monkeypatch.setattr(server, "create_app", with_pages)
    with server.run_sandbox() as info:
        yield info


@pytest.fixture
def api(sandbox: SandboxInfo) -> Iterator[httpx.Client]:
    """The merchant backend's HTTP client (secret key)."""
    with httpx.Client(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {sandbox.secret_key}"}) as c:
        yield c
