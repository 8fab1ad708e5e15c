"""An in-process, thread-safe de-duplication store: for tests and single-process receivers."""

from __future__ import annotations

import threading

from bnpl.webhooks.stores.base import (
    DEFAULT_LEASE_SECONDS,
    DEFAULT_RETENTION_SECONDS,
    ClaimResult,
    Clock,
    now_from,
    validate_event_id,
    validate_lease,
    validate_object_id,
    validate_retention,
    validate_sequence,
)

__all__ = ["MemoryStore"]


class MemoryStore:
    """Keeps claims, processed ids and sequences in dictionaries guarded by one lock.

    Nothing survives a restart and nothing is shared between processes: use :class:`SQLiteStore` for one
    host, :class:`RedisStore` or :class:`PostgresStore` for several instances.
    """

    def __init__(self, *, retention_seconds: float = DEFAULT_RETENTION_SECONDS, clock: Clock | None = None) -> None:
        self._retention = validate_retention(retention_seconds)
        self._clock = clock
        self._lock = threading.Lock()
        self._leases: dict[str, float] = {}  # event id -> lease deadline
        self._processed: dict[str, float] = {}  # event id -> processed at
        self._sequences: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"MemoryStore(processed={len(self._processed)}, leases={len(self._leases)})"

    def claim(self, event_id: str, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> ClaimResult:
        """Take a lease on ``event_id`` (see :meth:`bnpl.webhooks.stores.base.DedupStore.claim`)."""
        validate_event_id(event_id)
        lease = validate_lease(lease_seconds)
        with self._lock:
            now = now_from(self._clock)
            if event_id in self._processed:
                return ClaimResult.ALREADY_PROCESSED
            deadline = self._leases.get(event_id)
            if deadline is not None and deadline > now:
                return ClaimResult.IN_PROGRESS
            self._leases[event_id] = now + lease
            return ClaimResult.CLAIMED

    def complete(self, event_id: str, object_id: str, sequence: int) -> None:
        """Mark processed and raise the object's sequence (see ``DedupStore.complete``)."""
        validate_event_id(event_id)
        validate_object_id(object_id)
        validate_sequence(sequence)
        with self._lock:
            self._leases.pop(event_id, None)
            self._processed[event_id] = now_from(self._clock)
            self._sequences[object_id] = max(self._sequences.get(object_id, sequence), sequence)

    def release(self, event_id: str) -> None:
        """Drop the lease on ``event_id``."""
        validate_event_id(event_id)
        with self._lock:
            self._leases.pop(event_id, None)

    def last_sequence(self, object_id: str) -> int | None:
        """The highest sequence applied for ``object_id``."""
        validate_object_id(object_id)
        with self._lock:
            return self._sequences.get(object_id)

    def purge_expired(self) -> int:
        """Forget processed ids past the retention and expired leases."""
        with self._lock:
            now = now_from(self._clock)
            old = [k for k, at in self._processed.items() if at <= now - self._retention]
            dead = [k for k, until in self._leases.items() if until <= now]
            for key in old:
                del self._processed[key]
            for key in dead:
                del self._leases[key]
            return len(old) + len(dead)

    def close(self) -> None:
        """Nothing to release; present for the protocol."""
