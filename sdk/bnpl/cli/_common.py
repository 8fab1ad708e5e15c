"""Shared CLI plumbing: the ``--api-key``/``--base-url``/``--json`` options, the client, and one-line errors.

Every API command takes the same three options (``BNPL_API_KEY`` and ``BNPL_BASE_URL`` fill the first two). The
values are stored on the click context, so a command body only calls :func:`api` and opens the client with
``with api().client() as client:``; any :class:`bnpl.BNPLError` raised inside becomes one line on stderr with
what to do next (exit 1), and a bad invocation exits 2, through the ``BnplGroup`` in ``bnpl.cli``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import click
import httpx

from bnpl.client import Client
from bnpl.client._config import LOCAL_HOSTS, SANDBOX_BASE_URL
from bnpl.errors import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BNPLError,
    ConfigurationError,
    InvalidParamsError,
    PermissionDeniedError,
)
from bnpl.money import Money, MoneyError
from bnpl.sandbox.customer import HostedPageError

__all__ = [
    "ApiOptions",
    "api",
    "api_options",
    "build_customer",
    "customer_options",
    "describe_error",
    "json_option",
    "parse_money",
    "wants_json",
]

F = TypeVar("F", bound=Callable[..., Any])

_META_KEY = "bnpl.api_options"


@dataclass(frozen=True, slots=True)
class ApiOptions:
    """What the user passed (or the environment gave): the key, the lender's URL, and JSON output."""

    api_key: str | None
    base_url: str | None
    as_json: bool

    @property
    def target(self) -> str:
        """The base URL requests go to (the local sandbox when none is given, as the SDK does for test keys)."""
        return (self.base_url or SANDBOX_BASE_URL).rstrip("/")

    @property
    def is_local_sandbox(self) -> bool:
        """Whether the target is a lender on this machine (the only place ``checkout approve`` may act)."""
        try:
            return httpx.URL(self.target).host in LOCAL_HOSTS
        except httpx.InvalidURL:
            return False

    @contextmanager
    def client(self) -> Iterator[Client]:
        """A :class:`bnpl.Client` for these options; SDK errors raised inside become one-line CLI errors."""
        try:
            client = Client(api_key=self.api_key, base_url=self.base_url)
        except ConfigurationError as exc:
            raise click.UsageError(f"{exc.message} (the CLI takes --api-key or BNPL_API_KEY)") from None
        try:
            with client:
                yield client
        except BNPLError as exc:
            if isinstance(exc, InvalidParamsError):
                raise click.UsageError(describe_error(exc, self.target)) from None
            raise click.ClickException(describe_error(exc, self.target)) from None
        except HostedPageError as exc:
            raise click.ClickException(f"hosted page: {exc}") from None


def describe_error(exc: BNPLError, target: str) -> str:
    """One line: the error's type, the lender's message and request id, and what to do next on the command line."""
    if isinstance(exc, APIConnectionError):
        return (
            f"cannot reach the lender at {target}: start it with `bnpl sandbox serve` "
            "(or point --base-url / BNPL_BASE_URL at a running lender)"
        )
    if isinstance(exc, InvalidParamsError):
        where = f" ({exc.param})" if exc.param else ""
        return f"invalid parameters{where}: {exc.message}"
    if isinstance(exc, APIStatusError):
        kind = exc.type or type(exc).__name__
        text = f"{kind}: {exc.message}"
        if exc.request_id:
            text += f" (request id: {exc.request_id})"
        hint = _hint(exc)
        return f"{text}. {hint}" if hint else text
    return f"{type(exc).__name__}: {exc}"


def _hint(exc: APIStatusError) -> str:
    if isinstance(exc, AuthenticationError):
        return "Check --api-key / BNPL_API_KEY (`bnpl sandbox serve` prints the sandbox's key)."
    if isinstance(exc, PermissionDeniedError):
        return "Use a secret key allowed to do this."
    return ""


