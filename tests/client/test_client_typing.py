"""Proves that user code calling the client is clean under ``mypy --strict`` and that mistakes are caught."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def run_mypy(*files: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MYPYPATH": str(ROOT / "sdk")}
    return subprocess.run(  # noqa: S603 - fixed argv: this interpreter's mypy on files we wrote
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--config-file", str(ROOT / "pyproject.toml"),
         *map(str, files)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )  # fmt: skip


BAD_USER_CODE = (
    "import bnpl.client as bc\n"
    "client = bc.Client()\n"
    "client.orders.capture('ord_1', amount='12.50')\n"
    "client.orders.refund('ord_1', amuont=5)\n"
    "x: int = client.orders.retrieve('ord_1')\n"
)


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One mypy run (it takes a while) over the good user code and a file of deliberate mistakes."""
    bad = tmp_path_factory.mktemp("typing") / "bad_user_code.py"
    bad.write_text(BAD_USER_CODE)
    result = run_mypy(HERE / "typing_check.py", bad)
    assert "Found" in result.stdout or "Success" in result.stdout, result.stderr
    return result.stdout


def test_user_code_is_mypy_strict_clean(mypy_output: str) -> None:
    assert [line for line in mypy_output.splitlines() if "typing_check.py" in line] == []


def test_mypy_catches_wrong_argument_names_and_types(mypy_output: str) -> None:
    bad_lines = [line for line in mypy_output.splitlines() if "bad_user_code.py" in line and ": error:" in line]
    assert any(':3: error: Argument "amount" to "capture"' in line for line in bad_lines), bad_lines
    assert any(":4: error:" in line and '"amuont"' in line for line in bad_lines), bad_lines
    assert any(':5: error: Incompatible types in assignment (expression has type "Order"' in line for line in bad_lines)
    assert len(bad_lines) == 3
