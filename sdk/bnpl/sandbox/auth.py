"""Merchants and API keys: ``sk_test_…`` secret keys for the API, ``pk_test_…`` publishable keys for the
hosted page. Keys are stored as SHA-256 hashes only and looked up by hash (an indexed equality on a digest
of a high-entropy secret, so the lookup leaks nothing useful about other keys); revoked keys stop working
at once."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from bnpl.sandbox.db import Database
from bnpl.sandbox.service._common import new_id, to_us

__all__ = [
    "AuthError",
    "Caller",
    "MerchantKeys",
    "authenticate",
    "create_api_key",
    "create_merchant",
    "ensure_api_key",
    "hosted_secret",
    "hosted_token",
    "revoke_api_key",
    "verify_hosted_token",
]

KeyKind = Literal["secret", "publishable"]
_PREFIX: Final[dict[str, str]] = {"secret": "sk_test_", "publishable": "pk_test_"}
_KEY_SHAPE: Final = re.compile(r"^(sk|pk)_(test|live)_[A-Za-z0-9]{16,128}$")


class AuthError(Exception):
    """Why a request is not allowed: ``type`` is ``authentication_error`` (401) or ``permission_error`` (403)."""

    def __init__(self, type_: str, code: str, message: str) -> None:
        super().__init__(message)
        self.type = type_
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated merchant and the kind of key used."""

    merchant_id: str
    kind: KeyKind


@dataclass(frozen=True, slots=True)
class MerchantKeys:
    """A merchant and its freshly minted keys (shown once: only their hashes are stored)."""

    merchant_id: str
    secret_key: str
    publishable_key: str

    def __repr__(self) -> str:
        return f"MerchantKeys(merchant_id={self.merchant_id!r}, secret_key='sk_test_…', publishable_key='pk_test_…')"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _insert_key(db: Database, merchant_id: str, key: str, kind: KeyKind, now: datetime) -> None:
    with db.transaction() as tx:
        tx.execute(
            "INSERT INTO api_keys (key_hash, merchant_id, kind, last4, created) VALUES (?,?,?,?,?) "
            "ON CONFLICT (key_hash) DO NOTHING",
            (_hash(key), merchant_id, kind, key[-4:], to_us(now)),
        )


def create_api_key(db: Database, merchant_id: str, kind: KeyKind, now: datetime) -> str:
    """Mint a new key of ``kind`` for the merchant and return it (the only time it is visible)."""
    if kind not in _PREFIX:
        raise ValueError(f"kind must be 'secret' or 'publishable', got {kind!r}")
    key = _PREFIX[kind] + secrets.token_hex(16)
    _insert_key(db, merchant_id, key, kind, now)
    return key


def ensure_api_key(db: Database, merchant_id: str, key: str, now: datetime) -> None:
    """Register a caller-chosen key (``bnpl sandbox serve --api-key sk_test_…``) for the merchant.

    Raises ``ValueError`` if the key is malformed or already belongs to another merchant.
    """
    if not _KEY_SHAPE.match(key) or not key.startswith(tuple(_PREFIX.values())):
        raise ValueError("the key must look like sk_test_ or pk_test_ followed by 16-128 letters or digits")
    kind: KeyKind = "secret" if key.startswith("sk_") else "publishable"
    _insert_key(db, merchant_id, key, kind, now)
    with db.transaction(readonly=True) as tx:
        row = tx.fetchone("SELECT merchant_id FROM api_keys WHERE key_hash = ?", (_hash(key),))
    if row is None or row["merchant_id"] != merchant_id:
        raise ValueError("that key already belongs to another merchant; choose another")


def create_merchant(db: Database, now: datetime, *, name: str | None = None) -> MerchantKeys:
    """A new merchant with one secret and one publishable key."""
    merchant_id = new_id("mer_")
    with db.transaction() as tx:
        tx.execute("INSERT INTO merchants (id, name, created) VALUES (?,?,?)", (merchant_id, name, to_us(now)))
    return MerchantKeys(
        merchant_id=merchant_id,
        secret_key=create_api_key(db, merchant_id, "secret", now),
        publishable_key=create_api_key(db, merchant_id, "publishable", now),
    )


def revoke_api_key(db: Database, key: str, now: datetime) -> bool:
    """Revoke a key; True if it existed and was active."""
    with db.transaction() as tx:
        changed = tx.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE key_hash = ? AND revoked_at IS NULL", (to_us(now), _hash(key))
        )
    return changed == 1


def authenticate(db: Database, authorization: str | None, *, secret_required: bool = True) -> Caller:
    """Resolve ``Authorization: Bearer <key>`` to the calling merchant, or raise :class:`AuthError`.

    401 ``missing_api_key`` / ``invalid_api_key`` / ``api_key_revoked``; 403 ``secret_key_required`` when a
    publishable key calls a secret-key route. Messages never echo the key.
    """
    if not authorization:
        raise AuthError(
            "authentication_error", "missing_api_key", "No API key provided: send 'Authorization: Bearer sk_test_…'"
        )
    scheme, _, key = authorization.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not _KEY_SHAPE.match(key):
        raise AuthError(
            "authentication_error", "invalid_api_key", "Malformed API key: expected 'Authorization: Bearer sk_test_…'"
        )
    row = db.read_one("SELECT merchant_id, kind, revoked_at FROM api_keys WHERE key_hash = ?", (_hash(key),))
    if row is None:
        raise AuthError("authentication_error", "invalid_api_key", f"Invalid API key ending in {key[-4:]}")
    if row["revoked_at"] is not None:
        raise AuthError(
            "authentication_error",
            "api_key_revoked",
            f"The API key ending in {key[-4:]} was revoked; use an active key",
        )
    kind: KeyKind = row["kind"]
    if secret_required and kind != "secret":
        raise AuthError(
            "permission_error",
            "secret_key_required",
            "This route needs a secret key (sk_test_…); publishable keys only work on the hosted page",
        )
    return Caller(merchant_id=row["merchant_id"], kind=kind)


def hosted_secret(db: Database) -> bytes:
    """The server's secret for signing hosted-page tokens, created once per database (so restarts keep
    outstanding approval URLs valid)."""
    with db.transaction() as tx:
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('hosted_secret', ?) ON CONFLICT (key) DO NOTHING",
            (secrets.token_hex(32),),
        )
        row = tx.fetchone("SELECT value FROM meta WHERE key = 'hosted_secret'")
    if row is None:  # pragma: no cover - inserted above in the same transaction
        raise RuntimeError("hosted secret missing")
    return bytes.fromhex(row["value"])


def hosted_token(secret: bytes, checkout_id: str) -> str:
    """The approval-URL token of a checkout: HMAC-SHA256(secret, checkout id), hex, 32 characters."""
    return hmac.new(secret, checkout_id.encode("ascii"), hashlib.sha256).hexdigest()[:32]


def verify_hosted_token(secret: bytes, checkout_id: str, token: str | None) -> bool:
    """Constant-time check of an approval-URL token."""
    return token is not None and hmac.compare_digest(hosted_token(secret, checkout_id), token)


def default_merchant(db: Database, now: datetime) -> str:
    """The id of the instance's default merchant (created on first start)."""
    with db.transaction() as tx:
        row = tx.fetchone("SELECT value FROM meta WHERE key = 'default_merchant'")
        if row is not None:
            return str(row["value"])
        merchant_id = new_id("mer_")
        tx.execute("INSERT INTO merchants (id, name, created) VALUES (?,?,?)", (merchant_id, "default", to_us(now)))
        tx.execute("INSERT INTO meta (key, value) VALUES ('default_merchant', ?)", (merchant_id,))
        return merchant_id
