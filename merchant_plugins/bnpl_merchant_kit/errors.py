"""Errors raised by the merchant kit: each one says what to change."""

from __future__ import annotations

__all__ = ["InvalidParamError", "MerchantKitError", "OrderConflictError", "PluginConfigurationError"]


class MerchantKitError(Exception):
    """Base class of every merchant-kit error."""


class PluginConfigurationError(MerchantKitError, ValueError):
    """A plugin setting is missing or malformed (the message names the setting, never its secret value)."""


class InvalidParamError(MerchantKitError, ValueError):
    """A request parameter (query string, form field) is invalid; ``param`` names it. Answer 400."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


class OrderConflictError(MerchantKitError):
    """The merchant order cannot take this change (e.g. a new checkout for a reference that already has an
    order, or the store kept changing under us)."""
