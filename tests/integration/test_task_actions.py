"""The approval actions on human tasks (engine.actions) on both databases: transfer (转办), delegate and resolve
(委派), signers before and after (加签), copy (抄送) with its mail, comments, dates, drafts and the "involved"
lists; each action's refusals. Return (退回) and withdraw (撤回) are in test_task_return.py."""
from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import clock
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine import queries
from engine.models import HumanTask, ProcessInstance, TaskDraft, TaskInvolvement
from engine.runtime import Engine
from erp.identity.queries import groups_of
from erp.identity.services import ensure_user
from erp.notify import on_engine_event
from erp.wiring import user_exists
from forms import FormCatalog
from notifications.models import OutboxMessage
from tests.bpmn_text import HEAD

FORMS = {
    "flow/fill": {"type": "object", "properties": {"title": {"type": "string"}, "amount": {"type": "number"}}},
    "flow/check": {"type": "object", "properties": {"checked": {"type": "boolean"}, "comment": {"type": "string"}}},
    "flow/review": {"type": "object", "required": ["decision"], "properties": {
        "decision": {"type": "string", "enum": ["approve", "reject"]},
        "comment": {"type": "string", "maxLength": 2000}}},
}


def user_task(task_id, incoming, outgoing, *, form=None, groups=None, users=None, assignee=None):
    props = "".join(f'<spiffworkflow:property name="{name}" value="{value}"/>' for name, value in (
        ("formKey", form), ("candidateGroups", groups and f"'{groups}'"), ("candidateUsers", users and f"'{users}'"),
        ("assignee", assignee)) if value)
    ext = f"<bpmn:extensionElements><spiffworkflow:properties>{props}</spiffworkflow:properties>" \
          "</bpmn:extensionElements>" if props else ""
    flows = "".join(f"<bpmn:incoming>{f}</bpmn:incoming>" for f in incoming.split()) + "".join(
        f"<bpmn:outgoing>{f}</bpmn:outgoing>" for f in outgoing.split())
    return f'<bpmn:userTask id="{task_id}" name="{task_id.title()}">{ext}{flows}</bpmn:userTask>\n'


def flow(source, target, flow_id, condition=None):
    cond = f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>" if condition else ""
    return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">{cond}</bpmn:sequenceFlow>\n'


def process(pid, body) -> bytes:
    return (HEAD + f'<bpmn:process id="{pid}" isExecutable="true">\n' + body
            + "</bpmn:process>\n</bpmn:definitions>\n").encode()


#: fill (wangfang) → check (clerks) → review (managers) → approved or rejected end
FLOW = process("flow", (
    '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>\n'
    + user_task("fill", "f1", "f2", form="flow/fill", users="wangfang")
    + user_task("check", "f2", "f3", form="flow/check", groups="clerks")
    + user_task("review", "f3", "f4", form="flow/review", groups="managers")
    + '<bpmn:exclusiveGateway id="outcome" default="f_no"><bpmn:incoming>f4</bpmn:incoming>'
      '<bpmn:outgoing>f_ok</bpmn:outgoing><bpmn:outgoing>f_no</bpmn:outgoing></bpmn:exclusiveGateway>\n'
    + '<bpmn:scriptTask id="tally"><bpmn:incoming>f_ok</bpmn:incoming><bpmn:outgoing>f_end</bpmn:outgoing>'
      '<bpmn:script>approved = True</bpmn:script></bpmn:scriptTask>\n'
    + '<bpmn:endEvent id="approved_end"><bpmn:incoming>f_end</bpmn:incoming></bpmn:endEvent>\n'
    + '<bpmn:endEvent id="rejected_end"><bpmn:incoming>f_no</bpmn:incoming></bpmn:endEvent>\n'
    + flow("start", "fill", "f1") + flow("fill", "check", "f2") + flow("check", "review", "f3")
    + flow("review", "outcome", "f4") + flow("outcome", "tally", "f_ok", 'decision == "approve"')
    + flow("outcome", "rejected_end", "f_no") + flow("tally", "approved_end", "f_end")))

