"""``path("checkout/bnpl/", include("bnpl_oscar.urls"))``: the return and webhook URLs."""

from __future__ import annotations

from typing import Any

urlpatterns: list[Any] = []
