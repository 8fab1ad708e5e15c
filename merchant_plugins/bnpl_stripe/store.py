"""Where sagas live: one row per saga, one row per step (recorded before its side effect), one row per
webhook event id (de-duplication). SQLite by default, PostgreSQL with the same SQL.

Every status change is a compare-and-set in one transaction, so a webhook, a poll and ``recover()`` racing on
one saga cannot both move it, and a side's status never moves backwards (see :mod:`bnpl_stripe.states`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

from bnpl.money import Money
from bnpl_stripe._sql import Connection, Tx, redact_url
from bnpl_stripe.errors import SagaNotFoundError
from bnpl_stripe.states import CARD_RANK, LENDER_RANK, TERMINAL

__all__ = ["SagaRecord", "SagaStore", "StepRecord"]

_SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS bnpl_stripe_sagas (
        id TEXT PRIMARY KEY,
        order_ref TEXT NOT NULL UNIQUE,
        currency TEXT NOT NULL,
        total_minor BIGINT NOT NULL,
        down_minor BIGINT NOT NULL CHECK (down_minor > 0),
        remainder_minor BIGINT NOT NULL CHECK (remainder_minor > 0),
        status TEXT NOT NULL,
        card_status TEXT NOT NULL,
        lender_status TEXT NOT NULL,
        payment_intent_id TEXT,
        client_secret TEXT,
        checkout_id TEXT,
        order_id TEXT,
        approval_url TEXT,
        failure TEXT,
        params TEXT NOT NULL,
        deadline_ms BIGINT NOT NULL,
        created_ms BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL,
        CHECK (down_minor + remainder_minor = total_minor)
    )""",
    "CREATE INDEX IF NOT EXISTS bnpl_stripe_sagas_status ON bnpl_stripe_sagas (status)",
    "CREATE INDEX IF NOT EXISTS bnpl_stripe_sagas_pi ON bnpl_stripe_sagas (payment_intent_id)",
    "CREATE INDEX IF NOT EXISTS bnpl_stripe_sagas_chk ON bnpl_stripe_sagas (checkout_id)",
    """CREATE TABLE IF NOT EXISTS bnpl_stripe_steps (
        saga_id TEXT NOT NULL REFERENCES bnpl_stripe_sagas (id),
        step TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL CHECK (state IN ('started', 'succeeded', 'failed')),
        detail TEXT,
        attempts INTEGER NOT NULL,
        started_ms BIGINT NOT NULL,
        finished_ms BIGINT,
        PRIMARY KEY (saga_id, step)
    )""",
    """CREATE TABLE IF NOT EXISTS bnpl_stripe_events (
        source TEXT NOT NULL,
        event_id TEXT NOT NULL,
        saga_id TEXT,
        type TEXT NOT NULL,
        received_ms BIGINT NOT NULL,
        PRIMARY KEY (source, event_id)
    )""",
)

_SIDES: Final = {"card": ("card_status", CARD_RANK), "lender": ("lender_status", LENDER_RANK)}
_LINKS: Final = frozenset({"payment_intent_id", "client_secret", "checkout_id", "order_id", "approval_url"})


