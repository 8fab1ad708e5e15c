"""Field-level AES-256-GCM encryption of sensitive event data (customer personal information).

Like WeChat Pay API v3 callbacks, the sender replaces a sensitive JSON object with an envelope::

    {"encrypted": {"algorithm": "AEAD_AES_256_GCM", "nonce": "<b64 12 bytes>",
                   "ciphertext": "<b64 ciphertext + 16-byte tag>", "associated_data": "<event id>"}}

The plaintext is the compact UTF-8 JSON of the object. The event id is the associated data, so an envelope
cannot be moved into another event. The key is per endpoint, 32 bytes, serialised as ``whenc_<base64>``.
Encryption happens inside the signed body: the signature covers the envelope, decryption comes after it.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bnpl.webhooks.errors import DecryptionError, WebhookKeyError
from bnpl.webhooks.keys import decode_encryption_key, generate_encryption_key

__all__ = [
    "ALGORITHM",
    "DEFAULT_ENCRYPTED_PATHS",
    "decrypt_fields",
    "encrypt_fields",
    "generate_encryption_key",
    "has_encrypted_fields",
]

ALGORITHM = "AEAD_AES_256_GCM"
#: The fields the lender encrypts when an endpoint has an encryption key: the customer's personal data.
DEFAULT_ENCRYPTED_PATHS: tuple[str, ...] = ("data.customer",)
_NONCE_BYTES = 12


def _aad_of(payload: Mapping[str, Any], aad: str | None) -> str:
    if aad is not None:
        if not isinstance(aad, str) or not aad:
            raise WebhookKeyError("aad must be a non-empty str (the event id)")
        return aad
    event_id = payload.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise DecryptionError("the payload has no string 'id' to bind the encrypted fields to; pass aad=")
    return event_id


def _split(path: str) -> list[str]:
    if not isinstance(path, str) or not path or any(not part for part in path.split(".")):
        raise WebhookKeyError(f"a field path is dotted object keys like 'data.customer', got {path!r}")
    return path.split(".")


def encrypt_fields(
    payload: Mapping[str, Any],
    key: str | bytes,
    paths: Iterable[str] = DEFAULT_ENCRYPTED_PATHS,
    aad: str | None = None,
) -> dict[str, Any]:
    """Return a copy of ``payload`` with the object at each dotted path replaced by an encrypted envelope.

    ``aad`` defaults to ``payload["id"]`` (the event id). Absent paths are skipped. A fresh random nonce is
    drawn for every field.
    """
    aead = AESGCM(decode_encryption_key(key))
    out: dict[str, Any] = copy.deepcopy(dict(payload))
    bound = _aad_of(out, aad)
    for path in paths:
        *parents, leaf = _split(path)
        node: Any = out
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or leaf not in node or _is_envelope(node[leaf]):
            continue
        plaintext = json.dumps(node[leaf], separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        nonce = os.urandom(_NONCE_BYTES)
        ciphertext = aead.encrypt(nonce, plaintext, bound.encode("utf-8"))
        node[leaf] = {
            "encrypted": {
                "algorithm": ALGORITHM,
                "nonce": base64.b64encode(nonce).decode("ascii"),
                "ciphertext": base64.b64encode(ciphertext).decode("ascii"),
                "associated_data": bound,
            }
        }
    return out


def _is_envelope(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("encrypted"), dict)


def has_encrypted_fields(payload: Any) -> bool:
    """True when any object in ``payload`` is an encrypted envelope."""
    if _is_envelope(payload):
        return True
    if isinstance(payload, dict):
        return any(has_encrypted_fields(v) for v in payload.values())
    if isinstance(payload, list):
        return any(has_encrypted_fields(v) for v in payload)
    return False


def _b64field(envelope: Mapping[str, Any], name: str) -> bytes:
    value = envelope.get(name)
    if not isinstance(value, str) or not value.isascii():
        raise DecryptionError(f"the encrypted envelope's {name!r} is missing or not base64")
    try:
        return binascii.a2b_base64(value, strict_mode=True)
    except (binascii.Error, ValueError):
        raise DecryptionError(f"the encrypted envelope's {name!r} is not valid base64") from None


def _open(aead: AESGCM, value: Any, bound: str) -> Any:
    envelope = value["encrypted"]
    if envelope.get("algorithm") != ALGORITHM:
        raise DecryptionError(f"unsupported encryption algorithm (expected {ALGORITHM})")
    if envelope.get("associated_data") != bound:
        raise DecryptionError("the encrypted field is bound to another event (associated_data mismatch)")
    nonce = _b64field(envelope, "nonce")
    if len(nonce) != _NONCE_BYTES:
        raise DecryptionError(f"the nonce must be {_NONCE_BYTES} bytes")
    ciphertext = _b64field(envelope, "ciphertext")
    try:
        plaintext = aead.decrypt(nonce, ciphertext, bound.encode("utf-8"))
    except InvalidTag:
        raise DecryptionError("decryption failed: wrong encryption key or tampered ciphertext") from None
    try:
        return json.loads(plaintext)
    except ValueError:
        raise DecryptionError("the decrypted field is not JSON") from None


def _walk(aead: AESGCM, node: Any, bound: str) -> Any:
    if _is_envelope(node):
        return _open(aead, node, bound)
    if isinstance(node, dict):
        return {k: _walk(aead, v, bound) for k, v in node.items()}
    if isinstance(node, list):
        return [_walk(aead, v, bound) for v in node]
    return node


def decrypt_fields(
    payload: Mapping[str, Any],
    key: str | bytes,
    paths: Iterable[str] | None = None,
    aad: str | None = None,
) -> dict[str, Any]:
    """Return a copy of ``payload`` with encrypted envelopes replaced by their decrypted objects.

    With ``paths=None`` every envelope anywhere in the payload is decrypted; otherwise only those at the
    given dotted paths. ``aad`` defaults to ``payload["id"]``. Raises :class:`DecryptionError` on a wrong key,
    tampering, an envelope bound to another event, or a malformed envelope.
    """
    aead = AESGCM(decode_encryption_key(key))
    bound = _aad_of(payload, aad)
    if paths is None:
        result: dict[str, Any] = _walk(aead, dict(payload), bound)
        return result
    out: dict[str, Any] = copy.deepcopy(dict(payload))
    for path in paths:
        *parents, leaf = _split(path)
        node: Any = out
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and _is_envelope(node.get(leaf)):
            node[leaf] = _open(aead, node[leaf], bound)
    return out
