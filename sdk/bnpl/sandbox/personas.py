"""Test personas of the sandbox lender: customers with deterministic outcomes, like Stripe's test cards.

A checkout whose customer has a persona's email or phone gets that persona's decision, repays as the persona
says when a test clock advances, and receives the persona's credit events (limit increase, freeze notice and
freeze, rate cut) at fixed simulated times. Emails match case-insensitively and accept a ``+tag`` so one
persona can stand for many customers: ``approve+alice@bnpl.test`` is the ``approve`` persona.

The table of personas is in docs/sandbox-personas.md. Customers matching no persona are decided by the
scorecard (:mod:`bnpl.sandbox.risk`) and pay every instalment on time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final, Literal, get_args

from bnpl.models.customers import CustomerInfo
from bnpl.money import Currency, Money

__all__ = [
    "CREDIT_EVENT_KINDS",
    "PERSONAS",
    "PERSONA_EMAIL_DOMAIN",
    "REPAYMENT_ACTIONS",
    "CreditEvent",
    "CreditEventKind",
    "DecisionOverride",
    "Persona",
    "PersonaError",
    "RepaymentAction",
    "persona_by_key",
    "persona_for",
]

RepaymentAction = Literal["pay", "fail", "catch_up", "pay_off"]
"""What the customer does when an instalment is collected:

* ``pay``: the instalment is collected in full on its due date.
* ``fail``: the collection fails; the instalment stays unpaid and becomes overdue after the grace period
  unless a later ``catch_up`` collects it.
* ``catch_up``: this instalment is collected together with every earlier unpaid one.
* ``pay_off``: the customer settles the whole remaining balance (this and every later instalment) now; the
  order is paid off.
"""

CreditEventKind = Literal["limit_increase", "freeze_notice", "freeze", "unfreeze", "rate_cut"]
"""A change to the customer's credit line that the test clock fires at a simulated time."""

DecisionOverride = Literal["always_approve", "always_decline", "low_limit"]
"""How a persona bypasses the scorecard: approve (score cutoff skipped), decline, or approve with a low limit."""

REPAYMENT_ACTIONS: Final[tuple[str, ...]] = get_args(RepaymentAction)
CREDIT_EVENT_KINDS: Final[tuple[str, ...]] = get_args(CreditEventKind)
PERSONA_EMAIL_DOMAIN: Final = "bnpl.test"


class PersonaError(ValueError):
    """A persona or credit event was built or queried with an invalid value; the message names it."""


@dataclass(frozen=True, slots=True)
class CreditEvent:
    """A credit-line change the test clock fires ``days_after_first_order`` days after the customer's first order.

    * ``limit_increase``: the limit rises by ``amount_major`` major units of the order currency.
    * ``freeze_notice``: advance notice (``customer.credit_freeze_scheduled``) of the ``freeze`` that follows.
    * ``freeze``: the line is frozen; new checkouts are declined with ``credit_frozen``.
    * ``unfreeze``: the line is usable again.
    * ``rate_cut``: every rate offered to the customer is cut by ``percent`` percent of itself (20 means a
      15 % rate becomes 12 %).
    """

    kind: CreditEventKind
    days_after_first_order: int
    amount_major: int | None = None
    percent: Decimal | None = None

    def __post_init__(self) -> None:
        if self.kind not in CREDIT_EVENT_KINDS:
            raise PersonaError(f"unknown credit event kind {self.kind!r}: one of {', '.join(CREDIT_EVENT_KINDS)}")
        days = self.days_after_first_order
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise PersonaError(f"days_after_first_order must be an int >= 0, got {days!r}")
        if (self.kind == "limit_increase") != (self.amount_major is not None):
            raise PersonaError("amount_major is required for limit_increase and only for it")
        if self.amount_major is not None and (isinstance(self.amount_major, bool) or self.amount_major <= 0):
            raise PersonaError(f"amount_major must be a positive int, got {self.amount_major!r}")
        if (self.kind == "rate_cut") != (self.percent is not None):
            raise PersonaError("percent is required for rate_cut and only for it")
        if self.percent is not None and not (isinstance(self.percent, Decimal) and 0 < self.percent < 100):
            raise PersonaError(f"percent must be a Decimal between 0 and 100 (exclusive), got {self.percent!r}")

    def amount(self, currency: Currency | str) -> Money | None:
        """The limit increase in ``currency`` (major units scaled by its exponent), or None for other kinds."""
        if self.amount_major is None:
            return None
        cur = Currency.of(currency)
        return Money(self.amount_major * cur.minor_per_major, cur)

    def fires_at(self, first_order_at: datetime) -> datetime:
        """When the event takes effect, given the (test clock) time of the customer's first order."""
        if not isinstance(first_order_at, datetime):
            raise PersonaError(f"first_order_at must be a datetime, got {type(first_order_at).__name__}")
        return first_order_at + timedelta(days=self.days_after_first_order)


