"""``bnpl webhooks endpoints add|list|rm|rotate`` and ``bnpl webhooks sign|verify``."""

from __future__ import annotations

import secrets
import time
from typing import Any, BinaryIO

import click

from bnpl.cli._common import api, api_options, json_option, wants_json
from bnpl.cli._output import emit_json, format_time, render_fields, render_table, to_json
from bnpl.models import EventParseError
from bnpl.webhooks import Webhook, WebhookError, WebhookVerificationError

__all__ = ["webhooks"]


@click.group()
def webhooks() -> None:
    """Webhook endpoints on the lender, and signing/verifying payloads locally."""


@webhooks.group("endpoints")
def endpoints() -> None:
    """Where the lender delivers signed events."""


@endpoints.command("add")
@click.argument("url")
@click.option(
    "--event", "enabled_events", multiple=True, metavar="TYPE", help="Event type to deliver (repeatable; default all)."
)
@click.option("--description", default=None, help="A label for the endpoint.")
@click.option("--encrypt-pii", is_flag=True, help="Encrypt data.customer in event bodies.")
@api_options
def add(url: str, enabled_events: tuple[str, ...], description: str | None, encrypt_pii: bool) -> None:
    """Register URL as a webhook endpoint and print its whsec_ signing secret (shown only now)."""
    opts = api()
    with opts.client() as client:
        created = client.webhook_endpoints.create(
            url=url, enabled_events=list(enabled_events) or ["*"], description=description, encrypt_pii=encrypt_pii
        )
    if opts.as_json:
        emit_json({**to_json(created), "secret": created.secret})
        return
    click.echo(
        render_fields(
            [
                ("endpoint", created.id),
                ("url", created.url),
                ("events", ", ".join(created.enabled_events)),
                ("secret", created.secret),
            ]
        )
    )
    click.echo("Store the secret now: it is not shown again (`bnpl webhooks endpoints rotate` makes a new one).")


@endpoints.command("list")
@click.option("--limit", type=click.IntRange(1, 100), default=100, show_default=True, help="How many, newest first.")
@api_options
def list_(limit: int) -> None:
    """List webhook endpoints."""
    opts = api()
    with opts.client() as client:
        page = client.webhook_endpoints.list(limit=limit)
    if opts.as_json:
        emit_json({"data": to_json(page.data), "has_more": page.has_more, "next_cursor": page.next_cursor})
        return
    rows = [[e.id, e.status, e.url, ", ".join(e.enabled_events), format_time(e.created)] for e in page.data]
    click.echo(render_table(["id", "status", "url", "events", "created"], rows))


@endpoints.command("rm")
@click.argument("endpoint_id")
@api_options
def rm(endpoint_id: str) -> None:
    """Delete a webhook endpoint (no more deliveries to it)."""
    opts = api()
    with opts.client() as client:
        deleted = client.webhook_endpoints.delete(endpoint_id)
    if opts.as_json:
        emit_json(to_json(deleted))
    else:
        click.echo(f"deleted {endpoint_id}")


@endpoints.command("rotate")
@click.argument("endpoint_id")
@click.option(
    "--expire-current-in",
    type=click.IntRange(0, 7 * 86_400),
    default=86_400,
    show_default=True,
    metavar="SECONDS",
    help="Keep signing with the old secret too for this long.",
)
@api_options
def rotate(endpoint_id: str, expire_current_in: int) -> None:
    """Give the endpoint a new signing secret and print it."""
    opts = api()
    with opts.client() as client:
        rotated = client.webhook_endpoints.rotate_secret(endpoint_id, expire_current_in_seconds=expire_current_in)
    if opts.as_json:
        emit_json({**to_json(rotated), "secret": rotated.secret})
        return
    fields = [("endpoint", rotated.id), ("secret", rotated.secret)]
    if rotated.previous_secret_expires_at is not None:
        fields.append(("old secret until", format_time(rotated.previous_secret_expires_at)))
    click.echo(render_fields(fields))


def _read_body(source: BinaryIO) -> bytes:
    return source.read()


def _webhook(secret: str, tolerance: float | None = None) -> Webhook:
    try:
        return Webhook(secret, tolerance=tolerance)
    except WebhookError as exc:
        raise click.BadParameter(str(exc), param_hint="--secret") from None


@webhooks.command("sign")
@click.option("--secret", required=True, envvar="BNPL_WEBHOOK_SECRET", metavar="whsec_…", help="The signing secret.")
@click.option("--id", "msg_id", default=None, metavar="MSG_ID", help="webhook-id (default: a fresh msg_…).")
@click.option("--timestamp", type=int, default=None, metavar="UNIX", help="webhook-timestamp (default: now).")
@click.argument("payload", type=click.File("rb"))
@json_option
def sign(secret: str, msg_id: str | None, timestamp: int | None, payload: BinaryIO) -> None:
    """Sign the PAYLOAD file (``-`` for stdin) and print the three webhook headers."""
    body = _read_body(payload)
    hook = _webhook(secret)
    try:
        headers = hook.sign(
            msg_id or f"msg_{secrets.token_hex(16)}", timestamp if timestamp is not None else int(time.time()), body
        )
    except WebhookError as exc:
        raise click.UsageError(str(exc)) from None
    if wants_json():
        emit_json(headers)
    else:
        for name, value in headers.items():
            click.echo(f"{name}: {value}")


def _parse_headers(values: tuple[str, ...]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for value in values:
        name, sep, content = value.partition(":")
        if not sep or not name.strip():
            raise click.BadParameter(f"{value!r}: write 'name: value'", param_hint="--header")
        headers[name.strip().lower()] = content.strip()
    return headers


@webhooks.command("verify")
@click.option("--secret", required=True, envvar="BNPL_WEBHOOK_SECRET", metavar="whsec_…", help="The signing secret.")
@click.option(
    "--header", "header_values", multiple=True, metavar="'NAME: VALUE'", help="A request header (repeatable)."
)
@click.option(
    "--tolerance",
    type=click.FloatRange(0),
    default=300.0,
    show_default=True,
    metavar="SECONDS",
    help="Maximum age of webhook-timestamp (0: do not check it).",
)
@click.argument("payload", type=click.File("rb"))
@json_option
def verify(secret: str, header_values: tuple[str, ...], tolerance: float, payload: BinaryIO) -> None:
    """Verify the PAYLOAD file (``-`` for stdin) against its headers and print the typed event."""
    body = _read_body(payload)
    headers = _parse_headers(header_values)
    hook = _webhook(secret, tolerance or None)
    try:
        event = hook.unwrap(body, headers)
    except WebhookVerificationError as exc:
        raise click.ClickException(f"not verified: {type(exc).__name__} ({exc.code}): {exc}") from None
    except EventParseError as exc:
        raise click.ClickException(f"verified, but not a valid event: {exc.reason}") from None
    result: dict[str, Any] = {
        "verified": True,
        "type": event.type,
        "id": event.id,
        "object_id": event.object_id,
        "sequence": event.sequence,
        "event_class": type(event).__name__,
    }
    if wants_json():
        emit_json(result)
    else:
        kind = type(event).__name__
        click.echo(f"verified {event.type} {event.id} object={event.object_id} sequence={event.sequence} ({kind})")
