"""Webhook signing and verification in the Standard Webhooks format, with optional field encryption.

Receive::

    from bnpl.webhooks import Webhook, WebhookVerificationError

    wh = Webhook("whsec_…")
    try:
        event = wh.unwrap(raw_body_bytes, request_headers)
    except WebhookVerificationError as exc:
        return Response(status=exc.status_code)

Dispatch once per event, in order (duplicates and stale events are dropped)::

    from bnpl.webhooks import WebhookHandler, SQLiteStore

    handler = WebhookHandler(Webhook("whsec_…"), SQLiteStore("webhooks.sqlite3"))

    @handler.on("order.captured")
    def ship(event): ...

    result = handler.handle(raw_body_bytes, request_headers)   # result.status_code is the HTTP answer

The contract (headers, signed content, key formats, retries) is ``webhooks/SPEC.md``.
"""

from __future__ import annotations

from bnpl.webhooks.dispatch import (
    AsyncWebhookHandler,
    DispatchError,
    HandleOutcome,
    HandleResult,
    RetryLater,
    UnknownEventTypeError,
    WebhookHandler,
)
from bnpl.webhooks.encryption import decrypt_fields, encrypt_fields
from bnpl.webhooks.errors import (
    DecryptionError,
    InvalidHeaderError,
    InvalidTimestampError,
    MissingHeaderError,
    NoValidSignatureError,
    PayloadTooLargeError,
    RawBodyRequiredError,
    TimestampOutOfToleranceError,
    WebhookError,
    WebhookKeyError,
    WebhookSignError,
    WebhookVerificationError,
)
from bnpl.webhooks.keys import (
    generate_encryption_key,
    generate_key_pair,
    generate_secret,
    public_key_of,
)
from bnpl.webhooks.signing import DEFAULT_MAX_BODY_BYTES, DEFAULT_TOLERANCE, Webhook
from bnpl.webhooks.stores import ClaimResult, DedupStore, MemoryStore, PostgresStore, RedisStore, SQLiteStore

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_TOLERANCE",
    "AsyncWebhookHandler",
    "ClaimResult",
    "DecryptionError",
    "DedupStore",
    "DispatchError",
    "HandleOutcome",
    "HandleResult",
    "InvalidHeaderError",
    "InvalidTimestampError",
    "MemoryStore",
    "MissingHeaderError",
    "NoValidSignatureError",
    "PayloadTooLargeError",
    "PostgresStore",
    "RawBodyRequiredError",
    "RedisStore",
    "RetryLater",
    "SQLiteStore",
    "TimestampOutOfToleranceError",
    "UnknownEventTypeError",
    "Webhook",
    "WebhookError",
    "WebhookHandler",
    "WebhookKeyError",
    "WebhookSignError",
    "WebhookVerificationError",
    "decrypt_fields",
    "encrypt_fields",
    "generate_encryption_key",
    "generate_key_pair",
    "generate_secret",
    "public_key_of",
]
