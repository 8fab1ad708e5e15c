"""Property tests of the pure parts: backoff bounds, Retry-After parsing, secret redaction, id checks."""

from __future__ import annotations

import email.utils

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bnpl.client._config import mask_key
from bnpl.client._core import path_id
from bnpl.client._redact import redact
from bnpl.client._retry import RetryPolicy, parse_retry_after
from bnpl.errors import InvalidParamsError

TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=8, max_size=40)


@given(st.integers(min_value=0, max_value=40), st.floats(min_value=0, max_value=1))
def test_backoff_is_full_jitter_under_the_capped_exponential(retry: int, fraction: float) -> None:
    policy = RetryPolicy(max_retries=2, rng=lambda low, high: low + (high - low) * fraction)
    delay = policy.backoff(retry)
    assert 0 <= delay <= min(0.5 * 2**retry, 8.0)


@given(st.integers(min_value=0, max_value=10**6))
def test_retry_after_seconds_round_trip_and_delay_is_capped(seconds: int) -> None:
    headers = httpx.Headers({"Retry-After": str(seconds)})
    assert parse_retry_after(headers) == seconds
    assert RetryPolicy(max_retries=1).delay(0, float(seconds)) == min(seconds, 60)


@given(st.integers(min_value=-(10**6), max_value=10**6))
def test_retry_after_http_date_is_relative_to_now(offset: int) -> None:
    now = 1_800_000_000.0
    headers = httpx.Headers({"Retry-After": email.utils.formatdate(now + offset, usegmt=True)})
    assert parse_retry_after(headers, now=lambda: now) == max(0, offset)


@given(st.text(max_size=30))
def test_garbage_retry_after_is_ignored_or_non_negative(value: str) -> None:
    try:
        headers = httpx.Headers({"Retry-After": value})
    except (UnicodeEncodeError, ValueError):
        return
    parsed = parse_retry_after(headers)
    assert parsed is None or parsed >= 0


@given(
    st.sampled_from(["sk_test_", "sk_live_", "whsec_", "pk_test_"]), TOKEN, st.text(max_size=20), st.text(max_size=20)
)
def test_redact_never_lets_a_secret_through(prefix: str, token: str, before: str, after: str) -> None:
    secret = prefix + token
    text = redact(f"{before} {secret} {after}")
    assert secret not in text
    assert f"{prefix}[REDACTED]" in text


@given(TOKEN)
def test_mask_key_shows_only_prefix_and_last_four(token: str) -> None:
    key = "sk_test_" + token
    masked = mask_key(key)
    assert masked.startswith("sk_test_…")
    assert token not in masked or len(token) <= 4


@given(st.text(max_size=80))
def test_path_id_accepts_only_prefixed_alphanumeric_ids(value: str) -> None:
    candidate = "ord_" + value
    if value.isascii() and value.isalnum() and 1 <= len(value) <= 64:
        assert path_id(candidate, "ord_") == candidate
    else:
        with pytest.raises(InvalidParamsError):
            path_id(candidate, "ord_")
