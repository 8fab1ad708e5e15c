"""Customers of the lender (shared across merchants) and what the lender knows of their history."""

from __future__ import annotations

from dataclasses import dataclass

from bnpl.models.customers import CustomerInfo
from bnpl.sandbox.db import Row, Transaction
from bnpl.sandbox.service._common import InvalidRequestError, new_id

__all__ = ["HistoryRow", "credit_in_use", "customer_history", "identity_of", "resolve_customer"]


def identity_of(merchant_id: str, info: CustomerInfo) -> str:
    """How the lender recognises a person across merchants: the national-id hash, else the phone, else the
    email; a bare merchant reference only identifies the customer within that merchant."""
    if info.national_id_hash:
        return "nid:" + info.national_id_hash
    if info.phone:
        return "phone:" + info.phone
    if info.email:
        return "email:" + info.email.lower()
    return f"ref:{merchant_id}:{info.reference}"


def resolve_customer(
    tx: Transaction, merchant_id: str, info: CustomerInfo, *, test_clock_id: str | None, now_us: int
) -> Row:
    """The customer row for ``info``, created on first sight (concurrent first sights create one row)."""
    if info.id is not None:
        row = tx.fetchone("SELECT * FROM customers WHERE id = ?", (info.id,))
        if row is None:
            raise InvalidRequestError(
                f"No such customer: {info.id!r}; omit customer.id for a new customer",
                code="resource_missing",
                param="customer.id",
            )
        return row
    identity = identity_of(merchant_id, info)
    tx.execute(
        "INSERT INTO customers (id, identity, reference, email, phone, national_id_hash, country, test_clock_id, "
        "created) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (identity) DO NOTHING",
        (
            new_id("cus_"),
            identity,
            info.reference,
            info.email,
            info.phone,
            info.national_id_hash,
            info.country,
            test_clock_id,
            now_us,
        ),
    )
    row = tx.fetchone("SELECT * FROM customers WHERE identity = ?", (identity,))
    if row is None:  # pragma: no cover - inserted above or already there, in this transaction
        raise InvalidRequestError("customer could not be recorded", code="customer_conflict")
    return row


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """Aggregates over the customer's orders with this lender (all merchants)."""

    orders_count: int
    paid_off_count: int
    overdue_count: int
    outstanding_minor: int


def customer_history(tx: Transaction, customer_id: str) -> HistoryRow:
    """Order counts and the credit still in use (authorized − voided − refunded − repaid, active orders)."""
    row = tx.fetchone(
        "SELECT COUNT(*) AS n, "
        "COALESCE(SUM(CASE WHEN status = 'paid_off' THEN 1 ELSE 0 END), 0) AS paid, "
        "(SELECT COUNT(*) FROM instalments i JOIN orders o2 ON o2.id = i.order_id WHERE o2.customer_id = ? "
        "AND i.status = 'overdue') AS overdue, "
        "COALESCE(SUM(CASE WHEN status NOT IN ('voided', 'expired', 'paid_off') "
        "THEN amount_authorized - amount_voided - amount_refunded ELSE 0 END), 0) AS outstanding "
        "FROM orders WHERE customer_id = ?",
        (customer_id, customer_id),
    )
    if row is None:  # pragma: no cover - an aggregate always returns a row
        raise InvalidRequestError("history unavailable")
    repaid = _principal_repaid(tx, customer_id) if int(row["outstanding"]) else 0
    return HistoryRow(
        orders_count=int(row["n"]),
        paid_off_count=int(row["paid"]),
        overdue_count=int(row["overdue"]),
        outstanding_minor=max(0, int(row["outstanding"]) - repaid),
    )


def credit_in_use(tx: Transaction, customer_id: str) -> int:
    """The customer's credit in use across merchants (authorized − voided − refunded − principal repaid, on
    active orders): the same figure as ``customer_history(...).outstanding_minor``, in one indexed query for a
    customer without active orders (the approval hot path)."""
    row = tx.fetchone(
        "SELECT COALESCE(SUM(amount_authorized - amount_voided - amount_refunded), 0) AS outstanding "
        "FROM orders WHERE customer_id = ? AND status NOT IN ('voided', 'expired', 'paid_off')",
        (customer_id,),
    )
    outstanding = int(row["outstanding"]) if row is not None else 0
    return max(0, outstanding - _principal_repaid(tx, customer_id)) if outstanding else 0


def _principal_repaid(tx: Transaction, customer_id: str) -> int:
    row = tx.fetchone(
        "SELECT COALESCE(SUM(i.amount_paid - i.interest - i.fee), 0) AS repaid FROM instalments i "
        "JOIN orders o ON o.id = i.order_id WHERE o.customer_id = ? "
        "AND o.status NOT IN ('voided', 'expired', 'paid_off') "
        "AND i.amount_paid > i.interest + i.fee",
        (customer_id,),
    )
    return int(row["repaid"]) if row is not None else 0
