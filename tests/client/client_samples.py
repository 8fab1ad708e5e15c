"""Wire bodies shared by the client tests (valid Order and Checkout JSON, error bodies, create arguments)."""

from __future__ import annotations

import copy
from typing import Any

API_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"

ORDER: dict[str, Any] = {
    "id": "ord_9Qa",
    "object": "order",
    "status": "authorized",
    "checkout_id": "chk_7Yx2",
    "merchant_reference": "PNR-ABC123",
    "currency": "CNY",
    "amount_authorized": 120000,
    "plan": {
        "product": "pay_in_4",
        "periods": 4,
        "schedule": [
            {
                "number": n,
                "due_date": f"2026-11-{2 + 14 * (n - 1):02d}" if n < 3 else f"2026-12-{14 * (n - 3) + 14:02d}",
                "principal": 30000,
                "interest": 0,
                "fee": 0,
                "amount": 30000,
                "balance": 120000 - 30000 * n,
                "status": "scheduled",
            }
            for n in range(1, 5)
        ],
    },
    "disclosures": {
        "total_payable": 120000,
        "total_cost_of_credit": 0,
        "annual_rates": {"us_reg_z": "0", "eu_aprc": "0", "cn_compound": "0", "cn_simple": "0"},
    },
    "created": "2026-11-02T08:30:00Z",
}

CHECKOUT: dict[str, Any] = {
    "id": "chk_7Yx2",
    "object": "checkout",
    "status": "open",
    "amount": 120000,
    "currency": "CNY",
    "merchant_reference": "PNR-ABC123",
    "approval_url": "http://127.0.0.1:8787/approve/chk_7Yx2",
    "expires_at": "2026-11-02T09:30:00Z",
    "created": "2026-11-02T08:30:00Z",
}


def order(**changes: Any) -> dict[str, Any]:
    """A valid Order body with some fields changed."""
    body = copy.deepcopy(ORDER)
    body.update(changes)
    return body


def checkout(checkout_id: str = "chk_7Yx2", **changes: Any) -> dict[str, Any]:
    """A valid Checkout body."""
    body = copy.deepcopy(CHECKOUT)
    body.update(id=checkout_id, **changes)
    return body


def error(status_type: str, message: str, *, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    """An error body as the lender sends it."""
    return {"error": {"type": status_type, "code": code, "message": message, "param": param, "request_id": None}}


CHECKOUT_ARGS: dict[str, Any] = {
    "merchant_reference": "PNR-ABC123",
    "amount": 120000,
    "currency": "CNY",
    "items": [{"name": "PEK-SHA", "category": "flight", "unit_amount": 120000, "total_amount": 120000}],
    "return_url": "https://shop.example/return",
}
