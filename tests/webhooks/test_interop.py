"""Interoperability with the Standard Webhooks reference library and Svix, in both directions."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import standardwebhooks
import svix.webhooks

from bnpl.webhooks import NoValidSignatureError, Webhook, generate_secret

BODY = b'{"id":"evt_1","type":"order.captured","data":{"amount":12999,"currency":"CNY","memo":"\xe5\x85\x88"}}'


@pytest.fixture
def secrets() -> list[str]:
    return [generate_secret(), generate_secret(24), generate_secret(64)]


def now() -> int:
    return int(time.time())


def test_theirs_verify_ours(secrets: list[str]) -> None:
    headers = Webhook(secrets[0]).sign("msg_interop", now(), BODY)
    assert standardwebhooks.Webhook(secrets[0]).verify(BODY, headers) == {
        "id": "evt_1",
        "type": "order.captured",
        "data": {"amount": 12999, "currency": "CNY", "memo": "先"},
    }
    svix.webhooks.Webhook(secrets[0]).verify(BODY, headers)


def test_theirs_verify_ours_signed_with_several_secrets(secrets: list[str]) -> None:
    headers = Webhook(secrets=secrets).sign("msg_interop", now(), BODY)
    assert len(headers["webhook-signature"].split(" ")) == 3
    for secret in secrets:  # a receiver holding any one of them accepts
        standardwebhooks.Webhook(secret).verify(BODY, headers, json_parse=False)
        svix.webhooks.Webhook(secret).verify(BODY, headers)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(generate_secret()).verify(BODY, headers)


def test_ours_verify_theirs(secrets: list[str]) -> None:
    moment = datetime.now(UTC)
    std_sig = standardwebhooks.Webhook(secrets[1]).sign("msg_std", moment, BODY.decode())
    svix_sig = svix.webhooks.Webhook(secrets[2]).sign("msg_svix", moment, BODY.decode())
    stamp = str(int(moment.timestamp()))
    ours = Webhook(secrets=secrets)
    ours.verify(BODY, {"webhook-id": "msg_std", "webhook-timestamp": stamp, "webhook-signature": std_sig})
    # Svix senders use svix-* header names.
    ours.verify(BODY, {"svix-id": "msg_svix", "svix-timestamp": stamp, "svix-signature": svix_sig})
    with pytest.raises(NoValidSignatureError):
        Webhook(secrets[0]).verify(
            BODY, {"webhook-id": "msg_std", "webhook-timestamp": stamp, "webhook-signature": std_sig}
        )


def test_ours_verify_their_rotation_header(secrets: list[str]) -> None:
    moment = datetime.now(UTC)
    entries = [standardwebhooks.Webhook(s).sign("msg_rot", moment, BODY.decode()) for s in secrets]
    headers = {
        "webhook-id": "msg_rot",
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": " ".join(entries),
    }
    for secret in secrets:
        Webhook(secret).verify(BODY, headers)


def test_identical_signatures_for_identical_input(secrets: list[str]) -> None:
    moment = datetime.fromtimestamp(1_767_225_600, tz=UTC)
    for secret in secrets:
        ours = Webhook(secret).sign("msg_same", moment, BODY)["webhook-signature"]
        assert ours == standardwebhooks.Webhook(secret).sign("msg_same", moment, BODY.decode())
        assert ours == svix.webhooks.Webhook(secret).sign("msg_same", moment, BODY.decode())


def test_unprefixed_secret_means_the_same_key_in_both(secrets: list[str]) -> None:
    raw = secrets[0].removeprefix("whsec_")
    moment = datetime.fromtimestamp(1_767_225_600, tz=UTC)
    assert Webhook(raw).sign("m", moment, BODY)["webhook-signature"] == standardwebhooks.Webhook(raw).sign(
        "m", moment, BODY.decode()
    )
