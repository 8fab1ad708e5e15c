"""The customer's return from the hosted approval page: confirmed with the API, never from the query string."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

from bnpl.models.checkouts import Checkout
from bnpl_merchant_kit.book import OrderBook
from bnpl_merchant_kit.errors import InvalidParamError
from bnpl_merchant_kit.orders import MerchantOrder

__all__ = ["ReturnDecision", "decide_return", "fill_url", "validate_checkout_id"]

_CHECKOUT_ID: Final = re.compile(r"^chk_[A-Za-z0-9]{1,64}$")


def validate_checkout_id(value: str | None) -> str:
    """Check the ``checkout_id`` query parameter's shape (``chk_…``) before asking the API about it."""
    if value is None or not _CHECKOUT_ID.match(value):
        raise InvalidParamError("checkout_id", "a checkout id (chk_…) is required")
    return value


def fill_url(template: str, *, reference: str, reason: str = "") -> str:
    """Replace ``{reference}`` and ``{reason}`` in a configured URL with URL-encoded values."""
    return template.replace("{reference}", quote(reference, safe="")).replace("{reason}", quote(reason, safe=""))


@dataclass(frozen=True, slots=True)
class ReturnDecision:
    """Where to send the customer, and the merchant order as recorded (``approved`` means an order exists)."""

    approved: bool
    redirect_url: str
    order: MerchantOrder
    reason: str | None = None


def decide_return(book: OrderBook, checkout: Checkout, *, success_url: str, failure_url: str) -> ReturnDecision:
    """Record ``checkout`` (as read from the API just now) and choose the redirect.

    Approved: the merchant order gets its order id and ``authorized`` (unless webhooks already moved it
    further). Anything else (still open, declined, canceled, expired) goes to ``failure_url`` with the reason.
    """
    applied = book.apply_checkout(checkout, None, create=True)
    order = applied.order
    if checkout.status == "approved" and order.order_id == checkout.order_id:
        return ReturnDecision(True, fill_url(success_url, reference=order.reference), order)
    reason = checkout.status if checkout.status != "approved" else "superseded"
    return ReturnDecision(False, fill_url(failure_url, reference=order.reference, reason=reason), order, reason)
