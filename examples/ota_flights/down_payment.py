"""The card down payment for expensive fares: policy, Stripe settings and the ``bnpl_stripe`` saga behind it.

Policy: with Stripe configured, fares of ¥8,000 and more take 20 % (rounded down to whole yuan) by card through
the merchant's Stripe account; the lender finances the rest. ``bnpl_stripe.DownPaymentSaga`` runs the two parts
as one transaction (both captured only when both are authorized, both released when either fails); the booking
desk (``desk.py``) starts it, the webhook hook and ``/stripe/webhook`` feed it, and the site runs its
``recover()`` at start-up (``python -m examples.ota_flights.recover`` does it from cron).

Settings come from the environment (:meth:`DownPaymentPolicy.from_env`):

``STRIPE_API_KEY`` (``sk_test_…``), ``STRIPE_WEBHOOK_SECRET`` (``whsec_…``, from the dashboard or
``stripe listen``), optionally ``STRIPE_API_BASE`` (another address for stripe-python, e.g. stripe-mock or a test
fake), ``OTA_DOWN_PAYMENT_THRESHOLD`` (fen, default 800000) and ``OTA_DOWN_PAYMENT_PERCENT`` (default 20).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from stripe import StripeClient

    from bnpl_stripe import DownPaymentSaga

__all__ = [
    "DOWN_PAYMENT_PERCENT",
    "DOWN_PAYMENT_THRESHOLD",
    "TEST_CARDS",
    "DownPaymentConfigError",
    "DownPaymentPolicy",
    "DownPayments",
    "StripeSettings",
    "build_down_payments",
]

DOWN_PAYMENT_THRESHOLD: Final = 800_000
"""Fares from ¥8,000.00 (fen) take a down payment when Stripe is configured."""
DOWN_PAYMENT_PERCENT: Final = 20

TEST_CARDS: Final[dict[str, str]] = {
    "pm_card_visa": "Visa ···· 4242 (approved)",
    "pm_card_chargeDeclined": "Visa ···· 0002 (declined)",
}
"""Stripe's test-mode payment methods the fare page offers (only ``sk_test_`` keys are accepted). The server
confirms the card with one of them (no Stripe.js, an external script this site avoids); a real site confirms the saga's
``client_secret`` with the Payment Element instead."""

_SAGA_DB: Final = "down_payments.sqlite3"


class DownPaymentConfigError(ValueError):
    """The Stripe / down-payment settings are incomplete or invalid; the message names the variable to fix."""


@dataclass(frozen=True, slots=True)
class StripeSettings:
    """How the site reaches Stripe. Secrets never appear in the repr."""

    api_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    api_base: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.api_key, str) or not self.api_key.startswith(("sk_test_", "rk_test_")):
            # the down payment is confirmed server-side with Stripe's test cards; a live site confirms
            # saga.client_secret in the browser with the Payment Element instead
            raise DownPaymentConfigError(
                "STRIPE_API_KEY must be a test-mode secret key (sk_test_…): this example pays with Stripe's test cards"
            )
        if not isinstance(self.webhook_secret, str) or not self.webhook_secret.startswith("whsec_"):
            raise DownPaymentConfigError(
                "STRIPE_WEBHOOK_SECRET must be the whsec_… signing secret of your Stripe webhook endpoint"
            )
        if self.api_base is not None:
            parts = urlsplit(self.api_base)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise DownPaymentConfigError("STRIPE_API_BASE must be an http(s) URL such as http://127.0.0.1:12111")


@dataclass(frozen=True, slots=True)
class DownPaymentPolicy:
    """Whether and how much of a fare is paid by card up front (integer fen; the rest is financed exactly)."""

    enabled: bool = False
    threshold: int = DOWN_PAYMENT_THRESHOLD
    percent: int = DOWN_PAYMENT_PERCENT
    reason: str = "STRIPE_API_KEY is not set: every fare is financed in full"
    stripe: StripeSettings | None = None

    def __post_init__(self) -> None:
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int) or self.threshold <= 0:
            raise DownPaymentConfigError("OTA_DOWN_PAYMENT_THRESHOLD must be a positive whole number of fen")
        if isinstance(self.percent, bool) or not isinstance(self.percent, int) or not 1 <= self.percent <= 90:
            raise DownPaymentConfigError("OTA_DOWN_PAYMENT_PERCENT must be a whole percentage from 1 to 90")

    @classmethod
    def with_stripe(
        cls, stripe: StripeSettings, *, threshold: int = DOWN_PAYMENT_THRESHOLD, percent: int = DOWN_PAYMENT_PERCENT
    ) -> DownPaymentPolicy:
        """The policy with card down payments on, through ``stripe``."""
        reason = f"fares from ¥{threshold // 100:,} take {percent}% by card through Stripe (test mode)"
        return cls(True, threshold, percent, reason, stripe)

    def amount_for(self, fare: int) -> int:
        """The down payment for ``fare`` fen: 0 when disabled or below the threshold, else ``percent`` of it
        rounded down to whole yuan (so ``fare - down payment`` is what the lender finances, to the fen)."""
        if isinstance(fare, bool) or not isinstance(fare, int) or fare <= 0:
            raise ValueError("fare must be a positive integer number of fen")
        if not self.enabled or fare < self.threshold:
            return 0
        return fare * self.percent // 100 // 100 * 100

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DownPaymentPolicy:
        """Read ``STRIPE_API_KEY``, ``STRIPE_WEBHOOK_SECRET``, ``STRIPE_API_BASE``, ``OTA_DOWN_PAYMENT_THRESHOLD``
        and ``OTA_DOWN_PAYMENT_PERCENT``. No key: disabled. A key without its webhook secret (or the reverse)
        raises :class:`DownPaymentConfigError`: card holds whose outcome the site never hears about are worse
        than no down payment."""
        env = os.environ if environ is None else environ
        key, secret = env.get("STRIPE_API_KEY", ""), env.get("STRIPE_WEBHOOK_SECRET", "")
        if not key and not secret:
            return cls()
        if not key or not secret:
            missing = "STRIPE_WEBHOOK_SECRET" if key else "STRIPE_API_KEY"
            raise DownPaymentConfigError(f"set {missing} too: card down payments need both Stripe settings")
        try:
            import bnpl_stripe  # noqa: F401 - only to say clearly that the extra is missing
        except ImportError:
            raise DownPaymentConfigError(
                "STRIPE_API_KEY is set but bnpl_stripe cannot be imported: pip install 'bnpl[stripe]'"
            ) from None
        stripe = StripeSettings(key, secret, env.get("STRIPE_API_BASE") or None)
        return cls.with_stripe(
            stripe,
            threshold=_int_env(env, "OTA_DOWN_PAYMENT_THRESHOLD", DOWN_PAYMENT_THRESHOLD),
            percent=_int_env(env, "OTA_DOWN_PAYMENT_PERCENT", DOWN_PAYMENT_PERCENT),
        )


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _int_env(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise DownPaymentConfigError(f"{name} must be a whole number, got {raw[:20]!r}")
    return int(raw)


@dataclass(slots=True)
class DownPayments:
    """The site's saga plus the Stripe client it uses (the desk refunds a captured card through it)."""

    saga: DownPaymentSaga
    stripe: StripeClient = field(repr=False)
    settings: StripeSettings

    def close(self) -> None:
        """Close the saga store."""
        self.saga.store.close()


