"""Django: the raw webhook body and a ready-made CSRF-exempt view.

::

    # urls.py
    from bnpl.webhooks.raw_body.django import webhook_view
    urlpatterns = [path("webhooks/bnpl/", webhook_view(handler))]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bnpl.webhooks.dispatch import WebhookHandler
from bnpl.webhooks.errors import RawBodyRequiredError

__all__ = ["raw_body", "webhook_view"]

_MULTIPART_HELP = (
    "Django cannot give the raw webhook body: request.POST or request.FILES was read first on a multipart "
    "request, which consumed the stream. Read raw_body(request) (request.body) before touching request.POST, "
    "and make sure no middleware reads request.POST on the webhook URL."
)


def _require_django() -> None:
    try:
        import django  # type: ignore[import-untyped]  # noqa: F401
    except ImportError as exc:  # pragma: no cover - django is in the dev environment
        raise ImportError("bnpl.webhooks.raw_body.django needs Django: pip install 'bnpl[django]'") from exc


def raw_body(request: Any) -> bytes:
    """Return the exact bytes of ``request``'s body (``request.body``).

    Raises :class:`~bnpl.webhooks.RawBodyRequiredError` if ``request.POST`` was read first on a multipart
    request (Django's ``RawPostDataException``). Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` still applies: a
    larger body makes Django answer 400.
    """
    _require_django()
    from django.http.request import RawPostDataException  # type: ignore[import-untyped]

    try:
        body = request.body
    except RawPostDataException:
        raise RawBodyRequiredError(_MULTIPART_HELP) from None
    return bytes(body)


def webhook_view(handler: WebhookHandler) -> Callable[[Any], Any]:
    """A CSRF-exempt Django view that passes POSTed webhooks to ``handler`` and answers with its result.

    The lender cannot send your CSRF token, so the view must be exempt; the signature check replaces it.
    """
    if not isinstance(handler, WebhookHandler):
        raise TypeError("webhook_view() takes a bnpl.webhooks.WebhookHandler (Django views here are synchronous)")
    _require_django()
    from django.http import HttpResponse, HttpResponseNotAllowed  # type: ignore[import-untyped]
    from django.views.decorators.csrf import csrf_exempt  # type: ignore[import-untyped]

    def bnpl_webhook(request: Any) -> Any:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        result = handler.handle(raw_body(request), request.headers)
        response = HttpResponse(result.body, status=result.status_code, content_type="application/json")
        for name, value in result.headers.items():
            response[name] = value
        return response

    view: Callable[[Any], Any] = csrf_exempt(bnpl_webhook)
    return view
