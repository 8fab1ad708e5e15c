"""`bnpl prequalify`, `checkout …`, `order …` and `events …` against a running sandbox: what the lender really
holds afterwards, the tables, the JSON documents, and one-line errors with the right exit codes."""

from __future__ import annotations

import json
import re
import secrets

from bnpl import Client
from bnpl.sandbox import SandboxInfo
from conftest import Bnpl


def fields(text: str) -> dict[str, str]:
    """The ``label  value`` lines of a summary, as a dict."""
    found = {}
    for line in text.splitlines():
        parts = re.split(r"\s{2,}", line.strip(), maxsplit=1)
        if len(parts) == 2:
            found.setdefault(parts[0], parts[1])
    return found


def tag() -> str:
    return secrets.token_hex(4)


def open_checkout(bnpl: Bnpl, amount: str = "1299", persona_email: str = "pays-on-time") -> dict[str, object]:
    """A checkout for a fresh persona customer (a +tag keeps customers apart)."""
    email = f"{persona_email}+{tag()}@bnpl.test"
    created: dict[str, object] = bnpl.json(
        "checkout", "create", amount, "CNY", "--reference", f"BK-{tag()}", "--customer-email", email
    )
    return created


def approved_order(bnpl: Bnpl, client: Client, amount: str = "1299", plan: int = 0) -> str:
    checkout = open_checkout(bnpl, amount)
    bnpl("checkout", "approve", str(checkout["id"]), "--plan", str(plan))
    order_id = client.checkouts.retrieve(str(checkout["id"])).order_id
    assert order_id is not None
    return order_id


def test_prequalify_persona_table_and_json(bnpl: Bnpl) -> None:
    out = bnpl("prequalify", "1299", "CNY", "--persona", "pays_on_time").stdout
    assert fields(out)["eligible"] == "yes"
    assert "20,000.00 CNY" in out  # the persona's limit
    assert "pay_in_4" in out
    assert "12.00 %" in out
    doc = bnpl.json("prequalify", "1299.00", "CNY", "--persona", "decline")
    assert doc["eligible"] is False
    assert doc["decline_reason"] == "persona_always_declines"
    assert doc["amount"] == 129900


def test_checkout_create_with_travel_items_and_metadata(bnpl: Bnpl, client: Client) -> None:
    ref = f"BK-{tag()}"
    out = bnpl(
        "checkout", "create", "1299.00", "CNY", "--reference", ref, "--persona", "pays_on_time",
        "--item", "SHA-CTU economy:flight:1199", "--item", "Seat 12A:service:100",
        "--route", "SHA-CTU", "--travel-date", "2027-01-20", "--passenger", "Li Lei",
        "--subsidy", "50", "--expires-in", "600", "--metadata", "channel=app", "--metadata", "pnr=ABC123",
    ).stdout  # fmt: skip
    checkout_id = next(line.split()[1] for line in out.splitlines() if line.startswith("checkout "))
    assert "approval url  http://127.0.0.1:" in out
    stored = client.checkouts.retrieve(checkout_id)
    assert stored.amount == 129900
    assert stored.currency == "CNY"
    assert stored.status == "open"
    assert stored.merchant_reference == ref
    assert stored.metadata == {"channel": "app", "pnr": "ABC123"}
    assert stored.customer_id is not None


def test_checkout_create_refuses_items_that_do_not_sum(bnpl: Bnpl) -> None:
    result = bnpl.run("checkout", "create", "1299", "CNY", "--reference", "x", "--item", "a:flight:1000")
    assert result.exit_code in (1, 2)
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_checkout_get_list_cancel(bnpl: Bnpl, client: Client) -> None:
    checkout = open_checkout(bnpl)
    got = bnpl.json("checkout", "get", str(checkout["id"]))
    assert got == checkout | {"status": "open"}
    listed = bnpl.json("checkout", "list", "--status", "open", "--limit", "100")
    assert checkout["id"] in [c["id"] for c in listed["data"]]
    table = bnpl("checkout", "list").stdout
    assert table.splitlines()[0].split() == ["id", "status", "amount", "reference", "order", "created"]
    out = bnpl("checkout", "cancel", str(checkout["id"]), "--reason", "changed plans").stdout
    assert "canceled" in out
    assert client.checkouts.retrieve(str(checkout["id"])).status == "canceled"


