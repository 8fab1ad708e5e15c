"""Test clocks over real HTTP against ``run_sandbox()`` (SQLite and PostgreSQL): create a clock, attach a
checkout through ``metadata.test_clock``, approve on the hosted page, capture, advance, and read the events;
plus webhooks delivered during the advance, signed, with retries compressed by the simulated time."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sandbox_helpers import Api, approve, checkout_body

from bnpl.webhooks import Webhook

T0 = "2025-01-10T09:00:00Z"


def at_day(n: int, hour: int = 0) -> str:
    """Midnight UTC (or ``hour``) ``n`` days after 2025-01-10, as the API writes timestamps."""
    when = datetime(2025, 1, 10, hour, tzinfo=UTC) + timedelta(days=n)
    return when.isoformat().replace("+00:00", "Z")


def persona_email(key: str) -> str:
    return f"{key.replace('_', '-')}+{secrets.token_hex(4)}@bnpl.test"


def new_clock(api: Api) -> str:
    response = api.post("/v1/test_clocks", {"frozen_time": T0, "name": "clock test"})
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


def advance(api: Api, clock_id: str, when: str) -> dict[str, Any]:
    response = api.post(f"/v1/test_clocks/{clock_id}/advance", {"frozen_time": when})
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def open_checkout(api: Api, clock_id: str, email: str, amount: int = 400_000) -> dict[str, Any]:
    body = checkout_body(
        amount, customer={"reference": "c-" + secrets.token_hex(3), "email": email}, metadata={"test_clock": clock_id}
    )
    response = api.post("/v1/checkouts", body)
    assert response.status_code in (200, 201), response.text
    checkout: dict[str, Any] = response.json()
    return checkout


def captured_order(api: Api, clock_id: str, email: str) -> dict[str, Any]:
    checkout = open_checkout(api, clock_id, email)
    assert checkout["status"] == "open", checkout
    assert approve(api.info, checkout, 0).status_code < 400  # plan 0: pay in 4
    order_id = api.get(f"/v1/checkouts/{checkout['id']}").json()["order_id"]
    response = api.post(f"/v1/orders/{order_id}/capture", {})
    assert response.status_code in (200, 201), response.text
    order: dict[str, Any] = response.json()
    return order


def events_of(api: Api, object_id: str) -> list[tuple[str, str, Any]]:
    response = api.get("/v1/events", params={"object_id": object_id, "limit": 100})
    assert response.status_code in (200, 201), response.text
    data = list(reversed(response.json()["data"]))
    return [(e["type"], e["created"], e["data"].get("instalment_number")) for e in data]


def test_misses_one_then_catches_up_over_http(api: Api) -> None:
    clock_id = new_clock(api)
    order = captured_order(api, clock_id, persona_email("misses_one"))
    mid = advance(api, clock_id, at_day(20))
    assert (mid["status"], mid["frozen_time"]) == ("ready", at_day(20))
    assert api.get(f"/v1/orders/{order['id']}").json()["status"] == "in_arrears"
    advance(api, clock_id, at_day(60))
    assert events_of(api, order["id"]) == [
        ("order.authorized", at_day(0, 9), None),
        ("order.captured", at_day(0, 9), None),
        ("order.instalment_paid", at_day(0, 9), 1),
        ("order.instalment_due_soon", at_day(11), 2),
        ("order.instalment_failed", at_day(14), 2),
        ("order.instalment_overdue", at_day(17), 2),
        ("order.instalment_due_soon", at_day(25), 3),
        ("order.instalment_paid", at_day(28), 2),
        ("order.instalment_paid", at_day(28), 3),
        ("order.instalment_due_soon", at_day(39), 4),
        ("order.instalment_paid", at_day(42), 4),
        ("order.paid_off", at_day(42), None),
    ]
    final = api.get(f"/v1/orders/{order['id']}").json()
    assert final["status"] == "paid_off"
    assert sum(i["amount_paid"] for i in final["plan"]["schedule"]) == 400_000
    again = api.post(f"/v1/test_clocks/{clock_id}/advance", {"frozen_time": at_day(60)})
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "clock_cannot_go_back"
    assert len(events_of(api, order["id"])) == 12


def test_freeze_then_new_checkout_declined_over_http(api: Api) -> None:
    clock_id = new_clock(api)
    who = persona_email("freeze")
    order = captured_order(api, clock_id, who)
    advance(api, clock_id, at_day(31))
    declined = open_checkout(api, clock_id, who, 100_000)
    assert (declined["status"], declined["decline_reason"]) == ("declined", "credit_frozen")
    assert events_of(api, order["customer_id"]) == [
        ("customer.credit_freeze_scheduled", at_day(23, 9), None),
        ("customer.credit_frozen", at_day(30, 9), None),
    ]


class _Receiver:
    """A webhook receiver on 127.0.0.1 that fails the first ``fail_first`` requests with 500."""

    def __init__(self, fail_first: int) -> None:
        self.bodies: list[tuple[bytes, dict[str, str]]] = []
        self.fail_left = fail_first
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with outer.lock:
                    failing = outer.fail_left > 0
                    outer.fail_left -= 1
                    if not failing:
                        outer.bodies.append((body, {k.lower(): v for k, v in self.headers.items()}))
                self.send_response(500 if failing else 200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def clock_driven_delivery(monkeypatch: pytest.MonkeyPatch) -> None:
    """No wall-clock background worker: only the test clock's stepping delivers (set before the app starts)."""
    monkeypatch.setenv("BNPL_SANDBOX_DELIVERY", "0")


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    r = _Receiver(fail_first=2)
    yield r
    r.close()


def test_webhooks_delivered_and_retried_during_the_advance(
    clock_driven_delivery: None, api: Api, receiver: _Receiver
) -> None:
    created = api.post("/v1/webhook_endpoints", {"url": receiver.url, "enabled_events": ["*"]})
    assert created.status_code in (200, 201), created.text
    hook = Webhook(created.json()["secret"])
    clock_id = new_clock(api)
    order = captured_order(api, clock_id, persona_email("pays_on_time"))
    advance(api, clock_id, at_day(60))  # returns once the last step's deliveries (and due retries) were made
    expected = {e[0] for e in events_of(api, order["id"])}
    listed = api.get("/v1/events", params={"limit": 100}).json()["data"]
    with receiver.lock:
        received = [hook.unwrap(body, headers) for body, headers in receiver.bodies]  # every signature verifies
    # Everything arrived, the 2 failed attempts included: retried 5 simulated seconds later, within the advance.
    assert {e.id for e in received} == {e["id"] for e in listed}
    log = api.get(f"/v1/webhook_endpoints/{created.json()['id']}/deliveries", params={"limit": 100})
    assert log.status_code == 200, log.text
    outcomes = [a["outcome"] for a in log.json()["data"]]
    assert outcomes.count("retrying") == 2
    assert {e.type for e in received if e.object_id == order["id"]} == expected
    paid_off = next(e for e in received if e.type == "order.paid_off")
    assert paid_off.created.isoformat().replace("+00:00", "Z") == at_day(42)