PEOPLE = [("wangfang", "王芳", ["employees"]), ("zhangwei", "张伟", ["managers"]), ("lina", "李娜", ["managers"]),
          ("liuyang", "刘洋", ["managers"]), ("chenjing", "陈静", ["clerks"]), ("zhaoqiang", "赵强", ["clerks"]),
          ("sunli", "孙丽", ["sales"])]


@pytest.fixture
def forms_dir(tmp_path):
    for key, schema in FORMS.items():
        path = tmp_path / f"{key}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(schema), encoding="utf-8")
    return tmp_path


@pytest.fixture
def engine(forms_dir):
    return Engine(forms=FormCatalog(forms_dir), groups_of=groups_of, listeners=[on_engine_event],
                  user_exists=user_exists)


@pytest.fixture
def office(database, engine, tx):
    """The flow process deployed and the people of the office."""
    with tx() as session:
        engine.deploy(session, {"flow.bpmn": FLOW})
        for username, name, groups in PEOPLE:
            ensure_user(session, username, name, email=f"{username}@example.cn", groups=groups)
    return engine


def start(engine, tx, data=None, key="flow", user="wangfang") -> int:
    with tx() as session:
        return engine.start(session, key, data or {"title": "采购", "amount": Decimal("100.00")},
                            user=user, business_key="PR-1").id


def open_task(tx, instance_id, element=None) -> dict:
    with tx(readonly=True) as session:
        found = [t for t in queries.tasks(session, instance_id=instance_id)
                 if element is None or t["element_id"] == element]
    assert len(found) == 1, found
    return found[0]


def complete(engine, tx, task_id, user, data=None):
    with tx() as session:
        return engine.complete(session, task_id, data or {}, user)


def at_review(engine, tx) -> tuple[int, dict]:
    instance_id = start(engine, tx)
    complete(engine, tx, open_task(tx, instance_id, "fill")["id"], "wangfang", {"title": "采购"})
    complete(engine, tx, open_task(tx, instance_id, "check")["id"], "chenjing", {"checked": True})
    return instance_id, open_task(tx, instance_id, "review")


def history(engine, tx, instance_id, kind=None) -> list[dict]:
    with tx(readonly=True) as session:
        rows = queries.show(engine, session, instance_id)["history"]
    return [h for h in rows if kind is None or h["kind"] == kind]


def row(tx, task_id) -> dict:
    with tx(readonly=True) as session:
        return queries.task_dict(session.get(HumanTask, task_id))


def lock_version(tx, instance_id) -> int:
    with tx(readonly=True) as session:
        return session.get(ProcessInstance, instance_id).lock_version


def outbox(tx, kind) -> list[tuple[str, str]]:
    with tx(readonly=True) as session:
        return [(m.recipient_user, m.subject) for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id))]


# ---------------------------------------------------------------------- transfer (转办)

def test_transfer_hands_the_task_to_another_person_for_good(office, tx):
    instance_id, task = at_review(office, tx)
    version = lock_version(tx, instance_id)
    with tx() as session:
        office.transfer(session, task["id"], "zhangwei", "sunli", comment="请孙丽处理")
    moved = row(tx, task["id"])
    assert moved["assignee"] == "sunli" and moved["status"] == "open"
    assert lock_version(tx, instance_id) == version + 1  # a completion racing with the transfer fails
    [event] = history(office, tx, instance_id, "task_transferred")
    assert event["actor"] == "zhangwei" and event["element_id"] == "review" and event["message"] == "请孙丽处理"
    assert event["data"] == {"from": "zhangwei", "assignee_before": None, "to": "sunli", "comment": "请孙丽处理"}
    assert ("sunli", "【待办】flow：Review（PR-1）") in outbox(tx, "task_assigned")
    with tx(readonly=True) as session:
        rows, total = queries.involved_tasks(session, "zhangwei", kind="handed_on")
    assert total == 1 and rows[0]["id"] == task["id"] and rows[0]["by_user"] == "zhangwei"
    with pytest.raises(PermissionDenied):  # zhangwei handed it on: it is no longer his
        complete(office, tx, task["id"], "zhangwei", {"decision": "approve"})
    complete(office, tx, task["id"], "sunli", {"decision": "approve"})
    assert row(tx, task["id"])["completed_by"] == "sunli"


