"""HTTP routers of the sandbox lender, one module per resource; :data:`ROUTERS` is what ``create_app`` mounts.

Later modules (hosted-page templates, delivery admin) add their own router to the app with
``app.include_router``.
"""

from __future__ import annotations

from fastapi import APIRouter

from bnpl.sandbox.api import checkouts, events, hosted, orders, quotes, test_clocks, webhook_endpoints

ROUTERS: tuple[APIRouter, ...] = (
    quotes.router,
    checkouts.router,
    orders.router,
    events.router,
    webhook_endpoints.router,
    test_clocks.router,
    hosted.router,
)
"""Every router of API v1 plus the hosted approval flow."""

__all__ = ["ROUTERS"]
