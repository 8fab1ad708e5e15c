"""The OTA site: search, fare page with "as low as" and a plan picker, booking with pay-later, ticketing,
rebooking, cancellation and the live instalment schedule, on the ``bnpl_fastapi`` plugin.

The plugin's :class:`~bnpl_fastapi.BnplRouter` serves ``/bnpl/webhook`` (signed lender events move each payment),
``/bnpl/return`` (the customer back from the hosted page, confirmed with the API), ``/bnpl/as-low-as`` and
``/bnpl/widget.js``. The site's own routes are below, plus ``POST /stripe/webhook`` when card down payments are
on (Stripe settings in the environment, see ``down_payment.py``).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import JSONResponse, RedirectResponse, Response

from bnpl.errors import APIConnectionError, APIStatusError
from bnpl.webhooks import SQLiteStore
from bnpl_fastapi import BnplRouter, BnplSettings, MerchantOrder, SQLiteOrderStore
from bnpl_merchant_kit import widget_snippet

from .bookings import BookingNotFoundError, BookingStore
from .desk import BookingDesk, DeskError
from .down_payment import TEST_CARDS, DownPaymentPolicy, build_down_payments
from .down_payment_desk import DownPaymentDesk
from .flights import AIRPORTS, UnknownFlightError, cheaper_and_dearer, get_flight, routes, search_flights
from .render import FormError, read_form, render

__all__ = ["SiteConfig", "create_app"]

STATIC: Final = Path(__file__).parent / "static"
_REFERENCE: Final = re.compile(r"^OTA-[A-Z2-9]{10}$")
_PAYMENT_REFERENCE: Final = re.compile(r"^(OTA-[A-Z2-9]{10})-[1-9][0-9]{0,3}$")
_EMAIL: Final = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_TRIPS_COOKIE: Final = "ota_trips"
log = logging.getLogger("examples.ota_flights")


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """How the site reaches the lender and where it keeps its data.

    ``webhook_secret`` is the ``whsec_…`` secret of the webhook endpoint registered for this site's
    ``/bnpl/webhook`` (``python -m examples.ota_flights`` registers it). ``data_dir`` holds three SQLite files:
    bookings, the plugin's merchant orders and its webhook de-duplication store.
    """

    lender_url: str
    api_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    data_dir: Path
    sandbox_hint: bool = True
    down_payment: DownPaymentPolicy = field(default_factory=DownPaymentPolicy)


def create_app(config: SiteConfig) -> FastAPI:
    """Build the site: the plugin's router plus the OTA's pages."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    settings = BnplSettings(
        api_key=config.api_key,
        base_url=config.lender_url,
        webhook_secret=config.webhook_secret,
        success_url="/payment-result?reference={reference}",
        failure_url="/payment-result?reference={reference}&reason={reason}",
        order_db=str(config.data_dir / "bnpl_orders.sqlite3"),
        webhook_db=str(config.data_dir / "bnpl_webhooks.sqlite3"),
    )
    router = BnplRouter(
        settings,
        order_store=SQLiteOrderStore(settings.order_db),
        webhook_store=SQLiteStore(settings.webhook_db),
    )
    bookings = BookingStore(config.data_dir / "bookings.sqlite3")
    policy = config.down_payment
    down_desk = None
    if policy.enabled and policy.stripe is not None:
        payments = build_down_payments(policy.stripe, config.lender_url, config.api_key, config.data_dir)
        down_desk = DownPaymentDesk(payments, router, bookings)
    desk = BookingDesk(router, bookings, policy, down_desk)

    @router.on("*")
    def log_event(event: Any, order: MerchantOrder | None) -> None:
        # the plugin already moved the payment; the booking's history just tells the customer
        if order is None:
            return
        match = _PAYMENT_REFERENCE.match(order.reference)
        if match is not None:
            try:
                bookings.note(match.group(1), f"lender webhook {event.type}: payment {order.status}")
            except BookingNotFoundError:
                return
        if down_desk is not None:
            # a down-payment booking: let the saga read both parties and capture (or release) both together;
            # RetryLater (Stripe or the lender did not answer) makes the lender redeliver this event
            down_desk.on_lender_event(order.reference)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if down_desk is not None:
            await anyio.to_thread.run_sync(_recover, down_desk)
        try:
            async with router.app_lifespan(app):
                yield
        finally:
            if down_desk is not None:
                down_desk.payments.close()

    app = FastAPI(title="云途旅行 Cloudway Travel (bnpl example)", lifespan=lifespan, docs_url=None)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.state.desk = desk
    app.state.config = config
    _pages(app, desk, config)
    return app


def _recover(down_desk: DownPaymentDesk) -> None:
    """Finish what a crash left half-done before serving; a party that is down must not keep the site down."""
    try:
        runs = down_desk.recover()
    except Exception:  # logged; recover() runs again at the next start or from cron
        log.exception("down-payment recovery at start-up failed; run python -m examples.ota_flights.recover")
        return
    log.info("down-payment recovery: %d unfinished saga(s) looked at", len(runs))