def test_transfer_refusals(office, tx):
    instance_id, task = at_review(office, tx)
    cases = [("sunli", "lina", PermissionDenied, "sunli may not work on task"),  # not a candidate
             ("zhangwei", "zhangwei", InvalidInput, "someone else"),
             ("zhangwei", "nobody", InvalidInput, "no user 'nobody'"),
             ("zhangwei", "", InvalidInput, "required")]
    for user, target, error, message in cases:
        with pytest.raises(error, match=message) as raised:
            with tx() as session:
                office.transfer(session, task["id"], user, target)
        if error is InvalidInput:
            assert list(raised.value.errors) == ["to_user"]
    with pytest.raises(NotFound):
        with tx() as session:
            office.transfer(session, 9999, "zhangwei", "lina")
    complete(office, tx, task["id"], "zhangwei", {"decision": "approve"})
    with pytest.raises(Conflict, match="already completed"):
        with tx() as session:
            office.transfer(session, task["id"], "zhangwei", "lina")
    assert history(office, tx, instance_id, "task_transferred") == []


# ---------------------------------------------------------------------- delegate (委派) and resolve

def test_delegation_goes_to_the_delegate_and_comes_back_prefilled(office, tx):
    instance_id, task = at_review(office, tx)
    with tx() as session:
        office.delegate(session, task["id"], "zhangwei", "lina", comment="请帮我看一下")
    delegated = row(tx, task["id"])
    assert (delegated["owner"], delegated["assignee"], delegated["delegation_state"]) == (
        "zhangwei", "lina", "pending")
    with pytest.raises(PermissionDenied, match="resolve it back to zhangwei"):
        complete(office, tx, task["id"], "lina", {"decision": "approve"})
    with pytest.raises(PermissionDenied, match="delegated to lina"):
        complete(office, tx, task["id"], "zhangwei", {"decision": "approve"})
    with pytest.raises(PermissionDenied, match="resolve it back"):  # nor hand it on while it is delegated
        with tx() as session:
            office.transfer(session, task["id"], "lina", "liuyang")
    with pytest.raises(PermissionDenied, match="only lina"):
        with tx() as session:
            office.resolve(session, task["id"], "zhangwei")
    with tx() as session:
        office.resolve(session, task["id"], "lina", data={"decision": "reject", "comment": "金额偏高"},
                       comment="建议驳回")
        assert office.draft(session, task["id"], "zhangwei") == {"decision": "reject", "comment": "金额偏高"}
    back = row(tx, task["id"])
    assert (back["assignee"], back["delegation_state"], back["owner"]) == ("zhangwei", "resolved", "zhangwei")
    with pytest.raises(Conflict, match="not delegated"):
        with tx() as session:
            office.resolve(session, task["id"], "zhangwei")
    complete(office, tx, task["id"], "zhangwei", {"decision": "approve"})
    with tx(readonly=True) as session:
        assert office.draft(session, task["id"], "zhangwei") is None  # drafts go with the completion
        assert session.scalar(select(func.count()).select_from(TaskDraft)) == 0
        rows, total = queries.involved_tasks(session, "zhangwei", kind="delegated")
    assert total == 1 and rows[0]["status"] == "completed"
    kinds = [h["kind"] for h in history(office, tx, instance_id) if h["element_id"] == "review"]
    assert kinds[:3] == ["task_delegated", "task_resolved", "task_completed"]
    resolved = history(office, tx, instance_id, "task_resolved")[0]
    assert resolved["actor"] == "lina" and resolved["data"]["data"] == {"decision": "reject", "comment": "金额偏高"}
    assigned = [user for user, _ in outbox(tx, "task_assigned")]
    assert assigned.count("lina") >= 1 and assigned.count("zhangwei") >= 2  # offered, then given back


