"""Get the exact request bytes a webhook was signed over, in each web framework, and ready-made endpoints.

Import the module of your framework (each imports its framework lazily, so installing bnpl does not pull
in Django or Flask):

* :mod:`bnpl.webhooks.raw_body.django` — ``raw_body(request)``, ``webhook_view(handler)``
* :mod:`bnpl.webhooks.raw_body.flask` — ``raw_body()``, ``make_view(handler)``
* :mod:`bnpl.webhooks.raw_body.starlette` — ``await raw_body(request)``, ``webhook_endpoint(handler)``,
  FastAPI dependency ``RawBody``
* :mod:`bnpl.webhooks.raw_body.wsgi` / :mod:`bnpl.webhooks.raw_body.asgi` — framework-free apps

Signatures cover the bytes as sent. Parsing JSON and serialising it again (``json.dumps(request.json)``,
a pydantic model's ``model_dump_json()``) changes spacing, key order or number formatting, and the signature
no longer matches. Always hand the raw bytes to the handler.
"""

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
"""Bodies larger than this are refused with 413 before they are read (matches ``Webhook``'s default)."""

__all__ = ["DEFAULT_MAX_BODY_BYTES"]
