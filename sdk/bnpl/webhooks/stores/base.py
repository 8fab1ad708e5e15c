"""The de-duplication store protocol shared by every webhook store.

A store remembers three things for :class:`bnpl.webhooks.dispatch.WebhookHandler`:

* which event ids are **processed** (kept for ``retention_seconds``, 30 days by default),
* which event ids are **claimed** right now by a worker running their handler (a lease that expires, so a
  crashed worker's claim does not block redelivery forever),
* for every object (order, checkout, customer) the highest event ``sequence`` applied so far, so a late event
  never rolls an object back. These high-water marks are kept forever: they are what still protects you once a
  processed id has been purged.
"""

from __future__ import annotations

import enum
import math
import re
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "DEFAULT_RETENTION_SECONDS",
    "ClaimResult",
    "Clock",
    "DedupStore",
    "DedupStoreError",
    "InvalidStoreArgumentError",
    "MissingExtraError",
    "now_from",
    "validate_event_id",
    "validate_lease",
    "validate_object_id",
    "validate_prefix",
    "validate_retention",
    "validate_sequence",
]

DEFAULT_RETENTION_SECONDS = 30 * 24 * 3600
"""How long a processed event id is remembered (30 days: longer than any lender's retry schedule)."""

DEFAULT_LEASE_SECONDS = 60.0
"""How long a claim protects a running handler before another delivery may take over."""

Clock = Callable[[], float]
"""A function returning the current time in seconds since the epoch (``time.time`` by default)."""

_MAX_ID_LENGTH = 255
_PREFIX_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")


class ClaimResult(enum.Enum):
    """What :meth:`DedupStore.claim` found."""

    CLAIMED = "claimed"
    """This caller now holds the lease and must run the handler, then ``complete`` or ``release``."""
    ALREADY_PROCESSED = "already_processed"
    """The event was handled before: do not run the handler again."""
    IN_PROGRESS = "in_progress"
    """Another worker holds an unexpired lease: answer "retry later"."""


class DedupStoreError(Exception):
    """Root of the errors raised by the webhook de-duplication stores."""


class InvalidStoreArgumentError(DedupStoreError, ValueError):
    """An argument given to a store is invalid; nothing was changed."""


class MissingExtraError(DedupStoreError, ImportError):
    """An optional dependency of a store is not installed; the message names the pip extra to install."""

    def __init__(self, store: str, module: str, extra: str) -> None:
        super().__init__(
            f"{store} needs the {module!r} package, which is not installed. "
            f"Install it with: pip install 'bnpl[{extra}]'"
        )
        self.extra = extra


@runtime_checkable
class DedupStore(Protocol):
    """Where a webhook handler records claimed and processed event ids and per-object sequences.

    Every method is safe to call from several threads; the SQLite, Redis and PostgreSQL stores are also safe
    across processes and hosts sharing the same file, server or database.
    """

    def claim(self, event_id: str, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> ClaimResult:
        """Atomically take a lease on ``event_id`` unless it is processed or leased by someone else."""
        ...

    def complete(self, event_id: str, object_id: str, sequence: int) -> None:
        """Atomically mark ``event_id`` processed and raise ``object_id``'s sequence to ``max(old, sequence)``."""
        ...

    def release(self, event_id: str) -> None:
        """Drop the lease on ``event_id`` so a redelivery can claim it at once (a processed id stays processed)."""
        ...

    def last_sequence(self, object_id: str) -> int | None:
        """The highest sequence applied for ``object_id``, or ``None`` if no event for it was applied."""
        ...

    def purge_expired(self) -> int:
        """Forget processed ids older than the retention and expired leases; returns how many were removed."""
        ...

    def close(self) -> None:
        """Release connections; the store must not be used afterwards."""
        ...


def now_from(clock: Clock | None) -> float:
    """The current time from ``clock`` (``time.time`` when ``None``)."""
    return (clock or time.time)()


def validate_event_id(event_id: object) -> str:
    """Return ``event_id`` if it is a non-empty string of at most 255 characters, else raise."""
    if not isinstance(event_id, str) or not event_id or len(event_id) > _MAX_ID_LENGTH:
        raise InvalidStoreArgumentError(
            f"event_id must be a non-empty string of at most {_MAX_ID_LENGTH} characters, got {event_id!r:.80}"
        )
    return event_id


def validate_object_id(object_id: object) -> str:
    """Return ``object_id`` if it is a non-empty string of at most 255 characters, else raise."""
    if not isinstance(object_id, str) or not object_id or len(object_id) > _MAX_ID_LENGTH:
        raise InvalidStoreArgumentError(
            f"object_id must be a non-empty string of at most {_MAX_ID_LENGTH} characters, got {object_id!r:.80}"
        )
    return object_id


def validate_sequence(sequence: object) -> int:
    """Return ``sequence`` if it is an int in [0, 2**53), else raise (bool is refused).

    2**53 keeps sequences exact in JSON numbers and in Redis' Lua (whose numbers are doubles).
    """
    if isinstance(sequence, bool) or not isinstance(sequence, int) or not 0 <= sequence < 2**53:
        raise InvalidStoreArgumentError(f"sequence must be an integer in [0, 2**53), got {sequence!r:.40}")
    return sequence


def validate_lease(lease_seconds: object) -> float:
    """Return ``lease_seconds`` as a float if it is a finite positive number, else raise."""
    if isinstance(lease_seconds, bool) or not isinstance(lease_seconds, int | float):
        raise InvalidStoreArgumentError(f"lease_seconds must be a positive number, got {lease_seconds!r:.40}")
    value = float(lease_seconds)
    if not math.isfinite(value) or value <= 0:
        raise InvalidStoreArgumentError(f"lease_seconds must be a positive number, got {lease_seconds!r:.40}")
    return value


def validate_retention(retention_seconds: object) -> float:
    """Return ``retention_seconds`` as a float if it is a finite positive number, else raise."""
    if isinstance(retention_seconds, bool) or not isinstance(retention_seconds, int | float):
        raise InvalidStoreArgumentError(f"retention_seconds must be a positive number, got {retention_seconds!r:.40}")
    value = float(retention_seconds)
    if not math.isfinite(value) or value <= 0:
        raise InvalidStoreArgumentError(f"retention_seconds must be a positive number, got {retention_seconds!r:.40}")
    return value


def validate_prefix(prefix: object) -> str:
    """Return ``prefix`` if it is a safe identifier (it becomes part of SQL table names and Redis keys)."""
    if not isinstance(prefix, str) or not _PREFIX_RE.match(prefix):
        raise InvalidStoreArgumentError(
            "prefix must start with a letter or underscore and contain only letters, digits and underscores "
            f"(at most 40 characters), got {prefix!r:.60}"
        )
    return prefix
