"""Webhook signing and verification in the Standard Webhooks format, with optional field encryption.

Receive::

    from bnpl.webhooks import Webhook, WebhookVerificationError

    wh = Webhook("whsec_…")
    try:
        event = wh.unwrap(raw_body_bytes, request_headers)
    except WebhookVerificationError as exc:
        return Response(status=exc.status_code)

The contract (headers, signed content, key formats, retries) is ``webhooks/SPEC.md``.
"""

from __future__ import annotations

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

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_TOLERANCE",
    "DecryptionError",
    "InvalidHeaderError",
    "InvalidTimestampError",
    "MissingHeaderError",
    "NoValidSignatureError",
    "PayloadTooLargeError",
    "RawBodyRequiredError",
    "TimestampOutOfToleranceError",
    "Webhook",
    "WebhookError",
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
