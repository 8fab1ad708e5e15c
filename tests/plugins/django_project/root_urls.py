"""The URLconf of the combined test process: django-payments' URLs and the Oscar shop with bnpl's views."""

from __future__ import annotations

from django.apps import apps
from django.urls import include, path

from bnpl_oscar.checkout import BnplPaymentDetailsView

urlpatterns = [
    path("payments/", include("payments.urls")),
    path("checkout/bnpl/", include("bnpl_oscar.urls")),
    # the shop's checkout pays with the lender: Oscar's preview/place-order URL served by the bnpl view
    path("checkout/preview/", BnplPaymentDetailsView.as_view(preview=True)),
    path("", include(apps.get_app_config("oscar").urls[0])),
]
