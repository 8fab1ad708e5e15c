"""The sandbox risk model: scorecard properties, bands, plans within the 24 % cap, and every decline reason."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bnpl.models.customers import AlternativeData, CustomerInfo
from bnpl.money import Currency, Money
from bnpl.plans import Plan
from bnpl.sandbox.risk import (
    BANDS,
    CUTOFF,
    DECLINE_REASONS,
    DISALLOWED_CATEGORIES,
    RATE_CAP_PERCENT,
    CustomerHistory,
    Decision,
    PlanOffer,
    RiskInputError,
    apply_rate_cut,
    band_for,
    band_offers,
    customer_score,
    decide,
)

NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
START = date(2025, 1, 31)  # a month end: clamped due dates are the hardest schedules
ALT_FIELDS = tuple(AlternativeData.model_fields)
CATEGORIES = ("flight", "hotel", "train", "car_rental", "package", "goods", "service", None)


def cny(major: str) -> Money:
    return Money.of(major, "CNY")


def thin_file(reference: str = "cus-thin") -> CustomerInfo:
    return CustomerInfo(reference=reference)


def strong(reference: str = "cus-strong") -> CustomerInfo:
    return CustomerInfo(
        reference=reference,
        phone="+8613912345678",
        email="strong@example.com",
        national_id_hash="a" * 64,
        alternative_data=AlternativeData(
            social_insurance_months=48, payroll_months=36, utility_payment_months=24, rent_payment_months=24
        ),
    )


def run(
    customer: CustomerInfo,
    amount: Money,
    *,
    category: str | None = "goods",
    history: CustomerHistory | None = None,
) -> Decision:
    return decide(customer, amount, category=category, history=history or CustomerHistory(), now=NOW)


# --- strategies ----------------------------------------------------------------------------------------------

months = st.one_of(st.none(), st.integers(min_value=0, max_value=1200))
alt_data = st.fixed_dictionaries(dict.fromkeys(ALT_FIELDS, months))


@st.composite
def customers(draw: st.DrawFn) -> CustomerInfo:
    # example.com and +86139… never match a persona, so these customers are decided by the scorecard.
    return CustomerInfo(
        reference=draw(st.from_regex(r"[A-Za-z0-9_.:-]{1,20}", fullmatch=True)),
        phone=draw(st.none() | st.from_regex(r"\+86139[0-9]{8}", fullmatch=True)),
        email=draw(st.none() | st.just("someone@example.com")),
        national_id_hash=draw(st.none() | st.just("0f" * 32)),
        alternative_data=AlternativeData(**draw(alt_data)),
    )


histories = st.builds(
    CustomerHistory,
    orders_count=st.integers(0, 50),
    paid_off_count=st.integers(0, 50),
    overdue_count=st.integers(0, 10),
    outstanding_minor=st.integers(0, 6_000_000),
    credit_limit_minor=st.none(),
    frozen=st.just(False),
)
amounts_cny = st.integers(min_value=1, max_value=6_000_000).map(lambda m: Money(m, "CNY"))
categories = st.sampled_from(CATEGORIES)


def with_alt(customer: CustomerInfo, **changes: int | None) -> CustomerInfo:
    alt: dict[str, Any] = customer.alternative_data.model_dump() if customer.alternative_data else {}
    return customer.model_copy(update={"alternative_data": AlternativeData(**{**alt, **changes})})


# --- scorecard properties ------------------------------------------------------------------------------------


@given(customers(), histories, st.sampled_from(ALT_FIELDS), st.integers(1, 600), amounts_cny, categories)
def test_more_alternative_data_never_lowers_the_score(
    customer: CustomerInfo,
    history: CustomerHistory,
    field: str,
    extra: int,
    amount: Money,
    category: str | None,
) -> None:
    current = getattr(customer.alternative_data, field) or 0
    richer = with_alt(customer, **{field: min(current + extra, 1200)})
    assert customer_score(richer, history) >= customer_score(customer, history)
    before, after = (
        run(customer, amount, category=category, history=history),
        run(richer, amount, category=category, history=history),
    )
    assert after.score >= before.score
    assert after.credit_limit >= before.credit_limit


@given(customers(), histories, st.integers(1, 5), amounts_cny, categories)
def test_more_overdue_history_never_raises_the_score(
    customer: CustomerInfo, history: CustomerHistory, extra: int, amount: Money, category: str | None
) -> None:
    worse = CustomerHistory(
        orders_count=history.orders_count,
        paid_off_count=history.paid_off_count,
        overdue_count=history.overdue_count + extra,
        outstanding_minor=history.outstanding_minor,
    )
    assert customer_score(customer, worse) < customer_score(customer, history)
    assert (
        run(customer, amount, category=category, history=worse).score
        <= run(customer, amount, category=category, history=history).score
    )


@given(customers(), histories, st.integers(1, 5))
def test_paid_off_orders_never_lower_the_score(customer: CustomerInfo, history: CustomerHistory, extra: int) -> None:
    better = CustomerHistory(
        orders_count=history.orders_count + extra,
        paid_off_count=history.paid_off_count + extra,
        overdue_count=history.overdue_count,
    )
    assert customer_score(customer, better) >= customer_score(customer, history)


@given(customers(), customers(), histories, histories, amounts_cny, categories)
def test_credit_limit_is_monotone_in_the_score(
    a: CustomerInfo, b: CustomerInfo, ha: CustomerHistory, hb: CustomerHistory, amount: Money, category: str | None
) -> None:
    da = run(a, amount, category=category, history=ha)
    db = run(b, amount, category=category, history=hb)
    if da.score < db.score:
        da, db = db, da
    assert da.credit_limit >= db.credit_limit
    assert da.max_order_amount >= db.max_order_amount


def test_band_table_is_monotone_better_bands_get_more_periods_and_lower_prices() -> None:
    for worse, better in itertools.pairwise(BANDS):
        assert better.min_score > worse.min_score
        assert better.credit_limit_major > worse.credit_limit_major
        assert better.max_order_major > worse.max_order_major
        assert better.min_order_major <= worse.min_order_major
        assert better.short_term_max_major >= worse.short_term_max_major
        assert max(o.periods or 0 for o in better.offers) >= max(o.periods or 0 for o in worse.offers)
        for method, attr in (("flat_fee", "fee_rate"), ("annuity", "annual_interest_rate")):
            prices = [getattr(o, attr) for o in worse.offers if o.method == method]
            if prices:  # a better band never charges more for a method the worse band offers
                assert all(getattr(o, attr) <= min(prices) for o in better.offers if o.method == method)
        for band in (worse, better):
            assert band.min_order_major <= band.max_order_major <= band.credit_limit_major
    assert band_for(-(10**6)) is BANDS[0]
    assert band_for(10**6) is BANDS[-1]
    assert {o.periods for o in BANDS[-1].offers if o.product == "monthly"} >= {24, 36}
    assert all((o.periods or 0) <= 12 for b in BANDS[:-1] for o in b.offers)


@given(customers(), histories, amounts_cny, categories)
def test_decide_is_deterministic_and_spread_is_small(
    customer: CustomerInfo, history: CustomerHistory, amount: Money, category: str | None
) -> None:
    assert run(customer, amount, category=category, history=history) == run(
        customer, amount, category=category, history=history
    )
    bare = CustomerInfo(reference=customer.reference)
    assert abs(customer_score(bare) - 600) <= 10


# --- approve ⇔ within range ----------------------------------------------------------------------------------


@given(customers(), histories, amounts_cny, categories)
def test_approved_exactly_when_the_amount_is_in_range_and_within_credit(
    customer: CustomerInfo, history: CustomerHistory, amount: Money, category: str | None
) -> None:
    d = run(customer, amount, category=category, history=history)
    in_range = d.min_order_amount <= amount <= d.max_order_amount and amount <= d.available_credit
    if d.score >= CUTOFF:
        assert d.approved == in_range
    else:
        assert not d.approved
        assert d.decline_reason == "score_below_cutoff"
    assert d.available_credit == Money(max(0, d.credit_limit.minor - history.outstanding_minor), "CNY")
    assert d.min_order_amount <= d.max_order_amount
    if d.approved:
        assert d.decline_reason is None
        assert d.plans
        assert any(o.product == "monthly" for o in d.plans)
        band = band_for(customer_score(customer, history))
        short_term_ok = amount.minor <= band.short_term_max_major * 100
        assert any(o.product == "pay_in_4" for o in d.plans) == short_term_ok
    else:
        assert d.decline_reason in DECLINE_REASONS
        assert d.plans == []
        assert d.reasons[-1].startswith("declined:")


# --- plans within the cap ------------------------------------------------------------------------------------


def _check_plan(plan: Plan, offer: PlanOffer, price: Money) -> None:
    for method, rate in plan.annual_rates.items():
        assert rate <= RATE_CAP_PERCENT, (offer.label, method, rate, price)
    assert len(plan.instalments) == (offer.periods or 1)
    assert sum(i.principal.minor for i in plan.instalments) == plan.amount_financed.minor == price.minor
    for inst in plan.instalments:
        assert inst.amount == inst.principal + inst.interest + inst.fee
    dates = [i.due_date for i in plan.instalments]
    assert dates == sorted(dates)
    assert dates[0] >= START
    assert len(set(dates)) == len(dates)
    assert plan.instalments[-1].balance.is_zero()


@pytest.mark.parametrize("currency", ["CNY", "JPY", "KWD", "USD"])
@pytest.mark.parametrize("discount", [Decimal(0), Decimal(20), Decimal("33.3")])
def test_every_offer_of_every_band_is_within_the_cap_and_builds_a_valid_schedule(
    currency: str, discount: Decimal
) -> None:
    scale = Currency.of(currency).minor_per_major
    for band in BANDS:
        offers = band_offers(band, discount)
        assert len(offers) == len(band.offers)
        for amount_major in (band.max_order_major, band.min_order_major, band.short_term_max_major):
            price = Money(amount_major * scale, currency)
            for offer in offers:
                if offer.product != "monthly" and amount_major > band.short_term_max_major:
                    continue  # short-term plans are never offered above the band's short-term maximum
                _check_plan(offer.build(price, start=START), offer, price)


def test_band_offers_validates_its_inputs() -> None:
    assert band_offers("A") == BANDS[-1].offers
    with pytest.raises(RiskInputError, match="unknown band"):
        band_offers("Z")
    with pytest.raises(RiskInputError, match="rate_discount_percent"):
        band_offers("A", Decimal(100))


# Amounts within every band's range and clean histories, so that nearly every example is approved.
approvable_amounts = st.integers(min_value=5_000, max_value=100_000).map(lambda m: Money(m, "CNY"))
clean_histories = st.builds(
    CustomerHistory,
    orders_count=st.integers(0, 20),
    paid_off_count=st.integers(0, 20),
    rate_discount_percent=st.sampled_from([Decimal(0), Decimal(20), Decimal("12.5")]),
)


@given(customers(), clean_histories, approvable_amounts, categories, st.integers(0, 100))
def test_every_offered_plan_on_the_max_order_amount_is_within_the_cap(
    customer: CustomerInfo, history: CustomerHistory, amount: Money, category: str | None, subsidy: int
) -> None:
    d = run(customer, amount, category=category, history=history)
    assume(d.approved)
    for price in (amount, d.max_order_amount):
        for offer in d.plans:
            if offer.product != "monthly" and price != amount:
                continue  # short-term plans are offered for this amount only
            plan = offer.build(price, start=START, subsidy=Decimal(subsidy))
            for rate in plan.annual_rates.values():
                assert rate <= RATE_CAP_PERCENT


def test_offer_pricing_and_build() -> None:
    offer = next(o for o in BANDS[1].offers if o.method == "flat_fee" and o.periods == 12)
    pricing = offer.pricing(Decimal(50))
    assert (pricing.fee_rate, pricing.annual_interest_rate, pricing.merchant_subsidy) == (
        Decimal("0.7"),
        Decimal(0),
        Decimal(50),
    )
    plan = offer.build(cny("1200"), start=START, subsidy=Decimal(100))
    assert plan.total_cost_of_credit.is_zero()
    assert plan.merchant_subsidy == cny("100.80")  # 1200 × 0.7 % × 12, paid by the merchant
    assert "12期" in offer.label


@pytest.mark.parametrize(
    ("rate", "percent", "expected"),
    [("15", "20", "12"), ("0.75", "20", "0.6"), ("9.9", "33", "6.633"), ("0", "20", "0"), ("0.0001", "50", "0")],
)
def test_apply_rate_cut(rate: str, percent: str, expected: str) -> None:
    result = apply_rate_cut(Decimal(rate), Decimal(percent))
    assert result == Decimal(expected)
    assert "E" not in str(result)  # rates go on the wire as plain decimal strings


# --- the model in examples -----------------------------------------------------------------------------------


def test_thin_file_customer_gets_small_affordable_credit() -> None:
    d = run(thin_file(), cny("300"), category="goods")
    assert d.approved, d.reasons
    assert d.band == "E"
    assert d.credit_limit == cny("1000")
    assert d.min_order_amount == cny("50")
    assert {o.product for o in d.plans} == {"pay_in_4", "pay_in_30", "monthly"}
    assert max(o.periods or 0 for o in d.plans) == 6


def test_alternative_data_and_history_earn_better_bands() -> None:
    d = run(strong(), cny("3000"), category="flight")
    assert d.band == "B", d.reasons
    assert d.credit_limit == cny("20000")
    loyal = run(strong(), cny("3000"), category="flight", history=CustomerHistory(orders_count=6, paid_off_count=6))
    assert loyal.band == "A", loyal.reasons
    assert loyal.credit_limit == cny("50000")
    assert {24, 36} <= {o.periods for o in loyal.plans}


def test_travel_scores_higher_than_goods_and_unknown_categories_lower() -> None:
    scores = {c: run(thin_file(), cny("100"), category=c).score for c in ("flight", "goods", "service", "toys")}
    assert scores["flight"] == scores["goods"] + 20
    assert scores["service"] == scores["goods"] - 5
    assert scores["toys"] == scores["goods"] - 10


def test_amount_close_to_the_limit_lowers_the_order_score() -> None:
    small, large = run(thin_file(), cny("100")), run(thin_file(), cny("1000"))
    assert small.score - large.score == 35  # +20 at a quarter of the limit or less, -15 above 80 %
    assert small.credit_limit == large.credit_limit


def test_amounts_scale_with_the_currency_exponent() -> None:
    for code, minor in (("JPY", 1_000), ("CNY", 100_000), ("KWD", 1_000_000)):
        d = run(thin_file(), Money(minor // 10, code))
        assert d.credit_limit == Money(minor, code)
        assert d.available_credit.currency.code == code
        assert d.approved


def test_assigned_limit_and_outstanding_balance_are_used() -> None:
    history = CustomerHistory(orders_count=2, outstanding_minor=70_000, credit_limit_minor=100_000)
    d = run(thin_file(), cny("300"), history=history)
    assert d.approved
    assert d.credit_limit == cny("1000")
    assert d.available_credit == cny("300")
    assert run(thin_file(), cny("300.01"), history=history).decline_reason == "insufficient_credit"


# --- every decline reason ------------------------------------------------------------------------------------


def test_decline_credit_frozen_wins_over_everything() -> None:
    frozen = CustomerHistory(frozen=True)
    d = run(CustomerInfo(reference="r", email="decline@bnpl.test"), cny("100"), category="gift_card", history=frozen)
    assert d.decline_reason == "credit_frozen"
    assert d.available_credit == cny("0")
    assert d.credit_limit == cny("1000")  # the line is still reported; it is only unusable


def test_decline_persona_always_declines() -> None:
    d = run(CustomerInfo(reference="r", email="decline@bnpl.test"), cny("100"))
    assert d.decline_reason == "persona_always_declines"


@pytest.mark.parametrize("category", sorted(DISALLOWED_CATEGORIES))
def test_decline_category_not_allowed(category: str) -> None:
    d = run(strong(), cny("100"), category=category)
    assert d.decline_reason == "category_not_allowed"
    # Even a persona that always approves cannot finance cash-like goods.
    assert run(
        CustomerInfo(reference="r", email="approve@bnpl.test"), cny("100"), category=category
    ).decline_reason == ("category_not_allowed")


def test_decline_score_below_cutoff() -> None:
    d = run(thin_file(), cny("100"), category="flight", history=CustomerHistory(orders_count=3, overdue_count=2))
    assert d.score < CUTOFF
    assert d.decline_reason == "score_below_cutoff"
    assert d.plans == []


def test_decline_amount_below_minimum_and_above_maximum() -> None:
    assert run(thin_file(), cny("49.99")).decline_reason == "amount_below_minimum"
    assert run(thin_file(), cny("50")).approved
    assert run(thin_file(), cny("1000")).approved
    assert run(thin_file(), cny("1000.01")).decline_reason == "amount_above_maximum"


def test_decline_insufficient_credit() -> None:
    history = CustomerHistory(orders_count=1, outstanding_minor=95_000)
    d = run(thin_file(), cny("60"), category="flight", history=history)
    assert d.decline_reason == "insufficient_credit"
    assert d.available_credit == cny("50")


def test_every_decline_reason_is_covered_by_a_test_above() -> None:
    assert set(DECLINE_REASONS) == {
        "credit_frozen",
        "persona_always_declines",
        "category_not_allowed",
        "score_below_cutoff",
        "amount_below_minimum",
        "amount_above_maximum",
        "insufficient_credit",
    }


# --- input validation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"customer": {"reference": "r"}}, "customer must be a CustomerInfo"),
        ({"amount": 100}, "amount must be Money"),
        ({"amount": Money(0, "CNY")}, "amount must be positive"),
        ({"amount": Money(-5, "CNY")}, "amount must be positive"),
        ({"category": 3}, "category must be a str"),
        ({"history": {"orders_count": 1}}, "history must be a CustomerHistory"),
        ({"now": datetime(2025, 1, 1)}, "timezone-aware"),
        ({"now": date(2025, 1, 1)}, "timezone-aware"),
    ],
)
def test_decide_validates_its_inputs(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {
        "customer": thin_file(),
        "amount": cny("100"),
        "category": None,
        "history": CustomerHistory(),
        "now": NOW,
    }
    args.update(kwargs)
    with pytest.raises(RiskInputError, match=message):
        decide(args.pop("customer"), args.pop("amount"), **args)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"orders_count": -1}, "history.orders_count"),
        ({"overdue_count": True}, "history.overdue_count"),
        ({"outstanding_minor": 1.5}, "history.outstanding_minor"),
        ({"credit_limit_minor": -1}, "history.credit_limit_minor"),
        ({"frozen": 1}, "history.frozen"),
        ({"rate_discount_percent": 20}, "rate_discount_percent"),
        ({"rate_discount_percent": Decimal(100)}, "rate_discount_percent"),
        ({"rate_discount_percent": Decimal("NaN")}, "rate_discount_percent"),
    ],
)
def test_history_validates_its_fields(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(RiskInputError, match=message):
        CustomerHistory(**kwargs)


def test_customer_score_validates_its_inputs() -> None:
    with pytest.raises(RiskInputError, match="CustomerInfo"):
        customer_score("cus_1")  # type: ignore[arg-type]
    with pytest.raises(RiskInputError, match="CustomerHistory"):
        customer_score(thin_file(), {"orders_count": 1})  # type: ignore[arg-type]
