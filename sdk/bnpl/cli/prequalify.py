"""``bnpl prequalify``: the lender's pre-loan assessment of a customer for an amount."""

from __future__ import annotations

import click

from bnpl.cli._common import api, api_options, build_customer, customer_options, parse_money
from bnpl.cli._output import emit_json, format_money, render_fields, render_table, to_json
from bnpl.models import Prequalification

__all__ = ["prequalify", "render_prequalification"]

CATEGORIES = ("flight", "hotel", "train", "car_rental", "package", "goods", "service")


def render_prequalification(pq: Prequalification) -> str:
    """The decision, the customer's limits and the plans offered, as text."""

    def money(value: int | None) -> str:
        return "-" if value is None else format_money(value, pq.currency)

    fields = [
        ("prequalification", pq.id),
        ("eligible", "yes" if pq.eligible else f"no ({pq.decline_reason or 'declined'})"),
        ("amount", money(pq.amount)),
        ("available credit", money(pq.available_credit)),
        ("order range", f"{money(pq.min_order_amount)} – {money(pq.max_order_amount)}"),
        ("customer", pq.customer_id or "-"),
    ]
    text = render_fields(fields)
    if pq.plans:
        rows = [
            [
                str(i),
                p.product,
                str(p.periods),
                p.method or "-",
                f"{p.annual_interest_rate} %" if p.annual_interest_rate is not None else "-",
                f"{p.fee_rate} %" if p.fee_rate is not None else "-",
                p.label,
            ]
            for i, p in enumerate(pq.plans)
        ]
        table = render_table(["plan", "product", "periods", "method", "annual rate", "fee/period", "label"], rows)
        text += "\n\n" + table
    return text


@click.command()
@click.argument("amount")
@click.argument("currency")
@customer_options
@click.option("--category", type=click.Choice(CATEGORIES), default=None, help="What is being bought.")
@api_options
def prequalify(
    amount: str,
    currency: str,
    customer_email: str | None,
    customer_phone: str | None,
    customer_reference: str | None,
    persona: str | None,
    category: str | None,
) -> None:
    """Ask what a customer may borrow for AMOUNT (major units) in CURRENCY: limit, order range and plans."""
    opts = api()
    price = parse_money(amount, currency, "AMOUNT")
    customer = build_customer(customer_email, customer_phone, customer_reference, persona)
    if customer is None:
        raise click.UsageError(
            "give the customer: --customer-email, --customer-phone, --persona or --customer-reference"
        )
    with opts.client() as client:
        pq = client.prequalifications.create(
            customer=customer,
            amount=price.minor,
            currency=price.currency.code,
            category=category,  # type: ignore[arg-type]
        )
    if opts.as_json:
        emit_json(to_json(pq))
    else:
        click.echo(render_prequalification(pq))
