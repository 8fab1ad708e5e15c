"""Per-call cost of ``client.orders.retrieve`` against a bare httpx GET and stripe-python, same local server.

A threaded keep-alive HTTP/1.1 server on 127.0.0.1 serves an Order JSON and a Stripe PaymentIntent JSON. In one
run, interleaved in rounds, it times:

- baseline: ``httpx.Client.get`` + ``json.loads`` (no validation, no retries, no headers of ours)
- bnpl: ``bnpl.Client.orders.retrieve`` (headers, retry loop, pydantic validation into ``Order``)
- stripe: ``stripe.StripeClient("sk_test_x", base_addresses={"api": url}).v1.payment_intents.retrieve``

and prints the median µs per call and the ratio to the baseline. Run: ``.venv/bin/python benchmarks/bench_client.py``.
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "sdk"))

import httpx
import stripe

import bnpl.client

ORDER = {
    "id": "ord_9Qa",
    "object": "order",
    "status": "captured",
    "checkout_id": "chk_7Yx2",
    "merchant_reference": "PNR-ABC123",
    "customer_id": "cus_42",
    "currency": "CNY",
    "amount_authorized": 120000,
    "amount_captured": 120000,
    "authorization_expires_at": "2026-11-09T08:30:00Z",
    "plan": {
        "product": "monthly",
        "periods": 6,
        "method": "annuity",
        "schedule": [
            {
                "number": n,
                "due_date": f"2026-{10 + n}-02" if n < 3 else f"2027-{n - 2:02d}-02",
                "principal": 20000,
                "interest": 500,
                "fee": 0,
                "amount": 20500,
                "balance": 120000 - 20000 * n,
                "status": "scheduled",
            }
            for n in range(1, 7)
        ],
    },
    "disclosures": {
        "total_payable": 123000,
        "total_cost_of_credit": 3000,
        "annual_rates": {"us_reg_z": "8.75", "eu_aprc": "9.1", "cn_compound": "9.1", "cn_simple": "4.9"},
    },
    "captures": [{"id": "cap_1", "amount": 120000, "created": "2026-11-02T09:00:00Z"}],
    "created": "2026-11-02T08:30:00Z",
    "metadata": {"booking": "B-1"},
}

PAYMENT_INTENT = {
    "id": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
    "object": "payment_intent",
    "amount": 2000,
    "amount_capturable": 0,
    "amount_received": 0,
    "capture_method": "automatic",
    "client_secret": "pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH",
    "confirmation_method": "automatic",
    "created": 1680800504,
    "currency": "usd",
    "livemode": False,
    "metadata": {},
    "payment_method_types": ["card", "link"],
    "status": "requires_payment_method",
    "automatic_payment_methods": {"enabled": True},
}

BODIES = {
    "/v1/orders/ord_9Qa": json.dumps(ORDER).encode(),
    "/v1/payment_intents/pi_3MtwBwLkdIwHu7ix28a3tqPa": json.dumps(PAYMENT_INTENT).encode(),
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # headers and body go in separate writes: avoid the 40 ms delayed-ACK stall

    def do_GET(self) -> None:
        body = BODIES.get(self.path.split("?", 1)[0])
        status = 200 if body is not None else 404
        body = body if body is not None else b'{"error": {"type": "not_found_error", "message": "no"}}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Request-Id", "req_bench")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


def time_calls(call: Callable[[], object], n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        call()
    return (time.perf_counter() - started) / n * 1e6


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"

    http = httpx.Client()
    client = bnpl.client.Client("sk_test_benchmarkkey0000", base_url=url)
    sclient = stripe.StripeClient("sk_test_x", base_addresses={"api": url})

    def bare() -> object:
        return json.loads(http.get(url + "/v1/orders/ord_9Qa").content)

    def ours() -> object:
        return client.orders.retrieve("ord_9Qa")

    def theirs() -> object:
        return sclient.v1.payment_intents.retrieve("pi_3MtwBwLkdIwHu7ix28a3tqPa")

    candidates = {"httpx.get + json.loads (baseline)": bare, "bnpl orders.retrieve": ours, "stripe PI retrieve": theirs}
    for call in candidates.values():  # warm up connections and caches
        time_calls(call, 50)
    rounds, per_round = 7, 300
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, call in candidates.items():
            samples[name].append(time_calls(call, per_round))

    baseline = statistics.median(samples["httpx.get + json.loads (baseline)"])
    print(f"{rounds} rounds x {per_round} calls, keep-alive HTTP/1.1 on 127.0.0.1 (median of rounds)")
    print(f"{'call':<36}{'µs/call':>10}{'ratio':>8}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:<36}{median:>10.1f}{median / baseline:>8.2f}")
    ours_median = statistics.median(samples["bnpl orders.retrieve"])
    stripe_median = statistics.median(samples["stripe PI retrieve"])
    print(f"bnpl / stripe: {ours_median / stripe_median:.2f}")
    client.close()
    http.close()
    server.shutdown()


if __name__ == "__main__":
    main()
