"""Test personas: lookup by email and phone, repayment behaviour, credit events and their decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bnpl.models.customers import CustomerInfo
from bnpl.money import Money
from bnpl.sandbox.personas import (
    PERSONAS,
    CreditEvent,
    Persona,
    PersonaError,
    persona_by_key,
    persona_for,
)
from bnpl.sandbox.risk import BANDS, CustomerHistory, Decision, decide

NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "sandbox-personas.md"


def cny(major: str) -> Money:
    return Money.of(major, "CNY")


def customer(email: str | None = None, phone: str | None = None, reference: str = "cus-ref-1") -> CustomerInfo:
    return CustomerInfo(reference=reference, email=email, phone=phone)


# --- lookup --------------------------------------------------------------------------------------------------


def test_keys_emails_and_phones_are_unique_and_valid() -> None:
    assert len({p.key for p in PERSONAS}) == len(PERSONAS) == 10
    assert len({p.email for p in PERSONAS}) == len(PERSONAS)
    assert len({p.phone for p in PERSONAS}) == len(PERSONAS)
    for p in PERSONAS:
        # The contract model validates both formats, so every persona is usable through the API.
        assert CustomerInfo(reference="r", email=p.email, phone=p.phone).email == p.email
        assert p.email.endswith("@bnpl.test")


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.key)
def test_matched_by_email_tagged_email_any_case_and_phone(persona: Persona) -> None:
    local = persona.email.split("@")[0]
    assert persona_for(customer(email=persona.email)) is persona
    assert persona_for(customer(email=f"{local}+alice@bnpl.test")) is persona
    assert persona_for(customer(email=persona.email.upper())) is persona
    assert persona_for(customer(phone=persona.phone)) is persona
    assert persona_by_key(persona.key) is persona


def test_documented_examples_match() -> None:
    assert persona_for(customer(email="approve@bnpl.test")) is persona_by_key("approve")
    assert persona_for(customer(phone="+8613800000001")) is persona_by_key("approve")
    assert persona_for(customer(phone="+8613800000002")) is persona_by_key("decline")


def test_email_wins_over_phone() -> None:
    found = persona_for(customer(email="decline@bnpl.test", phone=persona_by_key("approve").phone))
    assert found is not None
    assert found.key == "decline"


def test_unknown_email_falls_back_to_phone() -> None:
    found = persona_for(customer(email="someone@example.com", phone="+8613800000004"))
    assert found is not None
    assert found.key == "pays_on_time"


@pytest.mark.parametrize(
    ("email", "phone"),
    [
        (None, None),
        ("approve@example.com", None),  # right local part, wrong domain
        ("approver@bnpl.test", None),
        ("alice@bnpl.test", "+8613800000099"),
        (None, "+8613800000000"),
        (None, "+86138000000011"),
    ],
)
def test_ordinary_customers_have_no_persona(email: str | None, phone: str | None) -> None:
    assert persona_for(customer(email=email, phone=phone)) is None


def test_lookup_errors_are_typed_and_name_the_choices() -> None:
    with pytest.raises(PersonaError, match="pays_on_time"):
        persona_by_key("nobody")
    with pytest.raises(PersonaError, match="CustomerInfo"):
        persona_for({"email": "approve@bnpl.test"})  # type: ignore[arg-type]


# --- repayment behaviour -------------------------------------------------------------------------------------

EXPECTED_REPAYMENTS = {
    "approve": ["pay"] * 6,
    "decline": ["pay"] * 6,
    "low_limit": ["pay"] * 6,
    "pays_on_time": ["pay"] * 6,
    "misses_one": ["pay", "fail", "catch_up", "pay", "pay", "pay"],
    "arrears": ["pay", "fail", "fail", "fail", "fail", "fail"],
    "pays_off_early": ["pay", "pay_off", "pay_off", "pay_off", "pay_off", "pay_off"],
    "limit_increase": ["pay"] * 6,
    "freeze": ["pay"] * 6,
    "rate_cut": ["pay"] * 6,
}


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.key)
def test_repayment_behaviour(persona: Persona) -> None:
    assert [persona.repayment_behaviour(n) for n in range(1, 7)] == EXPECTED_REPAYMENTS[persona.key]
    assert persona.repayment_behaviour(36) == EXPECTED_REPAYMENTS[persona.key][-1]


@pytest.mark.parametrize("bad", [0, -1, True, 1.0, "2"])
def test_repayment_behaviour_rejects_bad_instalment_numbers(bad: object) -> None:
    with pytest.raises(PersonaError, match="instalment_number"):
        persona_by_key("misses_one").repayment_behaviour(bad)  # type: ignore[arg-type]


# --- credit events -------------------------------------------------------------------------------------------


def test_credit_events_per_persona() -> None:
    events = {p.key: p.credit_events for p in PERSONAS}
    assert events["limit_increase"] == (CreditEvent("limit_increase", 14, amount_major=10_000),)
    assert events["rate_cut"] == (CreditEvent("rate_cut", 30, percent=Decimal(20)),)
    assert [e.kind for e in events["freeze"]] == ["freeze_notice", "freeze", "unfreeze"]
    others = set(events) - {"limit_increase", "rate_cut", "freeze"}
    assert all(events[k] == () for k in others)


def test_freeze_notice_comes_seven_days_before_the_freeze() -> None:
    notice, freeze, unfreeze = persona_by_key("freeze").credit_events
    first_order = datetime(2025, 1, 31, 12, tzinfo=UTC)
    assert freeze.fires_at(first_order) - notice.fires_at(first_order) == timedelta(days=7)
    assert notice.fires_at(first_order) > first_order
    assert unfreeze.fires_at(first_order) > freeze.fires_at(first_order)


def test_limit_increase_amount_scales_to_the_currency() -> None:
    (event,) = persona_by_key("limit_increase").credit_events
    assert event.amount("CNY") == Money.of("10000", "CNY")
    assert event.amount("JPY") == Money(10_000, "JPY")
    assert event.amount("KWD") == Money(10_000_000, "KWD")
    assert event.fires_at(NOW) == NOW + timedelta(days=14)
    assert CreditEvent("freeze", 1).amount("CNY") is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "explode", "days_after_first_order": 1}, "unknown credit event kind"),
        ({"kind": "freeze", "days_after_first_order": -1}, "days_after_first_order"),
        ({"kind": "freeze", "days_after_first_order": True}, "days_after_first_order"),
        ({"kind": "limit_increase", "days_after_first_order": 1}, "amount_major is required"),
        ({"kind": "freeze", "days_after_first_order": 1, "amount_major": 5}, "amount_major is required"),
        ({"kind": "limit_increase", "days_after_first_order": 1, "amount_major": 0}, "positive"),
        ({"kind": "rate_cut", "days_after_first_order": 1}, "percent is required"),
        ({"kind": "rate_cut", "days_after_first_order": 1, "percent": Decimal(100)}, "between 0 and 100"),
        ({"kind": "rate_cut", "days_after_first_order": 1, "percent": 20.0}, "Decimal"),
    ],
)
def test_bad_credit_events_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(PersonaError, match=message):
        CreditEvent(**kwargs)  # type: ignore[arg-type]


def test_bad_persona_actions_are_refused() -> None:
    with pytest.raises(PersonaError, match="unknown repayment action"):
        Persona("x", "x@bnpl.test", "+8613800000077", "x", repayments=("skip",))  # type: ignore[arg-type]


# --- decisions -----------------------------------------------------------------------------------------------


def decide_for(
    key: str, amount: str, history: CustomerHistory | None = None, category: str | None = "flight"
) -> Decision:
    p = persona_by_key(key)
    return decide(
        customer(email=p.email), cny(amount), category=category, history=history or CustomerHistory(), now=NOW
    )


def test_approve_persona_approves_high_amounts_whatever_the_score() -> None:
    bad_history = CustomerHistory(orders_count=9, overdue_count=9)
    d = decide_for("approve", "50000", bad_history, category="goods")
    assert d.approved, d.reasons
    assert d.score < 560  # the scorecard alone would decline
    assert d.credit_limit == cny("50000")
    assert d.band == "A"
    assert {o.periods for o in d.plans if o.product == "monthly"} >= {24, 36}
    assert d.persona is persona_by_key("approve")
    # Still bounded by its range: the persona approves, it does not lend unlimited amounts.
    assert decide_for("approve", "50000.01").decline_reason == "amount_above_maximum"


def test_decline_persona_declines_everything() -> None:
    for amount in ("50", "100", "999"):
        d = decide_for("decline", amount)
        assert not d.approved
        assert d.decline_reason == "persona_always_declines"
        assert d.plans == []


def test_low_limit_persona() -> None:
    ok = decide_for("low_limit", "500")
    assert ok.approved
    assert ok.credit_limit == cny("500")
    assert ok.band == "E"
    assert decide_for("low_limit", "500.01").decline_reason == "insufficient_credit"
    assert decide_for("low_limit", "49.99").decline_reason == "amount_below_minimum"


@pytest.mark.parametrize(
    "key", ["pays_on_time", "misses_one", "arrears", "pays_off_early", "limit_increase", "freeze", "rate_cut"]
)
def test_behaviour_personas_are_approved_for_realistic_orders(key: str) -> None:
    d = decide_for(key, "12000", category="goods")
    assert d.approved, d.reasons
    assert d.credit_limit == cny("20000")
    assert d.band == "B"
    assert d.plans


def test_frozen_persona_is_declined_while_frozen() -> None:
    d = decide_for("freeze", "100", CustomerHistory(orders_count=1, frozen=True))
    assert d.decline_reason == "credit_frozen"
    assert d.available_credit == cny("0")


def test_limit_increase_persona_uses_the_raised_limit() -> None:
    before = CustomerHistory(orders_count=1, outstanding_minor=15_000_00)
    assert decide_for("limit_increase", "10000", before).decline_reason == "insufficient_credit"
    (event,) = persona_by_key("limit_increase").credit_events
    raised = event.amount("CNY")
    assert raised is not None
    after = CustomerHistory(orders_count=1, outstanding_minor=15_000_00, credit_limit_minor=20_000_00 + raised.minor)
    d = decide_for("limit_increase", "10000", after)
    assert d.approved
    assert d.credit_limit == cny("30000")
    assert d.available_credit == cny("15000")


def test_rate_cut_persona_gets_lower_rates_after_the_cut() -> None:
    (event,) = persona_by_key("rate_cut").credit_events
    assert event.percent is not None
    before = decide_for("rate_cut", "3000")
    after = decide_for("rate_cut", "3000", CustomerHistory(orders_count=1, rate_discount_percent=event.percent))
    assert [(o.product, o.periods, o.method) for o in before.plans] == [
        (o.product, o.periods, o.method) for o in after.plans
    ]
    for old, new in zip(before.plans, after.plans, strict=True):
        assert new.annual_interest_rate == old.annual_interest_rate * Decimal("0.8")
        assert new.fee_rate == old.fee_rate * Decimal("0.8")
    annuity_12 = next(o for o in after.plans if o.method == "annuity" and o.periods == 12)
    assert annuity_12.annual_interest_rate == Decimal("9.6")  # band B's 12 % cut by a fifth
    assert "9.60" in annuity_12.label


def test_persona_bands_exist() -> None:
    keys = {b.key for b in BANDS}
    assert all(p.band in keys for p in PERSONAS if p.band is not None)


# --- documentation -------------------------------------------------------------------------------------------


def test_every_persona_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for p in PERSONAS:
        assert f"`{p.email}`" in text, p.key
        assert f"`{p.phone}`" in text, p.key
        assert f"`{p.key}`" in text, p.key
