"""The instance pages: who sees which instance, the diagram with its progress, the history timeline, masked
personal data, and the administrators' retry, suspend, resume and terminate."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core import clock, db
from engine import queries
from engine.models import HistoryEvent, HumanTask, Incident, ProcessInstance
from erp.audit.models import AuditEntry
from tests.webapp.conftest import PASSWORD, login

ID_NUMBER = "110101199003071234"
PHONE = "13812345678"


@pytest.fixture
def people(make_user):
    make_user("zhangwei", roles=["employee", "manager"], name="张伟")
    make_user("wangfang", manager="zhangwei", name="王芳", groups=["staff"])
    make_user("zhaoqiang", manager="boss", name="赵强", groups=["staff"])
    make_user("teamlead", name="组长甲")  # manages someone, but has no manager role
    make_user("liuyang", manager="teamlead", name="刘洋")
    make_user("lisi", groups=["approvers"], name="李四", locale="en")
    make_user("chenjie", groups=["approvers"], name="陈杰")
    make_user("analyst", roles=["analyst"])
    make_user("admin", roles=["administrator"], name="管理员")
    make_user("boss", roles=["employee", "manager"], groups=["clerks"])


@pytest.fixture
def start_claim(deploy, engine, people):
    deploy("claim.bpmn")

    def start(user, business_key, **data):
        with db.transaction() as session:
            return engine.start(session, "claim", {"amount": 1200, "requester": user, "id_number": ID_NUMBER,
                                                   **data}, business_key=business_key, user=user).id

    return start


def _task(instance_id, element_id="review"):
    with db.transaction() as session:
        return session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                       HumanTask.element_id == element_id,
                                                       HumanTask.status == "open")).one().id


def _listed(client, query="") -> list[str]:
    html = client.get("/instances" + query).get_data(as_text=True)
    return re.findall(r'data-instance-id="\d+">\s*<td><a[^>]*>\d+</a></td>\s*<td>[^<]*<span[^>]*>[^<]*</span></td>'
                      r'\s*<td>([^<]*)</td>', html)


def _page(client, instance_id) -> str:
    response = client.get(f"/instances/{instance_id}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


# ---------------------------------------------------------------------- visibility


def test_an_employee_sees_the_instances_they_started_and_gets_404_for_others(client, start_claim):
    mine = start_claim("wangfang", "EC-1")
    theirs = start_claim("zhaoqiang", "EC-2")
    login(client, "wangfang")
    assert _listed(client) == ["EC-1"]
    assert "EC-1" in _page(client, mine)
    assert client.get(f"/instances/{theirs}").status_code == 404
    assert client.get(f"/instances/{theirs}/diagram.xml").status_code == 404
    assert client.get("/instances/999999").status_code == 404


def test_people_offered_a_task_or_copied_on_the_instance_see_it(client, engine, start_claim):
    first = start_claim("wangfang", "EC-1")
    login(client, "lisi")  # an approver: the review is offered to her group
    assert _listed(client) == ["EC-1"]
    client.post("/logout")
    login(client, "boss")
    assert _listed(client) == []
    with db.transaction() as session:
        engine.copy_to(session, None, "wangfang", ["boss"], note="FYI", instance_id=first)
    assert _listed(client) == ["EC-1"]
    assert "EC-1" in _page(client, first)


def test_whoever_completed_a_task_still_sees_the_instance(client, engine, start_claim):
    first = start_claim("wangfang", "EC-1")
    review = _task(first)
    with db.transaction() as session:
        engine.complete(session, review, {"decision": "approve"}, "lisi")
    login(client, "chenjie")  # also an approver, but the review is done: nothing offered to him any more
    assert _listed(client) == []
    client.post("/logout")
    login(client, "lisi")
    assert _listed(client) == ["EC-1"]


def test_a_manager_sees_the_instances_their_direct_reports_started(client, start_claim):
    start_claim("wangfang", "EC-1")
    start_claim("zhaoqiang", "EC-2")
    start_claim("liuyang", "EC-3")
    login(client, "zhangwei")
    assert _listed(client) == ["EC-1"]
    client.post("/logout")
    login(client, "teamlead")  # liuyang reports to him, but he does not hold the manager role
    assert _listed(client) == []


@pytest.mark.parametrize("username", ["analyst", "admin"])
def test_analysts_and_administrators_see_every_instance(client, start_claim, username):
    start_claim("wangfang", "EC-1")
    other = start_claim("zhaoqiang", "EC-2")
    login(client, username)
    assert _listed(client) == ["EC-2", "EC-1"]
    assert "EC-2" in _page(client, other)


def test_the_list_filters_and_pages(client, engine, start_claim):
    for i in range(1, 28):
        start_claim("wangfang" if i % 2 else "zhaoqiang", f"EC-{i:03d}")
    with db.transaction() as session:
        engine.suspend(session, 1, user="admin")
    login(client, "admin")
    html = client.get("/instances").get_data(as_text=True)
    assert "27" in re.search(r'id="instance-total">([^<]*)<', html).group(1)
    assert len(_listed(client)) == 25
    assert _listed(client, "?page=2") == ["EC-002", "EC-001"]
    assert _listed(client, "?status=suspended") == ["EC-001"]
    assert _listed(client, "?business_key=EC-01") == [f"EC-{i:03d}" for i in range(19, 9, -1)]
    assert _listed(client, "?started_by=zhaoqiang&business_key=EC-00") == ["EC-008", "EC-006", "EC-004", "EC-002"]
    assert _listed(client, "?process=claim&page=2") == ["EC-002", "EC-001"]
    assert _listed(client, "?process=nothing") == []


# ---------------------------------------------------------------------- the diagram


def test_the_diagram_xml_is_the_process_source(client, start_claim):
    instance_id = start_claim("wangfang", "EC-1")
    login(client, "wangfang")
    response = client.get(f"/instances/{instance_id}/diagram.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    xml = response.get_data(as_text=True)
    assert '<bpmn:process id="claim"' in xml and "<bpmndi:BPMNDiagram" in xml


def _markers(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="diagram-markers">(.*?)</script>', html,
                                re.S).group(1))


def test_the_page_marks_completed_and_active_elements_for_the_viewer(client, engine, start_claim):
    instance_id = start_claim("wangfang", "EC-1")
    login(client, "wangfang")
    html = _page(client, instance_id)
    assert _markers(html) == {"completed": ["prepare", "submitted"], "active": ["review"], "incident": []}
    review = _task(instance_id)
    with db.transaction() as session:
        engine.complete(session, review, {"decision": "approve"}, "lisi")
    html = _page(client, instance_id)
    assert _markers(html) == {"completed": ["prepare", "review", "submitted"], "active": ["archive"],
                              "incident": []}
    # the viewer and its styles come from the app itself, and read the XML from the instance's own URL
    assert "/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js" in html
    assert "/vendor/bpmn-js/assets/bpmn-js.css" in html and "/static/diagram.js" in html
    assert f'data-xml-url="/instances/{instance_id}/diagram.xml"' in html
    assert not re.search(r'<script[^>]+src="https?://', html)
    assert client.get("/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js").status_code == 200
    assert client.get("/static/diagram.js").status_code == 200


def test_the_header_and_open_tasks(client, start_claim):
    instance_id = start_claim("wangfang", "EC-1")
    login(client, "lisi")  # reads English
    html = _page(client, instance_id)
    assert "Expense claim" in html and "version 1" in html and 'id="business-key">EC-1<' in html
    assert "Started by 王芳" in html and 'data-status="running"' in html
    task_id = _task(instance_id)
    assert f'href="/tasks/{task_id}">Review claim</a>' in html


# ---------------------------------------------------------------------- the history


def _events(html: str) -> list[tuple[str, str]]:
    items = re.findall(r'<li class="history-event[^"]*" data-kind="([^"]+)">(.*?)</li>', html, re.S)
    return [(kind, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()) for kind, body in items]


def test_the_history_tells_who_did_what_in_the_readers_language(client, engine, start_claim):
    instance_id = start_claim("wangfang", "EC-1")
    task_id = _task(instance_id)
    with db.transaction() as session:
        engine.claim(session, task_id, "lisi")
        engine.comment(session, task_id, "lisi", "需要发票原件")
        engine.transfer(session, task_id, "lisi", "chenjie", comment="我休假")
        engine.copy_to(session, task_id, "chenjie", ["boss"], note="请知悉")
        engine.complete(session, task_id, {"decision": "approve", "comment": "同意报销"}, "chenjie")
        session.add(HistoryEvent(instance_id=instance_id, at=clock.now(), kind="custom_audit_mark",
                                 actor="admin", message="手工标记"))
    login(client, "wangfang")  # reads Chinese
    events = dict(_events(_page(client, instance_id)))
    assert events["started"].endswith("王芳 发起")
    assert "李四 认领 · Review claim" in events["task_claimed"]
    assert "李四 评论" in events["comment"] and "需要发票原件" in events["comment"]
    assert "李四 转办" in events["task_transferred"] and "→ 陈杰" in events["task_transferred"]
    assert "我休假" in events["task_transferred"]
    assert "陈杰 抄送" in events["task_copied"] and "赵" not in events["task_copied"]
    assert "请知悉" in events["task_copied"]
    assert "陈杰 完成任务 · Review claim" in events["task_completed"]
    assert "审批意见：同意" in events["task_completed"] and "同意报销" in events["task_completed"]
    assert "步骤完成 · Prepare" in events["element_completed"]
    assert "custom audit mark" in events["custom_audit_mark"] and "手工标记" in events["custom_audit_mark"]
    client.post("/logout")
    login(client, "lisi")  # reads English
    events = dict(_events(_page(client, instance_id)))
    assert "李四 Transferred · Review claim" in events["task_transferred"] and "to 陈杰" in events["task_transferred"]
    assert "Decision: Approved" in events["task_completed"]


def test_delegation_and_added_signers_are_told(client, engine, start_claim):
    instance_id = start_claim("wangfang", "EC-1")
    task_id = _task(instance_id)
    with db.transaction() as session:
        engine.claim(session, task_id, "lisi")
        engine.delegate(session, task_id, "lisi", "chenjie", comment="请先核对")
    with db.transaction() as session:
        engine.resolve(session, task_id, "chenjie", comment="已核对")
    with db.transaction() as session:
        engine.add_signer(session, task_id, "lisi", "boss", position="before", comment="请会签")
    with db.transaction() as session:
        engine.complete(session, task_id, {"decision": "approve", "comment": "可以"}, "boss")
    login(client, "lisi")  # reads English
    told = dict(_events(_page(client, instance_id)))
    assert "李四 Delegated · Review claim" in told["task_delegated"] and "to 陈杰" in told["task_delegated"]
    assert "请先核对" in told["task_delegated"]
    assert "陈杰 Delegated task handed back" in told["task_resolved"] and "已核对" in told["task_resolved"]
    assert "李四 Signer added" in told["task_signer_added"] and "boss (signs before)" in told["task_signer_added"]
    assert "boss Signed" in told["task_signed"] and "可以" in told["task_signed"]
    assert "Decision: Approved" in told["task_signed"]


def test_returned_withdrawn_and_administrative_events_are_told(client, engine, start_claim):
    instance_id = start_claim("wangfang", "EC-1")
    review = _task(instance_id)
    with db.transaction() as session:
        engine.complete(session, review, {"decision": "approve"}, "lisi")
    with db.transaction() as session:
        engine.withdraw(session, review, "lisi")
    review = _task(instance_id)
    with db.transaction() as session:
        engine.return_task(session, review, "lisi", "金额有误", to="requester")
    with db.transaction() as session:
        engine.suspend(session, instance_id, user="admin")
        engine.resume(session, instance_id, user="admin")
        engine.terminate(session, instance_id, user="admin", reason="重复提交")
    login(client, "wangfang")
    events = _events(_page(client, instance_id))
    kinds = [k for k, _ in events]
    assert kinds.index("task_withdrawn") < kinds.index("task_returned") < kinds.index("suspended") \
        < kinds.index("resumed") < kinds.index("terminated")
    told = dict(events)
    assert "李四 撤回" in told["task_withdrawn"]
    assert "李四 退回" in told["task_returned"] and "金额有误" in told["task_returned"]
    assert "管理员 已挂起" in told["suspended"] and "管理员 已恢复" in told["resumed"]
    assert "管理员 已终止" in told["terminated"] and "重复提交" in told["terminated"]


# ---------------------------------------------------------------------- masking


def _data(html: str) -> dict:
    return {name: value.strip() for name, value in re.findall(
        r'<tr data-field="([^"]+)"><th[^>]*>.*?</th>\s*<td[^>]*>([^<]*)</td>', html)}


def test_personal_fields_are_masked_for_an_employee_but_not_for_a_manager(client, engine, start_claim):
    instance_id = start_claim("wangfang", "EC-1")
    review = _task(instance_id)
    with db.transaction() as session:
        engine.complete(session, review, {"decision": "approve", "phone": PHONE}, "lisi")
    login(client, "wangfang")
    html = _page(client, instance_id)
    shown = _data(html)
    assert shown["id_number"] == "110***********1234" and shown["phone"] == "138****5678"
    assert shown["amount"] == "1200" and shown["decision"] == "approve"
    assert ID_NUMBER not in html and PHONE not in html
    assert 'class="masked' in html
    client.post("/logout")
    login(client, "zhangwei")  # manager: personal_data.view
    shown = _data(_page(client, instance_id))
    assert shown["id_number"] == ID_NUMBER and shown["phone"] == PHONE


# ---------------------------------------------------------------------- administration


@pytest.fixture
def flaky(operators, deploy, people):
    calls = {"fail": True}

    def book(ctx, amount):
        if calls["fail"]:
            raise RuntimeError("ledger offline")
        return {"booked": amount}

    operators.register("test.flaky", book)
    deploy("flaky_step.bpmn")
    return calls


def test_an_administrator_retries_an_incident(client, engine, flaky):
    with db.transaction() as session:
        instance_id = engine.start(session, "flaky_step", {"amount": 5}, user="wangfang").id
    login(client, "admin")
    html = _page(client, instance_id)
    assert _markers(html) == {"completed": ["start"], "active": [], "incident": ["book"]}
    assert "ledger offline" in html and 'class="btn btn-sm btn-danger retry-button"' in html
    flaky["fail"] = False
    response = client.post(f"/instances/{instance_id}/retry")
    assert response.status_code == 302
    with db.transaction() as session:
        assert session.get(ProcessInstance, instance_id).status == "running"
        assert [i.open for i in session.scalars(select(Incident).where(Incident.instance_id == instance_id))] \
            == [False]
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "instance.retry")).one()
        assert (entry.actor, entry.target_id, entry.before, entry.after) == \
            ("admin", str(instance_id), {"status": "incident"}, {"status": "running"})
    html = _page(client, instance_id)
    assert _markers(html)["active"] == ["confirm"] and "retry-button" not in html
    assert "重试" in dict(_events(html))["retried"]


def test_an_employee_sees_the_incident_but_no_retry_button_and_cannot_retry(client, engine, flaky):
    with db.transaction() as session:
        instance_id = engine.start(session, "flaky_step", {"amount": 5}, user="wangfang").id
    login(client, "wangfang")
    html = _page(client, instance_id)
    assert "ledger offline" in html and "retry-button" not in html and 'id="admin-actions"' not in html
    assert client.post(f"/instances/{instance_id}/retry").status_code == 403
    with db.transaction() as session:
        assert session.get(ProcessInstance, instance_id).status == "incident"


@pytest.mark.parametrize("username", ["wangfang", "zhangwei", "analyst"])
def test_suspend_resume_and_terminate_are_refused_to_non_administrators(client, start_claim, username):
    instance_id = start_claim("wangfang", "EC-1")
    login(client, username)
    assert 'id="admin-actions"' not in _page(client, instance_id)
    for action in ("suspend", "resume", "terminate"):
        assert client.post(f"/instances/{instance_id}/{action}", data={"reason": "x"}).status_code == 403
    with db.transaction() as session:
        assert session.get(ProcessInstance, instance_id).status == "running"
        assert session.scalars(select(AuditEntry).where(AuditEntry.action.startswith("instance."))).all() == []


def test_an_administrator_suspends_resumes_and_terminates_with_a_reason(client, engine, start_claim):
    instance_id = start_claim("wangfang", "EC-1")
    login(client, "admin")
    html = _page(client, instance_id)
    assert 'id="suspend"' in html and 'id="terminate"' in html and 'id="resume"' not in html

    assert client.post(f"/instances/{instance_id}/suspend").status_code == 302
    html = _page(client, instance_id)
    assert 'data-status="suspended"' in html and 'id="resume"' in html and 'id="suspend"' not in html
    assert client.post(f"/instances/{instance_id}/resume").status_code == 302
    assert client.post(f"/instances/{instance_id}/resume").status_code == 409  # not suspended any more

    refused = client.post(f"/instances/{instance_id}/terminate", data={"reason": "  "})
    assert refused.status_code == 422
    assert client.post(f"/instances/{instance_id}/terminate", data={"reason": "客户撤单"}).status_code == 302
    with db.transaction() as session:
        assert session.get(ProcessInstance, instance_id).status == "terminated"
        assert session.get(HumanTask, _task_id_any(session, instance_id)).status == "cancelled"
        entries = session.scalars(select(AuditEntry).where(AuditEntry.target_type == "instance")
                                  .order_by(AuditEntry.id)).all()
        shown = queries.show(engine, session, instance_id)
    assert [(e.action, e.before["status"], e.after["status"]) for e in entries] == [
        ("instance.suspend", "running", "suspended"), ("instance.resume", "suspended", "running"),
        ("instance.terminate", "running", "terminated")]
    assert entries[-1].detail == "客户撤单" and entries[-1].actor == "admin"
    assert [(h["kind"], h["actor"], h["message"]) for h in shown["history"][-3:]] == [
        ("suspended", "admin", None), ("resumed", "admin", None), ("terminated", "admin", "客户撤单")]
    html = _page(client, instance_id)
    assert 'id="admin-actions"' in html and 'id="terminate"' not in html and 'id="suspend"' not in html
    assert _markers(html)["active"] == []


def _task_id_any(session, instance_id):
    return session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance_id)).first()


def test_administering_an_unknown_instance_is_404(client, people):
    login(client, "admin")
    for action in ("retry", "suspend", "resume", "terminate"):
        assert client.post(f"/instances/999999/{action}", data={"reason": "x"}).status_code == 404


def test_times_are_shown_in_beijing_time(client, engine, start_claim):
    with clock.frozen(datetime(2026, 3, 2, 1, 30, tzinfo=UTC)):
        instance_id = start_claim("wangfang", "EC-1")
    login(client, "lisi")
    assert "9:30" in re.search(r'id="instance-meta">(.*?)</div>', _page(client, instance_id), re.S).group(1)


def test_the_administrators_buttons_post_with_the_csrf_token(engine, start_claim):
    from webapp import create_app

    app = create_app({"TESTING": True, "ENGINE": engine, "SECRET_KEY": "test", "SESSION_COOKIE_SECURE": False,
                      "REMEMBER_COOKIE_SECURE": False})
    client = app.test_client()
    instance_id = start_claim("wangfang", "EC-1")
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', login_page).group(1)
    client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    html = _page(client, instance_id)
    form = re.search(r'<form method="post" action="/instances/\d+/suspend">(.*?)</form>', html, re.S).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    assert client.post(f"/instances/{instance_id}/suspend").status_code == 400  # no token: refused
    with db.transaction() as session:
        assert session.get(ProcessInstance, instance_id).status == "running"
    assert client.post(f"/instances/{instance_id}/suspend", data={"csrf_token": token}).status_code == 302
    with db.transaction() as session:
        assert session.get(ProcessInstance, instance_id).status == "suspended"
