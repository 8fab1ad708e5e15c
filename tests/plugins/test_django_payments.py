"""bnpl_django_payments in a real django-payments 4.x project (SQLite, migrations run here) against a running
sandbox lender: the redirect, the customer's return confirmed with the API, capture/refund with the amounts
saved, and the lender's signed webhooks replayed (once, twice, out of order) into the static callback URL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from conftest_django import Delivery, Lender, approve, configure, lender, migrate
from hypothesis import given
from hypothesis import strategies as st

configure()

from django.conf import settings  # noqa: E402 - Django must be configured first
from django.test import Client, override_settings  # noqa: E402
from django_project.shop.models import FAILURE_URL, SUCCESS_URL, Payment  # noqa: E402
from payments import PaymentStatus, RedirectNeeded  # noqa: E402
from payments.core import PROVIDER_CACHE, provider_factory  # noqa: E402
from payments.signals import status_changed  # noqa: E402

from bnpl.money import PrecisionError  # noqa: E402
from bnpl_django_payments import BnplConfigurationError, BnplProvider  # noqa: E402
from bnpl_django_payments.amounts import to_decimal, to_minor  # noqa: E402

__all__ = ["lender"]  # the module-scoped sandbox fixture, imported for pytest

WEBHOOK_URL = "/payments/process/bnpl/"


@pytest.fixture(scope="module")
def variants(lender: Lender, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Two variants on the running sandbox: ``bnpl`` authorises only, ``bnpl-auto`` captures on approval."""
    migrate()
    store_dir = tmp_path_factory.mktemp("dedup")
    common = {"api_key": lender.secret_key, "base_url": lender.base_url, "webhook_secret": lender.webhook_secret}
    settings.PAYMENT_VARIANTS = {
        "bnpl": (
            "bnpl_django_payments.BnplProvider",
            {**common, "capture": False, "webhook_store": str(store_dir / "bnpl.sqlite3")},
        ),
        "bnpl-auto": (
            "bnpl_django_payments.BnplProvider",
            {**common, "capture": True, "webhook_store": str(store_dir / "auto.sqlite3")},
        ),
    }
    PROVIDER_CACHE.clear()
    yield
    for provider in PROVIDER_CACHE.values():
        provider.handler.store.close()
        provider.client.close()
    PROVIDER_CACHE.clear()
    settings.PAYMENT_VARIANTS = {}


