"""`bnpl webhooks endpoints …` against the sandbox, and `webhooks sign|verify` locally (round trips, typed errors)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from click.testing import Result
from hypothesis import given, settings
from hypothesis import strategies as st

from bnpl import Client
from bnpl.cli import cli
from bnpl.webhooks import Webhook, generate_secret
from conftest import Bnpl

SECRET = generate_secret()
EVENT = {
    "id": "evt_0123456789abcdef",
    "object": "event",
    "type": "customer.credit_frozen",
    "created": "2026-01-10T09:00:00Z",
    "api_version": "2026-11-01",
    "object_id": "cus_abc123",
    "sequence": 7,
    "data": {
        "object": "customer_credit_notice",
        "customer_id": "cus_abc123",
        "currency": "CNY",
        "credit_limit_before": 2000000,
        "credit_limit_after": 0,
        "effective_at": "2026-01-10T09:00:00Z",
    },
}


def local(bnpl: Bnpl, *args: str, input: str | None = None) -> Result:
    """Run a local command (no --api-key/--base-url); it must succeed."""
    result = bnpl.raw(*args, input=input)
    assert result.exit_code == 0, result.stderr
    return result


def local_json(bnpl: Bnpl, *args: str, input: str | None = None) -> Any:
    return json.loads(local(bnpl, *args, "--json", input=input).stdout)


def test_endpoints_add_list_rotate_rm(bnpl: Bnpl, client: Client) -> None:
    added = bnpl.json("webhooks", "endpoints", "add", "http://127.0.0.1:9/hooks", "--event", "order.captured")
    assert added["secret"].startswith("whsec_")
    assert added["enabled_events"] == ["order.captured"]
    assert added["id"] in [e.id for e in client.webhook_endpoints.list()]
    table = bnpl("webhooks", "endpoints", "list").stdout
    assert added["id"] in table
    assert "http://127.0.0.1:9/hooks" in table
    rotated = bnpl.json("webhooks", "endpoints", "rotate", added["id"], "--expire-current-in", "0")
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != added["secret"]
    assert bnpl("webhooks", "endpoints", "rm", added["id"]).stdout.strip() == f"deleted {added['id']}"
    assert added["id"] not in [e.id for e in client.webhook_endpoints.list()]


def test_endpoints_add_text_shows_secret_once(bnpl: Bnpl, client: Client) -> None:
    out = bnpl("webhooks", "endpoints", "add", "http://127.0.0.1:9/all").stdout
    assert "events    *" in out
    secret_line = next(line for line in out.splitlines() if line.startswith("secret"))
    assert secret_line.split()[1].startswith("whsec_")
    endpoint_id = next(line.split()[1] for line in out.splitlines() if line.startswith("endpoint"))
    client.webhook_endpoints.delete(endpoint_id)


def test_endpoints_add_unknown_event_type_is_refused(bnpl: Bnpl) -> None:
    result = bnpl.run("webhooks", "endpoints", "add", "http://127.0.0.1:9/x", "--event", "order.shipped")
    assert result.exit_code == 2
    assert "order.shipped" in result.stderr


def test_sign_then_verify_round_trip_through_a_file(bnpl: Bnpl, tmp_path: Path) -> None:
    body = json.dumps(EVENT).encode()
    path = tmp_path / "event.json"
    path.write_bytes(body)
    headers = local_json(bnpl, "webhooks", "sign", "--secret", SECRET, "--id", "msg_1", str(path))
    assert headers["webhook-id"] == "msg_1"
    Webhook(SECRET).verify(body, headers)  # the library agrees with the CLI's signature
    args = [f"--header={name}: {value}" for name, value in headers.items()]
    out = local(bnpl, "webhooks", "verify", "--secret", SECRET, *args, str(path)).stdout
    assert out.strip() == (
        "verified customer.credit_frozen evt_0123456789abcdef object=cus_abc123 sequence=7 (CustomerCreditFrozenEvent)"
    )


def test_sign_text_and_verify_from_stdin(bnpl: Bnpl) -> None:
    body = json.dumps(EVENT)
    out = local(bnpl, "webhooks", "sign", "--secret", SECRET, "-", input=body).stdout
    headers = dict(line.split(": ", 1) for line in out.splitlines())
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 600
    args = [f"--header={k}: {v}" for k, v in headers.items()]
    doc = local_json(bnpl, "webhooks", "verify", "--secret", SECRET, *args, "-", input=body)
    assert doc == {
        "verified": True,
        "type": "customer.credit_frozen",
        "id": "evt_0123456789abcdef",
        "object_id": "cus_abc123",
        "sequence": 7,
        "event_class": "CustomerCreditFrozenEvent",
    }


def test_verify_tampered_body_is_a_typed_one_line_error(bnpl: Bnpl) -> None:
    body = json.dumps(EVENT)
    headers = Webhook(SECRET).sign("msg_2", int(time.time()), body.encode())
    args = [f"--header={k}: {v}" for k, v in headers.items()]
    result = bnpl.raw("webhooks", "verify", "--secret", SECRET, *args, "-", input=body.replace("7", "8"))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "error: not verified: NoValidSignatureError (no_valid_signature): " + (
        "no webhook-signature entry matches a configured secret or public key\n"
    )


def test_verify_old_timestamp_and_missing_header(bnpl: Bnpl) -> None:
    body = json.dumps(EVENT)
    headers = Webhook(SECRET).sign("msg_3", 1_700_000_000, body.encode())
    args = [f"--header={k}: {v}" for k, v in headers.items()]
    old = bnpl.raw("webhooks", "verify", "--secret", SECRET, *args, "-", input=body)
    assert old.exit_code == 1
    assert "TimestampOutOfToleranceError" in old.stderr
    ok = bnpl.raw("webhooks", "verify", "--secret", SECRET, "--tolerance", "0", *args, "-", input=body)
    assert ok.exit_code == 0
    missing = bnpl.raw("webhooks", "verify", "--secret", SECRET, args[0], "-", input=body)
    assert missing.exit_code == 1
    assert "MissingHeaderError (missing_header)" in missing.stderr


def test_sign_bad_secret_is_usage_error(bnpl: Bnpl) -> None:
    result = bnpl.raw("webhooks", "sign", "--secret", "whsec_!!", "-", input="{}")
    assert result.exit_code == 2
    assert "--secret" in result.stderr


@settings(max_examples=50, deadline=None)
@given(body=st.binary(min_size=0, max_size=300), stamp=st.integers(min_value=0, max_value=4_000_000_000))
def test_sign_output_always_verifies_with_the_library(body: bytes, stamp: int) -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(
        cli, ["webhooks", "sign", "--secret", SECRET, "--timestamp", str(stamp), "--json", "-"], input=body
    )
    assert result.exit_code == 0, result.stderr
    headers = json.loads(result.stdout)
    assert headers["webhook-timestamp"] == str(stamp)
    Webhook(SECRET, tolerance=None).verify(body, headers)
