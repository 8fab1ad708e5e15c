"""``bnpl trigger EVENT_TYPE``: create what an event needs on the sandbox lender and make it fire for real.

No fake payloads: a ``checkout.approved`` comes from a checkout approved through the hosted page by a test
persona, an ``order.instalment_overdue`` from a test clock advanced past a persona's failed collection. The events
then travel like any other (to registered webhook endpoints, and to ``--forward-to`` when given).
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from bnpl.cli._common import api, api_options
from bnpl.cli._output import emit_json, render_table
from bnpl.cli.events import EVENT_HEADERS, event_rows, events_after, latest_event_id
from bnpl.cli.listen import Forwarder, forward_events
from bnpl.client import Client
from bnpl.sandbox.customer import complete_hosted_page
from bnpl.sandbox.personas import persona_by_key
from bnpl.webhooks import generate_secret

__all__ = ["RECIPES", "Recipe", "run_recipe", "trigger"]


@dataclass(frozen=True, slots=True)
class Recipe:
    """How to make an event happen: a persona's checkout, the merchant's steps, then (maybe) a test clock advance."""

    persona: str
    steps: tuple[str, ...] = ()
    advance: timedelta | None = None
    expires_in: int | None = None


_APPROVED = Recipe("pays_on_time", ("approve",))
_CAPTURED = Recipe("pays_on_time", ("approve", "capture"))

RECIPES: dict[str, Recipe] = {
    "checkout.approved": _APPROVED,
    "order.authorized": _APPROVED,
    "checkout.declined": Recipe("decline"),
    "checkout.canceled": Recipe("pays_on_time", ("cancel",)),
    "checkout.expired": Recipe("pays_on_time", (), timedelta(hours=2), expires_in=3600),
    "order.captured": _CAPTURED,
    "order.refunded": Recipe("pays_on_time", ("approve", "capture", "refund")),
    "order.voided": Recipe("pays_on_time", ("approve", "void")),
    "order.authorization_expiring": Recipe("pays_on_time", ("approve",), timedelta(days=8)),
    "order.authorization_expired": Recipe("pays_on_time", ("approve",), timedelta(days=8)),
    "order.instalment_due_soon": Recipe("pays_on_time", ("approve", "capture"), timedelta(days=15)),
    "order.instalment_paid": Recipe("pays_on_time", ("approve", "capture"), timedelta(days=15)),
    "order.paid_off": Recipe("pays_on_time", ("approve", "capture"), timedelta(days=50)),
    "order.instalment_failed": Recipe("misses_one", ("approve", "capture"), timedelta(days=70)),
    "order.instalment_overdue": Recipe("arrears", ("approve", "capture"), timedelta(days=70)),
    "customer.credit_limit_increased": Recipe("limit_increase", ("approve", "capture"), timedelta(days=15)),
    "customer.credit_freeze_scheduled": Recipe("freeze", ("approve", "capture"), timedelta(days=24)),
    "customer.credit_frozen": Recipe("freeze", ("approve", "capture"), timedelta(days=31)),
    "customer.credit_unfrozen": Recipe("freeze", ("approve", "capture"), timedelta(days=61)),
    "customer.rate_changed": Recipe("rate_cut", ("approve", "capture"), timedelta(days=31)),
}
"""Every event type ``bnpl trigger`` can fire and how (``customer.credit_limit_decreased`` has no persona)."""

_AMOUNT = 129_900  # ¥1,299.00: the Shanghai → Chengdu flight of the demo


def run_recipe(client: Client, recipe: Recipe, *, plan: int = 0) -> dict[str, str]:
    """Play ``recipe`` on the lender; returns the ids it created (checkout, order, clock)."""
    persona = persona_by_key(recipe.persona)
    local, _, domain = persona.email.partition("@")
    tag = secrets.token_hex(4)
    created: dict[str, str] = {}
    metadata: dict[str, str] = {}
    clock_start = datetime.now(UTC).replace(microsecond=0)
    if recipe.advance is not None:
        clock = client.test_clocks.create(frozen_time=clock_start, name=f"bnpl trigger {tag}")
        created["test_clock"] = clock.id
        metadata["test_clock"] = clock.id
    params: dict[str, Any] = {
        "merchant_reference": f"trigger-{tag}",
        "amount": _AMOUNT,
        "currency": "CNY",
        "items": [{"name": "SHA-CTU flight", "category": "flight", "unit_amount": _AMOUNT, "total_amount": _AMOUNT}],
        # A +tag makes a fresh lender customer each time: personas' credit events fire once per customer and clock.
        "customer": {"reference": f"trigger-{tag}", "email": f"{local}+trigger-{tag}@{domain}"},
        "return_url": "https://merchant.example/bnpl/return",
        "metadata": metadata,
    }
    if recipe.expires_in is not None:
        params["expires_in_seconds"] = recipe.expires_in
    checkout = client.checkouts.create(params)
    created["checkout"] = checkout.id
    for step in recipe.steps:
        if step == "cancel":
            client.checkouts.cancel(checkout.id)
        elif step == "approve":
            complete_hosted_page(checkout.approval_url, plan=plan)
            order_id = client.checkouts.retrieve(checkout.id).order_id
            if order_id is None:
                raise click.ClickException(f"checkout {checkout.id} was not approved by the hosted page")
            created["order"] = order_id
        elif step == "capture":
            client.orders.capture(created["order"])
        elif step == "refund":
            client.orders.refund(created["order"], amount=_AMOUNT // 2, reason="rebooked")
        elif step == "void":
            client.orders.void(created["order"])
    if recipe.advance is not None:
        client.test_clocks.advance(created["test_clock"], frozen_time=clock_start + recipe.advance)
    return created


@click.command()
@click.argument("event_type", type=click.Choice(sorted(RECIPES)), metavar="EVENT_TYPE")
@click.option("--forward-to", metavar="URL", default=None, help="Also forward the fired event(s), signed, to URL.")
@click.option("--secret", metavar="whsec_…", default=None, help="Forwarding secret (default: a fresh one, printed).")
@click.option(
    "--plan", type=click.IntRange(0), default=0, show_default=True, help="Offered plan to choose (0: pay in 4)."
)
@api_options
def trigger(event_type: str, forward_to: str | None, secret: str | None, plan: int) -> None:
    """Sandbox only: create what EVENT_TYPE needs on the lender and make a real one fire."""
    opts = api()
    if not opts.is_local_sandbox:
        raise click.UsageError(
            f"trigger drives test personas and clocks and only works against a local sandbox, not {opts.target}"
        )
    recipe = RECIPES[event_type]
    forwarded: list[dict[str, Any]] = []
    forwarding_secret = (secret or generate_secret()) if forward_to else None
    with opts.client() as client:
        cursor = latest_event_id(client)
        created = run_recipe(client, recipe, plan=plan)
        produced = events_after(client, cursor)
        fired = [e for e in produced if e.type == event_type]
        if not fired:
            raise click.ClickException(
                f"the lender fired no {event_type} event (objects created: "
                f"{', '.join(f'{k} {v}' for k, v in created.items())}); see `bnpl events list`"
            )
        if forward_to and forwarding_secret:
            forwarder = Forwarder(forward_to, forwarding_secret)
            try:
                forwarded = [asdict(item) for item in forward_events(forwarder, fired)]
            finally:
                forwarder.close()
    if opts.as_json:
        emit_json(
            {
                "type": event_type,
                "event_ids": [e.id for e in fired],
                "created": created,
                "events": [{"type": e.type, "id": e.id, "object_id": e.object_id} for e in produced],
                "forwarding_secret": forwarding_secret,
                "forwarded": forwarded,
            }
        )
        return
    click.echo(f"Triggered {event_type}: {', '.join(e.id for e in fired)}")
    click.echo("Created " + ", ".join(f"{k} {v}" for k, v in created.items()))
    click.echo("")
    click.echo(render_table(EVENT_HEADERS, event_rows(produced)))
    if forwarded:
        click.echo("")
        click.echo(f"Forwarded to {forward_to} (forwarding secret {forwarding_secret}):")
        for item in forwarded:
            status = item["status"] if item["status"] is not None else f"failed ({item['error']})"
            click.echo(f"  {item['type']} {item['id']} → {status}")
