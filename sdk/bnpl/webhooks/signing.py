"""Standard Webhooks signing and verification: :class:`Webhook`.

Signed content is ``{webhook-id}.{webhook-timestamp}.{raw body bytes}``. ``v1`` entries are base64
HMAC-SHA256 under a ``whsec_`` secret; ``v1a`` entries are base64 Ed25519 signatures checked against pinned
``whpk_`` public keys. See ``webhooks/SPEC.md`` for the language-neutral contract.

``verify`` is on the hot path of every receiver, so it is written for speed: the HMAC key schedule is computed
once in ``__init__`` and copied per message, a plain ``dict`` of headers is read with three ``get`` calls, no
regular expressions are used, and the given signature is base64-decoded and compared in constant time.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import math
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bnpl.webhooks.errors import (
    DecryptionError,
    InvalidHeaderError,
    InvalidTimestampError,
    MissingHeaderError,
    NoValidSignatureError,
    PayloadTooLargeError,
    RawBodyRequiredError,
    TimestampOutOfToleranceError,
    WebhookKeyError,
    WebhookSignError,
)
from bnpl.webhooks.keys import (
    PUBLIC_KEY_PREFIX,
    SIGNING_KEY_PREFIX,
    decode_encryption_key,
    decode_secret,
    load_public_key,
    load_signing_key,
)

if TYPE_CHECKING:
    from bnpl.models.events import Event  # type: ignore[import-not-found,unused-ignore]

__all__ = ["DEFAULT_MAX_BODY_BYTES", "DEFAULT_TOLERANCE", "Webhook"]

DEFAULT_TOLERANCE = 300
DEFAULT_MAX_BODY_BYTES = 1024 * 1024

_ID = ("webhook-id", "svix-id")
_TIMESTAMP = ("webhook-timestamp", "svix-timestamp")
_SIGNATURE = ("webhook-signature", "svix-signature")
_MAX_TIMESTAMP_DIGITS = 15

_a2b_base64 = binascii.a2b_base64
_b2a_base64 = binascii.b2a_base64
_compare_digest = hmac.compare_digest

_RAW_BODY_HELP = (
    "the signature covers the exact bytes that were sent, and a decoded or re-serialised body (str, dict, "
    "parsed JSON) differs from them; pass the raw request body: Django `request.body`, Flask "
    "`request.get_data()`, FastAPI/Starlette `await request.body()`"
)


class _Mac(Protocol):
    """The part of an HMAC object that verification uses (the stdlib wrapper or its OpenSSL core)."""

    def copy(self) -> _Mac: ...
    def update(self, msg: bytes, /) -> None: ...
    def digest(self) -> bytes: ...


def _mac_for(key: bytes) -> _Mac:
    outer = hmac.new(key, digestmod=hashlib.sha256)
    # The OpenSSL HMAC object under the stdlib wrapper copies without the wrapper's Python-level overhead;
    # fall back to the wrapper where it is absent (other interpreters or builds).
    core: _Mac | None = getattr(outer, "_hmac", None)
    return core if core is not None and hasattr(core, "copy") else outer


def _coerce_body(body: object) -> bytes:
    if isinstance(body, bytes):
        return bytes(body)
    if isinstance(body, bytearray | memoryview):
        return bytes(body)
    raise RawBodyRequiredError(f"webhook body must be raw bytes, got {type(body).__name__}: {_RAW_BODY_HELP}")


def _one_value(value: object, name: str, *, join: bool) -> str | None:
    """Normalise a header value from any framework: str, bytes (latin-1), or a list of those."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("latin-1")
    if isinstance(value, list | tuple):
        parts = [_one_value(v, name, join=join) for v in value]
        texts = [p for p in parts if p]
        if not texts:
            return None
        if join:
            return " ".join(texts)
        if any(t != texts[0] for t in texts[1:]):
            raise InvalidHeaderError(f"the {name} header was sent several times with different values")
        return texts[0]
    raise InvalidHeaderError(f"the {name} header value is a {type(value).__name__}, expected str")


