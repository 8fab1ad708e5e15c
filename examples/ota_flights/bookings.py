"""The OTA's own bookings: who flies where, on which fare, and which pay-later payment pays for it.

Payment state (checkout, order, captured/refunded amounts) is NOT kept here: the FastAPI plugin's order store
holds it per *payment reference* and its webhook router moves it. A booking links to its payments by reference
(``<booking ref>-<attempt>``): attempt 1 is the first checkout; a rebooking to a dearer fare refunds that
payment and opens attempt 2, and so on. Amounts are integer fen.
"""

from __future__ import annotations

import dataclasses
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final

__all__ = ["Booking", "BookingNotFoundError", "BookingStore", "LogLine", "new_booking_reference"]

_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone


class BookingNotFoundError(LookupError):
    """No booking has this reference."""


def new_booking_reference() -> str:
    """A fresh, unguessable booking reference such as ``OTA-7KQ2M9XW4P`` (50 bits: it is also the page's key)."""
    return "OTA-" + "".join(secrets.choice(_ALPHABET) for _ in range(10))


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line of a booking's history, shown on its page (``id`` increases with every line of every booking)."""

    id: int
    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class Booking:
    """One booking. ``fare`` is what the customer owes for ``flight_id`` now (after any rebooking)."""

    reference: str
    flight_id: str
    travel_date: date
    passenger: str
    email: str
    customer_reference: str
    fare: int
    plan_key: str
    attempt: int = 1
    ticket_number: str | None = None
    canceled: bool = False
    down_payment: int = 0
    created_at: datetime = dataclasses.field(default_factory=lambda: datetime.now(UTC))

    @property
    def payment_reference(self) -> str:
        """The merchant reference of the current pay-later payment (the plugin's order store key)."""
        return f"{self.reference}-{self.attempt}"

    @property
    def earlier_payment_references(self) -> list[str]:
        """Payments replaced by a rebooking to a dearer fare (refunded or voided), oldest first."""
        return [f"{self.reference}-{n}" for n in range(1, self.attempt)]

    @property
    def financed(self) -> int:
        """What the pay-later order finances: the fare less any card down payment."""
        return self.fare - self.down_payment


_COLUMNS: Final = (
    "reference",
    "flight_id",
    "travel_date",
    "passenger",
    "email",
    "customer_reference",
    "fare",
    "plan_key",
    "attempt",
    "ticket_number",
    "canceled",
    "down_payment",
    "created_at",
)

_SCHEMA: Final = (
    """
    CREATE TABLE IF NOT EXISTS ota_bookings (
        reference TEXT PRIMARY KEY,
        flight_id TEXT NOT NULL,
        travel_date TEXT NOT NULL,
        passenger TEXT NOT NULL,
        email TEXT NOT NULL,
        customer_reference TEXT NOT NULL,
        fare INTEGER NOT NULL CHECK (fare > 0),
        plan_key TEXT NOT NULL,
        attempt INTEGER NOT NULL CHECK (attempt >= 1),
        ticket_number TEXT,
        canceled INTEGER NOT NULL DEFAULT 0,
        down_payment INTEGER NOT NULL DEFAULT 0 CHECK (down_payment >= 0 AND down_payment < fare),
        created_at TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS ota_booking_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        reference TEXT NOT NULL REFERENCES ota_bookings(reference),
        at TEXT NOT NULL,
        text TEXT NOT NULL
    )
    """,
)


def _row_to_booking(row: tuple[object, ...]) -> Booking:
    values = dict(zip(_COLUMNS, row, strict=True))
    return Booking(
        reference=str(values["reference"]),
        flight_id=str(values["flight_id"]),
        travel_date=date.fromisoformat(str(values["travel_date"])),
        passenger=str(values["passenger"]),
        email=str(values["email"]),
        customer_reference=str(values["customer_reference"]),
        fare=int(str(values["fare"])),
        plan_key=str(values["plan_key"]),
        attempt=int(str(values["attempt"])),
        ticket_number=None if values["ticket_number"] is None else str(values["ticket_number"]),
        canceled=bool(values["canceled"]),
        down_payment=int(str(values["down_payment"])),
        created_at=datetime.fromisoformat(str(values["created_at"])),
    )


def _to_row(booking: Booking) -> tuple[object, ...]:
    return (
        booking.reference,
        booking.flight_id,
        booking.travel_date.isoformat(),
        booking.passenger,
        booking.email,
        booking.customer_reference,
        booking.fare,
        booking.plan_key,
        booking.attempt,
        booking.ticket_number,
        int(booking.canceled),
        booking.down_payment,
        booking.created_at.isoformat(),
    )


class BookingStore:
    """Bookings and their history in SQLite (``":memory:"`` for a throwaway site), safe across threads."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
        for statement in _SCHEMA:
            self._conn.execute(statement)

    def __repr__(self) -> str:
        return f"BookingStore(path={self.path!r})"

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()

    def add(self, booking: Booking, note: str) -> int:
        """Store a new booking with its first history line; returns the line's id."""
        placeholders = ", ".join("?" * len(_COLUMNS))
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(
                    f"INSERT INTO ota_bookings ({', '.join(_COLUMNS)}) VALUES ({placeholders})",  # noqa: S608
                    _to_row(booking),
                )
                line = self._log(booking.reference, note)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return line

    def get(self, reference: str) -> Booking:
        """The booking, or :class:`BookingNotFoundError`."""
        with self._lock:
            row = self._conn.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM ota_bookings WHERE reference = ?",  # noqa: S608
                (reference,),
            ).fetchone()
        if row is None:
            raise BookingNotFoundError(f"no booking {reference[:40]!r}")
        return _row_to_booking(row)

    def find(self, references: list[str]) -> list[Booking]:
        """The bookings among ``references`` that exist, newest first."""
        found = []
        for reference in references:
            try:
                found.append(self.get(reference))
            except BookingNotFoundError:
                continue
        return sorted(found, key=lambda b: b.created_at, reverse=True)

    def update(self, booking: Booking, note: str) -> int:
        """Replace the booking's fields and add a history line, in one transaction; returns the line's id."""
        fields = [c for c in _COLUMNS if c != "reference"]
        row = _to_row(booking)[1:]
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                cur = self._conn.execute(
                    f"UPDATE ota_bookings SET {', '.join(f'{c} = ?' for c in fields)} WHERE reference = ?",  # noqa: S608
                    (*row, booking.reference),
                )
                if cur.rowcount != 1:
                    raise BookingNotFoundError(f"no booking {booking.reference[:40]!r}")
                line = self._log(booking.reference, note)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return line

    def note(self, reference: str, text: str) -> int:
        """Add a history line to an existing booking; returns its id."""
        with self._lock:
            exists = self._conn.execute("SELECT 1 FROM ota_bookings WHERE reference = ?", (reference,)).fetchone()
            if exists is None:
                raise BookingNotFoundError(f"no booking {reference[:40]!r}")
            return self._log(reference, text)

    def history(self, reference: str) -> list[LogLine]:
        """The booking's history, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, at, text FROM ota_booking_log WHERE reference = ? ORDER BY id", (reference,)
            ).fetchall()
        return [LogLine(int(i), datetime.fromisoformat(at), text) for i, at, text in rows]

    def _log(self, reference: str, text: str) -> int:
        cur = self._conn.execute(
            "INSERT INTO ota_booking_log (reference, at, text) VALUES (?, ?, ?)",
            (reference, datetime.now(UTC).isoformat(), text),
        )
        return int(cur.lastrowid or 0)
