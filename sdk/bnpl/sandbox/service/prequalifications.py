"""Prequalification: what this customer may borrow for this amount, before any checkout."""

from __future__ import annotations

from datetime import datetime, timedelta

from bnpl.models.customers import Prequalification, PrequalificationCreateParams
from bnpl.money import Money
from bnpl.sandbox.db import Database
from bnpl.sandbox.service._common import new_id, to_us
from bnpl.sandbox.service.customers import resolve_customer
from bnpl.sandbox.service.decisions import decide
from bnpl.sandbox.service.quotes import option_of

__all__ = ["prequalify"]


def prequalify(
    db: Database, merchant_id: str, params: PrequalificationCreateParams, now: datetime, *, ttl_seconds: int = 1800
) -> Prequalification:
    """Decide without opening a checkout: eligibility, the order-amount range, available credit and plans."""
    with db.transaction() as tx:
        customer = resolve_customer(tx, merchant_id, params.customer, test_clock_id=None, now_us=to_us(now))
        outcome = decide(
            tx, customer, params.customer, Money(params.amount, params.currency), category=params.category, now=now
        )
    low, high = outcome.min_order_amount, outcome.max_order_amount
    return Prequalification(
        id=new_id("pq_"),
        eligible=outcome.approved,
        decline_reason=None if outcome.approved else outcome.decline_reason,
        currency=params.currency,
        amount=params.amount,
        customer_id=customer["id"],
        available_credit=outcome.available_credit,
        min_order_amount=min(low, high),
        max_order_amount=high,
        plans=[option_of(t) for t in outcome.offers] if outcome.approved else [],
        expires_at=now + timedelta(seconds=ttl_seconds),
        created=now,
    )
