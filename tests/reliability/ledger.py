"""The sandbox's own ledger, read straight from its database: the money invariants every reliability suite checks.

``invariant_violations(db)`` returns a list of human-readable violations (empty when the ledger is sound):

* per order: ``captured + voided <= authorized``, ``refunded <= captured``, ``amount_captured`` = the sum of its
  capture rows, ``amount_refunded`` = the sum of its refund rows;
* the schedule: while no instalment has been paid, the principals sum to ``authorized - voided - refunded`` and
  every instalment's ``amount = principal + interest + fee``;
* the outbox: every order has its ``order.authorized`` event, one ``order.captured`` per capture row, one
  ``order.refunded`` per refund row, per-object sequences 1..n without gaps, and the newest event's snapshot shows
  the order's stored amounts (no state without its event, no event without its state);
* every approved checkout has exactly one order, and every order's checkout is approved.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

from bnpl.sandbox.db import Database

__all__ = ["count_rows", "invariant_violations", "order_row"]


def order_row(db: Database, order_id: str) -> dict[str, Any]:
    """The stored order's amounts and status."""
    with db.transaction(readonly=True) as tx:
        row = tx.fetchone(
            "SELECT id, status, amount_authorized, amount_captured, amount_refunded, amount_voided, sequence "
            "FROM orders WHERE id = ?",
            (order_id,),
        )
    assert row is not None, order_id
    keys = ("id", "status", "amount_authorized", "amount_captured", "amount_refunded", "amount_voided", "sequence")
    return {k: row[k] for k in keys}


def count_rows(db: Database, table: str, column: str, value: str) -> int:
    """How many rows of ``table`` have ``column = value`` (captures/refunds by reference, checkouts by ref)."""
    assert table in {"captures", "refunds", "checkouts", "orders"}
    assert column.isidentifier()
    with db.transaction(readonly=True) as tx:
        row = tx.fetchone(f"SELECT COUNT(*) AS n FROM {table} WHERE {column} = ?", (value,))  # noqa: S608
    return int(row["n"]) if row is not None else 0


def invariant_violations(db: Database) -> list[str]:
    """Every broken ledger invariant, as text (empty list: the ledger is sound)."""
    bad: list[str] = []
    with db.transaction(readonly=True) as tx:
        orders = tx.fetchall(
            "SELECT id, checkout_id, status, amount_authorized AS a, amount_captured AS c, amount_refunded AS r, "
            "amount_voided AS v, sequence FROM orders"
        )
        captures = tx.fetchall("SELECT order_id, amount FROM captures")
        refunds = tx.fetchall("SELECT order_id, amount FROM refunds")
        instalments = tx.fetchall("SELECT order_id, principal, interest, fee, amount, amount_paid FROM instalments")
        events = tx.fetchall("SELECT object_id, type, sequence, payload FROM events ORDER BY object_id, sequence")
        checkouts = tx.fetchall("SELECT id, status, order_id, sequence FROM checkouts")
    cap_sum: Counter[str] = Counter()
    cap_n: Counter[str] = Counter()
    for row in captures:
        cap_sum[row["order_id"]] += int(row["amount"])
        cap_n[row["order_id"]] += 1
    ref_sum: Counter[str] = Counter()
    ref_n: Counter[str] = Counter()
    for row in refunds:
        ref_sum[row["order_id"]] += int(row["amount"])
        ref_n[row["order_id"]] += 1
    principal: Counter[str] = Counter()
    paid: Counter[str] = Counter()
    for row in instalments:
        principal[row["order_id"]] += int(row["principal"])
        paid[row["order_id"]] += int(row["amount_paid"])
        if int(row["amount"]) != int(row["principal"]) + int(row["interest"]) + int(row["fee"]):
            bad.append(f"{row['order_id']}: an instalment amount is not principal + interest + fee")
    by_object: dict[str, list[Any]] = defaultdict(list)
    for row in events:
        by_object[row["object_id"]].append(row)
    for obj_id, rows in by_object.items():
        seqs = sorted({int(r["sequence"]) for r in rows})
        if seqs != list(range(1, len(seqs) + 1)):
            bad.append(f"{obj_id}: event sequences {seqs} have a gap")
    for o in orders:
        oid, a, c, r, v = o["id"], int(o["a"]), int(o["c"]), int(o["r"]), int(o["v"])
        if c + v > a:
            bad.append(f"{oid}: captured {c} + voided {v} > authorized {a}")
        if r > c:
            bad.append(f"{oid}: refunded {r} > captured {c}")
        if c != cap_sum[oid]:
            bad.append(f"{oid}: amount_captured {c} != sum of captures {cap_sum[oid]}")
        if r != ref_sum[oid]:
            bad.append(f"{oid}: amount_refunded {r} != sum of refunds {ref_sum[oid]}")
        if paid[oid] == 0 and principal[oid] != a - v - r:
            bad.append(f"{oid}: instalment principals {principal[oid]} != authorized - voided - refunded {a - v - r}")
        types = Counter(row["type"] for row in by_object.get(oid, []))
        if types["order.authorized"] != 1:
            bad.append(f"{oid}: {types['order.authorized']} order.authorized events")
        if types["order.captured"] != cap_n[oid]:
            bad.append(f"{oid}: {types['order.captured']} order.captured events for {cap_n[oid]} captures")
        if types["order.refunded"] != ref_n[oid]:
            bad.append(f"{oid}: {types['order.refunded']} order.refunded events for {ref_n[oid]} refunds")
        rows = by_object.get(oid, [])
        if rows:
            last = json.loads(rows[-1]["payload"])["data"]
            stored = {"amount_authorized": a, "amount_captured": c, "amount_refunded": r, "amount_voided": v}
            shown = {k: last.get(k) for k in stored}
            if int(o["sequence"]) == int(rows[-1]["sequence"]) and shown != stored:
                bad.append(f"{oid}: newest event shows {shown}, the order stores {stored}")
            if int(o["sequence"]) < int(rows[-1]["sequence"]):
                bad.append(f"{oid}: an event (sequence {rows[-1]['sequence']}) is ahead of the order ({o['sequence']})")
    order_by_checkout = {o["checkout_id"]: o["id"] for o in orders}
    for ch in checkouts:
        has_order = ch["id"] in order_by_checkout
        if (ch["status"] == "approved") != has_order:
            bad.append(f"{ch['id']}: status {ch['status']} but order present={has_order}")
    return bad