def test_checkout_approve_creates_an_authorized_order(bnpl: Bnpl, client: Client) -> None:
    checkout = open_checkout(bnpl)
    doc = bnpl.json("checkout", "approve", str(checkout["id"]), "--plan", "0")
    assert doc["checkout"]["status"] == "approved"
    assert "status=approved" in doc["redirect_url"]
    order = client.orders.retrieve(doc["checkout"]["order_id"])
    assert order.status == "authorized"
    assert order.amount_authorized == 129900
    assert order.plan.product == "pay_in_4"
    again = bnpl.run("checkout", "approve", str(checkout["id"]))
    assert again.exit_code == 1
    assert "approved, not open" in again.stderr


def test_checkout_approve_cancel_on_the_hosted_page(bnpl: Bnpl, client: Client) -> None:
    checkout = open_checkout(bnpl)
    bnpl("checkout", "approve", str(checkout["id"]), "--cancel")
    assert client.checkouts.retrieve(str(checkout["id"])).status == "canceled"


def test_checkout_approve_refuses_a_remote_lender(bnpl: Bnpl) -> None:
    result = bnpl.raw(
        "checkout",
        "approve",
        "chk_abc",
        "--api-key",
        bnpl.sandbox.secret_key,
        "--base-url",
        "https://api.lender.example",
    )
    assert result.exit_code == 2
    assert "only works against a local sandbox" in result.stderr


def test_order_capture_refund_schedule(bnpl: Bnpl, client: Client) -> None:
    order_id = approved_order(bnpl, client, "1000")
    out = bnpl("order", "capture", order_id, "--reference", "TKT-1").stdout
    order = client.orders.retrieve(order_id)
    assert order.amount_captured == 100000
    assert order.status == "captured"
    assert order.captures[0].reference == "TKT-1"
    # the schedule table: pay in 4 of 250.00
    rows = [line.split() for line in out.splitlines() if line[:1].isdigit() and "CNY" in line]
    assert [r[0] for r in rows] == ["1", "2", "3", "4"]
    assert all(r[2] == "250.00" for r in rows)
    doc = bnpl.json("order", "refund", order_id, "--amount", "300", "--reason", "rebooked")
    assert doc["amount_refunded"] == 30000
    refreshed = client.orders.retrieve(order_id)
    assert refreshed.amount_refunded == 30000
    assert refreshed.refunds[0].reason == "rebooked"
    assert sum(i.amount for i in refreshed.plan.schedule) == 70000  # what the customer still owes, exactly
    assert bnpl.json("order", "get", order_id) == refreshed.model_dump(mode="json")


def test_order_partial_capture_void_and_amend(bnpl: Bnpl, client: Client) -> None:
    order_id = approved_order(bnpl, client, "1299")
    bnpl("order", "amend", order_id, "--new-amount", "1099.50", "--reason", "rebooked to a cheaper flight")
    assert client.orders.retrieve(order_id).amount_authorized == 109950
    bnpl("order", "capture", order_id, "--amount", "1000")
    bnpl("order", "void", order_id, "--reason", "seat not sold")
    order = client.orders.retrieve(order_id)
    assert (order.amount_captured, order.amount_voided) == (100000, 9950)
    shown = fields(bnpl("order", "get", order_id).stdout)
    assert shown["captured"] == "1,000.00 CNY"
    assert shown["voided"] == "99.50 CNY"
    assert shown["authorized"] == "1,099.50 CNY"


