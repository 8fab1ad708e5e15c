"""`bnpl quote`: an exact schedule, its totals and its annual rates, computed locally."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from bnpl.cli._output import emit_json, render_table
from bnpl.money import Money, MoneyError
from bnpl.plans import METHODS, PRODUCTS, RATE_METHODS, SIMPLE_RATE_LABEL, Plan, PlanError, Pricing, build_plan

__all__ = ["plan_to_json", "quote"]

RATE_NAMES = {
    "us_reg_z": "US Reg Z APR (nominal, actuarial)",
    "eu_aprc": "EU APRC (effective)",
    "cn_compound": "CN annualised rate (IRR, compound)",
    "cn_simple": f"CN annualised rate (IRR, {SIMPLE_RATE_LABEL} simple)",
}


def _percent(value: str | None, name: str) -> Decimal:
    if value is None:
        return Decimal(0)
    try:
        result = Decimal(value.strip().rstrip("%"))
    except InvalidOperation:
        raise click.BadParameter(f"{value!r} is not a percentage; write e.g. 4.9 for 4.9 %", param_hint=name) from None
    if not result.is_finite():
        raise click.BadParameter(f"{value!r} is not a finite percentage", param_hint=name)
    return result


def _money(value: str | None, currency: str, name: str) -> Money | None:
    if value is None:
        return None
    try:
        return Money.of(value, currency)
    except MoneyError as exc:
        raise click.BadParameter(str(exc), param_hint=name) from None


def _rate_text(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.000001'))}"


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The machine-readable form of a plan: amounts as decimal strings in major units."""
    return {
        "currency": plan.currency,
        "product": plan.product,
        "periods": plan.periods,
        "method": plan.method,
        "principal": plan.price.to_decimal_string(),
        "down_payment": plan.down_payment.to_decimal_string(),
        "amount_financed": plan.amount_financed.to_decimal_string(),
        "upfront_fee": plan.upfront_fee.to_decimal_string(),
        "instalments": [
            {
                "number": i.number,
                "due_date": i.due_date.isoformat(),
                "principal": i.principal.to_decimal_string(),
                "interest": i.interest.to_decimal_string(),
                "fee": i.fee.to_decimal_string(),
                "amount": i.amount.to_decimal_string(),
                "balance": i.balance.to_decimal_string(),
            }
            for i in plan.instalments
        ],
        "total_payable": plan.total_payable.to_decimal_string(),
        "total_cost_of_credit": plan.total_cost_of_credit.to_decimal_string(),
        "merchant_subsidy": plan.merchant_subsidy.to_decimal_string(),
        "annual_rates": {m: _rate_text(plan.annual_rates[m]) for m in RATE_METHODS},
        "simple_rate_label": SIMPLE_RATE_LABEL,
    }


def render_plan(plan: Plan, locale: str = "en_US") -> str:
    """The human-readable quote: the schedule table, the totals and the annual rates."""

    def fmt(amount: Money) -> str:
        return amount.format(locale, symbol=False)

    title = f"{plan.price.format(locale)} · {plan.product}"
    if plan.product == "monthly":
        title += f" · {plan.periods} periods · {plan.method}"
    rows = [
        [
            str(i.number),
            i.due_date.isoformat(),
            fmt(i.principal),
            fmt(i.interest),
            fmt(i.fee),
            fmt(i.amount),
            fmt(i.balance),
        ]
        for i in plan.instalments
    ]
    table = render_table(
        ["#", "due date", "principal", "interest", "fee", "amount", "balance"],
        rows,
        right=[True, False, True, True, True, True, True],
    )
    totals = [
        ("down payment", plan.down_payment),
        ("upfront fee", plan.upfront_fee),
        ("total payable", plan.total_payable),
        ("total cost of credit", plan.total_cost_of_credit),
        ("paid by the merchant (subsidy)", plan.merchant_subsidy),
    ]
    lines = [title, "", table, ""]
    lines += [
        f"{label:<36}{fmt(amount):>16}"
        for label, amount in totals
        if label not in {"down payment", "upfront fee"} or amount
    ]
    lines.append("")
    lines += [f"{RATE_NAMES[m]:<36}{plan.disclosure.rate(m):>16}" for m in RATE_METHODS]
    return "\n".join(lines)


@click.command()
@click.argument("amount")
@click.argument("currency")
@click.option("--product", type=click.Choice(PRODUCTS), default="monthly", show_default=True, help="The product.")
@click.option("--periods", type=click.IntRange(1, 120), default=None, help="Number of monthly instalments (monthly).")
@click.option("--method", type=click.Choice(METHODS), default=None, help="Repayment method (monthly; default annuity).")
@click.option("--annual-rate", "annual_rate", metavar="PCT", help="Nominal annual interest rate in percent, e.g. 4.9.")
@click.option("--fee-rate", metavar="PCT", help="Fee per period in percent of the principal, e.g. 0.6.")
@click.option("--upfront-fee", metavar="AMOUNT", help="Fee charged at purchase, in major units.")
@click.option("--down-payment", metavar="AMOUNT", help="Paid at purchase and not financed, in major units.")
@click.option("--subsidy", metavar="PCT", help="Share of interest and fees paid by the merchant (0-100).")
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Purchase date (YYYY-MM-DD).")
@click.option("--locale", default="en_US", show_default=True, help="Locale for amounts, e.g. zh_CN.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
def quote(
    amount: str,
    currency: str,
    product: str,
    periods: int | None,
    method: str | None,
    annual_rate: str | None,
    fee_rate: str | None,
    upfront_fee: str | None,
    down_payment: str | None,
    subsidy: str | None,
    start: Any,
    locale: str,
    as_json: bool,
) -> None:
    """Quote a plan for AMOUNT (major units, e.g. 1299.00) in CURRENCY (ISO 4217, e.g. CNY)."""
    try:
        price = Money.of(amount, currency)
    except MoneyError as exc:
        raise click.BadParameter(str(exc), param_hint="AMOUNT/CURRENCY") from None
    if product == "monthly":
        periods = periods or 12
        method = method or "annuity"
    try:
        pricing = Pricing(
            annual_interest_rate=_percent(annual_rate, "--annual-rate"),
            fee_rate=_percent(fee_rate, "--fee-rate"),
            upfront_fee=_money(upfront_fee, currency, "--upfront-fee"),
            down_payment=_money(down_payment, currency, "--down-payment"),
            merchant_subsidy=_percent(subsidy, "--subsidy"),
        )
        plan = build_plan(
            price,
            product=product,  # type: ignore[arg-type]
            periods=periods,
            method=method,  # type: ignore[arg-type]
            pricing=pricing,
            start=start.date() if start is not None else date.today(),
        )
    except PlanError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        emit_json(plan_to_json(plan))
    else:
        click.echo(render_plan(plan, locale))
