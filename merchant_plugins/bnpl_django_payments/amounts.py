"""Decimal major units (django-payments' fields) <-> integer minor units (the lender API), exactly."""

from __future__ import annotations

from decimal import Decimal

from bnpl.money import Money

__all__ = ["to_decimal", "to_minor"]


def to_minor(amount: Decimal, currency: str) -> int:
    """``Decimal("1299.00")`` CNY -> ``129900``; raises ``bnpl.money.PrecisionError`` rather than round."""
    return Money.of(amount, currency).minor


def to_decimal(minor: int, currency: str) -> Decimal:
    """``129900`` CNY -> ``Decimal("1299.00")`` (exact, with the currency's number of decimals)."""
    return Money(minor, currency).amount
