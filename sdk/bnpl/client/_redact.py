"""Scrub secrets from anything the client logs or puts in an error message."""

from __future__ import annotations

import re

# Secret keys, webhook secrets and bearer tokens; publishable keys are not secret but are scrubbed for uniformity.
_SECRET = re.compile(r"\b(sk_(?:test|live)_|whsec_|whpk_|pk_(?:test|live)_)[A-Za-z0-9+/=_\-]+")
_BEARER = re.compile(r"(?i)(bearer\s+)\S+")


def redact(text: str) -> str:
    """Replace every secret-looking token in ``text`` with its prefix and ``[REDACTED]``."""
    if "_" not in text and "earer" not in text:  # fast path: the common log line has nothing to scrub
        return text
    return _BEARER.sub(r"\1[REDACTED]", _SECRET.sub(r"\1[REDACTED]", text))
