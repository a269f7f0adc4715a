"""The default chart of accounts and the command line's line syntax, without a database."""
from __future__ import annotations

from datetime import date

import pytest

from core.errors import InvalidInput
from erp.finance.chart import CHART
from erp.finance.cli import _line
from erp.finance.export import _text
from erp.finance.models import ACCOUNT_TYPES, SIDES

CODES = {row[0] for row in CHART}


def test_the_chart_has_the_accounts_sales_and_purchasing_post_to():
    wanted = {"1001", "1002", "1122", "1123", "1221", "1403", "1405", "1601", "1602", "2001", "2202", "2203",
              "2211", "2221", "222101", "222102", "222103", "2241", "3001", "3103", "3104", "5001", "5051",
              "5401", "5403", "5601", "5602", "5603", "5711"}
    assert wanted <= CODES
    assert len(CODES) == len(CHART)


def test_every_account_has_a_type_a_side_and_a_parent_that_exists():
    for code, name_zh, name_en, type_, side, parent in CHART:
        assert type_ in ACCOUNT_TYPES and side in SIDES and name_zh and name_en
        if parent:
            assert parent in CODES and code.startswith(parent) and len(code) == len(parent) + 2


def test_contra_and_vat_accounts_sit_on_their_real_side():
    side = {row[0]: row[4] for row in CHART}
    assert side["1602"] == "credit"  # 累计折旧 reduces assets
    assert side["222101"] == "debit" and side["222102"] == "credit"  # 进项 on the debit, 销项 on the credit side
    assert {row[0]: row[1] for row in CHART}["5403"] == "税金及附加"


def test_a_command_line_line_takes_amounts_and_optionally_a_partner_and_due_date():
    assert _line("1002:1000.00:") == {"account": "1002", "debit": "1000.00", "credit": None}
    assert _line("1122:113.00::customer:C001:2026-02-01") == {
        "account": "1122", "debit": "113.00", "credit": None, "partner_type": "customer",
        "partner_code": "C001", "due_date": date(2026, 2, 1)}
    with pytest.raises(InvalidInput):
        _line("1002:1000")
    with pytest.raises(InvalidInput):
        _line("1122:1::customer:C001:soon")


def test_descriptions_in_the_export_stay_on_one_line_without_comment_marks():
    assert _text("货款;\n 第一批") == "货款； 第一批"
