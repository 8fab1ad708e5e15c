"""Every signed vector in webhooks/vectors/ through bnpl's verifier, and the v1 ones through standardwebhooks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import standardwebhooks.webhooks as std

from bnpl.webhooks import Webhook, WebhookVerificationError

VECTORS = Path(__file__).resolve().parents[2] / "webhooks" / "vectors" / "signatures.json"
CASES: list[dict[str, Any]] = json.loads(VECTORS.read_text(encoding="utf-8"))["cases"]


def receiver(case: dict[str, Any]) -> Webhook:
    return Webhook(
        secrets=case["secrets"],
        public_keys=case["public_keys"],
        tolerance=case["tolerance"],
        clock=lambda: case["now"],
    )


def test_vectors_cover_the_contract() -> None:
    names = {c["name"] for c in CASES}
    for required in (
        "valid",
        "tampered_body",
        "tampered_id",
        "tampered_timestamp",
        "stale",
        "future",
        "wrong_secret",
        "rotated_receiver_holds_both",
        "unknown_scheme_skipped",
        "malformed_entries_skipped",
        "ed25519_valid",
        "ed25519_tampered_body",
        "raw_secret_unprefixed",
        "standard_webhooks_reference",
    ):
        assert required in names
    assert {c["expected"] for c in CASES} == {"valid", "invalid"}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vector(case: dict[str, Any]) -> None:
    body = case["body"].encode("utf-8")
    if case["expected"] == "valid":
        receiver(case).verify(body, case["headers"])
    else:
        with pytest.raises(WebhookVerificationError) as info:
            receiver(case).verify(body, case["headers"])
        assert info.value.code == case["reason"]


class _FrozenDatetime(datetime):
    """standardwebhooks reads datetime.now() with no clock parameter: freeze it at the vector's 'now'."""

    frozen: float = 0.0

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return datetime.fromtimestamp(cls.frozen, tz=tz or UTC)


COMPATIBLE = [c for c in CASES if c["standardwebhooks_compatible"]]


@pytest.mark.parametrize("case", COMPATIBLE, ids=[c["name"] for c in COMPATIBLE])
def test_vector_with_standardwebhooks(case: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_FrozenDatetime, "frozen", float(case["now"]))
    monkeypatch.setattr(std, "datetime", _FrozenDatetime)
    body = case["body"].encode("utf-8")
    theirs = [std.Webhook(secret) for secret in case["secrets"]]
    verdicts = []
    for wh in theirs:
        try:
            wh.verify(body, case["headers"], json_parse=False)
            verdicts.append(True)
        except std.WebhookVerificationError:
            verdicts.append(False)
    assert any(verdicts) == (case["expected"] == "valid")
