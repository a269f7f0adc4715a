"""Reading legacy data: CSV in any of the usual encodings and delimiters, XLSX (the template filled in) and a
legacy SQLite database read-only; hostile files are refused with InvalidInput."""
from __future__ import annotations

import io
import sqlite3
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from core.errors import InvalidInput
from erp.migration import sources, templates
from erp.migration.sources import legacy_engine, read_csv, read_source, read_sql, read_xlsx
from tests.migration_data import csv_bytes, customer_rows, fake, xlsx_bytes

ENCODINGS = {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "gb18030": "gb18030"}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_encoding_and_delimiter_are_detected_and_quoted_fields_survive(encoding, delimiter):
    rows = customer_rows(12)
    table = read_csv(csv_bytes(rows, encoding=encoding, delimiter=delimiter))
    assert (table.encoding, table.delimiter, table.kind) == (ENCODINGS[encoding], delimiter, "csv")
    assert table.columns == list(rows[0])
    assert [r for _, r in table.rows] == rows  # commas and line breaks inside quoted addresses included


def test_latin1_is_the_last_resort():
    data = "name;city\nJosé Müller;Zürich\nFrançois;Genève\n".encode("latin-1")
    table = read_csv(data)
    assert (table.encoding, table.delimiter) == ("latin-1", ";")
    assert table.rows[0][1] == {"name": "José Müller", "city": "Zürich"}


def test_row_numbers_are_the_lines_records_start_on_and_blank_lines_are_skipped():
    data = 'id,地址\n1,"北京市朝阳区\n建国路 1 号"\n\n2,上海\n,\n3,"广州, 天河"\n'.encode()
    table = read_csv(data)
    assert [(n, r["id"]) for n, r in table.rows] == [(2, "1"), (5, "2"), (7, "3")]
    assert table.rows[0][1]["地址"] == "北京市朝阳区\n建国路 1 号"


def test_short_rows_are_padded_and_long_rows_keep_their_extra_cells():
    table = read_csv(b"a,b,c\n1\n1,2,3,4\n")
    assert table.rows[0][1] == {"a": "1", "b": "", "c": ""}
    assert table.rows[1][1][sources.EXTRA_CELLS] == "4"


@pytest.mark.parametrize("header, problem", [(b"id,name,id\n1,a,2\n", "repeats"), (b"id,,name\n1,2,3\n", "no name"),
                                             (b"\n\n", "empty")])
def test_duplicate_or_empty_headers_are_refused(header, problem):
    with pytest.raises(InvalidInput, match=problem):
        read_csv(header)


def test_trailing_empty_header_cells_are_dropped():
    assert read_csv(b"id,name,,\n1,a,,\n").columns == ["id", "name"]


def test_an_explicit_encoding_that_does_not_fit_is_refused():
    with pytest.raises(InvalidInput, match="utf-8"):
        read_csv("名称\n华联\n".encode("gb18030"), encoding="utf-8")


def test_binary_files_and_workbooks_named_csv_are_refused():
    with pytest.raises(InvalidInput, match="binary"):
        read_csv("名称\n华联\n".encode("utf-16"))
    with pytest.raises(InvalidInput, match="xlsx"):
        read_csv(templates.template_xlsx("customers"))


def test_files_over_the_size_or_cell_limit_are_refused(monkeypatch):
    rows = customer_rows(30)
    monkeypatch.setattr(sources, "MAX_CELLS", 100)
    with pytest.raises(InvalidInput, match="cells"):
        read_csv(csv_bytes(rows))
    with pytest.raises(InvalidInput, match="cells"):
        read_xlsx(xlsx_bytes([list(r.values()) for r in rows], header=list(rows[0])))
    monkeypatch.setattr(sources, "MAX_BYTES", 1000)
    with pytest.raises(InvalidInput, match="larger"):
        read_csv(csv_bytes(rows))


def test_a_field_larger_than_the_csv_limit_is_refused_not_a_crash():
    with pytest.raises(InvalidInput, match="malformed"):
        read_csv(b'a,b\n"' + b"x" * 200_000 + b'",1\n')


def test_a_filled_in_template_round_trips_through_xlsx():
    from openpyxl import load_workbook

    faker = fake()
    workbook = load_workbook(io.BytesIO(templates.template_xlsx("customers")))
    data = workbook[templates.DATA_SHEET]
    data.delete_rows(2, data.max_row)
    name, address = faker.company(), faker.address()
    data.append(["K0001", None, name, None, None, 13812345678, address, "北京", "北京市", "A", 12345.6, 30, None,
                 None])
    data.append(["K0002", None, "测试", None, None, None, None, None, None, "B", Decimal("0.1"), 0.1 + 0.2,
                 datetime(2024, 3, 31), date(2024, 4, 1)])
    out = io.BytesIO()
    workbook.save(out)
    table = read_xlsx(out.getvalue())
    assert table.kind == "xlsx" and table.columns[0] == "旧系统编号 Legacy ID *"
    first = table.rows[0]
    assert first[0] == 2
    assert first[1]["客户名称 Customer name *"] == name
    assert first[1]["电话 Phone"] == "13812345678"  # a number cell without ".0"
    assert first[1]["信用额度 Credit limit"] == "12345.6"
    second = table.rows[1][1]
    assert second["账期天数 Payment terms (days)"] == "0.3"  # Excel keeps 15 digits, so no float noise
    assert second["销售代表 Sales rep"] == "2024-03-31" and second["客户分类 Segment"] == "2024-04-01"