@pytest.fixture
def changes() -> Iterator[list[tuple[int, str]]]:
    """Every ``status_changed`` signal: (payment pk, new status)."""
    seen: list[tuple[int, str]] = []

    def record(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append((instance.pk, instance.status))

    status_changed.connect(record)
    yield seen
    status_changed.disconnect(record)


def new_payment(variant: str = "bnpl", total: str = "1299.00", email: str = "pays-on-time@bnpl.test") -> Any:
    return Payment.objects.create(
        variant=variant,
        currency="CNY",
        total=Decimal(total),
        description="Tea set",
        billing_email=email,
    )


def redirect_to_lender(payment: Any) -> str:
    with pytest.raises(RedirectNeeded) as redirect:
        payment.get_form()
    return str(redirect.value)


def return_from_lender(redirect_url: str) -> Any:
    parts = urlsplit(redirect_url)
    return Client().get(f"{parts.path}?{parts.query}")


def replay(delivery: Delivery, url: str = WEBHOOK_URL) -> Any:
    return Client(enforce_csrf_checks=True).post(
        url, data=delivery.body, content_type="application/json", headers=delivery.django_headers()
    )


def fresh(payment: Any) -> Any:
    return Payment.objects.get(pk=payment.pk)


# -- the whole flow -------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("variants")
def test_redirect_return_capture_webhook_and_partial_refund(lender: Lender, changes: list[tuple[int, str]]) -> None:
    payment = new_payment()
    approval_url = redirect_to_lender(payment)

    payment = fresh(payment)
    checkout = lender.client.checkouts.retrieve(payment.transaction_id)
    assert approval_url == checkout.approval_url
    assert (checkout.amount, checkout.currency, checkout.status) == (129900, "CNY", "open")
    assert checkout.merchant_reference == payment.token
    assert checkout.return_url == f"https://shop.example/payments/process/{payment.token}/"

    back = approve(approval_url)
    assert back.startswith(checkout.return_url)
    assert parse_qs(urlsplit(back).query)["status"] == ["approved"]
    response = return_from_lender(back)
    assert response.status_code == 302
    assert response["Location"] == SUCCESS_URL
    payment = fresh(payment)
    assert payment.status == PaymentStatus.PREAUTH
    order_id = payment.attrs.bnpl_order_id
    assert lender.client.orders.retrieve(order_id).status == "authorized"

    payment.capture()
    payment = fresh(payment)
    assert payment.status == PaymentStatus.CONFIRMED
    assert payment.captured_amount == Decimal("1299.00")  # saved, unlike BasePayment.capture() alone
    assert lender.client.orders.retrieve(order_id).amount_captured == 129900

    captured = lender.inbox.wait_for("order.captured", order_id)
    assert replay(captured).status_code == 200
    assert fresh(payment).captured_amount == Decimal("1299.00")

    provider = provider_factory("bnpl")
    refunded = provider.refund(payment, Decimal("299.00"))
    assert isinstance(refunded, Decimal)
    assert refunded == Decimal("299.00")
    payment.captured_amount -= refunded  # what BasePayment.refund() does with the value
    payment.save()
    payment.refund(Decimal("100.00"))  # and through the model, which needs the Decimal
    payment = fresh(payment)
    assert payment.captured_amount == Decimal("900.00")
    assert payment.status == PaymentStatus.CONFIRMED
    order = lender.client.orders.retrieve(order_id)
    assert (order.amount_captured, order.amount_refunded) == (129900, 39900)

    for delivery in [d for d in lender.inbox.deliveries if d.event["object_id"] == order_id]:
        assert replay(delivery).status_code == 200  # every late event: acknowledged, nothing rolls back
    payment = fresh(payment)
    assert (payment.status, payment.captured_amount) == (PaymentStatus.CONFIRMED, Decimal("900.00"))
    assert [s for pk, s in changes if pk == payment.pk] == [PaymentStatus.PREAUTH, PaymentStatus.CONFIRMED]


@pytest.mark.usefixtures("variants")
def test_capture_variant_captures_when_the_customer_comes_back(lender: Lender) -> None:
    payment = new_payment("bnpl-auto", "88.80")
    response = return_from_lender(approve(redirect_to_lender(payment)))
    assert response["Location"] == SUCCESS_URL
    payment = fresh(payment)
    assert (payment.status, payment.captured_amount) == (PaymentStatus.CONFIRMED, Decimal("88.80"))
    assert lender.client.orders.retrieve(payment.attrs.bnpl_order_id).amount_captured == 8880


@pytest.mark.usefixtures("variants")
def test_release_voids_the_authorization(lender: Lender) -> None:
    payment = new_payment()
    return_from_lender(approve(redirect_to_lender(payment)))
    payment = fresh(payment)
    payment.release()
    payment = fresh(payment)
    assert payment.status == PaymentStatus.REFUNDED
    assert lender.client.orders.retrieve(payment.attrs.bnpl_order_id).status == "voided"


# -- the return is confirmed with the API ---------------------------------------------------------------------


@pytest.mark.usefixtures("variants")
def test_forged_return_query_does_not_approve(lender: Lender) -> None:
    payment = new_payment()
    redirect_to_lender(payment)
    payment = fresh(payment)
    other = lender.client.checkouts.create(
        merchant_reference="someone-else",
        amount=100,
        currency="CNY",
        items=[{"name": "x", "category": "goods", "unit_amount": 100, "total_amount": 100}],
        return_url="https://shop.example/x",
    )
    response = Client().get(f"{payment.get_process_url()}?status=approved&checkout_id={other.id}")
    assert response["Location"] == FAILURE_URL
    assert fresh(payment).status == PaymentStatus.WAITING


@pytest.mark.usefixtures("variants")
def test_declined_and_canceled_customers_are_rejected(lender: Lender) -> None:
    declined = new_payment(email="decline@bnpl.test")
    page = httpx.get(redirect_to_lender(declined))  # the lender decides and shows the customer its answer
    assert page.status_code == 200
    declined = fresh(declined)
    assert lender.client.checkouts.retrieve(declined.transaction_id).status == "declined"
    assert Client().get(declined.get_process_url())["Location"] == FAILURE_URL
    assert fresh(declined).status == PaymentStatus.REJECTED

    canceled = new_payment()
    assert return_from_lender(approve(redirect_to_lender(canceled), "cancel"))["Location"] == FAILURE_URL
    canceled = fresh(canceled)
    assert canceled.status == PaymentStatus.REJECTED
    # the late checkout.canceled webhook is acknowledged and changes nothing
    assert replay(lender.inbox.wait_for("checkout.canceled", canceled.transaction_id)).status_code == 200
    assert fresh(canceled).status == PaymentStatus.REJECTED


# -- webhooks ---------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("variants")
def test_webhook_alone_confirms_when_the_customer_never_returns(lender: Lender) -> None:
    payment = new_payment("bnpl-auto", "50.00")
    approve(redirect_to_lender(payment))  # the customer closes the tab instead of coming back
    payment = fresh(payment)
    approved = lender.inbox.wait_for("checkout.approved", payment.transaction_id)
    assert replay(approved).status_code == 200
    payment = fresh(payment)
    assert (payment.status, payment.captured_amount) == (PaymentStatus.CONFIRMED, Decimal("50.00"))


@pytest.mark.usefixtures("variants")
def test_duplicate_and_out_of_order_webhooks_change_the_payment_once_and_never_backwards(
    lender: Lender, changes: list[tuple[int, str]]
) -> None:
    payment = new_payment()
    approve(redirect_to_lender(payment))
    payment = fresh(payment)
    approved = lender.inbox.wait_for("checkout.approved", payment.transaction_id)
    order_id = lender.client.checkouts.retrieve(payment.transaction_id).order_id
    # the merchant's back office captures and refunds at the lender directly; only webhooks tell the shop
    lender.client.orders.capture(order_id)
    lender.client.orders.refund(order_id, amount=30000)
    captured = lender.inbox.wait_for("order.captured", order_id)
    refunded = lender.inbox.wait_for("order.refunded", order_id)
    assert refunded.event["sequence"] > captured.event["sequence"]

    for delivery in (refunded, approved, captured, refunded, approved):  # newest first, then duplicates
        response = replay(delivery)
        assert response.status_code == 200, response.content
    payment = fresh(payment)
    assert payment.status == PaymentStatus.CONFIRMED
    assert payment.captured_amount == Decimal("999.00")  # 1299 - 300: the late capture did not undo the refund
    assert [s for pk, s in changes if pk == payment.pk] == [PaymentStatus.CONFIRMED]


@pytest.mark.usefixtures("variants")
def test_event_for_an_unknown_payment_is_5xx_until_the_payment_exists(lender: Lender) -> None:
    token = str(uuid.uuid4())
    checkout = lender.client.checkouts.create(
        merchant_reference=token,
        amount=6600,
        currency="CNY",
        items=[{"name": "Tea", "category": "goods", "unit_amount": 6600, "total_amount": 6600}],
        customer={"reference": "c-unknown", "email": "approve@bnpl.test"},
        return_url=f"https://shop.example/payments/process/{token}/",
    )
    approve(checkout.approval_url)
    approved = lender.inbox.wait_for("checkout.approved", checkout.id)

    first = replay(approved)
    assert first.status_code == 503  # the lender keeps it and retries
    assert not Payment.objects.filter(token=token).exists()

    Payment.objects.create(
        variant="bnpl", currency="CNY", total=Decimal("66.00"), token=token, transaction_id=checkout.id
    )
    assert replay(approved).status_code == 200
    assert Payment.objects.get(token=token).status == PaymentStatus.PREAUTH


@pytest.mark.usefixtures("variants")
def test_bad_signature_is_400_and_changes_nothing(lender: Lender) -> None:
    payment = new_payment()
    approve(redirect_to_lender(payment))
    payment = fresh(payment)
    approved = lender.inbox.wait_for("checkout.approved", payment.transaction_id)
    forged_sig = Delivery(
        approved.body, {**approved.headers, "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
    )
    tampered = Delivery(approved.body.replace(b'"approved"', b'"declined"'), approved.headers)
    unsigned = Delivery(approved.body, {})
    for bad in (forged_sig, tampered, unsigned):
        assert replay(bad).status_code == 400
        assert replay(bad, payment.get_process_url()).status_code == 400  # the per-payment URL too
    assert fresh(payment).status == PaymentStatus.WAITING
    assert replay(approved).status_code == 200  # the genuine delivery still applies afterwards
    assert fresh(payment).status == PaymentStatus.PREAUTH


@pytest.mark.usefixtures("variants")
def test_middleware_reading_request_post_on_multipart_gives_an_actionable_500(lender: Lender) -> None:
    payment = new_payment()
    approve(redirect_to_lender(payment))
    payment = fresh(payment)
    approved = lender.inbox.wait_for("checkout.approved", payment.transaction_id)
    with override_settings(MIDDLEWARE=["django_project.middleware.reads_post_first"]):
        response = Client().post(WEBHOOK_URL, {"event": approved.body.decode()}, headers=approved.django_headers())
    assert response.status_code == 500  # retried by the lender once the middleware is fixed
    assert b"request.POST" in response.content
    assert fresh(payment).status == PaymentStatus.WAITING
    # urlencoded bodies survive a request.POST read: Django keeps request.body for them
    with override_settings(MIDDLEWARE=["django_project.middleware.reads_post_first"]):
        response = Client().post(
            WEBHOOK_URL,
            data=approved.body,
            content_type="application/x-www-form-urlencoded",
            headers=approved.django_headers(),
        )
    assert response.status_code == 200
    assert fresh(payment).status == PaymentStatus.PREAUTH


@pytest.mark.usefixtures("variants")
def test_customer_level_events_are_acknowledged() -> None:
    from bnpl.webhooks import Webhook

    body = (
        b'{"id":"evt_cust1","object":"event","type":"customer.credit_unfrozen","created":"2027-01-15T08:00:00Z",'
        b'"api_version":"2026-01-01","object_id":"cus_1","sequence":1,"data":{"object":"customer_credit_notice",'
        b'"customer_id":"cus_1","currency":"CNY","credit_limit_before":0,"credit_limit_after":50000,'
        b'"effective_at":"2027-01-15T08:00:00Z"}}'
    )
    provider = provider_factory("bnpl")
    import time

    headers = Webhook(settings.PAYMENT_VARIANTS["bnpl"][1]["webhook_secret"]).sign("msg_c1", int(time.time()), body)
    assert isinstance(provider, BnplProvider)
    assert replay(Delivery(body, headers)).status_code == 200


# -- configuration and amounts --------------------------------------------------------------------------------


def test_configuration_errors_are_typed_and_never_echo_secrets(tmp_path: Path) -> None:
    with pytest.raises(BnplConfigurationError, match="sk_test_"):
        BnplProvider(api_key="pk_test_leaky", webhook_secret="whsec_x")
    with pytest.raises(BnplConfigurationError, match="webhook_secret") as bad_secret:
        BnplProvider(api_key="sk_test_abc", webhook_secret="not-a-secret-zzz")
    assert "not-a-secret-zzz" not in str(bad_secret.value)
    with pytest.raises(BnplConfigurationError, match="item_category"):
        BnplProvider(api_key="sk_test_abc", webhook_secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", item_category="x")
    with pytest.raises(BnplConfigurationError, match="webhook_store"):
        BnplProvider(api_key="sk_test_abc", webhook_secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", webhook_store=3)  # type: ignore[arg-type]
    ok = BnplProvider(
        api_key="sk_test_secretvalue",
        webhook_secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        webhook_store=str(tmp_path / "s.sqlite3"),
    )
    assert "secretvalue" not in repr(ok)
    ok.handler.store.close()


@given(
    minor=st.integers(min_value=0, max_value=10**9),
    currency=st.sampled_from(["CNY", "JPY", "KWD", "USD", "EUR"]),
)
def test_amounts_round_trip_exactly(minor: int, currency: str) -> None:
    assert to_minor(to_decimal(minor, currency), currency) == minor


def test_amounts_with_too_many_decimals_are_refused_not_rounded() -> None:
    with pytest.raises(PrecisionError):
        to_minor(Decimal("12.345"), "CNY")
    with pytest.raises(PrecisionError):
        to_minor(Decimal("1299.50"), "JPY")
    assert to_minor(Decimal("1299.00"), "JPY") == 1299
