"""bnpl.webhooks.Webhook: signing, verification rules, header handling, key formats, secrecy."""

from __future__ import annotations

import base64
import hashlib
import hmac
import pickle
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from bnpl.webhooks import (
    InvalidHeaderError,
    InvalidTimestampError,
    MissingHeaderError,
    NoValidSignatureError,
    PayloadTooLargeError,
    RawBodyRequiredError,
    TimestampOutOfToleranceError,
    Webhook,
    WebhookKeyError,
    WebhookSignError,
    WebhookVerificationError,
    generate_key_pair,
    generate_secret,
    public_key_of,
)
from bnpl.webhooks.keys import decode_secret, load_signing_key

KEY = hashlib.sha256(b"test key").digest()
SECRET = "whsec_" + base64.b64encode(KEY).decode()
OTHER = "whsec_" + base64.b64encode(hashlib.sha256(b"other").digest()).decode()
NOW = 1_767_225_600
BODY = b'{"id":"evt_1","type":"order.captured","amount":12999,"currency":"CNY","note":"\xe5\x85\x88\xe4\xba\xab"}'


def fixed(now: float = NOW) -> Any:
    return lambda: now


def reference_v1(key: bytes, msg_id: str, ts: int, body: bytes) -> str:
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


@pytest.fixture
def wh() -> Webhook:
    return Webhook(SECRET, clock=fixed())


@pytest.fixture
def signed(wh: Webhook) -> dict[str, str]:
    return wh.sign("msg_1", NOW, BODY)


# --- signing ---------------------------------------------------------------------------------------------


def test_sign_matches_the_standard_webhooks_reference_vector() -> None:
    wh = Webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    headers = wh.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert headers == {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }


def test_sign_is_hmac_sha256_of_id_timestamp_body(signed: dict[str, str]) -> None:
    assert signed["webhook-signature"] == reference_v1(KEY, "msg_1", NOW, BODY)


def test_sign_accepts_aware_datetime_and_floors_it() -> None:
    wh = Webhook(SECRET)
    moment = datetime.fromtimestamp(NOW, tz=UTC) + timedelta(milliseconds=999)
    assert wh.sign("m", moment, b"x") == wh.sign("m", NOW, b"x")
    east8 = moment.astimezone(timezone(timedelta(hours=8)))
    assert wh.sign("m", east8, b"x")["webhook-timestamp"] == str(NOW)


def test_sign_one_entry_per_key_for_rotation() -> None:
    signing_key, public_key = generate_key_pair()
    wh = Webhook(secrets=[SECRET, OTHER, signing_key])
    entries = wh.sign("m", NOW, b"x")["webhook-signature"].split(" ")
    assert [e.partition(",")[0] for e in entries] == ["v1", "v1", "v1a"]
    assert entries[0] == reference_v1(KEY, "m", NOW, b"x")
    # each entry verifies on its own with the matching single key
    receivers = (
        Webhook(SECRET, clock=fixed()),
        Webhook(OTHER, clock=fixed()),
        Webhook(public_keys=[public_key], clock=fixed()),
    )
    for receiver, entry in zip(receivers, entries, strict=True):
        receiver.verify(b"x", {"webhook-id": "m", "webhook-timestamp": str(NOW), "webhook-signature": entry})


@pytest.mark.parametrize(
    ("msg_id", "timestamp", "body"),
    [
        ("", NOW, b"x"),
        ("a.b", NOW, b"x"),
        ("a b", NOW, b"x"),
        ("a,b", NOW, b"x"),
        ("ünï", NOW, b"x"),
        ("m", datetime(2026, 1, 1), b"x"),  # naive: ambiguous
        ("m", 1.5, b"x"),
        ("m", True, b"x"),
        ("m", -1, b"x"),
        ("m", NOW, "text"),
        ("m", NOW, {"a": 1}),
    ],
)
def test_sign_refuses_unsignable_input(msg_id: Any, timestamp: Any, body: Any) -> None:
    with pytest.raises(WebhookSignError):
        Webhook(SECRET).sign(msg_id, timestamp, body)


def test_public_key_only_webhook_cannot_sign() -> None:
    _, public_key = generate_key_pair()
    with pytest.raises(WebhookSignError, match="public keys"):
        Webhook(public_keys=[public_key]).sign("m", NOW, b"x")


# --- verification ----------------------------------------------------------------------------------------


def test_roundtrip(wh: Webhook, signed: dict[str, str]) -> None:
    assert wh.verify(BODY, signed) is None


@pytest.mark.parametrize("body", [bytearray(BODY), memoryview(BODY)])
def test_bytearray_and_memoryview_bodies_are_accepted(wh: Webhook, signed: dict[str, str], body: Any) -> None:
    wh.verify(body, signed)


