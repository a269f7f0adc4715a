"""`erp ledger` as a user runs it: seed, post, refuse, reverse, trial balance, export read back by hledger."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

ERP = [sys.executable, "-m", "erp.cli", "ledger"]


@pytest.fixture
def ledger(database, database_url):
    env = {**os.environ, "ERP_DATABASE_URL": database_url}

    def run(*args, ok=True):
        done = subprocess.run([*ERP, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
        if ok:
            assert done.returncode == 0, done.stderr + done.stdout
        return done

    return run


def test_the_books_from_the_command_line(ledger, tmp_path):
    assert "accounts added or updated" in ledger("seed").stdout
    accounts = json.loads(ledger("accounts", "--json").stdout)["accounts"]
    assert {"code": "1122", "name_zh": "应收账款", "name_en": "Accounts receivable", "type": "asset",
            "normal_side": "debit", "parent": None, "postable": True, "active": True} in accounts

    posted = json.loads(ledger("post", "--date", "2026-01-05", "--description", "股东投入资本", "--line",
                               "1002:1000000.00:", "--line", "3001::1000000.00", "--json").stdout)
    assert posted["number"] == "记-2026-000001"
    ledger("post", "--date", "2026-01-20", "--description", "销售", "--source", "sales_invoice/42",
           "--line", "1122:1130.00::customer:C001:2026-02-19", "--line", "5001::1000.00", "--line", "222102::130.00")

    refused = ledger("post", "--date", "2026-01-21", "--description", "不平", "--line", "1002:10.00:",
                     "--line", "3001::9.99", "--json", ok=False)
    assert refused.returncode == 1 and "lines" in json.loads(refused.stdout)["errors"]
    assert "记-2026-000003" in ledger("reverse", "记-2026-000002", "--date", "2026-01-22").stdout

    tb = json.loads(ledger("trial-balance", "--as-of", "2026-01-20", "--json").stdout)
    assert tb["total_debit"] == tb["total_credit"] == "1001130.00"
    assert {r["code"]: r["balance"] for r in tb["accounts"]}["222102"] == "130.00"
    assert ledger("trial-balance").stdout.splitlines()[-1].split() == ["total", "1,002,260.00", "1,002,260.00"]

    exported = ledger("export", "--to", "2026-01-20").stdout
    assert exported.count("(记-2026-") == 2 and "记-2026-000003" not in exported
    if shutil.which("hledger"):
        path = tmp_path / "cli.journal"
        path.write_text(exported, encoding="utf-8")
        check = subprocess.run(["hledger", "-f", str(path), "balance", "assets:1122"], capture_output=True,
                               text=True, timeout=60, check=True)
        assert "1130.00 CNY" in check.stdout
