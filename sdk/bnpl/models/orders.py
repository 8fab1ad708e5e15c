"""Orders: the authorized loan behind an approved checkout, its plan, captures and refunds."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, StrictBool, StringConstraints, model_validator

from bnpl.models.checkouts import LineItem, check_items_total
from bnpl.models.common import (
    Amount,
    ApiObject,
    ApiParams,
    CaptureId,
    CheckoutId,
    CurrencyCode,
    CustomerId,
    ListResponse,
    NonNegativeAmount,
    OrderId,
    RateString,
    RefundId,
    Timestamp,
)
from bnpl.models.plans import Product, RepaymentMethod, ScheduledInstalment, check_schedule

__all__ = [
    "AmendParams",
    "Capture",
    "CaptureParams",
    "InstalmentStatus",
    "Order",
    "OrderDisclosures",
    "OrderInstalment",
    "OrderList",
    "OrderListParams",
    "OrderPlan",
    "OrderStatus",
    "Refund",
    "RefundParams",
    "RefundReason",
    "VoidParams",
]

OrderStatus = Literal[
    "authorized",
    "partially_captured",
    "captured",
    "partially_refunded",
    "refunded",
    "voided",
    "expired",
    "paid_off",
    "in_arrears",
]
"""authorized → (partially_)captured → (partially_)refunded | paid_off | in_arrears; authorized → voided |
expired."""

InstalmentStatus = Literal["scheduled", "due", "paid", "failed", "overdue", "waived"]

RefundReason = Literal["customer_request", "trip_canceled", "rebooked", "duplicate", "fraudulent", "other"]

Reference = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class OrderInstalment(ScheduledInstalment):
    """One instalment of an order's plan and how much of it the customer has paid."""

    status: InstalmentStatus
    amount_paid: NonNegativeAmount = 0
    paid_at: Timestamp | None = None

    @model_validator(mode="after")
    def _paid_within_amount(self) -> Self:
        if self.amount_paid > self.amount:
            raise ValueError(f"instalment {self.number}: amount_paid {self.amount_paid} > amount {self.amount}")
        return self


class OrderPlan(ApiObject):
    """The plan the customer chose, with its live schedule."""

    product: Product
    periods: int
    method: RepaymentMethod | None = None
    schedule: list[OrderInstalment] = Field(min_length=1)


class OrderDisclosures(ApiObject):
    """The pre-contractual numbers: total payable, total cost of credit and annual rates (percent)."""

    total_payable: NonNegativeAmount
    total_cost_of_credit: NonNegativeAmount
    annual_rates: dict[str, RateString]
    simple_rate_label: str = "单利"


class Capture(ApiObject):
    """Money taken from the authorization (e.g. when the ticket is issued)."""

    id: CaptureId
    object: Literal["capture"] = "capture"
    amount: Amount
    reference: str | None = None
    created: Timestamp


class Refund(ApiObject):
    """Money returned to the customer out of what was captured."""

    id: RefundId
    object: Literal["refund"] = "refund"
    amount: Amount
    reason: RefundReason
    reference: str | None = None
    created: Timestamp


class Order(ApiObject):
    """An order: its amounts (minor units) obey ``captured + voided <= authorized`` and
    ``refunded <= captured``, and the capture and refund lists sum to their totals."""

    id: OrderId
    object: Literal["order"] = "order"
    status: OrderStatus
    checkout_id: CheckoutId
    merchant_reference: str
    customer_id: CustomerId | None = None
    currency: CurrencyCode
    amount_authorized: NonNegativeAmount
    amount_captured: NonNegativeAmount = 0
    amount_refunded: NonNegativeAmount = 0
    amount_voided: NonNegativeAmount = 0
    authorization_expires_at: Timestamp | None = None
    plan: OrderPlan
    disclosures: OrderDisclosures
    captures: list[Capture] = Field(default_factory=list)
    refunds: list[Refund] = Field(default_factory=list)
    created: Timestamp
    metadata: dict[str, str] = Field(default_factory=dict)
    livemode: bool = False

    @model_validator(mode="after")
    def _amounts_add_up(self) -> Self:
        if self.amount_captured + self.amount_voided > self.amount_authorized:
            raise ValueError("amount_captured + amount_voided exceeds amount_authorized")
        if self.amount_refunded > self.amount_captured:
            raise ValueError("amount_refunded exceeds amount_captured")
        if sum(c.amount for c in self.captures) != self.amount_captured:
            raise ValueError("captures do not sum to amount_captured")
        if sum(r.amount for r in self.refunds) != self.amount_refunded:
            raise ValueError("refunds do not sum to amount_refunded")
        check_schedule(sum(i.principal for i in self.plan.schedule), self.plan.schedule, self.disclosures.total_payable)
        return self

    @property
    def amount_capturable(self) -> int:
        """What can still be captured (minor units)."""
        return self.amount_authorized - self.amount_captured - self.amount_voided

    @property
    def amount_refundable(self) -> int:
        """What can still be refunded (minor units)."""
        return self.amount_captured - self.amount_refunded

    def instalment(self, number: int) -> OrderInstalment:
        """Return instalment ``number`` (1-based); ``KeyError`` if the plan has no such instalment."""
        for inst in self.plan.schedule:
            if inst.number == number:
                return inst
        raise KeyError(f"order {self.id} has no instalment {number} (it has {len(self.plan.schedule)})")


class CaptureParams(ApiParams):
    """Capture all or part of the authorization: ``POST /v1/orders/{id}/capture``. Omit ``amount`` to
    capture everything still capturable; ``final_capture`` releases the uncaptured rest."""

    amount: Amount | None = None
    reference: Reference | None = None
    final_capture: StrictBool = False


class RefundParams(ApiParams):
    """Refund part or all of what was captured: ``POST /v1/orders/{id}/refund``."""

    amount: Amount
    reason: RefundReason = "customer_request"
    reference: Reference | None = None


class VoidParams(ApiParams):
    """Release the uncaptured authorization: ``POST /v1/orders/{id}/void``."""

    reason: Reason | None = None


class AmendParams(ApiParams):
    """Lower the authorized amount (e.g. a cheaper rebooking): ``POST /v1/orders/{id}/amend``.
    ``new_amount`` must be below the current authorization (checked by the lender: 400 otherwise)."""

    new_amount: Amount
    items: list[LineItem] | None = Field(default=None, min_length=1, max_length=200)
    currency: CurrencyCode | None = Field(default=None, description="If given, must be the order currency.")
    reason: Reason

    @model_validator(mode="after")
    def _items_sum(self) -> Self:
        if self.items is not None:
            currency = self.currency or next((i.currency for i in self.items if i.currency), None) or ""
            if currency:
                check_items_total(self.items, self.new_amount, currency)
            else:
                total = sum(i.total_amount for i in self.items)
                if total != self.new_amount:
                    raise ValueError(f"items total_amount sums to {total}, not new_amount {self.new_amount}")
        return self


class OrderListParams(ApiParams):
    """Filter and page ``GET /v1/orders`` (newest first)."""

    status: OrderStatus | None = None
    customer_id: CustomerId | None = None
    created_gte: Timestamp | None = None
    created_lte: Timestamp | None = None
    limit: int = Field(default=10, ge=1, le=100)  # lax: it arrives as a query string
    starting_after: OrderId | None = None

    @model_validator(mode="after")
    def _window_is_ordered(self) -> Self:
        if self.created_gte and self.created_lte and self.created_gte > self.created_lte:
            raise ValueError("created_gte is after created_lte")
        return self


class OrderList(ListResponse[Order]):
    """A page of orders."""
