"""Plugin settings, from keyword arguments, a mapping (Flask ``app.config``) or the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Self

from bnpl_merchant_kit.errors import PluginConfigurationError

__all__ = ["BnplSettings"]

_FLOAT_FIELDS = frozenset({"quote_cache_seconds"})


@dataclass(frozen=True, slots=True)
class BnplSettings:
    """Everything a FastAPI or Flask plugin needs. Secrets are kept out of ``repr``.

    - ``api_key`` / ``base_url``: the lender (``None``: the client reads ``BNPL_API_KEY`` / ``BNPL_BASE_URL``;
      ``sk_test_`` keys default to the local sandbox at http://127.0.0.1:8787).
    - ``webhook_secret``: the ``whsec_…`` secret of your webhook endpoint (required to receive webhooks).
    - ``success_url`` / ``failure_url``: where the checkout return sends the customer; ``{reference}`` (and in
      ``failure_url`` also ``{reason}``) are replaced, URL-encoded.
    - ``order_db`` / ``webhook_db``: SQLite files for merchant orders and webhook de-duplication.
    - ``quote_cache_seconds``: how long an "as low as" result is reused per amount; ``locale`` formats money.
    """

    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    success_url: str = "/"
    failure_url: str = "/"
    order_db: str = "bnpl_orders.sqlite3"
    webhook_db: str = "bnpl_webhooks.sqlite3"
    quote_cache_seconds: float = 60.0
    locale: str = "zh_CN"

    def __post_init__(self) -> None:
        for name in ("success_url", "failure_url", "order_db", "webhook_db", "locale"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise PluginConfigurationError(f"bnpl setting {name} must be a non-empty string")
        if self.webhook_secret is not None and not self.webhook_secret.startswith(("whsec_", "whpk_")):
            raise PluginConfigurationError(
                "bnpl setting webhook_secret must be the whsec_… secret returned when the webhook endpoint was created"
            )
        seconds = self.quote_cache_seconds
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise PluginConfigurationError("bnpl setting quote_cache_seconds must be a number >= 0")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, prefix: str = "BNPL_", **overrides: Any) -> Self:
        """Read ``BNPL_API_KEY``, ``BNPL_WEBHOOK_SECRET``, ``BNPL_SUCCESS_URL`` … from ``values``; ``overrides``
        (field names) win."""
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            key = prefix + f.name.upper()
            if key in values and values[key] not in (None, ""):
                raw = values[key]
                if f.name in _FLOAT_FIELDS and isinstance(raw, str):
                    try:
                        raw = float(raw)
                    except ValueError:
                        raise PluginConfigurationError(f"{key} must be a number of seconds") from None
                kwargs[f.name] = raw
        kwargs.update(overrides)
        return cls(**kwargs)

    @classmethod
    def from_env(cls, **overrides: Any) -> Self:
        """Read the settings from ``BNPL_*`` environment variables; ``overrides`` (field names) win."""
        return cls.from_mapping(os.environ, **overrides)

    def with_overrides(self, **overrides: Any) -> Self:
        """A copy with some fields changed."""
        return replace(self, **overrides)

    def require_webhook_secret(self) -> str:
        """The webhook secret, or an actionable :class:`PluginConfigurationError`."""
        if not self.webhook_secret:
            raise PluginConfigurationError(
                "BNPL_WEBHOOK_SECRET is not set: create a webhook endpoint "
                "(client.webhook_endpoints.create(url=..., enabled_events=['*'])) and pass its whsec_… secret"
            )
        return self.webhook_secret