@pytest.mark.parametrize("body", [BODY.decode(), {"id": "evt_1"}, None, 12, [1]])
def test_non_bytes_body_is_refused_with_framework_help(wh: Webhook, signed: dict[str, str], body: Any) -> None:
    with pytest.raises(RawBodyRequiredError) as info:
        wh.verify(body, signed)
    message = str(info.value)
    for hint in ("request.body", "request.get_data()", "await request.body()", "re-serialised"):
        assert hint in message
    assert info.value.status_code == 500


def test_payload_size_limit() -> None:
    wh = Webhook(SECRET, clock=fixed(), max_body_bytes=len(BODY))
    wh.verify(BODY, wh.sign("m", NOW, BODY))
    bigger = BODY + b" "
    with pytest.raises(PayloadTooLargeError) as info:
        wh.verify(bigger, wh.sign("m", NOW, bigger))
    assert info.value.status_code == 413


def test_default_size_limit_is_one_mebibyte(wh: Webhook) -> None:
    body = b"a" * (1024 * 1024)
    wh.verify(body, wh.sign("m", NOW, body))
    with pytest.raises(PayloadTooLargeError):
        wh.verify(body + b"a", wh.sign("m", NOW, body + b"a"))


@pytest.mark.parametrize("skew", [-300, -1, 0, 1, 300])
def test_within_tolerance_both_directions(signed: dict[str, str], skew: int) -> None:
    Webhook(SECRET, clock=fixed(NOW + skew)).verify(BODY, signed)


@pytest.mark.parametrize("skew", [-301, 301, -86400, 86400])
def test_outside_tolerance_both_directions(signed: dict[str, str], skew: int) -> None:
    with pytest.raises(TimestampOutOfToleranceError):
        Webhook(SECRET, clock=fixed(NOW + skew)).verify(BODY, signed)


def test_tolerance_is_configurable_and_can_be_disabled(signed: dict[str, str]) -> None:
    with pytest.raises(TimestampOutOfToleranceError):
        Webhook(SECRET, clock=fixed(NOW + 11), tolerance=10).verify(BODY, signed)
    Webhook(SECRET, clock=fixed(NOW + 10), tolerance=10).verify(BODY, signed)
    Webhook(SECRET, clock=fixed(NOW + 10**7), tolerance=None).verify(BODY, signed)


def test_default_clock_is_wall_time() -> None:
    wh = Webhook(SECRET)
    now = int(datetime.now(UTC).timestamp())
    wh.verify(b"x", wh.sign("m", now, b"x"))
    with pytest.raises(TimestampOutOfToleranceError):
        wh.verify(b"x", wh.sign("m", now - 3600, b"x"))


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "300", True])
def test_bad_tolerance_is_refused(bad: Any) -> None:
    with pytest.raises(WebhookKeyError):
        Webhook(SECRET, tolerance=bad)


@pytest.mark.parametrize(
    ("field", "value"),
    [("webhook-id", "msg_2"), ("webhook-timestamp", str(NOW + 1))],
)
def test_tampered_header_fails(wh: Webhook, signed: dict[str, str], field: str, value: str) -> None:
    with pytest.raises(NoValidSignatureError):
        wh.verify(BODY, {**signed, field: value})


def test_tampered_body_fails(wh: Webhook, signed: dict[str, str]) -> None:
    with pytest.raises(NoValidSignatureError):
        wh.verify(BODY.replace(b"12999", b"12990"), signed)


def test_wrong_secret_fails(signed: dict[str, str]) -> None:
    with pytest.raises(NoValidSignatureError):
        Webhook(OTHER, clock=fixed()).verify(BODY, signed)


def test_rotation_any_configured_secret_verifies(signed: dict[str, str]) -> None:
    Webhook(secrets=[OTHER, SECRET], clock=fixed()).verify(BODY, signed)
    Webhook(OTHER, secrets=[SECRET], clock=fixed()).verify(BODY, signed)


@pytest.mark.parametrize(
    "prefix",
    [
        "garbage",
        "v1",
        "v1,",
        "v1,!!!!",
        "v1,élan",
        "v2,abcd",
        "v1a,abcd",
        "v1a,!!!",
        ",",
        "",
        "v1,AAAA",
    ],
)
def test_malformed_and_unknown_entries_are_skipped(wh: Webhook, signed: dict[str, str], prefix: str) -> None:
    header = f"{prefix} {signed['webhook-signature']}"
    wh.verify(BODY, {**signed, "webhook-signature": header})
    with pytest.raises(NoValidSignatureError):
        wh.verify(BODY, {**signed, "webhook-signature": prefix or "v9,x"})