@dataclass(frozen=True, slots=True)
class SagaRecord:
    """A saga as stored: amounts in minor units, each party's status and ids."""

    id: str
    order_ref: str
    currency: str
    total_minor: int
    down_minor: int
    remainder_minor: int
    status: str
    card_status: str
    lender_status: str
    payment_intent_id: str | None
    checkout_id: str | None
    order_id: str | None
    approval_url: str | None = field(repr=False)
    client_secret: str | None = field(repr=False)  # lets a browser confirm the card: never logged
    failure: str | None
    params: dict[str, Any] = field(repr=False)
    deadline_ms: int
    created_ms: int
    updated_ms: int

    @property
    def total(self) -> Money:
        """The order total."""
        return Money(self.total_minor, self.currency)

    @property
    def down_payment(self) -> Money:
        """The card part."""
        return Money(self.down_minor, self.currency)

    @property
    def remainder(self) -> Money:
        """The financed part."""
        return Money(self.remainder_minor, self.currency)

    @property
    def terminal(self) -> bool:
        """True once fully captured or fully compensated."""
        return self.status in TERMINAL

    @classmethod
    def _from_row(cls, row: dict[str, Any]) -> SagaRecord:
        data = dict(row)
        data["params"] = json.loads(data["params"])
        for key in ("total_minor", "down_minor", "remainder_minor", "deadline_ms", "created_ms", "updated_ms"):
            data[key] = int(data[key])
        return cls(**data)


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One step: its idempotency key, whether its side effect is known to have finished, and the outcome."""

    saga_id: str
    step: str
    idempotency_key: str
    state: str
    detail: str | None
    attempts: int


class SagaStore:
    """The saga tables in a SQLite file (default) or PostgreSQL (``postgresql://…``, optional ``schema``)."""

    def __init__(self, url: str = "bnpl_stripe.sqlite3", *, schema: str | None = None) -> None:
        self._db = Connection(url, schema=schema)
        with self._db.transaction() as tx:
            for statement in _SCHEMA:
                tx.execute(statement)

    def __repr__(self) -> str:
        return f"SagaStore({redact_url(self._db.url)!r})"

    def close(self) -> None:
        """Close the store's connections."""
        self._db.close()

    # --- sagas ---------------------------------------------------------------------------------------------

    def insert(self, row: dict[str, Any]) -> bool:
        """Insert a new saga; ``False`` if one with this ``order_ref`` or ``id`` exists already."""
        row = {**row, "params": json.dumps(row["params"], sort_keys=True)}
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self._db.transaction() as tx:
            return (
                tx.execute(
                    f"INSERT INTO bnpl_stripe_sagas ({cols}) VALUES ({marks}) ON CONFLICT DO NOTHING",  # noqa: S608
                    list(row.values()),
                )
                == 1
            )

    def get(self, saga_id: str) -> SagaRecord:
        """The saga with this id; :class:`SagaNotFoundError` if there is none."""
        found = self.find(id=saga_id)
        if found is None:
            raise SagaNotFoundError(f"no down-payment saga {saga_id!r} in {self!r}")
        return found

    def find(self, **where: str) -> SagaRecord | None:
        """The saga matching one column (``id``, ``order_ref``, ``payment_intent_id``, ``checkout_id``,
        ``order_id``), or ``None``."""
        ((column, value),) = where.items()
        if column not in {"id", "order_ref", "payment_intent_id", "checkout_id", "order_id"}:
            raise ValueError(f"cannot look sagas up by {column!r}")
        with self._db.transaction() as tx:
            row = tx.one(f"SELECT * FROM bnpl_stripe_sagas WHERE {column} = ?", (value,))  # noqa: S608
        return None if row is None else SagaRecord._from_row(row)

    def unfinished(self) -> list[SagaRecord]:
        """Every saga that is neither fully captured nor fully compensated, oldest first."""
        with self._db.transaction() as tx:
            rows = tx.all(
                "SELECT * FROM bnpl_stripe_sagas WHERE status NOT IN ('captured', 'compensated') ORDER BY created_ms"
            )
        return [SagaRecord._from_row(r) for r in rows]

    def link(self, saga_id: str, now_ms: int, **ids: str | None) -> None:
        """Record ids learnt from a party (a link once set is never changed or cleared)."""
        unknown = set(ids) - _LINKS
        if unknown:
            raise ValueError(f"not a link column: {sorted(unknown)}")
        with self._db.transaction() as tx:
            self._link(tx, saga_id, now_ms, ids)

    @staticmethod
    def _link(tx: Tx, saga_id: str, now_ms: int, ids: dict[str, str | None]) -> None:
        for column, value in ids.items():
            if value is not None:
                tx.execute(
                    f"UPDATE bnpl_stripe_sagas SET {column} = ?, updated_ms = ? "  # noqa: S608
                    f"WHERE id = ? AND {column} IS NULL",
                    (value, now_ms, saga_id),
                )

    def move_side(self, saga_id: str, side: str, status: str, now_ms: int, **ids: str | None) -> bool:
        """Move ``side`` (``card``/``lender``) forward to ``status``; ``False`` if that would not move it forward."""
        with self._db.transaction() as tx:
            return self._move_side(tx, saga_id, side, status, now_ms, ids)

    @staticmethod
    def _move_side(tx: Tx, saga_id: str, side: str, status: str, now_ms: int, ids: dict[str, str | None]) -> bool:
        column, rank = _SIDES[side]
        SagaStore._link(tx, saga_id, now_ms, ids)
        lower = [name for name, r in rank.items() if r < rank[status]]
        marks = ", ".join("?" for _ in lower)
        changed = tx.execute(
            f"UPDATE bnpl_stripe_sagas SET {column} = ?, updated_ms = ? "  # noqa: S608
            f"WHERE id = ? AND {column} IN ({marks})",
            (status, now_ms, saga_id, *lower),
        )
        return changed == 1

    def transition(
        self, saga_id: str, from_: tuple[str, ...], to: str, now_ms: int, failure: str | None = None
    ) -> bool:
        """Compare-and-set the saga status; ``False`` if it was not in ``from_`` (someone else moved it)."""
        marks = ", ".join("?" for _ in from_)
        with self._db.transaction() as tx:
            return (
                tx.execute(
                    f"UPDATE bnpl_stripe_sagas SET status = ?, updated_ms = ?, failure = COALESCE(failure, ?) "  # noqa: S608
                    f"WHERE id = ? AND status IN ({marks})",
                    (to, now_ms, failure, saga_id, *from_),
                )
                == 1
            )

    # --- steps ---------------------------------------------------------------------------------------------

    def begin_step(self, saga_id: str, step: str, key: str, now_ms: int) -> StepRecord:
        """Record that ``step`` is about to run with ``key`` (or count another attempt); return the step."""
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT INTO bnpl_stripe_steps (saga_id, step, idempotency_key, state, attempts, started_ms) "
                "VALUES (?, ?, ?, 'started', 1, ?) "
                "ON CONFLICT (saga_id, step) DO UPDATE SET attempts = bnpl_stripe_steps.attempts + 1",
                (saga_id, step, key, now_ms),
            )
            row = tx.one("SELECT * FROM bnpl_stripe_steps WHERE saga_id = ? AND step = ?", (saga_id, step))
        assert row is not None  # noqa: S101 - just written in this transaction
        return _step(row)

    def finish_step(
        self,
        saga_id: str,
        step: str,
        state: str,
        detail: str | None,
        now_ms: int,
        *,
        side: str | None = None,
        side_status: str | None = None,
        **ids: str | None,
    ) -> None:
        """Record a step's outcome and, in the same transaction, the side status and ids it revealed."""
        with self._db.transaction() as tx:
            tx.execute(
                "UPDATE bnpl_stripe_steps SET state = ?, detail = ?, finished_ms = ? WHERE saga_id = ? AND step = ?",
                (state, detail, now_ms, saga_id, step),
            )
            if side is not None and side_status is not None:
                self._move_side(tx, saga_id, side, side_status, now_ms, ids)
            else:
                self._link(tx, saga_id, now_ms, ids)

    def steps(self, saga_id: str) -> dict[str, StepRecord]:
        """Every recorded step of a saga, by name."""
        with self._db.transaction() as tx:
            rows = tx.all("SELECT * FROM bnpl_stripe_steps WHERE saga_id = ? ORDER BY started_ms", (saga_id,))
        return {row["step"]: _step(row) for row in rows}

    # --- events --------------------------------------------------------------------------------------------

    def apply_event(
        self,
        source: str,
        event_id: str,
        event_type: str,
        saga_id: str | None,
        now_ms: int,
        side: str | None = None,
        status: str | None = None,
        **ids: str | None,
    ) -> bool:
        """Record a webhook event and apply its side status in one transaction; ``False`` for a duplicate."""
        with self._db.transaction() as tx:
            fresh = tx.execute(
                "INSERT INTO bnpl_stripe_events (source, event_id, saga_id, type, received_ms) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (source, event_id, saga_id, event_type, now_ms),
            )
            if fresh != 1:
                return False
            if saga_id is not None and side is not None and status is not None:
                self._move_side(tx, saga_id, side, status, now_ms, ids)
            return True


def _step(row: dict[str, Any]) -> StepRecord:
    return StepRecord(
        saga_id=row["saga_id"],
        step=row["step"],
        idempotency_key=row["idempotency_key"],
        state=row["state"],
        detail=row["detail"],
        attempts=int(row["attempts"]),
    )
