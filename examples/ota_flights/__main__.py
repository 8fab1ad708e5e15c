"""``python -m examples.ota_flights``: start the sandbox lender (or use yours) and the OTA site, print the URL."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import click

from bnpl.sandbox.server import run_sandbox

from .down_payment import DownPaymentConfigError, DownPaymentPolicy
from .server import running_site


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface the site listens on.")
@click.option("--port", default=8000, show_default=True, help="Port of the site (0 picks a free one).")
@click.option("--lender-url", default=None, help="An existing lender/sandbox (default: start a sandbox in-process).")
@click.option("--api-key", default=None, envvar="BNPL_API_KEY", help="Secret key for --lender-url (or BNPL_API_KEY).")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep bookings and payment records here (default: a temporary directory, gone on exit).",
)
def main(host: str, port: int, lender_url: str | None, api_key: str | None, data_dir: Path | None) -> None:
    """Serve the example OTA site until Ctrl+C."""
    if (lender_url is None) != (api_key is None):
        raise click.UsageError("give --lender-url and --api-key together, or neither (to start a sandbox)")
    try:
        policy = DownPaymentPolicy.from_env()
    except DownPaymentConfigError as exc:
        raise click.UsageError(str(exc)) from None
    with contextlib.ExitStack() as stack:
        if lender_url is None or api_key is None:
            sandbox = stack.enter_context(run_sandbox())
            lender_url, api_key = sandbox.base_url, sandbox.secret_key
            click.echo(f"sandbox lender  {lender_url}  (temporary database)")
        else:
            click.echo(f"lender          {lender_url}")
        site = stack.enter_context(
            running_site(lender_url, api_key, host=host, port=port, data_dir=data_dir, down_payment=policy)
        )
        click.echo(f"webhooks        {site.url}/bnpl/webhook  (endpoint {site.webhook_endpoint_id})")
        click.echo(f"down payments   {policy.reason}")
        if policy.enabled:
            click.echo(f"Stripe webhooks {site.url}/stripe/webhook  (stripe listen --forward-to this URL)")
        click.echo(click.style(f"\n  ✈  open {site.url}/\n", bold=True))
        click.echo("Sandbox customers: pays-on-time@bnpl.test (approved), decline@bnpl.test. Ctrl+C stops.")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
