"""A scripted sandbox customer: walks the hosted approval page's own HTTP flow, as a browser without JavaScript would.

There is no back door: the customer fetches the ``approval_url`` the API handed out, reads the form on the page,
chooses a plan and submits it, and the lender answers with the redirect to the merchant's return (or cancel) URL.
The CLI's ``bnpl checkout approve``, ``bnpl demo``, the plugins' and the examples' tests all use this.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Literal
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

__all__ = ["HostedPageClosedError", "HostedPageError", "HostedPageOutcome", "complete_hosted_page"]


class HostedPageError(RuntimeError):
    """The hosted page could not be walked: not a page with the approval form, or an unexpected answer."""


class HostedPageClosedError(HostedPageError):
    """The lender refused the submitted form because the checkout is no longer open: declined at approval (e.g.
    the customer's credit is already in use by other orders), expired, or approved/canceled meanwhile."""


@dataclass(frozen=True, slots=True)
class HostedPageOutcome:
    """Where the lender sent the customer: the merchant URL, and the ``status`` it carries (approved, canceled…)."""

    redirect_url: str
    status: str | None
    checkout_id: str | None
    plans_offered: int


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.action: str | None = None
        self.hidden: dict[str, str] = {}
        self.plans: list[str] = []
        self._in_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and values.get("id") == "approval-form":
            self._in_form = True
            self.action = values.get("action", "")
        elif tag == "input" and self._in_form:
            if values.get("type") == "hidden" and "name" in values:
                self.hidden[values["name"]] = values.get("value", "")
            elif values.get("type") == "radio" and values.get("name") == "plan":
                self.plans.append(values.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False


def complete_hosted_page(
    approval_url: str,
    *,
    plan: int = 0,
    action: Literal["confirm", "cancel"] = "confirm",
    locale: str = "en",
    http: httpx.Client | None = None,
) -> HostedPageOutcome:
    """Open ``approval_url``, choose offered plan number ``plan`` (0-based) and confirm or cancel.

    Returns where the lender redirected the customer. Raises :class:`HostedPageError` if the page has no
    approval form (the checkout is closed or the link is wrong) or ``plan`` is not offered.
    """
    owns_client = http is None
    client = http or httpx.Client(timeout=30.0)
    try:
        page = client.get(approval_url, headers={"Accept": "text/html", "Accept-Language": locale})
        if page.status_code != 200:
            raise HostedPageError(f"the approval page answered {page.status_code}; is the link still valid?")
        reader = _FormReader()
        reader.feed(page.text)
        if reader.action is None:
            raise HostedPageError("the page has no approval form: the checkout is no longer open")
        if not 0 <= plan < len(reader.plans):
            raise HostedPageError(f"plan {plan} is not offered; the page offers plans 0 to {len(reader.plans) - 1}")
        form = {**reader.hidden, "plan": reader.plans[plan], "action": action}
        answer = client.post(urljoin(str(page.url), reader.action), data=form, follow_redirects=False)
        if answer.status_code == 409:
            raise HostedPageClosedError("the lender closed the checkout instead: retrieve it to see why")
        if answer.status_code not in (302, 303):
            raise HostedPageError(f"submitting the approval form answered {answer.status_code}, not a redirect")
        location = urljoin(str(page.url), answer.headers["location"])
        query = parse_qs(urlsplit(location).query)
        return HostedPageOutcome(
            redirect_url=location,
            status=query.get("status", [None])[0],
            checkout_id=query.get("checkout_id", [None])[0],
            plans_offered=len(reader.plans),
        )
    finally:
        if owns_client:
            client.close()