def _lookup(headers: Any, names: tuple[str, str], *, join: bool) -> str | None:
    """Case-insensitive lookup of one header (or its svix- alias) in any mapping-like header object."""
    for name in names:
        value: object = None
        for multi in ("getlist", "get_all", "getall"):
            getter = getattr(headers, multi, None)
            if callable(getter):
                try:
                    value = getter(name)
                except (KeyError, TypeError):  # aiohttp getall raises KeyError when absent
                    value = None
                break
        if not value:
            value = headers.get(name)
        if value is None:
            # Plain dicts with other casings, and WSGI environ / Django ``request.META`` (HTTP_WEBHOOK_ID).
            environ_name = "http_" + name.replace("-", "_")
            for key, item in headers.items():
                if isinstance(key, str) and key.lower() in (name, environ_name):
                    value = item
                    break
        text = _one_value(value, name, join=join)
        if text:
            return text
    return None


def _read_headers(headers: object) -> tuple[str | None, str | None, str | None]:
    if not callable(getattr(headers, "get", None)) or not callable(getattr(headers, "items", None)):
        raise InvalidHeaderError(f"headers must be a mapping of header names to values, not {type(headers).__name__}")
    return (
        _lookup(headers, _ID, join=False),
        _lookup(headers, _TIMESTAMP, join=False),
        _lookup(headers, _SIGNATURE, join=True),
    )


