"""Generate the signed webhook test vectors in this folder (deterministic: fixed keys, ids and times).

Run from the repository root: ``python webhooks/vectors/generate.py``. It writes ``signatures.json``.

The signatures are computed here directly with ``hmac``/``hashlib`` and ``cryptography`` (not with
``bnpl.webhooks``), so the vectors check the SDK rather than echo it. Every case says what a conforming
verifier must conclude: ``"expected": "valid"``, or ``"invalid"`` with a ``reason`` code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

OUT = Path(__file__).with_name("signatures.json")

# Fixed key material, derived from labels so anyone can reproduce it.
KEY_A = hashlib.sha256(b"bnpl webhook vector secret A").digest()  # the current secret
KEY_B = hashlib.sha256(b"bnpl webhook vector secret B").digest()  # the previous secret (rotation)
KEY_WRONG = hashlib.sha256(b"bnpl webhook vector wrong secret").digest()
SEED_1 = hashlib.sha256(b"bnpl webhook vector ed25519 key 1").digest()
SEED_2 = hashlib.sha256(b"bnpl webhook vector ed25519 key 2").digest()

# The Standard Webhooks cross-language reference vector (libraries/*/tests in standard-webhooks).
REF_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105 - a published test vector
REF_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
REF_TS = 1614265330
REF_BODY = '{"test": 2432232314}'

MSG_ID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
TS = 1767225600  # 2026-01-01T00:00:00Z
BODY = (
    '{"id":"evt_01JGZ8X7Q0V2","object":"event","type":"order.instalment_paid","created":"2026-01-01T00:00:00Z",'
    '"api_version":"2026-01-01","object_id":"ord_01JGZ8X5","sequence":3,"livemode":false,'
    '"data":{"order_id":"ord_01JGZ8X5","instalment_number":2,"amount":32475,"currency":"CNY",'
    '"note":"先享后付 第2期已还款"}}'
)


def whsec(key: bytes) -> str:
    return "whsec_" + base64.b64encode(key).decode()


def whpk(seed: bytes) -> str:
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "whpk_" + base64.b64encode(public).decode()


def v1(key: bytes, msg_id: str, ts: int | str, body: str) -> str:
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body.encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def v1a(seed: bytes, msg_id: str, ts: int | str, body: str) -> str:
    sig = Ed25519PrivateKey.from_private_bytes(seed).sign(f"{msg_id}.{ts}.".encode() + body.encode())
    return "v1a," + base64.b64encode(sig).decode()


def headers(msg_id: str, ts: int | str, signature: str) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": signature}


def case(
    name: str,
    description: str,
    *,
    expected: str,
    reason: str | None = None,
    secrets: list[str] | None = None,
    public_keys: list[str] | None = None,
    msg_id: str = MSG_ID,
    timestamp: int = TS,
    now: int = TS,
    body: str = BODY,
    hdrs: dict[str, str],
    standardwebhooks_compatible: bool = True,
) -> dict[str, Any]:
    schemes = sorted({e.partition(",")[0] for v in hdrs.values() for e in v.split(" ") if "," in e} & {"v1", "v1a"})
    return {
        "name": name,
        "description": description,
        "secrets": secrets or [],
        "public_keys": public_keys or [],
        "tolerance": 300,
        "msg_id": msg_id,
        "timestamp": timestamp,
        "now": now,
        "body": body,
        "headers": hdrs,
        "schemes": schemes,
        "expected": expected,
        "reason": reason,
        # The reference Python library raises a bare ValueError on entries without a comma, cannot check
        # v1a, and only knows whsec_ secrets: interop tests run it on the cases marked compatible.
        "standardwebhooks_compatible": standardwebhooks_compatible and bool(secrets) and not public_keys,
    }


def build() -> list[dict[str, Any]]:
    a, b, wrong = whsec(KEY_A), whsec(KEY_B), whsec(KEY_WRONG)
    pk1, pk2 = whpk(SEED_1), whpk(SEED_2)
    good = v1(KEY_A, MSG_ID, TS, BODY)
    cases = [
        case(
            "standard_webhooks_reference",
            "The Standard Webhooks cross-language vector (24-byte secret).",
            expected="valid",
            secrets=[REF_SECRET],
            msg_id=REF_ID,
            timestamp=REF_TS,
            now=REF_TS,
            body=REF_BODY,
            hdrs=headers(REF_ID, REF_TS, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
        ),
        case(
            "valid",
            "A bnpl event signed with the current secret.",
            expected="valid",
            secrets=[a],
            hdrs=headers(MSG_ID, TS, good),
        ),
        case(
            "tampered_body",
            "One byte of the body changed after signing.",
            expected="invalid",
            reason="no_valid_signature",
            secrets=[a],
            body=BODY.replace("32475", "32476"),
            hdrs=headers(MSG_ID, TS, good),
        ),
        case(
            "tampered_id",
            "webhook-id changed after signing.",
            expected="invalid",
            reason="no_valid_signature",
            secrets=[a],
            msg_id=MSG_ID + "x",
            hdrs=headers(MSG_ID + "x", TS, good),
        ),
        case(
            "tampered_timestamp",
            "webhook-timestamp moved by one second after signing (still in tolerance).",
            expected="invalid",
            reason="no_valid_signature",
            secrets=[a],
            timestamp=TS + 1,
            now=TS,
            hdrs=headers(MSG_ID, TS + 1, good),
        ),
        case(
            "stale",
            "Signed 301 s before the receiver's clock (tolerance 300 s).",
            expected="invalid",
            reason="timestamp_out_of_tolerance",
            secrets=[a],
            now=TS + 301,
            hdrs=headers(MSG_ID, TS, good),
        ),
        case(
            "stale_edge",
            "Signed exactly 300 s before the receiver's clock: still accepted.",
            expected="valid",
            secrets=[a],
            now=TS + 300,
            hdrs=headers(MSG_ID, TS, good),
        ),
        case(
            "future",
            "Signed 301 s after the receiver's clock (tolerance is two-sided).",
            expected="invalid",
            reason="timestamp_out_of_tolerance",
            secrets=[a],
            now=TS - 301,
            hdrs=headers(MSG_ID, TS, good),
        ),
        case(
            "wrong_secret",
            "Signed with a secret the receiver does not hold.",
            expected="invalid",
            reason="no_valid_signature",
            secrets=[wrong],
            hdrs=headers(MSG_ID, TS, good),
        ),
        case(
            "rotated_receiver_holds_both",
            "Sender still signs with the old secret; receiver holds new and old.",
            expected="valid",
            secrets=[a, b],
            hdrs=headers(MSG_ID, TS, v1(KEY_B, MSG_ID, TS, BODY)),
        ),
        case(
            "rotated_sender_signs_both",
            "Sender signs with new and old secrets; receiver holds only the new.",
            expected="valid",
            secrets=[a],
            hdrs=headers(MSG_ID, TS, v1(KEY_B, MSG_ID, TS, BODY) + " " + good),
        ),
        case(
            "rotated_one_valid_among_several",
            "Several v1 entries, only the last one valid.",
            expected="valid",
            secrets=[a],
            hdrs=headers(MSG_ID, TS, " ".join([v1(KEY_WRONG, MSG_ID, TS, BODY), v1(KEY_B, MSG_ID, TS, BODY), good])),
        ),
        case(
            "unknown_scheme_skipped",
            "A v2 entry the verifier does not know is skipped.",
            expected="valid",
            secrets=[a],
            hdrs=headers(MSG_ID, TS, "v2,bm90IGEgcmVhbCBzY2hlbWU= " + good),
        ),
        case(
            "unknown_scheme_only",
            "Only unknown schemes: nothing to verify.",
            expected="invalid",
            reason="no_valid_signature",
            secrets=[a],
            hdrs=headers(MSG_ID, TS, "v2,bm90IGEgcmVhbCBzY2hlbWU="),
        ),
        case(
            "malformed_entries_skipped",
            "Entries without a comma, empty entries and non-base64 are skipped.",
            expected="valid",
            secrets=[a],
            hdrs=headers(MSG_ID, TS, "garbage  v1, v1,!!!notbase64 ,, " + good),
            standardwebhooks_compatible=False,
        ),
        case(
            "malformed_only",
            "Only malformed entries.",
            expected="invalid",
            reason="no_valid_signature",
            secrets=[a],
            hdrs=headers(MSG_ID, TS, "garbage v1,!!! ,"),
            standardwebhooks_compatible=False,
        ),
        case(
            "raw_secret_unprefixed",
            "The secret given as plain base64 without the whsec_ prefix.",
            expected="valid",
            secrets=[base64.b64encode(KEY_A).decode()],
            hdrs=headers(MSG_ID, TS, good),
        ),
        case(
            "secret_unpadded",
            "A whsec_ secret with its base64 padding stripped.",
            expected="valid",
            secrets=["whsec_" + base64.b64encode(KEY_A[:25]).decode().rstrip("=")],
            hdrs=headers(MSG_ID, TS, v1(KEY_A[:25], MSG_ID, TS, BODY)),
        ),
        case(
            "svix_header_names",
            "svix-id / svix-timestamp / svix-signature instead of webhook-*.",
            expected="valid",
            secrets=[a],
            hdrs={"svix-id": MSG_ID, "svix-timestamp": str(TS), "svix-signature": good},
            standardwebhooks_compatible=False,
        ),
        case(
            "header_names_any_case",
            "Header names in mixed case.",
            expected="valid",
            secrets=[a],
            hdrs={"Webhook-Id": MSG_ID, "WEBHOOK-TIMESTAMP": str(TS), "Webhook-Signature": good},
        ),
        case(
            "missing_signature_header",
            "No webhook-signature header.",
            expected="invalid",
            reason="missing_header",
            secrets=[a],
            hdrs={"webhook-id": MSG_ID, "webhook-timestamp": str(TS)},
        ),
        case(
            "timestamp_not_integer",
            "webhook-timestamp is not an integer.",
            expected="invalid",
            reason="invalid_timestamp",
            secrets=[a],
            hdrs=headers(MSG_ID, "1767225600.5", good),
            standardwebhooks_compatible=False,
        ),
        case(
            "ed25519_valid",
            "v1a Ed25519 signature checked with the pinned public key.",
            expected="valid",
            public_keys=[pk1],
            hdrs=headers(MSG_ID, TS, v1a(SEED_1, MSG_ID, TS, BODY)),
        ),
        case(
            "ed25519_tampered_body",
            "v1a signature, body changed.",
            expected="invalid",
            reason="no_valid_signature",
            public_keys=[pk1],
            body=BODY.replace("32475", "32476"),
            hdrs=headers(MSG_ID, TS, v1a(SEED_1, MSG_ID, TS, BODY)),
        ),
        case(
            "ed25519_wrong_key",
            "v1a signature by a key the receiver does not trust.",
            expected="invalid",
            reason="no_valid_signature",
            public_keys=[pk2],
            hdrs=headers(MSG_ID, TS, v1a(SEED_1, MSG_ID, TS, BODY)),
        ),
        case(
            "ed25519_rotated",
            "Receiver trusts two public keys; the header has an entry from the second.",
            expected="valid",
            public_keys=[pk1, pk2],
            hdrs=headers(MSG_ID, TS, v1a(SEED_2, MSG_ID, TS, BODY)),
        ),
        case(
            "mixed_v1_v1a_public_key_receiver",
            "Header has v1 and v1a; the receiver only has the public key.",
            expected="valid",
            public_keys=[pk1],
            hdrs=headers(MSG_ID, TS, good + " " + v1a(SEED_1, MSG_ID, TS, BODY)),
        ),
        case(
            "mixed_v1_v1a_secret_receiver",
            "Header has v1 and v1a; the receiver only has the HMAC secret.",
            expected="valid",
            secrets=[a],
            hdrs=headers(MSG_ID, TS, v1a(SEED_1, MSG_ID, TS, BODY) + " " + good),
        ),
    ]
    return cases


def main() -> None:
    document = {
        "description": "Signed bnpl webhook test vectors (Standard Webhooks format). See webhooks/SPEC.md. "
        "Bodies are UTF-8; 'now' is the receiver's Unix time; 'tolerance' is in seconds.",
        "generator": "webhooks/vectors/generate.py",
        "cases": build(),
    }
    OUT.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(document['cases'])} cases to {OUT}")


if __name__ == "__main__":
    main()