def test_delegation_refusals(office, tx):
    _, task = at_review(office, tx)
    with pytest.raises(PermissionDenied):
        with tx() as session:
            office.delegate(session, task["id"], "chenjing", "lina")  # a clerk is no reviewer
    with pytest.raises(InvalidInput) as invalid:
        with tx() as session:
            office.delegate(session, task["id"], "zhangwei", "ghost")
    assert invalid.value.errors == {"to_user": ["no user 'ghost'"]}
    with pytest.raises(InvalidInput, match="JSON object"):
        with tx() as session:
            office.delegate(session, task["id"], "zhangwei", "lina")
            office.resolve(session, task["id"], "lina", data=["approve"])


# ---------------------------------------------------------------------- signers (加签)

def test_a_signer_before_signs_first_and_the_task_comes_back_without_moving_the_process(office, tx):
    instance_id, task = at_review(office, tx)
    with tx() as session:
        office.add_signer(session, task["id"], "zhangwei", "lina", position="before", comment="先请李娜会签")
        office.add_signer(session, task["id"], "lina", "liuyang", position="before")  # lina asks liuyang first
    assert row(tx, task["id"])["assignee"] == "liuyang" and row(tx, task["id"])["return_to"] == ["zhangwei", "lina"]
    with pytest.raises(InvalidInput):  # a signer's data is checked like a completion's
        complete(office, tx, task["id"], "liuyang", {"decision": "maybe"})
    complete(office, tx, task["id"], "liuyang", {"decision": "approve", "comment": "同意"})
    assert row(tx, task["id"])["assignee"] == "lina" and row(tx, task["id"])["status"] == "open"
    complete(office, tx, task["id"], "lina", {"decision": "reject", "comment": "再议"})
    back = row(tx, task["id"])
    assert (back["assignee"], back["return_to"], back["status"]) == ("zhangwei", [], "open")
    with tx(readonly=True) as session:
        assert queries.show(office, session, instance_id)["status"] == "running"
    signed = history(office, tx, instance_id, "task_signed")
    assert [(h["actor"], h["data"]["back_to"], h["message"]) for h in signed] == [
        ("liuyang", "lina", "同意"), ("lina", "zhangwei", "再议")]
    assert signed[1]["data"]["data"] == {"decision": "reject", "comment": "再议"}
    complete(office, tx, task["id"], "zhangwei", {"decision": "approve"})
    with tx(readonly=True) as session:
        shown = queries.show(office, session, instance_id)
        _, total = queries.involved_tasks(session, "lina", kind="signer_requested")
    assert shown["status"] == "completed" and shown["data"]["approved"] is True and total == 1


def test_signers_after_sign_in_turn_and_the_last_decision_governs(office, tx):
    instance_id, task = at_review(office, tx)
    with tx() as session:
        office.add_signer(session, task["id"], "zhangwei", "lina", position="after")
        office.add_signer(session, task["id"], "zhangwei", "liuyang", position="after", comment="总经理终审")
    assert row(tx, task["id"])["signers_after"] == ["lina", "liuyang"]
    assert row(tx, task["id"])["assignee"] == "zhangwei"  # whoever adds signers after works the task
    with pytest.raises(InvalidInput):
        with tx() as session:
            office.add_signer(session, task["id"], "zhangwei", "lina", position="after")
    with pytest.raises(InvalidInput) as invalid:
        with tx() as session:
            office.add_signer(session, task["id"], "zhangwei", "sunli", position="sideways")
    assert list(invalid.value.errors) == ["position"]
    complete(office, tx, task["id"], "zhangwei", {"decision": "approve", "comment": "同意"})
    first = row(tx, task["id"])
    assert (first["assignee"], first["signers_after"], first["status"]) == ("lina", ["liuyang"], "open")
    with tx(readonly=True) as session:
        assert session.get(HumanTask, task["id"]).pending_data == {"decision": "approve", "comment": "同意"}
    with pytest.raises(PermissionDenied):
        complete(office, tx, task["id"], "zhangwei", {"decision": "approve"})
    complete(office, tx, task["id"], "lina", {"comment": "我也同意"})  # the pending decision carries on
    assert row(tx, task["id"])["assignee"] == "liuyang"
    complete(office, tx, task["id"], "liuyang", {"decision": "reject", "comment": "预算不足"})
    with tx(readonly=True) as session:
        shown = queries.show(office, session, instance_id)
    assert shown["status"] == "completed" and "approved" not in shown["data"]  # the last signer rejected
    assert shown["data"]["decision"] == "reject" and shown["data"]["comment"] == "预算不足"
    signed = history(office, tx, instance_id, "task_signed")
    assert [(h["actor"], h["data"]["next"]) for h in signed] == [("zhangwei", "lina"), ("lina", "liuyang")]
    [done] = history(office, tx, instance_id, "task_completed")[-1:]
    assert done["actor"] == "liuyang" and done["data"] == {"decision": "reject", "comment": "预算不足"}
    assert row(tx, task["id"])["completed_by"] == "liuyang"


