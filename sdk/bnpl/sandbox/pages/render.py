"""Render the hosted approval page and its terminal pages to HTML (Jinja2, autoescaped, no external assets).

Rendering is pure: it takes the contract models (``Checkout``, ``PlanQuote``, ``LineItem``, ``TravelDetails``)
and returns a string. The view data (formatted amounts, rate labels, schedule rows) is prepared here so the
templates stay logic-free; every user-supplied string reaches the HTML through Jinja2's autoescaping.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Final, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, Template

from bnpl.models import Checkout, LineItem, PlanQuote, TravelDetails
from bnpl.sandbox.pages.i18n import (
    PageLocale,
    format_date,
    format_money,
    format_rate,
    messages,
    parse_locale,
)

__all__ = [
    "STYLE_CSP_SOURCE",
    "PageRenderError",
    "TerminalState",
    "content_security_policy",
    "merchant_return_url",
    "render_approval_page",
    "render_not_found_page",
    "render_result_page",
]

TerminalState = Literal["approved", "declined", "expired", "canceled"]
"""A checkout state after which the page can only show the outcome."""

_TERMINAL: Final = ("approved", "declined", "expired", "canceled")


class PageRenderError(ValueError):
    """The data given to a page cannot be shown (wrong state, no offers, mixed currencies, bad locale)."""


_CSS: Final = files("bnpl.sandbox.pages").joinpath("static/page.css").read_text(encoding="utf-8")
STYLE_CSP_SOURCE: Final = "'sha256-" + base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode() + "'"
"""The CSP source that allows exactly the page's inline stylesheet (no ``'unsafe-inline'``)."""


def content_security_policy(form_targets: Sequence[str] = ()) -> str:
    """The page's Content-Security-Policy: no scripts, no external loads, no framing.

    ``form_targets`` are the merchant URLs the form's 303 redirect may reach: browsers apply ``form-action``
    to redirects after a form POST, so the return/cancel origins must be listed or the redirect is blocked.
    """
    origins = []
    for url in form_targets:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc and all(c not in parts.netloc for c in " ;,'\""):
            origins.append(f"{parts.scheme}://{parts.netloc}")
    form_action = " ".join(["'self'", *dict.fromkeys(origins)])
    return (
        f"default-src 'none'; style-src {STYLE_CSP_SOURCE}; img-src 'self' data:; "
        f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    )


