"""Checkouts: open (with the credit decision taken at once), cancel, approve into an order, decline, list."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bnpl.models.checkouts import Checkout, CheckoutCreateParams, CheckoutList, CheckoutListParams
from bnpl.models.customers import CustomerInfo
from bnpl.models.orders import Order
from bnpl.models.plans import PlanFilter, PlanOption, PlanQuote
from bnpl.money import Money
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
from bnpl.sandbox.service.clocks import clock_now, object_now
from bnpl.sandbox.service.customers import credit_in_use, resolve_customer
from bnpl.sandbox.service.decisions import decide
from bnpl.sandbox.service.orders import insert_order, load_order
from bnpl.sandbox.service.quotes import OfferTerms, option_of, quote

__all__ = [
    "OfferedPlan",
    "approve_checkout",
    "cancel_checkout",
    "checkout_owner",
    "create_checkout",
    "decline_checkout",
    "get_checkout",
    "list_checkouts",
    "offered_plans",
]

TEST_CLOCK_METADATA_KEY = "test_clock"
"""Attach a checkout (and a new customer) to a test clock with ``metadata={"test_clock": "clk_…"}``."""


def checkout_from_row(row: Row | Mapping[str, Any]) -> Checkout:
    """The response model of a checkouts row."""
    return Checkout(
        id=row["id"],
        status=row["status"],
        amount=row["amount"],
        currency=row["currency"],
        merchant_reference=row["merchant_reference"],
        approval_url=row["approval_url"],
        return_url=row["return_url"],
        cancel_url=row["cancel_url"],
        expires_at=from_us(row["expires_at"]),
        order_id=row["order_id"],
        customer_id=row["customer_id"],
        decline_reason=row["decline_reason"],
        created=from_us(row["created"]),
        metadata=json.loads(row["metadata"]),
    )


def _matches(terms: OfferTerms, filters: list[PlanFilter] | None) -> bool:
    if filters is None:
        return True
    product, periods, method = terms[0], terms[1], terms[2]
    return any(
        f.product == product
        and (f.periods is None or product != "monthly" or periods in f.periods)
        and (f.method is None or f.method == method)
        for f in filters
    )


_INSERT_CHECKOUT = (
    "INSERT INTO checkouts (id, merchant_id, status, amount, currency, merchant_reference, approval_url, "
    "return_url, cancel_url, expires_at, customer_id, decline_reason, category, test_clock_id, request, "
    "offers, metadata, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def _category(params: CheckoutCreateParams) -> str:
    # The basket's dominant category (by value) drives the risk rules.
    return max(params.items, key=lambda item: item.total_amount).category


def create_checkout(
    db: Database,
    merchant_id: str,
    params: CheckoutCreateParams,
    *,
    now: datetime,
    approval_url_for: Any,
    test_clock_id: str | None = None,
) -> Checkout:
    """Open a checkout and take the credit decision now (milliseconds).

    Declined checkouts are created ``declined`` with a ``decline_reason`` and a ``checkout.declined`` event;
    approved ones stay ``open`` with their offered plans priced and stored until the customer picks one.
    ``approval_url_for(checkout_id) -> str`` builds the hosted-page URL (with its signed token).
    """
    checkout_id = new_id("chk_")
    clock_id = test_clock_id or params.metadata.get(TEST_CLOCK_METADATA_KEY)
    with db.transaction() as tx:
        if clock_id is not None:
            now = clock_now(tx, merchant_id, clock_id)
        if params.expires_at is not None:
            expires = params.expires_at
            if expires <= now:
                raise InvalidRequestError(
                    "expires_at must be in the future", code="parameter_invalid", param="expires_at"
                )
        else:
            expires = now + timedelta(seconds=params.expires_in_seconds or 30 * 60)
        now_us = to_us(now)
        info = params.customer or CustomerInfo(reference=f"guest_{checkout_id[4:]}")
        customer = resolve_customer(tx, merchant_id, info, test_clock_id=clock_id, now_us=now_us)
        category = _category(params)
        outcome = decide(tx, customer, info, Money(params.amount, params.currency), category=category, now=now)
        offers = [t for t in outcome.offers if _matches(t, params.allowed_plans)] if outcome.approved else []
        start = now.date()
        subsidy = params.merchant_subsidy_percent or 0
        priced: list[OfferTerms] = []
        for terms in offers:
            try:
                quote(params.amount, params.currency, terms[0], terms[1], terms[2], terms[3], terms[4], subsidy, start)
            except ValueError:
                continue  # a plan the amount cannot be split into is simply not offered
            priced.append(terms)
        reason = outcome.decline_reason
        if outcome.approved and not priced:
            reason = "no_eligible_plan"
        status = "open" if outcome.approved and priced else "declined"
        stored_offers = dumps(
            {
                "start": start.isoformat(),
                "subsidy": subsidy,
                "terms": [[p, n, m, str(a), str(f), label] for p, n, m, a, f, label in priced],
                "score": outcome.score,
                "persona": outcome.persona,
                "limit": outcome.credit_limit,
            }
        )
        values = {
            "id": checkout_id,
            "merchant_id": merchant_id,
            "status": status,
            "amount": params.amount,
            "currency": params.currency,
            "merchant_reference": params.merchant_reference,
            "approval_url": approval_url_for(checkout_id),
            "return_url": params.return_url,
            "cancel_url": params.cancel_url,
            "expires_at": to_us(expires),
            "customer_id": customer["id"],
            "decline_reason": None if status == "open" else (reason or "declined"),
            "category": category,
            "test_clock_id": clock_id,
            "request": params.model_dump_json(exclude={"metadata"}),
            "offers": stored_offers,
            "metadata": dumps(params.metadata),
            "created": now_us,
        }
        tx.execute(_INSERT_CHECKOUT, tuple(values.values()))
        # The response is built from what was just inserted (a new row has no defaults we don't know).
        values["order_id"] = None
        checkout = checkout_from_row(values)
        if status == "declined":
            emit_event(tx, merchant_id, "checkout.declined", checkout_id, checkout.model_dump_json(), now)
    return checkout


def _fetch(tx: Transaction, merchant_id: str, checkout_id: str) -> Row:
    row = tx.fetchone("SELECT * FROM checkouts WHERE id = ? AND merchant_id = ?", (checkout_id, merchant_id))
    if row is None:
        raise NotFoundError("checkout", checkout_id)
    return row


def _lock(tx: Transaction, merchant_id: str, checkout_id: str) -> Row:
    # A no-op UPDATE takes the row lock (PostgreSQL) before we read the state we are about to change.
    row = tx.fetchone(
        "UPDATE checkouts SET sequence = sequence WHERE id = ? AND merchant_id = ? RETURNING *",
        (checkout_id, merchant_id),
    )
    if row is None:
        raise NotFoundError("checkout", checkout_id)
    return row


def get_checkout(db: Database, merchant_id: str, checkout_id: str) -> Checkout:
    """One of the merchant's checkouts (404 for anyone else's)."""
    row = db.read_one("SELECT * FROM checkouts WHERE id = ? AND merchant_id = ?", (checkout_id, merchant_id))
    if row is None:
        raise NotFoundError("checkout", checkout_id)
    return checkout_from_row(row)


def list_checkouts(db: Database, merchant_id: str, params: CheckoutListParams) -> CheckoutList:
    """Newest first; ``starting_after`` continues after that checkout."""
    sql = "SELECT * FROM checkouts WHERE merchant_id = ?"
    args: list[Any] = [merchant_id]
    with db.transaction(readonly=True) as tx:
        if params.starting_after is not None:
            anchor = tx.fetchone(
                "SELECT pk FROM checkouts WHERE id = ? AND merchant_id = ?", (params.starting_after, merchant_id)
            )
            if anchor is None:
                raise InvalidRequestError(
                    "starting_after is not one of your checkouts", code="resource_missing", param="starting_after"
                )
            sql += " AND pk < ?"
            args.append(anchor["pk"])
        if params.status is not None:
            sql += " AND status = ?"
            args.append(params.status)
        rows = tx.fetchall(sql + " ORDER BY pk DESC LIMIT ?", [*args, params.limit + 1])
    data = [checkout_from_row(r) for r in rows[: params.limit]]
    more = len(rows) > params.limit
    return CheckoutList(data=data, has_more=more, next_cursor=data[-1].id if more and data else None)


def _expire_if_due(tx: Transaction, row: Row, now: datetime) -> bool:
    if row["status"] == "open" and to_us(now) >= int(row["expires_at"]):
        tx.execute("UPDATE checkouts SET status = 'expired' WHERE id = ? AND status = 'open'", (row["id"],))
        snap = checkout_from_row(_fetch(tx, row["merchant_id"], row["id"]))
        emit_event(tx, row["merchant_id"], "checkout.expired", row["id"], snap.model_dump_json(), now)
        return True
    return False


def _close(
    db: Database, merchant_id: str, checkout_id: str, now: datetime, status: str, event: str, reason: str | None
) -> Checkout:
    expired = False
    with db.transaction() as tx:
        row = _lock(tx, merchant_id, checkout_id)
        now = object_now(tx, row["test_clock_id"], now)
        expired = _expire_if_due(tx, row, now)
        if not expired:
            if row["status"] != "open":
                raise ConflictError(f"checkout {checkout_id} is {row['status']}, not open", code="checkout_not_open")
            tx.execute(
                "UPDATE checkouts SET status = ?, decline_reason = ? WHERE id = ? AND status = 'open'",
                (status, reason, checkout_id),
            )
            snap = checkout_from_row(_fetch(tx, merchant_id, checkout_id))
            emit_event(tx, merchant_id, event, checkout_id, snap.model_dump_json(), now)
            return snap
    raise ConflictError(f"checkout {checkout_id} has expired", code="checkout_expired")


def cancel_checkout(db: Database, merchant_id: str, checkout_id: str, now: datetime) -> Checkout:
    """Cancel an open checkout (``checkout.canceled``); 409 ``checkout_not_open`` otherwise."""
    return _close(db, merchant_id, checkout_id, now, "canceled", "checkout.canceled", None)


def decline_checkout(
    db: Database, merchant_id: str, checkout_id: str, now: datetime, reason: str = "customer_declined"
) -> Checkout:
    """Decline an open checkout (``checkout.declined``), e.g. when the customer refuses the terms."""
    return _close(db, merchant_id, checkout_id, now, "declined", "checkout.declined", reason)


class OfferedPlan:
    """A plan offered on a checkout: its index (what the customer picks), option and priced quote."""

    __slots__ = ("index", "option", "quote")

    def __init__(self, index: int, option: PlanOption, quote: PlanQuote) -> None:
        self.index = index
        self.option = option
        self.quote = quote

    def to_json(self) -> dict[str, Any]:
        """``{"index", "option", "quote"}`` as JSON-ready values."""
        return {
            "index": self.index,
            "option": self.option.model_dump(mode="json"),
            "quote": self.quote.model_dump(mode="json"),
        }


def _offer(stored: dict[str, Any], row: Row, index: int) -> OfferedPlan:
    product, periods, method, air, fee, label = stored["terms"][index]
    terms: OfferTerms = (product, periods, method, Decimal(air), Decimal(fee), label)
    priced = quote(
        row["amount"],
        row["currency"],
        product,
        periods,
        method,
        Decimal(air),
        Decimal(fee),
        int(stored["subsidy"]),
        date.fromisoformat(stored["start"]),
    )
    return OfferedPlan(index, option_of(terms), priced)


def _offers(row: Row) -> list[OfferedPlan]:
    stored = json.loads(row["offers"])
    return [_offer(stored, row, index) for index in range(len(stored["terms"]))]


def offered_plans(db: Database, merchant_id: str, checkout_id: str) -> tuple[Checkout, list[OfferedPlan]]:
    """The checkout and the plans offered on it (empty unless it is open or approved)."""
    with db.transaction(readonly=True) as tx:
        row = _fetch(tx, merchant_id, checkout_id)
    return checkout_from_row(row), _offers(row)


def approve_checkout(
    db: Database,
    merchant_id: str,
    checkout_id: str,
    plan_choice: int,
    now: datetime,
    *,
    authorization_ttl_seconds: int = 7 * 24 * 3600,
) -> Order:
    """The customer approves plan number ``plan_choice`` (0-based index of the offered plans).

    One transaction: the checkout becomes ``approved``, the order is ``authorized`` (its schedule stored in
    ``instalments``, ``authorization_expires_at`` set), and ``checkout.approved`` + ``order.authorized`` are
    written to the outbox. 409 when the checkout is no longer open; 400 ``param=plan`` for a bad choice.
    """
    declined: str | None = None
    with db.transaction() as tx:
        row = _lock(tx, merchant_id, checkout_id)
        now = object_now(tx, row["test_clock_id"], now)
        if not _expire_if_due(tx, row, now):
            if row["status"] != "open":
                raise ConflictError(f"checkout {checkout_id} is {row['status']}, not open", code="checkout_not_open")
            stored = json.loads(row["offers"])
            count = len(stored["terms"])
            if isinstance(plan_choice, bool) or not isinstance(plan_choice, int) or not 0 <= plan_choice < count:
                raise InvalidRequestError(
                    f"plan must be the index of an offered plan, 0 to {count - 1}",
                    code="parameter_invalid",
                    param="plan",
                )
            declined = _credit_check(tx, row, stored, row_lock=db.dialect == "postgres")
            if declined is None:
                return _authorize(tx, merchant_id, row, stored, plan_choice, now, authorization_ttl_seconds)
            _decline(tx, merchant_id, row, declined, now)
    if declined is not None:
        raise ConflictError(f"checkout {checkout_id} was declined at approval: {declined}", code="checkout_declined")
    raise ConflictError(f"checkout {checkout_id} has expired", code="checkout_expired")


_READ_CUSTOMER = "SELECT credit_limit, frozen FROM customers WHERE id = ?"
_LOCK_CUSTOMER = _READ_CUSTOMER + " FOR UPDATE"


def _credit_check(tx: Transaction, row: Row, stored: dict[str, Any], *, row_lock: bool) -> str | None:
    """Re-check the customer's credit inside the approval transaction, with the customer row locked.

    Checkouts are decided when they are opened, so several open checkouts (from one or several merchants) could
    otherwise all be approved and together exceed the limit. Returns a decline reason, or None when the order fits.
    """
    customer_id = row["customer_id"]
    if customer_id is None:
        return None
    # PostgreSQL: lock the customer row so two approvals for one customer are checked one after the other.
    # SQLite: write transactions are already serialised (BEGIN IMMEDIATE), and a plain read writes no page.
    customer = tx.fetchone(_LOCK_CUSTOMER if row_lock else _READ_CUSTOMER, (customer_id,))
    if customer is None:
        return None
    if customer["frozen"]:
        return "credit_frozen"
    limit = customer["credit_limit"] if customer["credit_limit"] is not None else stored.get("limit")
    if limit is None:
        return None
    outstanding = credit_in_use(tx, customer_id)
    return "insufficient_credit" if outstanding + int(row["amount"]) > int(limit) else None


def _decline(tx: Transaction, merchant_id: str, row: Row, reason: str, now: datetime) -> None:
    checkout_id = row["id"]
    tx.execute(
        "UPDATE checkouts SET status = 'declined', decline_reason = ? WHERE id = ? AND status = 'open'",
        (reason, checkout_id),
    )
    snap = checkout_from_row(row).model_copy(update={"status": "declined", "decline_reason": reason})
    emit_event(tx, merchant_id, "checkout.declined", checkout_id, snap.model_dump_json(), now)


def _authorize(
    tx: Transaction,
    merchant_id: str,
    row: Row,
    stored: dict[str, Any],
    plan_choice: int,
    now: datetime,
    authorization_ttl_seconds: int,
) -> Order:
    checkout_id = row["id"]
    chosen = _offer(stored, row, plan_choice)  # only the chosen plan is priced (quotes are cached)
    order_id = new_id("ord_")
    tx.execute(
        "UPDATE checkouts SET status = 'approved', order_id = ? WHERE id = ? AND status = 'open'",
        (order_id, checkout_id),
    )
    insert_order(
        tx,
        order_id=order_id,
        checkout=row,
        offer=chosen.option,
        plan=chosen.quote,
        subsidy=int(stored["subsidy"]),
        start=date.fromisoformat(stored["start"]),
        now=now,
        expires=now + timedelta(seconds=authorization_ttl_seconds),
    )
    # The row as locked above plus the two columns just set (no second read).
    snap = checkout_from_row(row).model_copy(update={"status": "approved", "order_id": order_id})
    emit_event(tx, merchant_id, "checkout.approved", checkout_id, snap.model_dump_json(), now)
    order = load_order(tx, merchant_id, order_id, fresh=True)
    emit_event(tx, merchant_id, "order.authorized", order_id, order.model_dump_json(), now)
    return order


def checkout_owner(db: Database, checkout_id: str) -> tuple[str, str | None] | None:
    """``(merchant_id, return_url)`` of a checkout (one indexed read, for the hosted approval), or None."""
    row = db.read_one("SELECT merchant_id, return_url FROM checkouts WHERE id = ?", (checkout_id,))
    return None if row is None else (str(row["merchant_id"]), row["return_url"])


def checkout_merchant(db: Database, checkout_id: str) -> str | None:
    """The merchant owning a checkout (for the hosted page, which the customer reaches without a merchant
    key), or None when there is no such checkout."""
    row = db.read_one("SELECT merchant_id FROM checkouts WHERE id = ?", (checkout_id,))
    return None if row is None else str(row["merchant_id"])