def build_down_payments(
    stripe: StripeSettings,
    lender_url: str,
    api_key: str,
    data_dir: Path,
    *,
    timeout: timedelta = timedelta(minutes=30),
    clock: Callable[[], datetime] | None = None,
    crash_after: Callable[[str], None] | None = None,
) -> DownPayments:
    """The site's saga: stripe-python (retries reuse the idempotency key), the lender client and the saga
    store in ``data_dir/down_payments.sqlite3``. ``clock`` and ``crash_after`` are for tests."""
    import stripe as stripe_lib

    import bnpl
    from bnpl_stripe import DownPaymentSaga, SagaStore

    if stripe.api_base:
        client = stripe_lib.StripeClient(
            stripe.api_key, base_addresses={"api": stripe.api_base.rstrip("/")}, max_network_retries=2
        )
    else:
        client = stripe_lib.StripeClient(stripe.api_key, max_network_retries=2)
    saga = DownPaymentSaga(
        stripe_client=client,
        lender=bnpl.Client(api_key=api_key, base_url=lender_url),
        store=SagaStore(str(data_dir / _SAGA_DB)),
        stripe_webhook_secret=stripe.webhook_secret,
        timeout=timeout,
        clock=clock or _utcnow,
        crash_after=crash_after,
    )
    return DownPayments(saga, client, stripe)
