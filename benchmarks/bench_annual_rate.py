"""annual_rate vs pyxirr.irr and numpy_financial.irr on the same 12 monthly cash flows.

Run: .venv/bin/python benchmarks/bench_annual_rate.py

Baselines, measured in this run: ``pyxirr.irr`` (Rust) and ``numpy_financial.irr`` (numpy roots).
Both only solve a periodic IRR on floats; ``annual_rate`` also validates Decimal inputs, maps dates to
regulator time (cached per schedule shape) and annualises. Ratios: ours / pyxirr (lower is better,
goal <= 4) and numpy_financial / ours (higher is better, goal >= 10).
"""

from __future__ import annotations

import timeit
from datetime import date
from decimal import Decimal

import numpy_financial as npf
import pyxirr

from bnpl.plans._unit_period import shift_months
from bnpl.plans.annual_rate import _shape, annual_rate

NUMBER = 2000
REPEAT = 7

DRAWDOWNS = [(date(2021, 1, 1), Decimal("99000"))]
REPAYMENTS = [(shift_months(date(2021, 2, 1), -k, 1), Decimal("8833.3")) for k in range(12)]
FLOWS = [-99000.0] + [8833.3] * 12


def best_us(fn: object) -> float:
    """Best of REPEAT runs, in microseconds per call."""
    times = timeit.repeat(fn, number=NUMBER, repeat=REPEAT)  # type: ignore[arg-type]
    return min(times) / NUMBER * 1e6


def main() -> None:
    py_us = best_us(lambda: pyxirr.irr(FLOWS))
    np_us = best_us(lambda: npf.irr(FLOWS))
    print(f"12 monthly payments, 99,000 net drawdown; best of {REPEAT} x {NUMBER} calls")
    print(f"{'pyxirr.irr':<34}{py_us:9.2f} us/call")
    print(f"{'numpy_financial.irr':<34}{np_us:9.2f} us/call")
    for method in ("cn_simple", "cn_compound", "us_reg_z", "eu_aprc"):

        def call(method: str = method) -> Decimal:
            return annual_rate(DRAWDOWNS, REPAYMENTS, method=method)

        ours = best_us(call)

        def cold(method: str = method) -> Decimal:
            _shape.cache_clear()
            return annual_rate(DRAWDOWNS, REPAYMENTS, method=method)

        ours_cold = best_us(cold)
        print(
            f"{'annual_rate ' + method:<34}{ours:9.2f} us/call  ours/pyxirr {ours / py_us:5.2f}x  "
            f"numpy_financial/ours {np_us / ours:6.1f}x  (cold schedule cache: {ours_cold:.2f} us, "
            f"ours/pyxirr {ours_cold / py_us:.2f}x)"
        )
    # Agreement check, so a fast wrong answer cannot pass unnoticed.
    r = float(annual_rate(DRAWDOWNS, REPAYMENTS, method="cn_simple")) / 1200
    assert abs(r - pyxirr.irr(FLOWS)) < 1e-12, (r, pyxirr.irr(FLOWS))
    assert abs(r - npf.irr(FLOWS)) < 1e-10


if __name__ == "__main__":
    main()
