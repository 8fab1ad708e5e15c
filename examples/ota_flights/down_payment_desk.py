"""The booking desk's card side: a fare with a down payment is paid through ``bnpl_stripe``'s saga.

- **book**: ``saga.start`` opens the pay-later checkout for the remainder (the lender first, so a customer it
  declines never gets a card hold) and places the card hold at Stripe, confirmed server-side with a Stripe test
  card. The saga's lender checkout is recorded in the plugin's order book, so the plugin's ``/bnpl/return`` and
  ``/bnpl/webhook`` treat it like any other payment.
- **lender webhooks**: the site's hook calls :meth:`DownPaymentDesk.on_lender_event` → ``saga.refresh``. Once
  the customer approved and the card is held, the saga captures both (the loan first, then the card): it never
  leaves one side authorized alone, and a manual-capture card hold lapses after 7 days anyway.
- **Stripe webhooks**: ``POST /stripe/webhook`` → ``saga.handle_stripe_webhook`` on the raw body.
- **ticket**: ``saga.refresh`` finishes a capture still in flight; the ticket is issued only when both parts
  are captured.
- **cancel**: not yet approved → the lender checkout is canceled (or the order voided) and ``saga.refresh``
  releases the card hold; captured → the card is refunded at Stripe and the loan at the lender.
- **start-up**: :meth:`DownPaymentDesk.recover` finishes or compensates whatever a crash left half-done.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

import anyio.to_thread
import stripe
from fastapi import Request

from bnpl.errors import BNPLError
from bnpl.models.checkouts import Checkout
from bnpl.models.orders import Order
from bnpl.money import Money
from bnpl.webhooks import RetryLater
from bnpl_fastapi import BnplRouter
from bnpl_stripe import DownPaymentSaga, SagaError, SagaRecord, TransientSagaError, WebhookResult

from .bookings import Booking, BookingNotFoundError, BookingStore
from .down_payment import TEST_CARDS, DownPayments
from .errors import DeskError
from .flights import Flight

__all__ = ["DownPaymentDesk", "DownPaymentOutcome", "card_text", "failure_status"]

log = logging.getLogger("examples.ota_flights")
T = TypeVar("T")

_CARD_TEXT: Final[dict[str, str]] = {
    "none": "not started",
    "pending": "waiting for the card",
    "authorized": "held on your card",
    "failed": "declined",
    "captured": "charged",
    "canceled": "hold released",
    "refunded": "refunded",
}


def card_text(card_status: str) -> str:
    """What the card side's status means to the customer."""
    return _CARD_TEXT.get(card_status, card_status)


def failure_status(run: SagaRecord) -> tuple[str, str]:
    """The booking status and text for a saga that is being or was compensated (nothing stays charged).

    The cause is read from the saga's ``failure`` (the first reason recorded, e.g. ``card failed, lender open``):
    after compensation the card side says ``canceled`` whether it was declined or just released.
    """
    why = run.failure or ""
    released = "released" if run.status == "compensated" else "being released"
    if run.card_status == "failed" or why.startswith("card failed"):
        return "card_declined", (
            f"Your card was declined for the {_yuan(run.down_minor)} down payment, so the pay-later application was "
            "withdrawn. Nothing was charged."
        )
    if run.lender_status == "declined" or "declined" in why:
        return "declined", f"The lender declined the pay-later part; the card hold is {released}. Nothing was charged."
    if run.lender_status == "expired" or "expired" in why or why.startswith("timed out"):
        return "expired", f"The approval ran out of time; the card hold is {released}. Nothing was charged."
    if run.lender_status == "canceled":
        return "canceled", f"The pay-later payment was canceled; the card hold is {released}. Nothing was charged."
    return "failed", f"The payment did not go through ({why or run.status}); nothing was charged."


def _yuan(minor: int) -> str:
    return Money(minor, "CNY").format("zh_CN")


def _now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class DownPaymentOutcome:
    """What opening a down-payment booking did: the lender checkout (``None`` if the lender refused it) and the
    saga as it stands."""

    checkout: Checkout | None
    saga: SagaRecord


