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


@pytest.mark.parametrize("locale, words", [("zh_CN", ["试运行", "错误", "下载错误行", "使用的数据映射", "电话"]),
                                           ("en", ["Dry run", "Errors", "Download the rows in error",
                                                   "Mapping used", "Phone"])])
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
