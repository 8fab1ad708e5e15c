"""Webhook.unwrap (verify, decrypt, parse into a typed event) and the AES-256-GCM field encryption helpers."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from bnpl.webhooks import (
    DecryptionError,
    NoValidSignatureError,
    Webhook,
    WebhookKeyError,
    decrypt_fields,
    encrypt_fields,
    generate_encryption_key,
    generate_secret,
)
from bnpl.webhooks.encryption import DEFAULT_ENCRYPTED_PATHS, has_encrypted_fields

events = pytest.importorskip("bnpl.models.events", reason="bnpl.models.events (parse_event) is not written yet")

SECRET = generate_secret()
NOW = 1_767_225_600
CUSTOMER = {"name": "张伟", "phone": "+86 138 0013 8000", "id_number": "110101199003074514"}


def event(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "evt_01JGZ8X7Q0V2",
        "object": "event",
        "type": "customer.credit_limit_increased",
        "created": "2026-01-01T00:00:00Z",
        "api_version": "2026-01-01",
        "object_id": "cus_01JGZ8X5",
        "sequence": 4,
        "data": {
            "object": "customer_credit_notice",
            "customer_id": "cus_01JGZ8X5",
            "currency": "CNY",
            "credit_limit_before": 500000,
            "credit_limit_after": 800000,
            "effective_at": "2026-01-01T00:00:00Z",
        },
    }
    base.update(overrides)
    return base


def deliver(payload: dict[str, Any], wh: Webhook | None = None) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return body, (wh or Webhook(SECRET)).sign("msg_1", NOW, body)


def test_unwrap_returns_the_typed_event() -> None:
    body, headers = deliver(event())
    parsed = Webhook(SECRET, clock=lambda: NOW).unwrap(body, headers)
    assert isinstance(parsed, events.CustomerCreditLimitIncreasedEvent)
    assert parsed.data.credit_limit_after == 800000
    assert parsed.sequence == 4


def test_unwrap_unknown_type_falls_back() -> None:
    body, headers = deliver(event(type="lender.something_new", data={"x": 1}))
    parsed = Webhook(SECRET, clock=lambda: NOW).unwrap(body, headers)
    assert isinstance(parsed, events.UnknownEvent)
    assert parsed.data == {"x": 1}


def test_unwrap_verifies_before_parsing() -> None:
    body, headers = deliver(event())
    with pytest.raises(NoValidSignatureError):
        Webhook(SECRET, clock=lambda: NOW).unwrap(body.replace(b"800000", b"900000"), headers)
    # a garbage body with a bad signature is a verification error, not a parse error
    with pytest.raises(NoValidSignatureError):
        Webhook(SECRET, clock=lambda: NOW).unwrap(b"not json", headers)


def test_unwrap_of_a_verified_non_event_raises_the_parse_error() -> None:
    body, headers = deliver({"hello": "world"})
    with pytest.raises(events.EventParseError):
        Webhook(SECRET, clock=lambda: NOW).unwrap(body, headers)


# --- encryption ------------------------------------------------------------------------------------------


def test_encryption_key_format() -> None:
    key = generate_encryption_key()
    assert key.startswith("whenc_")
    assert len(base64.b64decode(key.removeprefix("whenc_"))) == 32
    assert generate_encryption_key() != key


def test_encrypt_then_decrypt_roundtrip() -> None:
    key = generate_encryption_key()
    payload = event(type="x.y", data={"customer": CUSTOMER, "amount": 1})
    sealed = encrypt_fields(payload, key)
    envelope = sealed["data"]["customer"]["encrypted"]
    assert envelope["algorithm"] == "AEAD_AES_256_GCM"
    assert envelope["associated_data"] == payload["id"]
    assert len(base64.b64decode(envelope["nonce"])) == 12
    assert "张伟" not in json.dumps(sealed, ensure_ascii=False)
    assert sealed["data"]["amount"] == 1
    assert payload["data"]["customer"] == CUSTOMER  # the input is not modified
    assert decrypt_fields(sealed, key) == payload
    assert decrypt_fields(sealed, key, paths=DEFAULT_ENCRYPTED_PATHS) == payload
    assert encrypt_fields(payload, key) != sealed  # fresh nonce each time


def test_decrypt_with_wrong_key_or_tampering_fails() -> None:
    key = generate_encryption_key()
    sealed = encrypt_fields(event(type="x.y", data={"customer": CUSTOMER}), key)
    with pytest.raises(DecryptionError, match="wrong encryption key or tampered"):
        decrypt_fields(sealed, generate_encryption_key())
    envelope = sealed["data"]["customer"]["encrypted"]
    raw = bytearray(base64.b64decode(envelope["ciphertext"]))
    raw[0] ^= 1
    tampered = json.loads(json.dumps(sealed))
    tampered["data"]["customer"]["encrypted"]["ciphertext"] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(DecryptionError):
        decrypt_fields(tampered, key)


def test_envelope_cannot_be_moved_to_another_event() -> None:
    key = generate_encryption_key()
    sealed = encrypt_fields(event(type="x.y", data={"customer": CUSTOMER}), key)
    moved = {**sealed, "id": "evt_other"}
    with pytest.raises(DecryptionError, match="another event"):
        decrypt_fields(moved, key)
    forged = json.loads(json.dumps(moved))
    forged["data"]["customer"]["encrypted"]["associated_data"] = "evt_other"
    with pytest.raises(DecryptionError):
        decrypt_fields(forged, key)


@pytest.mark.parametrize(
    "envelope",
    [
        {"algorithm": "AEAD_CHACHA20", "nonce": "AAAAAAAAAAAAAAAA", "ciphertext": "AAAA"},
        {"algorithm": "AEAD_AES_256_GCM", "nonce": "!!", "ciphertext": "AAAA"},
        {"algorithm": "AEAD_AES_256_GCM", "nonce": "AAAA", "ciphertext": "AAAA"},
        {"algorithm": "AEAD_AES_256_GCM", "ciphertext": "AAAA"},
        {"algorithm": "AEAD_AES_256_GCM", "nonce": "AAAAAAAAAAAAAAAA", "ciphertext": 5},
    ],
)
def test_malformed_envelopes_are_decryption_errors(envelope: dict[str, Any]) -> None:
    payload = event(type="x.y", data={"customer": {"encrypted": {**envelope, "associated_data": "evt_01JGZ8X7Q0V2"}}})
    with pytest.raises(DecryptionError):
        decrypt_fields(payload, generate_encryption_key())


@pytest.mark.parametrize("bad", ["whenc_AAAA", "AAAA", b"short", 5, "whenc_!!!"])
def test_bad_encryption_keys_are_refused(bad: Any) -> None:
    with pytest.raises(WebhookKeyError):
        encrypt_fields(event(), bad)
    with pytest.raises(WebhookKeyError):
        Webhook(SECRET, encryption_key=bad)


def test_unwrap_decrypts_customer_data() -> None:
    key = generate_encryption_key()
    assert "whenc_" not in repr(Webhook(SECRET, encryption_key=key))
    payload = event(type="customer.profile_updated", data={"customer": CUSTOMER, "tier": "gold"})
    body, headers = deliver(encrypt_fields(payload, key))
    assert has_encrypted_fields(json.loads(body))
    parsed = Webhook(SECRET, clock=lambda: NOW, encryption_key=key).unwrap(body, headers)
    assert isinstance(parsed, events.UnknownEvent)
    assert parsed.data == {"customer": CUSTOMER, "tier": "gold"}


def test_unwrap_with_wrong_or_missing_key_fails_typed() -> None:
    key = generate_encryption_key()
    body, headers = deliver(encrypt_fields(event(type="x.y", data={"customer": CUSTOMER}), key))
    with pytest.raises(DecryptionError):
        Webhook(SECRET, clock=lambda: NOW, encryption_key=generate_encryption_key()).unwrap(body, headers)
    with pytest.raises(DecryptionError, match="encryption_key"):
        Webhook(SECRET, clock=lambda: NOW).unwrap(body, headers)
    # verify alone never needs the encryption key: the signature covers the envelope
    Webhook(SECRET, clock=lambda: NOW).verify(body, headers)
