"""The data migration pages: upload a messy export and read the dry-run report in both languages, download
the rows in error, submit a clean run for approval (the data_migration process), the templates, the runs with
their progress — and only data stewards (analysts, managers, administrators) get in."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from engine.deploy import read_paths
from engine.models import ProcessInstance
from erp.migration.models import MigrationRun
from tests.conftest import ROOT
from tests.migration_data import csv_bytes, customer_rows
from tests.webapp.conftest import login


@pytest.fixture
def engine(product_engine, database):
    with database.transaction() as session:
        product_engine.deploy(session, read_paths([ROOT / "bpmn"]))
    return product_engine


@pytest.fixture
def steward(client, make_user):
    def as_(locale="zh_CN"):
        login(client, make_user(f"steward_{locale}", roles=["employee", "analyst"], groups=["data_stewards"],
                                locale=locale))
        return client

    return as_


def messy() -> bytes:
    rows = customer_rows(10)
    rows[2]["电话"] = "12345"
    rows[7]["统一社会信用代码"] = "91110000100000000X"
    return csv_bytes(rows, encoding="gb18030")


def _upload(client, data: bytes, name="客户.csv", **form):
    return client.post("/migration/upload", data={"entity": "customers", **form, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _latest_run(database) -> MigrationRun:
    with database.transaction() as session:
        return session.scalars(select(MigrationRun).order_by(MigrationRun.id.desc())).first()


@pytest.mark.parametrize("locale, words", [("zh_CN", ["试运行", "错误", "下载错误行", "使用的数据映射", "电话",
                                                      "“12345”不是中国电话号码", "统一社会信用代码的校验位错误"]),
                                           ("en", ["Dry run", "Errors", "Download the rows in error",
                                                   "Mapping used", "Phone", "is not a Chinese phone number",
                                                   "the check character of the unified social credit code"])])
def test_upload_shows_the_dry_run_report(steward, database, locale, words):
    client = steward(locale)
    assert client.get("/migration/upload").status_code == 200
    response = _upload(client, messy())
    assert response.status_code == 302
    run = _latest_run(database)
    assert response.headers["Location"].endswith(f"/migration/runs/{run.id}")
    assert (run.status, run.total, run.errors) == ("validated", 10, 2)
    html = client.get(f"/migration/runs/{run.id}").get_data(as_text=True)
    for word in words:
        assert word in html
    assert 'data-count="errors">2<' in html and "submit-for-approval" not in html and 'id="errors-block"' in html


def test_the_rows_in_error_download_as_csv(steward, database):
    client = steward()
    _upload(client, messy())
    run = _latest_run(database)
    response = client.get(f"/migration/runs/{run.id}/errors.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][-1] == "错误原因 Reasons" and len(rows) == 3
    assert any("不是中国电话号码" in row[-1] for row in rows[1:])  # the reasons in the reader's language


def test_an_upload_without_a_file_or_with_unknown_columns_is_refused(steward):
    client = steward("en")
    refused = client.post("/migration/upload", data={"entity": "customers"}, content_type="multipart/form-data")
    assert refused.status_code == 422 and "Choose a file to upload." in refused.get_data(as_text=True)
    strange = _upload(client, b"foo,bar\n1,2\n", name="x.csv")
    assert strange.status_code == 422


def test_a_clean_run_is_submitted_for_approval(steward, database):
    client = steward()
    _upload(client, csv_bytes(customer_rows(5)))
    run = _latest_run(database)
    html = client.get(f"/migration/runs/{run.id}").get_data(as_text=True)
    assert "submit-for-approval" in html
    assert client.post(f"/migration/runs/{run.id}/submit").status_code == 302
    run = _latest_run(database)
    with database.transaction() as session:
        instance = session.get(ProcessInstance, run.instance_id)
        assert (instance.process_key, instance.business_key) == ("data_migration", f"MIG-{run.id}")
    html = client.get(f"/migration/runs/{run.id}").get_data(as_text=True)
    assert "submit-for-approval" not in html and f"MIG-{run.id}" in html
    again = client.post(f"/migration/runs/{run.id}/submit", follow_redirects=True)
    assert again.status_code == 200


def test_runs_list_shows_progress(steward, database):
    client = steward("en")
    _upload(client, csv_bytes(customer_rows(4)))
    html = client.get("/migration").get_data(as_text=True)
    assert "migration-run" in html and "0 / 4" in html and "Dry run done" in html


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_templates_download_per_entity(steward, fmt):
    client = steward()
    page = client.get("/migration/templates").get_data(as_text=True)
    assert f"/migration/templates/stock/{fmt}" in page
    response = client.get(f"/migration/templates/customers/{fmt}")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    if fmt == "xlsx":
        assert load_workbook(io.BytesIO(response.data)).sheetnames[0] == "数据 Data"
    else:
        assert response.data.startswith(b"\xef\xbb\xbf")
    assert client.get("/migration/templates/unknown/csv").status_code == 404


def test_only_data_stewards_get_in(client, make_user):
    login(client, make_user("clerk", roles=["employee", "sales"]))
    assert client.get("/migration").status_code == 403
    assert client.get("/migration/upload").status_code == 403
    assert client.get("/migration/templates/customers/csv").status_code == 403


def _legacy_file(rows: int = 4) -> bytes:
    """An export whose headers are not the template's: it needs a mapping."""
    renamed = [{"OLD_ID": r["旧系统编号"], "CUST_NAME": r["客户名称"], "USCC": r["统一社会信用代码"], "TEL": r["电话"],
                "PROV": r["省份"], "LIMIT": "1.234,50", "KIND": "大客户" if n % 2 else "普通"}
               for n, r in enumerate(customer_rows(rows))]
    return csv_bytes(renamed)


