"""bnpl_merchant_kit: the framework-neutral core of the FastAPI and Flask plugins.

Merchant orders (:class:`MerchantOrder`, :class:`OrderStore`, :class:`OrderBook`) that only move forward,
"as low as" messaging (:func:`as_low_as`, :class:`QuoteCache`), the embeddable widget (:data:`WIDGET_JS`,
:func:`widget_snippet`), the checkout-return decision (:func:`decide_return`) and the webhook glue
(:class:`MerchantWebhooks`). The plugins ``bnpl_fastapi`` and ``bnpl_flask`` are thin adapters over it.
"""

from __future__ import annotations

from bnpl_merchant_kit.book import Applied, OrderBook, UnknownOrderError, snapshot_of
from bnpl_merchant_kit.checkout import checkout_params
from bnpl_merchant_kit.errors import InvalidParamError, MerchantKitError, OrderConflictError, PluginConfigurationError
from bnpl_merchant_kit.orders import PRE_ORDER_STATUSES, MerchantOrder, advance_with_checkout, advance_with_order
from bnpl_merchant_kit.quotes import AsLowAs, PlanSummary, QuoteCache, as_low_as, parse_amount_query
from bnpl_merchant_kit.returns import ReturnDecision, decide_return, fill_url, validate_checkout_id
from bnpl_merchant_kit.settings import BnplSettings
from bnpl_merchant_kit.stores import MemoryOrderStore, OrderStore, SQLiteOrderStore
from bnpl_merchant_kit.webhooks import Hook, MerchantWebhooks
from bnpl_merchant_kit.widget import WIDGET_CONTENT_TYPE, WIDGET_JS, widget_snippet

__all__ = [
    "PRE_ORDER_STATUSES",
    "WIDGET_CONTENT_TYPE",
    "WIDGET_JS",
    "Applied",
    "AsLowAs",
    "BnplSettings",
    "Hook",
    "InvalidParamError",
    "MemoryOrderStore",
    "MerchantKitError",
    "MerchantOrder",
    "MerchantWebhooks",
    "OrderBook",
    "OrderConflictError",
    "OrderStore",
    "PlanSummary",
    "PluginConfigurationError",
    "QuoteCache",
    "ReturnDecision",
    "SQLiteOrderStore",
    "UnknownOrderError",
    "advance_with_checkout",
    "advance_with_order",
    "as_low_as",
    "checkout_params",
    "decide_return",
    "fill_url",
    "parse_amount_query",
    "snapshot_of",
    "validate_checkout_id",
    "widget_snippet",
]
