"""Suite 2: webhook delivery to a merchant receiver that is down, slow, answering 500 and crashing midway.

The sandbox's background worker is off (``BNPL_SANDBOX_DELIVERY=0``); the test steps a ``DeliveryWorker`` with
``run_due(t)`` on an injected time that jumps a day per step (so every pending retry is due at each step), while
new orders, captures, refunds and voids keep producing events between the steps. The faults stop after a few
steps and the receiver recovers; then

* every event the lender wrote is delivered at least once (its delivery is ``succeeded``);
* every handler effect happened at most once per event id, and exactly once unless the event was stale (a newer
  sequence of its object was processed first);
* the merchant's view of every order equals the lender's final state: a reordered delivery never rolled it back;
* a manual redelivery of every event changes nothing (all duplicates).
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from merchant_receiver import MerchantReceiver, dump
from reliability_helpers import scale

import bnpl
from bnpl.sandbox import SandboxInfo
from bnpl.sandbox.customer import complete_hosted_page
from bnpl.sandbox.delivery import DeliveryWorker

FAULT_STEPS = 5


def _order(client: bnpl.Client, rng: random.Random) -> str:
    ref = f"wh{rng.getrandbits(40):x}"
    amount = rng.randrange(30_000, 300_000)
    checkout = client.checkouts.create(
        amount=amount,
        currency="CNY",
        merchant_reference=ref,
        items=[{"name": "SHA-CTU", "category": "flight", "unit_amount": amount, "total_amount": amount}],
        return_url="https://shop.example/return",
        customer={"reference": ref, "email": f"approve+{ref}@bnpl.test"},
    )
    complete_hosted_page(checkout.approval_url)
    order_id = client.checkouts.retrieve(checkout.id).order_id
    assert order_id is not None
    return order_id


def _activity(client: bnpl.Client, rng: random.Random, orders: list[str]) -> None:
    """A burst of state changes: a new order, and captures/refunds/voids on existing ones."""
    orders.append(_order(client, rng))
    for order_id in rng.sample(orders, min(4, len(orders))):
        order = client.orders.retrieve(order_id)
        capturable = order.amount_authorized - order.amount_captured - order.amount_voided
        refundable = order.amount_captured - order.amount_refunded
        draw = rng.random()
        if capturable > 0 and draw < 0.6 and order.status in ("authorized", "partially_captured"):
            client.orders.capture(order_id, amount=rng.randrange(1, capturable + 1))
        elif refundable > 0 and draw < 0.9:
            client.orders.refund(order_id, amount=rng.randrange(1, refundable + 1))
        elif capturable > 0 and order.status in ("authorized", "partially_captured"):
            client.orders.void(order_id)


def _undelivered(sb: SandboxInfo) -> int:
    with sb.db.transaction(readonly=True) as tx:
        row = tx.fetchone(
            "SELECT COUNT(*) AS n FROM events e WHERE NOT EXISTS "
            "(SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = 'succeeded')"
        )
    return int(row["n"]) if row is not None else -1


def test_webhooks_under_receiver_failure(
    sqlite_sandbox: SandboxInfo, tmp_path: Path, pytestconfig: pytest.Config
) -> None:
    sb = sqlite_sandbox
    rng = random.Random(2024)
    client = bnpl.Client(api_key=sb.secret_key, base_url=sb.base_url)
    bursts = scale(6, 20, pytestconfig)
    receiver = MerchantReceiver(tmp_path, seed=5, slow_seconds=1.5)
    endpoint = client.webhook_endpoints.create(url=receiver.url, enabled_events=["*"])
    receiver.configure(endpoint.secret)
    clock = [datetime.now(UTC) + timedelta(seconds=1)]
    worker = DeliveryWorker(sb.db, now=lambda: clock[0], jitter=0, timeout=1.0, concurrency=8)
    orders: list[str] = []
    attempts = 0
    try:
        receiver.stop()  # down for the first steps
        for step in range(FAULT_STEPS + 40):
            if step < bursts:
                _activity(client, rng, orders)
            if step == 2:
                receiver.start()
                receiver.set_faults(status_500=0.2, slow=0.1, crash=0.2)
            if step == FAULT_STEPS:
                receiver.set_faults()  # recovered
            attempts += worker.run_due(clock[0])
            clock[0] += timedelta(days=1)
            if step >= max(FAULT_STEPS, bursts) and receiver.wait_idle() and _undelivered(sb) == 0:
                break
        assert _undelivered(sb) == 0, "an event was never delivered"
        # Everything redelivered once more: all duplicates, no new effect.
        effects_before = receiver.effects()
        with sb.db.transaction(readonly=True) as tx:
            event_ids = [r["id"] for r in tx.fetchall("SELECT id FROM events")]
        for event_id in event_ids:
            response = client._http.post(  # the sandbox-only route, with the SDK's own authenticated pool
                f"{sb.base_url}/v1/events/{event_id}/redeliver", headers={"Authorization": f"Bearer {sb.secret_key}"}
            )
            assert response.status_code == 200, response.text
        attempts += worker.run_due(clock[0])
        assert receiver.wait_idle()
        assert receiver.effects() == effects_before
    finally:
        worker.close()
        receiver.close()
        client.close()

    effects = receiver.effects()
    per_event = Counter(e[0] for e in effects)
    assert max(per_event.values()) == 1, "a handler effect happened twice"
    stale = receiver.stats["outcome.stale"]
    assert len(per_event) + stale == len(event_ids), (len(per_event), stale, len(event_ids))
    # Never rolled back: the merchant's view is the lender's final state, order by order.
    merchant = receiver.orders()
    for order_id in orders:
        with sb.db.transaction(readonly=True) as tx:
            row = tx.fetchone(
                "SELECT status, amount_captured, amount_refunded, amount_voided, sequence FROM orders WHERE id = ?",
                (order_id,),
            )
        assert row is not None
        expected = {
            "status": row["status"],
            "captured": row["amount_captured"],
            "refunded": row["amount_refunded"],
            "voided": row["amount_voided"],
            "sequence": row["sequence"],
        }
        assert merchant[order_id] == expected, order_id
    stats = dict(receiver.stats)
    print("RELIABILITY-WEBHOOKS " + dump({"events": len(event_ids), "attempts": attempts, "receiver": stats}))
    # The faults really happened.
    for kind in ("status_500", "slow", "crash", "outcome.duplicate", "outcome.handler_failed"):
        assert stats.get(kind, 0) > 0, kind
