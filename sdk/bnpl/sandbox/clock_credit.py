"""Persona credit notices on a test clock: limit increases, freeze notices, freezes, unfreezes and rate cuts.

A persona's :class:`~bnpl.sandbox.personas.CreditEvent` fires ``days_after_first_order`` days after the
customer's first order **on this clock** (``orders.created``, a simulated time). Each fired notice is recorded in
``clock_credit_notices`` (one row per clock, customer, kind and day), so it fires once even across crashes and
re-runs. The change is applied to the customer row that the credit decision reads:

* ``limit_increase``: ``customers.credit_limit`` rises (from the persona's limit when none was stored yet);
* ``freeze_notice``: ``customers.freeze_at`` records the announced freeze time (``effective_at``, in the future);
* ``freeze`` / ``unfreeze``: ``customers.frozen`` (a frozen customer's new checkouts are declined
  ``credit_frozen``); ``credit_limit_after`` is 0 while frozen;
* ``rate_cut``: ``customers.rate_adjustment`` holds the total discount in percent of every rate (two cuts of
  20 % compose to 36 %); it applies to plans offered from then on, never to existing orders.

The event goes to every merchant whose orders link the customer, with the customer's own ``sequence``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from bnpl.models.customers import CustomerInfo
from bnpl.models.events import CustomerCreditNotice, CustomerRateNotice
from bnpl.money import Currency
from bnpl.sandbox import risk
from bnpl.sandbox.clock_plan import Action
from bnpl.sandbox.db import Row, Transaction
from bnpl.sandbox.personas import CreditEvent, Persona, persona_for
from bnpl.sandbox.service._common import emit_event, from_us, to_us
from bnpl.sandbox.service.quotes import rate_string

__all__ = ["CREDIT_EVENT_TYPES", "apply_credit", "customer_persona", "plan_credit"]

CREDIT_EVENT_TYPES: Final[dict[str, str]] = {
    "limit_increase": "customer.credit_limit_increased",
    "freeze_notice": "customer.credit_freeze_scheduled",
    "freeze": "customer.credit_frozen",
    "unfreeze": "customer.credit_unfrozen",
    "rate_cut": "customer.rate_changed",
}
_DAY_US: Final = 86_400_000_000
_HUNDRED: Final = Decimal(100)


def customer_persona(row: Row) -> Persona | None:
    """The persona a stored customer stands for (by email, else phone), or None."""
    if row["email"] is None and row["phone"] is None:
        return None
    # model_construct: the row was validated when the customer was created; only email/phone matter here.
    info = CustomerInfo.model_construct(
        reference=row["reference"] or "customer", email=row["email"], phone=row["phone"]
    )
    return persona_for(info)


@dataclass(frozen=True, slots=True)
class _Subject:
    row: Row
    persona: Persona
    first_order: int
    currency: str


def _subject(tx: Transaction, clock_id: str, customer_id: str) -> _Subject | None:
    row = tx.fetchone("SELECT * FROM customers WHERE id = ?", (customer_id,))
    if row is None:
        return None
    persona = customer_persona(row)
    if persona is None or not persona.credit_events:
        return None
    first = tx.fetchone(
        "SELECT created, currency FROM orders WHERE customer_id = ? AND test_clock_id = ? ORDER BY created, pk LIMIT 1",
        (customer_id, clock_id),
    )
    if first is None:
        return None
    return _Subject(row, persona, int(first["created"]), row["currency"] or first["currency"])


def plan_credit(tx: Transaction, clock_id: str, until: int) -> list[Action]:
    """The persona credit notices of the clock's customers that are due by ``until`` and not yet fired."""
    customers = tx.fetchall(
        "SELECT DISTINCT customer_id FROM orders WHERE test_clock_id = ? AND customer_id IS NOT NULL", (clock_id,)
    )
    actions: list[Action] = []
    for c in customers:
        subject = _subject(tx, clock_id, c["customer_id"])
        if subject is None:
            continue
        fired = {
            (r["kind"], int(r["days"]))
            for r in tx.fetchall(
                "SELECT kind, days FROM clock_credit_notices WHERE test_clock_id = ? AND customer_id = ?",
                (clock_id, subject.row["id"]),
            )
        }
        for index, event in enumerate(subject.persona.credit_events):
            at = subject.first_order + event.days_after_first_order * _DAY_US
            if at <= until and (event.kind, event.days_after_first_order) not in fired:
                actions.append(Action.make("credit", at, int(subject.row["pk"]), subject.row["id"], index))
    return actions


