"""Property tests: arbitrary input only ever raises our typed errors; any one-byte change never verifies."""

from __future__ import annotations

import base64
import contextlib
import hashlib
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bnpl.webhooks import Webhook, WebhookVerificationError

SECRET = "whsec_" + base64.b64encode(hashlib.sha256(b"fuzz").digest()).decode()
NOW = 1_767_225_600
WH = Webhook(SECRET, clock=lambda: NOW)

header_names = st.sampled_from(
    ["webhook-id", "webhook-timestamp", "webhook-signature", "Webhook-Signature", "svix-id", "svix-signature", "x"]
)
header_values: st.SearchStrategy[Any] = st.one_of(
    st.text(max_size=60),
    st.binary(max_size=30),
    st.lists(st.text(max_size=20), max_size=3),
    st.integers(),
    st.none(),
    st.builds(lambda s: "v1," + s, st.text(max_size=50)),
    st.builds(lambda s: "v1a," + base64.b64encode(s).decode(), st.binary(min_size=60, max_size=68)),
    st.builds(str, st.integers(min_value=NOW - 1000, max_value=NOW + 1000)),
)
bodies: st.SearchStrategy[Any] = st.one_of(st.binary(max_size=200), st.text(max_size=20), st.none(), st.integers())


@given(body=bodies, headers=st.dictionaries(header_names, header_values, max_size=7))
def test_arbitrary_input_raises_only_typed_errors(body: Any, headers: dict[str, Any]) -> None:
    # Anything else (ValueError, KeyError, binascii.Error, TypeError...) fails the test.
    with contextlib.suppress(WebhookVerificationError):
        WH.verify(body, headers)


@given(body=st.binary(max_size=200), signature=st.text(max_size=120))
def test_arbitrary_signature_header_never_verifies(body: bytes, signature: str) -> None:
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(NOW), "webhook-signature": signature}
    try:
        WH.verify(body, headers)
    except WebhookVerificationError:
        return
    raise AssertionError("a made-up signature verified")


msg_ids = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=".,"), min_size=1, max_size=30
)


@given(
    msg_id=msg_ids,
    body=st.binary(min_size=1, max_size=300),
    where=st.sampled_from(["body", "id", "timestamp"]),
    index=st.integers(min_value=0),
    flip=st.integers(min_value=1, max_value=255),
)
def test_flipping_any_byte_never_verifies(msg_id: str, body: bytes, where: str, index: int, flip: int) -> None:
    headers = WH.sign(msg_id, NOW, body)
    WH.verify(body, headers)
    if where == "body":
        mutable = bytearray(body)
        mutable[index % len(mutable)] ^= flip
        target_body, target_headers = bytes(mutable), headers
    else:
        name = "webhook-id" if where == "id" else "webhook-timestamp"
        raw = bytearray(headers[name].encode("latin-1"))
        raw[index % len(raw)] ^= flip
        target_body, target_headers = body, {**headers, name: raw.decode("latin-1")}
    try:
        WH.verify(target_body, target_headers)
    except WebhookVerificationError:
        return
    # Header *names* are case-insensitive, but header *values* enter the HMAC byte for byte: nothing may pass.
    raise AssertionError(f"a one-byte change in the {where} still verified")
