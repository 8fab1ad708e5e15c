"""The sandbox lender's hosted approval page (HTML, zh-CN and en): render functions and the FastAPI router.

The customer arrives from the merchant's checkout at ``/pay/{checkout_id}?token=…``, sees the order and the
plans offered with their schedules and annual rates, confirms one (or cancels) and is sent back to the
merchant's ``return_url``. See docs/hosted-page.md.
"""

from __future__ import annotations

from bnpl.sandbox.pages.i18n import LOCALES, PageLocale, negotiate_locale
from bnpl.sandbox.pages.render import (
    PageRenderError,
    TerminalState,
    content_security_policy,
    merchant_return_url,
    render_approval_page,
    render_not_found_page,
    render_result_page,
)
from bnpl.sandbox.pages.routes import MAX_FORM_BYTES, hosted_renderer, install, router

__all__ = [
    "LOCALES",
    "MAX_FORM_BYTES",
    "PageLocale",
    "PageRenderError",
    "TerminalState",
    "content_security_policy",
    "hosted_renderer",
    "install",
    "merchant_return_url",
    "negotiate_locale",
    "render_approval_page",
    "render_not_found_page",
    "render_result_page",
    "router",
]