def _check_tolerance(value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise WebhookKeyError("tolerance must be a finite number of seconds >= 0, or None to disable the check")
    return value


class Webhook:
    """Sign and verify Standard Webhooks (``webhook-id``/``-timestamp``/``-signature``).

    ``Webhook("whsec_…")`` verifies and signs ``v1`` HMAC signatures. For key rotation pass several:
    ``Webhook(secrets=["whsec_new", "whsec_old"])``; any one valid signature is enough. A ``whsk_`` Ed25519
    signing key (in ``secret``/``secrets``) signs ``v1a`` entries; ``public_keys=["whpk_…"]`` verifies them.

    ``tolerance`` (seconds, default 300, ``None`` disables) bounds ``|now - webhook-timestamp|`` in both
    directions; ``clock`` returns the current Unix time (default :func:`time.time`). ``max_body_bytes``
    (default 1 MiB) bounds the body. ``encryption_key`` (``whenc_…``) lets :meth:`unwrap` decrypt encrypted
    fields.
    """

    __slots__ = (
        "_clock",
        "_encryption_key",
        "_macs",
        "_max_body_bytes",
        "_public_keys",
        "_signing_keys",
        "_single_mac",
        "_tolerance",
    )

    def __init__(
        self,
        secret: str | bytes | None = None,
        *,
        secrets: Iterable[str | bytes] = (),
        public_keys: Iterable[str] = (),
        tolerance: float | None = DEFAULT_TOLERANCE,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        clock: Callable[[], float] | None = None,
        encryption_key: str | bytes | None = None,
    ) -> None:
        if isinstance(secrets, str | bytes) or isinstance(public_keys, str | bytes):
            raise WebhookKeyError("secrets= and public_keys= take a list of keys, not a single string")
        configured: list[str | bytes] = ([] if secret is None else [secret]) + list(secrets)
        macs: list[_Mac] = []
        signing: list[Ed25519PrivateKey] = []
        public: list[Ed25519PublicKey] = []
        seen: set[bytes] = set()
        for item in configured:
            if isinstance(item, str) and item.startswith(SIGNING_KEY_PREFIX):
                private = load_signing_key(item)
                signing.append(private)
                public.append(private.public_key())
            elif isinstance(item, str) and item.startswith(PUBLIC_KEY_PREFIX):
                public.append(load_public_key(item))
            else:
                key = decode_secret(item)
                if key not in seen:  # a duplicate would only add a redundant header entry
                    seen.add(key)
                    macs.append(_mac_for(key))
        for item in public_keys:
            public.append(load_public_key(item))
        if not macs and not public:
            raise WebhookKeyError("configure at least one whsec_ secret, whsk_ signing key or whpk_ public key")
        if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int) or max_body_bytes <= 0:
            raise WebhookKeyError("max_body_bytes must be a positive integer")
        if clock is not None and not callable(clock):
            raise WebhookKeyError("clock must be a callable returning Unix time in seconds")
        self._macs: tuple[_Mac, ...] = tuple(macs)
        self._single_mac: _Mac | None = macs[0] if len(macs) == 1 else None
        self._signing_keys: tuple[Ed25519PrivateKey, ...] = tuple(signing)
        self._public_keys: tuple[Ed25519PublicKey, ...] = tuple(public)
        self._tolerance: float | None = _check_tolerance(tolerance)
        self._max_body_bytes: int = max_body_bytes
        self._clock: Callable[[], float] = clock if clock is not None else time.time
        self._encryption_key: bytes | None = None if encryption_key is None else decode_encryption_key(encryption_key)

    def __repr__(self) -> str:
        return (
            f"Webhook(hmac_secrets={len(self._macs)}, signing_keys={len(self._signing_keys)}, "
            f"public_keys={len(self._public_keys)}, tolerance={self._tolerance!r}, "
            f"max_body_bytes={self._max_body_bytes}, encryption={'on' if self._encryption_key else 'off'})"
        )

    __str__ = __repr__

    def __reduce__(self) -> Any:
        # Pickling would copy key material into wherever the pickle goes.
        raise TypeError("Webhook objects hold secrets and cannot be pickled; build one per process")

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Check that ``body`` was signed by a configured key, recently. Returns ``None`` or raises.

        ``body`` must be the raw request bytes (``bytes``, ``bytearray`` or ``memoryview``). ``headers`` is any
        mapping (plain dict, Django/Flask/Starlette header objects), looked up case-insensitively; the
        ``svix-*`` names are accepted too. Raises a :class:`~bnpl.webhooks.WebhookVerificationError`
        subclass: :class:`RawBodyRequiredError`, :class:`PayloadTooLargeError`, :class:`MissingHeaderError`,
        :class:`InvalidHeaderError`, :class:`InvalidTimestampError`, :class:`TimestampOutOfToleranceError` or
        :class:`NoValidSignatureError`.
        """
        if body.__class__ is not bytes:
            body = _coerce_body(body)
        if len(body) > self._max_body_bytes:
            raise PayloadTooLargeError(f"webhook body is larger than max_body_bytes={self._max_body_bytes}")
        msg_id: str | None
        stamp: str | None
        signature: str | None
        if headers.__class__ is dict:
            get = headers.get
            msg_id = get("webhook-id") or get("svix-id")
            stamp = get("webhook-timestamp") or get("svix-timestamp")
            signature = get("webhook-signature") or get("svix-signature")
            if msg_id.__class__ is not str or stamp.__class__ is not str or signature.__class__ is not str:
                msg_id, stamp, signature = _read_headers(headers)
        else:
            msg_id, stamp, signature = _read_headers(headers)
        if not msg_id or not stamp or not signature:
            missing = [
                n
                for n, v in zip(
                    ("webhook-id", "webhook-timestamp", "webhook-signature"), (msg_id, stamp, signature), strict=True
                )
                if not v
            ]
            raise MissingHeaderError(f"missing webhook header(s): {', '.join(missing)}")
        if not (stamp.isdigit() and stamp.isascii()) or len(stamp) > _MAX_TIMESTAMP_DIGITS:
            raise InvalidTimestampError("webhook-timestamp must be an integer number of Unix seconds")
        tolerance = self._tolerance
        if tolerance is not None:
            skew = self._clock() - int(stamp)
            if skew > tolerance or -skew > tolerance:
                raise TimestampOutOfToleranceError(
                    f"webhook-timestamp is {abs(skew):.0f}s {'old' if skew > 0 else 'in the future'}; "
                    f"the tolerance is {tolerance}s (check the receiver's clock, or this is a replay)"
                )
        if "." in msg_id:
            raise InvalidHeaderError("webhook-id must not contain '.' (it delimits the signed content)")
        try:
            prefix = f"{msg_id}.{stamp}.".encode()
        except UnicodeEncodeError:
            raise InvalidHeaderError("webhook-id is not encodable as UTF-8") from None
        mac = self._single_mac
        if mac is not None and " " not in signature:
            # The common case (one secret, one entry) without the general loop's bookkeeping.
            scheme, _, value = signature.partition(",")
            if scheme == "v1":
                try:
                    given = _a2b_base64(value)
                except (binascii.Error, ValueError):
                    given = b""
                h = mac.copy()
                h.update(prefix)
                h.update(body)
                if _compare_digest(h.digest(), given):
                    return
        if self._verify_entries(prefix, body, signature):
            return
        raise NoValidSignatureError("no webhook-signature entry matches a configured secret or public key")

    def _verify_entries(self, prefix: bytes, body: bytes, signature: str) -> bool:
        """Try every ``v1`` entry against every secret, then ``v1a`` entries against every public key."""
        digests: list[bytes] | None = None
        for entry in signature.split(" "):
            scheme, _, value = entry.partition(",")
            if scheme != "v1" or not self._macs:
                continue
            try:
                given = _a2b_base64(value)
            except (binascii.Error, ValueError):  # non-base64 or non-ASCII entry: skip it
                continue
            if digests is None:
                digests = []
                for mac in self._macs:
                    h = mac.copy()
                    h.update(prefix)
                    h.update(body)
                    digests.append(h.digest())
            for digest in digests:
                if _compare_digest(digest, given):
                    return True
        return bool(self._public_keys) and "v1a," in signature and self._verify_ed25519(prefix + body, signature)

    def _verify_ed25519(self, message: bytes, signature: str) -> bool:
        for entry in signature.split(" "):
            scheme, _, value = entry.partition(",")
            if scheme != "v1a" or not value.isascii():
                continue
            try:
                given = _a2b_base64(value, strict_mode=True)
            except (binascii.Error, ValueError):
                continue
            if len(given) != 64:
                continue
            for key in self._public_keys:
                try:
                    key.verify(given, message)
                except InvalidSignature:
                    continue
                return True
        return False

    def unwrap(self, body: bytes, headers: Mapping[str, str]) -> Event:
        """Verify, then parse into a typed event (:func:`bnpl.models.events.parse_event`).

        Encrypted fields (see :mod:`bnpl.webhooks.encryption`) are decrypted with ``encryption_key`` first;
        :class:`DecryptionError` if that fails or no key was configured. A verified body that is not a valid
        event raises the models' ``EventParseError``.
        """
        self.verify(body, headers)
        from bnpl.models.events import parse_event  # type: ignore[import-not-found,unused-ignore]

        raw = body if body.__class__ is bytes else _coerce_body(body)
        if self._encryption_key is None and b'"encrypted"' not in raw:
            return parse_event(raw)  # type: ignore[no-any-return,unused-ignore]
        try:
            payload = json.loads(raw)
        except ValueError:
            return parse_event(raw)  # type: ignore[no-any-return,unused-ignore]
        if isinstance(payload, dict):
            from bnpl.webhooks.encryption import decrypt_fields, has_encrypted_fields

            if has_encrypted_fields(payload):
                if self._encryption_key is None:
                    raise DecryptionError(
                        "this event carries encrypted fields; pass encryption_key='whenc_…' to Webhook"
                    )
                payload = decrypt_fields(payload, self._encryption_key)
        return parse_event(payload)  # type: ignore[no-any-return,unused-ignore]

    def sign(self, msg_id: str, timestamp: int | datetime, body: bytes) -> dict[str, str]:
        """Return the three headers for ``body``: one signature entry per configured secret and signing key.

        ``timestamp`` is Unix seconds or an aware ``datetime``. Raises :class:`WebhookSignError` for an empty
        id or one containing ``.``/whitespace, a naive datetime, a non-bytes body, or a verify-only Webhook.
        """
        if not isinstance(msg_id, str) or not msg_id or not msg_id.isascii() or not msg_id.isprintable():
            raise WebhookSignError("msg_id must be a non-empty printable ASCII str")
        if "." in msg_id or " " in msg_id or "," in msg_id:
            raise WebhookSignError("msg_id must not contain '.', ',' or spaces")
        if isinstance(timestamp, datetime):
            if timestamp.tzinfo is None or timestamp.utcoffset() is None:
                raise WebhookSignError("timestamp datetime must be timezone-aware (e.g. datetime.now(UTC))")
            seconds = math.floor(timestamp.timestamp())
        elif isinstance(timestamp, int) and not isinstance(timestamp, bool):
            seconds = timestamp
        else:
            raise WebhookSignError("timestamp must be int Unix seconds or an aware datetime")
        if seconds < 0:
            raise WebhookSignError("timestamp must not be before 1970")
        if not isinstance(body, bytes | bytearray | memoryview):
            raise WebhookSignError(
                f"body must be the exact bytes you will send, got {type(body).__name__}; encode it once and "
                "send those same bytes"
            )
        if not self._macs and not self._signing_keys:
            raise WebhookSignError("this Webhook has only public keys: it can verify but not sign")
        message = f"{msg_id}.{seconds}.".encode() + bytes(body)
        entries: list[str] = []
        for mac in self._macs:
            h = mac.copy()
            h.update(message)
            entries.append("v1," + _b2a_base64(h.digest(), newline=False).decode("ascii"))
        for key in self._signing_keys:
            entries.append("v1a," + _b2a_base64(key.sign(message), newline=False).decode("ascii"))
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(seconds),
            "webhook-signature": " ".join(entries),
        }
