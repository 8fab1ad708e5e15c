"""Suite 1: mixed operations through a fault-injecting proxy, then a reconciliation against the sandbox's ledger.

Each logical operation carries its own idempotency key (and, for captures and refunds, its own ``reference``;
for checkouts its own ``merchant_reference``), so the ledger can be searched for it. The client classifies each
outcome as

* ``done``: the SDK returned the object;
* ``refused``: the SDK raised a final 4xx (the lender said no);
* ``unknown``: the SDK gave up (connection errors, timeouts, 5xx/429 after its retries, or a truncated 2xx body).

The reconciliation rule (docs/reliability.md):

1. ``done`` → the ledger holds the operation exactly once;
2. ``refused`` → the ledger does not hold it;
3. ``unknown`` → the ledger holds it at most once, and re-issuing the very same request with the same
   idempotency key directly to the lender tells which: if the ledger holds it, the answer is a 2xx replay
   (``Idempotent-Replayed: true``) and nothing changes; if not, the answer is either the replay of the original
   refusal (a 4xx with ``Idempotent-Replayed: true``), or a fresh execution (no replay header) after which the
   ledger holds it exactly once if it answered 2xx and not at all if it answered 4xx;
4. the ledger's totals equal the client's model built from (1) and (3), and every ledger invariant holds.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from faultproxy import FAULT_KINDS, FaultProxy, FaultRates
from ledger import count_rows, invariant_violations, order_row
from reliability_helpers import pg_schema, scale

import bnpl
from bnpl.errors import APIStatusError, BNPLError
from bnpl.sandbox import SandboxInfo, Settings, run_sandbox
from bnpl.sandbox.customer import HostedPageError, complete_hosted_page

FAULT_RATE = 0.20
WORKERS = 4
CLIENT_TIMEOUT_S = 0.5  # the proxy's delay fault (0.6 s) outlasts it: the client retries while the first is en route


@dataclass
class Op:
    """One logical operation and what the client was told."""

    kind: str  # checkout | approve | capture | refund | void
    key: str
    ref: str
    order_id: str | None = None
    checkout_id: str | None = None
    amount: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    outcome: str = "pending"  # done | refused | unknown
    applied: bool | None = None  # the reconciliation's verdict
    error: str = ""


@dataclass
class OrderModel:
    """What the merchant believes about one order (from `done` answers only)."""

    order_id: str
    authorized: int
    captured: int = 0
    refunded: int = 0
    voided: int = 0
    uncertain: bool = False


def _classify(exc: BNPLError) -> str:
    """A final 4xx is a refusal, except the ones that say nothing about the outcome: 408, 429, and the 409 "the
    first request with this key is still running" (retries exhausted while a delayed copy was being applied)."""
    if isinstance(exc, APIStatusError) and 400 <= exc.status_code < 500 and exc.status_code not in (408, 429):
        return "unknown" if exc.code == "idempotency_request_in_progress" else "refused"
    return "unknown"


def _checkout_params(ref: str, amount: int) -> dict[str, Any]:
    return {
        "amount": amount,
        "currency": "CNY",
        "merchant_reference": ref,
        "items": [{"name": "PEK-SHA", "category": "flight", "unit_amount": amount, "total_amount": amount}],
        "return_url": "https://shop.example/return",
        "customer": {"reference": ref, "email": f"approve+{ref}@bnpl.test"},
    }


