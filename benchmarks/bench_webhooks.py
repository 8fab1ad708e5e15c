"""Webhook verification throughput against the raw HMAC-SHA256 floor, measured in the same run.

Run: ``.venv/bin/python benchmarks/bench_webhooks.py [--seconds 0.5] [--rounds 5]``

Baseline (the floor): ``hmac.new(key, msg, sha256).digest()`` + ``base64.b64decode(sig)`` +
``hmac.compare_digest`` on the same 1 KiB message. Each row prints ``floor_time / lib_time`` (higher is
faster; 1.0 = as fast as the floor), the median over rounds, with rounds interleaved so machine noise hits
every row alike. Goals: bnpl ``verify`` >= 0.70, bnpl ``unwrap`` >= 0.22.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

import standardwebhooks
import stripe
import svix.webhooks

from bnpl.webhooks import Webhook, generate_secret


def make_body(size: int = 1024) -> bytes:
    event = {
        "id": "evt_01JGZ8X7Q0V2",
        "object": "event",
        "type": "lender.bench_event",
        "created": "2026-01-01T00:00:00Z",
        "api_version": "2026-01-01",
        "object_id": "ord_01JGZ8X5",
        "sequence": 3,
        "livemode": False,
        "data": {"order_id": "ord_01JGZ8X5", "amount": 32475, "currency": "CNY", "pad": ""},
    }
    raw = json.dumps(event, separators=(",", ":")).encode()
    event["data"]["pad"] = "x" * (size - len(raw))  # type: ignore[index]
    body = json.dumps(event, separators=(",", ":")).encode()
    assert len(body) == size
    return body


def per_op(fn: Callable[[], object], seconds: float) -> float:
    """Seconds per call: calibrate a loop count, then time one loop of at least ``seconds``."""
    n = 100
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return elapsed / n
        n = int(n * max(2.0, 1.2 * seconds / max(elapsed, 1e-9)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="timing loop length per sample")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median is reported)")
    args = parser.parse_args()

    secret = generate_secret()
    key = base64.b64decode(secret.removeprefix("whsec_"))
    body = make_body()
    now = int(time.time())
    msg_id = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
    ours = Webhook(secret)
    headers = ours.sign(msg_id, now, body)
    signature_b64 = headers["webhook-signature"].partition(",")[2]
    message = f"{msg_id}.{now}.".encode() + body

    std = standardwebhooks.Webhook(secret)
    sv = svix.webhooks.Webhook(secret)
    assert std.sign(msg_id, datetime.fromtimestamp(now, tz=UTC), body.decode()) == headers["webhook-signature"]
    stripe_header = stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp=now)

    def floor() -> bool:
        return hmac.compare_digest(hmac.new(key, message, hashlib.sha256).digest(), base64.b64decode(signature_b64))

    rows: dict[str, Callable[[], object]] = {
        "raw HMAC floor (hmac.new + b64decode + compare_digest)": floor,
        "bnpl Webhook.verify": lambda: ours.verify(body, headers),
        "standardwebhooks Webhook.verify (json_parse=False)": lambda: std.verify(body, headers, json_parse=False),
        "svix Webhook.verify": lambda: sv.verify(body, headers),
        "stripe WebhookSignature.verify_header": lambda: stripe.WebhookSignature.verify_header(
            body, stripe_header, secret, tolerance=300
        ),
    }
    try:
        from bnpl.models.events import parse_event  # noqa: F401 - only probing that unwrap can run
    except ImportError:
        print("bnpl.models.events is not available: unwrap rows skipped")
    else:
        ours.unwrap(body, headers)
        rows["bnpl Webhook.unwrap (verify + typed event)"] = lambda: ours.unwrap(body, headers)
        rows["standardwebhooks Webhook.verify (returns parsed JSON)"] = lambda: std.verify(body, headers)
        rows["stripe Webhook.construct_event (verify + parse + Event)"] = lambda: stripe.Webhook.construct_event(
            body, stripe_header, secret
        )
    for fn in rows.values():  # every row must succeed before it is timed
        fn()

    samples: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(args.rounds):
        for name, fn in rows.items():
            samples[name].append(per_op(fn, args.seconds))
    floor_name = next(iter(rows))
    ratios = {
        name: statistics.median(f / t for f, t in zip(samples[floor_name], times, strict=True))
        for name, times in samples.items()
    }
    print(f"1 KiB body, {args.rounds} interleaved rounds of >= {args.seconds}s; ratio = floor_time / lib_time")
    print(f"{'benchmark':58} {'us/op':>8} {'ratio':>7}")
    for name, times in samples.items():
        print(f"{name:58} {statistics.median(times) * 1e6:8.2f} {ratios[name]:7.3f}")
    goals = {"bnpl Webhook.verify": 0.70, "bnpl Webhook.unwrap (verify + typed event)": 0.22}
    for name, goal in goals.items():
        if name in ratios:
            verdict = "met" if ratios[name] >= goal else "NOT met"
            print(f"goal {name} >= {goal:.2f}x floor: {verdict} ({ratios[name]:.3f})")


if __name__ == "__main__":
    main()
