"""``path("checkout/bnpl/", include("bnpl_oscar.urls"))``: the customer's return and the lender's webhooks."""

from __future__ import annotations

from typing import Any

from django.urls import path  # type: ignore[import-untyped]

from bnpl_oscar.checkout import BnplReturnView
from bnpl_oscar.webhooks import webhook

app_name = "bnpl_oscar"

urlpatterns: list[Any] = [
    path("return/<int:basket_id>/", BnplReturnView.as_view(), name="return"),
    path("webhook/", webhook, name="webhook"),
]
