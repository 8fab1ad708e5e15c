"""Quotes per second: a 12-month plan with its full disclosure (schedule + four annual rates).

Baseline, measured in the same run: ``numpy_financial.irr`` on the same cash flows, i.e. ONE bare IRR with no
schedule and no disclosure. The ratio says how many bare numpy-financial IRRs a complete bnpl quote costs.

Run: .venv/bin/python benchmarks/bench_quote.py
"""

from __future__ import annotations

import os
import timeit
from datetime import date
from decimal import Decimal

import numpy_financial as npf

from bnpl import Money, Pricing, build_plan


def best_per_call(stmt: object, number: int, repeat: int = 5) -> float:
    return min(timeit.repeat(stmt, number=number, repeat=repeat)) / number  # type: ignore[arg-type]


def main() -> None:
    price = Money.of("12999", "CNY")
    pricing = Pricing(fee_rate=Decimal("0.6"))
    start = date(2026, 11, 28)

    def quote() -> object:
        return build_plan(price, product="monthly", periods=12, method="flat_fee", pricing=pricing, start=start)

    plan = build_plan(price, product="monthly", periods=12, method="flat_fee", pricing=pricing, start=start)
    flows = [-float(plan.disclosure.amount_of_credit.amount)] + [float(i.amount.amount) for i in plan.instalments]

    ours = best_per_call(quote, 300)
    baseline = best_per_call(lambda: npf.irr(flows), 300)
    print(f"machine: {os.cpu_count()} cores")
    print(f"bnpl quote (12 monthly, schedule + 4 annual rates): {ours * 1e6:8.1f} µs  ({1 / ours:,.0f} quotes/s)")
    print(f"baseline numpy_financial.irr (one bare IRR):       {baseline * 1e6:8.1f} µs")
    print(f"ratio: one full quote = {ours / baseline:.2f} × one numpy-financial IRR")


if __name__ == "__main__":
    main()
