"""Suite 4: concurrency on SQLite and PostgreSQL — duplicate captures (same and different idempotency keys),
refunds racing captures, two merchants hammering one customer. The ledger invariants hold after each."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from ledger import invariant_violations, order_row

import bnpl
from bnpl.errors import APIStatusError
from bnpl.sandbox import SandboxInfo
from bnpl.sandbox.auth import create_merchant
from bnpl.sandbox.customer import HostedPageClosedError, complete_hosted_page

THREADS = 12


def _client(sb: SandboxInfo, key: str | None = None) -> bnpl.Client:
    return bnpl.Client(api_key=key or sb.secret_key, base_url=sb.base_url, max_retries=8, backoff_base=0.01)


def _order(client: bnpl.Client, amount: int, email: str, ref: str) -> str:
    checkout = client.checkouts.create(
        amount=amount,
        currency="CNY",
        merchant_reference=ref,
        items=[{"name": "CAN-PEK", "category": "flight", "unit_amount": amount, "total_amount": amount}],
        return_url="https://shop.example/return",
        customer={"reference": ref, "email": email},
    )
    assert checkout.status == "open", checkout.decline_reason
    complete_hosted_page(checkout.approval_url)
    order_id = client.checkouts.retrieve(checkout.id).order_id
    assert order_id is not None
    return order_id


def _parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    def run(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except APIStatusError as exc:
            return exc

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(run, calls))


def test_duplicate_captures_same_key(any_sandbox: SandboxInfo) -> None:
    with _client(any_sandbox) as client:
        order_id = _order(client, 100_000, "approve+dup@bnpl.test", "dup-same")
        results = _parallel(
            [lambda: client.orders.capture(order_id, amount=30_000, idempotency_key="cap-once")] * THREADS
        )
    assert all(isinstance(r, bnpl.models.Order) for r in results), [r for r in results if isinstance(r, Exception)]
    assert {r.captures[0].id for r in results} == {results[0].captures[0].id}  # every answer is the same capture
    assert order_row(any_sandbox.db, order_id)["amount_captured"] == 30_000
    assert invariant_violations(any_sandbox.db) == []


def test_duplicate_captures_different_keys(any_sandbox: SandboxInfo) -> None:
    """20 captures of 7,000 against 100,000: exactly 14 succeed, the rest are refused, 98,000 captured."""
    with _client(any_sandbox) as client:
        order_id = _order(client, 100_000, "approve+many@bnpl.test", "dup-diff")
        results = _parallel([lambda: client.orders.capture(order_id, amount=7_000)] * 20)
    refused = [r for r in results if isinstance(r, APIStatusError)]
    assert len(refused) == 6
    assert all(400 <= r.status_code < 500 for r in refused)
    assert order_row(any_sandbox.db, order_id)["amount_captured"] == 98_000
    assert invariant_violations(any_sandbox.db) == []


def test_refunds_race_captures(any_sandbox: SandboxInfo) -> None:
    with _client(any_sandbox) as client:
        order_id = _order(client, 200_000, "approve+race@bnpl.test", "race")
        client.orders.capture(order_id, amount=10_000)
        calls: list[Callable[[], Any]] = []
        for i in range(24):
            if i % 2:
                calls.append(lambda: client.orders.capture(order_id, amount=15_000))
            else:
                calls.append(lambda: client.orders.refund(order_id, amount=9_000))
        results = _parallel(calls)
    assert any(not isinstance(r, Exception) for r in results)
    for r in results:
        if isinstance(r, APIStatusError):
            assert r.status_code in (400, 409), r
    row = order_row(any_sandbox.db, order_id)
    assert row["amount_refunded"] <= row["amount_captured"] <= 200_000
    assert invariant_violations(any_sandbox.db) == []


def test_two_merchants_one_customer_stay_within_the_limit(any_sandbox: SandboxInfo) -> None:
    """Two merchants open and approve checkouts for the same customer at once: the customer's credit in use
    (authorized - voided - refunded over active orders) never exceeds the limit."""
    sb = any_sandbox
    other = create_merchant(sb.db, datetime.now(UTC), name="other")
    email = "pays-on-time+shared@bnpl.test"  # ¥20,000 limit
    clients = [_client(sb), _client(sb, other.secret_key)]
    try:

        def open_and_approve(i: int) -> str | None:
            try:
                return _order(clients[i % 2], 500_000, email, f"shared-{i}")
            except (AssertionError, APIStatusError, HostedPageClosedError):
                return None  # declined when opened, or when approved because the credit was already in use

        with ThreadPoolExecutor(THREADS) as pool:
            orders = [o for o in pool.map(open_and_approve, range(12)) if o]
    finally:
        for c in clients:
            c.close()
    assert invariant_violations(sb.db) == []
    with sb.db.transaction(readonly=True) as tx:
        row = tx.fetchone(
            "SELECT c.credit_limit AS lim, SUM(o.amount_authorized - o.amount_voided - o.amount_refunded) AS used "
            "FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.email = ? GROUP BY c.credit_limit",
            (email,),
        )
    assert orders
    assert row is not None
    limit = int(row["lim"]) if row["lim"] is not None else 2_000_000  # the persona's ¥20,000 (sandbox-personas.md)
    assert int(row["used"]) <= limit, (row["used"], limit)
