"""The Django app of the Oscar plugin (templates, template tags and the webhook/return views)."""

from __future__ import annotations

from django.apps import AppConfig  # type: ignore[import-untyped]


class BnplOscarConfig(AppConfig):  # type: ignore[misc]  # Django ships no type information
    """``INSTALLED_APPS += ["bnpl_oscar"]``."""

    name = "bnpl_oscar"
    label = "bnpl_oscar"
    verbose_name = "Pay later (bnpl)"