class DownPaymentDesk:
    """The card-and-loan side of bookings whose fare takes a down payment."""

    def __init__(self, payments: DownPayments, router: BnplRouter, bookings: BookingStore) -> None:
        self.payments = payments
        self.router = router
        self.bookings = bookings
        # One refresh per saga at a time in this process: the lender delivers checkout.approved and
        # order.authorized concurrently, and two refreshes would both send the captures (safe, thanks to the
        # idempotency keys, but a wasted replay each). Across processes the saga's keys and CAS still hold.
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def __repr__(self) -> str:
        return f"DownPaymentDesk(saga={self.saga!r})"

    @property
    def saga(self) -> DownPaymentSaga:
        """The site's saga."""
        return self.payments.saga

    def record(self, payment_reference: str) -> SagaRecord | None:
        """The saga of a payment reference (``None`` for a payment without a down payment)."""
        return self.saga.store.find(order_ref=payment_reference)

    # --- booking -------------------------------------------------------------------------------------------

    async def open(self, request: Request, booking: Booking, flight: Flight, card: str) -> DownPaymentOutcome:
        """Start the saga for ``booking`` and record its lender checkout in the plugin's order book."""
        if card not in TEST_CARDS:
            raise ValueError("card: choose one of the test cards listed")
        customer = {"reference": booking.customer_reference, "email": booking.email, "country": "CN"}
        description = f"{flight.number} {flight.origin}→{flight.destination} {flight.cabin} (after the down payment)"

        def start() -> SagaRecord:
            return self.saga.start(
                booking.payment_reference,
                Money(booking.fare, "CNY"),
                Money(booking.down_payment, "CNY"),
                customer,
                return_url=str(request.url_for("bnpl_return")),
                payment_method=card,
                category="flight",
                description=description,
            )

        try:
            run = await anyio.to_thread.run_sync(start)
        except TransientSagaError as exc:
            # the saga stays "starting"; recover() undoes whatever was created once start_grace has passed
            await self._note(booking.reference, f"down payment interrupted ({exc}); it is undone automatically")
            raise DeskError("Stripe or the lender did not answer; nothing will be charged. Please try again.") from exc
        except SagaError as exc:
            raise DeskError(f"The down payment could not be set up: {exc}") from exc
        await self._note(
            booking.reference,
            f"card down payment {_yuan(run.down_minor)} at Stripe ({run.payment_intent_id or 'no PaymentIntent'}): "
            f"{card_text(run.card_status)}",
        )
        checkout = None
        if run.checkout_id is not None:
            checkout = await self._call(self.router.client().checkouts.retrieve(run.checkout_id))
            await anyio.to_thread.run_sync(self._record_checkout, checkout)
            note = f"pay-later checkout {checkout.id} for {_yuan(run.remainder_minor)}: {checkout.status}"
            await self._note(booking.reference, note)
        if run.status == "compensated":
            await self._note(booking.reference, failure_status(run)[1])
        return DownPaymentOutcome(checkout, run)

    def _record_checkout(self, checkout: Checkout) -> None:
        self.router.book.record_opened(checkout)
        if checkout.status != "open":  # declined up front, or canceled by the saga's compensation
            self.router.book.apply_checkout(checkout, None)

    # --- webhooks ------------------------------------------------------------------------------------------

    def on_lender_event(self, payment_reference: str) -> SagaRecord | None:
        """From the plugin's webhook hook (a worker thread): move the saga on with both parties' state.

        Raises ``RetryLater`` (the lender redelivers) when Stripe or the lender did not answer.
        """
        try:
            return self._refresh(payment_reference)
        except TransientSagaError as exc:
            raise RetryLater(f"down payment saga not finished: {exc}", retry_after=30) from exc

    def _refresh(self, payment_reference: str) -> SagaRecord | None:
        """``saga.refresh`` under this saga's lock (skipped once finished); notes a change on the booking."""
        with self._locks_guard:
            lock = self._locks.setdefault(payment_reference, threading.Lock())
        with lock:
            run = self.record(payment_reference)
            if run is None or run.terminal:
                return run
            after = self.saga.refresh(run.id)
        self._note_change(run, after)
        return after

    async def stripe_webhook(self, body: bytes, signature: str | None) -> WebhookResult:
        """Verify a Stripe webhook on the raw body and feed the saga."""
        result = await anyio.to_thread.run_sync(self.saga.handle_stripe_webhook, body, signature)
        if result.outcome == "applied" and result.saga_id is not None:
            run = await anyio.to_thread.run_sync(self.saga.get, result.saga_id)
            await self._note(_booking_of(run.order_ref), f"Stripe webhook: down payment {card_text(run.card_status)}")
        return result

    # --- ticket and cancel ---------------------------------------------------------------------------------

    async def refresh(self, payment_reference: str) -> SagaRecord:
        """Read both parties and move the saga on (captures both when both are authorized)."""
        try:
            run = await anyio.to_thread.run_sync(self._refresh, payment_reference)
        except TransientSagaError as exc:
            raise DeskError("Stripe or the lender did not answer; nothing was lost. Please try again shortly.") from exc
        if run is None:
            raise DeskError("This booking has no down payment on record.")
        return run

    async def ensure_captured(self, booking: Booking) -> SagaRecord:
        """Both parts captured, through the saga, before the ticket is issued."""
        run = await self.refresh(booking.payment_reference)
        if run.status != "captured":
            raise DeskError(
                f"The ticket cannot be issued yet: the down payment is {card_text(run.card_status)} and the "
                f"pay-later part is {run.lender_status}."
            )
        return run

    async def cancel(self, booking: Booking) -> str:
        """Refund or release both parts of the booking's payment; returns what was done."""
        run = await self.refresh(booking.payment_reference)
        key = f"{booking.payment_reference}-cancel"
        if run.status == "captured":
            return await self._refund_both(run, key)
        if run.status == "pending":
            client = self.router.client()
            if run.lender_status == "open" and run.checkout_id:
                checkout = await self._call(client.checkouts.cancel(run.checkout_id, idempotency_key=key))
                await anyio.to_thread.run_sync(lambda: self.router.book.apply_checkout(checkout, None))
            elif run.lender_status == "authorized" and run.order_id:
                order = await self._call(client.orders.void(run.order_id, idempotency_key=key))
                await self._apply(order)
            run = await self.refresh(booking.payment_reference)  # the saga now releases the card hold
        if run.status == "compensated":
            return (
                f"Booking canceled: the card hold of {_yuan(run.down_minor)} was released and the pay-later payment "
                "withdrawn; nothing was charged."
            )
        raise DeskError(f"The payment is still {run.status}; please try again shortly.")

    async def _refund_both(self, run: SagaRecord, key: str) -> str:
        # The card first: if the lender refund then fails, the booking still shows the loan captured and a
        # second click re-sends both with the same keys (Stripe replays the first refund).
        card = 0
        if run.card_status == "captured" and run.payment_intent_id:
            refund = await anyio.to_thread.run_sync(self._refund_card, run)
            card = int(refund["amount"])
            await anyio.to_thread.run_sync(lambda: self.saga.store.move_side(run.id, "card", "refunded", _now_ms()))
        elif run.card_status == "refunded":
            card = run.down_minor
        loan = 0
        if run.order_id:
            client = self.router.client()
            order = await self._call(client.orders.retrieve(run.order_id))
            refundable = order.amount_captured - order.amount_refunded
            if refundable > 0:
                order = await self._call(
                    client.orders.refund(order.id, amount=refundable, reason="trip_canceled", idempotency_key=key)
                )
                await self._apply(order)
            loan = order.amount_refunded
            if order.status == "refunded":
                moved = await anyio.to_thread.run_sync(
                    lambda: self.saga.store.move_side(run.id, "lender", "refunded", _now_ms())
                )
                log.debug("saga %s lender side refunded: %s", run.id, moved)
        return f"Trip canceled: {_yuan(card)} refunded to your card and {_yuan(loan)} to your pay-later plan."

    def _refund_card(self, run: SagaRecord) -> dict[str, Any]:
        params: Any = {"payment_intent": run.payment_intent_id, "reason": "requested_by_customer"}
        try:
            refund = self.payments.stripe.v1.refunds.create(params, {"idempotency_key": f"{run.id}:site.refund_card"})
        except stripe.StripeError as exc:
            # no payload, no key: Stripe's own code and the request id are enough to look it up
            raise DeskError(f"Stripe did not refund the down payment ({type(exc).__name__}); try again.") from exc
        return dict(refund.to_dict())

    # --- start-up ------------------------------------------------------------------------------------------

    def recover(self) -> list[SagaRecord]:
        """Finish or compensate every half-done saga (run at start-up; schedule it every minute in production)."""
        before = {run.id: run for run in self.saga.store.unfinished()}
        after = self.saga.recover()
        for run in after:
            if run.id in before:
                self._note_change(before[run.id], run, "recovered at start-up: ")
        return after

    # --- helpers -------------------------------------------------------------------------------------------

    def _note_change(self, before: SagaRecord, after: SagaRecord, prefix: str = "") -> None:
        if before.status == after.status:
            return
        if after.status == "captured":
            down, rest = _yuan(after.down_minor), _yuan(after.remainder_minor)
            text = f"{prefix}down payment {down} charged to your card and {rest} captured on pay-later"
        elif after.status == "compensated":
            text = prefix + failure_status(after)[1]
        else:
            text = f"{prefix}down payment {after.status}: card {after.card_status}, pay-later {after.lender_status}"
        try:
            self.bookings.note(_booking_of(after.order_ref), text)
        except BookingNotFoundError:
            log.warning("saga %s has no booking %s", after.id, after.order_ref)

    async def _note(self, reference: str, text: str) -> None:
        await anyio.to_thread.run_sync(self.bookings.note, reference, text)

    async def _apply(self, order: Order) -> None:
        await anyio.to_thread.run_sync(lambda: self.router.book.apply_order(order, None))

    @staticmethod
    async def _call(call: Awaitable[T]) -> T:
        try:
            return await call
        except BNPLError as exc:
            raise DeskError(f"The lender refused: {exc}") from exc


def _booking_of(payment_reference: str) -> str:
    return payment_reference.rsplit("-", 1)[0]
