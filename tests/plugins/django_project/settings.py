"""django-payments settings of the test project (merged with the Oscar project's by ``conftest_django``)."""

from __future__ import annotations

INSTALLED_APPS = ["payments", "django_project.shop"]
PAYMENT_MODEL = "shop.Payment"
PAYMENT_HOST = "shop.example"
PAYMENT_USES_SSL = True
# the tests put the running sandbox's keys here (override_settings) before a provider is built
PAYMENT_VARIANTS: dict[str, tuple[str, dict[str, object]]] = {}
