"""The plugin's typed errors: each says what went wrong and what to do about it."""

from __future__ import annotations

__all__ = [
    "AmountError",
    "SagaConflictError",
    "SagaError",
    "SagaNotFoundError",
    "StoreError",
    "TransientSagaError",
]


class SagaError(Exception):
    """Base class of every error this plugin raises."""


class AmountError(SagaError, ValueError):
    """The amounts cannot form a down payment (wrong currency, not positive, not representable at Stripe)."""


class SagaNotFoundError(SagaError, LookupError):
    """No saga with that id (or order reference) is stored."""


class SagaConflictError(SagaError):
    """``start()`` was called again for an order reference with different amounts or currency."""


class StoreError(SagaError):
    """The saga store could not be opened or a statement failed."""


class TransientSagaError(SagaError):
    """A call to Stripe or the lender failed in a way that may succeed later (network, 5xx, rate limit).

    The step is recorded as started with its idempotency key; ``recover()`` re-issues it with the same key,
    so the party de-duplicates it. Nothing needs to be undone by hand.
    """
