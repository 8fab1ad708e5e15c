"""The example OTA site over real HTTP: uvicorn on 127.0.0.1 in a thread, the real sandbox lender, the customer
approving through the hosted page's own form, and the lender's signed webhooks delivered to the site.

The sandbox's background delivery worker is off here (``BNPL_SANDBOX_DELIVERY=0``): the test steps delivery
itself with ``DeliveryWorker.run_due()``, which POSTs every due event to the site and returns once the site
answered. So "pending until the webhook, then confirmed" is observed deterministically, without sleeping.
"""

from __future__ import annotations

import html
import re
import secrets
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bnpl.client import Client
from bnpl.sandbox import SandboxInfo
from bnpl.sandbox.customer import complete_hosted_page
from bnpl.sandbox.delivery import DeliveryWorker
from bnpl.sandbox.server import run_sandbox

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the examples folder is not an installed package
    sys.path.insert(0, str(ROOT))

from examples.ota_flights import RunningSite, running_site  # noqa: E402
from examples.ota_flights.flights import FLIGHTS, get_flight, search_flights  # noqa: E402

PERSONA = "pays-on-time@bnpl.test"


def traveller() -> str:
    """A fresh customer with the pays-on-time persona (its own ¥20,000 limit: tests do not share credit)."""
    return f"pays-on-time+{secrets.token_hex(4)}@bnpl.test"


@pytest.fixture(scope="module")
def lender() -> Iterator[SandboxInfo]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BNPL_SANDBOX_DELIVERY", "0")  # the test steps webhook delivery itself
        with run_sandbox() as sandbox:
            yield sandbox


@pytest.fixture(scope="module")
def site(lender: SandboxInfo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSite]:
    with running_site(lender.base_url, lender.secret_key, data_dir=tmp_path_factory.mktemp("ota")) as running:
        yield running


@pytest.fixture(scope="module")
def deliver(lender: SandboxInfo, site: RunningSite) -> Iterator[Callable[[], int]]:
    """Deliver every due webhook to the site now; returns how many attempts were made."""
    worker = DeliveryWorker(lender.db, jitter=0)
    try:
        yield worker.run_due
    finally:
        worker.close()


@pytest.fixture
def http(site: RunningSite) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def api(lender: SandboxInfo) -> Iterator[Client]:
    with Client(api_key=lender.secret_key, base_url=lender.base_url) as client:
        yield client


# --- helpers --------------------------------------------------------------------------------------------------


def status_of(page: httpx.Response) -> str:
    match = re.search(r'id="status"[^>]*>([^<]*)<', page.text)
    assert match is not None, page.text[:2000]
    return match.group(1)


