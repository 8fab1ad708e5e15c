"""decide() of the sandbox risk model vs. two baselines measured in the same run.

Run: .venv/bin/python benchmarks/bench_risk.py

Baselines: a bare dict lookup (the floor of any table-driven decision) and ``build_plan`` for one 12-month plan
(what the sandbox does anyway for every offer it shows). Goal: ``decide`` well under 1 ms (the sandbox's p99
checkout decision goal is 50 ms including HTTP and the database), i.e. cheaper than building one plan.
"""

from __future__ import annotations

import os
import timeit
from collections.abc import Callable
from datetime import UTC, date, datetime

from bnpl.models.customers import AlternativeData, CustomerInfo
from bnpl.money import Money
from bnpl.plans import Plan, build_plan
from bnpl.sandbox.risk import BANDS, CustomerHistory, Decision, decide

NUMBER = 5000
REPEAT = 7
NOW = datetime(2025, 3, 1, tzinfo=UTC)
AMOUNT = Money.of("800", "CNY")  # within every case's limit, so each decision is an approval

THIN = CustomerInfo(reference="cus-thin")
RICH = CustomerInfo(
    reference="cus-rich",
    phone="+8613912345678",
    email="rich@example.com",
    national_id_hash="ab" * 32,
    alternative_data=AlternativeData(social_insurance_months=30, payroll_months=24, rent_payment_months=12),
)
PERSONA = CustomerInfo(reference="cus-persona", email="pays-on-time@bnpl.test")
HISTORY = CustomerHistory(orders_count=4, paid_off_count=3, outstanding_minor=120_000)
TABLE = {band.key: band for band in BANDS}
OFFER = next(o for o in BANDS[1].offers if o.method == "annuity" and o.periods == 12)


def best_us(fn: Callable[[], object]) -> float:
    """Best of REPEAT runs, in microseconds per call."""
    return min(timeit.repeat(fn, number=NUMBER, repeat=REPEAT)) / NUMBER * 1e6


def main() -> None:
    dict_us = best_us(lambda: TABLE["C"])

    def one_plan() -> Plan:
        return build_plan(
            AMOUNT, product="monthly", periods=12, method="annuity", pricing=OFFER.pricing(), start=date(2025, 3, 1)
        )

    plan_us = best_us(one_plan)
    print(f"cores: {os.cpu_count()}; best of {REPEAT} x {NUMBER} calls")
    print(f"{'baseline dict lookup':<40}{dict_us:9.3f} us/call")
    print(f"{'baseline build_plan (12 months annuity)':<40}{plan_us:9.2f} us/call")
    cases: dict[str, Callable[[], Decision]] = {
        "decide thin-file": lambda: decide(THIN, AMOUNT, category="goods", history=CustomerHistory(), now=NOW),
        "decide alternative data + history": lambda: decide(RICH, AMOUNT, category="flight", history=HISTORY, now=NOW),
        "decide persona": lambda: decide(PERSONA, AMOUNT, category="hotel", history=HISTORY, now=NOW),
    }
    for name, fn in cases.items():
        assert fn().approved, name  # a fast wrong answer must not pass unnoticed
        us = best_us(fn)
        print(
            f"{name:<40}{us:9.2f} us/call  decide/dict {us / dict_us:7.0f}x  decide/build_plan {us / plan_us:5.2f}x"
            f"  ({us / 1000:.3f} ms, goal < 1 ms)"
        )


if __name__ == "__main__":
    main()
