"""Valid wire-format samples (plain JSON-able dicts) of every resource and event, for the model tests."""

from __future__ import annotations

import copy
from typing import Any

from bnpl.models import API_VERSION, EVENT_TYPES

CREATED = "2026-11-02T08:30:00Z"


def checkout(status: str = "approved") -> dict[str, Any]:
    return {
        "id": "chk_7Yx2",
        "object": "checkout",
        "status": status,
        "amount": 129900,
        "currency": "CNY",
        "merchant_reference": "PNR-ABC123",
        "approval_url": "http://127.0.0.1:8787/approve/chk_7Yx2",
        "expires_at": "2026-11-02T09:30:00Z",
        "order_id": "ord_9Qa" if status == "approved" else None,
        "decline_reason": "insufficient_credit" if status == "declined" else None,
        "created": CREATED,
        "metadata": {"booking": "B-1"},
        "livemode": False,
    }


def _instalment(number: int, due: str, principal: int, interest: int, balance: int, status: str) -> dict[str, Any]:
    return {
        "number": number,
        "due_date": due,
        "principal": principal,
        "interest": interest,
        "fee": 0,
        "amount": principal + interest,
        "balance": balance,
        "status": status,
        "amount_paid": principal + interest if status == "paid" else 0,
    }


def order(status: str = "partially_refunded") -> dict[str, Any]:
    # 3 monthly instalments of a 1,299.00 CNY order; one capture of the whole amount, one partial refund.
    schedule = [
        _instalment(1, "2026-12-02", 43300, 1300, 86600, "paid"),
        _instalment(2, "2027-01-02", 43300, 870, 43300, "due"),
        _instalment(3, "2027-02-02", 43300, 430, 0, "scheduled"),
    ]
    total_payable = sum(i["amount"] for i in schedule)
    return {
        "id": "ord_9Qa",
        "object": "order",
        "status": status,
        "checkout_id": "chk_7Yx2",
        "merchant_reference": "PNR-ABC123",
        "customer_id": "cus_42",
        "currency": "CNY",
        "amount_authorized": 129900,
        "amount_captured": 129900,
        "amount_refunded": 20000,
        "amount_voided": 0,
        "authorization_expires_at": "2026-11-09T08:30:00Z",
        "plan": {"product": "monthly", "periods": 3, "method": "equal_principal", "schedule": schedule},
        "disclosures": {
            "total_payable": total_payable,
            "total_cost_of_credit": total_payable - 129900,
            "annual_rates": {"us_reg_z": "11.97", "eu_aprc": "12.64", "cn_compound": "12.64", "cn_simple": "12"},
            "simple_rate_label": "单利",
        },
        "captures": [{"id": "cap_1", "amount": 129900, "reference": "ticket-1", "created": CREATED}],
        "refunds": [{"id": "re_1", "amount": 20000, "reason": "rebooked", "reference": None, "created": CREATED}],
        "created": CREATED,
        "metadata": {},
        "livemode": False,
    }


def credit_notice(before: int = 500000, after: int = 800000) -> dict[str, Any]:
    return {
        "customer_id": "cus_42",
        "currency": "CNY",
        "credit_limit_before": before,
        "credit_limit_after": after,
        "effective_at": "2026-12-01T00:00:00Z",
        "reason": "on-time repayments",
    }


def event_data(event_type: str) -> dict[str, Any]:
    """The ``data`` of a valid event of ``event_type``."""
    resource, _, action = event_type.partition(".")
    if resource == "checkout":
        return checkout(status=action)
    if event_type == "order.authorization_expiring":
        return {"order": order("authorized"), "expires_at": "2026-11-09T08:30:00Z"}
    if action.startswith("instalment_"):
        notice = {"order": order(), "instalment_number": 2, "due_date": "2027-01-02", "amount": 44170,
                  "currency": "CNY"}  # fmt: skip
        if action == "instalment_overdue":
            notice["days_overdue"] = 3
        return notice
    if resource == "order":
        return order()
    if event_type == "customer.rate_changed":
        return {"customer_id": "cus_42", "old_annual_rate": "18", "new_annual_rate": "14.4",
                "effective_at": "2026-12-01T00:00:00Z"}  # fmt: skip
    return credit_notice()


def event(event_type: str, sequence: int = 3) -> dict[str, Any]:
    """A valid event envelope of ``event_type`` (any string; unknown types get an arbitrary data dict)."""
    data = event_data(event_type) if event_type in EVENT_TYPES else {"anything": [1, 2, {"nested": True}]}
    object_id = data.get("id") or data.get("customer_id") or data.get("order", {}).get("id") or "x_1"
    return copy.deepcopy(
        {
            "id": "evt_1kX9",
            "object": "event",
            "type": event_type,
            "created": CREATED,
            "api_version": API_VERSION,
            "object_id": object_id,
            "sequence": sequence,
            "data": data,
        }
    )
