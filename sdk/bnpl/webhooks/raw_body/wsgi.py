"""A framework-free WSGI app receiving webhooks (gunicorn, uWSGI, mod_wsgi, or mounted in any WSGI stack).

::

    from bnpl.webhooks.raw_body.wsgi import make_wsgi_app
    application = make_wsgi_app(handler)          # gunicorn myreceiver:application
"""

from __future__ import annotations

from collections.abc import Iterable
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from bnpl.webhooks.dispatch import WebhookHandler
from bnpl.webhooks.raw_body import DEFAULT_MAX_BODY_BYTES

__all__ = ["BodyReadError", "headers_from_environ", "make_wsgi_app", "read_body"]

_CHUNK = 64 * 1024


class BodyReadError(ValueError):
    """The request body could not be read; ``status`` is the HTTP status line to answer with."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


def headers_from_environ(environ: WSGIEnvironment) -> dict[str, str]:
    """The request headers from a WSGI environ, with lowercase dash-separated names (``webhook-id``)."""
    headers = {
        name[5:].replace("_", "-").lower(): str(value) for name, value in environ.items() if name.startswith("HTTP_")
    }
    for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(name):
            headers[name.replace("_", "-").lower()] = str(environ[name])
    return headers


def read_body(environ: WSGIEnvironment, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> bytes:
    """Read exactly ``CONTENT_LENGTH`` bytes from ``wsgi.input`` (WSGI forbids reading past it).

    Raises :class:`BodyReadError` carrying an HTTP status: 411 without a valid length, 413 above the limit
    (before reading anything), 400 if the client sent fewer bytes than announced.
    """
    declared = str(environ.get("CONTENT_LENGTH") or "").strip()
    if not declared.isdigit():
        raise BodyReadError("411 Length Required", "a Content-Length header is required")
    length = int(declared)
    if length > max_body_bytes:
        raise BodyReadError("413 Content Too Large", f"body larger than {max_body_bytes} bytes")
    stream = environ["wsgi.input"]
    parts: list[bytes] = []
    remaining = length
    while remaining > 0:
        chunk = stream.read(min(remaining, _CHUNK))
        if not chunk:
            raise BodyReadError("400 Bad Request", "the body is shorter than its Content-Length")
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def _plain(
    start_response: StartResponse, status: str, message: str, extra: list[tuple[str, str]] | None = None
) -> Iterable[bytes]:
    body = message.encode()
    start_response(
        status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))), *(extra or [])]
    )
    return [body]


def make_wsgi_app(handler: WebhookHandler, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> WSGIApplication:
    """A WSGI application answering every POST with ``handler``'s verdict (other methods: 405)."""
    if not isinstance(handler, WebhookHandler):
        raise TypeError("make_wsgi_app() takes a bnpl.webhooks.WebhookHandler")
    if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int) or max_body_bytes <= 0:
        raise ValueError("max_body_bytes must be a positive integer")

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return _plain(start_response, "405 Method Not Allowed", "POST only", [("Allow", "POST")])
        try:
            body = read_body(environ, max_body_bytes)
        except BodyReadError as exc:
            return _plain(start_response, exc.status, str(exc))
        result = handler.handle(body, headers_from_environ(environ))
        headers = [*result.headers.items(), ("Content-Length", str(len(result.body)))]
        start_response(f"{result.status_code} {result.http_status.phrase}", headers)
        return [result.body]

    return application
