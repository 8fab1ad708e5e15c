"""``bnpl sandbox``: run the local sandbox lender and manage its merchants."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from bnpl.sandbox.auth import create_merchant
from bnpl.sandbox.db import Database, DatabaseError, redact_url
from bnpl.sandbox.migrations import migrate
from bnpl.sandbox.server import DEFAULT_PORT, SandboxInfo, serve

__all__ = ["sandbox"]

_DEFAULT_DB = "bnpl-sandbox.db"


@click.group()
def sandbox() -> None:
    """Run the local sandbox lender (the SDK's default target for sk_test_ keys)."""


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535), help="Port (0 picks a free one)."
)
@click.option(
    "--db", "db_url", default=_DEFAULT_DB, show_default=True, help="SQLite file path, or a postgresql:// URL."
)
@click.option("--api-key", default=None, help="Use this sk_test_… key for the default merchant.")
@click.option("--json", "as_json", is_flag=True, help="Print one machine-readable JSON line when ready.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes sharing the port (PostgreSQL only).",
)
def serve_command(host: str, port: int, db_url: str, api_key: str | None, as_json: bool, workers: int) -> None:
    """Start the sandbox lender and print its base URL and the default merchant's keys."""

    def ready(info: SandboxInfo) -> None:
        if as_json:
            click.echo(json.dumps(info.as_json()), nl=True)
        else:
            click.echo(f"bnpl sandbox lender listening on {info.base_url}")
            click.echo(f"  database         {redact_url(info.db_url)}")
            click.echo(f"  merchant         {info.merchant_id}")
            click.echo(f"  secret key       {info.secret_key}")
            click.echo(f"  publishable key  {info.publishable_key}")
            click.echo(f"  export BNPL_API_KEY={info.secret_key} BNPL_BASE_URL={info.base_url}")
            click.echo("Press Ctrl+C to stop.")

    try:
        serve(db_url, host, port, api_key=api_key, on_ready=ready, workers=workers)
    except (DatabaseError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


@sandbox.group("merchants")
def merchants() -> None:
    """Merchants of the sandbox lender."""


@merchants.command("create")
@click.option(
    "--db", "db_url", default=_DEFAULT_DB, show_default=True, help="SQLite file path, or a postgresql:// URL."
)
@click.option("--name", default=None, help="A label for the merchant.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def merchants_create(db_url: str, name: str | None, as_json: bool) -> None:
    """Create a merchant with a secret and a publishable key (shown once)."""
    try:
        db = Database.open(db_url)
        migrate(db)
        keys = create_merchant(db, datetime.now(UTC), name=name)
        db.close()
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from None
    payload: dict[str, Any] = {
        "merchant_id": keys.merchant_id,
        "secret_key": keys.secret_key,
        "publishable_key": keys.publishable_key,
    }
    if as_json:
        click.echo(json.dumps(payload))
    else:
        for label, value in payload.items():
            click.echo(f"{label:16} {value}")