@cache
def _environment() -> Environment:
    # autoescape=True (not select_autoescape) so every template escapes, whatever its file name.
    return Environment(
        loader=PackageLoader("bnpl.sandbox.pages", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


def _template(name: str) -> Template:
    return _environment().get_template(name)


def merchant_return_url(url: str | None, *, checkout_id: str, status: str) -> str | None:
    """``url`` with ``checkout_id`` and ``status`` added to its query (existing parameters kept, ours win).

    Returns ``None`` unless ``url`` is an absolute http(s) URL, so a stored ``javascript:`` link can never
    become a clickable href.
    """
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("checkout_id", "status")]
    query += [("checkout_id", checkout_id), ("status", status)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


@dataclass(frozen=True, slots=True)
class _Rate:
    label: str
    value: str
    kind: str


@dataclass(frozen=True, slots=True)
class _Row:
    number: int
    due_date: str
    principal: str
    interest: str
    fee: str
    amount: str
    balance: str


@dataclass(frozen=True, slots=True)
class _Plan:
    index: int
    headline: str
    product: str
    first_due: str
    total_payable: str
    cost_of_credit: str
    subsidy: str | None
    rates: tuple[_Rate, ...]
    rows: tuple[_Row, ...]


@dataclass(frozen=True, slots=True)
class _Item:
    name: str
    quantity: int
    total: str


def _checked_locale(locale: str) -> PageLocale:
    try:
        return parse_locale(locale)
    except ValueError as exc:
        raise PageRenderError(str(exc)) from None


def _rates(quote: PlanQuote, locale: PageLocale, msg: dict[str, str]) -> tuple[_Rate, ...]:
    rates = quote.annual_rates
    # zh-CN: PBOC 2021 No.3 wants the IRR-based annualised rate first; a simple figure must say 单利.
    if locale == "zh-CN":
        wanted = [
            ("cn_compound", msg["rate_primary"]),
            ("cn_simple", msg["rate_simple"].format(label=quote.simple_rate_label)),
        ]
    else:
        wanted = [("us_reg_z", msg["rate_apr"]), ("eu_aprc", msg["rate_aprc"])]
    return tuple(_Rate(label, format_rate(rates[key]), key) for key, label in wanted if key in rates)


def _plan_view(index: int, quote: PlanQuote, locale: PageLocale, msg: dict[str, str]) -> _Plan:
    cur = quote.currency

    def money(minor: int) -> str:
        return format_money(minor, cur, locale)

    schedule = quote.schedule
    amounts = {inst.amount for inst in schedule}
    key = "per_instalment_equal" if len(amounts) == 1 else "per_instalment_varying"
    headline = msg[key].format(amount=money(schedule[0].amount), periods=len(schedule))
    product = msg[f"product_{quote.product}"]
    if quote.method is not None:
        product = f"{product} · {msg[f'method_{quote.method}']}"
    rows = tuple(
        _Row(
            number=inst.number,
            due_date=format_date(inst.due_date, locale),
            principal=money(inst.principal),
            interest=money(inst.interest),
            fee=money(inst.fee),
            amount=money(inst.amount),
            balance=money(inst.balance),
        )
        for inst in schedule
    )
    return _Plan(
        index=index,
        headline=headline,
        product=product,
        first_due=format_date(schedule[0].due_date, locale),
        total_payable=money(quote.total_payable),
        cost_of_credit=money(quote.total_cost_of_credit),
        subsidy=money(quote.merchant_subsidy) if quote.merchant_subsidy else None,
        rates=_rates(quote, locale, msg),
        rows=rows,
    )


def _base_context(locale: PageLocale, msg: dict[str, str], switch_query: str | None) -> dict[str, object]:
    other: PageLocale = "en" if locale == "zh-CN" else "zh-CN"
    return {"msg": msg, "locale": locale, "css": _CSS, "other_locale": other, "switch_query": switch_query}


def render_approval_page(
    *,
    checkout: Checkout,
    offers: Sequence[PlanQuote],
    locale: PageLocale,
    token: str,
    items: Sequence[LineItem] = (),
    travel: TravelDetails | None = None,
    error: str | None = None,
    selected: int = 0,
    action_url: str | None = None,
    publishable_key: str | None = None,
) -> str:
    """The approval page of an open checkout: the order, one selectable card per offered plan, confirm/cancel.

    ``offers`` are the priced plans (index ``i`` is posted back as ``plan=i``); ``items`` and ``travel`` come
    from the checkout's create request (the ``Checkout`` response object does not carry them). ``error`` is
    shown above the plans (plain text). The form posts ``token``, ``plan``, ``lang``, ``action`` (and
    ``publishable_key`` if given) to ``action_url`` (default ``/pay/{checkout.id}``).

    Raises :class:`PageRenderError` if the checkout is not open, there are no offers, an offer's currency or
    amount differs from the checkout's, ``selected`` is out of range, or the locale is unsupported.
    """
    page_locale = _checked_locale(locale)
    if checkout.status != "open":
        raise PageRenderError(f"checkout {checkout.id} is {checkout.status}: use render_result_page")
    if not offers:
        raise PageRenderError(f"checkout {checkout.id} has no offers to show")
    for index, quote in enumerate(offers):
        if quote.currency != checkout.currency or quote.amount != checkout.amount:
            raise PageRenderError(
                f"offers[{index}] is for {quote.amount} {quote.currency}, "
                f"not the checkout's {checkout.amount} {checkout.currency}"
            )
    if not 0 <= selected < len(offers):
        raise PageRenderError(f"selected must be 0..{len(offers) - 1}, got {selected}")
    if not token:
        raise PageRenderError("token must not be empty: the form cannot be posted without it")
    msg = messages(page_locale)
    other = "en" if page_locale == "zh-CN" else "zh-CN"
    context = _base_context(page_locale, msg, urlencode({"token": token, "lang": other}))
    context.update(
        checkout=checkout,
        amount=format_money(checkout.amount, checkout.currency, page_locale),
        items=[
            _Item(
                name=item.name,
                quantity=item.quantity,
                total=format_money(item.total_amount, checkout.currency, page_locale),
            )
            for item in items
        ],
        travel=travel,
        travel_date=format_date(travel.travel_date, page_locale) if travel else None,
        return_date=format_date(travel.return_date, page_locale) if travel and travel.return_date else None,
        plans=[_plan_view(i, quote, page_locale, msg) for i, quote in enumerate(offers)],
        selected=selected,
        error=error,
        token=token,
        action_url=action_url if action_url is not None else f"/pay/{checkout.id}",
        publishable_key=publishable_key,
    )
    return _template("approval.html").render(context)


def render_result_page(
    *,
    checkout: Checkout,
    locale: PageLocale,
    state: TerminalState | None = None,
    message: str | None = None,
) -> str:
    """The page of a checkout that can no longer be confirmed: approved, declined, expired or canceled.

    ``state`` defaults to ``checkout.status``. The "return to the merchant" link goes to ``return_url`` for an
    approval and to ``cancel_url`` (falling back to ``return_url``) otherwise, with ``checkout_id`` and
    ``status`` added. ``message`` is an extra plain-text line (e.g. why a confirmation was refused).
    Raises :class:`PageRenderError` for an open checkout or an unsupported locale.
    """
    page_locale = _checked_locale(locale)
    shown = state if state is not None else checkout.status
    if shown not in _TERMINAL:
        raise PageRenderError(f"state must be one of {', '.join(_TERMINAL)}, got {shown!r}")
    msg = messages(page_locale)
    target = checkout.return_url if shown == "approved" else (checkout.cancel_url or checkout.return_url)
    context = _base_context(page_locale, msg, None)
    context.update(
        checkout=checkout,
        state=shown,
        title=msg[f"status_{shown}_title"],
        body=msg[f"status_{shown}_body"].format(order_id=checkout.order_id or ""),
        decline_reason=checkout.decline_reason if shown == "declined" else None,
        message=message,
        amount=format_money(checkout.amount, checkout.currency, page_locale),
        back_url=merchant_return_url(target, checkout_id=checkout.id, status=shown),
    )
    return _template("result.html").render(context)


def render_not_found_page(*, locale: PageLocale) -> str:
    """The page for an unknown checkout or a wrong token: says nothing about any checkout."""
    page_locale = _checked_locale(locale)
    msg = messages(page_locale)
    return _template("not_found.html").render(_base_context(page_locale, msg, None))
