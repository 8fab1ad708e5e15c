"""Regenerate the API contract files from bnpl.models: docs/openapi.json and webhooks/schemas/*.json.

Usage: .venv/bin/python scripts/generate_contract.py [--check]
With --check nothing is written; the exit status is 1 if any file is missing, stale or orphaned.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "sdk"))

from bnpl.models.openapi import SCHEMAS_DIR, render_contract  # noqa: E402  (after the sys.path tweak)


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) every generated contract file; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report drift, write nothing")
    args = parser.parse_args(argv)

    files = render_contract()
    orphans = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / SCHEMAS_DIR).glob("*.json")
        if str(path.relative_to(ROOT)) not in files
    )
    stale = sorted(
        rel for rel, text in files.items()
        if not (ROOT / rel).exists() or (ROOT / rel).read_text(encoding="utf-8") != text
    )  # fmt: skip
    if args.check:
        for rel in stale:
            print(f"stale or missing: {rel}")
        for rel in orphans:
            print(f"orphaned (no such event type): {rel}")
        return 1 if stale or orphans else 0
    for rel in stale:
        path = ROOT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[rel], encoding="utf-8")
        print(f"wrote {rel}")
    for rel in orphans:
        (ROOT / rel).unlink()
        print(f"removed {rel}")
    print(f"{len(files)} contract files up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
