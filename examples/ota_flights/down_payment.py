"""The card down payment for expensive fares: the seam where ``bnpl_stripe``'s saga plugs in (not wired yet).

Policy: fares of ¥8,000 and more take 20 % (rounded down to whole yuan) by card through the merchant's Stripe
account and finance the rest. ``bnpl_stripe.DownPaymentSaga`` has landed; wiring it here is four local steps,
left undone because they need a fake Stripe (pytest-httpserver) in this example's tests to be trustworthy:

1. in :meth:`BookingDesk.book`, for ``amount_for(fare) > 0`` call ``saga.start(booking.payment_reference,
   Money(fare), Money(down), customer, return_url=<the plugin's /bnpl/return>, payment_method="pm_card_visa",
   category="flight")`` instead of ``router.open_checkout`` (Stripe test mode confirms that test card
   server-side, so no Stripe.js, an external script this site avoids, is needed for the demo; production
   confirms ``saga.client_secret`` with the Payment Element);
2. record the saga's lender checkout in the plugin's order book (``router.book.record_opened(checkout)``) so the
   plugin's return route and webhook router know the reference;
3. in the site's ``@router.on("*")`` hook, call ``saga.refresh(saga_id)`` for those references (the saga then
   captures both sides together, so such a booking is ticketed at approval), and add a ``POST /stripe/webhook``
   route answering ``saga.handle_stripe_webhook(raw_body, request.headers.get("Stripe-Signature"))``;
4. on cancellation, refund the card side through Stripe as well as the lender side.

Until then :meth:`DownPaymentPolicy.from_env` stays *disabled*; with ``STRIPE_API_KEY`` set the start-up banner
says so instead of recording a down payment nobody charges, and every booking finances its whole fare. The
booking record, the fare page and the booking page already carry a ``down_payment`` amount.
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