def test_pending_data_keeps_decimal_amounts(office, tx):
    instance_id = start(office, tx)
    task = open_task(tx, instance_id, "fill")
    with tx() as session:
        office.add_signer(session, task["id"], "wangfang", "chenjing", position="after")
    complete(office, tx, task["id"], "wangfang", {"title": "采购", "amount": Decimal("19.99")})
    complete(office, tx, task["id"], "chenjing", {})
    with tx(readonly=True) as session:
        _, workflow = office.load(session, instance_id)
    [check] = [t for t in workflow.tasks.values() if t.task_spec.bpmn_id == "check"]
    assert check.data["amount"] == Decimal("19.99")


# ---------------------------------------------------------------------- copy (抄送)

def test_copy_records_who_was_copied_once_and_mails_them(office, tx):
    instance_id, task = at_review(office, tx)
    with tx() as session:
        assert office.copy_to(session, task["id"], "zhangwei", ["sunli", "chenjing"], note="请知悉") == [
            "sunli", "chenjing"]
        assert office.copy_to(session, task["id"], "zhangwei", ["sunli", "liuyang", "liuyang"]) == ["liuyang"]
    with tx(readonly=True) as session:
        copies = session.scalars(select(TaskInvolvement).where(TaskInvolvement.kind == "copied")
                                 .order_by(TaskInvolvement.id)).all()
        assert [(c.user_name, c.by_user, c.task_id) for c in copies] == [
            ("sunli", "zhangwei", task["id"]), ("chenjing", "zhangwei", task["id"]),
            ("liuyang", "zhangwei", task["id"])]
        rows, total = queries.involved_tasks(session, "sunli", kind="copied")
    assert total == 1 and rows[0]["id"] == task["id"] and rows[0]["note"] == "请知悉" and rows[0]["read_at"] is None
    assert rows[0]["business_key"] == "PR-1" and rows[0]["element_id"] == "review"
    mails = outbox(tx, "task_copied")
    assert [user for user, _ in mails] == ["sunli", "chenjing", "liuyang"]
    assert mails[0][1] == "【抄送】张伟 抄送给您：Review（PR-1）"
    events = history(office, tx, instance_id, "task_copied")
    assert [e["data"]["to"] for e in events] == [["sunli", "chenjing"], ["liuyang"]]
    assert events[1]["data"]["already"] == ["sunli"]
    with tx() as session:
        assert queries.mark_read(session, rows[0]["involvement_id"], "sunli") is True
        assert queries.mark_read(session, rows[0]["involvement_id"], "sunli") is False
        with pytest.raises(PermissionDenied):
            queries.mark_read(session, rows[0]["involvement_id"], "chenjing")
    with tx(readonly=True) as session:
        assert queries.involved_tasks(session, "sunli")[0][0]["read_at"] is not None


