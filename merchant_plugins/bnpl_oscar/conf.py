"""The ``BNPL_OSCAR`` settings dict, read and checked once, plus the shared API client and webhook handler.

::

    BNPL_OSCAR = {
        "API_KEY": "sk_test_...",
        "WEBHOOK_SECRET": "whsec_...",
        "BASE_URL": None,                      # the SDK default for the key
        "WEBHOOK_STORE": "bnpl_webhooks.sqlite3",   # or a bnpl.webhooks store, or a callable returning one
        "ITEM_CATEGORY": "goods",
        "SOURCE_TYPE": "Pay later",
        "STATUS_PIPELINE": {"order.captured": "Paid", "order.refunded": "Refunded", ...},
    }
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, get_args

from django.conf import settings  # type: ignore[import-untyped]
from django.core.exceptions import ImproperlyConfigured  # type: ignore[import-untyped]

from bnpl.client import Client
from bnpl.models.customers import ItemCategory
from bnpl.webhooks import DedupStore, SQLiteStore, Webhook

__all__ = ["PIPELINE_KEYS", "BnplOscarConfigurationError", "BnplOscarSettings", "bnpl_settings", "reset"]

PIPELINE_KEYS = frozenset(
    {
        "checkout.approved",
        "order.captured",
        "order.refunded",
        "order.refunded.partial",
        "order.voided",
        "order.authorization_expired",
        "order.paid_off",
        "order.instalment_overdue",
    }
)
"""Lender events a merchant may map to an Oscar order status (``order.refunded.partial``: not everything)."""


class BnplOscarConfigurationError(ImproperlyConfigured):  # type: ignore[misc]  # Django has no type stubs
    """``settings.BNPL_OSCAR`` is missing or wrong; the message names the key (secrets are never echoed)."""


@dataclass
class BnplOscarSettings:
    """The checked ``BNPL_OSCAR`` settings with the client, webhook verifier and dedup store built from them."""

    api_key: str
    webhook_secret: str
    base_url: str | None
    item_category: str
    source_type: str
    status_pipeline: dict[str, str]
    store_option: Any
    _client: Client | None = field(default=None, repr=False)
    _store: DedupStore | None = field(default=None, repr=False)

    @property
    def client(self) -> Client:
        """The lender API client, created on first use."""
        if self._client is None:
            self._client = Client(api_key=self.api_key, base_url=self.base_url)
        return self._client

    @property
    def webhook(self) -> Webhook:
        """The signature verifier for the lender's webhooks."""
        return Webhook(self.webhook_secret)

    @property
    def store(self) -> DedupStore:
        """The webhook de-duplication store (SQLite file by default)."""
        if self._store is None:
            self._store = _make_store(self.store_option)
        return self._store

    def close(self) -> None:
        """Close the client and the store (tests and reconfiguration)."""
        if self._client is not None:
            self._client.close()
        if self._store is not None:
            self._store.close()


def _make_store(option: Any) -> DedupStore:
    if option is None:
        return SQLiteStore()
    if isinstance(option, str):
        return SQLiteStore(option)
    if isinstance(option, DedupStore):
        return option
    if callable(option):
        made = option()
        if isinstance(made, DedupStore):
            return made
    raise BnplOscarConfigurationError(
        "BNPL_OSCAR['WEBHOOK_STORE'] must be a SQLite path, a bnpl.webhooks store or a callable returning one"
    )


def _load() -> BnplOscarSettings:
    raw = getattr(settings, "BNPL_OSCAR", None)
    if not isinstance(raw, dict):
        raise BnplOscarConfigurationError("settings.BNPL_OSCAR must be a dict with at least API_KEY and WEBHOOK_SECRET")
    api_key = raw.get("API_KEY")
    if not isinstance(api_key, str) or not api_key.startswith(("sk_test_", "sk_live_")):
        raise BnplOscarConfigurationError("BNPL_OSCAR['API_KEY'] must be a secret key starting sk_test_ or sk_live_")
    secret = raw.get("WEBHOOK_SECRET")
    if not isinstance(secret, str) or not secret:
        raise BnplOscarConfigurationError("BNPL_OSCAR['WEBHOOK_SECRET'] must be your endpoint's whsec_ secret")
    try:
        Webhook(secret)
    except Exception as exc:  # the key error never contains the secret itself
        raise BnplOscarConfigurationError(f"BNPL_OSCAR['WEBHOOK_SECRET'] is not usable: {exc}") from None
    category = raw.get("ITEM_CATEGORY", "goods")
    if category not in get_args(ItemCategory):
        raise BnplOscarConfigurationError(f"BNPL_OSCAR['ITEM_CATEGORY'] must be one of {get_args(ItemCategory)}")
    pipeline = raw.get("STATUS_PIPELINE", {})
    if not isinstance(pipeline, dict) or not all(isinstance(v, str) for v in pipeline.values()):
        raise BnplOscarConfigurationError("BNPL_OSCAR['STATUS_PIPELINE'] maps lender event types to status names")
    unknown = set(pipeline) - PIPELINE_KEYS
    if unknown:
        raise BnplOscarConfigurationError(
            f"BNPL_OSCAR['STATUS_PIPELINE'] has unknown keys {sorted(unknown)}; use {sorted(PIPELINE_KEYS)}"
        )
    return BnplOscarSettings(
        api_key=api_key,
        webhook_secret=secret,
        base_url=raw.get("BASE_URL"),
        item_category=str(category),
        source_type=str(raw.get("SOURCE_TYPE", "Pay later")),
        status_pipeline=dict(pipeline),
        store_option=raw.get("WEBHOOK_STORE"),
    )


@functools.cache
def bnpl_settings() -> BnplOscarSettings:
    """The checked settings (cached; call :func:`reset` after changing ``settings.BNPL_OSCAR``)."""
    return _load()


def reset() -> None:
    """Forget the cached settings, closing their client and store."""
    if bnpl_settings.cache_info().currsize:
        bnpl_settings().close()
    bnpl_settings.cache_clear()


Factory = Callable[[], DedupStore]
