"""The modeler's pages and JSON endpoints: the list of processes with every version and the open drafts, drafts
opened from a version or imported from another modeler (kept byte for byte, hostile files refused), saving with
conflict detection, validation located on elements, lint advice in the reader's language, the sandbox syntax
check, deploying a new version while running instances stay on theirs, comparing versions and moving instances."""
from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import func, select

from engine.drafts import DiagramDraft
from engine.models import HistoryEvent, ProcessDefinition, ProcessInstance
from engine.parsing import MAX_FILE_BYTES
from tests.conftest import FIXTURES
from tests.webapp.conftest import login

SIMPLE = (FIXTURES / "bpmn" / "simple_task.bpmn").read_bytes()
CAMUNDA = (FIXTURES / "modeler" / "camunda_invoice.bpmn").read_bytes()

#: simple_task with a step added after the approval (a second version)
WITH_CHECK = SIMPLE.decode().replace(
    '<bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="tally"/>',
    '<bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="check"/>'
    '<bpmn:scriptTask id="check" name="Check the approval"><bpmn:incoming>f2</bpmn:incoming>'
    '<bpmn:outgoing>f2b</bpmn:outgoing><bpmn:script>checked = True</bpmn:script></bpmn:scriptTask>'
    '<bpmn:sequenceFlow id="f2b" sourceRef="check" targetRef="tally"/>').replace(
    "<bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>",
    "<bpmn:incoming>f2b</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>")


@pytest.fixture
def analyst(client, make_user):
    login(client, make_user("zhaolei", roles=["employee", "analyst"], groups=["process_analysts"]))
    return client


@pytest.fixture
def deployed(deploy):
    """simple_task v1 deployed; its definition id."""
    [result] = deploy("simple_task.bpmn")
    return result.definition_id


def _deploy_text(tx, engine, xml: str, *, user="wangfang", comment=None) -> int:
    with tx() as session:
        [result] = engine.deploy(session, {"simple_task.bpmn": xml.encode()}, user=user, comment=comment)
    return result.definition_id


def _start(tx, engine) -> int:
    with tx() as session:
        return engine.start(session, "simple_task", {"amount": 100}, business_key="PR-1", user="wangfang").id


