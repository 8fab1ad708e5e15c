"""Reliability fixtures: a sandbox on SQLite or PostgreSQL (fresh schema), background delivery and expiry off so
every suite drives time and delivery itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_helpers import pg_schema

from bnpl.sandbox import SandboxInfo, Settings, run_sandbox


@pytest.fixture
def no_background_delivery(monkeypatch: pytest.MonkeyPatch) -> None:
    """The documented switch: the app does not start its delivery thread (tests step DeliveryWorker)."""
    monkeypatch.setenv("BNPL_SANDBOX_DELIVERY", "0")


@pytest.fixture(params=["sqlite", "postgres"])
def any_sandbox(request: pytest.FixtureRequest, tmp_path: Path, no_background_delivery: None) -> Iterator[SandboxInfo]:
    """A running sandbox on each backend."""
    settings = Settings(expiry_sweep_seconds=0)
    if request.param == "sqlite":
        with run_sandbox(str(tmp_path / "sandbox.db"), settings=settings) as info:
            yield info
        return
    url: str = request.getfixturevalue("postgres_url")
    for schema in pg_schema(url):
        with run_sandbox(url, settings=settings, schema=schema) as info:
            yield info


@pytest.fixture
def sqlite_sandbox(tmp_path: Path, no_background_delivery: None) -> Iterator[SandboxInfo]:
    """A running sandbox on a temporary SQLite file."""
    with run_sandbox(str(tmp_path / "sandbox.db"), settings=Settings(expiry_sweep_seconds=0)) as info:
        yield info