@dataclass(frozen=True, slots=True)
class Persona:
    """A test customer with deterministic outcomes.

    ``decision`` overrides the scorecard (None: the scorecard decides). ``credit_limit_major`` is the limit the
    persona gets, in major units of the order currency (None: the band's limit). ``band`` is the risk band whose
    order range and plans the persona gets (None: the scorecard's band). ``repayments[k]`` is what happens at
    instalment ``k + 1``; every later instalment does ``afterwards``.
    """

    key: str
    email: str
    phone: str
    description: str
    decision: DecisionOverride | None = None
    credit_limit_major: int | None = None
    band: str | None = None
    repayments: tuple[RepaymentAction, ...] = ()
    afterwards: RepaymentAction = "pay"
    credit_events: tuple[CreditEvent, ...] = ()

    def __post_init__(self) -> None:
        for action in (*self.repayments, self.afterwards):
            if action not in REPAYMENT_ACTIONS:
                raise PersonaError(f"unknown repayment action {action!r}: one of {', '.join(REPAYMENT_ACTIONS)}")

    def repayment_behaviour(self, instalment_number: int) -> RepaymentAction:
        """What this customer does when instalment ``instalment_number`` (1-based) is collected."""
        if isinstance(instalment_number, bool) or not isinstance(instalment_number, int) or instalment_number < 1:
            raise PersonaError(f"instalment_number must be an int >= 1, got {instalment_number!r}")
        if instalment_number <= len(self.repayments):
            return self.repayments[instalment_number - 1]
        return self.afterwards


def _persona(
    key: str,
    number: int,
    description: str,
    *,
    decision: DecisionOverride | None = "always_approve",
    credit_limit_major: int | None = 20_000,
    band: str | None = "B",
    repayments: tuple[RepaymentAction, ...] = (),
    afterwards: RepaymentAction = "pay",
    credit_events: tuple[CreditEvent, ...] = (),
) -> Persona:
    # Behaviour personas default to approved in band B with ¥20,000 so any realistic test order reaches the clock.
    return Persona(
        key=key,
        email=f"{key.replace('_', '-')}@{PERSONA_EMAIL_DOMAIN}",
        phone=f"+86138000000{number:02d}",
        description=description,
        decision=decision,
        credit_limit_major=credit_limit_major,
        band=band,
        repayments=repayments,
        afterwards=afterwards,
        credit_events=credit_events,
    )


PERSONAS: Final[tuple[Persona, ...]] = (
    _persona(
        "approve",
        1,
        "Always approved with a high limit (¥50,000, band A plans, up to 36 months); pays on time.",
        decision="always_approve",
        credit_limit_major=50_000,
        band="A",
    ),
    _persona(
        "decline",
        2,
        "Always declined (persona_always_declines).",
        decision="always_decline",
        credit_limit_major=None,
        band=None,
    ),
    _persona(
        "low_limit",
        3,
        "Approved with a low limit of ¥500 (band E plans); orders above ¥500 are declined insufficient_credit.",
        decision="low_limit",
        credit_limit_major=500,
        band="E",
    ),
    _persona("pays_on_time", 4, "Approved; pays every instalment on its due date."),
    _persona(
        "misses_one",
        5,
        "Approved; instalment 2 fails, then is collected together with instalment 3; the rest on time.",
        repayments=("pay", "fail", "catch_up"),
    ),
    _persona(
        "arrears",
        6,
        "Approved; pays instalment 1, then every collection fails: overdue after the grace period.",
        repayments=("pay",),
        afterwards="fail",
    ),
    _persona(
        "pays_off_early",
        7,
        "Approved; pays instalment 1, then settles the whole remaining balance at instalment 2.",
        repayments=("pay", "pay_off"),
        afterwards="pay_off",
    ),
    _persona(
        "limit_increase",
        8,
        "Approved with ¥20,000; the limit rises by ¥10,000 14 days after the first order; pays on time.",
        credit_events=(CreditEvent("limit_increase", 14, amount_major=10_000),),
    ),
    _persona(
        "freeze",
        9,
        "Approved; a freeze notice 23 days after the first order, the freeze 7 days later (day 30), "
        "lifted on day 60; pays on time. While frozen, new checkouts are declined credit_frozen.",
        credit_events=(CreditEvent("freeze_notice", 23), CreditEvent("freeze", 30), CreditEvent("unfreeze", 60)),
    ),
    _persona(
        "rate_cut",
        10,
        "Approved; 30 days after the first order every rate offered is cut by 20 % of itself; pays on time.",
        credit_events=(CreditEvent("rate_cut", 30, percent=Decimal(20)),),
    ),
)
"""Every persona, in documentation order."""

_BY_KEY: Final = {p.key: p for p in PERSONAS}
_BY_LOCAL_PART: Final = {p.email.split("@", 1)[0]: p for p in PERSONAS}
_BY_PHONE: Final = {p.phone: p for p in PERSONAS}


def persona_by_key(key: str) -> Persona:
    """The persona called ``key`` (e.g. ``"pays_on_time"``); raises :class:`PersonaError` naming the valid keys."""
    found = _BY_KEY.get(key)
    if found is None:
        raise PersonaError(f"unknown persona {key!r}: one of {', '.join(_BY_KEY)}")
    return found


def persona_for(customer: CustomerInfo) -> Persona | None:
    """The persona this customer stands for, by email (``approve@bnpl.test``, ``approve+any@bnpl.test``) or
    else by phone (``+8613800000001``); None for an ordinary customer."""
    if not isinstance(customer, CustomerInfo):
        raise PersonaError(f"customer must be a CustomerInfo, got {type(customer).__name__}")
    email = customer.email
    if email is not None:
        local, _, domain = email.lower().rpartition("@")
        if domain == PERSONA_EMAIL_DOMAIN:
            found = _BY_LOCAL_PART.get(local.split("+", 1)[0])
            if found is not None:
                return found
    if customer.phone is not None:
        return _BY_PHONE.get(customer.phone)
    return None