def _remember(name: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        ctx.meta.setdefault(_META_KEY, {})[name] = value
        return value

    return callback


def api_options(func: F) -> F:
    """Add ``--api-key``, ``--base-url`` and ``--json`` to a command; read them back with :func:`api`."""
    func = json_option(func)
    func = click.option(
        "--base-url",
        envvar="BNPL_BASE_URL",
        metavar="URL",
        expose_value=False,
        callback=_remember("base_url"),
        help=f"The lender's URL [env BNPL_BASE_URL; default the local sandbox {SANDBOX_BASE_URL}].",
    )(func)
    func = click.option(
        "--api-key",
        envvar="BNPL_API_KEY",
        metavar="sk_test_…",
        expose_value=False,
        callback=_remember("api_key"),
        help="Secret API key [env BNPL_API_KEY].",
    )(func)
    return func


def json_option(func: F) -> F:
    """Add ``--json`` (one machine-readable JSON document on stdout); read it back with :func:`wants_json`."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        expose_value=False,
        callback=_remember("as_json"),
        help="Print one JSON document instead of text.",
    )(func)


def _stored() -> dict[str, Any]:
    stored: dict[str, Any] = click.get_current_context().meta.get(_META_KEY, {})
    return stored


def api() -> ApiOptions:
    """The current command's API options."""
    stored = _stored()
    key = stored.get("api_key")
    url = stored.get("base_url")
    return ApiOptions(api_key=key or None, base_url=url or None, as_json=bool(stored.get("as_json")))


def wants_json() -> bool:
    """Whether ``--json`` was given to the current command."""
    return bool(_stored().get("as_json"))


def parse_money(value: str, currency: str, param_hint: str) -> Money:
    """An amount in major units (``1299.00``) of ``currency``, or a usage error naming the option."""
    try:
        Decimal(value)
        return Money.of(value, currency)
    except (MoneyError, ArithmeticError) as exc:
        raise click.BadParameter(
            f"{value!r} is not an amount in {currency.upper()} (major units, e.g. 1299.00): {exc}",
            param_hint=param_hint,
        ) from None


def customer_options(func: F) -> F:
    """Add ``--customer-email``, ``--customer-phone``, ``--customer-reference`` and ``--persona``."""
    func = click.option(
        "--persona",
        metavar="KEY",
        help="A sandbox test persona (pays_on_time, decline, misses_one, …): sets --customer-email.",
    )(func)
    func = click.option(
        "--customer-reference",
        metavar="REF",
        help="Your pseudonymous id for the customer (default: derived from the email or phone).",
    )(func)
    func = click.option("--customer-phone", metavar="+86…", help="The customer's phone, E.164.")(func)
    func = click.option("--customer-email", metavar="EMAIL", help="The customer's email, e.g. pays-on-time@bnpl.test.")(
        func
    )
    return func


def build_customer(
    email: str | None, phone: str | None, reference: str | None, persona: str | None
) -> dict[str, str] | None:
    """The ``customer`` object for the API from the customer options, or None when none was given."""
    if persona is not None:
        from bnpl.sandbox.personas import PersonaError, persona_by_key

        if email is not None:
            raise click.BadParameter("give --persona or --customer-email, not both", param_hint="--persona")
        try:
            email = persona_by_key(persona.replace("-", "_")).email
        except PersonaError as exc:
            raise click.BadParameter(str(exc), param_hint="--persona") from None
    if email is None and phone is None and reference is None:
        return None
    if reference is None:
        # A stable pseudonym: the same email is the same lender customer on every run, and no address is sent
        # as the reference.
        seed = (email or phone or "").strip().lower()
        reference = "cli-" + hashlib.sha256(seed.encode()).hexdigest()[:16]
    customer = {"reference": reference}
    if email is not None:
        customer["email"] = email
    if phone is not None:
        customer["phone"] = phone
    return customer
