"""The stock pages: levels with value, what is below its reorder point, one product's moves."""
from __future__ import annotations

import pytest

from erp.inventory import queries
from tests.webapp.conftest import login
from tests.webapp.erp_pages import load_company, shown


@pytest.fixture
def company(database):
    load_company(database)


@pytest.mark.parametrize("role", ["warehouse", "sales", "finance", "manager", "administrator"])
def test_stock_is_shown_to_the_roles_that_need_it(client, make_user, company, role):
    login(client, make_user(f"only_{role}", roles=[role]))
    assert client.get("/stock").status_code == 200
    assert client.get("/stock/products/HX-TEA-001").status_code == 200


@pytest.mark.parametrize("role", ["employee", "analyst"])
def test_stock_is_refused_to_others(client, make_user, role):
    login(client, make_user(f"only_{role}", roles=[role]))
    assert client.get("/stock").status_code == 403
    assert client.get("/stock/products/HX-TEA-001").status_code == 403


def test_levels_show_value_and_highlight_what_is_below_its_reorder_point(client, make_user, company, database):
    login(client, make_user("wangjun", roles=["warehouse"]))
    html = client.get("/stock").get_data(as_text=True)
    assert "家用空气净化器" in html and "北京总仓" in html
    with database.transaction() as session:
        total = queries.stock_value(session)
        [low] = queries.below_reorder_point(session)
    assert shown(total) in html
    row = html.split(f'data-sku="{low.sku}" data-warehouse="{low.warehouse}"')[0].rsplit("<tr", 1)[1]
    assert "below-reorder" in row
    assert html.count("below-reorder") == 1
    only_tianjin = client.get("/stock?warehouse=TJ01").get_data(as_text=True)
    assert 'data-warehouse="BJ01"' not in only_tianjin and 'data-warehouse="TJ01"' in only_tianjin


def test_a_products_moves(client, make_user, company):
    login(client, make_user("wangjun", roles=["warehouse"]))
    html = client.get("/stock/products/HX-RICE-001").get_data(as_text=True)
    assert "五常大米" in html and html.count('class="move-row"') == 4  # two receipts, two sales issues
    assert client.get("/stock/products/NO-SUCH").status_code == 404
