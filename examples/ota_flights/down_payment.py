"""The card down payment for expensive fares: the seam where ``bnpl_stripe``'s saga plugs in.

Policy: fares of ¥8,000 and more could take 20 % (rounded down to whole yuan) by card through the merchant's
Stripe account and finance the rest. That needs two things this example does not do yet:

1. the card itself is collected by Stripe.js / Payment Element in the browser (an external script, which this
   no-external-assets site deliberately does not load), and
2. ``bnpl_stripe.DownPaymentSaga.start(...)`` must replace :meth:`BookingDesk._open_payment` for those fares
   (the saga opens the lender checkout itself and captures both sides together), with its Stripe and lender
   webhooks routed to ``saga.handle_stripe_webhook`` / ``saga.handle_lender_webhook``.

So :meth:`DownPaymentPolicy.from_env` is *disabled* unless ``STRIPE_API_KEY`` is set **and** the saga is wired;
with the key set it says so on start-up instead of recording a down payment that nobody charges. Every booking
then finances its whole fare. The booking record, the fare page and the booking page already carry a
``down_payment`` amount, so wiring the saga is local to ``desk.py``.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from typing import Final

__all__ = ["DOWN_PAYMENT_PERCENT", "DOWN_PAYMENT_THRESHOLD", "DownPaymentPolicy"]

DOWN_PAYMENT_THRESHOLD: Final = 800_000
"""Fares from ¥8,000.00 (fen) take a down payment when Stripe is configured."""
DOWN_PAYMENT_PERCENT: Final = 20


@dataclass(frozen=True, slots=True)
class DownPaymentPolicy:
    """Whether and how much of a fare is paid by card up front (integer fen; the rest is financed exactly)."""

    enabled: bool = False
    threshold: int = DOWN_PAYMENT_THRESHOLD
    percent: int = DOWN_PAYMENT_PERCENT
    reason: str = "STRIPE_API_KEY is not set: every fare is financed in full"

    def amount_for(self, fare: int) -> int:
        """The down payment for ``fare`` fen: 0 when disabled or below the threshold, else ``percent`` of it
        rounded down to whole yuan (so ``fare - down payment`` is what the lender finances, to the fen)."""
        if isinstance(fare, bool) or not isinstance(fare, int) or fare <= 0:
            raise ValueError("fare must be a positive integer number of fen")
        if not self.enabled or fare < self.threshold:
            return 0
        return fare * self.percent // 100 // 100 * 100

    @classmethod
    def from_env(cls) -> DownPaymentPolicy:
        """Read ``STRIPE_API_KEY``; see the module docstring for why it stays disabled until the saga is wired."""
        if not os.environ.get("STRIPE_API_KEY"):
            return cls()
        if importlib.util.find_spec("bnpl_stripe") is None:
            return cls(reason="STRIPE_API_KEY is set but bnpl_stripe is not installed: fares are financed in full")
        return cls(
            reason=(
                "STRIPE_API_KEY is set, but this example does not wire bnpl_stripe's DownPaymentSaga yet "
                "(see examples/ota_flights/down_payment.py): fares are financed in full"
            )
        )