def field(page: httpx.Response, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', page.text)
    assert match is not None, f"no #{element_id} on the page"
    return html.unescape(match.group(1))


def book(
    http: httpx.Client, flight_id: str = "MU5401-Y", *, email: str | None = None, plan: str = "monthly:6:annuity"
) -> httpx.Response:
    return http.post(
        "/bookings",
        data={
            "flight_id": flight_id,
            "travel_date": "",
            "plan": plan,
            "passenger": "李雷 LI Lei",
            "email": email or traveller(),
        },
    )


def approve(http: httpx.Client, approval_url: str, action: str = "confirm") -> tuple[str, httpx.Response]:
    """The customer approves on the hosted page and the browser follows the lender's redirect back to the site
    (the plugin's /bnpl/return, then the booking page). Returns the booking reference and that page."""
    outcome = complete_hosted_page(approval_url, plan=0, action=action)  # type: ignore[arg-type]
    assert outcome.redirect_url.startswith(str(http.base_url.join("/bnpl/return?")))
    page = http.get(outcome.redirect_url, follow_redirects=True)
    assert page.status_code == 200, page.text
    match = re.match(r"^/bookings/(OTA-[A-Z2-9]{10})$", page.url.path)
    assert match is not None, page.url
    return match.group(1), page


def confirmed_booking(http: httpx.Client, deliver: Callable[[], int], flight_id: str = "MU5401-Y") -> str:
    answer = book(http, flight_id)
    assert answer.status_code == 303, answer.text
    assert "/hosted/checkouts/chk_" in answer.headers["location"], "the lender declined the checkout"
    reference, _ = approve(http, answer.headers["location"])
    deliver()
    assert status_of(http.get(f"/bookings/{reference}")) == "confirmed"
    return reference


def order_of(site: RunningSite, api: Client, reference: str) -> Any:
    desk = site.app.state.desk
    booking = desk.bookings.get(reference)
    payment = desk.router.book.get(booking.payment_reference)
    assert payment is not None
    assert payment.order_id is not None
    return api.orders.retrieve(payment.order_id)


# --- search and fare page -------------------------------------------------------------------------------------


def test_search_lists_the_route_cheapest_first(http: httpx.Client) -> None:
    page = http.get("/flights", params={"origin": "sha", "destination": "ctu"})
    assert page.status_code == 200
    shown = re.findall(r'data-flight="([^"]+)"', page.text)
    expected = [
        f.id for f in sorted((f for f in FLIGHTS if (f.origin, f.destination) == ("SHA", "CTU")), key=lambda f: f.fare)
    ]
    assert shown == expected
    assert "¥899.00" in page.text
    assert "¥8,680.00" in page.text


def test_search_refuses_an_unknown_airport(http: httpx.Client) -> None:
    page = http.get("/flights", params={"origin": "SHA", "destination": "<b>XXX</b>"})
    assert page.status_code == 400
    assert "is not an airport we serve" in field(page, "error")
    assert "<b>XXX</b>" not in page.text  # escaped, never markup


def test_fixture_fares_span_the_brief() -> None:
    fares = [f.fare for f in FLIGHTS]
    assert min(fares) == 39900
    assert max(fares) == 1299900
    assert sum(1 for f in FLIGHTS if f.fare > 800000) >= 3
    assert next(f.id for f in search_flights("PEK", "CAN")) == "HU7801-Y"


def test_fare_page_shows_every_quoted_plan_with_its_rates(http: httpx.Client, api: Client) -> None:
    flight = get_flight("MU5401-Y")
    page = http.get(f"/flights/{flight.id}")
    assert page.status_code == 200
    quotes = api.plans.quote(amount=flight.fare, currency="CNY").data
    keys = re.findall(r'data-plan="([^"]+)"', page.text)
    assert sorted(keys) == sorted(f"{q.product}:{q.periods}:{q.method or ''}" for q in quotes)
    for q in quotes:
        rates = f"{q.annual_rates['cn_compound']}% (IRR 复利) · {q.annual_rates['cn_simple']}% ({q.simple_rate_label})"
        assert rates in page.text
    # the plugin's "as low as" widget, pointed at the plugin's endpoint, for the fare in fen
    assert f'data-bnpl-amount="{flight.fare}"' in page.text
    assert 'src="/bnpl/widget.js"' in page.text
    cheapest = http.get("/bnpl/as-low-as", params={"amount": flight.fare, "currency": "CNY"}).json()["as_low_as"]
    monthly = [max(i.amount for i in q.schedule) for q in quotes if q.product == "monthly"]
    assert cheapest["monthly_amount"] == min(monthly)


def test_unknown_flight_is_404(http: httpx.Client) -> None:
    assert http.get("/flights/XX999-Y").status_code == 404


# --- booking --------------------------------------------------------------------------------------------------


def test_booking_is_pending_until_the_webhook_then_confirmed(
    http: httpx.Client, deliver: Callable[[], int], site: RunningSite, api: Client
) -> None:
    answer = book(http)
    assert answer.status_code == 303
    approval_url = answer.headers["location"]
    assert "/hosted/checkouts/chk_" in approval_url
    assert re.search(r"ota_trips=OTA-", answer.headers["set-cookie"])

    reference, page = approve(http, approval_url)
    assert status_of(page) == "pending"  # approved on the return, confirmed with the API, no webhook yet
    assert '<meta http-equiv="refresh"' in page.text

    assert deliver() >= 2  # checkout.approved and order.authorized, signed, to /bnpl/webhook
    page = http.get(f"/bookings/{reference}")
    assert status_of(page) == "confirmed"
    assert '<meta http-equiv="refresh"' not in page.text
    assert "lender webhook order.authorized: payment authorized" in page.text
    order = order_of(site, api, reference)
    assert order.status == "authorized"
    assert order.amount_authorized == 129900
    rows = re.findall(r'<tr data-instalment="(\d+)">', page.text)
    assert [int(n) for n in rows] == [i.number for i in order.plan.schedule]
    assert len(rows) == 6  # the plan picked on the fare page was the only one offered


def test_the_return_is_confirmed_with_the_api_not_the_query(http: httpx.Client) -> None:
    answer = book(http)
    checkout_id = re.search(r"(chk_[A-Za-z0-9]+)", answer.headers["location"])
    assert checkout_id is not None
    # a forged "approved" return for a checkout the customer never approved
    page = http.get(f"/bnpl/return?checkout_id={checkout_id.group(1)}&status=approved", follow_redirects=True)
    assert status_of(page) == "awaiting_approval"
    assert field(page, "continue-approval").strip().startswith("继续付款")


def test_ticket_issue_captures_and_the_webhook_follows(
    http: httpx.Client, deliver: Callable[[], int], site: RunningSite, api: Client
) -> None:
    reference = confirmed_booking(http, deliver)
    page = http.post(f"/bookings/{reference}/ticket", follow_redirects=True)
    assert page.status_code == 200
    assert status_of(page) == "ticketed"
    assert re.fullmatch(r"Ticket 781-\d{10} issued; ¥1,299.00 captured\.", field(page, "message"))
    assert order_of(site, api, reference).amount_captured == 129900
    deliver()
    assert "lender webhook order.captured: payment captured" in http.get(f"/bookings/{reference}").text
    # a second click is refused: the ticket is already issued, nothing is captured twice
    again = http.post(f"/bookings/{reference}/ticket")
    assert again.status_code == 409
    assert order_of(site, api, reference).amount_captured == 129900


def test_rebook_cheaper_before_the_ticket_amends_the_authorization(
    http: httpx.Client, deliver: Callable[[], int], site: RunningSite, api: Client
) -> None:
    reference = confirmed_booking(http, deliver)
    page = http.post(f"/bookings/{reference}/rebook", data={"flight_id": "CA4512-Y"}, follow_redirects=True)
    assert page.status_code == 200, page.text
    assert (
        field(page, "message") == "Changed to CA4512 SHA→CTU 经济舱 Economy: the authorization was lowered by ¥200.00."
    )
    order = order_of(site, api, reference)
    assert (order.amount_authorized, order.amount_captured, order.amount_refunded) == (109900, 0, 0)
    assert field(page, "fare") == "¥1,099.00"
    page = http.post(f"/bookings/{reference}/ticket", follow_redirects=True)
    assert order_of(site, api, reference).amount_captured == 109900
    assert status_of(page) == "ticketed"


def test_rebook_cheaper_after_the_ticket_refunds_the_difference(
    http: httpx.Client, deliver: Callable[[], int], site: RunningSite, api: Client
) -> None:
    reference = confirmed_booking(http, deliver)
    http.post(f"/bookings/{reference}/ticket")
    page = http.post(f"/bookings/{reference}/rebook", data={"flight_id": "3U8962-Y"}, follow_redirects=True)
    assert field(page, "message").endswith("¥400.00 refunded.")
    order = order_of(site, api, reference)
    assert (order.amount_captured, order.amount_refunded) == (129900, 40000)
    assert sum(i.amount for i in order.plan.schedule) == order.disclosures.total_payable
    assert field(page, "refunded") == "¥400.00"
    assert field(page, "fare") == "¥899.00"


def test_rebook_dearer_refunds_and_opens_a_new_checkout(
    http: httpx.Client, deliver: Callable[[], int], site: RunningSite, api: Client
) -> None:
    reference = confirmed_booking(http, deliver, "3U8962-Y")
    http.post(f"/bookings/{reference}/ticket")
    first = order_of(site, api, reference)
    answer = http.post(f"/bookings/{reference}/rebook", data={"flight_id": "MU5401-Y"})
    assert answer.status_code == 303
    assert "/hosted/checkouts/chk_" in answer.headers["location"]
    assert api.orders.retrieve(first.id).amount_refunded == 89900  # the old payment is refunded in full
    assert status_of(http.get(f"/bookings/{reference}")) == "awaiting_approval"

    same, page = approve(http, answer.headers["location"])
    assert same == reference
    assert status_of(page) == "pending"
    deliver()
    page = http.get(f"/bookings/{reference}")
    assert status_of(page) == "confirmed"
    second = order_of(site, api, reference)
    assert second.id != first.id
    assert second.amount_authorized == 129900
    assert second.merchant_reference == f"{reference}-2"


def test_rebooking_offers_only_the_same_route(
    http: httpx.Client, deliver: Callable[[], int], site: RunningSite, api: Client
) -> None:
    reference = confirmed_booking(http, deliver)
    form = http.get(f"/bookings/{reference}/rebook")
    assert set(re.findall(r'data-flight="([^"]+)"', form.text)) == {"3U8962-Y", "CA4512-Y", "MU5401-J", "3U8962-FAM"}
    page = http.post(f"/bookings/{reference}/rebook", data={"flight_id": "CA1315-Y"})
    assert page.status_code == 409
    assert field(page, "error") == "Choose another flight on the same route."
    assert order_of(site, api, reference).amount_authorized == 129900


def test_cancel_after_the_ticket_refunds_everything(
    http: httpx.Client, deliver: Callable[[], int], site: RunningSite, api: Client
) -> None:
    reference = confirmed_booking(http, deliver)
    http.post(f"/bookings/{reference}/ticket")
    page = http.post(f"/bookings/{reference}/cancel", follow_redirects=True)
    assert status_of(page) == "canceled"
    assert field(page, "message") == "Trip canceled: ¥1,299.00 refunded."
    assert field(page, "refunded") == "¥1,299.00"
    deliver()
    assert order_of(site, api, reference).status == "refunded"
    assert "lender webhook order.refunded: payment refunded" in http.get(f"/bookings/{reference}").text
    assert http.post(f"/bookings/{reference}/cancel").status_code == 409  # nothing refunded twice


def test_cancel_before_the_ticket_voids(
    http: httpx.Client, deliver: Callable[[], int], site: RunningSite, api: Client
) -> None:
    reference = confirmed_booking(http, deliver)
    page = http.post(f"/bookings/{reference}/cancel", follow_redirects=True)
    assert "nothing was charged" in field(page, "message")
    order = order_of(site, api, reference)
    assert (order.status, order.amount_voided, order.amount_captured) == ("voided", 129900, 0)


def test_instalments_page_shows_the_live_schedule(
    http: httpx.Client, deliver: Callable[[], int], site: RunningSite, api: Client
) -> None:
    reference = confirmed_booking(http, deliver, "MU5101-F")  # ¥12,999 first class
    http.post(f"/bookings/{reference}/ticket")
    page = http.get(f"/bookings/{reference}/instalments")
    assert page.status_code == 200
    order = order_of(site, api, reference)
    assert field(page, "order-id") == order.id
    assert field(page, "order-status") == "captured"
    rows = re.findall(
        r'<tr data-instalment="(\d+)"><td>\d+</td><td>([\d-]+)</td><td class="num">([^<]+)</td>'
        r'<td class="num">([^<]+)</td><td>(\w+)</td></tr>',
        page.text,
    )
    from bnpl.money import Money

    assert rows == [
        (
            str(i.number),
            i.due_date.isoformat(),
            Money(i.amount, "CNY").format("zh_CN"),
            Money(i.amount_paid, "CNY").format("zh_CN"),
            i.status,
        )
        for i in order.plan.schedule
    ]
    assert sum(i.amount for i in order.plan.schedule) == order.disclosures.total_payable


def test_a_declined_customer_is_told_and_nothing_is_charged(http: httpx.Client) -> None:
    answer = book(http, email="decline@bnpl.test")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/bookings/OTA-")
    page = http.get(answer.headers["location"])
    assert status_of(page) == "declined"
    assert 'id="cancel"' not in page.text
    assert 'id="issue-ticket"' not in page.text


def test_canceling_on_the_hosted_page_returns_to_a_canceled_booking(http: httpx.Client) -> None:
    answer = book(http)
    _, page = approve(http, answer.headers["location"], action="cancel")
    assert status_of(page) == "canceled"
    assert "nothing was charged" in page.text


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"email": "not-an-email"}, "email: enter a valid email address"),
        ({"passenger": "   "}, "name: enter the traveller's name"),
        ({"plan": "monthly:6:<script>"}, "plan: choose one of the plans listed"),
        ({"travel_date": "2001-01-01"}, "date: choose a day from today"),
    ],
)
def test_bad_booking_forms_are_refused_with_the_field_named(
    http: httpx.Client, form: dict[str, str], error: str
) -> None:
    data = {"flight_id": "MU5401-Y", "travel_date": "", "plan": "monthly:6:annuity", "passenger": "LI Lei"}
    data |= {"email": PERSONA} | form
    page = http.post("/bookings", data=data)
    assert page.status_code == 400
    assert field(page, "error").startswith(error)
    assert "<script>" not in page.text


