"""``bnpl checkout create|get|list|cancel|approve``: open checkouts and walk them through approval."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from bnpl.cli._common import api, api_options, build_customer, customer_options, parse_money
from bnpl.cli._output import emit_json, format_money, format_time, render_fields, render_table, to_json
from bnpl.cli.prequalify import CATEGORIES
from bnpl.models import Checkout
from bnpl.money import Money

__all__ = ["checkout", "parse_item", "parse_metadata", "render_checkout"]

DEFAULT_RETURN_URL = "https://merchant.example/bnpl/return"
CHECKOUT_STATUSES = ("open", "approved", "declined", "expired", "canceled")


def render_checkout(c: Checkout) -> str:
    """A checkout's summary: status, amount, order, and the approval URL to send the customer to."""
    fields = [
        ("checkout", c.id),
        ("status", c.status + (f" ({c.decline_reason})" if c.decline_reason else "")),
        ("amount", format_money(c.amount, c.currency)),
        ("reference", c.merchant_reference),
        ("customer", c.customer_id or "-"),
        ("order", c.order_id or "-"),
        ("expires", format_time(c.expires_at)),
        ("approval url", c.approval_url),
    ]
    if c.metadata:
        fields.append(("metadata", ", ".join(f"{k}={v}" for k, v in sorted(c.metadata.items()))))
    return render_fields(fields)


def parse_item(value: str, currency: str) -> dict[str, Any]:
    """``name:category:amount`` (amount in major units) as a line item; the name may contain colons."""
    parts = value.rsplit(":", 2)
    if len(parts) != 3 or not parts[0].strip():
        raise click.BadParameter(
            f"{value!r}: write name:category:amount, e.g. 'SHA-CTU:flight:1299'", param_hint="--item"
        )
    name, category, amount = parts
    if category not in CATEGORIES:
        raise click.BadParameter(f"{value!r}: category must be one of {', '.join(CATEGORIES)}", param_hint="--item")
    minor = parse_money(amount, currency, "--item").minor
    return {"name": name.strip(), "category": category, "unit_amount": minor, "total_amount": minor}


def parse_metadata(values: tuple[str, ...]) -> dict[str, str]:
    """``k=v`` pairs as a metadata dict."""
    metadata: dict[str, str] = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{value!r}: write key=value", param_hint="--metadata")
        metadata[key] = val
    return metadata


def _travel(route: str | None, travel_date: datetime | None, passengers: tuple[str, ...]) -> dict[str, Any] | None:
    if route is None:
        if travel_date is not None or passengers:
            raise click.UsageError("--travel-date and --passenger describe a trip: give --route too")
        return None
    origin, sep, destination = route.partition("-")
    if not sep or not origin or not destination:
        raise click.BadParameter(f"{route!r}: write ORIGIN-DESTINATION, e.g. SHA-CTU", param_hint="--route")
    if travel_date is None:
        raise click.UsageError("--route needs --travel-date YYYY-MM-DD")
    return {
        "origin": origin,
        "destination": destination,
        "travel_date": travel_date.date().isoformat(),
        "passengers": [{"name": name} for name in passengers],
    }


@click.group()
def checkout() -> None:
    """Open checkouts, read them, cancel them, and approve them as a sandbox customer."""


@checkout.command("create")
@click.argument("amount")
@click.argument("currency")
@click.option("--reference", required=True, metavar="REF", help="Your order or booking reference.")
@customer_options
@click.option("--item", "items", multiple=True, metavar="NAME:CATEGORY:AMOUNT", help="A line item (repeatable).")
@click.option("--route", metavar="SHA-CTU", help="Travel: origin-destination.")
@click.option("--travel-date", type=click.DateTime(formats=["%Y-%m-%d"]), help="Travel: departure date.")
@click.option("--passenger", "passengers", multiple=True, metavar="NAME", help="Travel: a passenger (repeatable).")
@click.option("--return-url", default=DEFAULT_RETURN_URL, show_default=True, help="Where the customer returns.")
@click.option("--cancel-url", default=None, help="Where the customer goes after cancelling.")
@click.option("--subsidy", type=click.IntRange(0, 100), metavar="PCT", help="Share of interest paid by you (贴息).")
@click.option("--test-clock", metavar="clk_…", help="Attach the checkout to a sandbox test clock.")
@click.option("--expires-in", type=click.IntRange(60, 7 * 24 * 3600), metavar="SECONDS", help="Checkout lifetime.")
@click.option("--metadata", "metadata", multiple=True, metavar="KEY=VALUE", help="Metadata (repeatable).")
@api_options
def create(
    amount: str,
    currency: str,
    reference: str,
    customer_email: str | None,
    customer_phone: str | None,
    customer_reference: str | None,
    persona: str | None,
    items: tuple[str, ...],
    route: str | None,
    travel_date: datetime | None,
    passengers: tuple[str, ...],
    return_url: str,
    cancel_url: str | None,
    subsidy: int | None,
    test_clock: str | None,
    expires_in: int | None,
    metadata: tuple[str, ...],
) -> None:
    """Open a checkout for AMOUNT (major units) in CURRENCY and print its approval URL."""
    opts = api()
    price: Money = parse_money(amount, currency, "AMOUNT")
    code = price.currency.code
    travel = _travel(route, travel_date, passengers)
    lines = [parse_item(item, code) for item in items]
    if not lines:
        name, category = (f"{route} flight", "flight") if route else (f"Order {reference}", "goods")
        lines = [{"name": name, "category": category, "unit_amount": price.minor, "total_amount": price.minor}]
    meta = parse_metadata(metadata)
    if test_clock is not None:
        meta["test_clock"] = test_clock
    params: dict[str, Any] = {
        "merchant_reference": reference,
        "amount": price.minor,
        "currency": code,
        "items": lines,
        "return_url": return_url,
        "metadata": meta,
    }
    optional = {
        "customer": build_customer(customer_email, customer_phone, customer_reference, persona),
        "travel": travel,
        "cancel_url": cancel_url,
        "merchant_subsidy_percent": subsidy,
        "expires_in_seconds": expires_in,
    }
    params.update({k: v for k, v in optional.items() if v is not None})
    with opts.client() as client:
        created = client.checkouts.create(params)
    if opts.as_json:
        emit_json(to_json(created))
    else:
        click.echo(render_checkout(created))


