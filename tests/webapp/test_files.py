"""Attachments: uploaded with a form or ahead of it (the form's script), attached to the instance the form
started, and downloadable by the uploader and the people who may see that instance — nobody else."""
# ruff: noqa: F811 - the office fixtures are imported, then named as test parameters
from __future__ import annotations

import json
import re
from io import BytesIO

from sqlalchemy import func, select

from engine.models import ProcessInstance
from erp.files.models import Attachment
from tests.webapp.office import (  # noqa: F401 - fixtures
    browser,
    engine,
    forms_dir,
    instance_data,
    office,
    the_task,
)

PDF = b"%PDF-1.4 receipt 1280.10"


def claim_form(**extra):
    return {"purpose": "出差北京", "lines-0-item": "机票", "lines-0-amount": "1280.10", **extra}


def start_expense(client, data, status=302):
    response = client.post("/processes/expense/start", data=data, content_type="multipart/form-data")
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response


def attachment(database, file_id) -> Attachment:
    with database.transaction(readonly=True) as session:
        found = session.get(Attachment, file_id)
        session.expunge_all()
        return found


def test_a_file_uploaded_with_the_start_form_belongs_to_the_instance(browser, database, engine):
    response = start_expense(browser("wangfang"), claim_form(receipt=(BytesIO(PDF), "发票.pdf")))
    instance_id = int(response.headers["Location"].rsplit("/", 1)[1])
    receipt = instance_data(engine, database, instance_id)["receipt"]
    assert receipt["name"] == "发票.pdf" and receipt["size"] == len(PDF) and len(receipt["sha256"]) == 64
    stored = attachment(database, receipt["id"])
    assert stored.instance_id == instance_id and stored.uploaded_by == "wangfang"
    # who may download it: the uploader, the finance clerk whose task it is, an analyst, the requester's manager
    for who in ("wangfang", "chenjing", "auditor", "boss"):
        download = browser(who).get(f"/files/{receipt['id']}")
        assert download.status_code == 200, who
        assert download.data == PDF and "attachment" in download.headers["Content-Disposition"]
        assert download.headers["X-Content-Type-Options"] == "nosniff"
    for who in ("outsider", "zhangwei"):
        assert browser(who).get(f"/files/{receipt['id']}").status_code == 404, who
    # the finance clerk's task page links the file
    task = the_task(database, instance_id)
    html = browser("chenjing").get(f"/tasks/{task.id}").get_data(as_text=True)
    assert f'<a class="file-link" href="/files/{receipt["id"]}">发票.pdf</a>' in html
    assert "¥1,280.10" in html


def test_a_file_uploaded_ahead_by_the_script_is_referenced_by_the_form(browser, database, engine):
    upload = browser("wangfang").post("/files", data={"file": (BytesIO(PDF), "receipt.pdf")},
                                      content_type="multipart/form-data", headers={"Accept": "application/json"})
    assert upload.status_code == 201
    ref = upload.get_json()
    assert set(ref) == {"id", "name", "size", "sha256"} and ref["name"] == "receipt.pdf"
    assert attachment(database, ref["id"]).instance_id is None
    assert browser("wangfang").get(f"/files/{ref['id']}").data == PDF  # the uploader, before it is attached
    assert browser("chenjing").get(f"/files/{ref['id']}").status_code == 404
    response = start_expense(browser("wangfang"), claim_form(**{"receipt-ref": json.dumps(ref)}))
    instance_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert attachment(database, ref["id"]).instance_id == instance_id
    assert browser("chenjing").get(f"/files/{ref['id']}").status_code == 200


def test_someone_elses_file_cannot_be_slipped_into_a_form(browser, database):
    theirs = browser("chenjing").post("/files", data={"file": (BytesIO(b"salaries"), "工资表.xlsx")},
                                      content_type="multipart/form-data").get_json()
    response = start_expense(browser("wangfang"), claim_form(**{"receipt-ref": json.dumps(theirs)}), status=422)
    assert 'data-error-for="receipt"' in response.get_data(as_text=True)
    assert attachment(database, theirs["id"]).instance_id is None
    assert browser("wangfang").get(f"/files/{theirs['id']}").status_code == 404
    with database.transaction(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 0


def test_a_form_shown_again_keeps_the_file_just_uploaded(browser, database, engine):
    response = start_expense(browser("wangfang"), claim_form(purpose="", receipt=(BytesIO(PDF), "发票.pdf")),
                             status=422)
    html = response.get_data(as_text=True)
    assert 'data-error-for="purpose"' in html
    hidden = re.search(r'name="receipt-ref" value="([^"]+)"', html).group(1).replace("&#34;", '"')
    ref = json.loads(hidden)
    assert ref["name"] == "发票.pdf" and attachment(database, ref["id"]).uploaded_by == "wangfang"
    response = start_expense(browser("wangfang"), claim_form(**{"receipt-ref": json.dumps(ref)}))
    instance_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert instance_data(engine, database, instance_id)["receipt"]["id"] == ref["id"]


def test_an_upload_without_a_file_is_refused(browser):
    response = browser("wangfang").post("/files", data={}, headers={"Accept": "application/json"})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_input"
    assert browser("wangfang").get("/files/999999").status_code == 404
