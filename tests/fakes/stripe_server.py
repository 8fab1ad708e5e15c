"""A stateful fake of Stripe's PaymentIntents and Refunds API on pytest-httpserver, replaying Stripe's documented
response shapes (``tests/plugins/stripe_fixtures/*.json``), with idempotent replays and injected network faults.

Shared by the saga tests (tests/plugins/test_stripe_saga.py), the checks of the fake itself through the real
stripe-python (tests/plugins/test_stripe_fake_server.py) and the OTA example's down-payment tests
(tests/examples/test_ota_down_payment.py). Point stripe-python at it with
``StripeClient(api_key, base_addresses={"api": fake.url})``.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import stripe
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

__all__ = ["DECLINING_PAYMENT_METHODS", "FIXTURES", "FakeStripe", "Fault", "Logged", "fixture"]

FIXTURES = Path(__file__).resolve().parents[1] / "plugins" / "stripe_fixtures"
DECLINING_PAYMENT_METHODS = frozenset({"pm_card_chargeDeclined", "pm_card_visa_chargeDeclined"})
_CANCELABLE = frozenset(
    {"requires_payment_method", "requires_capture", "requires_confirmation", "requires_action", "processing"}
)


def fixture(name: str) -> dict[str, Any]:
    """A documented Stripe response shape from stripe_fixtures/."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


@dataclass
class Logged:
    """One request as Stripe received it."""

    method: str
    path: str
    idempotency_key: str | None
    form: dict[str, str]
    replayed: bool = False
    fault: str | None = None


@dataclass
class Fault:
    """Fail the next request matching ``method`` and ``path`` (regex): ``drop`` (close the connection before
    doing anything), ``drop_after`` (do the work, then lose the response), ``500`` (an api_error)."""

    method: str
    path: str
    kind: str
    times: int = 1