def test_missing_headers(wh: Webhook, signed: dict[str, str]) -> None:
    for name in signed:
        headers = {k: v for k, v in signed.items() if k != name}
        with pytest.raises(MissingHeaderError, match=name):
            wh.verify(BODY, headers)
        with pytest.raises(MissingHeaderError):
            wh.verify(BODY, {**signed, name: ""})


@pytest.mark.parametrize("stamp", ["abc", "-5", "+5", " 5", "1e9", "1767225600.0", "١٢٣", "²", "9" * 40])
def test_invalid_timestamp(wh: Webhook, signed: dict[str, str], stamp: str) -> None:
    with pytest.raises(InvalidTimestampError):
        wh.verify(BODY, {**signed, "webhook-timestamp": stamp})


def test_id_with_a_dot_is_refused(wh: Webhook) -> None:
    # "a.1" + "." + ... could be re-split as another (id, timestamp, body): ids must not contain the delimiter.
    with pytest.raises(InvalidHeaderError):
        wh.verify(b"x", {"webhook-id": "a.b", "webhook-timestamp": str(NOW), "webhook-signature": "v1,AAAA"})


def test_unencodable_id_is_a_typed_error(wh: Webhook) -> None:
    with pytest.raises(InvalidHeaderError):
        wh.verify(b"x", {"webhook-id": "a\udcff", "webhook-timestamp": str(NOW), "webhook-signature": "v1,AA"})


def test_non_mapping_headers_are_refused(wh: Webhook) -> None:
    with pytest.raises(InvalidHeaderError):
        wh.verify(b"x", [("webhook-id", "m")])  # type: ignore[arg-type]
    with pytest.raises(InvalidHeaderError):
        wh.verify(b"x", {"webhook-id": 5, "webhook-timestamp": str(NOW), "webhook-signature": "v1,AA"})


# --- header objects of the frameworks ------------------------------------------------------------------


def test_case_insensitive_plain_dict(wh: Webhook, signed: dict[str, str]) -> None:
    wh.verify(BODY, {k.upper(): v for k, v in signed.items()})
    wh.verify(BODY, {k.title(): v for k, v in signed.items()})


def test_svix_header_names(wh: Webhook, signed: dict[str, str]) -> None:
    wh.verify(BODY, {k.replace("webhook-", "svix-"): v for k, v in signed.items()})
    wh.verify(BODY, {k.replace("webhook-", "Svix-"): v for k, v in signed.items()})


def test_list_and_bytes_values(wh: Webhook, signed: dict[str, str]) -> None:
    wh.verify(BODY, {k: [v] for k, v in signed.items()})
    wh.verify(BODY, {k: v.encode() for k, v in signed.items()})
    two = {**signed, "webhook-signature": ["v1,AAAA", signed["webhook-signature"]]}
    wh.verify(BODY, two)
    with pytest.raises(InvalidHeaderError):
        wh.verify(BODY, {**signed, "webhook-id": ["msg_1", "msg_2"]})


def test_django_headers_and_meta(wh: Webhook, signed: dict[str, str]) -> None:
    from django.http.request import HttpHeaders

    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in signed.items()}
    meta["CONTENT_TYPE"] = "application/json"
    wh.verify(BODY, HttpHeaders(meta))
    wh.verify(BODY, meta)  # request.META works too


def test_werkzeug_flask_headers_with_repeated_signature(wh: Webhook, signed: dict[str, str]) -> None:
    from werkzeug.datastructures import EnvironHeaders, Headers

    items = [("Webhook-Id", signed["webhook-id"]), ("Webhook-Timestamp", signed["webhook-timestamp"])]
    repeated = Headers([*items, ("Webhook-Signature", "v1,AAAA"), ("Webhook-Signature", signed["webhook-signature"])])
    wh.verify(BODY, repeated)
    environ = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in signed.items()}
    wh.verify(BODY, EnvironHeaders(environ))


def test_starlette_headers_with_repeated_signature(wh: Webhook, signed: dict[str, str]) -> None:
    from starlette.datastructures import Headers

    raw = [(k.encode(), v.encode()) for k, v in signed.items() if k != "webhook-signature"]
    raw += [(b"webhook-signature", b"v2,zzz"), (b"webhook-signature", signed["webhook-signature"].encode())]
    wh.verify(BODY, Headers(raw=raw))


# --- Ed25519 ---------------------------------------------------------------------------------------------


def test_ed25519_sign_and_verify_with_public_key() -> None:
    signing_key, public_key = generate_key_pair()
    assert signing_key.startswith("whsk_")
    assert public_key.startswith("whpk_")
    assert public_key_of(signing_key) == public_key
    headers = Webhook(signing_key).sign("m", NOW, BODY)
    receiver = Webhook(public_keys=[public_key], clock=fixed())
    receiver.verify(BODY, headers)
    with pytest.raises(NoValidSignatureError):
        receiver.verify(BODY + b" ", headers)
    _, stranger = generate_key_pair()
    with pytest.raises(NoValidSignatureError):
        Webhook(public_keys=[stranger], clock=fixed()).verify(BODY, headers)


