"""`bnpl demo`, the README's main job, runs end to end against the embedded sandbox and checks every step."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from bnpl.cli import cli


def test_demo_json_transcript_checks_out() -> None:
    result = CliRunner().invoke(cli, ["demo", "--json"])
    assert result.exit_code == 0, result.output
    transcript = json.loads(result.stdout)
    assert transcript["ok"] is True
    assert all(s["ok"] for s in transcript["steps"])
    assert len(transcript["steps"]) == 10
    summary = transcript["steps"][-1]
    assert summary["received"] == summary["verified"]
    assert summary["duplicates_dropped"] == 1
    assert summary["applied"] >= 15
    advance = transcript["steps"][-2]
    assert advance["status"] == "paid_off"
    refund = next(s for s in transcript["steps"] if "refunded" in s)
    capture = next(s for s in transcript["steps"] if "captured" in s)
    assert capture["captured"] - refund["refunded"] == 109900


def test_demo_story_on_the_console_script() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bnpl.cli", "demo"], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every step checked out" in done.stdout
    assert "order.paid_off" in done.stdout
    assert "单利" in done.stdout
