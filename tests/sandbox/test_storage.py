"""Storage and schedule rules: migrations, database-level invariants, the refund/void schedule rule, test clocks."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sandbox_helpers import Api, checkout_body

from bnpl.sandbox import SandboxInfo
from bnpl.sandbox.db import Database, IntegrityError
from bnpl.sandbox.migrations import MIGRATIONS, current_version, migrate
from bnpl.sandbox.service.schedule import Line, balances, reduce_principal


def test_migrations_are_versioned_and_idempotent(tmp_path: Path) -> None:
    db = Database.open(str(tmp_path / "m.db"))
    assert current_version(db) == 0
    assert migrate(db) == MIGRATIONS[-1][0]
    assert migrate(db) == MIGRATIONS[-1][0]
    assert current_version(db) == MIGRATIONS[-1][0]
    db.close()


def test_database_refuses_over_capture_and_over_refund(api: Api, sandbox: SandboxInfo) -> None:
    order = api.approved_order(10_000)
    with pytest.raises(IntegrityError), sandbox.db.transaction() as tx:
        tx.execute("UPDATE orders SET amount_captured = 10001 WHERE id = ?", (order["id"],))
    with pytest.raises(IntegrityError), sandbox.db.transaction() as tx:
        tx.execute("UPDATE orders SET amount_refunded = 1 WHERE id = ?", (order["id"],))
    assert api.get(f"/v1/orders/{order['id']}").json()["amount_captured"] == 0


def test_a_bad_database_path_is_a_clear_error(tmp_path: Path) -> None:
    from bnpl.sandbox.db import DatabaseError

    with pytest.raises(DatabaseError, match="does not exist"):
        Database.open(str(tmp_path / "missing" / "x.db"))


lines_strategy = st.lists(
    st.tuples(st.integers(0, 50_000), st.integers(0, 3_000), st.integers(0, 3_000), st.booleans()),
    min_size=1,
    max_size=24,
).map(
    lambda rows: [
        Line(n + 1, p, i, f, p + i + f if paid else 0, "paid" if paid else "scheduled")
        for n, (p, i, f, paid) in enumerate(rows)
    ]
)


@given(lines=lines_strategy, amount=st.integers(0, 2_000_000))
def test_reduce_principal_takes_exactly_from_unpaid_lines_last_first(lines: list[Line], amount: int) -> None:
    open_principal = sum(line.principal for line in lines if line.open)
    out, returned = reduce_principal(lines, amount)
    taken = min(amount, open_principal)
    assert returned == amount - taken
    assert sum(line.principal for line in out) == sum(line.principal for line in lines) - taken
    for before, after in zip(lines, out, strict=True):
        if not before.open:
            assert after == before  # paid instalments never change
        else:
            assert after.principal <= before.principal
            assert after.interest <= before.interest
            assert after.fee <= before.fee
            assert after.amount == after.principal + after.interest + after.fee
    # Last first: once an open line keeps principal, no earlier open line lost any.
    reduced = [b.principal - a.principal for b, a in zip(lines, out, strict=True) if b.open]
    kept = [a.principal for b, a in zip(lines, out, strict=True) if b.open]
    for k in range(len(reduced) - 1):
        if reduced[k] > 0:
            assert kept[k + 1] == 0
    assert balances(out)[-1] == 0


def test_checkouts_on_a_test_clock_live_at_its_time_and_expire_when_advanced(api: Api) -> None:
    frozen = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    clock = api.post("/v1/test_clocks", {"frozen_time": frozen.isoformat(), "name": "march"}).json()
    checkout = api.post(
        "/v1/checkouts", checkout_body(metadata={"test_clock": clock["id"]}, expires_in_seconds=3600)
    ).json()
    assert checkout["created"] == "2026-03-01T09:00:00Z"
    assert checkout["expires_at"] == "2026-03-01T10:00:00Z"
    back = api.post(f"/v1/test_clocks/{clock['id']}/advance", {"frozen_time": frozen.isoformat()})
    assert (back.status_code, back.json()["error"]["param"]) == (400, "frozen_time")
    later = (frozen + timedelta(hours=2)).isoformat()
    moved = api.post(f"/v1/test_clocks/{clock['id']}/advance", {"frozen_time": later}).json()
    assert moved["frozen_time"] == "2026-03-01T11:00:00Z"
    assert api.get(f"/v1/checkouts/{checkout['id']}").json()["status"] == "expired"
    events = api.get("/v1/events", params={"object_id": checkout["id"]}).json()["data"]
    assert [e["type"] for e in events] == ["checkout.expired"]
    # Stamped in simulated time: at the expiry instant or the time the clock was advanced to, never wall time.
    assert "2026-03-01T10:00:00Z" <= events[0]["created"] <= "2026-03-01T11:00:00Z"


# The group is run directly: registering it under `bnpl` is the CLI package's job.
CLI = [sys.executable, "-c", "from bnpl.cli.sandbox import sandbox; sandbox()"]


def test_cli_merchants_create_and_serve(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    created = subprocess.run(  # noqa: S603 - our own interpreter and CLI
        [*CLI, "merchants", "create", "--db", db, "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert '"secret_key": "sk_test_' in created.stdout
    import json

    import httpx

    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and CLI
        [*CLI, "serve", "--db", db, "--port", "0", "--json"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert info["secret_key"].startswith("sk_test_")
        assert info["publishable_key"].startswith("pk_test_")
        orders = httpx.get(info["base_url"] + "/v1/orders", headers={"Authorization": f"Bearer {info['secret_key']}"})
        assert orders.status_code == 200
        key = json.loads(created.stdout)["secret_key"]
        other = httpx.get(info["base_url"] + "/v1/orders", headers={"Authorization": f"Bearer {key}"})
        assert other.status_code == 200
    finally:
        proc.terminate()
        proc.wait(20)