def test_names_are_escaped_on_the_booking_page(http: httpx.Client) -> None:
    answer = http.post(
        "/bookings",
        data={
            "flight_id": "HU7801-Y",
            "travel_date": "",
            "plan": "pay_in_4:4:",
            "passenger": "<img src=x onerror=alert(1)>",
            "email": PERSONA,
        },
    )
    checkout = re.search(r"(chk_[A-Za-z0-9]+)", answer.headers["location"])
    assert checkout is not None
    page = http.get(f"/bnpl/return?checkout_id={checkout.group(1)}", follow_redirects=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert "<img src=x" not in page.text


def test_unknown_bookings_and_payments_are_404(http: httpx.Client) -> None:
    assert http.get("/bookings/OTA-AAAAAAAAAA").status_code == 404
    assert http.get("/bookings/../etc").status_code == 404
    assert http.get("/payment-result", params={"reference": "", "reason": "unknown_checkout"}).status_code == 404


def test_my_trips_lists_this_browsers_bookings(http: httpx.Client, deliver: Callable[[], int]) -> None:
    reference = confirmed_booking(http, deliver)
    page = http.get("/trips")
    assert reference in page.text
    with httpx.Client(base_url=str(http.base_url)) as stranger:
        assert reference not in stranger.get("/trips").text
