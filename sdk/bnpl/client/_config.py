"""Client settings: resolve and check the API key, base URL, TLS and timeout before anything is sent."""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from bnpl.errors import ConfigurationError

API_KEY_ENV = "BNPL_API_KEY"
BASE_URL_ENV = "BNPL_BASE_URL"
SANDBOX_BASE_URL = "http://127.0.0.1:8787"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})

VerifyTypes = bool | str | ssl.SSLContext
TimeoutTypes = float | int | httpx.Timeout


@dataclass(frozen=True, slots=True)
class ResolvedConfig:
    """The checked settings a client runs with. ``api_key`` never leaves this object except in the auth header."""

    api_key: str
    base_url: str
    verify: VerifyTypes

    @property
    def masked_key(self) -> str:
        return mask_key(self.api_key)


def mask_key(key: str) -> str:
    """``sk_test_…abcd``: the key's prefix and its last 4 characters, enough to tell keys apart, useless to attack."""
    for prefix in ("sk_test_", "sk_live_", "pk_test_", "pk_live_"):
        if key.startswith(prefix):
            return f"{prefix}…{key[-4:]}" if len(key) >= len(prefix) + 8 else f"{prefix}…"
    return "…" + key[-4:] if len(key) >= 12 else "…"


def resolve_config(
    api_key: str | None,
    base_url: str | httpx.URL | None,
    verify: VerifyTypes,
    environ: Mapping[str, str] | None = None,
) -> ResolvedConfig:
    """Check the key and the target and return the settings, or raise :class:`ConfigurationError` saying how to fix.

    Keys come from ``api_key=`` or ``BNPL_API_KEY``; the URL from ``base_url=``, ``BNPL_BASE_URL``, or for
    ``sk_test_`` keys the local sandbox. Live keys need an explicit https URL; plain http is allowed only for a
    local host, and so is turning TLS verification off.
    """
    env = os.environ if environ is None else environ
    key = api_key if api_key is not None else env.get(API_KEY_ENV)
    if not key:
        raise ConfigurationError(
            f"No API key given: pass api_key='sk_test_…' to the client or set the {API_KEY_ENV} environment variable."
        )
    key = key.strip()
    if key.startswith("pk_"):
        raise ConfigurationError(
            "A publishable key (pk_…) cannot make server-side API calls: it is meant for the browser. "
            f"Use the secret key (sk_test_… or sk_live_…) in api_key= or {API_KEY_ENV}."
        )
    live = key.startswith("sk_live_")
    if not (live or key.startswith("sk_test_")):
        raise ConfigurationError(
            f"Unrecognised API key format {mask_key(key)!r}: secret keys start with sk_test_ or sk_live_. "
            f"Check api_key= or {API_KEY_ENV}."
        )
    if any(ch.isspace() or not ch.isprintable() for ch in key):
        raise ConfigurationError(
            f"The API key {mask_key(key)!r} contains whitespace or control characters; copy it again without them."
        )

    raw_url = str(base_url) if base_url is not None else env.get(BASE_URL_ENV) or None
    if raw_url is None:
        if live:
            raise ConfigurationError(
                "A live key (sk_live_…) needs an explicit https base_url: pass base_url='https://…' or set "
                f"{BASE_URL_ENV}. Test keys default to the local sandbox at {SANDBOX_BASE_URL}."
            )
        raw_url = SANDBOX_BASE_URL
    try:
        url = httpx.URL(raw_url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ConfigurationError(
            f"base_url {raw_url!r} is not a valid URL ({exc}); use e.g. https://api.example.com"
        ) from None
    if url.scheme not in {"http", "https"} or not url.host:
        raise ConfigurationError(
            f"base_url {raw_url!r} must be an absolute http(s) URL such as https://api.example.com."
        )
    local = url.host in LOCAL_HOSTS
    if url.scheme == "http" and not local:
        raise ConfigurationError(
            f"base_url {raw_url!r} uses plain http to a remote host, which would send the API key in clear text; "
            "use https (plain http is allowed only for localhost/127.0.0.1)."
        )
    if live and url.scheme != "https":
        raise ConfigurationError(f"A live key (sk_live_…) needs an https base_url, got {raw_url!r}.")
    if verify is False and not local:
        raise ConfigurationError(
            "verify=False turns off TLS certificate checks, allowed only for localhost. For a private CA pass "
            "verify='/path/to/ca-bundle.pem' (or an ssl.SSLContext) instead."
        )
    return ResolvedConfig(api_key=key, base_url=str(url).rstrip("/"), verify=verify)


def resolve_timeout(timeout: TimeoutTypes | None) -> httpx.Timeout:
    """Turn ``timeout=`` into an ``httpx.Timeout``; a bare number is the total per-attempt budget, connect ≤ 5 s."""
    if timeout is None:
        return DEFAULT_TIMEOUT
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise ConfigurationError(f"timeout must be a positive number of seconds or an httpx.Timeout, got {timeout!r}.")
    seconds = float(timeout)
    return httpx.Timeout(seconds, connect=min(seconds, 5.0))


def check_max_retries(max_retries: int) -> int:
    """``max_retries`` is the number of retries after the first attempt: an int from 0 to 10."""
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or not 0 <= max_retries <= 10:
        raise ConfigurationError(f"max_retries must be an int from 0 to 10, got {max_retries!r}.")
    return max_retries
