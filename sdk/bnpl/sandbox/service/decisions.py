"""The credit decision as the service sees it: the risk model's answer plus the customer's stored state.

The scorecard and the personas are pure functions in :mod:`bnpl.sandbox.risk`; this module feeds them the
customer's history from the database and turns their answer into plain offer terms the service stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bnpl.models.customers import CustomerInfo
from bnpl.money import Money
from bnpl.sandbox import risk
from bnpl.sandbox.db import Row, Transaction
from bnpl.sandbox.service.customers import customer_history
from bnpl.sandbox.service.quotes import OfferTerms

__all__ = ["Outcome", "decide"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """A decision in minor units of the order currency, with the offered plans' terms."""

    approved: bool
    decline_reason: str | None
    credit_limit: int
    available_credit: int
    min_order_amount: int
    max_order_amount: int
    offers: tuple[OfferTerms, ...]
    score: int
    persona: str | None


def decide(
    tx: Transaction,
    customer: Row,
    info: CustomerInfo,
    amount: Money,
    *,
    category: str | None,
    now: datetime,
) -> Outcome:
    """Decide ``amount`` for this customer now, from their stored limit, freeze and order history."""
    history = customer_history(tx, customer["id"])
    limit = customer["credit_limit"]
    adjustment = customer["rate_adjustment"]
    hist = risk.CustomerHistory(
        orders_count=history.orders_count,
        paid_off_count=history.paid_off_count,
        overdue_count=history.overdue_count,
        outstanding_minor=history.outstanding_minor,
        credit_limit_minor=int(limit) if limit is not None else None,
        frozen=bool(customer["frozen"]),
        rate_discount_percent=Decimal(adjustment) if adjustment else Decimal(0),
    )
    decision = risk.decide(info, amount, category=category, history=hist, now=now)
    offers = tuple(
        (
            str(p.product),
            p.periods if p.periods is not None else (4 if p.product == "pay_in_4" else 1),
            None if p.method is None else str(p.method),
            p.annual_interest_rate,
            p.fee_rate,
            p.label,
        )
        for p in decision.plans
    )
    persona = decision.persona.key if decision.persona is not None else None
    return Outcome(
        approved=bool(decision.approved),
        decline_reason=decision.decline_reason,
        credit_limit=decision.credit_limit.minor,
        available_credit=decision.available_credit.minor,
        min_order_amount=decision.min_order_amount.minor,
        max_order_amount=decision.max_order_amount.minor,
        offers=offers,
        score=int(decision.score),
        persona=persona,
    )
