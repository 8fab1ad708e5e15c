"""Typed errors of the django-payments provider."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured  # type: ignore[import-untyped]

__all__ = ["BnplConfigurationError"]


class BnplConfigurationError(ImproperlyConfigured):  # type: ignore[misc]  # Django has no type stubs here
    """A ``PAYMENT_VARIANTS`` entry for :class:`~bnpl_django_payments.BnplProvider` is wrong; the message says
    which option and how to fix it (secrets are never echoed)."""
