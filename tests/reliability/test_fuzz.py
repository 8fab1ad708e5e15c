"""The fuzz targets under hypothesis (every CI run; atheris runs the same targets by hand, see fuzz_targets.py)."""

from __future__ import annotations

from fuzz_targets import CURRENCIES, money_target, webhook_target
from hypothesis import given, settings
from hypothesis import strategies as st


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2048))
def test_webhook_verification_fuzz(data: bytes) -> None:
    webhook_target(data)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=64) | st.text(max_size=40).map(lambda s: b"\x02" + s.encode()))
def test_money_parsing_fuzz(data: bytes) -> None:
    money_target(data)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["CNY", "JPY", "KWD"]), st.integers(min_value=-(10**30), max_value=10**30), st.integers(0, 5))
def test_money_of_decimal_strings(currency: str, units: int, places: int) -> None:
    text = f"{units}e-{places}"
    money_target(bytes([fuzz_currency_index(currency)]) + text.encode())


def fuzz_currency_index(code: str) -> int:
    """The first byte that makes money_target use ``code``."""
    return CURRENCIES.index(code)


def test_money_of_keeps_every_digit() -> None:
    """Regression (found by the fuzzer): 28+ significant digits were rounded silently."""
    money_target(bytes([CURRENCIES.index("KWD")]) + b"123456789012345678901234567.891")
    money_target(bytes([CURRENCIES.index("CNY")]) + b"5" * 42)