def test_ed25519_seed_only_signing_key_is_accepted() -> None:
    signing_key, _public_key = generate_key_pair()
    raw = base64.b64decode(signing_key.removeprefix("whsk_"))
    assert len(raw) == 64
    seed_only = "whsk_" + base64.b64encode(raw[:32]).decode()
    assert Webhook(seed_only).sign("m", NOW, b"x") == Webhook(signing_key).sign("m", NOW, b"x")
    mismatched = "whsk_" + base64.b64encode(raw[:32] + bytes(32)).decode()
    with pytest.raises(WebhookKeyError):
        load_signing_key(mismatched)


def test_hmac_receiver_ignores_v1a_and_public_key_receiver_ignores_v1() -> None:
    signing_key, public_key = generate_key_pair()
    headers = Webhook(secrets=[SECRET, signing_key]).sign("m", NOW, b"x")
    Webhook(SECRET, clock=fixed()).verify(b"x", headers)
    Webhook(public_keys=[public_key], clock=fixed()).verify(b"x", headers)


# --- keys ------------------------------------------------------------------------------------------------


def test_generated_secret_format() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(decode_secret(secret)) == 32
    assert len(decode_secret(generate_secret(64))) == 64
    assert generate_secret() != generate_secret()
    with pytest.raises(WebhookKeyError):
        generate_secret(16)


def test_secret_forms_are_equivalent() -> None:
    unprefixed = base64.b64encode(KEY).decode()
    unpadded = SECRET.rstrip("=")
    headers = [Webhook(s).sign("m", NOW, b"x") for s in (SECRET, unprefixed, unpadded, KEY)]
    assert all(h == headers[0] for h in headers)


@pytest.mark.parametrize(
    "bad",
    ["", "whsec_", "whsec_!!!!", "whsec_ä", 12, None, "whpk_AAAA", "whsk_AAAA", "whenc_" + "A" * 44],
)
def test_bad_secrets_are_refused(bad: Any) -> None:
    with pytest.raises(WebhookKeyError):
        Webhook(bad)


def test_configuration_errors() -> None:
    with pytest.raises(WebhookKeyError):
        Webhook()
    with pytest.raises(WebhookKeyError, match="list"):
        Webhook(secrets=SECRET)  # type: ignore[arg-type]
    with pytest.raises(WebhookKeyError):
        Webhook(public_keys=["whpk_" + base64.b64encode(bytes(31)).decode()])
    with pytest.raises(WebhookKeyError):
        Webhook(SECRET, max_body_bytes=0)
    with pytest.raises(WebhookKeyError):
        Webhook(SECRET, clock=5)  # type: ignore[arg-type]


# --- secrecy ---------------------------------------------------------------------------------------------


def test_secrets_never_appear_in_reprs_or_errors(signed: dict[str, str], caplog: pytest.LogCaptureFixture) -> None:
    signing_key, _ = generate_key_pair()
    wh = Webhook(SECRET, secrets=[signing_key], clock=fixed(NOW + 10_000), max_body_bytes=len(BODY))
    forbidden = [
        SECRET,
        SECRET.removeprefix("whsec_"),
        signing_key.removeprefix("whsk_")[:20],
        base64.b64encode(KEY).decode()[:12],
        repr(KEY),
        KEY.hex(),
    ]
    texts = [repr(wh), str(wh)]
    attempts: list[tuple[Any, Any]] = [
        (BODY, signed),
        (BODY + b" ", signed),
        ("str body", signed),
        (BODY, {}),
        (BODY, {**signed, "webhook-timestamp": "x"}),
        (BODY, {**signed, "webhook-id": "a.b"}),
    ]
    for body, headers in attempts:
        with pytest.raises(WebhookVerificationError) as info:
            wh.verify(body, headers)
        texts += [str(info.value), repr(info.value)]
    near = Webhook(SECRET, clock=fixed())
    with pytest.raises(NoValidSignatureError) as info:
        near.verify(BODY + b"!", signed)
    texts += [str(info.value), caplog.text]
    assert signed["webhook-signature"].partition(",")[2] not in str(info.value)
    for key_bad in ["whsec_!!!" + SECRET[10:], "whsk_" + signing_key[5:-4] + "!!!!"]:
        with pytest.raises(WebhookKeyError) as key_info:
            Webhook(key_bad)
        texts.append(str(key_info.value))
    joined = "\n".join(texts)
    assert "LEAK" not in joined
    for secret in forbidden:
        assert secret not in joined
    assert not hasattr(wh, "__dict__")
    with pytest.raises(TypeError):
        pickle.dumps(wh)