def _open_draft(client, definition_id: int, **form) -> int:
    response = client.post(f"/modeler/definitions/{definition_id}/drafts", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(re.search(r"/modeler/drafts/(\d+)$", response.headers["Location"]).group(1))


def _draft(tx, draft_id: int) -> DiagramDraft | None:
    with tx() as session:
        draft = session.get(DiagramDraft, draft_id)
        if draft is not None:
            session.expunge(draft)
        return draft


def _drafts(tx) -> int:
    with tx() as session:
        return session.scalar(select(func.count()).select_from(DiagramDraft))


def _save(client, draft_id: int, xml: str, lock_version: int):
    return client.post(f"/modeler/drafts/{draft_id}/save", json={"xml": xml, "lock_version": lock_version})


# ---------------------------------------------------------------------- the list


def test_the_list_shows_every_version_with_author_comment_and_running_instances(analyst, deployed, engine, tx):
    _start(tx, engine)
    _deploy_text(tx, engine, WITH_CHECK, comment="加一步检查 Check added")
    html = analyst.get("/modeler").get_data(as_text=True)
    assert 'data-key="simple_task" data-version="1"' in html and 'data-key="simple_task" data-version="2"' in html
    assert "加一步检查 Check added" in html and "流程设计器" in html
    rows = dict(re.findall(r'data-version="(\d)" data-definition="\d+">.*?class="text-end running-count">(\d+)<',
                           html, re.S))
    assert rows == {"1": "1", "2": "0"}
    assert "与 v1 比较" in html and "移动流程实例到此版本" in html
    assert analyst.get("/modeler", headers={"Accept-Language": "en"}).status_code == 200


def test_the_modeler_is_for_analysts(client, make_user, deployed):
    login(client, make_user("wangfang", roles=["employee"]))
    assert client.get("/modeler").status_code == 403
    assert client.post(f"/modeler/definitions/{deployed}/drafts").status_code == 403
    assert client.post("/modeler/check", json={"source": "x = 1"}).status_code == 403


# ---------------------------------------------------------------------- drafts, saving, validating


def test_a_draft_opened_from_a_version_holds_its_file_byte_for_byte(analyst, deployed, tx):
    draft_id = _open_draft(analyst, deployed)
    assert analyst.get(f"/modeler/drafts/{draft_id}/source").get_data() == SIMPLE
    html = analyst.get(f"/modeler/drafts/{draft_id}").get_data(as_text=True)
    assert 'id="modeler" data-kind="bpmn"' in html and "bpmn-modeler.production.min.js" in html
    texts = json.loads(re.search(r'id="modeler-texts">(.*?)</script>', html, re.S).group(1))
    assert texts["check_syntax"] == "检查语法" and texts["saved"] == "已于 %(time)s 保存"
    assert "simple_task v1 的草稿" in html
    assert 'data-lock-version="1"' in html
    html = analyst.get("/modeler").get_data(as_text=True)
    assert f'data-draft="{draft_id}"' in html and "simple_task.bpmn" in html


def test_saving_returns_the_new_lock_version_and_a_stale_save_is_a_conflict(analyst, deployed, tx):
    draft_id = _open_draft(analyst, deployed)
    renamed = SIMPLE.decode().replace('name="Approve"', 'name="审批 Approve"')
    response = _save(analyst, draft_id, renamed, 1)
    assert response.status_code == 200
    version = response.get_json()["lock_version"]
    assert version > 1 and _draft(tx, draft_id).source == renamed
    stale = _save(analyst, draft_id, SIMPLE.decode(), 1)
    assert stale.status_code == 409 and "其他人保存了这份草稿" in stale.get_json()["error"]["message"]
    assert _draft(tx, draft_id).source == renamed
    assert _save(analyst, draft_id, "", version).status_code == 400
    assert _save(analyst, 999_999, renamed, 1).status_code == 404


def test_a_broken_script_is_reported_on_its_element_and_the_draft_cannot_be_deployed(analyst, deployed, tx):
    draft_id = _open_draft(analyst, deployed)
    broken = WITH_CHECK.replace("checked = True", "checked = (")
    assert _save(analyst, draft_id, broken, 1).status_code == 200
    report = analyst.post(f"/modeler/drafts/{draft_id}/validate").get_json()
    assert report["valid"] is False
    assert [p["element_id"] for p in report["problems"]] == ["check"]
    refused = analyst.post(f"/modeler/drafts/{draft_id}/deploy", json={"comment": "try"})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["problems"][0]["element_id"] == "check"
    assert _draft(tx, draft_id) is not None  # kept for fixing


def test_deploying_makes_a_new_version_while_running_instances_stay_on_theirs(analyst, deployed, engine, tx):
    running = _start(tx, engine)
    draft_id = _open_draft(analyst, deployed)
    version = _save(analyst, draft_id, WITH_CHECK, 1).get_json()["lock_version"]
    assert analyst.post(f"/modeler/drafts/{draft_id}/validate").get_json() == {"valid": True, "problems": []}
    assert _draft(tx, draft_id).lock_version == version  # validating changes nothing
    no_comment = analyst.post(f"/modeler/drafts/{draft_id}/deploy", json={"comment": "  "})
    assert no_comment.status_code == 422 and no_comment.get_json()["error"]["field"] == "comment"
    done = analyst.post(f"/modeler/drafts/{draft_id}/deploy", json={"comment": "加一步检查"})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json()["deployed"][0]["version"] == 2 and done.get_json()["redirect"] == "/modeler"
    assert _draft(tx, draft_id) is None
    with tx() as session:
        v2 = session.scalars(select(ProcessDefinition).where(ProcessDefinition.version == 2)).one()
        assert (v2.deployed_by, v2.comment) == ("zhaolei", "加一步检查")
        assert session.get(ProcessInstance, running).definition_id == deployed
    assert "已部署：simple_task v2。" in analyst.get("/modeler").get_data(as_text=True)


def test_discarding_a_draft_removes_it(analyst, deployed, tx):
    draft_id = _open_draft(analyst, deployed)
    assert analyst.post(f"/modeler/drafts/{draft_id}/discard").status_code == 302
    assert _draft(tx, draft_id) is None
    assert analyst.get(f"/modeler/drafts/{draft_id}").status_code == 404


def test_a_decision_table_opens_in_the_decision_table_editor(analyst, deploy, tx):
    deploy("../modeler/leave_request.bpmn", "../modeler/leave_days.dmn")
    with tx() as session:
        definition = session.scalars(select(ProcessDefinition)).one()
        dmn_name = next(n for n in definition.sources if n.endswith(".dmn"))
        definition_id, dmn_text = definition.id, definition.sources[dmn_name]
    assert dmn_name in analyst.get("/modeler").get_data(as_text=True)
    draft_id = _open_draft(analyst, definition_id, file=dmn_name)
    html = analyst.get(f"/modeler/drafts/{draft_id}").get_data(as_text=True)
    assert 'data-kind="dmn"' in html and "dmn-modeler.production.min.js" in html and "dmn-js-decision-table.css" in html
    assert analyst.get(f"/modeler/drafts/{draft_id}/source").get_data(as_text=True) == dmn_text
    outside = analyst.post(f"/modeler/definitions/{definition_id}/drafts", data={"file": "../etc/passwd"})
    assert outside.status_code == 404


# ---------------------------------------------------------------------- lint, syntax check, catalogue


def test_lint_advice_names_the_back_edge_loop_with_its_alternative_in_the_readers_language(analyst):
    xml = (FIXTURES / "bpmn" / "rework.bpmn").read_text()
    findings = analyst.post("/modeler/lint", json={"xml": xml}).get_json()["findings"]
    loop = next(f for f in findings if f["rule"] == "back-edge-loop")
    assert loop["element_id"] == "again" and "退回" in loop["recommendation"] and "循环" in loop["message"]
    assert loop["detail"].startswith("The flow from gateway")  # the engine's own words, for the details
    english = analyst.post("/modeler/lint", json={"xml": xml}, headers={"Accept-Language": "en"})
    assert english.status_code == 200
    assert analyst.post("/modeler/lint", json={"xml": ""}).status_code == 400
    assert analyst.post("/modeler/lint", data={"xml": xml}).status_code == 400  # JSON only


def test_the_syntax_check_compiles_in_the_engines_sandbox(analyst):
    def check(source, mode="exec"):
        return analyst.post("/modeler/check", json={"source": source, "mode": mode}).get_json()["errors"]

    assert check("total = amount * 2") == []
    assert check("amount > 10000 and department != '总经办'", "eval") == []
    assert "语法错误" in check("total = (")[0]
    assert check("import os") and check("().__class__.__base__.__subclasses__()")
    assert check("x = 1", "eval") and check("", "eval") == ["表达式为空。"]
    assert analyst.post("/modeler/check", json={"source": "x", "mode": "run"}).status_code == 400
    assert analyst.post("/modeler/check", json={"source": "x = 1\n" * 20_000}).status_code == 400


def test_the_catalogue_offers_forms_operators_processes_and_groups(analyst, deployed, operators, make_user):
    operators.register("sales.reserve_stock", lambda ctx: None)
    make_user("liuyang", groups=["credit_manager"])
    catalog = analyst.get("/modeler/catalog.json").get_json()
    assert "simple/approve" in [f["key"] for f in catalog["forms"]]
    assert catalog["operators"] == ["sales.reserve_stock"]
    assert catalog["processes"] == [{"key": "simple_task", "name": "Simple task"}]
    assert "credit_manager" in catalog["groups"] and "process_analysts" in catalog["groups"]


# ---------------------------------------------------------------------- importing, hostile files


def _upload(client, data: bytes, name: str):
    return client.post("/modeler/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_an_imported_camunda_diagram_is_kept_byte_for_byte_and_validation_explains_each_element(analyst, tx):
    response = _upload(analyst, CAMUNDA, "invoice.bpmn")
    assert response.status_code == 302
    draft_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert analyst.get(f"/modeler/drafts/{draft_id}/source").get_data() == CAMUNDA
    page = analyst.get(f"/modeler/drafts/{draft_id}").get_data(as_text=True)
    assert "invoice.bpmn 已导入为草稿" in page and "导入的草稿" in page
    report = analyst.post(f"/modeler/drafts/{draft_id}/validate").get_json()
    assert report["valid"] is False
    located = [p for p in report["problems"] if p["element_id"]]
    assert len({p["element_id"] for p in located}) >= 3, report
    assert not any("Traceback" in p["message"] for p in report["problems"])
    assert _draft(tx, draft_id).source.encode() == CAMUNDA


HOSTILE = {
    "external entity": b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                       b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;'
                       b'</bpmn:definitions>',
    "entity expansion": b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                        + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                                   for i in range(1, 10))
                        + b']><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol9;'
                          b'</bpmn:definitions>',
    "malformed": b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:process>',
    "not a diagram": b'<html><body>hello</body></html>',
    "oversized": b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
                 + b" " * MAX_FILE_BYTES + b"</bpmn:definitions>",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_uploads_are_refused_with_a_clear_message_and_nothing_is_stored(analyst, tx, kind):
    response = _upload(analyst, HOSTILE[kind], "evil.bpmn")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="import-error"' in html and "文件未导入" in html
    assert "root:" not in html  # /etc/passwd was never read
    assert _drafts(tx) == 0


def test_uploads_that_are_not_diagrams_or_too_large_for_a_request_are_refused(analyst, tx):
    assert "只能导入 .bpmn 和 .dmn 文件" in _upload(analyst, SIMPLE, "notes.txt").get_data(as_text=True)
    assert analyst.post("/modeler/import", data={}).status_code == 400
    huge = _upload(analyst, b"<a>" + b"x" * (13 * 1024 * 1024) + b"</a>", "huge.bpmn")
    assert huge.status_code == 400 and "文件超过 5 MB" in huge.get_data(as_text=True)
    assert _drafts(tx) == 0


# ---------------------------------------------------------------------- comparing


def test_comparing_two_versions_lists_the_added_task_and_marks_it_on_the_diagram(analyst, deployed, engine, tx):
    v2 = _deploy_text(tx, engine, WITH_CHECK)
    html = analyst.get(f"/modeler/compare?old={deployed}&new={v2}").get_data(as_text=True)
    assert 'data-kind="added" data-element-id="check"' in html and "Check the approval" in html
    assert f'data-xml-url="/modeler/definitions/{deployed}/source"' in html
    markers = json.loads(re.search(r'id="compare-markers">(.*?)</script>', html).group(1))
    assert "check" in markers["added"] and "f2b" in markers["added"] and "f2" in markers["changed"]
    assert analyst.get(f"/modeler/definitions/{v2}/source").get_data(as_text=True) == WITH_CHECK
    assert 'id="compare-form"' in analyst.get("/modeler/compare").get_data(as_text=True)
    assert analyst.get(f"/modeler/compare?old={deployed}&new=999999").status_code == 404


def test_a_draft_is_compared_with_the_version_it_was_opened_from(analyst, deployed):
    draft_id = _open_draft(analyst, deployed)
    _save(analyst, draft_id, WITH_CHECK, 1)
    html = analyst.get(f"/modeler/compare?draft={draft_id}").get_data(as_text=True)
    assert 'data-kind="added" data-element-id="check"' in html
    assert f'data-xml-url="/modeler/drafts/{draft_id}/source"' in html


# ---------------------------------------------------------------------- moving instances


def test_moving_an_instance_waiting_in_a_task_kept_by_the_new_version(analyst, deployed, engine, tx):
    instance_id = _start(tx, engine)
    v2 = _deploy_text(tx, engine, WITH_CHECK)
    html = analyst.get(f"/modeler/definitions/{v2}/move").get_data(as_text=True)
    assert f'class="move-row" data-instance="{instance_id}" data-movable="yes"' in html
    assert 'data-element-id="approve"' in html and "PR-1" in html
    assert analyst.post(f"/modeler/definitions/{v2}/move", data={}).status_code == 422
    moved = analyst.post(f"/modeler/definitions/{v2}/move", data={"instance": [str(instance_id)]})
    assert moved.status_code == 200
    assert f'class="move-result" data-instance="{instance_id}" data-moved="yes"' in moved.get_data(as_text=True)
    with tx() as session:
        assert session.get(ProcessInstance, instance_id).definition_id == v2
        assert session.scalar(select(func.count()).select_from(HistoryEvent).where(
            HistoryEvent.instance_id == instance_id, HistoryEvent.kind == "migrated")) == 1
    assert 'id="nothing-to-move"' in analyst.get(f"/modeler/definitions/{v2}/move").get_data(as_text=True)


def test_an_instance_waiting_in_a_task_the_new_version_removed_cannot_move(analyst, deployed, engine, tx):
    instance_id = _start(tx, engine)
    without_approval = SIMPLE.decode().replace('id="approve"', 'id="approve_amount"').replace(
        'targetRef="approve"', 'targetRef="approve_amount"').replace(
        'sourceRef="approve"', 'sourceRef="approve_amount"').replace(
        "<bpmn:flowNodeRef>approve</bpmn:flowNodeRef>", "<bpmn:flowNodeRef>approve_amount</bpmn:flowNodeRef>")
    v2 = _deploy_text(tx, engine, without_approval)
    html = analyst.get(f"/modeler/definitions/{v2}/move").get_data(as_text=True)
    row = re.search(rf'<tr class="move-row" data-instance="{instance_id}".*?</tr>', html, re.S).group(0)
    assert 'data-movable="no"' in row and "disabled" in row and "不存在" in row
    refused = analyst.post(f"/modeler/definitions/{v2}/move", data={"instance": [str(instance_id)]})
    assert 'data-moved="no"' in refused.get_data(as_text=True)
    with tx() as session:
        assert session.get(ProcessInstance, instance_id).definition_id == deployed
