"""``python -m examples.ota_flights.recover --data-dir DIR``: finish or compensate half-done down payments.

The site runs the saga's ``recover()`` at start-up; run this every minute from cron (or a Celery beat / RQ
scheduler job calling :meth:`DownPaymentDesk.recover`) so a crash, a lost webhook or a customer who never came
back is settled without waiting for the next restart::

    * * * * *  cd /srv/ota && STRIPE_API_KEY=… STRIPE_WEBHOOK_SECRET=… BNPL_API_KEY=… \\
               .venv/bin/python -m examples.ota_flights.recover --data-dir /srv/ota/data --lender-url https://…
"""

from __future__ import annotations

from pathlib import Path

import click

from bnpl_stripe import SagaRecord

from .down_payment import DownPaymentConfigError, DownPaymentPolicy, build_down_payments


def describe(run: SagaRecord) -> str:
    """One line per saga: its order, status and both sides."""
    return f"{run.order_ref}  {run.status:<12} card {run.card_status:<10} pay-later {run.lender_status}"


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    required=True,
    help="The site's --data-dir (holds down_payments.sqlite3).",
)
@click.option("--lender-url", required=True, help="The lender (or sandbox) base URL the site uses.")
@click.option("--api-key", required=True, envvar="BNPL_API_KEY", help="The lender secret key (or BNPL_API_KEY).")
def main(data_dir: Path, lender_url: str, api_key: str) -> None:
    """Finish or compensate every unfinished down-payment saga, then print them."""
    try:
        policy = DownPaymentPolicy.from_env()
    except DownPaymentConfigError as exc:
        raise click.UsageError(str(exc)) from None
    if policy.stripe is None:
        raise click.UsageError("set STRIPE_API_KEY and STRIPE_WEBHOOK_SECRET: recovery talks to Stripe")
    payments = build_down_payments(policy.stripe, lender_url, api_key, data_dir)
    try:
        for run in payments.saga.recover():
            click.echo(describe(run))
    finally:
        payments.close()


if __name__ == "__main__":
    main()
