"""What a plan is made of: the product, the repayment method and the pricing, validated up front."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal, get_args

from bnpl.money import Money

__all__ = [
    "METHODS",
    "PRODUCTS",
    "PlanError",
    "Pricing",
    "Product",
    "RepaymentMethod",
]

Product = Literal["pay_in_4", "pay_in_30", "monthly"]
"""``pay_in_4``: four payments every 14 days, the first at purchase, no fee. ``pay_in_30``: one payment 30 days
after purchase. ``monthly``: N monthly instalments with a :data:`RepaymentMethod`."""

RepaymentMethod = Literal["annuity", "equal_principal", "flat_fee", "interest_only"]
"""``annuity`` 等额本息 (equal instalments), ``equal_principal`` 等额本金 (equal principal, interest on the
balance), ``flat_fee`` 等本等息 (equal principal plus a fee of principal × per-period rate every period),
``interest_only`` 先息后本 (interest every period, all principal with the last instalment)."""

PRODUCTS: Final[tuple[str, ...]] = get_args(Product)
METHODS: Final[tuple[str, ...]] = get_args(RepaymentMethod)

_HUNDRED: Final = Decimal(100)


class PlanError(ValueError):
    """The plan's inputs are inconsistent or out of range; the message names the input and the valid values."""


def _percent(name: str, value: Decimal | int | str, *, upper: Decimal | None = None) -> Decimal:
    if isinstance(value, float):
        raise PlanError(f"{name} must be a Decimal or str such as '4.9', not a float")
    try:
        result = Decimal(value)
    except ArithmeticError:
        raise PlanError(f"{name} must be a number of percent such as '4.9', got {value!r}") from None
    if not result.is_finite() or result < 0:
        raise PlanError(f"{name} must be a finite percentage >= 0, got {value!r}")
    if upper is not None and result > upper:
        raise PlanError(f"{name} must be between 0 and {upper} percent, got {value!r}")
    return result


@dataclass(frozen=True, slots=True)
class Pricing:
    """The price of credit. Percentages are given in percent (``Decimal("4.9")`` means 4.9 %).

    * ``annual_interest_rate``: nominal annual interest rate; the per-period rate is ``annual / 12`` for monthly
      plans and ``annual × 30 / 365`` for pay-in-30.
    * ``fee_rate``: a fee of principal × this rate charged every period (等本等息 uses it; other methods may too).
    * ``upfront_fee``: a fee charged at purchase; it reduces the credit actually received (PBOC 2021 No.3).
    * ``down_payment``: paid at purchase, not financed.
    * ``merchant_subsidy``: the share (0–100 %) of the customer's interest and fees that the merchant pays
      (贴息; 100 means interest-free for the customer).
    """

    annual_interest_rate: Decimal = Decimal(0)
    fee_rate: Decimal = Decimal(0)
    upfront_fee: Money | None = None
    down_payment: Money | None = None
    merchant_subsidy: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "annual_interest_rate",
            _percent("annual_interest_rate", self.annual_interest_rate, upper=Decimal(1000)),
        )
        object.__setattr__(self, "fee_rate", _percent("fee_rate", self.fee_rate, upper=_HUNDRED))
        object.__setattr__(
            self, "merchant_subsidy", _percent("merchant_subsidy", self.merchant_subsidy, upper=_HUNDRED)
        )
        for name in ("upfront_fee", "down_payment"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Money):
                raise PlanError(f"{name} must be Money, e.g. Money.of('50', 'CNY'), got {type(value).__name__}")
            if value is not None and value.minor < 0:
                raise PlanError(f"{name} must not be negative, got {value}")

    @property
    def is_free(self) -> bool:
        """True when the customer is charged no interest and no fee at all."""
        no_upfront = self.upfront_fee is None or self.upfront_fee.is_zero()
        return (self.annual_interest_rate == 0 and self.fee_rate == 0 and no_upfront) or (
            self.merchant_subsidy == _HUNDRED
        )
