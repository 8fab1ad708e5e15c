"""bnpl_oscar in a real Oscar 4.x shop (SQLite, migrations run here) against a running sandbox lender: a guest
puts a product in the basket and checks out through Oscar's own views (Django test client), approves on the
hosted page, comes back, and the order is placed; the lender's signed webhooks are replayed into the webhook
view once, twice and out of order; the dashboard shows the instalment schedule."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from conftest_django import Delivery, Lender, approve, configure, lender, migrate

configure()

from django.conf import settings  # noqa: E402 - Django must be configured first
from django.contrib.messages import get_messages  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402
from oscar.core.loading import get_model  # noqa: E402
from oscar.test.factories import create_product  # noqa: E402
from oscar_project.settings import BNPL_OSCAR  # noqa: E402

from bnpl_oscar.checkout import SESSION_KEY  # noqa: E402
from bnpl_oscar.conf import BnplOscarConfigurationError, bnpl_settings, reset  # noqa: E402

__all__ = ["lender"]  # the module-scoped sandbox fixture, imported for pytest

Basket = get_model("basket", "Basket")
Order = get_model("order", "Order")
WEBHOOK_URL = "/checkout/bnpl/webhook/"


@pytest.fixture(scope="module")
def shop(lender: Lender, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    migrate()
    settings.BNPL_OSCAR = {
        **BNPL_OSCAR,
        "API_KEY": lender.secret_key,
        "BASE_URL": lender.base_url,
        "WEBHOOK_SECRET": lender.webhook_secret,
        "WEBHOOK_STORE": str(tmp_path_factory.mktemp("oscar-dedup") / "dedup.sqlite3"),
    }
    reset()
    yield
    reset()


def to_lender(client: Client, email: str, price: str = "1299.00") -> str:
    """Basket -> guest checkout -> place order: returns the lender URL Oscar redirected to."""
    product = create_product(price=Decimal(price), num_in_stock=5)
    product_class = product.get_product_class()
    product_class.requires_shipping = False  # no address step: the test is about payment
    product_class.save()
    assert client.post(reverse("basket:add", kwargs={"pk": product.pk}), {"quantity": 1}).status_code == 302
    gateway = client.post(reverse("checkout:index"), {"username": email, "options": "anonymous"})
    assert gateway.status_code == 302, gateway.content[:500]
    # Oscar's own steps: the shipping steps record "no shipping required", then the payment-details page
    steps = client.get(gateway["Location"], follow=True)
    assert steps.status_code == 200
    assert steps.redirect_chain[-1][0] == reverse("checkout:payment-details"), steps.redirect_chain
    placed = client.post(reverse("checkout:preview"), {"action": "place_order"})
    assert placed.status_code == 302, placed.content[:2000]
    return str(placed["Location"])


def come_back(client: Client, redirect_url: str) -> Any:
    parts = urlsplit(redirect_url)
    return client.get(f"{parts.path}?{parts.query}")


def replay(delivery: Delivery) -> Any:
    return Client(enforce_csrf_checks=True).post(
        WEBHOOK_URL, data=delivery.body, content_type="application/json", headers=delivery.django_headers()
    )


def last_order() -> Any:
    return Order.objects.order_by("-id").first()


@pytest.mark.usefixtures("shop")
def test_guest_checkout_places_the_order_after_the_api_confirms_approval(lender: Lender) -> None:
    client = Client()
    approval_url = to_lender(client, "pays-on-time@bnpl.test")
    state = client.session[SESSION_KEY]
    basket = Basket.objects.get(id=state["basket_id"])
    assert basket.status == Basket.FROZEN
    checkout = lender.client.checkouts.retrieve(state["checkout_id"])
    assert approval_url == checkout.approval_url
    assert (checkout.amount, checkout.currency, checkout.merchant_reference) == (129900, "CNY", state["order_number"])
    assert not Order.objects.filter(number=state["order_number"]).exists()

    response = come_back(client, approve(approval_url))
    assert response.status_code == 302
    assert response["Location"] == reverse("checkout:thank-you")
    order = Order.objects.get(number=state["order_number"])
    assert order.status == "Authorised"
    assert order.total_incl_tax == Decimal("1299.00")
    assert Basket.objects.get(id=basket.id).status == Basket.SUBMITTED
    source = order.sources.get()
    lender_order = lender.client.checkouts.retrieve(checkout.id).order_id
    assert (source.source_type.name, source.reference, source.amount_allocated) == (
        "Pay later",
        lender_order,
        Decimal("1299.00"),
    )
    assert [(t.txn_type, t.amount) for t in source.transactions.all()] == [("Authorise", Decimal("1299.00"))]
    assert [(e.event_type.name, e.amount) for e in order.payment_events.all()] == [("Authorised", Decimal("1299.00"))]
    # coming back again (reload) places nothing twice
    again = come_back(client, f"{checkout.return_url}?checkout_id={checkout.id}&status=approved")
    assert again.status_code == 302
    assert Order.objects.filter(number=state["order_number"]).count() == 1


@pytest.mark.usefixtures("shop")
def test_webhooks_move_the_order_along_the_pipeline_once_and_forward_only(lender: Lender) -> None:
    client = Client()
    come_back(client, approve(to_lender(client, "pays-on-time@bnpl.test")))
    order = last_order()
    source = order.sources.get()
    lender.client.orders.capture(source.reference)
    captured = lender.inbox.wait_for("order.captured", source.reference)
    for delivery in (captured, captured):  # a duplicate delivery
        assert replay(delivery).status_code == 200
    order.refresh_from_db()
    source.refresh_from_db()
    assert order.status == "Paid"
    assert source.amount_debited == Decimal("1299.00")

    lender.client.orders.refund(source.reference, amount=30000)
    refunded = lender.inbox.wait_for("order.refunded", source.reference)
    approved = lender.inbox.wait_for("checkout.approved", lender.client.orders.retrieve(source.reference).checkout_id)
    for delivery in (refunded, captured, approved, refunded):  # late and duplicate deliveries
        assert replay(delivery).status_code == 200
    order.refresh_from_db()
    source.refresh_from_db()
    assert order.status == "Partly refunded"  # never back to Paid or Authorised
    assert (source.amount_debited, source.amount_refunded) == (Decimal("1299.00"), Decimal("300.00"))
    events = [(e.event_type.name, e.amount) for e in order.payment_events.order_by("id")]
    assert events == [
        ("Authorised", Decimal("1299.00")),
        ("Captured", Decimal("1299.00")),
        ("Refunded", Decimal("300.00")),
    ]
    assert sorted(t.txn_type for t in source.transactions.all()) == ["Authorise", "Debit", "Refund"]


@pytest.mark.usefixtures("shop")
def test_dashboard_order_page_shows_the_instalment_schedule(lender: Lender) -> None:
    client = Client()
    come_back(client, approve(to_lender(client, "pays-on-time@bnpl.test")))
    order = last_order()
    schedule = lender.client.orders.retrieve(order.sources.get().reference).plan.schedule
    staff = get_model("auth", "User").objects.create_user("staff", "staff@shop.example", "pw", is_staff=True)
    staff.is_superuser = True
    staff.save()
    dashboard = Client()
    dashboard.force_login(staff)
    page = dashboard.get(reverse("dashboard:order-detail", kwargs={"number": order.number}))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Pay-later instalments" in html
    assert html.count('class="bnpl-instalment"') == len(schedule)
    first = Decimal(schedule[0].amount) / 100
    assert f"{first:,.2f}" in html


@pytest.mark.usefixtures("shop")
def test_declined_customer_gets_the_basket_back_with_a_message(lender: Lender) -> None:
    client = Client()
    approval_url = to_lender(client, "decline@bnpl.test")
    state = client.session[SESSION_KEY]
    assert httpx.get(approval_url).status_code == 200  # the lender decides and shows its answer
    # even a forged "approved" return is checked with the API
    response = client.get(reverse("bnpl_oscar:return", kwargs={"basket_id": state["basket_id"]}) + "?status=approved")
    assert response.status_code == 302
    assert response["Location"] == reverse("basket:summary")
    assert Basket.objects.get(id=state["basket_id"]).status == Basket.OPEN
    assert not Order.objects.filter(number=state["order_number"]).exists()
    assert any("declined" in str(m) for m in get_messages(response.wsgi_request))


@pytest.mark.usefixtures("shop")
def test_canceled_approval_thaws_the_basket(lender: Lender) -> None:
    client = Client()
    state_url = to_lender(client, "pays-on-time@bnpl.test")
    state = client.session[SESSION_KEY]
    response = come_back(client, approve(state_url, "cancel"))
    assert response["Location"] == reverse("basket:summary")
    assert Basket.objects.get(id=state["basket_id"]).status == Basket.OPEN
    assert not Order.objects.filter(number=state["order_number"]).exists()


@pytest.mark.usefixtures("shop")
def test_events_for_an_order_not_placed_yet_are_5xx(lender: Lender) -> None:
    client = Client()
    approval_url = to_lender(client, "pays-on-time@bnpl.test")
    state = client.session[SESSION_KEY]
    approve(approval_url)  # approved, but the customer has not come back: no Oscar order yet
    approved = lender.inbox.wait_for("checkout.approved", state["checkout_id"])
    assert replay(approved).status_code == 503
    order_id = lender.client.checkouts.retrieve(state["checkout_id"]).order_id
    lender.client.orders.capture(order_id)
    assert replay(lender.inbox.wait_for("order.captured", order_id)).status_code == 503
    # the customer comes back, the order is placed, and the retried deliveries now apply
    come_back(client, f"http://testserver/checkout/bnpl/return/{state['basket_id']}/?status=approved")
    order = Order.objects.get(number=state["order_number"])
    assert replay(approved).status_code == 200
    assert replay(lender.inbox.wait_for("order.captured", order_id)).status_code == 200
    order.refresh_from_db()
    assert order.status == "Paid"


@pytest.mark.usefixtures("shop")
def test_bad_signature_is_400_and_changes_nothing(lender: Lender) -> None:
    client = Client()
    come_back(client, approve(to_lender(client, "pays-on-time@bnpl.test")))
    order = last_order()
    source = order.sources.get()
    lender.client.orders.capture(source.reference)
    captured = lender.inbox.wait_for("order.captured", source.reference)
    forged = Delivery(captured.body, {**captured.headers, "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})
    tampered = Delivery(captured.body.replace(b'"captured"', b'"refunded"', 1), captured.headers)
    for bad in (forged, tampered, Delivery(captured.body, {})):
        assert replay(bad).status_code == 400
    order.refresh_from_db()
    assert order.status == "Authorised"
    assert order.sources.get().amount_debited == Decimal("0.00")
    with override_settings(MIDDLEWARE=["django_project.middleware.reads_post_first"]):
        multipart = Client().post(WEBHOOK_URL, {"event": captured.body.decode()}, headers=captured.django_headers())
    assert multipart.status_code == 500
    assert b"request.POST" in multipart.content
    assert Client().get(WEBHOOK_URL).status_code == 405
    order.refresh_from_db()
    assert order.status == "Authorised"


def test_settings_errors_are_typed_and_never_echo_secrets() -> None:
    cases = [
        ({}, "API_KEY"),
        ({"API_KEY": "pk_test_x", "WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, "API_KEY"),
        ({"API_KEY": "sk_test_x", "WEBHOOK_SECRET": "hunter2-hunter2"}, "WEBHOOK_SECRET"),
        (
            {
                "API_KEY": "sk_test_x",
                "WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "STATUS_PIPELINE": {"order.shipped": "Shipped"},
            },
            "unknown keys",
        ),
    ]
    saved = getattr(settings, "BNPL_OSCAR", None)
    try:
        for value, message in cases:
            settings.BNPL_OSCAR = value
            reset()
            with pytest.raises(BnplOscarConfigurationError, match=message) as error:
                bnpl_settings()
            assert "hunter2" not in str(error.value)
    finally:
        settings.BNPL_OSCAR = saved
        bnpl_settings.cache_clear()
