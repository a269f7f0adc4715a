"""Reports on a small, hand-checked month of trading, and the independent cross-check with hledger."""
from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from core import clock
from erp.finance.export import journal_text
from erp.finance.queries import account_ledger, ap_aging, ar_aging, balance_sheet, profit_and_loss, trial_balance
from erp.finance.services import ensure_chart, post_entry, reverse_entry

M = Decimal


def line(account, debit=None, credit=None, **extra):
    return {"account": account, "debit": debit, "credit": credit, **extra}


def customer(code, due):
    return {"partner_type": "customer", "partner_code": code, "due_date": due}


def supplier(code, due):
    return {"partner_type": "supplier", "partner_code": code, "due_date": due}


#: capital paid in; goods bought on credit with 13 % input VAT; sold on credit with 13 % output VAT; cost of
#: sales; rent; part of the invoice paid; a wrong fee posted and reversed
SCENARIO = [
    (date(2026, 1, 5), "股东投入资本", None, [line("1002", "1000000.00"), line("3001", credit="1000000.00")]),
    (date(2026, 1, 10), "采购商品 S001 增值税专用发票", ("supplier_invoice", 1), [
        line("1405", "100000.00"), line("222101", "13000.00"),
        line("2202", credit="113000.00", **supplier("S001", date(2026, 2, 9)))]),
    (date(2026, 1, 20), "销售商品 C001 13% 增值税", ("sales_invoice", 42), [
        line("1122", "169500.00", **customer("C001", date(2026, 2, 19))),
        line("5001", credit="150000.00"), line("222102", credit="19500.00")]),
    (date(2026, 1, 20), "结转销售成本", ("sales_invoice", 42), [
        line("5401", "60000.00"), line("1405", credit="60000.00")]),
    (date(2026, 1, 31), "支付一月办公室租金", None, [line("5602", "5000.00"), line("1002", credit="5000.00")]),
    (date(2026, 2, 10), "收到 C001 部分货款", ("receipt", 3), [
        line("1002", "100000.00"), line("1122", credit="100000.00", partner_type="customer", partner_code="C001")]),
]


def post_scenario(session) -> None:
    ensure_chart(session)
    for when, text, source, lines in SCENARIO:
        post_entry(session, date=when, lines=lines, description=text, user="lina", source=source)
    wrong = post_entry(session, date=date(2026, 2, 12), lines=[line("5603", "300.00"), line("1002", credit="300.00")],
                       description="银行手续费（错记）", user="lina")
    reverse_entry(session, wrong, user="lina", date=date(2026, 2, 13))


@pytest.fixture
def books(tx):
    with tx() as session:
        post_scenario(session)
    return tx


def test_the_trial_balance_has_the_hand_checked_figures_and_balances(books):
    with books(readonly=True) as session:
        tb = trial_balance(session)
    assert {r["code"]: r["balance"] for r in tb["accounts"]} == {
        "1002": M("1095000.00"), "1122": M("69500.00"), "1405": M("40000.00"), "2202": M("113000.00"),
        "222101": M("13000.00"), "222102": M("19500.00"), "3001": M("1000000.00"), "5001": M("150000.00"),
        "5401": M("60000.00"), "5602": M("5000.00"), "5603": M("0.00")}
    assert tb["total_debit"] == tb["total_credit"] == M("1448100.00")
    assert tb["balance_debit"] == tb["balance_credit"] == M("1282500.00") and tb["balanced"]
    with books(readonly=True) as session:
        january = trial_balance(session, as_of=date(2026, 1, 31))
    assert {r["code"]: r["balance"] for r in january["accounts"]}["1002"] == M("995000.00")


def test_the_profit_and_loss_of_january(books):
    with books(readonly=True) as session:
        pl = profit_and_loss(session, date(2026, 1, 1), date(2026, 1, 31))
    assert pl["lines"]["operating_revenue"] == M("150000.00") and pl["lines"]["operating_cost"] == M("60000.00")
    assert pl["lines"]["administrative_expenses"] == M("5000.00")
    assert pl["operating_profit"] == pl["total_profit"] == pl["net_profit"] == M("85000.00")
    with books(readonly=True) as session:
        assert profit_and_loss(session, date(2026, 2, 1), date(2026, 2, 28))["net_profit"] == M("0.00")


def test_the_balance_sheet_balances_with_the_profit_in_equity(books):
    with books(readonly=True) as session:
        bs = balance_sheet(session, date(2026, 2, 28))
    assert bs["total_assets"] == M("1204500.00")
    assert bs["total_liabilities"] == M("119500.00")  # 113,000 payable + 19,500 output VAT - 13,000 input VAT
    assert bs["undistributed_profit"] == M("85000.00") and bs["total_equity"] == M("1085000.00")
    assert bs["total_liabilities_and_equity"] == bs["total_assets"] and bs["balanced"]


def test_the_ledger_of_receivables_runs_its_balance(books):
    with books(readonly=True) as session:
        ledger = account_ledger(session, "1122")
        taxes = account_ledger(session, "2221", date_from=date(2026, 1, 15))
    assert [(x["number"], x["debit"], x["credit"], x["balance"]) for x in ledger["lines"]] == [
        ("记-2026-000003", M("169500.00"), M("0.00"), M("169500.00")),
        ("记-2026-000006", M("0.00"), M("100000.00"), M("69500.00"))]
    assert ledger["closing"] == M("69500.00")
    assert taxes["opening"] == M("-13000.00") and taxes["closing"] == M("6500.00")