def test_copy_needs_sight_of_the_instance_and_real_people(office, tx):
    instance_id, task = at_review(office, tx)
    with pytest.raises(PermissionDenied, match="sunli may not see instance"):
        with tx() as session:
            office.copy_to(session, task["id"], "sunli", ["lina"])
    with pytest.raises(InvalidInput) as invalid:
        with tx() as session:
            office.copy_to(session, task["id"], "zhangwei", ["lina", "ghost"])
    assert invalid.value.errors == {"to_users": ["'ghost' is not a user"]}
    for bad in ([], "lina", None):
        with pytest.raises(InvalidInput):
            with tx() as session:
                office.copy_to(session, task["id"], "zhangwei", bad)
    with pytest.raises(InvalidInput, match="a task or an instance"):
        with tx() as session:
            office.copy_to(session, None, "zhangwei", ["lina"])
    with pytest.raises(InvalidInput):
        with tx() as session:
            office.copy_to(session, task["id"], "zhangwei", ["lina"], instance_id=instance_id + 1)
    # the requester (started it), a clerk who worked a step and a reviewer (a candidate) all see it
    with tx() as session:
        assert office.copy_to(session, None, "wangfang", ["sunli"], instance_id=instance_id) == ["sunli"]
        assert office.copy_to(session, None, "chenjing", ["sunli", "liuyang"], instance_id=instance_id) == [
            "liuyang"]
        assert office.copy_to(session, task["id"], "lina", ["sunli"]) == ["sunli"]  # the task ≠ the instance
    with tx(readonly=True) as session:
        rows, total = queries.involved_tasks(session, "sunli", kind="copied")
    assert total == 2 and {r["id"] for r in rows} == {None, task["id"]}
    whole = next(r for r in rows if r["id"] is None)
    assert whole["instance_id"] == instance_id and whole["by_user"] == "wangfang" and whole["process_key"] == "flow"
    assert [user for user, _ in outbox(tx, "task_copied")] == ["sunli", "liuyang", "sunli"]
    with tx(readonly=True) as session:
        page, total = queries.involved_tasks(session, "sunli", page=2, per_page=1)
        assert total == 2 and len(page) == 1
        with pytest.raises(InvalidInput):
            queries.involved_tasks(session, "sunli", kind="liked")


# ---------------------------------------------------------------------- comments, dates, drafts

def test_comments_go_to_the_history(office, tx):
    instance_id, task = at_review(office, tx)
    with tx() as session:
        office.comment(session, task["id"], "lina", "  请补充报价单  ")
    [event] = history(office, tx, instance_id, "comment")
    assert (event["actor"], event["message"], event["element_id"]) == ("lina", "请补充报价单", "review")
    for text, error in [("", InvalidInput), ("   ", InvalidInput), ("长" * 2001, InvalidInput), (None, InvalidInput)]:
        with pytest.raises(error) as invalid:
            with tx() as session:
                office.comment(session, task["id"], "lina", text)
        assert list(invalid.value.errors) == ["text"]
    with pytest.raises(PermissionDenied):
        with tx() as session:
            office.comment(session, task["id"], "sunli", "路过")
    with tx() as session:
        office.comment(session, task["id"], "lina", "长" * 2000)


def test_dates_change_with_their_history_and_a_new_due_date_is_reminded_again(office, tx):
    instance_id, task = at_review(office, tx)
    due = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    with tx() as session:
        session.get(HumanTask, task["id"]).reminded_at = clock.now()
    with tx() as session:
        office.set_dates(session, task["id"], "zhangwei", due_at=due, follow_up_at=due - timedelta(days=1))
    with tx(readonly=True) as session:
        changed = session.get(HumanTask, task["id"])
        assert changed.due_at == due and changed.follow_up_at == due - timedelta(days=1)
        assert changed.reminded_at is None
    [event] = history(office, tx, instance_id, "task_dates_changed")
    assert event["data"]["after"] == {"due_at": due.isoformat(), "follow_up_at": "2026-04-30T09:00:00+00:00"}
    assert event["data"]["before"]["follow_up_at"] is None and event["data"]["supervised"] is False
    with pytest.raises(PermissionDenied):
        with tx() as session:
            office.set_dates(session, task["id"], "sunli", due_at=due)
    with tx() as session:  # a manager supervising, checked by the web layer
        office.set_dates(session, task["id"], "sunli", follow_up_at=None, supervise=True)
    assert row(tx, task["id"])["follow_up_at"] is None
    for bad in ({"due_at": datetime(2026, 5, 1, 9, 0)}, {"due_at": "next week"}, {}):
        with pytest.raises(InvalidInput):
            with tx() as session:
                office.set_dates(session, task["id"], "zhangwei", **bad)


