"""The books' pages show the figures erp.finance.queries computes, to the cent, and only to finance roles."""
from __future__ import annotations

import pytest

from erp.finance import queries
from erp.finance.services import today
from tests.webapp.conftest import login
from tests.webapp.erp_pages import load_company, shown

PAGES = ("/ledger/trial-balance", "/ledger/profit-and-loss", "/ledger/balance-sheet", "/ledger/ar-aging")


@pytest.fixture
def books(client, make_user, database):
    load_company(database)
    login(client, make_user("sunmei", roles=["employee", "finance"]))
    return client


@pytest.mark.parametrize("role", ["finance", "manager", "administrator"])
def test_the_books_are_shown_to_finance_roles(client, make_user, role):
    login(client, make_user(f"only_{role}", roles=[role]))
    for path in PAGES:
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize("role", ["sales", "warehouse", "employee", "analyst"])
def test_the_books_are_refused_to_others(client, make_user, role):
    login(client, make_user(f"only_{role}", roles=[role]))
    for path in PAGES:
        assert client.get(path).status_code == 403, path


def test_trial_balance_page_equals_the_query(books, database):
    html = books.get("/ledger/trial-balance").get_data(as_text=True)
    with database.transaction() as session:
        report = queries.trial_balance(session, today())
    assert report["balanced"] and 'id="balanced"' in html
    assert f'id="total-debit">{shown(report["total_debit"])}' in html
    assert f'id="total-credit">{shown(report["total_credit"])}' in html
    for account in report["accounts"]:
        assert f'data-code="{account["code"]}"' in html
        assert shown(account["balance"]) in html


def test_profit_and_loss_page_equals_the_query(books, database):
    day = today()
    start = day.replace(year=day.year - 1)
    html = books.get(f"/ledger/profit-and-loss?date_from={start}&date_to={day}").get_data(as_text=True)
    with database.transaction() as session:
        report = queries.profit_and_loss(session, start, day)
    assert report["net_profit"] != 0
    assert f'data-line="net_profit"><td>净利润</td><td class="text-end amount">{shown(report["net_profit"])}' in html
    for key, amount in report["lines"].items():
        assert f'data-line="{key}"' in html and shown(amount) in html
    assert 'id="chart-profit"' in html and "echarts.min.js" in html and "charts.js" in html


def test_balance_sheet_page_equals_the_query(books, database):
    html = books.get("/ledger/balance-sheet").get_data(as_text=True)
    with database.transaction() as session:
        report = queries.balance_sheet(session, today())
    assert report["balanced"] and 'id="balanced"' in html
    assert f'id="total-assets">{shown(report["total_assets"])}' in html
    assert f'id="total-liabilities-and-equity">{shown(report["total_liabilities_and_equity"])}' in html


def test_ar_aging_page_equals_the_query(books, database):
    html = books.get("/ledger/ar-aging").get_data(as_text=True)
    with database.transaction() as session:
        report = queries.ar_aging(session, today())
    assert report["totals"]["total"] > 0
    assert f'id="aging-total">{shown(report["totals"]["total"])}' in html
    for bucket, amount in report["totals"].items():
        if bucket not in ("total", "unapplied"):
            assert f'data-bucket="{bucket}">{shown(amount)}' in html
    assert "北京鑫源百货有限公司" in html and 'id="chart-aging"' in html


def test_a_bad_date_is_refused(books):
    assert books.get("/ledger/trial-balance?as_of=yesterday").status_code == 422


def test_echarts_is_served_by_the_app(client):
    response = client.get("/vendor/echarts/echarts.min.js")
    assert response.status_code == 200 and len(response.data) > 100_000
    assert client.get("/static/charts.js").status_code == 200
