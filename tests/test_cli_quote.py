"""`bnpl quote`: the table, the JSON document, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest
from click.testing import CliRunner

from bnpl.cli import cli

ACCEPTANCE = ["12999", "CNY", "--product", "monthly", "--periods", "12", "--method", "flat_fee", "--fee-rate", "0.6"]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_acceptance_quote_table() -> None:
    code, out, err = run("quote", *ACCEPTANCE, "--start", "2026-11-28")
    assert code == 0, err
    assert "13.03 % (单利)" in out
    assert "13.84 %" in out
    assert "13,934.88" in out
    assert out.count("1,161.24") == 12


def test_acceptance_quote_json_sums_exactly() -> None:
    code, out, _ = run("quote", *ACCEPTANCE, "--start", "2026-11-28", "--json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) >= {
        "currency",
        "principal",
        "instalments",
        "total_payable",
        "total_cost_of_credit",
        "merchant_subsidy",
        "annual_rates",
    }
    assert len(doc["instalments"]) == 12
    assert sum(Decimal(i["amount"]) for i in doc["instalments"]) == Decimal(doc["total_payable"])
    assert set(doc["instalments"][0]) >= {"due_date", "principal", "interest", "fee", "amount", "balance"}
    assert round(Decimal(doc["annual_rates"]["cn_simple"]), 2) == Decimal("13.03")
    assert round(Decimal(doc["annual_rates"]["cn_compound"]), 2) == Decimal("13.84")
    assert set(doc["annual_rates"]) == {"us_reg_z", "eu_aprc", "cn_compound", "cn_simple"}


def test_every_pricing_option() -> None:
    code, out, err = run(
        "quote", "1299", "CNY", "--periods", "6", "--method", "annuity", "--annual-rate", "15", "--upfront-fee", "10",
        "--down-payment", "299", "--subsidy", "50", "--start", "2026-01-31", "--json",
    )  # fmt: skip
    assert code == 0, err
    doc = json.loads(out)
    assert doc["down_payment"] == "299.00"
    assert doc["amount_financed"] == "1000.00"
    assert doc["upfront_fee"] == "5.00"
    assert Decimal(doc["merchant_subsidy"]) > 0
    assert doc["instalments"][0]["due_date"] == "2026-02-28"
    assert doc["instalments"][1]["due_date"] == "2026-03-31"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["12999", "CNY", "--product", "pay_in_5"], "'pay_in_4', 'pay_in_30', 'monthly'"),
        (["12999", "CNY", "--method", "balloon"], "'annuity', 'equal_principal', 'flat_fee', 'interest_only'"),
        (["12.999", "CNY"], "more than 2 decimals"),
        (["abc", "CNY"], "cannot read"),
        (["100", "XYZ"], "unknown currency"),
        (["100", "CNY", "--fee-rate", "lots"], "not a percentage"),
        (["100", "CNY", "--product", "pay_in_4", "--fee-rate", "1"], "pay_in_4 is free"),
        (["100", "CNY", "--periods", "0"], "periods"),
        (["100", "CNY", "--start", "28/11/2026"], "--start"),
        (["100"], "CURRENCY"),
    ],
)
def test_bad_input_is_one_line_on_stderr_with_exit_2(args: list[str], needle: str) -> None:
    code, out, err = run("quote", *args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert needle in err


def run_quote(*args: str) -> tuple[int, str, str]:
    return run("quote", *args)


def test_quote_subcommand_name() -> None:
    code, out, _ = run_quote("100", "JPY", "--periods", "3", "--method", "equal_principal", "--json")
    assert code == 0
    assert json.loads(out)["principal"] == "100"


def test_console_script_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bnpl.cli", "quote", "100", "CNY", "--product", "pay_in_30", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["instalments"][0]["amount"] == "100.00"
