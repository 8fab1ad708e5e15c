"""The URLconf of the combined test process: django-payments' URLs and the Oscar shop with bnpl's views."""

from __future__ import annotations

from django.apps import apps
from django.urls import include, path

urlpatterns = [
    path("payments/", include("payments.urls")),
    path("checkout/bnpl/", include("bnpl_oscar.urls")),
    path("", include(apps.get_app_config("oscar").urls[0])),
]
