"""``bnpl sandbox serve --workers N``: several processes on one port over PostgreSQL; refused on SQLite."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sandbox_helpers import checkout_body

from bnpl.sandbox.server import serve

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg_schema_url(postgres_url: str) -> Iterator[str]:
    import psycopg

    schema = "workers_" + secrets.token_hex(5)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in postgres_url else "?"
    try:
        yield f"{postgres_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_two_worker_processes_share_the_port_and_the_database(pg_schema_url: str) -> None:
    cmd = [sys.executable, "-m", "bnpl.cli", "sandbox", "serve", "--port", "0", "--workers", "2"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "sdk")}
    proc = subprocess.Popen(  # noqa: S603 - our own CLI
        [*cmd, "--db", pg_schema_url, "--json"], stdout=subprocess.PIPE, env=env, text=True
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        created = []
        # Fresh connections each time, so the kernel hands them to both workers over the run.
        for _ in range(12):
            response = httpx.post(
                f"{info['base_url']}/v1/checkouts",
                json=checkout_body(),
                headers={"Authorization": f"Bearer {info['secret_key']}"},
                timeout=30,
            )
            assert response.status_code == 201, response.text
            created.append(response.json()["id"])
        listed = httpx.get(
            f"{info['base_url']}/v1/checkouts",
            params={"limit": 50},
            headers={"Authorization": f"Bearer {info['secret_key']}"},
            timeout=30,
        ).json()
        assert sorted(c["id"] for c in listed["data"]) == sorted(created)
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0


def test_workers_are_refused_on_sqlite(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs PostgreSQL"):
        serve(str(tmp_path / "s.db"), port=0, workers=2)
    with pytest.raises(ValueError, match="positive integer"):
        serve(str(tmp_path / "s.db"), port=0, workers=0)
