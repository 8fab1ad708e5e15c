"""Sandbox fixtures: a real lender over HTTP on 127.0.0.1, on SQLite (a temporary file) or PostgreSQL (a fresh
schema per test, dropped afterwards)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sandbox_helpers import Api

from bnpl.sandbox import SandboxInfo, Settings, run_sandbox
from bnpl.sandbox.auth import MerchantKeys, create_merchant


def _pg_schema(url: str) -> Iterator[str]:
    import psycopg

    schema = "sandbox_" + secrets.token_hex(6)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgres"])
def sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SandboxInfo]:
    """A running sandbox on each backend (PostgreSQL in a fresh schema)."""
    settings = Settings(expiry_sweep_seconds=0)  # tests expire things explicitly
    if request.param == "sqlite":
        with run_sandbox(str(tmp_path / "sandbox.db"), settings=settings) as info:
            yield info
        return
    url: str = request.getfixturevalue("postgres_url")
    for schema in _pg_schema(url):
        with run_sandbox(url, settings=settings, schema=schema) as info:
            yield info


@pytest.fixture(scope="module")
def sqlite_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxInfo]:
    """One SQLite sandbox shared by a module's tests (for tests that don't depend on the backend)."""
    path = tmp_path_factory.mktemp("sandbox") / "sandbox.db"
    with run_sandbox(str(path), settings=Settings(expiry_sweep_seconds=0)) as info:
        yield info


@pytest.fixture
def api(sandbox: SandboxInfo) -> Iterator[Api]:
    """The default merchant's API on the parametrised sandbox."""
    client = Api(sandbox)
    yield client
    client.close()


@pytest.fixture
def other_merchant(sandbox: SandboxInfo) -> MerchantKeys:
    """A second merchant on the same sandbox."""
    return create_merchant(sandbox.db, datetime.now(UTC), name="other")


@pytest.fixture
def api_for(sandbox: SandboxInfo) -> Iterator[Callable[[str], Api]]:
    """Build an :class:`Api` for another key on the same sandbox."""
    made: list[Api] = []

    def build(key: str) -> Api:
        made.append(Api(sandbox, key))
        return made[-1]

    yield build
    for client in made:
        client.close()
