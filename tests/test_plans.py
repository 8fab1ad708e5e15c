"""bnpl.plans: schedules for every product and method, subsidies, due dates, and their invariants."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bnpl.money import Money
from bnpl.plans import METHODS, Plan, PlanError, Pricing, add_months, build_plan

START = date(2026, 1, 31)


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def check_invariants(plan: Plan) -> None:
    minor = [i.amount.minor for i in plan.instalments]
    assert all(m >= 0 for m in minor)
    assert sum(i.principal.minor for i in plan.instalments) == plan.amount_financed.minor
    for i in plan.instalments:
        assert i.amount == i.principal + i.interest + i.fee
    assert plan.instalments[-1].balance.is_zero()
    paid = plan.down_payment.minor + plan.upfront_fee.minor + sum(minor)
    assert plan.total_payable.minor == paid
    assert plan.total_cost_of_credit.minor == paid - plan.price.minor
    balances = [i.balance.minor for i in plan.instalments]
    assert balances == sorted(balances, reverse=True)


def test_issue_acceptance_flat_fee_example() -> None:
    plan = build_plan(
        cny("12999"), periods=12, method="flat_fee", pricing=Pricing(fee_rate=Decimal("0.6")), start=START
    )
    check_invariants(plan)
    assert len(plan.instalments) == 12
    # 12999 / 12 = 1083.25; fee 12999 × 0.6 % = 77.994 → 77.99 every month
    assert {i.principal for i in plan.instalments} == {cny("1083.25")}
    assert {i.fee for i in plan.instalments} == {cny("77.99")}
    assert plan.total_payable == cny("13934.88")
    assert plan.total_cost_of_credit == cny("935.88")
    assert round(plan.annual_rates["cn_simple"], 2) == Decimal("13.03")
    assert round(plan.annual_rates["cn_compound"], 2) == Decimal("13.84")
    assert plan.disclosure.rate("cn_simple") == "13.03 % (单利)"


def test_annuity_matches_the_textbook_payment() -> None:
    # 10 000 at 12 % nominal over 12 months: the level payment is 888.49 (standard annuity tables).
    plan = build_plan(
        cny("10000"), periods=12, method="annuity", pricing=Pricing(annual_interest_rate=Decimal(12)), start=START
    )
    check_invariants(plan)
    assert plan.instalments[0].amount == cny("888.49")
    assert plan.instalments[0].interest == cny("100.00")
    assert round(plan.annual_rates["us_reg_z"], 2) == Decimal("12.00")
    assert round(plan.annual_rates["cn_simple"], 1) == Decimal("12.0")
    assert round(plan.annual_rates["cn_compound"], 2) == Decimal("12.68")


def test_equal_principal_interest_declines() -> None:
    plan = build_plan(
        cny("1200"), periods=12, method="equal_principal", pricing=Pricing(annual_interest_rate=Decimal(12))
    )
    check_invariants(plan)
    assert [i.interest.minor for i in plan.instalments[:3]] == [1200, 1100, 1000]
    assert plan.instalments[-1].interest == cny("1.00")
    assert {i.principal for i in plan.instalments} == {cny("100")}


def test_interest_only_pays_principal_last() -> None:
    plan = build_plan(cny("6000"), periods=6, method="interest_only", pricing=Pricing(annual_interest_rate=Decimal(6)))
    check_invariants(plan)
    assert [i.principal.minor for i in plan.instalments] == [0, 0, 0, 0, 0, 600000]
    assert {i.interest for i in plan.instalments} == {cny("30.00")}


def test_pay_in_4_first_payment_at_checkout_every_two_weeks() -> None:
    plan = build_plan(cny("100.01"), product="pay_in_4", start=date(2026, 3, 1))
    check_invariants(plan)
    assert [i.due_date for i in plan.instalments] == [
        date(2026, 3, 1),
        date(2026, 3, 15),
        date(2026, 3, 29),
        date(2026, 4, 12),
    ]
    assert [i.amount.minor for i in plan.instalments] == [2501, 2500, 2500, 2500]
    assert plan.total_cost_of_credit.is_zero()
    assert set(plan.annual_rates.values()) == {Decimal(0)}


def test_pay_in_4_refuses_fees() -> None:
    with pytest.raises(PlanError, match="pay_in_4 is free"):
        build_plan(cny("100"), product="pay_in_4", pricing=Pricing(fee_rate=Decimal("1")))


def test_pay_in_30() -> None:
    plan = build_plan(cny("500"), product="pay_in_30", start=date(2026, 3, 1), pricing=Pricing(fee_rate=Decimal(1)))
    check_invariants(plan)
    (only,) = plan.instalments
    assert only.due_date == date(2026, 3, 31)
    assert only.amount == cny("505.00")
    # 1 % for 30 days: 12.17 % simple (×365/30), PBOC compound higher.
    assert plan.annual_rates["cn_compound"] > plan.annual_rates["cn_simple"] > 0


def test_due_dates_clamp_at_month_end_without_drifting() -> None:
    plan = build_plan(cny("300"), periods=3, method="annuity", start=date(2027, 12, 31))
    assert [i.due_date for i in plan.instalments] == [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31)]
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 2, 28), 1, anchor_day=31) == date(2026, 3, 31)


def test_first_due_date_sets_the_anchor() -> None:
    plan = build_plan(cny("300"), periods=3, method="annuity", start=date(2026, 1, 5), first_due=date(2026, 1, 31))
    assert [i.due_date for i in plan.instalments] == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]


def test_full_merchant_subsidy_is_interest_free_for_the_customer() -> None:
    pricing = Pricing(annual_interest_rate=Decimal("15"), merchant_subsidy=Decimal(100))
    plan = build_plan(cny("1299"), periods=6, method="annuity", pricing=pricing)
    check_invariants(plan)
    assert plan.total_cost_of_credit.is_zero()
    assert plan.total_payable == cny("1299")
    unsubsidised = build_plan(
        cny("1299"), periods=6, method="annuity", pricing=Pricing(annual_interest_rate=Decimal(15))
    )
    assert plan.merchant_subsidy == unsubsidised.total_cost_of_credit
    assert set(plan.annual_rates.values()) == {Decimal(0)}


def test_partial_subsidy_shares_cost_exactly() -> None:
    full = Pricing(fee_rate=Decimal("0.6"), upfront_fee=cny("20"))
    half = Pricing(fee_rate=Decimal("0.6"), upfront_fee=cny("20"), merchant_subsidy=Decimal(50))
    a = build_plan(cny("999.99"), periods=9, method="flat_fee", pricing=full)
    b = build_plan(cny("999.99"), periods=9, method="flat_fee", pricing=half)
    check_invariants(b)
    assert b.total_cost_of_credit + b.merchant_subsidy == a.total_cost_of_credit
    assert b.upfront_fee == cny("10")
    assert b.annual_rates["cn_compound"] < a.annual_rates["cn_compound"]


def test_down_payment_and_upfront_fee() -> None:
    pricing = Pricing(annual_interest_rate=Decimal(10), upfront_fee=cny("50"), down_payment=cny("299"))
    plan = build_plan(cny("1299"), periods=12, method="annuity", pricing=pricing)
    check_invariants(plan)
    assert plan.amount_financed == cny("1000")
    assert plan.disclosure.amount_of_credit == cny("950")
    # the upfront fee makes credit dearer than the nominal rate
    assert plan.annual_rates["cn_simple"] > Decimal(10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"product": "pay_in_9"}, "unknown product"),
        ({"periods": 12}, "need method="),
        ({"periods": 0, "method": "annuity"}, "periods between"),
        ({"periods": 12, "method": "balloon"}, "need method="),
        ({"product": "pay_in_30", "periods": 3}, "exactly one payment"),
        ({"periods": 3, "method": "annuity", "pricing": Pricing(down_payment=Money.of("100", "CNY"))}, "down payment"),
        ({"periods": 3, "method": "annuity", "pricing": Pricing(down_payment=Money.of("1", "USD"))}, "USD"),
    ],
)
def test_bad_inputs_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(PlanError, match=message):
        build_plan(cny("100"), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [Decimal(-1), "abc", 4.9])
def test_bad_pricing_is_refused(bad: object) -> None:
    with pytest.raises(PlanError):
        Pricing(annual_interest_rate=bad)  # type: ignore[arg-type]


currencies = st.sampled_from(["CNY", "JPY", "KWD", "USD"])


@settings(max_examples=150, deadline=None)
@given(
    minor=st.integers(min_value=100, max_value=10**9),
    code=currencies,
    periods=st.sampled_from([1, 2, 3, 6, 9, 12, 18, 24, 36]),
    method=st.sampled_from(METHODS),
    annual=st.decimals(min_value=0, max_value=36, places=2),
    fee=st.decimals(min_value=0, max_value=2, places=2),
    subsidy=st.sampled_from([Decimal(0), Decimal(25), Decimal("33.3"), Decimal(100)]),
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
)
def test_invariants_hold_for_any_plan(
    minor: int, code: str, periods: int, method: str, annual: Decimal, fee: Decimal, subsidy: Decimal, start: date
) -> None:
    pricing = Pricing(annual_interest_rate=annual, fee_rate=fee, merchant_subsidy=subsidy)
    plan = build_plan(Money(minor, code), periods=periods, method=method, pricing=pricing, start=start)  # type: ignore[arg-type]
    check_invariants(plan)
    assert len(plan.instalments) == periods
    assert all(i.due_date > start for i in plan.instalments)
    if plan.total_cost_of_credit.is_zero():
        assert set(plan.annual_rates.values()) == {Decimal(0)}
    else:
        assert all(rate > 0 for rate in plan.annual_rates.values())
        assert plan.annual_rates["cn_compound"] >= plan.annual_rates["cn_simple"]
    if method == "annuity" and fee == 0 and subsidy == 0 and annual > 0:
        amounts = [i.amount.minor for i in plan.instalments[:-1]]
        if amounts:
            assert max(amounts) - min(amounts) <= 1


@settings(max_examples=60, deadline=None)
@given(
    minor=st.integers(min_value=10_000, max_value=10**8),
    periods=st.sampled_from([3, 6, 12, 24]),
    fee=st.decimals(min_value=0, max_value=Decimal("1.5"), places=2),
    extra=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1"), places=2),
)
def test_a_higher_fee_never_lowers_the_rate(minor: int, periods: int, fee: Decimal, extra: Decimal) -> None:
    low = build_plan(Money(minor, "CNY"), periods=periods, method="flat_fee", pricing=Pricing(fee_rate=fee))
    high = build_plan(Money(minor, "CNY"), periods=periods, method="flat_fee", pricing=Pricing(fee_rate=fee + extra))
    for method, rate in low.annual_rates.items():
        assert high.annual_rates[method] >= rate