def test_the_instructions_sheet_is_skipped_even_when_first():
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = sources.INSTRUCTIONS_SHEET
    workbook.active.append(["说明"])
    workbook.create_sheet("客户").append(["编号"])
    workbook["客户"].append(["K1"])
    out = io.BytesIO()
    workbook.save(out)
    assert read_xlsx(out.getvalue()).rows == [(2, {"编号": "K1"})]
    with pytest.raises(InvalidInput, match="no sheet"):
        read_xlsx(out.getvalue(), sheet="Sheet9")


def test_formula_cells_are_read_as_their_values_never_evaluated():
    data = xlsx_bytes([["K1", "=1+1", '=HYPERLINK("http://evil","x")']], header=["id", "sum", "link"])
    table = read_xlsx(data)
    assert table.rows == [(2, {"id": "K1", "sum": "", "link": ""})]  # no cached value: nothing to show


def test_a_zip_bomb_is_refused_before_it_is_opened():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 2**20))
    with pytest.raises(InvalidInput, match="unpacks"):
        read_xlsx(out.getvalue())


@pytest.mark.parametrize("data", [b"not a zip", b"PK\x03\x04broken", b""])
def test_a_damaged_workbook_is_refused(data):
    with pytest.raises(InvalidInput):
        read_xlsx(data)


def test_a_workbook_zip_without_a_workbook_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(InvalidInput, match="cannot be read"):
        read_xlsx(out.getvalue())


def test_read_source_goes_by_the_extension():
    assert read_source("客户.CSV", b"a,b\n1,2\n").kind == "csv"
    assert read_source("客户.xlsx", templates.template_xlsx("products")).kind == "xlsx"
    for name in ("old.xls", "photo.png"):
        with pytest.raises(InvalidInput):
            read_source(name, b"x")


@pytest.fixture
def legacy_db(tmp_path):
    path = tmp_path / "legacy.db"
    faker = fake()
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE kehu (id INTEGER PRIMARY KEY, mingcheng TEXT, edu NUMERIC, jianli DATE, "
                     "beizhu TEXT)")
        conn.executemany("INSERT INTO kehu VALUES (?, ?, ?, ?, ?)",
                         [(n, faker.company(), 1000.5 * n, f"2024-01-0{n}", None) for n in range(1, 6)])
    conn.close()
    return path


def test_read_sql_reads_a_table_or_one_select(legacy_db):
    url = f"sqlite:///{legacy_db}"
    table = read_sql(url, "kehu")
    assert table.kind == "sql" and table.columns == ["id", "mingcheng", "edu", "jianli", "beizhu"]
    assert [n for n, _ in table.rows] == [1, 2, 3, 4, 5]
    assert table.rows[0][1]["edu"] == "1000.5" and table.rows[0][1]["beizhu"] == ""
    selected = read_sql(url, "SELECT id, mingcheng AS name FROM kehu WHERE id > 1 ORDER BY id;", limit=2)
    assert [r["id"] for _, r in selected.rows] == ["2", "3"] and selected.columns == ["id", "name"]


def test_the_legacy_database_is_opened_read_only(legacy_db):
    url = f"sqlite:///{legacy_db}"
    engine = legacy_engine(url)
    try:
        with pytest.raises(OperationalError, match="readonly|read-only|query_only"), engine.begin() as conn:
            conn.execute(text("DELETE FROM kehu"))
    finally:
        engine.dispose()
    with pytest.raises(InvalidInput):
        read_sql(url, "SELECT 1 FROM kehu WHERE id IN (SELECT id FROM kehu) AND random() > 2 UNION SELECT "
                      "(SELECT count(*) FROM kehu) FROM kehu; DELETE FROM kehu")
    assert len(read_sql(url, "kehu").rows) == 5


@pytest.mark.parametrize("query", ["DELETE FROM kehu", "UPDATE kehu SET edu = 0", "DROP TABLE kehu",
                                   "SELECT 1; DROP TABLE kehu", "kehu; DROP TABLE kehu", "SELECT * FROM kehu -- x",
                                   "PRAGMA writable_schema = 1", "ATTACH 'x.db' AS x", ""])
def test_read_sql_refuses_anything_but_a_table_or_one_select(legacy_db, query):
    with pytest.raises(InvalidInput, match="table name or one SELECT"):
        read_sql(f"sqlite:///{legacy_db}", query)


def test_read_sql_refuses_unknown_files_and_tables_and_other_databases(legacy_db, tmp_path):
    with pytest.raises(InvalidInput, match="cannot be opened"):
        read_sql(f"sqlite:///{tmp_path / 'missing.db'}", "kehu")
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(InvalidInput, match="refused"):
        read_sql(f"sqlite:///{legacy_db}", "kunde")
    with pytest.raises(InvalidInput, match="not read"):
        read_sql("mysql://root@localhost/erp", "kehu")


def test_the_url_stored_with_a_run_has_no_password():
    assert "s3cret" not in sources.safe_url("postgresql://erp:s3cret@db/legacy")