def test_drafts_are_per_person_and_go_when_the_task_is_done(office, tx):
    instance_id, task = at_review(office, tx)
    with tx() as session:
        office.save_draft(session, task["id"], "zhangwei", {"decision": "appr"})  # no validation
        office.save_draft(session, task["id"], "zhangwei", {"decision": "approve", "amount": Decimal("1.50")})
        office.save_draft(session, task["id"], "lina", {"comment": "草稿"})
    with tx(readonly=True) as session:
        assert office.draft(session, task["id"], "zhangwei") == {"decision": "approve", "amount": "1.50"}
        assert office.draft(session, task["id"], "lina") == {"comment": "草稿"}
        assert office.draft(session, task["id"], "liuyang") is None
        assert session.scalar(select(func.count()).select_from(TaskDraft)) == 2
        with pytest.raises(NotFound):
            office.draft(session, 9999, "lina")
    with pytest.raises(InvalidInput):
        with tx() as session:
            office.save_draft(session, task["id"], "zhangwei", ["approve"])
    with pytest.raises(PermissionDenied):
        with tx() as session:
            office.save_draft(session, task["id"], "sunli", {})
    complete(office, tx, task["id"], "lina", {"decision": "approve"})
    with tx(readonly=True) as session:
        assert office.draft(session, task["id"], "zhangwei") is None
        assert session.scalar(select(func.count()).select_from(TaskDraft)) == 0
    with pytest.raises(Conflict):
        with tx() as session:
            office.save_draft(session, task["id"], "zhangwei", {})


def test_actions_on_a_suspended_instance_are_refused(office, tx):
    instance_id, task = at_review(office, tx)
    with tx() as session:
        office.suspend(session, instance_id, user="admin")
    for action in (lambda s: office.transfer(s, task["id"], "zhangwei", "lina"),
                   lambda s: office.delegate(s, task["id"], "zhangwei", "lina"),
                   lambda s: office.add_signer(s, task["id"], "zhangwei", "lina"),
                   lambda s: office.return_task(s, task["id"], "zhangwei", "不行")):
        with pytest.raises(Conflict, match="suspended"):
            with tx() as session:
                action(session)


def test_a_completion_racing_with_a_transfer_exactly_one_wins(office, tx, database, monkeypatch):
    """The transfer bumps the instance's lock version, so the completion that read the task before it changed
    hands fails instead of completing a task that is no longer the completer's (two real connections)."""
    instance_id, task = at_review(office, tx)
    barrier = threading.Barrier(2)

    def held(method):
        def wait_then(*args):
            try:
                barrier.wait(timeout=1.5)
            except threading.BrokenBarrierError:
                pass  # SQLite: the second writer only begins once the first has committed
            return method(*args)
        return wait_then

    monkeypatch.setattr(office, "_save", held(office._save))
    monkeypatch.setattr(office, "_bump", held(office._bump))
    outcomes = {}

    def run(name, action):
        try:
            with database.transaction() as session:
                action(session)
            outcomes[name] = "ok"
        except (Conflict, PermissionDenied) as exc:
            outcomes[name] = type(exc).__name__

    threads = [threading.Thread(target=run, args=("complete", lambda s: office.complete(
                   s, task["id"], {"decision": "approve"}, "zhangwei"))),
               threading.Thread(target=run, args=("transfer", lambda s: office.transfer(
                   s, task["id"], "lina", "sunli")))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values())[-1] == "ok" and list(outcomes.values()).count("ok") == 1, outcomes
    if database.engine.dialect.name == "postgresql":
        assert "Conflict" in outcomes.values(), outcomes
    done = row(tx, task["id"])
    if outcomes["complete"] == "ok":
        assert done["status"] == "completed" and history(office, tx, instance_id, "task_transferred") == []
    else:
        assert (done["status"], done["assignee"]) == ("open", "sunli")
        assert history(office, tx, instance_id, "task_completed")[-1]["element_id"] == "check"
