"""Annual-rate disclosures: regulator worked examples, properties and validation."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bnpl.plans._unit_period import shift_months
from bnpl.plans.annual_rate import AnnualRateError, AnnualRateMethod, annual_rate

D = Decimal


def monthly(first: date, n: int, every: int = 1) -> list[date]:
    return [shift_months(first, -every * i, first.day) for i in range(n)]


def weekly(first: date, n: int, every: int = 1) -> list[date]:
    return [first + timedelta(days=7 * every * i) for i in range(n)]


def semimonthly_1st_16th(year: int, month: int, n: int) -> list[date]:
    out: list[date] = []
    while len(out) < n:
        out.append(date(year, month, 1))
        if len(out) < n:
            out.append(date(year, month, 16))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def flows(dates: list[date], amount: str) -> list[tuple[date, Decimal]]:
    return [(d, D(amount)) for d in dates]


# 12 CFR 1026 Appendix J (c), examples for the actuarial method: (advance, advance date, payments, APR).
# Inputs and published APRs as printed in the appendix (dates there are written m-d-78).
APPENDIX_J = {
    "(c)(1)(i) monthly, regular first period": (
        "5000",
        date(1978, 1, 10),
        flows(monthly(date(1978, 2, 10), 24), "230"),
        "9.69",
    ),
    "(c)(1)(ii) monthly, long first period": (
        "6000",
        date(1978, 2, 10),
        flows(monthly(date(1978, 4, 1), 36), "200"),
        "11.82",
    ),
    "(c)(1)(iii) semimonthly, short first period": (
        "5000",
        date(1978, 2, 23),
        flows(semimonthly_1st_16th(1978, 3, 24), "219.17"),
        "10.34",
    ),
    "(c)(1)(iv) quarterly, long first period": (
        "10000",
        date(1978, 5, 23),
        flows(monthly(date(1978, 10, 1), 40, every=3), "385"),
        "8.97",
    ),
    "(c)(1)(v) weekly, long first period": (
        "500",
        date(1978, 3, 20),
        flows(weekly(date(1978, 4, 21), 30), "17.60"),
        "14.96",
    ),
    "(c)(2)(i) monthly, irregular first payment": (
        "5000",
        date(1978, 1, 10),
        [(date(1978, 2, 10), D("250")), *flows(monthly(date(1978, 3, 10), 23), "230")],
        "10.08",
    ),
    "(c)(2)(ii) every 4 weeks, long first period, irregular first payment": (
        "400",
        date(1978, 3, 18),
        [(date(1978, 4, 20), D("39.50")), *flows(weekly(date(1978, 5, 18), 11, every=4), "38.31")],
        "28.50",
    ),
    "(c)(3)(i) monthly, irregular final payment": (
        "5000",
        date(1978, 1, 10),
        [*flows(monthly(date(1978, 2, 10), 23), "230"), (date(1980, 1, 10), D("280"))],
        "10.50",
    ),
    "(c)(3)(ii) every 2 weeks, short first period, irregular final payment": (
        "200",
        date(1978, 4, 3),
        [*flows(weekly(date(1978, 4, 11), 19, every=2), "9.50"), (date(1978, 4, 11) + timedelta(days=266), D(30))],
        "12.22",
    ),
    "(c)(4)(i) monthly, irregular first and final payments": (
        "5000",
        date(1978, 1, 10),
        [
            (date(1978, 2, 10), D("250")),
            *flows(monthly(date(1978, 3, 10), 22), "230"),
            (date(1980, 1, 10), D("280")),
        ],
        "10.90",
    ),
    "(c)(4)(ii) every 2 months, short first period, irregular first and final payments": (
        "8000",
        date(1978, 1, 10),
        [
            (date(1978, 3, 1), D("449.36")),
            *flows(monthly(date(1978, 5, 1), 18, every=2), "465"),
            (date(1981, 5, 1), D("200")),
        ],
        "7.30",
    ),
    "(c)(5)(i) single advance, single payment, term under a year in days": (
        "1000",
        date(1978, 1, 3),
        [(date(1978, 9, 15), D("1080"))],
        "11.45",
    ),
}


@pytest.mark.parametrize("name", list(APPENDIX_J))
def test_reg_z_appendix_j_examples(name: str) -> None:
    advance, advanced_on, payments, apr = APPENDIX_J[name]
    rate = annual_rate([(advanced_on, D(advance))], payments, method="us_reg_z")
    assert rate.quantize(D("0.01")) == D(apr)


def test_reg_z_unit_period_override_changes_the_result() -> None:
    advance, advanced_on, payments, _ = APPENDIX_J["(c)(1)(ii) monthly, long first period"]
    inferred = annual_rate([(advanced_on, D(advance))], payments, method="us_reg_z")
    explicit = annual_rate([(advanced_on, D(advance))], payments, method="us_reg_z", unit_period="month")
    by_days = annual_rate([(advanced_on, D(advance))], payments, method="us_reg_z", unit_period="day")
    assert inferred == explicit
    assert by_days.quantize(D("0.01")) != D("11.82")


def test_reg_z_multiple_advances_general_equation() -> None:
    # Two advances of 500 repaid by 12 monthly payments: equals the single-advance rate only when the
    # second advance is discounted; the rate must lie strictly above the single-advance one.
    start = date(2024, 1, 15)
    pays = flows(monthly(date(2024, 2, 15), 12), "90")
    single = annual_rate([(start, D(1000))], pays, method="us_reg_z")
    split = annual_rate([(start, D(500)), (date(2024, 2, 15), D(500))], pays, method="us_reg_z")
    assert split > single
    # Balance check by hand at the unit-period rate: advance 2 is one whole month after advance 1.
    i = float(split) / 1200
    npv = 500 + 500 / (1 + i) - sum(90 / (1 + i) ** k for k in range(1, 13))
    assert abs(npv) < 1e-7


# Directive 98/7/EC Annex III, part A (calendar basis): (drawdown, repayments, APRC at 1 decimal).
EU_98_7 = {
    "first example: 1000 repaid by 1200 after 546 days": (
        D(1000),
        [(date(1995, 7, 1), D(1200))],
        "13.0",
    ),
    "second example: 50 retained for expenses": (D(950), [(date(1995, 7, 1), D(1200))], "16.9"),
    "third example: two payments of 600 after 1 and 2 years": (
        D(1000),
        [(date(1995, 1, 1), D(600)), (date(1996, 1, 1), D(600))],
        "13.1",
    ),
    "fourth example: 272 after 3 and 6 months, 544 after 12 months": (
        D(1000),
        [(date(1994, 4, 1), D(272)), (date(1994, 7, 1), D(272)), (date(1995, 1, 1), D(544))],
        "13.2",
    ),
}


@pytest.mark.parametrize("name", list(EU_98_7))
def test_eu_98_7_examples_on_the_calendar_basis(name: str) -> None:
    lent, repayments, aprc = EU_98_7[name]
    rate = annual_rate([(date(1994, 1, 1), lent)], repayments, method="eu_aprc", year_basis="calendar")
    assert rate.quantize(D("0.1")) == D(aprc)


def test_eu_periods_then_days_counts_whole_months() -> None:
    # 18 whole months = exactly 1.5 years under 2011/90/EU, so the first 98/7 example gives 12.9, not
    # 13.0: the 98/7 figure needs year_basis="calendar" (546/365 years).
    rate = annual_rate([(date(1994, 1, 1), D(1000))], [(date(1995, 7, 1), D(1200))], method="eu_aprc")
    assert rate.quantize(D("0.01")) == D("12.92")
    assert math.isclose(float(rate), (1.2 ** (1 / 1.5) - 1) * 100, rel_tol=1e-10)
    # Examples 2-4 agree at 1 decimal on both bases.
    for name in list(EU_98_7)[1:]:
        lent, repayments, aprc = EU_98_7[name]
        assert annual_rate([(date(1994, 1, 1), lent)], repayments, method="eu_aprc").quantize(D("0.1")) == D(aprc)


def test_eu_remaining_days_use_the_length_of_the_year_counted_back() -> None:
    start = date(2023, 12, 31)
    rate = annual_rate([(start, D(1000))], [(date(2024, 3, 1), D(1010))], method="eu_aprc")
    # 2 whole months back from 2024-03-01 reaches 2024-01-01 (after 2023-12-31) -> 2 months + 1 day,
    # the day lies in the year 2023-01-01..2024-01-01 (365 days).
    t = 2 / 12 + 1 / 365
    assert math.isclose(float(rate), (1.01 ** (1 / t) - 1) * 100, rel_tol=1e-9)


def test_pboc_example_from_china_context() -> None:
    # 100,000 loan, 1,000 fee up front (net 99,000), 12 monthly payments of 8,833.3.
    pays = flows(monthly(date(2021, 2, 1), 12), "8833.3")
    simple = annual_rate([(date(2021, 1, 1), D(99000))], pays, method="cn_simple")
    compound = annual_rate([(date(2021, 1, 1), D(99000))], pays, method=AnnualRateMethod.CN_COMPOUND)
    assert simple.quantize(D("0.01")) == D("12.80")
    assert compound.quantize(D("0.01")) == D("13.58")


def test_flat_fee_acceptance_example() -> None:
    # 12,999.00 principal, 0.6 %/month flat fee for 12 months: each instalment 12999/12 + 12999 x 0.006.
    instalment = (D("12999") / 12 + D("12999") * D("0.006")).quantize(D("0.01"))
    pays = flows(monthly(date(2025, 7, 15), 12), str(instalment))
    simple = annual_rate([(date(2025, 6, 15), D("12999.00"))], pays, method="cn_simple")
    compound = annual_rate([(date(2025, 6, 15), D("12999.00"))], pays, method="cn_compound")
    assert simple.quantize(D("0.01")) == D("13.03")
    assert compound.quantize(D("0.01")) == D("13.84")


def test_regular_monthly_flows_agree_across_methods() -> None:
    # Whole months, no odd days: Reg Z nominal APR == PBOC simple, EU APRC == PBOC compound.
    pays = flows(monthly(date(2021, 2, 1), 12), "8833.3")
    results = {m.value: annual_rate([(date(2021, 1, 1), D(99000))], pays, method=m) for m in AnnualRateMethod}
    assert math.isclose(float(results["us_reg_z"]), float(results["cn_simple"]), rel_tol=1e-10)
    assert math.isclose(float(results["eu_aprc"]), float(results["cn_compound"]), rel_tol=1e-10)


def test_unit_period_inference_biweekly_pay_in_4() -> None:
    # Pay-in-4 every two weeks, first instalment at purchase: 26 unit periods a year.
    start = date(2025, 3, 3)
    pays = flows(weekly(start, 4, every=2), "26")
    rate = annual_rate([(start, D(100))], pays, method="us_reg_z")
    biweekly = annual_rate([(start, D(100))], pays, method="us_reg_z", unit_period="2weeks")
    assert rate == biweekly
    i = float(rate) / 2600
    assert abs(100 - 26 - sum(26 / (1 + i) ** k for k in (1, 2, 3))) < 1e-9


def test_extreme_but_finite_rates_are_found() -> None:
    # 79 % for one day: (1.79)^365 - 1 is about 1e92, still a float; the bracketing fallback finds it.
    rate = annual_rate([(date(2000, 1, 1), D(1))], [(date(2000, 1, 2), D("1.79"))], method="eu_aprc")
    expected = math.expm1(365 * math.log(1.79)) * 100
    assert math.isclose(float(rate), expected, rel_tol=1e-9)


def test_negative_rate_when_repayments_fall_short() -> None:
    pays = flows(monthly(date(2024, 2, 1), 4), "24")
    rate = annual_rate([(date(2024, 1, 1), D(100))], pays, method="us_reg_z")
    assert rate < 0
    i = float(rate) / 1200
    assert abs(100 - sum(24 / (1 + i) ** k for k in range(1, 5))) < 1e-9


def test_zero_cost_is_exactly_zero_for_every_method() -> None:
    pays = flows(monthly(date(2024, 2, 1), 4), "25.00")
    for method in AnnualRateMethod:
        rate = annual_rate([(date(2024, 1, 1), D("100.00"))], pays, method=method)
        assert rate == 0
        assert rate.is_zero()


def test_int_amounts_and_same_day_flows_are_summed() -> None:
    split = annual_rate(
        [(date(2024, 1, 1), 60), (date(2024, 1, 1), 40)],
        [(date(2025, 1, 1), D(55)), (date(2025, 1, 1), D(55))],
        method="eu_aprc",
    )
    assert split == D(10)


# --- validation -------------------------------------------------------------------------------------

START = date(2024, 1, 1)
ONE = [(date(2024, 2, 1), D(101))]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "apr"}, "unknown method 'apr'; choose one of: us_reg_z, eu_aprc"),
        ({"method": "eu_aprc", "year_basis": "30/360"}, "unknown year_basis '30/360'; choose one of"),
        ({"method": "us_reg_z", "unit_period": "fortnightly"}, "unknown unit_period 'fortnightly'"),
        ({"method": "us_reg_z", "unit_period": 0}, "unknown unit_period 0"),
        ({"method": "eu_aprc", "unit_period": "month"}, "unit_period applies to us_reg_z"),
    ],
)
def test_unknown_options_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(AnnualRateError, match=message.replace("(", r"\(")):
        annual_rate([(START, D(100))], ONE, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("drawdowns", "repayments", "message"),
    [
        ([], ONE, "no drawdowns given"),
        ([(START, D(100))], [], "no repayments given"),
        ([(START, D(0))], ONE, "the drawdowns total zero"),
        ([(START, D(100))], [(date(2024, 2, 1), D(0))], "the repayments total zero"),
        ([(START, 100.0)], ONE, "is a float"),
        ([(START, D(100))], [(date(2024, 2, 1), 101.5)], "is a float"),
        ([(START, D(-100))], ONE, "is negative"),
        ([(START, D("NaN"))], ONE, "not a finite number"),
        ([(START, D("sNaN"))], ONE, "not a finite number"),
        ([(START, D("Infinity"))], ONE, "not a finite number"),
        ([(START, D(100)), (START, D("-1E-400"))], ONE, "is negative"),
        ([(START, True)], ONE, "must be a Decimal or int"),
        ([(START, "100")], ONE, "must be a Decimal or int"),
        ([("2024-01-01", D(100))], ONE, "must be a datetime.date"),
        ([(datetime(2024, 1, 1), D(100))], ONE, "must be a datetime.date"),
        ([(START,)], ONE, "must be a \\(date, amount\\) pair"),
        ("2024-01-01", ONE, "sequence of \\(date, amount\\) pairs"),
        ([(START, D(100))], [(date(2023, 12, 31), D(101))], "repayment dated 2023-12-31 is before the first"),
        ([(START, D(100))], [(START, D(101))], "no rate above -100 %"),
    ],
)
def test_invalid_flows_are_refused(drawdowns: object, repayments: object, message: str) -> None:
    with pytest.raises(AnnualRateError, match=message):
        annual_rate(drawdowns, repayments, method="us_reg_z")  # type: ignore[arg-type]


def test_annual_rate_error_is_a_value_error() -> None:
    assert issubclass(AnnualRateError, ValueError)


# --- properties -------------------------------------------------------------------------------------

methods = st.sampled_from([m.value for m in AnnualRateMethod])
cents = st.integers(min_value=1_00, max_value=5_000_000_00)


@st.composite
def schedules(draw: st.DrawFn) -> tuple[date, Decimal, list[tuple[date, Decimal]]]:
    start = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)))
    principal_cents = draw(cents)
    n = draw(st.integers(min_value=1, max_value=36))
    spacing = draw(st.sampled_from(["month", "2weeks", "week", "quarter"]))
    first_gap = draw(st.integers(min_value=7, max_value=45))
    first = start + timedelta(days=first_gap)
    if spacing == "month":
        dates = monthly(first, n)
    elif spacing == "quarter":
        dates = monthly(first, n, every=3)
    else:
        dates = weekly(first, n, every=2 if spacing == "2weeks" else 1)
    markup = draw(st.integers(min_value=-20, max_value=80))  # percent of principal, total cost
    total = principal_cents * (100 + markup) // 100
    base, extra = divmod(max(total, n), n)
    amounts = [base + (1 if k < extra else 0) for k in range(n)]
    return start, D(principal_cents) / 100, [(d, D(a) / 100) for d, a in zip(dates, amounts, strict=True)]


@given(schedules(), methods)
def test_zero_cost_schedule_gives_zero(schedule: tuple[date, Decimal, list[tuple[date, Decimal]]], method: str) -> None:
    start, _, pays = schedule
    total = sum((a for _, a in pays), D(0))
    assert annual_rate([(start, total)], pays, method=method) == 0


@given(schedules(), methods, st.integers(min_value=1, max_value=1000), st.data())
def test_a_fee_never_lowers_the_rate(
    schedule: tuple[date, Decimal, list[tuple[date, Decimal]]], method: str, per_mille: int, data: st.DataObject
) -> None:
    start, principal, pays = schedule
    before = annual_rate([(start, principal)], pays, method=method)
    k = data.draw(st.integers(min_value=0, max_value=len(pays) - 1))
    fee = (principal * per_mille / 10_000).quantize(D("0.01")) + D("0.01")
    with_fee = [*pays[:k], (pays[k][0], pays[k][1] + fee), *pays[k + 1 :]]
    after = annual_rate([(start, principal)], with_fee, method=method)
    assert after >= before


@given(schedules(), methods, st.integers(min_value=2, max_value=1000))
def test_scaling_all_amounts_leaves_the_rate_unchanged(
    schedule: tuple[date, Decimal, list[tuple[date, Decimal]]], method: str, factor: int
) -> None:
    start, principal, pays = schedule
    base = annual_rate([(start, principal)], pays, method=method)
    scaled = annual_rate([(start, principal * factor)], [(d, a * factor) for d, a in pays], method=method)
    assert math.isclose(float(base), float(scaled), rel_tol=1e-9, abs_tol=1e-8)


@given(schedules())
def test_compound_at_least_simple_for_positive_rates(
    schedule: tuple[date, Decimal, list[tuple[date, Decimal]]],
) -> None:
    start, principal, pays = schedule
    simple = annual_rate([(start, principal)], pays, method="cn_simple")
    compound = annual_rate([(start, principal)], pays, method="cn_compound")
    if simple > 0:
        assert compound >= simple
    # Both come from the same per-period rate r: compound = (1 + simple / k)^k - 1 for some k > 0.
    assert (compound > 0) == (simple > 0)


@given(schedules())
def test_npv_is_zero_at_the_returned_eu_calendar_rate(
    schedule: tuple[date, Decimal, list[tuple[date, Decimal]]],
) -> None:
    start, principal, pays = schedule
    rate = annual_rate([(start, principal)], pays, method="eu_aprc", year_basis="calendar")
    x = float(rate) / 100
    pv = sum(float(a) * (1 + x) ** (-(d - start).days / 365) for d, a in pays)
    assert math.isclose(pv, float(principal), rel_tol=1e-8)


@given(schedules())
def test_npv_is_zero_at_the_returned_reg_z_rate_for_whole_months(
    schedule: tuple[date, Decimal, list[tuple[date, Decimal]]],
) -> None:
    start, principal, pays = schedule
    # Re-date the schedule to whole months from the start so the hand formula is plain compounding.
    dated = [(shift_months(start, -(k + 1), start.day), a) for k, (_, a) in enumerate(pays)]
    rate = annual_rate([(start, principal)], dated, method="us_reg_z", unit_period="month")
    i = float(rate) / 1200
    pv = sum(float(a) / (1 + i) ** (k + 1) for k, (_, a) in enumerate(dated))
    assert math.isclose(pv, float(principal), rel_tol=1e-8)
