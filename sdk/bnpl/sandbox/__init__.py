"""The sandbox lender: a real local lender service speaking the API contract of :mod:`bnpl.models`.

>>> from bnpl.sandbox import run_sandbox
>>> with run_sandbox() as sandbox:          # doctest: +SKIP
...     print(sandbox.base_url)

Storage is SQLite (a file, WAL) or PostgreSQL (a ``postgresql://`` URL) on the same code path; see
docs/sandbox.md.
"""

from __future__ import annotations

from bnpl.sandbox.app import create_app
from bnpl.sandbox.db import Database, DatabaseError
from bnpl.sandbox.server import DEFAULT_PORT, SandboxInfo, run_sandbox, serve
from bnpl.sandbox.settings import Clock, Settings, SystemClock

__all__ = [
    "DEFAULT_PORT",
    "Clock",
    "Database",
    "DatabaseError",
    "SandboxInfo",
    "Settings",
    "SystemClock",
    "create_app",
    "run_sandbox",
    "serve",
]
