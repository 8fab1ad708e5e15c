"""The ``bnpl`` command line: quote plans, drive the sandbox lender, test checkouts and webhooks."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from bnpl import __version__
from bnpl.cli.checkout import checkout
from bnpl.cli.clock import clock
from bnpl.cli.demo import demo
from bnpl.cli.events import events
from bnpl.cli.listen import listen
from bnpl.cli.order import order
from bnpl.cli.prequalify import prequalify
from bnpl.cli.quote import quote
from bnpl.cli.sandbox import sandbox
from bnpl.cli.trigger import trigger
from bnpl.cli.webhooks import webhooks
from bnpl.money import MoneyError
from bnpl.plans import PlanError

__all__ = ["cli", "main"]


class BnplGroup(click.Group):
    """A click group whose errors are one line on stderr: exit 2 for usage errors, 1 for everything else.

    A user's mistake never ends in a traceback or a screenful of usage text.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> NoReturn:
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            _fail(exc.format_message(), 2)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.Abort:
            _fail("aborted", 1)
        except (MoneyError, PlanError) as exc:
            _fail(str(exc), 2)
        sys.exit(result if isinstance(result, int) else 0)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {' '.join(message.split())}", err=True)
    sys.exit(code)


@click.group(cls=BnplGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bnpl")
def cli() -> None:
    """bnpl: pay-later (先享后付) checkouts from the terminal, against the local sandbox lender by default."""


cli.add_command(quote)
cli.add_command(demo)
cli.add_command(sandbox)
cli.add_command(prequalify)
cli.add_command(checkout)
cli.add_command(order)
cli.add_command(events)
cli.add_command(webhooks)
cli.add_command(listen)
cli.add_command(trigger)
cli.add_command(clock)


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="bnpl")
