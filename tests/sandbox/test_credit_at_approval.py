"""The credit limit is checked again when a checkout is approved, inside the approval transaction.

Checkouts are decided when opened; without this second check several open checkouts could all be approved and
together exceed the customer's limit.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import bnpl
from bnpl.models import Checkout
from bnpl.sandbox.customer import HostedPageClosedError, complete_hosted_page
from bnpl.sandbox.server import SandboxInfo, run_sandbox

LOW_LIMIT = "low-limit+approval@bnpl.test"  # ¥500 limit (docs/sandbox-personas.md)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxInfo]:
    with run_sandbox() as info:
        yield info


@pytest.fixture
def client(sandbox: SandboxInfo) -> Iterator[bnpl.Client]:
    with bnpl.Client(api_key=sandbox.secret_key, base_url=sandbox.base_url) as c:
        yield c


def open_checkout(client: bnpl.Client, amount: int, ref: str, email: str = LOW_LIMIT) -> Checkout:
    return client.checkouts.create(
        merchant_reference=ref,
        amount=amount,
        currency="CNY",
        items=[
            {"name": "Hotel night", "category": "hotel", "quantity": 1, "unit_amount": amount, "total_amount": amount}
        ],
        customer={"reference": email.split("@")[0].replace("+", "."), "email": email},
        return_url="https://ota.example/return",
    )


def test_second_checkout_beyond_the_limit_is_declined_at_approval(client: bnpl.Client) -> None:
    first, second = open_checkout(client, 30000, "H-1"), open_checkout(client, 30000, "H-2")
    assert first.status == second.status == "open"  # each fits the ¥500 limit on its own

    assert complete_hosted_page(first.approval_url).status == "approved"
    with pytest.raises(HostedPageClosedError):
        complete_hosted_page(second.approval_url)

    declined = client.checkouts.retrieve(second.id)
    assert declined.status == "declined"
    assert declined.decline_reason == "insufficient_credit"
    assert declined.order_id is None
    events = client.events.list(object_id=second.id).data
    assert [e.type for e in events] == ["checkout.declined"]


def test_credit_released_by_a_void_can_be_used_again(client: bnpl.Client) -> None:
    email = "low-limit+void@bnpl.test"  # a customer of its own: nothing in use yet
    first, second = open_checkout(client, 40000, "H-3", email), open_checkout(client, 40000, "H-4", email)
    complete_hosted_page(first.approval_url)
    order_id = client.checkouts.retrieve(first.id).order_id
    assert order_id is not None
    client.orders.void(order_id)
    assert complete_hosted_page(second.approval_url).status == "approved"
