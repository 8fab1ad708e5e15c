"""Exact mapping between :class:`bnpl.Money` and Stripe's ``amount`` integers.

Stripe's minor unit is not always ISO 4217's (docs.stripe.com/currencies):

* zero-decimal currencies (``amount=500`` is ¥500): BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF
  XPF. ISO gives MGA two decimals, so an MGA amount must be a whole ariary to be sent;
* ISK is zero-decimal in ISO but a two-decimal currency in Stripe's API whose amounts must be multiples of 100;
* three-decimal currencies (BHD JOD KWD OMR TND) must end in 0 for Stripe's payment partners.

Anything that cannot be sent exactly raises :class:`~bnpl_stripe.errors.AmountError`; nothing is rounded.
"""

from __future__ import annotations

from typing import Final

from bnpl.money import Currency, Money
from bnpl_stripe.errors import AmountError

__all__ = ["STRIPE_ZERO_DECIMAL", "from_stripe_amount", "stripe_exponent", "to_stripe_amount"]

STRIPE_ZERO_DECIMAL: Final = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
_TWO_DECIMAL_WHOLE_ONLY: Final = frozenset({"ISK"})  # sent ×100, fractional units refused by Stripe
_THREE_DECIMAL: Final = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})


def stripe_exponent(currency: Currency | str) -> int:
    """How many decimals Stripe's ``amount`` has for ``currency`` (JPY 0, USD 2, ISK 2, KWD 3)."""
    cur = Currency.of(currency)
    if cur.code in STRIPE_ZERO_DECIMAL:
        return 0
    if cur.code in _TWO_DECIMAL_WHOLE_ONLY:
        return 2
    return cur.exponent


def to_stripe_amount(money: Money) -> tuple[int, str]:
    """``(amount, currency)`` for Stripe's API: the integer Stripe expects and the lowercase code."""
    if not isinstance(money, Money):
        raise AmountError(f"expected bnpl.Money, got {type(money).__name__}")
    cur = money.currency
    shift = stripe_exponent(cur) - cur.exponent
    if shift >= 0:
        amount = money.minor * 10**shift
    else:
        amount, rest = divmod(money.minor, 10**-shift)
        if rest:
            raise AmountError(
                f"{money} cannot be charged through Stripe: {cur.code} is zero-decimal there, use whole units"
            )
    if cur.code in _THREE_DECIMAL and amount % 10:
        raise AmountError(f"{money} cannot be charged through Stripe: {cur.code} amounts must end in 0")
    return amount, cur.code.lower()


def from_stripe_amount(amount: int, currency: str) -> Money:
    """The :class:`Money` for a Stripe ``amount`` in ``currency`` (inverse of :func:`to_stripe_amount`)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise AmountError(f"a Stripe amount is an integer, got {type(amount).__name__}")
    cur = Currency.of(currency)
    shift = stripe_exponent(cur) - cur.exponent
    if shift >= 0:
        minor, rest = divmod(amount, 10**shift)
        if rest:
            raise AmountError(f"Stripe amount {amount} {cur.code} has fractional {cur.code} units")
        return Money(minor, cur)
    return Money(amount * 10**-shift, cur)
