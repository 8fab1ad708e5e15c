"""One simulation step on one object, inside the caller's transaction, stamped at the step's simulated time.

Every step re-checks its precondition on the locked row with a conditional UPDATE (``WHERE status = …``), so a
step that is stale (a payment already made, a reminder already sent, a checkout already closed) does nothing:
re-running a crashed advance, or two advances racing, never repeats an effect or an event.

Collections follow the customer's persona (:meth:`bnpl.sandbox.personas.Persona.repayment_behaviour`;
customers without one pay): ``pay`` collects the instalment; ``fail`` marks it failed (overdue after the grace
period unless collected before); ``catch_up`` collects every earlier unpaid instalment and this one;
``pay_off`` collects everything still open, this and later instalments in full (the sandbox rebates no
interest on early settlement, so the paid total always equals the schedule). A waived instalment (reduced
to 0 by a refund) is never collected. When nothing is left open the order is ``paid_off``.
"""

from __future__ import annotations

from datetime import date
from typing import Final

from bnpl.models.events import InstalmentNotice, InstalmentOverdueNotice, OrderAuthorizationNotice
from bnpl.sandbox.clock_credit import customer_persona
from bnpl.sandbox.clock_plan import REPAYABLE_STATUSES, Action, ClockPolicy
from bnpl.sandbox.db import Row, Transaction
from bnpl.sandbox.personas import RepaymentAction
from bnpl.sandbox.service._common import emit_event, from_us
from bnpl.sandbox.service.orders import load_order
from bnpl.sandbox.service.schedule import Line, balances, reduce_principal

__all__ = ["collect", "expire_authorization", "expire_checkout", "mark_overdue", "remind", "settle", "warn_expiry"]

_OPEN: Final = ("scheduled", "failed", "overdue")


def _lock_order(tx: Transaction, order_id: str) -> Row | None:
    # The no-op UPDATE takes the row lock (PostgreSQL; SQLite already holds the write lock).
    return tx.fetchone("UPDATE orders SET sequence = sequence WHERE id = ? RETURNING *", (order_id,))


def _repayable(order: Row) -> bool:
    return (
        order["status"] in REPAYABLE_STATUSES
        and order["amount_captured"] > 0
        and order["amount_captured"] + order["amount_voided"] == order["amount_authorized"]
    )


def _instalment(tx: Transaction, order_id: str, number: int) -> Row | None:
    return tx.fetchone("SELECT * FROM instalments WHERE order_id = ? AND number = ?", (order_id, number))


def _reread(tx: Transaction, order_id: str, number: int) -> Row:
    # The row was just updated in this transaction, so it is there.
    row = _instalment(tx, order_id, number)
    if row is None:  # pragma: no cover - would mean the schema lost a row mid-transaction
        raise RuntimeError(f"instalment {number} of {order_id} vanished")
    return row


def _notice(tx: Transaction, order: Row, inst: Row, amount: int) -> InstalmentNotice:
    return InstalmentNotice(
        order=load_order(tx, order["merchant_id"], order["id"]),
        instalment_number=inst["number"],
        due_date=date.fromisoformat(inst["due_date"]),
        amount=amount,
        currency=order["currency"],
    )


def _base_status(order: Row) -> str:
    return "partially_refunded" if order["amount_refunded"] > 0 else "captured"


def _behaviour(tx: Transaction, order: Row, number: int) -> RepaymentAction:
    if order["customer_id"] is None:
        return "pay"
    customer = tx.fetchone("SELECT * FROM customers WHERE id = ?", (order["customer_id"],))
    persona = customer_persona(customer) if customer is not None else None
    return persona.repayment_behaviour(number) if persona is not None else "pay"


def expire_checkout(tx: Transaction, action: Action) -> int:
    """An open checkout past ``expires_at`` becomes ``expired`` (``checkout.expired``)."""
    from bnpl.sandbox.service.checkouts import checkout_from_row

    row = tx.fetchone(
        "UPDATE checkouts SET status = 'expired' WHERE id = ? AND status = 'open' AND expires_at <= ? RETURNING *",
        (action.object_id, action.at),
    )
    if row is None:
        return 0
    emit_event(
        tx,
        row["merchant_id"],
        "checkout.expired",
        row["id"],
        checkout_from_row(row).model_dump_json(),
        from_us(action.at),
    )
    return 1


def _uncaptured(order: Row) -> int:
    return int(order["amount_authorized"] - order["amount_captured"] - order["amount_voided"])


