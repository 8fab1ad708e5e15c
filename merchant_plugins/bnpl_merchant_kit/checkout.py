"""Opening a checkout for a merchant order: the parameters, with a one-line basket by default."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["checkout_params"]


def checkout_params(
    *,
    reference: str,
    amount: int,
    currency: str,
    return_url: str,
    items: Sequence[Mapping[str, Any]] | None = None,
    description: str | None = None,
    category: str = "goods",
    **extra: Any,
) -> dict[str, Any]:
    """Keyword arguments for ``client.checkouts.create``: ``items`` default to one line of ``amount``.

    The SDK validates everything (integer minor units, items summing to ``amount``) before any request and
    raises ``bnpl.errors.InvalidParamsError`` naming the bad field.
    """
    basket = (
        [dict(item) for item in items]
        if items is not None
        else [{"name": description or reference, "category": category, "unit_amount": amount, "total_amount": amount}]
    )
    return {
        "merchant_reference": reference,
        "amount": amount,
        "currency": currency,
        "items": basket,
        "return_url": return_url,
        **extra,
    }
