"""``bnpl order get|list|capture|refund|void|amend``: the authorized loan behind an approved checkout."""

from __future__ import annotations

from typing import Any, get_args

import click

from bnpl.cli._common import api, api_options, parse_money
from bnpl.cli._output import emit_json, format_money, format_time, render_fields, render_table, to_json
from bnpl.models import Order, OrderStatus, RefundReason

__all__ = ["order", "render_order"]

ORDER_STATUSES: tuple[str, ...] = get_args(OrderStatus)
REFUND_REASONS: tuple[str, ...] = get_args(RefundReason)


def render_order(o: Order) -> str:
    """An order's amounts, plan and live schedule (number, due date, amount, status, paid)."""

    def money(value: int) -> str:
        return format_money(value, o.currency)

    plan = o.plan
    plan_text = plan.product + (f" · {plan.periods} periods" if plan.product == "monthly" else "")
    if plan.method:
        plan_text += f" · {plan.method}"
    fields = [
        ("order", o.id),
        ("status", o.status),
        ("checkout", o.checkout_id),
        ("reference", o.merchant_reference),
        ("plan", plan_text),
        ("authorized", money(o.amount_authorized)),
        ("captured", money(o.amount_captured)),
        ("refunded", money(o.amount_refunded)),
        ("voided", money(o.amount_voided)),
        ("capturable", money(o.amount_capturable)),
        ("total payable", money(o.disclosures.total_payable)),
    ]
    if o.authorization_expires_at is not None and o.amount_capturable:
        fields.append(("capture before", format_time(o.authorization_expires_at)))
    rows = [
        [
            str(i.number),
            i.due_date.isoformat(),
            money(i.amount),
            i.status,
            money(i.amount_paid),
        ]
        for i in plan.schedule
    ]
    table = render_table(["#", "due date", "amount", "status", "paid"], rows, right=[True, False, True, False, True])
    return render_fields(fields) + "\n\n" + table


def _show(o: Order, as_json: bool) -> None:
    if as_json:
        emit_json(to_json(o))
    else:
        click.echo(render_order(o))


def _minor(client: Any, order_id: str, amount: str, hint: str) -> int:
    """An amount in major units, in the order's own currency (read from the lender)."""
    currency = client.orders.retrieve(order_id).currency
    return parse_money(amount, currency, hint).minor


@click.group()
def order() -> None:
    """Read orders, capture what you ship, refund what comes back, void what never ships."""


@order.command("get")
@click.argument("order_id")
@api_options
def get(order_id: str) -> None:
    """Show an order: its amounts and its repayment schedule."""
    opts = api()
    with opts.client() as client:
        found = client.orders.retrieve(order_id)
    _show(found, opts.as_json)


@order.command("list")
@click.option("--status", type=click.Choice(ORDER_STATUSES), default=None, help="Only orders in this status.")
@click.option("--customer", "customer_id", metavar="cus_…", default=None, help="Only this customer's orders.")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True, help="How many, newest first.")
@api_options
def list_(status: str | None, customer_id: str | None, limit: int) -> None:
    """List orders, newest first."""
    opts = api()
    with opts.client() as client:
        page = client.orders.list(status=status, customer_id=customer_id, limit=limit)  # type: ignore[arg-type]
    if opts.as_json:
        emit_json({"data": to_json(page.data), "has_more": page.has_more, "next_cursor": page.next_cursor})
        return
    rows = [
        [
            o.id,
            o.status,
            format_money(o.amount_authorized, o.currency),
            format_money(o.amount_captured, o.currency),
            format_money(o.amount_refunded, o.currency),
            o.merchant_reference,
            format_time(o.created),
        ]
        for o in page.data
    ]
    headers = ["id", "status", "authorized", "captured", "refunded", "reference", "created"]
    click.echo(render_table(headers, rows, right=[False, False, True, True, True, False, False]))


@order.command("capture")
@click.argument("order_id")
@click.option("--amount", metavar="AMOUNT", help="Capture this much (major units); default: all that is capturable.")
@click.option("--reference", metavar="REF", help="Your reference, e.g. the ticket number.")
@click.option("--final", "final_capture", is_flag=True, help="Release whatever stays uncaptured.")
@api_options
def capture(order_id: str, amount: str | None, reference: str | None, final_capture: bool) -> None:
    """Capture all or part of the authorization (e.g. when the ticket is issued)."""
    opts = api()
    with opts.client() as client:
        minor = None if amount is None else _minor(client, order_id, amount, "--amount")
        done = client.orders.capture(order_id, amount=minor, reference=reference, final_capture=final_capture)
    _show(done, opts.as_json)


@order.command("refund")
@click.argument("order_id")
@click.option("--amount", metavar="AMOUNT", required=True, help="How much to refund (major units).")
@click.option("--reason", type=click.Choice(REFUND_REASONS), default="customer_request", show_default=True)
@click.option("--reference", metavar="REF", help="Your reference for the refund.")
@api_options
def refund(order_id: str, amount: str, reason: str, reference: str | None) -> None:
    """Refund part or all of what was captured; the schedule shrinks, last instalments first."""
    opts = api()
    with opts.client() as client:
        minor = _minor(client, order_id, amount, "--amount")
        done = client.orders.refund(order_id, amount=minor, reason=reason, reference=reference)  # type: ignore[arg-type]
    _show(done, opts.as_json)


@order.command("void")
@click.argument("order_id")
@click.option("--reason", default=None, help="Why.")
@api_options
def void(order_id: str, reason: str | None) -> None:
    """Release the uncaptured authorization."""
    opts = api()
    with opts.client() as client:
        done = client.orders.void(order_id, reason=reason)
    _show(done, opts.as_json)


@order.command("amend")
@click.argument("order_id")
@click.option("--new-amount", metavar="AMOUNT", required=True, help="The new, lower authorized amount (major units).")
@click.option("--reason", required=True, help="Why, e.g. 'rebooked to a cheaper flight'.")
@api_options
def amend(order_id: str, new_amount: str, reason: str) -> None:
    """Lower the authorized amount (e.g. a cheaper rebooking before capture)."""
    opts = api()
    with opts.client() as client:
        minor = _minor(client, order_id, new_amount, "--new-amount")
        done = client.orders.amend(order_id, new_amount=minor, reason=reason)
    _show(done, opts.as_json)