def _mapping_form(name: str) -> dict:
    return {"entity": "customers", "name": name,
            "source-external_id": "OLD_ID", "op-external_id-trim": "1",
            "source-name_zh": "CUST_NAME", "op-name_zh-trim": "1",
            "source-tax_number": "USCC", "op-tax_number-trim": "1", "op-tax_number-upper": "1",
            "source-phone": "TEL", "op-phone-phone_cn": "1",
            "source-province": "PROV", "op-province-trim": "1", "map-province": "provinces",
            "source-credit_limit": "LIMIT", "op-credit_limit-number": "1", "decimal-credit_limit": ",",
            "source-tier": "KIND", "map-tier": "custom", "mapvalues-tier": "大客户=A\n普通=C",
            "default-payment_terms_days": "45"}


def test_a_mapping_made_from_a_sample_file_is_saved_and_used_on_upload(steward, database):
    from erp.migration.models import Mapping

    client = steward()
    started = client.post("/migration/mappings/new", data={"entity": "customers",
                                                           "sample": (io.BytesIO(_legacy_file()), "old.csv")},
                          content_type="multipart/form-data")
    html = started.get_data(as_text=True)
    assert started.status_code == 200 and '<option value="OLD_ID">' in html and "值映射" in html
    saved = client.post("/migration/mappings/new", data=_mapping_form("旧ERP客户"))
    assert saved.status_code == 302
    with database.transaction() as session:
        mapping = session.scalars(select(Mapping).where(Mapping.name == "旧ERP客户")).one()
        assert mapping.columns["tier"]["transforms"] == [{"op": "map", "values": {"大客户": "A", "普通": "C"}}]
        assert mapping.columns["credit_limit"]["transforms"] == [{"op": "number", "decimal": ","}]
        assert mapping.columns["payment_terms_days"] == {"source": None, "transforms": [], "default": "45"}
    edit = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "大客户=A" in edit and 'value="OLD_ID"' in edit
    assert "旧ERP客户" in client.get("/migration/mappings").get_data(as_text=True)

    assert _upload(client, _legacy_file(), mapping="旧ERP客户").status_code == 302
    run = _latest_run(database)
    assert (run.total, run.errors, run.mapping_id) == (4, 0, mapping.id)
    with database.transaction() as session:
        from erp.migration.models import MigrationRow

        values = [r.values for r in session.scalars(select(MigrationRow).where(MigrationRow.run_id == run.id)
                                                    .order_by(MigrationRow.id))]
    assert [v["tier"] for v in values] == ["C", "A", "C", "A"]
    assert values[0]["credit_limit"] == "1234.50" and values[0]["payment_terms_days"] == 45


def test_a_bad_value_map_is_refused_and_the_form_kept(steward, database):
    from erp.migration.models import Mapping

    client = steward("en")
    form = {**_mapping_form("broken"), "mapvalues-tier": "大客户 A"}
    response = client.post("/migration/mappings/new", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Write each value as old=new." in html and 'value="OLD_ID"' in html
    with database.transaction() as session:
        assert session.scalars(select(Mapping)).all() == []


def test_a_dry_runs_mapping_opens_in_the_editor(steward, database):
    client = steward()
    _upload(client, messy())
    run = _latest_run(database)
    page = client.get(f"/migration/runs/{run.id}").get_data(as_text=True)
    assert 'id="save-run-mapping"' in page
    editor = client.get(f"/migration/mappings/new?entity=customers&run={run.id}").get_data(as_text=True)
    assert 'name="source-external_id" value="旧系统编号"' in editor
