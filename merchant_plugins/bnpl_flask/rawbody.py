"""A WSGI wrapper that keeps the webhook's raw body, so nothing the app does first can consume it.

Werkzeug gives ``b""`` from ``request.get_data()`` once ``request.form`` was read on a form-encoded body
(e.g. by a ``before_request`` hook or a CSRF extension). This wrapper reads the exact bytes of requests to the
webhook path before Flask sees them, keeps them in ``environ["bnpl.raw_body"]`` and hands Flask a fresh stream.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from bnpl.webhooks.signing import DEFAULT_MAX_BODY_BYTES

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["RAW_BODY_KEY", "RawBodyMiddleware"]

RAW_BODY_KEY: Final = "bnpl.raw_body"


class RawBodyMiddleware:
    """Wrap ``app.wsgi_app``: POSTs to ``path`` get their body buffered (413 above ``max_body_bytes``)."""

    def __init__(self, app: WSGIApplication, path: str, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.path = path
        self.max_body_bytes = max_body_bytes

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO") == self.path:
            declared = str(environ.get("CONTENT_LENGTH") or "")
            if declared.isdigit() and int(declared) > self.max_body_bytes:
                return self._too_large(start_response)
            stream = environ["wsgi.input"]
            if declared.isdigit():
                body = stream.read(int(declared))
            elif environ.get("wsgi.input_terminated"):
                body = stream.read(self.max_body_bytes + 1)
            else:
                body = b""
            if len(body) > self.max_body_bytes:
                return self._too_large(start_response)
            environ[RAW_BODY_KEY] = body
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)

    def _too_large(self, start_response: StartResponse) -> Iterable[bytes]:
        body = b'{"outcome":"invalid_signature","event_id":null,"message":"body too large"}'
        start_response("413 Request Entity Too Large", [("Content-Type", "application/json")])
        return [body]
