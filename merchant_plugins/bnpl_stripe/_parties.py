"""Calls to the two parties, each classified as done, definitively refused, or worth retrying later."""

from __future__ import annotations

from typing import Any, cast

import stripe

import bnpl
from bnpl_stripe.errors import TransientSagaError

__all__ = ["card_error_intent", "lender_call", "plain", "stripe_call"]

_STRIPE_TRANSIENT = (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError)
_LENDER_TRANSIENT = (bnpl.APIConnectionError, bnpl.APIServerError, bnpl.RateLimitError)


def stripe_call(what: str, call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a stripe-python call; network errors, 5xx and rate limits become :class:`TransientSagaError`."""
    try:
        result = call(*args, **kwargs)
    except _STRIPE_TRANSIENT as exc:
        raise TransientSagaError(f"Stripe {what} did not complete ({type(exc).__name__}); retry later") from exc
    return plain(result)


def plain(obj: Any) -> dict[str, Any]:
    """A StripeObject as a plain dict (stripe-python 16's objects are not dicts any more)."""
    return cast(dict[str, Any], obj.to_dict() if hasattr(obj, "to_dict") else dict(obj))


def lender_call(what: str, call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a bnpl.Client call; network errors, 5xx and rate limits become :class:`TransientSagaError`."""
    try:
        return call(*args, **kwargs)
    except _LENDER_TRANSIENT as exc:
        raise TransientSagaError(f"lender {what} did not complete ({type(exc).__name__}); retry later") from exc


def card_error_intent(exc: stripe.CardError) -> dict[str, Any]:
    """The PaymentIntent embedded in a 402 card error body (``error.payment_intent``), or ``{}``."""
    body = exc.json_body if isinstance(exc.json_body, dict) else {}
    error = body.get("error")
    intent = error.get("payment_intent") if isinstance(error, dict) else None
    return cast(dict[str, Any], intent) if isinstance(intent, dict) else {}
