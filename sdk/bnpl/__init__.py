"""bnpl: a typed pay-later (先享后付, buy-now-pay-later) toolkit.

The public surface is re-exported here: money, plans and annual-rate disclosures, the API client and its
errors. Submodules hold the details; import from ``bnpl`` in application code.
"""

from __future__ import annotations

__version__ = "0.1.0"

from bnpl.money import Currency, Money, MoneyError
from bnpl.plans import (
    AnnualRateError,
    Disclosure,
    Instalment,
    Plan,
    PlanError,
    Pricing,
    annual_rate,
    build_plan,
)

__all__ = [
    "AnnualRateError",
    "Currency",
    "Disclosure",
    "Instalment",
    "Money",
    "MoneyError",
    "Plan",
    "PlanError",
    "Pricing",
    "__version__",
    "annual_rate",
    "build_plan",
]