@checkout.command("get")
@click.argument("checkout_id")
@api_options
def get(checkout_id: str) -> None:
    """Show a checkout."""
    opts = api()
    with opts.client() as client:
        found = client.checkouts.retrieve(checkout_id)
    if opts.as_json:
        emit_json(to_json(found))
    else:
        click.echo(render_checkout(found))


@checkout.command("list")
@click.option("--status", type=click.Choice(CHECKOUT_STATUSES), default=None, help="Only checkouts in this status.")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True, help="How many, newest first.")
@api_options
def list_(status: str | None, limit: int) -> None:
    """List checkouts, newest first."""
    opts = api()
    with opts.client() as client:
        page = client.checkouts.list(status=status, limit=limit)  # type: ignore[arg-type]
    if opts.as_json:
        emit_json({"data": to_json(page.data), "has_more": page.has_more, "next_cursor": page.next_cursor})
        return
    rows = [
        [
            c.id,
            c.status,
            format_money(c.amount, c.currency),
            c.merchant_reference,
            c.order_id or "-",
            format_time(c.created),
        ]
        for c in page.data
    ]
    click.echo(
        render_table(
            ["id", "status", "amount", "reference", "order", "created"],
            rows,
            right=[False, False, True, False, False, False],
        )
    )


@checkout.command("cancel")
@click.argument("checkout_id")
@click.option("--reason", default=None, help="Why (kept on the checkout).")
@api_options
def cancel(checkout_id: str, reason: str | None) -> None:
    """Cancel an open checkout."""
    opts = api()
    with opts.client() as client:
        canceled = client.checkouts.cancel(checkout_id, reason=reason)
    if opts.as_json:
        emit_json(to_json(canceled))
    else:
        click.echo(render_checkout(canceled))


@checkout.command("approve")
@click.argument("checkout_id")
@click.option("--plan", type=click.IntRange(0), default=0, show_default=True, help="Which offered plan (0-based).")
@click.option("--cancel", "cancel_", is_flag=True, help="Cancel on the hosted page instead of confirming.")
@api_options
def approve(checkout_id: str, plan: int, cancel_: bool) -> None:
    """Sandbox only: approve (or cancel) CHECKOUT_ID as its customer through the hosted page's own HTTP flow."""
    opts = api()
    if not opts.is_local_sandbox:
        raise click.UsageError(
            f"checkout approve drives the hosted page as a test customer and only works against a local sandbox; "
            f"{opts.target} is not one (start one with `bnpl sandbox serve`)"
        )
    from bnpl.sandbox.customer import complete_hosted_page

    with opts.client() as client:
        before = client.checkouts.retrieve(checkout_id)
        if before.status != "open":
            raise click.ClickException(
                f"checkout {checkout_id} is {before.status}, not open: only an open checkout can be approved"
            )
        outcome = complete_hosted_page(before.approval_url, plan=plan, action="cancel" if cancel_ else "confirm")
        after = client.checkouts.retrieve(checkout_id)
    if opts.as_json:
        emit_json(
            {"checkout": to_json(after), "redirect_url": outcome.redirect_url, "plans_offered": outcome.plans_offered}
        )
    else:
        click.echo(render_checkout(after))
        click.echo(f"redirected to {outcome.redirect_url}")
