"""The booking desk: what the OTA does with the lender when a customer books, gets a ticket, rebooks or cancels.

The FastAPI plugin (:class:`bnpl_fastapi.BnplRouter`) owns the pay-later plumbing: it opens checkouts and records
them in its order book, confirms the customer's return with the API, and its webhook router moves each payment
forward. This module only decides *what* to ask the lender, with an idempotency key per action so a double click
or a retry never captures or refunds twice.

Ticket issue = capture: the booking page has an "issue ticket" button (what an OTA's ticketing backend would call
once the airline issued the e-ticket), so the demo can show a rebooking both before capture (the authorization is
amended down) and after it (a partial refund).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import secrets
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

import anyio.to_thread
from fastapi import Request

from bnpl.client import AsyncClient
from bnpl.errors import BNPLError
from bnpl.models.checkouts import Checkout
from bnpl.models.orders import Order
from bnpl.money import Money
from bnpl_fastapi import BnplRouter, MerchantOrder
from bnpl_stripe import SagaRecord

from .bookings import Booking, BookingStore, LogLine, new_booking_reference
from .down_payment import TEST_CARDS, DownPaymentPolicy
from .down_payment_desk import DownPaymentDesk, card_text, failure_status
from .errors import DeskError
from .flights import Flight, cheaper_and_dearer, get_flight
from .plans import PlanChoice, allowed_plans, parse_plan_key, plan_choices, plan_key, plan_name

__all__ = ["BookingDesk", "BookingView", "DeskError", "Outcome", "customer_reference", "yuan"]

T = TypeVar("T")


def yuan(minor: int) -> str:
    """``¥1,299.00`` for 129900 fen."""
    return Money(minor, "CNY").format("zh_CN")


def customer_reference(email: str) -> str:
    """A pseudonymous customer reference for the lender (never the email itself): a hash of the email."""
    return "cust_" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]


_LIVE: frozenset[str] = frozenset({"authorized", "partially_captured", "captured", "partially_refunded", "in_arrears"})


@dataclass(frozen=True, slots=True)
class BookingView:
    """Everything the booking page shows. ``status`` is one of ``awaiting_approval``, ``pending`` (approved on
    the return, the lender's webhook not in yet), ``confirmed``, ``ticketed``, ``declined``, ``expired``,
    ``canceled``, ``refunded``, ``paid_off``; with a card down payment also ``processing`` (the saga is still
    starting), ``card_declined`` and ``failed``. ``down`` is the down-payment saga, if the fare has one."""

    booking: Booking
    flight: Flight
    status: str
    status_text: str
    payment: MerchantOrder | None = None
    order: Order | None = None
    approval_url: str | None = None
    history: list[LogLine] = field(default_factory=list)
    down: SagaRecord | None = None

    @property
    def plan_name(self) -> str:
        """The plan's name: the one the lender's order runs on once there is one (the down-payment checkout lets
        the customer choose on the lender's page), else the one picked on the fare page."""
        if self.order is not None and self.booking.down_payment:
            plan = self.order.plan
            with contextlib.suppress(ValueError):
                return plan_name(plan_key(plan.product, plan.periods, plan.method))
        return plan_name(self.booking.plan_key)

    @property
    def card_text(self) -> str:
        """The card down payment's state, for the customer."""
        return card_text(self.down.card_status) if self.down is not None else ""

    @property
    def authorized(self) -> int:
        """Authorized on the current payment (fen)."""
        if self.order is not None:
            return self.order.amount_authorized - self.order.amount_voided
        return self.booking.financed if self.payment and self.payment.order_id else 0

    @property
    def captured(self) -> int:
        """Captured on the current payment (fen)."""
        return self.order.amount_captured if self.order is not None else 0

    @property
    def refunded(self) -> int:
        """Refunded on the current payment (fen)."""
        return self.order.amount_refunded if self.order is not None else 0

    @property
    def refresh(self) -> bool:
        """Reload the page by itself while the webhook confirmation is outstanding."""
        return self.status == "pending"

    @property
    def can_issue(self) -> bool:
        """The ticket can be issued (captured)."""
        return self.status == "confirmed"

    @property
    def can_rebook(self) -> bool:
        """The flight can be changed."""
        return self.status in ("confirmed", "ticketed") and self.booking.down_payment == 0

    @property
    def can_cancel(self) -> bool:
        """The trip can be canceled."""
        return self.status in ("awaiting_approval", "confirmed", "ticketed")

    @property
    def card_refunded(self) -> int:
        """Refunded to the card (fen)."""
        return self.down.down_minor if self.down is not None and self.down.card_status == "refunded" else 0


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an action did (shown on the booking page) and, for a new checkout, where to send the customer."""

    message: str
    note_id: int
    redirect_url: str | None = None


class BookingDesk:
    """Bookings plus the plugin's router (its order book and lender client)."""

    def __init__(
        self,
        router: BnplRouter,
        bookings: BookingStore,
        down_payment: DownPaymentPolicy,
        down_payments: DownPaymentDesk | None = None,
    ) -> None:
        if down_payment.enabled and down_payments is None:
            raise ValueError("a down-payment policy needs the DownPaymentDesk that charges it (Stripe settings)")
        self.router = router
        self.bookings = bookings
        self.down_payment = down_payment
        self.down_payments = down_payments

    @property
    def client(self) -> AsyncClient:
        """The plugin's lender client."""
        return self.router.client()

    async def payment(self, reference: str) -> MerchantOrder | None:
        """The plugin's record of a payment reference."""
        return await anyio.to_thread.run_sync(self.router.book.get, reference)

    # --- fare page -----------------------------------------------------------------------------------------

    async def plans_for(self, amount: int) -> list[PlanChoice]:
        """The plan picker for ``amount`` fen: the lender's quotes with instalments and annual rates."""
        quotes = await self.client.plans.quote(amount=amount, currency="CNY")
        return plan_choices(list(quotes.data), self.router.settings.locale)

    # --- booking -------------------------------------------------------------------------------------------

    async def book(
        self,
        request: Request,
        flight: Flight,
        travel_date: date,
        passenger: str,
        email: str,
        plan: str,
        card: str = "pm_card_visa",
    ) -> tuple[Booking, str | None]:
        """Record the booking and open its payment; returns the booking and the lender's approval URL to send
        the customer to (``None``: nothing to approve, show the booking page).

        A fare with a down payment starts the Stripe saga, the card hold confirmed with the test ``card``;
        any other fare opens a pay-later checkout for the chosen plan.
        """
        parse_plan_key(plan)
        down = self.down_payment.amount_for(flight.fare)
        if down and card not in TEST_CARDS:
            raise ValueError("card: choose one of the test cards listed")
        booking = Booking(
            reference=new_booking_reference(),
            flight_id=flight.id,
            travel_date=travel_date,
            passenger=passenger,
            email=email,
            customer_reference=customer_reference(email),
            fare=flight.fare,
            plan_key=plan,
            down_payment=down,
        )
        await anyio.to_thread.run_sync(self.bookings.add, booking, f"booked {flight.label} for {yuan(flight.fare)}")
        if down and self.down_payments is not None:
            opened = await self.down_payments.open(request, booking, flight, card)
            live = opened.checkout is not None and opened.checkout.status == "open" and opened.saga.status == "pending"
            return booking, opened.checkout.approval_url if live and opened.checkout else None
        checkout = await self._open_payment(request, booking, flight)
        return booking, checkout.approval_url if checkout.status == "open" else None

    async def _open_payment(self, request: Request, booking: Booking, flight: Flight) -> Checkout:
        financed = booking.financed
        passengers = [{"name": booking.passenger, "type": "adult"}]
        try:
            checkout = await self.router.open_checkout(
                request,
                reference=booking.payment_reference,
                amount=financed,
                currency="CNY",
                items=[
                    {
                        "name": f"{flight.number} {flight.origin}→{flight.destination} {flight.cabin}",
                        "category": "flight",
                        "quantity": 1,
                        "unit_amount": financed,
                        "total_amount": financed,
                    }
                ],
                travel={
                    "origin": flight.origin,
                    "destination": flight.destination,
                    "travel_date": booking.travel_date.isoformat(),
                    "passengers": passengers,
                },
                customer={"reference": booking.customer_reference, "email": booking.email, "country": "CN"},
                allowed_plans=allowed_plans(booking.plan_key),
                idempotency_key=f"{booking.payment_reference}-checkout",
            )
        except BNPLError as exc:
            await anyio.to_thread.run_sync(self.bookings.note, booking.reference, "the lender refused the checkout")
            raise DeskError(f"The lender could not open the payment: {exc}") from exc
        if checkout.status == "declined":
            # declined at once: record it now rather than wait for the checkout.declined webhook
            await anyio.to_thread.run_sync(lambda: self.router.book.apply_checkout(checkout, None))
        note = f"pay-later checkout {checkout.id} for {yuan(financed)}: {checkout.status}"
        await anyio.to_thread.run_sync(self.bookings.note, booking.reference, note)
        return checkout

    # --- the booking page ----------------------------------------------------------------------------------

    async def view(self, reference: str) -> BookingView:
        """The booking with its payment as the plugin recorded it and the live order from the lender."""
        booking = await anyio.to_thread.run_sync(self.bookings.get, reference)
        flight = get_flight(booking.flight_id)
        history = await anyio.to_thread.run_sync(self.bookings.history, reference)
        payment = await self.payment(booking.payment_reference)
        order = await self.client.orders.retrieve(payment.order_id) if payment and payment.order_id else None
        down = None
        if booking.down_payment and self.down_payments is not None:
            down = await anyio.to_thread.run_sync(self.down_payments.record, booking.payment_reference)
        approval_url = None
        if booking.canceled:
            refunded = order.amount_refunded if order else 0
            text = f"Canceled; {yuan(refunded)} refunded to your pay-later plan." if refunded else "Canceled."
            if down is not None and down.card_status == "refunded":
                text = f"Canceled; {yuan(down.down_minor)} refunded to your card and {yuan(refunded)} to your plan."
            status = "canceled"
        elif self.down_payments is not None and booking.down_payment and (down is None or down.status == "starting"):
            status, text = "processing", "Setting up your card down payment; reload this page in a moment."
        elif down is not None and down.status in ("compensating", "compensated"):
            status, text = failure_status(down)
        elif payment is None or payment.status == "pending":
            status, text = "awaiting_approval", "Waiting for your approval on the lender's page."
            if payment is not None and payment.checkout_id is not None:
                checkout = await self.client.checkouts.retrieve(payment.checkout_id)
                approval_url = checkout.approval_url if checkout.status == "open" else None
        elif payment.order_id is None:
            status = payment.status  # declined, canceled or expired at the lender
            text = f"The pay-later payment was {payment.status}; nothing was charged."
        elif payment.checkout_sequence is None and payment.order_sequence is None:
            # the return told us the lender approved; the booking is confirmed when its webhook arrives
            status, text = "pending", "Approved by the lender; waiting for its confirmation (webhook)."
        else:
            status, text = _order_status(order)
            if down is not None and status == "ticketed" and booking.ticket_number is None:
                # the saga captures both parts as soon as both are authorized; the ticket is still to come
                status = "confirmed"
                text = (
                    f"Confirmed: your {yuan(down.down_minor)} down payment and the pay-later plan for "
                    f"{yuan(down.remainder_minor)} are both taken. Your ticket is issued next."
                )
        return BookingView(booking, flight, status, text, payment, order, approval_url, history, down)

    # --- actions -------------------------------------------------------------------------------------------

    async def issue_ticket(self, reference: str) -> Outcome:
        """Capture the financed amount: the ticket is issued."""
        view = await self.view(reference)
        if not view.can_issue or view.payment is None or view.payment.order_id is None:
            raise DeskError(f"The ticket cannot be issued while the booking is {view.status}.")
        booking = view.booking
        self._need_stripe(booking)
        ticket = booking.ticket_number or f"781-{secrets.randbelow(10**10):010d}"
        if booking.down_payment and self.down_payments is not None:
            run = await self.down_payments.ensure_captured(booking)
            order = await self._call(self.client.orders.retrieve(view.payment.order_id))
            await self._apply(order)
            message = (
                f"Ticket {ticket} issued; {yuan(run.down_minor)} down payment by card and "
                f"{yuan(order.amount_captured)} on pay-later captured."
            )
            ticketed = _replace(booking, ticket_number=ticket)
            note = await anyio.to_thread.run_sync(self.bookings.update, ticketed, message)
            return Outcome(message, note)
        order = await self._call(
            self.client.orders.capture(
                view.payment.order_id, reference=ticket, idempotency_key=f"{booking.payment_reference}-capture"
            )
        )
        await self._apply(order)
        updated = _replace(booking, ticket_number=ticket)
        message = f"Ticket {ticket} issued; {yuan(order.amount_captured)} captured."
        note = await anyio.to_thread.run_sync(self.bookings.update, updated, message)
        return Outcome(message, note)

    async def cancel(self, reference: str) -> Outcome:
        """Cancel the trip: refund what was captured, void what was not, or cancel an open checkout."""
        view = await self.view(reference)
        if not view.can_cancel:
            raise DeskError(f"A booking that is {view.status} cannot be canceled.")
        booking, payment, order = view.booking, view.payment, view.order
        self._need_stripe(booking)
        if booking.down_payment and self.down_payments is not None:
            message = await self.down_payments.cancel(booking)
            note = await anyio.to_thread.run_sync(self.bookings.update, _replace(booking, canceled=True), message)
            return Outcome(message, note)
        key = f"{booking.payment_reference}-cancel"
        if order is not None and order.amount_captured > 0:
            refundable = order.amount_captured - order.amount_refunded
            order = await self._call(
                self.client.orders.refund(order.id, amount=refundable, reason="trip_canceled", idempotency_key=key)
            )
            message = f"Trip canceled: {yuan(refundable)} refunded."
        elif order is not None:
            order = await self._call(self.client.orders.void(order.id, idempotency_key=key))
            message = "Trip canceled: the pay-later authorization was released; nothing was charged."
        elif payment is not None and payment.checkout_id is not None:
            checkout = await self._call(self.client.checkouts.cancel(payment.checkout_id, idempotency_key=key))
            await anyio.to_thread.run_sync(lambda: self.router.book.apply_checkout(checkout, None))
            message = "Booking canceled before payment; nothing was charged."
        else:
            message = "Booking canceled."
        if order is not None:
            await self._apply(order)
        note = await anyio.to_thread.run_sync(self.bookings.update, _replace(booking, canceled=True), message)
        return Outcome(message, note)

    async def rebook(self, request: Request, reference: str, flight_id: str) -> Outcome:
        """Change to another fare on the route.

        Cheaper: amend the authorization down (before the ticket) or refund the difference (after it).
        Dearer: release the current payment (void or full refund) and open a new checkout for the new fare.
        """
        view = await self.view(reference)
        if view.booking.down_payment:
            raise DeskError(
                "A booking with a card down payment cannot be changed online: cancel it (both parts are refunded) "
                "and book the new flight."
            )
        if not view.can_rebook or view.order is None:
            raise DeskError(f"A booking that is {view.status} cannot be changed online.")
        new = get_flight(flight_id)
        cheaper, dearer = cheaper_and_dearer(view.flight)
        booking, order = view.booking, view.order
        if new in cheaper:
            diff = booking.fare - new.fare
            key = f"{booking.payment_reference}-rebook-{new.id}-{booking.fare}"
            if order.amount_captured == 0:
                order = await self._call(
                    self.client.orders.amend(order.id, new_amount=new.fare, reason="rebooked", idempotency_key=key)
                )
                message = f"Changed to {new.label}: the authorization was lowered by {yuan(diff)}."
            else:
                order = await self._call(
                    self.client.orders.refund(order.id, amount=diff, reason="rebooked", idempotency_key=key)
                )
                message = f"Changed to {new.label}: {yuan(diff)} refunded."
            await self._apply(order)
            changed = _replace(booking, flight_id=new.id, fare=new.fare)
            note = await anyio.to_thread.run_sync(self.bookings.update, changed, message)
            return Outcome(message, note)
        if new not in dearer:
            raise DeskError("Choose another flight on the same route.")
        key = f"{booking.payment_reference}-release"
        if order.amount_captured > 0:
            refundable = order.amount_captured - order.amount_refunded
            order = await self._call(
                self.client.orders.refund(order.id, amount=refundable, reason="rebooked", idempotency_key=key)
            )
            released = f"{yuan(refundable)} refunded"
        else:
            order = await self._call(self.client.orders.void(order.id, idempotency_key=key))
            released = "the authorization released"
        await self._apply(order)
        moved = _replace(booking, flight_id=new.id, fare=new.fare, attempt=booking.attempt + 1, ticket_number=None)
        message = f"Changing to {new.label} ({yuan(new.fare)}): {released}; approve the new payment."
        note = await anyio.to_thread.run_sync(self.bookings.update, moved, message)
        checkout = await self._open_payment(request, moved, new)
        if checkout.status != "open":
            return Outcome(f"{message} The lender {checkout.status} the new payment.", note)
        return Outcome(message, note, checkout.approval_url)

    def _need_stripe(self, booking: Booking) -> None:
        # never settle only the loan of a booking whose card part this process cannot see
        if booking.down_payment and self.down_payments is None:
            raise DeskError("This booking has a card down payment: the site needs its Stripe settings to change it.")

    @staticmethod
    async def _call(call: Awaitable[T]) -> T:
        try:
            return await call
        except BNPLError as exc:
            raise DeskError(f"The lender refused: {exc}") from exc

    async def _apply(self, order: Order) -> None:
        # an API read fills only what no webhook has moved yet; the webhooks remain the source of truth
        await anyio.to_thread.run_sync(lambda: self.router.book.apply_order(order, None))


def _order_status(order: Order | None) -> tuple[str, str]:
    if order is None:
        return "pending", "Waiting for the lender."
    if order.status == "authorized":
        return "confirmed", "Confirmed: the lender authorized your pay-later plan. Your ticket is issued next."
    if order.status in _LIVE:
        return "ticketed", "Ticket issued; your instalments are running."
    if order.status == "refunded":
        return "refunded", "Fully refunded."
    if order.status == "paid_off":
        return "paid_off", "Ticket issued and fully repaid."
    if order.status == "voided":
        return "canceled", "The authorization was released."
    return order.status, f"The pay-later order is {order.status}."


def _replace(booking: Booking, **changes: Any) -> Booking:
    return dataclasses.replace(booking, **changes)