class Run:
    """The workload: WORKERS threads each walking order lifecycles until the operation budget is spent."""

    def __init__(
        self, sb: SandboxInfo, proxy: FaultProxy, budget: int, seed: int, *, backoff_base: float = 0.001
    ) -> None:
        self.sb, self.proxy, self.seed, self.backoff_base = sb, proxy, seed, backoff_base
        self.ops: list[Op] = []
        self.orders: dict[str, OrderModel] = {}
        self._lock = threading.Lock()
        self._budget = budget
        self.gate = threading.Event()  # cleared while the server is down (crash suite): new work waits
        self.gate.set()

    def _take(self) -> bool:
        self.gate.wait(120)
        with self._lock:
            if self._budget <= 0:
                return False
            self._budget -= 1
            return True

    def _record(self, op: Op) -> Op:
        with self._lock:
            self.ops.append(op)
        return op

    def worker(self, index: int) -> None:
        rng = random.Random(self.seed * 100 + index)
        # Half the workers retry little, so some operations end "unknown" and exercise the replay rule.
        client = bnpl.Client(
            api_key=self.sb.secret_key,
            base_url=self.proxy.url,
            max_retries=1 if index % 2 else 3,
            backoff_base=self.backoff_base,
            timeout=CLIENT_TIMEOUT_S,
        )
        http = httpx.Client(timeout=CLIENT_TIMEOUT_S)
        try:
            while self._lifecycle(client, http, rng):
                pass
        finally:
            client.close()
            http.close()

    def _call(self, op: Op, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, idempotency_key=op.key, **kwargs)
        except BNPLError as exc:
            op.outcome = _classify(exc)
            op.error = f"{type(exc).__name__}:{getattr(exc, 'code', None)}"
            return None
        op.outcome = "done"
        return result

    def _lifecycle(self, client: bnpl.Client, http: httpx.Client, rng: random.Random) -> bool:
        if not self._take():
            return False
        ref = "ref" + uuid.uuid4().hex[:16]
        amount = rng.randrange(20_000, 400_000)
        params = _checkout_params(ref, amount)
        op = self._record(Op("checkout", "ck-" + ref, ref, amount=amount, params=params))
        checkout = self._call(op, client.checkouts.create, **params)
        if checkout is None:
            return True
        op.checkout_id = checkout.id
        if not self._take():
            return False
        order_id = self._approve(client, http, checkout, ref)
        if order_id is None:
            return True
        model = OrderModel(order_id, amount)
        with self._lock:
            self.orders[order_id] = model
        for _ in range(rng.randrange(1, 5)):
            if model.uncertain:
                break  # the merchant would reconcile this order before touching it again
            if not self._take():
                return False
            self._money_op(client, rng, model)
        return True

    def _approve(self, client: bnpl.Client, http: httpx.Client, checkout: Any, ref: str) -> str | None:
        """The customer walks the hosted page through the proxy (retrying as a person would reload), then the
        merchant reads the checkout to learn the result (also through the proxy)."""
        op = self._record(Op("approve", "ap-" + ref, ref, checkout_id=checkout.id))
        url = checkout.approval_url.replace(self.sb.base_url, self.proxy.url)
        for _ in range(4):
            try:
                if complete_hosted_page(url, http=http).status == "approved":
                    break
            except (httpx.HTTPError, HostedPageError, KeyError):
                continue
        for _ in range(4):
            try:
                seen = client.checkouts.retrieve(checkout.id)
            except BNPLError:
                continue
            # Still open is not a refusal: a delayed confirm of the customer's may yet arrive and approve it.
            op.outcome = "done" if seen.status == "approved" else "unknown"
            op.order_id = seen.order_id
            return seen.order_id if seen.status == "approved" else None
        op.outcome = "unknown"
        return None

    def _money_op(self, client: bnpl.Client, rng: random.Random, model: OrderModel) -> None:
        capturable = model.authorized - model.captured - model.voided
        refundable = model.captured - model.refunded
        ref = "op" + uuid.uuid4().hex[:16]
        draw = rng.random()
        if draw < 0.05 and refundable >= 0:  # deliberately invalid: more than was captured → must be refused
            kind, params = "refund", {"amount": refundable + 1, "reference": ref}
        elif capturable > 0 and (draw < 0.55 or refundable == 0):
            kind = "capture"
            amount = capturable if rng.random() < 0.2 else rng.randrange(1, capturable + 1)
            params = {"amount": amount, "reference": ref}
        elif refundable > 0 and draw < 0.9:
            kind, params = "refund", {"amount": rng.randrange(1, refundable + 1), "reference": ref}
        elif capturable > 0:
            kind, params = "void", {}
        else:
            with self._lock:
                self._budget += 1  # nothing to do on this order: the operation was not spent
            return
        op = self._record(Op(kind, f"{kind}-{ref}", ref, order_id=model.order_id, params=params))
        op.amount = int(params.get("amount", capturable))
        fn = {"capture": client.orders.capture, "refund": client.orders.refund, "void": client.orders.void}[kind]
        if self._call(op, fn, model.order_id, **params) is None:
            model.uncertain = model.uncertain or op.outcome == "unknown"
            return
        apply_to_model(model, op)


def apply_to_model(model: OrderModel, op: Op) -> None:
    """The effect of an applied operation on the merchant's model."""
    if op.kind == "capture":
        model.captured += op.amount
    elif op.kind == "refund":
        model.refunded += op.amount
    elif op.kind == "void":
        model.voided += op.amount


def _ledger_count(sb: SandboxInfo, op: Op) -> int:
    if op.kind == "checkout":
        return count_rows(sb.db, "checkouts", "merchant_reference", op.ref)
    if op.kind in ("capture", "refund"):
        return count_rows(sb.db, "captures" if op.kind == "capture" else "refunds", "reference", op.ref)
    if op.kind == "void":
        with sb.db.transaction(readonly=True) as tx:
            row = tx.fetchone(
                "SELECT COUNT(*) AS n FROM events WHERE object_id = ? AND type = 'order.voided'", (op.order_id,)
            )
        return int(row["n"]) if row is not None else 0
    assert op.checkout_id is not None  # approve
    return count_rows(sb.db, "orders", "checkout_id", op.checkout_id)


def _reissue(direct: bnpl.Client, op: Op) -> tuple[int, bool]:
    """Send the very same request again, same idempotency key, straight to the lender: (status, replayed)."""
    raw = direct.with_raw_response
    try:
        if op.kind == "checkout":
            response = raw.checkouts.create(idempotency_key=op.key, **op.params)
        else:
            fn = {"capture": raw.orders.capture, "refund": raw.orders.refund, "void": raw.orders.void}[op.kind]
            response = fn(op.order_id, idempotency_key=op.key, **op.params)
    except APIStatusError as exc:
        return exc.status_code, exc.headers.get("idempotent-replayed") == "true"
    return response.status_code, response.headers.get("idempotent-replayed") == "true"