def _limit(subject: _Subject) -> int:
    stored = subject.row["credit_limit"]
    if stored is not None:
        return int(stored)
    scale = Currency.of(subject.currency).minor_per_major
    if subject.persona.credit_limit_major is not None:
        return subject.persona.credit_limit_major * scale
    band = next((b for b in risk.BANDS if b.key == subject.persona.band), None)
    return band.credit_limit_major * scale if band is not None else 0


def _discount(row: Row) -> Decimal:
    return Decimal(row["rate_adjustment"]) if row["rate_adjustment"] else Decimal(0)


def _top_rate(persona: Persona, discount: Decimal) -> Decimal:
    # The headline rate: the highest annual rate among the plans the persona's band offers.
    band = persona.band or risk.BANDS[0].key
    return max(o.annual_interest_rate for o in risk.band_offers(band, discount))


def _merchants(tx: Transaction, customer_id: str) -> list[str]:
    rows = tx.fetchall(
        "SELECT DISTINCT merchant_id FROM orders WHERE customer_id = ? ORDER BY merchant_id", (customer_id,)
    )
    return [r["merchant_id"] for r in rows]


def _next_freeze(persona: Persona, notice: CreditEvent) -> CreditEvent | None:
    later = [
        e
        for e in persona.credit_events
        if e.kind == "freeze" and e.days_after_first_order >= notice.days_after_first_order
    ]
    return min(later, key=lambda e: e.days_after_first_order) if later else None


def apply_credit(tx: Transaction, clock_id: str, action: Action) -> int:
    """Fire one credit notice (once): change the customer row and emit the event; return the events written."""
    subject = _subject(tx, clock_id, action.object_id)
    if subject is None or action.number >= len(subject.persona.credit_events):
        return 0
    event = subject.persona.credit_events[action.number]
    claimed = tx.execute(
        "INSERT INTO clock_credit_notices (test_clock_id, customer_id, kind, days, fired_at) VALUES (?,?,?,?,?) "
        "ON CONFLICT (test_clock_id, customer_id, kind, days) DO NOTHING",
        (clock_id, action.object_id, event.kind, event.days_after_first_order, action.at),
    )
    if claimed != 1:
        return 0  # fired already (a concurrent or earlier run)
    at, cid = from_us(action.at), action.object_id
    limit = _limit(subject)
    frozen = bool(subject.row["frozen"])
    data: CustomerCreditNotice | CustomerRateNotice
    reason = (
        f"test persona {subject.persona.key}: {event.kind} {event.days_after_first_order} days after the first order"
    )
    if event.kind == "rate_cut" and event.percent is not None:  # CreditEvent guarantees percent for rate_cut
        old = _discount(subject.row)
        new = _HUNDRED - (_HUNDRED - old) * (_HUNDRED - event.percent) / _HUNDRED
        tx.execute("UPDATE customers SET rate_adjustment = ? WHERE id = ?", (str(new.normalize()), cid))
        data = CustomerRateNotice(
            customer_id=cid,
            old_annual_rate=rate_string(_top_rate(subject.persona, old)),
            new_annual_rate=rate_string(_top_rate(subject.persona, new)),
            effective_at=at,
            reason=reason,
        )
    else:
        before, after, effective = (0 if frozen else limit), (0 if frozen else limit), at
        if event.kind == "limit_increase":
            amount = event.amount(subject.currency)
            increase = amount.minor if amount is not None else 0  # CreditEvent guarantees an amount here
            tx.execute("UPDATE customers SET credit_limit = ? WHERE id = ?", (limit + increase, cid))
            after = 0 if frozen else limit + increase
        elif event.kind == "freeze_notice":
            freeze = _next_freeze(subject.persona, event)
            effective = from_us(subject.first_order + freeze.days_after_first_order * _DAY_US) if freeze else at
            tx.execute("UPDATE customers SET freeze_at = ? WHERE id = ?", (to_us(effective), cid))
            after = 0
        elif event.kind == "freeze":
            tx.execute("UPDATE customers SET frozen = 1, freeze_at = ? WHERE id = ?", (action.at, cid))
            after = 0
        else:  # unfreeze
            tx.execute("UPDATE customers SET frozen = 0, freeze_at = NULL WHERE id = ?", (cid,))
            before, after = 0, limit
        data = CustomerCreditNotice(
            customer_id=cid,
            currency=subject.currency,
            credit_limit_before=before,
            credit_limit_after=after,
            effective_at=effective,
            reason=reason,
        )
    payload = data.model_dump_json()
    merchants = _merchants(tx, cid)
    for merchant_id in merchants:
        emit_event(tx, merchant_id, CREDIT_EVENT_TYPES[event.kind], cid, payload, at)
    return len(merchants)
