"""The layering rule of docs/architecture.md, enforced: imports only point down the layers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sdk" / "bnpl"

# Each room and the rooms it may import from (besides itself). Lower layers never import upper ones.
ALLOWED: dict[str, set[str]] = {
    "money": set(),
    "plans": {"money"},
    "errors": set(),
    "models": {"money", "plans"},
    "webhooks": {"money", "models"},
    "client": {"money", "plans", "models", "errors", "webhooks"},
    "sandbox": {"money", "plans", "models", "webhooks"},
    "cli": {"money", "plans", "models", "errors", "webhooks", "client", "sandbox"},
}


def room_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def bnpl_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "bnpl" and len(parts) > 1:
                found.add(parts[1])
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: Path) -> None:
    room = room_of(path)
    if room not in ALLOWED:
        pytest.fail(f"{room!r} is not in the layer table of docs/architecture.md; add it there and here")
    forbidden = {target for target in bnpl_imports(path) if target != room and target not in ALLOWED[room]}
    assert not forbidden, f"{path.relative_to(PACKAGE)} ({room}) imports {sorted(forbidden)}: imports must point down"


def test_the_rule_itself_catches_an_upward_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from bnpl.client import Client\nimport bnpl.cli.quote\n", encoding="utf-8")
    assert bnpl_imports(sample) == {"client", "cli"}