@dataclass
class FakeStripe:
    """Stripe's PaymentIntent and Refund endpoints, in memory, behind a real HTTP server."""

    server: HTTPServer
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    log: list[Logged] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    captures: Counter[str] = field(default_factory=Counter)
    refunds: Counter[str] = field(default_factory=Counter)
    _replays: dict[str, tuple[int, str]] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.server.expect_request(re.compile(r"^/v1/.*")).respond_with_handler(self._handle)

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def client(self, retries: int = 2) -> stripe.StripeClient:
        """A stripe-python client pointed at this fake."""
        return stripe.StripeClient("sk_test_fake", base_addresses={"api": self.url}, max_network_retries=retries)

    def fail(self, method: str, path: str, kind: str, times: int = 1) -> None:
        self.faults.append(Fault(method, path, kind, times))

    def requests_to(self, method: str, path_regex: str) -> list[Logged]:
        return [r for r in self.log if r.method == method and re.fullmatch(path_regex, r.path)]

    # --- the browser's part and Stripe's webhooks ----------------------------------------------------------

    def confirm(self, pi_id: str, payment_method: str = "pm_card_visa") -> None:
        """What Stripe.js does when the customer confirms the card on the merchant's page."""
        with self._lock:
            self._confirm(self.intents[pi_id], payment_method)

    def event(self, pi_id: str, event_type: str, event_id: str | None = None) -> bytes:
        """A Stripe event envelope (documented shape) carrying the PaymentIntent as it is now."""
        body = fixture("event")
        body["id"] = event_id or f"evt_{next(self._ids):024d}"
        body["type"] = event_type
        body["data"] = {"object": copy.deepcopy(self.intents[pi_id])}
        return json.dumps(body).encode()

    # --- the server ----------------------------------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key")
        form = dict(request.form.items())
        entry = Logged(request.method, request.path, key, form)
        with self._lock:
            self.log.append(entry)
            fault = self._take_fault(request)
            entry.fault = fault
            if fault == "drop":
                return self._drop(request)
            if fault == "500":
                return _json(500, fixture("error_api"))
            if request.method == "POST" and key and key in self._replays:
                status, text = self._replays[key]
                entry.replayed = True
                return Response(text, status, {"Content-Type": "application/json", "Idempotent-Replayed": "true"})
            status, body = self._route(request.method, request.path, form)
            text = json.dumps(body)
            if request.method == "POST" and key and status < 500:
                self._replays[key] = (status, text)  # Stripe saves every result that began executing
            if fault == "drop_after":
                return self._drop(request)
            return Response(text, status, {"Content-Type": "application/json", "Request-Id": f"req_{next(self._ids)}"})

    def _take_fault(self, request: Request) -> str | None:
        for fault in self.faults:
            if fault.times > 0 and fault.method == request.method and re.fullmatch(fault.path, request.path):
                fault.times -= 1
                return fault.kind
        return None

    @staticmethod
    def _drop(request: Request) -> Response:
        sock: socket.socket = request.environ["werkzeug.socket"]
        sock.shutdown(socket.SHUT_RDWR)  # the client sees the connection reset, with no response
        return Response("", 500)

    def _route(self, method: str, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/v1/payment_intents":
            return self._create(form)
        if method == "POST" and path == "/v1/refunds":
            pi = self.intents[form["payment_intent"]]
            self.refunds[pi["id"]] += 1
            refund = fixture("refund")
            refund.update(id=f"re_{next(self._ids):024d}", amount=pi["amount"], currency=pi["currency"])
            refund.update(payment_intent=pi["id"])
            return 200, refund
        match = re.fullmatch(r"/v1/payment_intents/([^/]+)(/capture|/cancel)?", path)
        if match is None or match.group(1) not in self.intents:
            return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                   "message": f"No such payment_intent: '{path}'"}}  # fmt: skip
        pi = self.intents[match.group(1)]
        action = match.group(2)
        if method == "GET" and action is None:
            return 200, copy.deepcopy(pi)
        if action == "/capture" and pi["status"] == "requires_capture":
            pi.update(status="succeeded", amount_received=pi["amount"], amount_capturable=0)
            self.captures[pi["id"]] += 1
            return 200, copy.deepcopy(pi)
        if action == "/cancel" and pi["status"] in _CANCELABLE:
            pi.update(status="canceled", amount_capturable=0, canceled_at=1680800600)
            pi["cancellation_reason"] = form.get("cancellation_reason", "requested_by_customer")
            return 200, copy.deepcopy(pi)
        error = fixture("error_unexpected_state")
        error["error"]["message"] = f"This PaymentIntent has a status of {pi['status']}."
        error["error"]["payment_intent"] = copy.deepcopy(pi)
        return 400, error

    def _create(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        pi = fixture("payment_intent_requires_payment_method")
        pi_id = f"pi_{next(self._ids):024d}"
        pi.update(
            id=pi_id,
            client_secret=f"{pi_id}_secret_{next(self._ids):08d}",
            amount=int(form["amount"]),
            currency=form["currency"],
            capture_method=form.get("capture_method", "automatic"),
            description=form.get("description"),
            customer=form.get("customer"),
            metadata={k[len("metadata[") : -1]: v for k, v in form.items() if k.startswith("metadata[")},
        )
        self.intents[pi_id] = pi
        if form.get("confirm") == "true":
            if form.get("payment_method") in DECLINING_PAYMENT_METHODS:
                error = fixture("error_card_declined")
                pi.update(last_payment_error=error["error"]["payment_intent"]["last_payment_error"])
                error["error"]["payment_intent"] = copy.deepcopy(pi)
                return 402, error
            self._confirm(pi, form.get("payment_method", "pm_card_visa"))
        return 200, copy.deepcopy(pi)

    @staticmethod
    def _confirm(pi: dict[str, Any], payment_method: str) -> None:
        template = fixture(
            "payment_intent_requires_capture" if pi["capture_method"] == "manual" else "payment_intent_succeeded"
        )
        pi.update(status=template["status"], payment_method=payment_method, latest_charge=template["latest_charge"],
                  amount_capturable=pi["amount"] if template["status"] == "requires_capture" else 0,
                  last_payment_error=None)  # fmt: skip


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status, {"Content-Type": "application/json"})