def test_order_list_filters(bnpl: Bnpl, client: Client) -> None:
    order_id = approved_order(bnpl, client)
    bnpl("order", "void", order_id)
    listed = bnpl.json("order", "list", "--status", "voided", "--limit", "100")
    assert order_id in [o["id"] for o in listed["data"]]
    assert all(o["status"] == "voided" for o in listed["data"])
    header = bnpl("order", "list").stdout.splitlines()[0].split()
    assert header == ["id", "status", "authorized", "captured", "refunded", "reference", "created"]


def test_order_amount_in_major_units_is_validated(bnpl: Bnpl, client: Client) -> None:
    order_id = approved_order(bnpl, client)
    result = bnpl.run("order", "capture", order_id, "--amount", "12.345")
    assert result.exit_code == 2
    assert "--amount" in result.stderr
    assert client.orders.retrieve(order_id).amount_captured == 0


def test_order_conflict_is_one_line_exit_1(bnpl: Bnpl, client: Client) -> None:
    order_id = approved_order(bnpl, client)
    bnpl("order", "void", order_id)
    result = bnpl.run("order", "capture", order_id)
    assert result.exit_code == 1
    assert result.stdout == ""
    line = result.stderr.strip()
    assert "\n" not in line
    assert line.startswith("error: ")
    assert "request id: req_" in line


def test_events_list_and_get(bnpl: Bnpl, client: Client) -> None:
    order_id = approved_order(bnpl, client)
    bnpl("order", "capture", order_id)
    listed = bnpl.json("events", "list", "--object-id", order_id)
    assert [e["type"] for e in listed["data"]] == ["order.captured", "order.authorized"]
    table = bnpl("events", "list", "--type", "order.captured", "--limit", "100").stdout
    captured_id = listed["data"][0]["id"]
    assert captured_id in table
    assert "order.authorized" not in table
    event = bnpl.json("events", "get", captured_id)
    assert event["type"] == "order.captured"
    assert event["data"]["id"] == order_id
    text = bnpl("events", "get", captured_id).stdout
    assert fields(text)["object"] == order_id
    assert '"amount_captured": 129900' in text


def test_env_vars_supply_key_and_url(bnpl: Bnpl, sandbox: SandboxInfo, client: Client) -> None:
    env = {"BNPL_API_KEY": sandbox.secret_key, "BNPL_BASE_URL": sandbox.base_url}
    result = bnpl.raw(
        "checkout", "create", "88", "CNY", "--reference", "env", "--persona", "approve", "--json", env=env
    )
    assert result.exit_code == 0, result.stderr
    created = json.loads(result.stdout)
    assert client.checkouts.retrieve(created["id"]).amount == 8800


def test_bad_key_is_one_line_exit_1(bnpl: Bnpl, sandbox: SandboxInfo) -> None:
    result = bnpl.raw("order", "list", "--api-key", "sk_test_" + "0" * 32, "--base-url", sandbox.base_url)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "authentication_error" in result.stderr
    assert "--api-key / BNPL_API_KEY" in result.stderr
    assert "0" * 32 not in result.stderr  # the key is never echoed


def test_missing_key_is_a_usage_error(bnpl: Bnpl, sandbox: SandboxInfo) -> None:
    result = bnpl.raw("order", "list", "--base-url", sandbox.base_url, env={"BNPL_API_KEY": ""})
    assert result.exit_code == 2
    assert "--api-key or BNPL_API_KEY" in result.stderr


def test_bad_option_is_exit_2(bnpl: Bnpl) -> None:
    result = bnpl.run("order", "list", "--status", "shipped")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1
    result = bnpl.run("checkout", "create", "1299", "CNY")  # no --reference
    assert result.exit_code == 2
    assert "--reference" in result.stderr


def test_sandbox_down_says_how_to_start_it(bnpl: Bnpl, sandbox: SandboxInfo) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    result = bnpl.raw("events", "list", "--api-key", sandbox.secret_key, "--base-url", url)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: cannot reach the lender at {url}: start it with `bnpl sandbox serve` "
        "(or point --base-url / BNPL_BASE_URL at a running lender)"
    )