def reconcile(sb: SandboxInfo, run: Run) -> Counter[str]:
    """Apply the rule of the module docstring; return the figures. Asserts on every violation."""
    figures: Counter[str] = Counter()
    direct = bnpl.Client(api_key=sb.secret_key, base_url=sb.base_url, max_retries=0)
    violations: list[str] = []
    try:
        for op in run.ops:
            figures[f"{op.kind}.{op.outcome}"] += 1
            if op.error:
                figures[f"error.{op.error}"] += 1
            before = _ledger_count(sb, op)
            if op.outcome == "done":
                op.applied = True
                if before != 1:
                    violations.append(f"{op.kind} {op.ref} reported done, ledger holds it {before} times")
            elif op.outcome == "refused":
                op.applied = False
                if before != 0:
                    violations.append(f"{op.kind} {op.ref} reported refused, ledger holds it {before} times")
            elif op.kind == "approve":
                op.applied = before == 1
                figures["approve.unknown_resolved"] += 1
            else:
                if before > 1:
                    violations.append(f"{op.kind} {op.ref} unknown, ledger holds it {before} times")
                status, replayed = _reissue(direct, op)
                after = _ledger_count(sb, op)
                if before == 1:
                    figures["unknown.applied_found_by_replay"] += 1
                    op.applied = True
                    if not (status < 300 and replayed and after == 1):
                        violations.append(f"{op.kind} {op.ref}: applied but re-issue gave {status} {replayed}")
                else:
                    op.applied = after == 1
                    verdict = "refusal_replayed" if replayed else ("then_applied" if op.applied else "then_refused")
                    figures["unknown.not_applied_" + verdict] += 1
                    # A replayed success would mean a stored 2xx with no ledger row; a replayed 4xx is the
                    # original refusal (4xx answers are stored and replayed like successes).
                    if (replayed and status < 300) or (status < 300) != (after == 1):
                        violations.append(f"{op.kind} {op.ref}: not applied, re-issue {status} {replayed} {after}")
    finally:
        direct.close()
    # The ledger's totals equal the model built from what was applied (done + found by replay).
    models = {oid: OrderModel(oid, m.authorized) for oid, m in run.orders.items()}
    for op in run.ops:
        if op.kind in ("capture", "refund", "void") and op.applied and op.order_id in models:
            apply_to_model(models[op.order_id], op)
    for oid, model in models.items():
        row = order_row(sb.db, oid)
        got = (row["amount_captured"], row["amount_refunded"], row["amount_voided"])
        if got != (model.captured, model.refunded, model.voided):
            violations.append(f"{oid}: ledger {got} != client model {(model.captured, model.refunded, model.voided)}")
    violations += invariant_violations(sb.db)
    figures["invariant_violations"] = len(violations)
    assert violations == [], violations[:20]
    return figures


def _run(sb: SandboxInfo, operations: int, seed: int) -> dict[str, Any]:
    with FaultProxy(sb.base_url, FaultRates.uniform(FAULT_RATE), seed=seed, delay_seconds=0.6) as proxy:
        run = Run(sb, proxy, operations, seed)
        threads = [threading.Thread(target=run.worker, args=(i,)) for i in range(WORKERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert proxy.wait_idle(30), "a delayed request is still in flight"
        stats = dict(proxy.stats)
    figures = reconcile(sb, run)
    report = {"operations": len(run.ops), "proxy": stats, "outcomes": dict(figures)}
    print("RELIABILITY-FAULTS " + json.dumps(report, sort_keys=True))
    # The run exercised what it claims: every fault kind, retries, duplicates reaching the server, each op kind.
    for kind in FAULT_KINDS:
        assert stats.get(kind, 0) > 0, kind
    assert stats.get("duplicate_deliveries", 0) > 0
    for kind in ("checkout", "approve", "capture", "refund", "void"):
        assert figures[f"{kind}.done"] > 0, kind
    assert figures["refund.refused"] > 0  # the deliberate over-refunds
    return report


def test_faults_sqlite(sqlite_sandbox: SandboxInfo, pytestconfig: pytest.Config) -> None:
    """300 mixed operations (2,000 with --run-slow) at a 20 % fault rate, SQLite."""
    _run(sqlite_sandbox, scale(300, 2000, pytestconfig), seed=7)


@pytest.mark.slow
def test_faults_postgres(postgres_url: str, pytestconfig: pytest.Config) -> None:
    """The same run on PostgreSQL (slow variant only)."""
    for schema in pg_schema(postgres_url):
        with run_sandbox(postgres_url, settings=Settings(expiry_sweep_seconds=0), schema=schema) as sb:
            _run(sb, scale(300, 2000, pytestconfig), seed=11)
