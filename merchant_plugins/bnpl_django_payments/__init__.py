"""django-payments provider for the bnpl pay-later lender.

::

    # settings.py
    PAYMENT_VARIANTS = {
        "bnpl": ("bnpl_django_payments.BnplProvider", {
            "api_key": "sk_test_...",
            "webhook_secret": "whsec_...",
            "capture": False,          # authorise now, capture when you ship (payment.capture())
        }),
    }

The lender's webhooks go to the static ``/payments/process/bnpl/`` URL (``payments.urls``).
"""

from __future__ import annotations

from bnpl_django_payments.errors import BnplConfigurationError
from bnpl_django_payments.provider import BnplProvider

__all__ = ["BnplConfigurationError", "BnplProvider"]
