"""Settings of one sandbox lender instance, and the injectable clock every service call takes its time from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "Settings", "SystemClock"]


class Clock(Protocol):
    """Where "now" comes from. Tests and the test-clock engine inject their own."""

    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    """The wall clock (UTC)."""

    def now(self) -> datetime:
        """``datetime.now(UTC)``."""
        return datetime.now(UTC)


@dataclass(slots=True)
class Settings:
    """Tunable behaviour of the lender.

    ``base_url`` is where the hosted pages are reachable (the server fills it in once it knows its port);
    ``checkout_ttl_seconds`` applies when a checkout gives no expiry; ``authorization_ttl_seconds`` is how long
    an approved order may be captured; ``expiry_sweep_seconds`` is how often the background sweeper expires
    checkouts and authorizations (0 disables it); ``prequalification_ttl_seconds`` bounds a prequalification.
    """

    base_url: str = "http://127.0.0.1:8787"
    checkout_ttl_seconds: int = 30 * 60
    authorization_ttl_seconds: int = 7 * 24 * 3600
    prequalification_ttl_seconds: int = 30 * 60
    expiry_sweep_seconds: float = 5.0
    idempotency_ttl_seconds: int = 24 * 3600

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, got {self.base_url!r}")
        self.base_url = self.base_url.rstrip("/")
        for name in (
            "checkout_ttl_seconds",
            "authorization_ttl_seconds",
            "prequalification_ttl_seconds",
            "idempotency_ttl_seconds",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer number of seconds, got {value!r}")
        if self.expiry_sweep_seconds < 0:
            raise ValueError("expiry_sweep_seconds must be >= 0 (0 disables the sweeper)")


def utc(when: datetime) -> datetime:
    """``when`` in UTC (naive datetimes are refused: they are ambiguous)."""
    if when.tzinfo is None:
        raise ValueError("naive datetime: pass a timezone-aware instant")
    return when.astimezone(UTC)
