"""Suite 6: every route of ``bnpl.models.routes.ROUTES`` plus the sandbox's delivery-log and redelivery routes,
tried with no key, a malformed key, a revoked key, a publishable key and another merchant's key; and a scan of
every log line, error and repr of a full flow (retries and failures included) for the secrets."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from faultproxy import FaultProxy, FaultRates

import bnpl
from bnpl.errors import BNPLError
from bnpl.models.routes import ROUTES
from bnpl.sandbox import SandboxInfo
from bnpl.sandbox.auth import create_api_key, create_merchant, revoke_api_key
from bnpl.sandbox.customer import complete_hosted_page

EXTRA_ROUTES = [("GET", "/v1/webhook_endpoints/{id}/deliveries", "we_"), ("POST", "/v1/events/{id}/redeliver", "evt_")]


@pytest.fixture
def objects(sqlite_sandbox: SandboxInfo) -> dict[str, str]:
    """Real objects of the default merchant, one per id prefix, for the other merchant to try."""
    sb = sqlite_sandbox
    with bnpl.Client(api_key=sb.secret_key, base_url=sb.base_url) as client:
        checkout = client.checkouts.create(
            amount=50_000,
            currency="CNY",
            merchant_reference="acl",
            items=[{"name": "x", "category": "flight", "unit_amount": 50_000, "total_amount": 50_000}],
            return_url="https://shop.example/return",
            customer={"reference": "acl", "email": "approve+acl@bnpl.test"},
        )
        complete_hosted_page(checkout.approval_url)
        order_id = client.checkouts.retrieve(checkout.id).order_id
        endpoint = client.webhook_endpoints.create(url="https://merchant.example/hook", enabled_events=["*"])
        clock = client.test_clocks.create(frozen_time=datetime.now(UTC))
        event = next(iter(client.events.list()))
    assert order_id is not None
    return {"chk_": checkout.id, "ord_": order_id, "we_": endpoint.id, "clk_": clock.id, "evt_": event.id}


def _routes(objects: dict[str, str]) -> list[tuple[str, str, str | None]]:
    """(method, concrete path, the id prefix when the path names an object)."""
    out: list[tuple[str, str, str | None]] = []
    for route in ROUTES:
        prefix = route.id_prefix
        path = route.path.replace("{id}", objects[prefix]) if prefix else route.path
        out.append((route.method, path, prefix))
    for method, template, prefix in EXTRA_ROUTES:
        out.append((method, template.replace("{id}", objects[prefix]), prefix))
    return out


# Valid bodies, so an authenticated request gets past validation to the object lookup.
_BODIES = {
    "/refund": {"amount": 1},
    "/amend": {"new_amount": 1, "reason": "rebooked"},
    "/advance": {"frozen_time": "2099-01-01T00:00:00Z"},
}


def _call(base: str, method: str, path: str, auth: str | None) -> httpx.Response:
    headers = {"Authorization": auth} if auth is not None else {}
    body = next((b for suffix, b in _BODIES.items() if path.endswith(suffix)), {}) if method == "POST" else None
    return httpx.request(method, base + path, headers=headers, json=body, timeout=30)


def _code(response: httpx.Response) -> tuple[int, str]:
    error = response.json()["error"]
    assert {"type", "code", "message", "request_id"} <= set(error)
    return response.status_code, str(error["code"])


def test_every_route_rejects_bad_credentials(sqlite_sandbox: SandboxInfo, objects: dict[str, str]) -> None:
    sb = sqlite_sandbox
    revoked = create_api_key(sb.db, sb.merchant_id, "secret", datetime.now(UTC))
    assert revoke_api_key(sb.db, revoked, datetime.now(UTC))
    routes = _routes(objects)
    assert len(routes) == len(ROUTES) + 2
    for method, path, _ in routes:
        where = f"{method} {path}"
        assert _code(_call(sb.base_url, method, path, None)) == (401, "missing_api_key"), where
        assert _code(_call(sb.base_url, method, path, "Bearer sk_test_nope")) == (401, "invalid_api_key"), where
        assert _code(_call(sb.base_url, method, path, "Basic Zm9vOmJhcg=="))[0] == 401, where
        assert _code(_call(sb.base_url, method, path, f"Bearer {revoked}")) == (401, "api_key_revoked"), where
        publishable = _call(sb.base_url, method, path, f"Bearer {sb.publishable_key}")
        assert _code(publishable) == (403, "secret_key_required"), where
        assert sb.publishable_key not in publishable.text


def test_another_merchants_objects_are_missing(sqlite_sandbox: SandboxInfo, objects: dict[str, str]) -> None:
    sb = sqlite_sandbox
    other = create_merchant(sb.db, datetime.now(UTC), name="intruder")
    for method, path, prefix in _routes(objects):
        if prefix is None:
            continue
        theirs = _call(sb.base_url, method, path, f"Bearer {other.secret_key}")
        missing_path = path.replace(objects[prefix], prefix + "0" * 24)
        missing = _call(sb.base_url, method, missing_path, f"Bearer {other.secret_key}")
        assert _code(theirs) == _code(missing) == (404, "resource_missing"), f"{method} {path}"
        assert theirs.json()["error"]["message"].replace(objects[prefix], "ID") == missing.json()["error"][
            "message"
        ].replace(prefix + "0" * 24, "ID")
    # and the owner's own objects are untouched by the attempts
    with bnpl.Client(api_key=sb.secret_key, base_url=sb.base_url) as client:
        order = client.orders.retrieve(objects["ord_"])
    assert (order.amount_captured, order.amount_voided, order.amount_refunded) == (0, 0, 0)


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        if record.exc_info:
            self.lines.append(logging.Formatter().formatException(record.exc_info))


def test_secrets_never_in_logs_errors_or_reprs(sqlite_sandbox: SandboxInfo) -> None:
    sb = sqlite_sandbox
    capture = _Everything()
    capture.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s %(args)s"))
    root = logging.getLogger()
    touched = [root, *(logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "uvicorn.access", "bnpl", "httpx"))]
    saved = [(lg, lg.level) for lg in touched]
    root.addHandler(capture)
    for lg in touched:
        lg.setLevel(logging.DEBUG)
    texts: list[str] = []
    try:
        with FaultProxy(sb.base_url, FaultRates.uniform(0.3), seed=3) as proxy:
            client = bnpl.Client(api_key=sb.secret_key, base_url=proxy.url, max_retries=4, backoff_base=0.001)
            texts += [repr(client), str(client), repr(sb)]
            endpoint = client.webhook_endpoints.create(url="https://merchant.example/hook", enabled_events=["*"])
            rotated = client.webhook_endpoints.rotate_secret(endpoint.id, expire_current_in_seconds=60)
            secrets = [sb.secret_key, sb.publishable_key, endpoint.secret, rotated.secret]
            texts += [repr(endpoint), str(endpoint), repr(rotated)]
            for attempt in range(20):
                try:
                    checkout = client.checkouts.create(
                        amount=50_000 + attempt,
                        currency="CNY",
                        merchant_reference=f"log-{attempt}",
                        items=[
                            {
                                "name": "x",
                                "category": "flight",
                                "unit_amount": 50_000 + attempt,
                                "total_amount": 50_000 + attempt,
                            }
                        ],
                        return_url="https://shop.example/return",
                        customer={"reference": "log", "email": f"approve+log{attempt}@bnpl.test"},
                    )
                    client.orders.capture("ord_doesnotexist0000")
                except BNPLError as exc:
                    texts += [str(exc), repr(exc), repr(getattr(exc, "body", None))]
                    continue
                texts.append(repr(checkout))
            for bad in ("sk_test_" + "x" * 32, sb.publishable_key, sb.secret_key + "x"):
                try:
                    bnpl.Client(api_key=bad, base_url=sb.base_url, max_retries=0).orders.retrieve("ord_x1")
                except BNPLError as exc:
                    texts += [str(exc), repr(exc)]
            revoke_api_key(sb.db, sb.secret_key, datetime.now(UTC) - timedelta(seconds=1))
            try:
                client.orders.retrieve("ord_x1")
            except BNPLError as exc:
                texts += [str(exc), repr(exc)]
            client.close()
    finally:
        root.removeHandler(capture)
        for lg, level in saved:
            lg.setLevel(level)
    assert len(capture.lines) > 20  # the capture really saw the flow (debug lines of every attempt)
    haystack = "\n".join(capture.lines + texts)
    for secret in secrets:
        assert secret not in haystack
        assert secret.split("_", 1)[-1][:16] not in haystack  # nor a long prefix of its random part
