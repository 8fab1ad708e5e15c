"""Pages: a Jinja2 environment with autoescaping on, the ``yuan`` filter and ``url()`` for named routes."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs

import jinja2
from fastapi import Request
from starlette.responses import HTMLResponse

from bnpl.money import Money

__all__ = ["MAX_FORM_BYTES", "FormError", "read_form", "render"]

TEMPLATES: Final = Path(__file__).parent / "templates"
MAX_FORM_BYTES: Final = 16 * 1024


def _yuan(minor: int) -> str:
    return Money(minor, "CNY").format("zh_CN")


_ENV: Final = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,  # every value is escaped, whatever the file name
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["yuan"] = _yuan


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` with ``context``; ``url(name, **params)`` gives a named route's path."""

    def url(name: str, **params: Any) -> str:
        return str(request.app.url_path_for(name, **params))

    context.setdefault("error", None)
    context.setdefault("message", None)
    html = _ENV.get_template(template).render(url=url, **context)
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


class FormError(ValueError):
    """The form body is missing, too large or not ``application/x-www-form-urlencoded``."""


async def read_form(request: Request) -> dict[str, str]:
    """The fields of a urlencoded form (first value of each), without needing python-multipart."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise FormError("send the form as application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise FormError("the form is too large")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise FormError("the form is not UTF-8") from None
    return {name: values[0] for name, values in fields.items()}
