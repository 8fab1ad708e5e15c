"""Helpers shared by the sandbox tests: a valid checkout body, a per-merchant HTTP API, the hosted approval."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from bnpl.sandbox import SandboxInfo

APPROVE_EMAIL = "approve@bnpl.test"


def checkout_body(amount: int = 129_900, **overrides: Any) -> dict[str, Any]:
    """A valid checkout: one flight, the always-approve persona."""
    body: dict[str, Any] = {
        "merchant_reference": "PNR-" + secrets.token_hex(3),
        "amount": amount,
        "currency": "CNY",
        "items": [{"name": "PEK-SHA", "category": "flight", "unit_amount": amount, "total_amount": amount}],
        "return_url": "https://shop.example/return",
        "cancel_url": "https://shop.example/cancel",
        "customer": {"reference": "cust-1", "email": APPROVE_EMAIL},
    }
    body.update(overrides)
    return body


class Api:
    """A thin httpx wrapper bound to one merchant's secret key."""

    def __init__(self, info: SandboxInfo, key: str | None = None) -> None:
        self.info = info
        self.http = httpx.Client(
            base_url=info.base_url, headers={"Authorization": f"Bearer {key or info.secret_key}"}, timeout=30
        )

    def post(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self.http.post(path, json=body, **kw)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, **kw)

    def approved_order(self, amount: int = 129_900, plan: int = 0) -> dict[str, Any]:
        """Create a checkout, approve it through the hosted flow, return the order JSON."""
        checkout = self.post("/v1/checkouts", checkout_body(amount)).json()
        approve(self.info, checkout, plan)
        order_id = self.get(f"/v1/checkouts/{checkout['id']}").json()["order_id"]
        return dict(self.get(f"/v1/orders/{order_id}").json())

    def close(self) -> None:
        self.http.close()


def approve(info: SandboxInfo, checkout: dict[str, Any], plan: int = 0, key: str | None = None) -> httpx.Response:
    """Confirm ``plan`` on the hosted page, as the customer's browser would (form post)."""
    token = checkout["approval_url"].split("token=", 1)[1]
    return httpx.post(
        f"{info.base_url}/hosted/checkouts/{checkout['id']}/confirm",
        data={"plan": str(plan), "key": key or info.publishable_key, "token": token},
    )
