"""Key formats of Standard Webhooks, and key generation.

- ``whsec_``: HMAC-SHA256 shared secret (``v1``), 24-64 random bytes (we generate 32).
- ``whsk_``: Ed25519 signing key (``v1a``), 64 bytes = seed + public key as Svix stores it; a bare
  32-byte seed is accepted too.
- ``whpk_``: Ed25519 public key (``v1a``), 32 bytes.
- ``whenc_``: AES-256-GCM field-encryption key, 32 bytes.

Each is the prefix followed by standard base64 of the bytes.

A ``str`` secret without the ``whsec_`` prefix is still base64-decoded, as the ``standardwebhooks`` library
does; a ``bytes`` secret is used as the raw HMAC key. Missing base64 padding is tolerated.
"""

from __future__ import annotations

import base64
import binascii
import secrets as _secrets

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from bnpl.webhooks.errors import WebhookKeyError

__all__ = [
    "ENCRYPTION_KEY_PREFIX",
    "PUBLIC_KEY_PREFIX",
    "SECRET_PREFIX",
    "SIGNING_KEY_PREFIX",
    "decode_encryption_key",
    "decode_secret",
    "generate_encryption_key",
    "generate_key_pair",
    "generate_secret",
    "load_public_key",
    "load_signing_key",
    "public_key_of",
]

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format prefix, not a secret
SIGNING_KEY_PREFIX = "whsk_"
PUBLIC_KEY_PREFIX = "whpk_"
ENCRYPTION_KEY_PREFIX = "whenc_"

_MAX_SECRET_BYTES = 512


def _b64decode(text: str, what: str) -> bytes:
    """Strict standard base64 with optional padding; the error never echoes the key."""
    stripped = text.strip()
    if not stripped.isascii():
        raise WebhookKeyError(f"{what} is not base64 (it contains non-ASCII characters)")
    try:
        return binascii.a2b_base64(stripped + "=" * (-len(stripped) % 4), strict_mode=True)
    except (binascii.Error, ValueError):
        raise WebhookKeyError(f"{what} is not valid base64") from None


def decode_secret(secret: str | bytes) -> bytes:
    """Return the HMAC key bytes of a ``whsec_`` secret (or an unprefixed base64 str, or raw bytes)."""
    if isinstance(secret, bytes | bytearray):
        key = bytes(secret)
    elif isinstance(secret, str):
        if secret.startswith((SIGNING_KEY_PREFIX, PUBLIC_KEY_PREFIX, ENCRYPTION_KEY_PREFIX)):
            raise WebhookKeyError("an Ed25519 or encryption key was given where an HMAC whsec_ secret is expected")
        body = secret.removeprefix(SECRET_PREFIX)
        key = _b64decode(body, "the webhook secret")
    else:
        raise WebhookKeyError(f"a webhook secret must be str or bytes, not {type(secret).__name__}")
    if not key:
        raise WebhookKeyError("the webhook secret is empty")
    if len(key) > _MAX_SECRET_BYTES:
        raise WebhookKeyError(f"the webhook secret is longer than {_MAX_SECRET_BYTES} bytes")
    return key


def generate_secret(nbytes: int = 32) -> str:
    """A new random ``whsec_`` secret of ``nbytes`` (24-64, the Standard Webhooks range)."""
    if isinstance(nbytes, bool) or not isinstance(nbytes, int) or not 24 <= nbytes <= 64:
        raise WebhookKeyError("nbytes must be an integer from 24 to 64")
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(nbytes)).decode("ascii")


def load_signing_key(key: str) -> Ed25519PrivateKey:
    """Parse a ``whsk_`` Ed25519 signing key (64-byte seed+public form, or a 32-byte seed)."""
    if not isinstance(key, str) or not key.startswith(SIGNING_KEY_PREFIX):
        raise WebhookKeyError("an Ed25519 signing key must be a str starting with 'whsk_'")
    raw = _b64decode(key[len(SIGNING_KEY_PREFIX) :], "the Ed25519 signing key")
    if len(raw) not in (32, 64):
        raise WebhookKeyError("an Ed25519 signing key decodes to 32 (seed) or 64 (seed + public key) bytes")
    private = Ed25519PrivateKey.from_private_bytes(raw[:32])
    if len(raw) == 64 and raw[32:] != _public_raw(private.public_key()):
        raise WebhookKeyError("the Ed25519 signing key's public half does not match its seed")
    return private


def load_public_key(key: str) -> Ed25519PublicKey:
    """Parse a ``whpk_`` Ed25519 public key (32 bytes)."""
    if not isinstance(key, str) or not key.startswith(PUBLIC_KEY_PREFIX):
        raise WebhookKeyError("an Ed25519 public key must be a str starting with 'whpk_'")
    raw = _b64decode(key[len(PUBLIC_KEY_PREFIX) :], "the Ed25519 public key")
    if len(raw) != 32:
        raise WebhookKeyError("an Ed25519 public key decodes to 32 bytes")
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise WebhookKeyError("the Ed25519 public key is not a valid curve point") from None


def _public_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_of(signing_key: str) -> str:
    """The ``whpk_`` public key that verifies signatures made with a ``whsk_`` signing key."""
    public = _public_raw(load_signing_key(signing_key).public_key())
    return PUBLIC_KEY_PREFIX + base64.b64encode(public).decode("ascii")


def generate_key_pair() -> tuple[str, str]:
    """A new Ed25519 pair ``(whsk_..., whpk_...)``; give the public key to receivers, keep the other."""
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = _public_raw(private.public_key())
    return (
        SIGNING_KEY_PREFIX + base64.b64encode(seed + public).decode("ascii"),
        PUBLIC_KEY_PREFIX + base64.b64encode(public).decode("ascii"),
    )


def generate_encryption_key() -> str:
    """A new random 32-byte AES-256-GCM key, as ``whenc_<base64>``."""
    return ENCRYPTION_KEY_PREFIX + base64.b64encode(_secrets.token_bytes(32)).decode("ascii")


def decode_encryption_key(key: str | bytes) -> bytes:
    """The 32 key bytes of a ``whenc_`` key (or raw 32 bytes)."""
    if isinstance(key, bytes | bytearray):
        raw = bytes(key)
    elif isinstance(key, str):
        if not key.startswith(ENCRYPTION_KEY_PREFIX):
            raise WebhookKeyError("an encryption key must start with 'whenc_' (see generate_encryption_key)")
        raw = _b64decode(key[len(ENCRYPTION_KEY_PREFIX) :], "the encryption key")
    else:
        raise WebhookKeyError(f"an encryption key must be str or bytes, not {type(key).__name__}")
    if len(raw) != 32:
        raise WebhookKeyError("an AES-256-GCM encryption key is exactly 32 bytes")
    return raw
