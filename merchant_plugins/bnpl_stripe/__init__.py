"""bnpl_stripe: a down payment by card through the merchant's Stripe account, the rest on pay-later.

::

    import stripe, bnpl
    from bnpl import Money
    from bnpl_stripe import DownPaymentSaga, SagaStore

    saga = DownPaymentSaga(
        stripe_client=stripe.StripeClient("sk_test_…", max_network_retries=2),
        lender=bnpl.Client(api_key="sk_test_…"),
        store=SagaStore("sagas.sqlite3"),
        stripe_webhook_secret="whsec_…", lender_webhook_secret="whsec_…",
    )
    run = saga.start("order-42", Money(1_000_000, "CNY"), Money(200_000, "CNY"),
                     {"reference": "cust-7", "email": "approve@bnpl.test"}, return_url="https://shop/return")
    # browser: Stripe.js confirms run.client_secret; the customer approves at run.approval_url

See ``docs/plugins/stripe-down-payments.md``.
"""

from __future__ import annotations

from bnpl_stripe.amounts import STRIPE_ZERO_DECIMAL, from_stripe_amount, stripe_exponent, to_stripe_amount
from bnpl_stripe.errors import (
    AmountError,
    SagaConflictError,
    SagaError,
    SagaNotFoundError,
    StoreError,
    TransientSagaError,
)
from bnpl_stripe.saga import STEPS, DownPaymentSaga
from bnpl_stripe.store import SagaRecord, SagaStore, StepRecord
from bnpl_stripe.webhooks import LENDER_EVENTS, STRIPE_EVENTS, WebhookResult

__all__ = [
    "LENDER_EVENTS",
    "STEPS",
    "STRIPE_EVENTS",
    "STRIPE_ZERO_DECIMAL",
    "AmountError",
    "DownPaymentSaga",
    "SagaConflictError",
    "SagaError",
    "SagaNotFoundError",
    "SagaRecord",
    "SagaStore",
    "StepRecord",
    "StoreError",
    "TransientSagaError",
    "WebhookResult",
    "from_stripe_amount",
    "stripe_exponent",
    "to_stripe_amount",
]