def warn_expiry(tx: Transaction, action: Action) -> int:
    """``order.authorization_expiring`` before an authorization with an uncaptured amount lapses (once)."""
    order = _lock_order(tx, action.object_id)
    if (
        order is None
        or order["expiry_warned"] is not None
        or _uncaptured(order) <= 0
        or order["status"] in ("voided", "expired")
        or order["authorization_expires_at"] is None
        or int(order["authorization_expires_at"]) <= action.at
    ):
        return 0
    tx.execute("UPDATE orders SET expiry_warned = ? WHERE id = ?", (action.at, order["id"]))
    notice = OrderAuthorizationNotice(
        order=load_order(tx, order["merchant_id"], order["id"]), expires_at=from_us(order["authorization_expires_at"])
    )
    emit_event(
        tx,
        order["merchant_id"],
        "order.authorization_expiring",
        order["id"],
        notice.model_dump_json(),
        from_us(action.at),
    )
    return 1


def expire_authorization(tx: Transaction, action: Action) -> int:
    """The uncaptured amount is released at ``authorization_expires_at`` (``order.authorization_expired``).

    Nothing captured: the order becomes ``expired``. Partly captured: the rest is voided and the schedule
    shrinks by the core's refund rule, so the order becomes repayable on what was captured.
    """
    order = _lock_order(tx, action.object_id)
    if order is None or order["status"] in ("voided", "expired") or _uncaptured(order) <= 0:
        return 0
    expires = order["authorization_expires_at"]
    if expires is None or int(expires) > action.at:
        return 0
    oid = order["id"]
    if order["amount_captured"] == 0:
        tx.execute("UPDATE orders SET status = 'expired' WHERE id = ?", (oid,))
    else:
        release = _uncaptured(order)
        tx.execute(
            "UPDATE orders SET amount_voided = amount_voided + ?, status = ? WHERE id = ? "
            "AND amount_captured + amount_voided + ? <= amount_authorized",
            (release, _base_status(order), oid, release),
        )
        rows = tx.fetchall("SELECT * FROM instalments WHERE order_id = ? ORDER BY number", (oid,))
        lines, _ = reduce_principal(
            [Line(r["number"], r["principal"], r["interest"], r["fee"], r["amount_paid"], r["status"]) for r in rows],
            release,
        )
        for line, balance in zip(lines, balances(lines), strict=True):
            tx.execute(
                "UPDATE instalments SET principal = ?, interest = ?, fee = ?, amount = ?, balance = ?, status = ? "
                "WHERE order_id = ? AND number = ?",
                (line.principal, line.interest, line.fee, line.amount, balance, line.status, oid, line.number),
            )
    snapshot = load_order(tx, order["merchant_id"], oid)
    emit_event(
        tx, order["merchant_id"], "order.authorization_expired", oid, snapshot.model_dump_json(), from_us(action.at)
    )
    return 1


def remind(tx: Transaction, action: Action) -> int:
    """``order.instalment_due_soon`` for a scheduled instalment (once: ``reminder_sent`` is set)."""
    order = _lock_order(tx, action.object_id)
    if order is None or not _repayable(order):
        return 0
    changed = tx.execute(
        "UPDATE instalments SET reminder_sent = ? WHERE order_id = ? AND number = ? AND status = 'scheduled' "
        "AND reminder_sent IS NULL AND amount > amount_paid",
        (action.at, order["id"], action.number),
    )
    inst = _instalment(tx, order["id"], action.number)
    if changed != 1 or inst is None:
        return 0
    notice = _notice(tx, order, inst, inst["amount"] - inst["amount_paid"])
    emit_event(
        tx, order["merchant_id"], "order.instalment_due_soon", order["id"], notice.model_dump_json(), from_us(action.at)
    )
    return 1


def _pay(tx: Transaction, order: Row, number: int, at: int) -> int:
    inst = _instalment(tx, order["id"], number)
    if inst is None or inst["status"] not in _OPEN or inst["amount"] <= inst["amount_paid"]:
        return 0
    due = inst["amount"] - inst["amount_paid"]
    changed = tx.execute(
        "UPDATE instalments SET amount_paid = amount, status = 'paid', paid_at = ? WHERE order_id = ? "
        "AND number = ? AND status = ?",
        (at, order["id"], number, inst["status"]),
    )
    if changed != 1:
        return 0
    paid = _reread(tx, order["id"], number)
    emit_event(
        tx,
        order["merchant_id"],
        "order.instalment_paid",
        order["id"],
        _notice(tx, order, paid, due).model_dump_json(),
        from_us(at),
    )
    return 1


