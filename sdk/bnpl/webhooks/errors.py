"""Typed errors of webhook signing, verification and decryption.

Every failure of :meth:`bnpl.webhooks.Webhook.verify` is a :class:`WebhookVerificationError` subclass, so one
``except WebhookVerificationError`` is enough to answer the sender with an error status. No message ever
contains a secret, a key or the expected signature.
"""

from __future__ import annotations

__all__ = [
    "DecryptionError",
    "InvalidHeaderError",
    "InvalidTimestampError",
    "MissingHeaderError",
    "NoValidSignatureError",
    "PayloadTooLargeError",
    "RawBodyRequiredError",
    "TimestampOutOfToleranceError",
    "WebhookError",
    "WebhookKeyError",
    "WebhookSignError",
    "WebhookVerificationError",
]


class WebhookError(Exception):
    """Base class of every error raised by :mod:`bnpl.webhooks`."""


class WebhookKeyError(WebhookError, ValueError):
    """A secret, signing key, public key or encryption key is missing or malformed (a configuration bug)."""


class WebhookSignError(WebhookError, ValueError):
    """:meth:`Webhook.sign` was called with arguments that cannot be signed."""


class WebhookVerificationError(WebhookError):
    """The request is not a verified webhook: reject it.

    ``code`` is a stable machine-readable reason; ``status_code`` is the HTTP status a receiver should answer
    with (400 for a bad request, 413 for an oversized one, 500 when the receiver itself is at fault).
    """

    code: str = "verification_failed"
    status_code: int = 400


class MissingHeaderError(WebhookVerificationError):
    """One of ``webhook-id``, ``webhook-timestamp``, ``webhook-signature`` is absent or empty."""

    code = "missing_header"


class InvalidHeaderError(WebhookVerificationError):
    """A webhook header is present but unusable (wrong type, forbidden characters)."""

    code = "invalid_header"


class InvalidTimestampError(WebhookVerificationError):
    """``webhook-timestamp`` is not an integer count of Unix seconds."""

    code = "invalid_timestamp"


class TimestampOutOfToleranceError(WebhookVerificationError):
    """``webhook-timestamp`` is further from the receiver's clock than the tolerance (a replay or a bad clock)."""

    code = "timestamp_out_of_tolerance"


class NoValidSignatureError(WebhookVerificationError):
    """No entry of ``webhook-signature`` matches any configured secret or public key."""

    code = "no_valid_signature"


class PayloadTooLargeError(WebhookVerificationError):
    """The body exceeds ``max_body_bytes``; it was not hashed."""

    code = "payload_too_large"
    status_code = 413


class RawBodyRequiredError(WebhookVerificationError):
    """The body was not raw bytes: the receiver passed a decoded or re-serialised body (a receiver bug)."""

    code = "raw_body_required"
    status_code = 500


class DecryptionError(WebhookVerificationError):
    """An encrypted field could not be decrypted: wrong key, tampered ciphertext or a malformed envelope."""

    code = "decryption_failed"
