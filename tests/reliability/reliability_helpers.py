"""Helpers shared by the reliability suites (a module with a unique name: conftest modules can't be imported)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

__all__ = ["pg_schema", "scale"]


def pg_schema(url: str) -> Iterator[str]:
    """A fresh PostgreSQL schema for one test, dropped afterwards."""
    import psycopg

    schema = "rel_" + secrets.token_hex(6)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def scale(default: int, slow: int, config: pytest.Config) -> int:
    """``slow`` under --run-slow, else ``default`` (overridable with BNPL_RELIABILITY_OPS for a one-off run)."""
    if os.environ.get("BNPL_RELIABILITY_OPS"):
        return int(os.environ["BNPL_RELIABILITY_OPS"])
    return slow if config.getoption("--run-slow") else default
