"""Instalment plans: products, repayment methods, due-date calendar and annual-rate disclosures.

>>> from decimal import Decimal
>>> from bnpl.money import Money
>>> plan = build_plan(Money.of("12999", "CNY"), product="monthly", periods=12, method="flat_fee",
...                   pricing=Pricing(fee_rate=Decimal("0.6")))
"""

from __future__ import annotations

from bnpl.plans.annual_rate import AnnualRateError, AnnualRateMethod, annual_rate
from bnpl.plans.calendar import add_months, monthly_due_dates
from bnpl.plans.disclosure import RATE_METHODS, SIMPLE_RATE_LABEL, Disclosure
from bnpl.plans.schedule import Instalment, Plan, build_plan
from bnpl.plans.terms import METHODS, PRODUCTS, PlanError, Pricing, Product, RepaymentMethod

__all__ = [
    "METHODS",
    "PRODUCTS",
    "RATE_METHODS",
    "SIMPLE_RATE_LABEL",
    "AnnualRateError",
    "AnnualRateMethod",
    "Disclosure",
    "Instalment",
    "Plan",
    "PlanError",
    "Pricing",
    "Product",
    "RepaymentMethod",
    "add_months",
    "annual_rate",
    "build_plan",
    "monthly_due_dates",
]
