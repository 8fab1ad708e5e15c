"""Flask: the raw webhook body and a ready-made view function.

::

    from bnpl.webhooks.raw_body.flask import make_view
    app.add_url_rule("/webhooks/bnpl", view_func=make_view(handler), methods=["POST"])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import cast

try:
    from flask import Response, request
except ImportError as exc:  # pragma: no cover - flask is in the dev environment
    raise ImportError("bnpl.webhooks.raw_body.flask needs Flask: pip install 'bnpl[flask]'") from exc

from bnpl.webhooks.dispatch import WebhookHandler
from bnpl.webhooks.errors import RawBodyRequiredError

__all__ = ["make_view", "raw_body"]

_FORM_HELP = (
    "Flask returned an empty body although the request has a Content-Length: request.form (or request.values "
    "or request.files) was read first on a form-encoded or multipart request, which consumed the stream. Call "
    "raw_body() before touching request.form, and don't read the form in a before_request hook on the "
    "webhook URL."
)


def raw_body() -> bytes:
    """Return the exact bytes of the current request's body (``request.get_data(cache=True)``).

    Raises :class:`~bnpl.webhooks.RawBodyRequiredError` when ``request.form`` was read first and Werkzeug
    already consumed the body (it then returns ``b""``). ``request.get_json()`` first is harmless: it caches.
    """
    data = request.get_data(cache=True, as_text=False)
    if not data and (request.content_length or 0) > 0:
        raise RawBodyRequiredError(_FORM_HELP)
    return data


def make_view(handler: WebhookHandler, *, name: str = "bnpl_webhook") -> Callable[[], Response]:
    """A Flask view function (no Blueprint needed) that passes webhooks to ``handler``.

    ``name`` becomes the endpoint name; give each view a distinct one if you mount several.
    """
    if not isinstance(handler, WebhookHandler):
        raise TypeError("make_view() takes a bnpl.webhooks.WebhookHandler (Flask views here are synchronous)")

    def view() -> Response:
        # Werkzeug's Headers is mapping-like (case-insensitive get/getlist/items) without subclassing Mapping
        result = handler.handle(raw_body(), cast(Mapping[str, str], request.headers))
        return Response(result.body, status=result.status_code, headers=result.headers)

    view.__name__ = name
    view.__qualname__ = name
    return view
