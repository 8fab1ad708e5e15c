"""Shared CLI output: aligned tables, JSON, and one-line errors."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

__all__ = ["emit_json", "render_table"]


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, right: Sequence[bool] | None = None) -> str:
    """Render rows as a plain aligned table (no box characters, so it pastes into tickets and logs)."""
    align_right = list(right) if right is not None else [False] * len(headers)
    widths = [len(h) for h in headers]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))

    def line(cells: Sequence[str]) -> str:
        parts = [cell.rjust(widths[i]) if align_right[i] else cell.ljust(widths[i]) for i, cell in enumerate(cells)]
        return "  ".join(parts).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(row) for row in rows)
    return "\n".join(out)


def emit_json(payload: Any) -> None:
    """Print one JSON document on stdout (UTF-8, no ASCII escaping, so 单利 stays readable)."""
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