def _booking_reference(reference: str) -> str:
    if not _REFERENCE.match(reference):
        raise BookingNotFoundError("no such booking")
    return reference


def _default_date() -> date:
    return date.today() + timedelta(days=14)


def _travel_date(value: str | None) -> date:
    if not value:
        return _default_date()
    try:
        chosen = date.fromisoformat(value)
    except ValueError:
        raise ValueError("date: use the form's date picker (YYYY-MM-DD)") from None
    if chosen < date.today() or chosen > date.today() + timedelta(days=330):
        raise ValueError("date: choose a day from today up to 330 days ahead")
    return chosen


def _remember(response: Response, request: Request, reference: str) -> None:
    trips = [r for r in request.cookies.get(_TRIPS_COOKIE, "").split(".") if _REFERENCE.match(r)]
    trips = [reference, *[r for r in trips if r != reference]][:20]
    response.set_cookie(_TRIPS_COOKIE, ".".join(trips), max_age=90 * 86400, httponly=True, samesite="lax")


def _pages(app: FastAPI, desk: BookingDesk, config: SiteConfig) -> None:
    @app.exception_handler(BookingNotFoundError)
    async def not_found(request: Request, exc: BookingNotFoundError) -> Response:
        return render(request, "error.html", 404, title="没有找到 Not found", message="No such booking.")

    @app.exception_handler(UnknownFlightError)
    async def no_flight(request: Request, exc: UnknownFlightError) -> Response:
        return render(request, "error.html", 404, title="没有找到 Not found", message=str(exc))

    @app.exception_handler(APIConnectionError)
    @app.exception_handler(APIStatusError)
    async def lender_down(request: Request, exc: Exception) -> Response:
        return render(
            request,
            "error.html",
            502,
            title="请稍后再试 Try again shortly",
            message="The pay-later lender did not answer; please reload in a moment.",
        )

    @app.get("/", name="home")
    async def home(request: Request, origin: str = "SHA", destination: str = "CTU") -> Response:
        return render(
            request,
            "home.html",
            airports=AIRPORTS,
            origin=origin,
            destination=destination,
            routes=routes(),
            travel_date=_default_date().isoformat(),
            today=date.today().isoformat(),
        )

    @app.get("/flights", name="search")
    async def search(request: Request, origin: str = "", destination: str = "", date: str = "") -> Response:
        try:
            when = _travel_date(date)
            flights = search_flights(origin, destination)
        except ValueError as exc:
            return render(
                request,
                "home.html",
                400,
                error=str(exc),
                airports=AIRPORTS,
                origin=origin,
                destination=destination,
                routes=routes(),
                travel_date=_default_date().isoformat(),
                today=date_today(),
            )
        return render(
            request,
            "results.html",
            flights=flights,
            origin=origin.upper(),
            destination=destination.upper(),
            travel_date=when.isoformat(),
        )

    async def fare_page(
        request: Request,
        flight_id: str,
        travel: str,
        *,
        status: int = 200,
        error: str | None = None,
        form: dict[str, str] | None = None,
    ) -> Response:
        form = form or {}
        flight = get_flight(flight_id)
        try:
            when = _travel_date(travel)
        except ValueError:
            when = _default_date()
        down = desk.down_payment.amount_for(flight.fare)
        financed = flight.fare - down
        plans = await desk.plans_for(financed)
        label = "低至 {amount}/月 · as low as {amount}/month"
        widget = widget_snippet(financed, "CNY", script_url=app.url_path_for("bnpl_widget"), label=label)
        return render(
            request,
            "fare.html",
            status,
            error=error,
            flight=flight,
            travel_date=when.isoformat(),
            plans=plans,
            chosen=form.get("plan") or next((p.key for p in plans if p.key == "monthly:6:annuity"), ""),
            down_payment=down,
            financed=financed,
            test_cards=TEST_CARDS if down else {},
            card=form.get("card", "pm_card_visa"),
            widget_html=widget,
            passenger=form.get("passenger", ""),
            email=form.get("email", "pays-on-time@bnpl.test" if config.sandbox_hint else ""),
            sandbox_hint=config.sandbox_hint,
        )

    @app.get("/flights/{flight_id}", name="fare")
    async def fare(request: Request, flight_id: str, date: str = "") -> Response:
        return await fare_page(request, flight_id, date)

    @app.post("/bookings", name="create_booking")
    async def create_booking(request: Request) -> Response:
        try:
            form = await read_form(request)
        except FormError as exc:
            return render(request, "error.html", 400, title="表单错误 Form error", message=str(exc))
        flight_id = form.get("flight_id", "")
        get_flight(flight_id)
        passenger = " ".join(form.get("passenger", "").split())
        email = form.get("email", "").strip()
        plan = form.get("plan", "")
        try:
            when = _travel_date(form.get("travel_date"))
            if not 1 <= len(passenger) <= 80:
                raise ValueError("name: enter the traveller's name as on the ID (up to 80 characters)")
            if not _EMAIL.match(email) or len(email) > 120:
                raise ValueError("email: enter a valid email address")
            card = form.get("card", "pm_card_visa")
            booking, approval_url = await desk.book(request, get_flight(flight_id), when, passenger, email, plan, card)
        except (ValueError, DeskError) as exc:
            return await fare_page(
                request, flight_id, form.get("travel_date", ""), status=400, error=str(exc), form=form
            )
        target = approval_url or str(app.url_path_for("booking", reference=booking.reference))
        response = RedirectResponse(target, status_code=303)
        _remember(response, request, booking.reference)
        return response

    @app.get("/payment-result", name="payment_result")
    async def payment_result(request: Request, reference: str = "", reason: str = "") -> Response:
        match = _PAYMENT_REFERENCE.match(reference)
        if match is None:
            return render(
                request, "error.html", 404, title="没有找到 Not found", message="We do not know this payment."
            )
        target = app.url_path_for("booking", reference=match.group(1))
        return RedirectResponse(f"{target}?returned=1", status_code=303)

    @app.get("/bookings/{reference}", name="booking")
    async def booking(request: Request, reference: str, done: str = "") -> Response:
        view = await desk.view(_booking_reference(reference))
        # ?done=<history line id>: show what the action just did (looked up, never echoed from the URL)
        message = next((line.text for line in view.history if str(line.id) == done), None)
        return render(request, "booking.html", view=view, history=view.history, message=message)

    async def act(request: Request, reference: str, action: Any) -> Response:
        reference = _booking_reference(reference)
        try:
            outcome = await action
        except DeskError as exc:
            view = await desk.view(reference)
            return render(request, "booking.html", 409, view=view, history=view.history, error=str(exc))
        if outcome.redirect_url is not None:
            return RedirectResponse(outcome.redirect_url, status_code=303)
        target = app.url_path_for("booking", reference=reference)
        return RedirectResponse(f"{target}?done={outcome.note_id}", status_code=303)

    @app.post("/bookings/{reference}/ticket", name="issue_ticket")
    async def issue_ticket(request: Request, reference: str) -> Response:
        return await act(request, reference, desk.issue_ticket(_booking_reference(reference)))

    @app.post("/bookings/{reference}/cancel", name="cancel_booking")
    async def cancel_booking(request: Request, reference: str) -> Response:
        return await act(request, reference, desk.cancel(_booking_reference(reference)))

    @app.get("/bookings/{reference}/rebook", name="rebook_form")
    async def rebook_form(request: Request, reference: str) -> Response:
        view = await desk.view(_booking_reference(reference))
        cheaper, dearer = cheaper_and_dearer(view.flight)
        captured = view.captured > 0
        return render(
            request,
            "rebook.html",
            view=view,
            cheaper=cheaper,
            dearer=dearer,
            cheaper_how="the difference is refunded to your plan"
            if captured
            else "your pay-later authorization is lowered to the new fare",
            dearer_how="your current payment is "
            + ("refunded" if captured else "released")
            + " and you approve a new pay-later payment for the new fare",
        )

    @app.post("/bookings/{reference}/rebook", name="rebook")
    async def rebook(request: Request, reference: str) -> Response:
        try:
            form = await read_form(request)
        except FormError as exc:
            return render(request, "error.html", 400, title="表单错误 Form error", message=str(exc))
        change = desk.rebook(request, _booking_reference(reference), form.get("flight_id", ""))
        return await act(request, reference, change)

    @app.get("/bookings/{reference}/instalments", name="instalments")
    async def instalments(request: Request, reference: str) -> Response:
        view = await desk.view(_booking_reference(reference))
        if view.order is None:
            return render(
                request,
                "error.html",
                404,
                title="还没有分期 No instalments yet",
                message="This booking has no approved pay-later order yet.",
            )
        paid = sum(i.amount_paid for i in view.order.plan.schedule)
        remaining = sum(i.amount for i in view.order.plan.schedule) - paid
        return render(request, "instalments.html", view=view, paid=paid, remaining=remaining)

    @app.post("/stripe/webhook", name="stripe_webhook", include_in_schema=False)
    async def stripe_webhook(request: Request) -> Response:
        if desk.down_payments is None:
            return JSONResponse({"error": "card down payments are not configured"}, 404)
        # the raw bytes: Stripe signs them, and re-serialised JSON would fail the check
        body = await request.body()
        result = await desk.down_payments.stripe_webhook(body, request.headers.get("stripe-signature"))
        return JSONResponse({"outcome": result.outcome, "message": result.message}, result.status_code)

    @app.get("/trips", name="trips")
    async def trips(request: Request) -> Response:
        references = [r for r in request.cookies.get(_TRIPS_COOKIE, "").split(".") if _REFERENCE.match(r)]
        return render(request, "trips.html", bookings=desk.bookings.find(references))


def date_today() -> str:
    """Today as ``YYYY-MM-DD`` (the earliest date the search form accepts)."""
    return date.today().isoformat()