def test_aging_puts_open_items_in_buckets_after_paying_the_oldest_first(tx):
    with tx() as session:
        ensure_chart(session)
        for when, due, amount in ((date(2025, 11, 1), date(2025, 12, 1), "1000.00"),
                                  (date(2026, 1, 1), date(2026, 1, 31), "2000.00"),
                                  (date(2026, 2, 1), date(2026, 3, 3), "3000.00"),
                                  (date(2026, 3, 1), date(2026, 3, 31), "4000.00")):
            post_entry(session, date=when, description="销售", user="t", lines=[
                line("1122", amount, **customer("C001", due)), line("5001", credit=amount)])
        post_entry(session, date=date(2026, 2, 5), description="销售", user="t", lines=[
            line("1122", "500.00", **customer("C002", date(2025, 11, 1))), line("5001", credit="500.00")])
        post_entry(session, date=date(2026, 3, 2), description="收款", user="t", lines=[
            line("1002", "1500.00"), line("1122", credit="1500.00", partner_type="customer", partner_code="C001")])
        post_entry(session, date=date(2026, 3, 5), description="采购", user="t", lines=[
            line("1405", "800.00"), line("2202", credit="800.00", **supplier("S001", date(2026, 1, 20)))])
    with clock.frozen(datetime(2026, 3, 16, 2, 0, tzinfo=UTC)), tx(readonly=True) as session:
        ar, ap = ar_aging(session), ap_aging(session)
    assert ar["as_of"] == date(2026, 3, 16)
    c001, c002 = ar["partners"]
    assert (c001["partner_code"], c001["current"], c001["1-30"], c001["31-60"], c001["61-90"], c001["over_90"]) == (
        "C001", M("4000.00"), M("3000.00"), M("1500.00"), M("0.00"), M("0.00"))
    assert c001["total"] == M("8500.00") and c002["over_90"] == M("500.00")
    assert ar["totals"]["total"] == M("9000.00")
    assert [(p["partner_code"], p["31-60"]) for p in ap["partners"]] == [("S001", M("800.00"))]


def test_an_overpayment_shows_as_unapplied_credit(tx):
    with tx() as session:
        ensure_chart(session)
        post_entry(session, date=date(2026, 3, 1), description="预收", user="t", lines=[
            line("1002", "50.00"), line("1122", credit="50.00", partner_type="customer", partner_code="C9")])
        aging = ar_aging(session, date(2026, 3, 2))
    assert aging["partners"][0]["unapplied"] == M("50.00") and aging["partners"][0]["total"] == M("-50.00")


def _hledger() -> str | None:
    found = shutil.which("hledger")
    if found is None and os.environ.get("ERP_REQUIRE_TOOLS") == "1":
        pytest.fail("hledger is required (ERP_REQUIRE_TOOLS=1) but not on PATH")
    if found is None:
        pytest.skip("hledger is not on PATH: the independent cross-check of the ledger did not run")
    return found


def hledger_balances(hledger: str, journal: str, tmp_path) -> tuple[dict[str, Decimal], Decimal]:
    """Per account code hledger's balance (debit positive), and its total."""
    path = tmp_path / "books.journal"
    path.write_text(journal, encoding="utf-8")
    done = subprocess.run([hledger, "-f", str(path), "balance", "--flat", "--empty", "-O", "csv"],
                          capture_output=True, text=True, timeout=60, check=True)
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == ["account", "balance"]
    amounts = {name: _cny(value) for name, value in rows[1:]}
    total = amounts.pop("total")
    return {name.split(":")[-1].split(" ")[0]: value for name, value in amounts.items()}, total


def _cny(text: str) -> Decimal:
    text = text.strip()
    if text in ("0", ""):
        return M("0.00")
    number, commodity = text.split(" ")
    assert commodity == "CNY", text
    return M(number.replace(",", ""))


def test_hledger_reads_our_journal_and_agrees_with_the_trial_balance(books, tmp_path):
    hledger = _hledger()
    with books(readonly=True) as session:
        journal, tb = journal_text(session), trial_balance(session)
    ours = {r["code"]: r["debit"] - r["credit"] for r in tb["accounts"]}
    theirs, total = hledger_balances(hledger, journal, tmp_path)
    assert theirs == ours
    assert total == M("0.00") == tb["total_debit"] - tb["total_credit"]
    sides = subprocess.run([hledger, "-f", str(tmp_path / "books.journal"), "balance", "-O", "csv", "--flat",
                            "--empty", "-E", "amt:>0"], capture_output=True, text=True, timeout=60, check=True)
    assert _cny(list(csv.reader(io.StringIO(sides.stdout)))[-1][1]) == tb["total_debit"]
    assert "(记-2026-000001)" in journal and "assets:1122 应收账款" in journal


def test_hledger_agrees_with_our_balance_sheet_and_profit(books, tmp_path):
    hledger = _hledger()
    with books(readonly=True) as session:
        journal, bs = journal_text(session), balance_sheet(session, date(2026, 2, 28))
        pl = profit_and_loss(session, date(2026, 1, 1), date(2026, 2, 28))
    (tmp_path / "books.journal").write_text(journal, encoding="utf-8")

    def total(*query: str) -> Decimal:
        done = subprocess.run([hledger, "-f", str(tmp_path / "books.journal"), "balance", "-O", "csv", *query],
                              capture_output=True, text=True, timeout=60, check=True)
        return _cny(list(csv.reader(io.StringIO(done.stdout)))[-1][1])

    assert total("^assets") == bs["total_assets"] == M("1204500.00")
    assert -total("^liabilities") == bs["total_liabilities"]
    assert -total("^revenues", "^expenses") == pl["net_profit"] == bs["undistributed_profit"]
    assert -total("^equity") - total("^revenues", "^expenses") == bs["total_equity"]
