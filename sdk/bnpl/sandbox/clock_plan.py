"""What is due on a test clock: the pending simulation steps, computed from persisted state only.

Every query here reads what the database already says (instalment statuses, ``reminder_sent``,
``expiry_warned``, fired credit notices), never in-memory progress, so a run that crashed midway is picked up
by the next one and a step that was already done is simply not planned again.

The instant of each step (microseconds since the epoch, UTC):

* a due date ``D`` falls at ``D 00:00 UTC``; an order becomes *repayable* when its authorization is settled
  (captured in full, or the rest voided or released at expiry): ``since`` is the latest such event;
* collection of an instalment: ``max(due, since)``; its reminder: ``max(due - reminder_days, since)``, only if
  the instalment is not already due at ``since``; overdue: collection instant + ``grace_days``;
* expiry warning: ``max(expires - expiry_warning, created)``; expiry: ``expires_at``; checkout expiry:
  ``expires_at``; credit notices: see :mod:`bnpl.sandbox.clock_credit`.

Steps sort by ``(at, rank, pk, number)``: at one instant checkouts expire first, then authorization warnings
and expiries, credit notices, reminders, collections, overdue notices and settlements; ties between objects
go by creation order (``pk``), so the same history always replays in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final, Literal

from bnpl.sandbox.db import Transaction
from bnpl.sandbox.service._common import from_us, to_us

__all__ = [
    "REPAYABLE_STATUSES",
    "Action",
    "ActionKind",
    "ClockPolicy",
    "collection_at",
    "date_us",
    "plan_checkouts",
    "plan_expiry",
    "plan_repayments",
    "repayable_since",
]

ActionKind = Literal["checkout_expire", "auth_warn", "auth_expire", "credit", "remind", "collect", "overdue", "settle"]
_RANK: Final[dict[str, int]] = {
    kind: rank
    for rank, kind in enumerate(
        ("checkout_expire", "auth_warn", "auth_expire", "credit", "remind", "collect", "overdue", "settle")
    )
}

REPAYABLE_STATUSES: Final = ("captured", "partially_refunded", "in_arrears")
"""Order statuses whose schedule is collected (together with: captured in full, nothing left authorized)."""

_REPAYABLE_SQL: Final = (
    "o.status IN ('captured', 'partially_refunded', 'in_arrears') AND o.amount_captured > 0 "
    "AND o.amount_captured + o.amount_voided = o.amount_authorized"
)
_SETTLING_EVENTS: Final = ("order.captured", "order.voided", "order.authorization_expired")
_DAY_US: Final = 86_400_000_000


@dataclass(frozen=True, slots=True)
class ClockPolicy:
    """The lender's timing rules for a test clock run.

    ``reminder_days``: ``order.instalment_due_soon`` goes out this many days before each due date;
    ``grace_days``: a failed instalment still unpaid this many days after its collection becomes overdue;
    ``expiry_warning``: ``order.authorization_expiring`` goes out this long before the authorization lapses.
    """

    reminder_days: int = 3
    grace_days: int = 3
    expiry_warning: timedelta = timedelta(days=1)

    def __post_init__(self) -> None:
        for name in ("reminder_days", "grace_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 365:
                raise ValueError(f"{name} must be an int between 0 and 365, got {value!r}")
        if self.grace_days < 1:
            raise ValueError("grace_days must be at least 1 (an instalment is overdue the day after, at the earliest)")
        if not isinstance(self.expiry_warning, timedelta) or self.expiry_warning < timedelta(0):
            raise ValueError(f"expiry_warning must be a non-negative timedelta, got {self.expiry_warning!r}")


@dataclass(frozen=True, slots=True, order=True)
class Action:
    """One simulation step: ``kind`` of thing happening to ``object_id`` at ``at`` (µs since the epoch).

    ``number`` is the instalment number (collect, remind, overdue) or the index of the persona's credit event
    (credit); 0 otherwise. Actions order by ``(at, rank, pk, number)``.
    """

    at: int
    rank: int
    pk: int
    number: int
    object_id: str
    kind: ActionKind

    @classmethod
    def make(cls, kind: ActionKind, at: int, pk: int, object_id: str, number: int = 0) -> Action:
        """An action of ``kind`` (its rank derived from the kind)."""
        return cls(at, _RANK[kind], pk, number, object_id, kind)

    @property
    def key(self) -> tuple[str, str, int]:
        """What the step is about, independent of when: the same key is never done twice."""
        return (self.kind, self.object_id, self.number)


def date_us(day: date) -> int:
    """``day`` at 00:00 UTC, in microseconds since the epoch."""
    return to_us(datetime(day.year, day.month, day.day, tzinfo=UTC))


def repayable_since(tx: Transaction, merchant_id: str, order_ids: list[str]) -> dict[str, int]:
    """For each order, when its authorization was last settled (latest captured/voided/expired event)."""
    if not order_ids:
        return {}
    out: dict[str, int] = {}
    # Chunked so the IN list stays well under SQLite's parameter limit.
    for start in range(0, len(order_ids), 500):
        chunk = order_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = tx.fetchall(
            "SELECT object_id, MAX(created) AS t FROM events WHERE merchant_id = ? "  # noqa: S608
            f"AND object_id IN ({marks}) AND type IN (?, ?, ?) GROUP BY object_id",
            (merchant_id, *chunk, *_SETTLING_EVENTS),
        )
        out.update({r["object_id"]: int(r["t"]) for r in rows})
    return out


def collection_at(due: date, since: int) -> int:
    """When the instalment due on ``due`` is collected, for an order repayable since ``since``."""
    return max(date_us(due), since)


def plan_repayments(
    tx: Transaction,
    merchant_id: str,
    clock_id: str,
    until: int,
    policy: ClockPolicy,
    *,
    order_id: str | None = None,
) -> list[Action]:
    """Reminders, collections, overdue notices and settlements due by ``until`` (one order, or the clock's)."""
    scope, args = ("o.id = ?", (order_id,)) if order_id is not None else ("o.test_clock_id = ?", (clock_id,))
    orders = tx.fetchall(
        f"SELECT o.id, o.pk FROM orders o WHERE {scope} AND {_REPAYABLE_SQL}",  # noqa: S608
        args,
    )
    if not orders:
        return []
    pks = {r["id"]: int(r["pk"]) for r in orders}
    since = repayable_since(tx, merchant_id, list(pks))
    horizon = from_us(until) + timedelta(days=policy.reminder_days)
    rows = tx.fetchall(
        "SELECT i.order_id, i.number, i.due_date, i.status, i.reminder_sent FROM instalments i "  # noqa: S608
        f"JOIN orders o ON o.id = i.order_id WHERE {scope} AND {_REPAYABLE_SQL} "
        "AND i.status IN ('scheduled', 'failed') AND i.amount > i.amount_paid AND i.due_date <= ?",
        (*args, horizon.date().isoformat()),
    )
    actions: list[Action] = []
    grace = policy.grace_days * _DAY_US
    remind = policy.reminder_days * _DAY_US
    for r in rows:
        oid = r["order_id"]
        pk, start = pks[oid], since.get(oid, 0)
        due = date_us(date.fromisoformat(r["due_date"]))
        collect = max(due, start)
        if r["status"] == "scheduled":
            if r["reminder_sent"] is None and due > start and max(due - remind, start) <= until:
                actions.append(Action.make("remind", max(due - remind, start), pk, oid, r["number"]))
            if collect <= until:
                actions.append(Action.make("collect", collect, pk, oid, r["number"]))
        elif collect + grace <= until:  # failed, not yet overdue
            actions.append(Action.make("overdue", collect + grace, pk, oid, r["number"]))
    settled = tx.fetchall(
        f"SELECT o.id FROM orders o WHERE {scope} AND {_REPAYABLE_SQL} AND NOT EXISTS "  # noqa: S608
        "(SELECT 1 FROM instalments i WHERE i.order_id = o.id AND i.status NOT IN ('paid', 'waived'))",
        args,
    )
    for r in settled:
        oid = r["id"]
        last = tx.fetchone(
            "SELECT MAX(t) AS t FROM (SELECT MAX(paid_at) AS t FROM instalments WHERE order_id = ? "
            "UNION ALL SELECT MAX(created) AS t FROM refunds WHERE order_id = ?) AS x",
            (oid, oid),
        )
        at = max(since.get(oid, 0), int(last["t"]) if last is not None and last["t"] is not None else 0)
        actions.append(Action.make("settle", min(at, until), pks[oid], oid))
    return actions


def plan_expiry(tx: Transaction, clock_id: str, until: int, policy: ClockPolicy) -> list[Action]:
    """Authorization warnings and expiries due by ``until`` for orders with an uncaptured amount."""
    warn = to_us(datetime(1970, 1, 1, tzinfo=UTC) + policy.expiry_warning)
    rows = tx.fetchall(
        "SELECT id, pk, created, authorization_expires_at, expiry_warned FROM orders WHERE test_clock_id = ? "
        "AND status NOT IN ('voided', 'expired', 'refunded', 'paid_off') "
        "AND amount_captured + amount_voided < amount_authorized "
        "AND authorization_expires_at IS NOT NULL AND authorization_expires_at <= ?",
        (clock_id, until + warn),
    )
    actions: list[Action] = []
    for r in rows:
        expires, pk = int(r["authorization_expires_at"]), int(r["pk"])
        warn_at = max(expires - warn, int(r["created"]))
        if r["expiry_warned"] is None and warn_at <= until and warn_at < expires:
            actions.append(Action.make("auth_warn", warn_at, pk, r["id"]))
        if expires <= until:
            actions.append(Action.make("auth_expire", expires, pk, r["id"]))
    return actions


def plan_checkouts(tx: Transaction, clock_id: str, until: int) -> list[Action]:
    """Open checkouts on the clock whose ``expires_at`` is at or before ``until``."""
    rows = tx.fetchall(
        "SELECT id, pk, expires_at FROM checkouts WHERE test_clock_id = ? AND status = 'open' AND expires_at <= ?",
        (clock_id, until),
    )
    return [Action.make("checkout_expire", int(r["expires_at"]), int(r["pk"]), r["id"]) for r in rows]
