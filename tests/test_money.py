"""bnpl.money: exact parsing, same-currency arithmetic, exact splits, formatting."""

from __future__ import annotations

import decimal
import pickle
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bnpl.money import (
    Currency,
    CurrencyMismatchError,
    FloatAmountError,
    InvalidAmountError,
    Money,
    MoneyError,
    PrecisionError,
    UnknownCurrencyError,
    total,
)

CODES = ["CNY", "JPY", "KWD", "USD", "EUR", "CLF", "BHD"]


def test_exponents_come_from_iso_4217() -> None:
    assert Currency.of("CNY").exponent == 2
    assert Currency.of("jpy").exponent == 0
    assert Currency.of("KWD").exponent == 3
    assert Currency.of("CLF").exponent == 4
    assert Currency.of("CNY").name == "Yuan Renminbi"


@pytest.mark.parametrize("code", ["XAU", "XXX", "ABC", "", "CN"])
def test_unknown_or_unitless_currencies_are_refused(code: str) -> None:
    with pytest.raises(UnknownCurrencyError, match="ISO 4217"):
        Currency.of(code)


@pytest.mark.parametrize(
    ("amount", "code", "minor"),
    [
        ("1299", "CNY", 129900),
        ("1299.5", "CNY", 129950),
        (" 12.34 ", "USD", 1234),
        (Decimal("1.005"), "KWD", 1005),
        (1299, "JPY", 1299),
        ("-0.01", "EUR", -1),
        ("1_000.00", "CNY", 100000),
    ],
)
def test_of_parses_major_units_exactly(amount: str | Decimal | int, code: str, minor: int) -> None:
    assert Money.of(amount, code).minor == minor


def test_floats_are_refused_with_a_way_out() -> None:
    with pytest.raises(FloatAmountError, match="string"):
        Money.of(12.99, "CNY")  # type: ignore[arg-type]
    with pytest.raises(FloatAmountError):
        Money(12.0, "CNY")  # type: ignore[arg-type]
    with pytest.raises(FloatAmountError):
        Money.of("1", "CNY") * 1.5  # type: ignore[operator]


@pytest.mark.parametrize("bad", ["abc", "1,299.00", "NaN", "Infinity", "", "1e"])
def test_unreadable_amounts(bad: str) -> None:
    with pytest.raises(InvalidAmountError):
        Money.of(bad, "CNY")


def test_excess_precision_needs_an_explicit_rounding() -> None:
    with pytest.raises(PrecisionError, match="rounding="):
        Money.of("1.005", "CNY")
    with pytest.raises(PrecisionError):
        Money.of("1.5", "JPY")
    assert Money.of("1.005", "CNY", rounding=decimal.ROUND_HALF_UP).minor == 101
    assert Money.of("1.005", "CNY", rounding=decimal.ROUND_HALF_EVEN).minor == 100


def test_bool_is_not_an_amount() -> None:
    with pytest.raises(InvalidAmountError):
        Money(True, "CNY")


def test_arithmetic_within_one_currency() -> None:
    a, b = Money.of("10.10", "CNY"), Money.of("0.95", "CNY")
    assert a + b == Money.of("11.05", "CNY")
    assert a - b == Money.of("9.15", "CNY")
    assert -a == Money.of("-10.10", "CNY")
    assert a * 3 == 3 * a == Money.of("30.30", "CNY")
    assert b < a
    assert a >= b
    with pytest.raises(CurrencyMismatchError, match="CNY and USD"):
        _ = a + Money.of("1", "USD")
    with pytest.raises(CurrencyMismatchError):
        _ = a < Money.of("1", "USD")


def test_multiply_by_a_rate_rounds_explicitly() -> None:
    principal = Money.of("12999.00", "CNY")
    assert principal.multiply(Decimal("0.006")) == Money.of("77.99", "CNY")  # 77.994 → 77.99
    assert Money(5, "CNY").multiply(Fraction(1, 2)) == Money(3, "CNY")  # half up
    assert Money(5, "CNY").multiply(Fraction(1, 2), rounding=decimal.ROUND_HALF_EVEN) == Money(2, "CNY")


def test_immutable_hashable_picklable() -> None:
    m = Money.of("1299", "CNY")
    with pytest.raises(AttributeError):
        m._minor = 1  # type: ignore[misc]
    assert {m: 1}[Money(129900, "CNY")] == 1
    assert pickle.loads(pickle.dumps(m)) == m
    assert repr(m) == "Money('1299.00', 'CNY')"
    assert str(Money.of("5", "KWD")) == "5.000 KWD"


