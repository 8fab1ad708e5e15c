"""When to retry and how long to wait: exponential backoff with full jitter, and the server's Retry-After."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

RETRY_AFTER_CAP = 60.0
BACKOFF_CAP = 8.0
# Statuses worth another attempt: the request may well succeed later with the same idempotency key.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
IN_PROGRESS_CODE = "idempotency_request_in_progress"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many retries, and the backoff: ``uniform(0, min(backoff_base · 2^n, backoff_cap))`` for retry n ≥ 0."""

    max_retries: int
    backoff_base: float = 0.5
    backoff_cap: float = BACKOFF_CAP
    retry_after_cap: float = RETRY_AFTER_CAP
    rng: Callable[[float, float], float] = random.uniform

    def backoff(self, retry_index: int) -> float:
        """Seconds to wait before retry ``retry_index`` (0 = the first retry) when the server gave no hint."""
        return self.rng(0.0, min(self.backoff_base * (2**retry_index), self.backoff_cap))

    def delay(self, retry_index: int, retry_after: float | None) -> float:
        """The wait before a retry: the server's Retry-After (capped) when it sent one, else the jittered backoff."""
        if retry_after is not None:
            return min(retry_after, self.retry_after_cap)
        return self.backoff(retry_index)


def parse_retry_after(headers: httpx.Headers, now: Callable[[], float] = time.time) -> float | None:
    """Seconds the server asks us to wait: ``Retry-After`` as delta-seconds or as an HTTP date; None if absent
    or unparseable. Negative values (a date in the past) mean "now"."""
    value: str | None = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = parsed.timestamp() - now()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN or infinite: ignore the header
        return None
    return max(0.0, seconds)


def should_retry_status(status_code: int, headers: httpx.Headers, error_code: str | None) -> bool:
    """Whether a response with this status is worth retrying.

    ``BNPL-Should-Retry: true|false`` from the server wins. A 409 is retried only when the server says the first
    request with this idempotency key is still running (``idempotency_request_in_progress``) or sends Retry-After;
    any other conflict (such as a key reused with a different body) is final.
    """
    override: str | None = headers.get("bnpl-should-retry")
    if override is not None:
        return override.strip().lower() == "true"
    if status_code in RETRYABLE_STATUSES or status_code >= 500:
        return True
    if status_code == 409:
        return error_code == IN_PROGRESS_CODE or "retry-after" in headers
    return False