def _close_if_done(tx: Transaction, order_id: str, at: int) -> int:
    """After payments: leave arrears when nothing is overdue; ``paid_off`` when nothing is open."""
    order = _lock_order(tx, order_id)
    if order is None or not _repayable(order):
        return 0
    left = tx.fetchone(
        "SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN status = 'overdue' THEN 1 ELSE 0 END), 0) AS overdue "
        "FROM instalments WHERE order_id = ? AND status NOT IN ('paid', 'waived')",
        (order_id,),
    )
    if left is None:  # pragma: no cover - an aggregate always answers one row
        return 0
    if int(left["n"]) == 0:
        paid = tx.fetchone("SELECT COUNT(*) AS n FROM instalments WHERE order_id = ? AND status = 'paid'", (order_id,))
        if paid is None or int(paid["n"]) == 0:
            return 0  # everything waived: a refund closed it, not a repayment
        tx.execute("UPDATE orders SET status = 'paid_off' WHERE id = ?", (order_id,))
        emit_event(
            tx,
            order["merchant_id"],
            "order.paid_off",
            order_id,
            load_order(tx, order["merchant_id"], order_id).model_dump_json(),
            from_us(at),
        )
        return 1
    if order["status"] == "in_arrears" and int(left["overdue"]) == 0:
        tx.execute("UPDATE orders SET status = ? WHERE id = ?", (_base_status(order), order_id))
    return 0


def collect(tx: Transaction, action: Action) -> tuple[int, bool]:
    """Collect instalment ``action.number`` by the persona's behaviour; return ``(events, failed)``."""
    order = _lock_order(tx, action.object_id)
    if order is None or not _repayable(order):
        return 0, False
    inst = _instalment(tx, order["id"], action.number)
    if inst is None or inst["status"] != "scheduled" or inst["amount"] <= inst["amount_paid"]:
        return 0, False
    behaviour = _behaviour(tx, order, action.number)
    if behaviour == "fail":
        tx.execute(
            "UPDATE instalments SET status = 'failed' WHERE order_id = ? AND number = ? AND status = 'scheduled'",
            (order["id"], action.number),
        )
        failed = _reread(tx, order["id"], action.number)
        notice = _notice(tx, order, failed, inst["amount"] - inst["amount_paid"])
        emit_event(
            tx,
            order["merchant_id"],
            "order.instalment_failed",
            order["id"],
            notice.model_dump_json(),
            from_us(action.at),
        )
        return 1, True
    if behaviour == "pay":
        numbers = [action.number]
    else:
        rows = tx.fetchall(
            "SELECT number FROM instalments WHERE order_id = ? AND status IN ('scheduled', 'failed', 'overdue') "
            "AND amount > amount_paid ORDER BY number",
            (order["id"],),
        )
        numbers = [
            r["number"]
            for r in rows
            if behaviour == "pay_off" or r["number"] <= action.number  # catch_up: earlier unpaid ones + this one
        ]
    events = sum(_pay(tx, order, n, action.at) for n in numbers)
    return events + _close_if_done(tx, order["id"], action.at), False


def mark_overdue(tx: Transaction, action: Action, policy: ClockPolicy) -> int:
    """A failed instalment still unpaid after the grace period: ``overdue``, the order ``in_arrears``."""
    order = _lock_order(tx, action.object_id)
    if order is None or not _repayable(order):
        return 0
    changed = tx.execute(
        "UPDATE instalments SET status = 'overdue' WHERE order_id = ? AND number = ? AND status = 'failed' "
        "AND amount > amount_paid",
        (order["id"], action.number),
    )
    if changed != 1:
        return 0
    tx.execute("UPDATE orders SET status = 'in_arrears' WHERE id = ?", (order["id"],))
    inst = _reread(tx, order["id"], action.number)
    base = _notice(tx, order, inst, inst["amount"] - inst["amount_paid"])
    notice = InstalmentOverdueNotice(**dict(base), days_overdue=policy.grace_days)
    emit_event(
        tx, order["merchant_id"], "order.instalment_overdue", order["id"], notice.model_dump_json(), from_us(action.at)
    )
    return 1


def settle(tx: Transaction, action: Action) -> int:
    """An order left with nothing open (e.g. a refund waived the rest) is closed as ``paid_off``."""
    return _close_if_done(tx, action.object_id, action.at)
