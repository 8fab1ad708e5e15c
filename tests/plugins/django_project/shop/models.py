"""A concrete Payment, as every django-payments project defines one."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from payments import PurchasedItem
from payments.models import BasePayment

SUCCESS_URL = "https://shop.example/paid/"
FAILURE_URL = "https://shop.example/failed/"


class Payment(BasePayment):
    def get_success_url(self) -> str:
        return SUCCESS_URL

    def get_failure_url(self) -> str:
        return FAILURE_URL

    def get_purchased_items(self) -> Iterator[PurchasedItem]:
        # one line for the whole total, like a shop that sells one thing per order
        yield PurchasedItem(
            name=self.description or "Tea set",
            sku="TEA-1",
            quantity=1,
            price=Decimal(self.total) - Decimal(self.delivery),
            currency=self.currency,
        )
