"""Orders: the authorized loan behind an approved checkout: capture, refund, void, amend, list.

Every change is one transaction that locks the order row, checks the state, applies a **conditional** UPDATE
(``WHERE amount_captured + ? + amount_voided <= amount_authorized`` and the like) backed by the table's CHECK
constraints, adjusts the stored schedule, and writes the event, so concurrent requests can never over-capture
or over-refund.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from bnpl.models.orders import (
    AmendParams,
    Capture,
    CaptureParams,
    Order,
    OrderDisclosures,
    OrderInstalment,
    OrderList,
    OrderListParams,
    OrderPlan,
    Refund,
    RefundParams,
)
from bnpl.models.plans import PlanOption, PlanQuote
from bnpl.sandbox.db import Database, Row, Transaction
from bnpl.sandbox.service._common import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    dumps,
    emit_event,
    from_us,
    new_id,
    to_us,
)
from bnpl.sandbox.service.clocks import object_now
from bnpl.sandbox.service.quotes import quote
from bnpl.sandbox.service.schedule import Line, balances, reduce_principal

__all__ = [
    "amend_order",
    "capture_order",
    "get_order",
    "insert_order",
    "list_orders",
    "load_order",
    "refund_order",
    "void_order",
]

_CAPTURABLE = ("authorized", "partially_captured")


def insert_order(
    tx: Transaction,
    *,
    order_id: str,
    checkout: Row,
    offer: PlanOption,
    plan: PlanQuote,
    subsidy: int,
    start: date,
    now: datetime,
    expires: datetime,
) -> None:
    """Create the ``authorized`` order of an approved checkout and store its schedule."""
    terms = {
        "product": plan.product,
        "periods": plan.periods,
        "method": plan.method,
        "annual_interest_rate": plan.pricing.annual_interest_rate,
        "fee_rate": plan.pricing.fee_rate,
        "subsidy": subsidy,
        "start": start.isoformat(),
        "label": offer.label,
    }
    tx.execute(
        "INSERT INTO orders (id, merchant_id, checkout_id, status, merchant_reference, customer_id, currency, "
        "amount_authorized, authorization_expires_at, product, periods, method, plan_terms, annual_rates, metadata, "
        "test_clock_id, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            order_id,
            checkout["merchant_id"],
            checkout["id"],
            "authorized",
            checkout["merchant_reference"],
            checkout["customer_id"],
            checkout["currency"],
            checkout["amount"],
            to_us(expires),
            plan.product,
            plan.periods,
            plan.method,
            dumps(terms),
            dumps(plan.annual_rates),
            checkout["metadata"],
            checkout["test_clock_id"],
            to_us(now),
        ),
    )
    _store_schedule(tx, order_id, plan)


def _store_schedule(tx: Transaction, order_id: str, plan: PlanQuote) -> None:
    for i in plan.schedule:
        tx.execute(
            "INSERT INTO instalments (order_id, number, due_date, principal, interest, fee, amount, balance) "
            "VALUES (?,?,?,?,?,?,?,?)",
            (order_id, i.number, i.due_date.isoformat(), i.principal, i.interest, i.fee, i.amount, i.balance),
        )


def _order_from_rows(row: Row, inst: list[Row], caps: list[Row], refs: list[Row]) -> Order:
    schedule = [
        OrderInstalment(
            number=i["number"],
            due_date=date.fromisoformat(i["due_date"]),
            principal=i["principal"],
            interest=i["interest"],
            fee=i["fee"],
            amount=i["amount"],
            balance=i["balance"],
            status=i["status"],
            amount_paid=i["amount_paid"],
            paid_at=from_us(i["paid_at"]) if i["paid_at"] is not None else None,
        )
        for i in inst
    ]
    payable = sum(i.amount for i in schedule)
    principal = sum(i.principal for i in schedule)
    expires = row["authorization_expires_at"]
    return Order(
        id=row["id"],
        status=row["status"],
        checkout_id=row["checkout_id"],
        merchant_reference=row["merchant_reference"],
        customer_id=row["customer_id"],
        currency=row["currency"],
        amount_authorized=row["amount_authorized"],
        amount_captured=row["amount_captured"],
        amount_refunded=row["amount_refunded"],
        amount_voided=row["amount_voided"],
        authorization_expires_at=from_us(expires) if expires is not None else None,
        plan=OrderPlan(product=row["product"], periods=row["periods"], method=row["method"], schedule=schedule),
        disclosures=OrderDisclosures(
            total_payable=payable,
            total_cost_of_credit=payable - principal,
            annual_rates=json.loads(row["annual_rates"]),
        ),
        captures=[
            Capture(id=c["id"], amount=c["amount"], reference=c["reference"], created=from_us(c["created"]))
            for c in caps
        ],
        refunds=[
            Refund(
                id=r["id"],
                amount=r["amount"],
                reason=r["reason"],
                reference=r["reference"],
                created=from_us(r["created"]),
            )
            for r in refs
        ],
        created=from_us(row["created"]),
        metadata=json.loads(row["metadata"]),
    )


def _children(tx: Transaction, order_id: str) -> tuple[list[Row], list[Row], list[Row]]:
    inst = tx.fetchall("SELECT * FROM instalments WHERE order_id = ? ORDER BY number", (order_id,))
    caps = tx.fetchall("SELECT * FROM captures WHERE order_id = ? ORDER BY pk", (order_id,))
    refs = tx.fetchall("SELECT * FROM refunds WHERE order_id = ? ORDER BY pk", (order_id,))
    return inst, caps, refs


def load_order(tx: Transaction, merchant_id: str, order_id: str, *, fresh: bool = False) -> Order:
    """The full order (schedule, captures, refunds) as the merchant sees it, inside ``tx``.

    ``fresh=True`` (an order created in this transaction) skips the reads of captures and refunds: it has none.
    """
    row = tx.fetchone("SELECT * FROM orders WHERE id = ? AND merchant_id = ?", (order_id, merchant_id))
    if row is None:
        raise NotFoundError("order", order_id)
    if fresh:
        inst = tx.fetchall("SELECT * FROM instalments WHERE order_id = ? ORDER BY number", (order_id,))
        return _order_from_rows(row, inst, [], [])
    return _order_from_rows(row, *_children(tx, order_id))


def get_order(db: Database, merchant_id: str, order_id: str) -> Order:
    """One of the merchant's orders (404 for anyone else's)."""
    with db.transaction(readonly=True) as tx:
        return load_order(tx, merchant_id, order_id)


def list_orders(db: Database, merchant_id: str, params: OrderListParams) -> OrderList:
    """Newest first, filtered by status, customer and creation window."""
    sql = "SELECT * FROM orders WHERE merchant_id = ?"
    args: list[Any] = [merchant_id]
    with db.transaction(readonly=True) as tx:
        if params.starting_after is not None:
            anchor = tx.fetchone(
                "SELECT pk FROM orders WHERE id = ? AND merchant_id = ?", (params.starting_after, merchant_id)
            )
            if anchor is None:
                raise InvalidRequestError(
                    "starting_after is not one of your orders", code="resource_missing", param="starting_after"
                )
            sql += " AND pk < ?"
            args.append(anchor["pk"])
        for column, op, value in (
            ("status", "=", params.status),
            ("customer_id", "=", params.customer_id),
            ("created", ">=", to_us(params.created_gte) if params.created_gte else None),
            ("created", "<=", to_us(params.created_lte) if params.created_lte else None),
        ):
            if value is not None:
                sql += f" AND {column} {op} ?"
                args.append(value)
        rows = tx.fetchall(sql + " ORDER BY pk DESC LIMIT ?", [*args, params.limit + 1])
        data = [_order_from_rows(r, *_children(tx, r["id"])) for r in rows[: params.limit]]
    more = len(rows) > params.limit
    return OrderList(data=data, has_more=more, next_cursor=data[-1].id if more and data else None)


def _lock(tx: Transaction, merchant_id: str, order_id: str) -> Row:
    # The no-op UPDATE takes the row lock (PostgreSQL; SQLite already holds the write lock) before any check.
    row = tx.fetchone(
        "UPDATE orders SET sequence = sequence WHERE id = ? AND merchant_id = ? RETURNING *", (order_id, merchant_id)
    )
    if row is None:
        raise NotFoundError("order", order_id)
    return row


def derive_status(
    current: str, authorized: int, captured: int, refunded: int, voided: int, *, overdue: bool = False
) -> str:
    """The order status implied by its amounts (repayment states set by the clock are kept).

    ``overdue`` (an instalment is still overdue) wins over every amount-based status: a partial refund or a
    capture does not take an order out of arrears; only paying or waiving the overdue instalments does.
    """
    if overdue and captured > refunded:
        return "in_arrears"
    if captured == 0:
        if authorized > 0 and voided == authorized:
            return "voided"
        return current if current in ("authorized", "expired") else "authorized"
    if refunded > 0:
        return "refunded" if refunded == captured and captured + voided == authorized else "partially_refunded"
    if current == "paid_off":
        return current
    return "captured" if captured + voided == authorized else "partially_captured"


def _lines(tx: Transaction, order_id: str) -> list[Line]:
    return [
        Line(r["number"], r["principal"], r["interest"], r["fee"], r["amount_paid"], r["status"])
        for r in tx.fetchall("SELECT * FROM instalments WHERE order_id = ? ORDER BY number", (order_id,))
    ]


def _write_lines(tx: Transaction, order_id: str, lines: list[Line]) -> None:
    for line, balance in zip(lines, balances(lines), strict=True):
        tx.execute(
            "UPDATE instalments SET principal = ?, interest = ?, fee = ?, amount = ?, balance = ?, status = ? "
            "WHERE order_id = ? AND number = ?",
            (line.principal, line.interest, line.fee, line.amount, balance, line.status, order_id, line.number),
        )


def _reduce_schedule(tx: Transaction, order_id: str, amount: int) -> None:
    if amount > 0:
        lines, _returned = reduce_principal(_lines(tx, order_id), amount)
        _write_lines(tx, order_id, lines)


def _set_amounts(tx: Transaction, row: Row, captured: int, refunded: int, voided: int) -> None:
    # Call after the schedule has been reduced: a refund that waives the overdue instalments ends arrears.
    # Only an order in arrears has overdue instalments (the clock marks both in one step), so others skip the read.
    overdue = row["status"] == "in_arrears" and (
        tx.fetchone("SELECT 1 AS x FROM instalments WHERE order_id = ? AND status = 'overdue' LIMIT 1", (row["id"],))
        is not None
    )
    status = derive_status(row["status"], row["amount_authorized"], captured, refunded, voided, overdue=overdue)
    tx.execute(
        "UPDATE orders SET amount_captured = ?, amount_refunded = ?, amount_voided = ?, status = ? WHERE id = ?",
        (captured, refunded, voided, status, row["id"]),
    )


def _check_authorization(row: Row, now: datetime) -> None:
    if row["status"] not in _CAPTURABLE:
        raise ConflictError(
            f"order {row['id']} is {row['status']}; only an authorized order can be captured",
            code="order_not_capturable",
        )
    expires = row["authorization_expires_at"]
    if expires is not None and to_us(now) >= int(expires):
        raise ConflictError(
            f"the authorization of order {row['id']} expired at {from_us(expires).isoformat()}",
            code="authorization_expired",
        )


def capture_order(db: Database, merchant_id: str, order_id: str, params: CaptureParams, now: datetime) -> Order:
    """Capture ``params.amount`` (default: everything capturable); ``final_capture`` voids the rest.

    400 ``amount_exceeds_capturable`` (param ``amount``) when more than what is left is asked for.
    """
    with db.transaction() as tx:
        row = _lock(tx, merchant_id, order_id)
        now = object_now(tx, row["test_clock_id"], now)
        _check_authorization(row, now)
        capturable = row["amount_authorized"] - row["amount_captured"] - row["amount_voided"]
        amount = params.amount if params.amount is not None else capturable
        if amount > capturable or amount <= 0:
            raise InvalidRequestError(
                f"amount {amount} exceeds what can still be captured ({capturable})",
                code="amount_exceeds_capturable",
                param="amount",
            )
        # Enforced where the data lives too: this UPDATE matches nothing if a concurrent capture got there first.
        changed = tx.execute(
            "UPDATE orders SET amount_captured = amount_captured + ? "
            "WHERE id = ? AND amount_captured + amount_voided + ? <= amount_authorized",
            (amount, order_id, amount),
        )
        if changed != 1:
            raise InvalidRequestError(
                "amount exceeds what can still be captured", code="amount_exceeds_capturable", param="amount"
            )
        captured = row["amount_captured"] + amount
        voided = row["amount_voided"]
        release = row["amount_authorized"] - captured - voided if params.final_capture else 0
        _set_amounts(tx, row, captured, row["amount_refunded"], voided + release)
        _reduce_schedule(tx, order_id, release)
        tx.execute(
            "INSERT INTO captures (id, order_id, amount, reference, created) VALUES (?,?,?,?,?)",
            (new_id("cap_"), order_id, amount, params.reference, to_us(now)),
        )
        order = load_order(tx, merchant_id, order_id)
        emit_event(tx, merchant_id, "order.captured", order_id, order.model_dump_json(), now)
    return order


def refund_order(db: Database, merchant_id: str, order_id: str, params: RefundParams, now: datetime) -> Order:
    """Refund ``params.amount`` out of what was captured; the schedule shrinks by the documented rule.

    400 ``amount_exceeds_refundable`` (param ``amount``) when more than captured − refunded is asked for.
    """
    with db.transaction() as tx:
        row = _lock(tx, merchant_id, order_id)
        now = object_now(tx, row["test_clock_id"], now)
        refundable = row["amount_captured"] - row["amount_refunded"]
        if refundable == 0:
            raise ConflictError(f"order {order_id} has nothing captured left to refund", code="nothing_to_refund")
        if params.amount > refundable:
            raise InvalidRequestError(
                f"amount {params.amount} exceeds what can still be refunded ({refundable})",
                code="amount_exceeds_refundable",
                param="amount",
            )
        changed = tx.execute(
            "UPDATE orders SET amount_refunded = amount_refunded + ? "
            "WHERE id = ? AND amount_refunded + ? <= amount_captured",
            (params.amount, order_id, params.amount),
        )
        if changed != 1:
            raise InvalidRequestError(
                "amount exceeds what can still be refunded", code="amount_exceeds_refundable", param="amount"
            )
        _reduce_schedule(tx, order_id, params.amount)
        _set_amounts(tx, row, row["amount_captured"], row["amount_refunded"] + params.amount, row["amount_voided"])
        tx.execute(
            "INSERT INTO refunds (id, order_id, amount, reason, reference, created) VALUES (?,?,?,?,?,?)",
            (new_id("re_"), order_id, params.amount, params.reason, params.reference, to_us(now)),
        )
        order = load_order(tx, merchant_id, order_id)
        emit_event(tx, merchant_id, "order.refunded", order_id, order.model_dump_json(), now)
    return order


def void_order(db: Database, merchant_id: str, order_id: str, now: datetime) -> Order:
    """Release everything not captured (``order.voided``); 409 ``nothing_to_void`` when nothing is left."""
    with db.transaction() as tx:
        row = _lock(tx, merchant_id, order_id)
        now = object_now(tx, row["test_clock_id"], now)
        release = row["amount_authorized"] - row["amount_captured"] - row["amount_voided"]
        if release == 0 or row["status"] in ("voided", "expired"):
            raise ConflictError(f"order {order_id} has no uncaptured authorization to void", code="nothing_to_void")
        tx.execute(
            "UPDATE orders SET amount_voided = amount_voided + ? "
            "WHERE id = ? AND amount_captured + amount_voided + ? <= amount_authorized",
            (release, order_id, release),
        )
        _reduce_schedule(tx, order_id, release)
        _set_amounts(tx, row, row["amount_captured"], row["amount_refunded"], row["amount_voided"] + release)
        order = load_order(tx, merchant_id, order_id)
        emit_event(tx, merchant_id, "order.voided", order_id, order.model_dump_json(), now)
    return order


def amend_order(db: Database, merchant_id: str, order_id: str, params: AmendParams, now: datetime) -> Order:
    """Lower the authorization to ``params.new_amount`` before any instalment is paid or anything voided.

    The plan is re-priced from scratch on the new amount (same product, periods, method, rates and start date).
    400 (param ``new_amount``) unless captured ≤ new_amount < authorized; 409 once payments or voids happened.
    """
    with db.transaction() as tx:
        row = _lock(tx, merchant_id, order_id)
        now = object_now(tx, row["test_clock_id"], now)
        if params.currency is not None and params.currency != row["currency"]:
            raise InvalidRequestError(
                f"currency must be the order currency {row['currency']}", code="currency_mismatch", param="currency"
            )
        _check_authorization(row, now)
        if row["amount_voided"]:
            raise ConflictError("an order with a voided amount cannot be amended", code="order_not_amendable")
        if not row["amount_captured"] <= params.new_amount < row["amount_authorized"]:
            raise InvalidRequestError(
                f"new_amount must be below the authorization ({row['amount_authorized']}) and at least what was "
                f"captured ({row['amount_captured']})",
                code="parameter_invalid",
                param="new_amount",
            )
        if any(not line.open for line in _lines(tx, order_id)):
            raise ConflictError("instalments were already paid: refund instead", code="order_not_amendable")
        terms = json.loads(row["plan_terms"])
        plan = quote(
            params.new_amount,
            row["currency"],
            terms["product"],
            terms["periods"],
            terms["method"],
            Decimal(terms["annual_interest_rate"]),
            Decimal(terms["fee_rate"]),
            int(terms["subsidy"]),
            date.fromisoformat(terms["start"]),
        )
        tx.execute("DELETE FROM instalments WHERE order_id = ?", (order_id,))
        _store_schedule(tx, order_id, plan)
        tx.execute(
            "UPDATE orders SET amount_authorized = ?, annual_rates = ? WHERE id = ? AND amount_captured <= ?",
            (params.new_amount, dumps(plan.annual_rates), order_id, params.new_amount),
        )
        tx.execute(
            "UPDATE orders SET status = ? WHERE id = ?",
            (
                derive_status(row["status"], params.new_amount, row["amount_captured"], row["amount_refunded"], 0),
                order_id,
            ),
        )
        order = load_order(tx, merchant_id, order_id)
    return order
