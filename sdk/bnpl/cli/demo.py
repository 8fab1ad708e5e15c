"""`bnpl demo`: the README's main job."""

from __future__ import annotations

from decimal import Decimal

import click

from bnpl.cli.quote import render_plan
from bnpl.money import Money
from bnpl.plans import Pricing, build_plan

__all__ = ["demo"]


@click.command()
def demo() -> None:
    """Quote a ¥1,299 Shanghai → Chengdu flight with the plans a customer is offered."""
    price = Money.of("1299", "CNY")
    offers = [
        ("Pay in 4, interest-free", build_plan(price, product="pay_in_4")),
        (
            "12 months, 0.6 % monthly fee (等本等息)",
            build_plan(price, periods=12, method="flat_fee", pricing=Pricing(fee_rate=Decimal("0.6"))),
        ),
        (
            "6 months interest-free, paid by the airline (贴息)",
            build_plan(
                price,
                periods=6,
                method="annuity",
                pricing=Pricing(annual_interest_rate=Decimal(15), merchant_subsidy=Decimal(100)),
            ),
        ),
    ]
    click.echo("Shanghai (SHA) → Chengdu (CTU), economy: ¥1,299.00\n")
    for title, plan in offers:
        click.echo(f"== {title} ==")
        click.echo(render_plan(plan, "zh_CN"))
        click.echo("")
