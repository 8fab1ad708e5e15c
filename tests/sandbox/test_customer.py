"""The scripted customer walks the hosted page's own HTTP flow: approve, cancel, and refusals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import bnpl
from bnpl.models import Checkout
from bnpl.sandbox.customer import HostedPageError, complete_hosted_page
from bnpl.sandbox.server import SandboxInfo, run_sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxInfo]:
    with run_sandbox() as info:
        yield info


@pytest.fixture
def client(sandbox: SandboxInfo) -> Iterator[bnpl.Client]:
    with bnpl.Client(api_key=sandbox.secret_key, base_url=sandbox.base_url) as c:
        yield c


def open_checkout(client: bnpl.Client, email: str = "pays-on-time@bnpl.test") -> Checkout:
    return client.checkouts.create(
        merchant_reference="FLIGHT-1",
        amount=129900,
        currency="CNY",
        items=[{"name": "SHA→CTU", "category": "flight", "quantity": 1, "unit_amount": 129900, "total_amount": 129900}],
        customer={"reference": "traveller-1", "email": email},
        return_url="https://ota.example/return",
        cancel_url="https://ota.example/cancel",
    )


def test_confirming_a_plan_approves_the_checkout_with_that_plan(client: bnpl.Client) -> None:
    checkout = open_checkout(client)
    outcome = complete_hosted_page(checkout.approval_url, plan=2)
    assert outcome.status == "approved"
    assert outcome.checkout_id == checkout.id
    assert outcome.redirect_url.startswith("https://ota.example/return?")
    approved = client.checkouts.retrieve(checkout.id)
    assert approved.status == "approved"
    assert approved.order_id is not None
    order = client.orders.retrieve(approved.order_id)
    offered = outcome.plans_offered
    assert offered > 2
    assert order.plan.product == "monthly"


def test_cancel_sends_the_customer_to_the_cancel_url(client: bnpl.Client) -> None:
    checkout = open_checkout(client)
    outcome = complete_hosted_page(checkout.approval_url, action="cancel")
    assert outcome.status == "canceled"
    assert outcome.redirect_url.startswith("https://ota.example/cancel?")
    assert client.checkouts.retrieve(checkout.id).status == "canceled"


def test_a_closed_checkout_has_no_form(client: bnpl.Client) -> None:
    checkout = open_checkout(client)
    complete_hosted_page(checkout.approval_url)
    with pytest.raises(HostedPageError, match="no longer open"):
        complete_hosted_page(checkout.approval_url)


def test_a_plan_that_is_not_offered_is_refused_before_posting(client: bnpl.Client) -> None:
    checkout = open_checkout(client)
    with pytest.raises(HostedPageError, match="not offered"):
        complete_hosted_page(checkout.approval_url, plan=99)
    assert client.checkouts.retrieve(checkout.id).status == "open"


def test_a_tampered_link_is_refused(client: bnpl.Client) -> None:
    checkout = open_checkout(client)
    with pytest.raises(HostedPageError):
        complete_hosted_page(checkout.approval_url[:-4] + "0000")
    assert client.checkouts.retrieve(checkout.id).status == "open"
