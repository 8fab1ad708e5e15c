"""bnpl.Money ↔ Stripe amounts: exact in both directions, refusing what Stripe cannot take (nothing rounded)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bnpl import Money
from bnpl_stripe import STRIPE_ZERO_DECIMAL, AmountError, from_stripe_amount, stripe_exponent, to_stripe_amount


@pytest.mark.parametrize(
    ("money", "expected"),
    [
        (Money(129_900, "CNY"), (129_900, "cny")),
        (Money(500, "JPY"), (500, "jpy")),  # ¥500 is amount=500 (zero-decimal)
        (Money(5_120, "KWD"), (5_120, "kwd")),
        (Money(7, "ISK"), (700, "isk")),  # two-decimal at Stripe, whole krónur only
        (Money(12_300, "MGA"), (123, "mga")),  # ISO says 2 decimals, Stripe 0
    ],
)
def test_known_mappings(money: Money, expected: tuple[int, str]) -> None:
    assert to_stripe_amount(money) == expected
    assert from_stripe_amount(*expected) == money


@pytest.mark.parametrize("money", [Money(5_124, "KWD"), Money(12_345, "MGA")])
def test_amounts_stripe_cannot_take_are_refused(money: Money) -> None:
    with pytest.raises(AmountError):
        to_stripe_amount(money)


def test_fractional_isk_from_stripe_is_refused() -> None:
    with pytest.raises(AmountError):
        from_stripe_amount(750, "isk")


CODES = sorted(STRIPE_ZERO_DECIMAL | {"USD", "CNY", "EUR", "ISK", "KWD", "BHD", "HUF"})


@given(st.sampled_from(CODES), st.integers(min_value=1, max_value=10**12))
def test_round_trip_is_exact(code: str, minor: int) -> None:
    money = Money(minor, code)
    try:
        amount, currency = to_stripe_amount(money)
    except AmountError:
        # only the documented special cases can refuse
        assert code in {"MGA", "KWD", "BHD"}
        return
    assert currency == code.lower()
    assert from_stripe_amount(amount, currency) == money
    assert amount == minor * 10 ** (stripe_exponent(code) - money.currency.exponent) or code == "MGA"


def test_saga_refuses_float_and_mixed_currencies() -> None:
    from bnpl_stripe.saga import DownPaymentSaga

    with pytest.raises(AmountError):
        DownPaymentSaga._check_amounts(Money(1000, "CNY"), Money(100, "JPY"))
    with pytest.raises(AmountError):
        DownPaymentSaga._check_amounts(Money(1000, "CNY"), Money(1000, "CNY"))
    with pytest.raises(AmountError):
        DownPaymentSaga._check_amounts(Money(1000, "CNY"), 10.5)  # type: ignore[arg-type]
    assert DownPaymentSaga._check_amounts(Money(1000, "CNY"), Money(1, "CNY")) == Money(999, "CNY")
