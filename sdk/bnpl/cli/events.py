"""``bnpl events list|get``, and the cursor helpers ``listen``, ``trigger`` and ``clock`` use to find new events."""

from __future__ import annotations

import json
from collections.abc import Sequence

import click

from bnpl.cli._common import api, api_options
from bnpl.cli._output import emit_json, format_time, render_fields, render_table, to_json
from bnpl.client import Client
from bnpl.models import Event

__all__ = ["event_rows", "events", "events_after", "latest_event_id", "render_events"]

EVENT_HEADERS = ["created", "type", "id", "object", "seq"]


def latest_event_id(client: Client) -> str | None:
    """The id of the newest event (the cursor to watch from), or None when there is none yet."""
    page = client.events.list(limit=1)
    return page.data[0].id if page.data else None


def events_after(client: Client, cursor: str | None, types: Sequence[str] | None = None) -> list[Event]:
    """Every event written after the event ``cursor`` (all events when None), oldest first.

    The lender lists newest first in write order, so this walks pages back until it meets the cursor.
    """
    found: list[Event] = []
    page = client.events.list(limit=100)
    for event in page:  # iterating fetches further pages only while needed
        if event.id == cursor:
            break
        found.append(event)
    found.reverse()
    if types:
        wanted = set(types)
        found = [e for e in found if e.type in wanted]
    return found


def event_rows(found: Sequence[Event]) -> list[list[str]]:
    """Table rows for events: created, type, id, object id, sequence."""
    return [[format_time(e.created), e.type, e.id, e.object_id, str(e.sequence)] for e in found]


def render_events(found: Sequence[Event]) -> str:
    """Events as a table."""
    return render_table(EVENT_HEADERS, event_rows(found), right=[False, False, False, False, True])


@click.group()
def events() -> None:
    """The lender's events (what the webhooks deliver), newest first."""


@events.command("list")
@click.option("--type", "types", multiple=True, metavar="TYPE", help="Only this event type (repeatable).")
@click.option("--object-id", metavar="ID", help="Only events about this checkout, order or customer.")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True, help="How many, newest first.")
@api_options
def list_(types: tuple[str, ...], object_id: str | None, limit: int) -> None:
    """List events, newest first."""
    opts = api()
    with opts.client() as client:
        page = client.events.list(types=list(types) or None, object_id=object_id, limit=limit)
    if opts.as_json:
        emit_json({"data": to_json(page.data), "has_more": page.has_more, "next_cursor": page.next_cursor})
    else:
        click.echo(render_events(page.data))


@events.command("get")
@click.argument("event_id")
@api_options
def get(event_id: str) -> None:
    """Show one event and its data."""
    opts = api()
    with opts.client() as client:
        event = client.events.retrieve(event_id)
    payload = to_json(event)
    if opts.as_json:
        emit_json(payload)
        return
    fields = [
        ("event", event.id),
        ("type", event.type),
        ("created", format_time(event.created)),
        ("object", event.object_id),
        ("sequence", str(event.sequence)),
    ]
    click.echo(render_fields(fields))
    click.echo("data:")
    click.echo(json.dumps(payload.get("data"), ensure_ascii=False, indent=2))