def test_split_places_the_remainder_explicitly() -> None:
    hundred = Money.of("100", "CNY")
    assert [p.minor for p in hundred.split(3)] == [3334, 3333, 3333]
    assert [p.minor for p in hundred.split(3, remainder="last")] == [3333, 3333, 3334]
    assert [p.minor for p in Money.of("-100", "CNY").split(3)] == [-3334, -3333, -3333]
    with pytest.raises(MoneyError):
        hundred.split(0)


def test_allocate_by_weights() -> None:
    parts = Money.of("100", "CNY").allocate([1, 1, 1])
    assert [p.minor for p in parts] == [3334, 3333, 3333]
    assert [p.minor for p in Money(10, "CNY").allocate([Decimal("0.7"), Decimal("0.3")])] == [7, 3]
    assert [p.minor for p in Money(1, "CNY").allocate([0, 1, 0])] == [0, 1, 0]
    # largest fraction: 7 × (1/6, 2/6, 3/6) = 1.1667, 2.333, 3.5 → floors 1, 2, 3; leftover 1 goes to 3.5
    assert [p.minor for p in Money(7, "CNY").allocate([1, 2, 3])] == [1, 2, 4]
    with pytest.raises(MoneyError):
        Money(1, "CNY").allocate([0, 0])
    with pytest.raises(MoneyError):
        Money(1, "CNY").allocate([-1, 2])
    with pytest.raises(FloatAmountError):
        Money(1, "CNY").allocate([0.5, 0.5])  # type: ignore[list-item]


@given(
    minor=st.integers(min_value=-(10**15), max_value=10**15),
    code=st.sampled_from(CODES),
    parts=st.integers(min_value=1, max_value=60),
    remainder=st.sampled_from(["first", "last", "largest_fraction"]),
)
def test_split_always_sums_and_is_even(minor: int, code: str, parts: int, remainder: str) -> None:
    pieces = Money(minor, code).split(parts, remainder=remainder)  # type: ignore[arg-type]
    assert sum(p.minor for p in pieces) == minor
    assert max(p.minor for p in pieces) - min(p.minor for p in pieces) <= 1
    assert all(p.currency.code == code for p in pieces)


@given(
    minor=st.integers(min_value=-(10**12), max_value=10**12),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30).filter(any),
    remainder=st.sampled_from(["first", "last", "largest_fraction"]),
)
def test_allocate_always_sums_and_stays_within_one_unit_of_exact(
    minor: int, weights: list[int], remainder: str
) -> None:
    pieces = Money(minor, "CNY").allocate(weights, remainder=remainder)  # type: ignore[arg-type]
    assert sum(p.minor for p in pieces) == minor
    whole = sum(weights)
    for piece, weight in zip(pieces, weights, strict=True):
        exact = Fraction(minor * weight, whole)
        assert abs(piece.minor - exact) < 1
        if weight == 0:
            assert piece.minor == 0


@given(minor=st.integers(min_value=-(10**15), max_value=10**15), code=st.sampled_from(CODES))
def test_decimal_string_round_trips(minor: int, code: str) -> None:
    m = Money(minor, code)
    assert Money.of(m.to_decimal_string(), code) == m
    assert Money.of(m.amount, code) == m


@pytest.mark.parametrize(
    ("amount", "code", "locale", "shown"),
    [
        ("1299", "CNY", "zh_CN", "¥1,299.00"),
        ("1299", "EUR", "de_DE", "1.299,00\xa0€"),
        ("1299", "JPY", "ja_JP", "￥1,299"),
        ("1299.5", "KWD", "en_US", "KWD1,299.500"),
        ("86.58", "CNY", "en_US", "CN¥86.58"),
    ],
)
def test_locale_aware_formatting(amount: str, code: str, locale: str, shown: str) -> None:
    assert Money.of(amount, code).format(locale) == shown


def test_formatting_keeps_the_iso_exponent_where_cldr_differs() -> None:
    # CLDR displays IDR without decimals; ISO 4217 says 2, and we show exactly what is charged.
    assert Money.of("1299.50", "IDR").format("id_ID") == "Rp1.299,50"


def test_unknown_locale() -> None:
    with pytest.raises(MoneyError, match="locale"):
        Money.of("1", "CNY").format("xx_NOPE")


def test_total() -> None:
    assert total([Money(1, "CNY"), Money(2, "CNY")]) == Money(3, "CNY")
    assert total([], "CNY") == Money(0, "CNY")
    with pytest.raises(MoneyError):
        total([])
