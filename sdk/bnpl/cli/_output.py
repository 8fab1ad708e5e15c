"""Shared CLI output: aligned tables, JSON, and one-line errors."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import click
import pydantic

from bnpl.money import Money

__all__ = ["emit_json", "format_money", "format_time", "render_fields", "render_table", "to_json"]


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


def format_money(minor: int, currency: str) -> str:
    """An amount in minor units shown in major units with its currency, e.g. ``1,299.00 CNY``."""
    return f"{Money(minor, currency).format('en_US', symbol=False)} {currency}"


def to_json(obj: Any) -> Any:
    """A pydantic API object (or a list of them) as plain JSON data, exactly as the API serialises it."""
    if isinstance(obj, list):
        return [to_json(item) for item in obj]
    if isinstance(obj, pydantic.BaseModel):
        return obj.model_dump(mode="json")
    return obj


def render_fields(fields: Sequence[tuple[str, str]]) -> str:
    """``label  value`` lines with the labels aligned, for one object's summary."""
    width = max((len(label) for label, _ in fields), default=0)
    return "\n".join(f"{label.ljust(width)}  {value}".rstrip() for label, value in fields)


def format_time(moment: datetime | None) -> str:
    """A timestamp as ``YYYY-MM-DD HH:MM:SS`` UTC (``-`` when absent)."""
    if moment is None:
        return "-"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
