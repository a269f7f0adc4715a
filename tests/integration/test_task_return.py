"""退回 (return) and 撤回 (withdraw): the instance moved back by hand to an earlier user task, which is usually
gone from the compacted task tree; the inbox, the history, timers and the bounded state after the move; the
diagram's own return path when the form offers one; and every refusal."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import clock
from core.errors import Conflict, InvalidInput, PermissionDenied
from engine import queries
from engine.deploy import read_paths
from engine.errors import InstanceNotActive
from engine.models import HumanTask, ProcessInstance, TaskDraft
from engine.runtime import Engine
from erp.identity.queries import groups_of
from erp.identity.services import ensure_user
from erp.wiring import build_registry, script_globals, user_exists
from forms import FormCatalog
from tests.conftest import ROOT
from tests.integration import test_task_actions as shared
from tests.integration.test_task_actions import (
    at_review,
    complete,
    flow,
    history,
    open_task,
    outbox,
    process,
    row,
    start,
    user_task,
)

forms_dir, engine, office = shared.forms_dir, shared.engine, shared.office  # the same fixtures


def tasks_of(tx, instance_id) -> list[tuple[str, str, str | None]]:
    with tx(readonly=True) as session:
        rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)
                               .order_by(HumanTask.id)).all()
        return [(r.element_id, r.status, r.assignee) for r in rows]


def state_size(tx, instance_id) -> int:
    with tx(readonly=True) as session:
        return len(session.get(ProcessInstance, instance_id).state)


def return_task(engine, tx, task_id, user, reason="请修改", to="previous"):
    with tx() as session:
        return engine.return_task(session, task_id, user, reason, to=to)


# ---------------------------------------------------------------------- return (退回) by moving the instance

def test_return_to_the_previous_step_gives_it_back_to_whoever_did_it(office, tx):
    instance_id, review = at_review(office, tx)
    with tx() as session:
        office.save_draft(session, review["id"], "zhangwei", {"decision": "reject"})
    return_task(office, tx, review["id"], "zhangwei", "数量有误")
    with tx(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(TaskDraft)) == 0  # gone with the task
    back = open_task(tx, instance_id)
    assert (back["element_id"], back["assignee"], back["candidate_groups"]) == ("check", "chenjing", ["clerks"])
    assert row(tx, review["id"])["status"] == "cancelled"
    [event] = history(office, tx, instance_id, "task_returned")
    assert event["actor"] == "zhangwei" and event["message"] == "数量有误" and event["element_id"] == "review"
    assert event["data"] == {"reason": "数量有误", "to": "previous", "from": "review", "to_element": "check",
                             "assignee": "chenjing", "task_id": review["id"]}
    assert ("chenjing", "【待办】flow：Check（PR-1）") in outbox(tx, "task_assigned")
    with pytest.raises(PermissionDenied):  # assigned to the clerk who checked it before
        complete(office, tx, back["id"], "zhaoqiang", {"checked": True})
    complete(office, tx, back["id"], "chenjing", {"checked": True, "comment": "已改"})
    again = open_task(tx, instance_id)
    assert again["element_id"] == "review" and again["assignee"] is None
    with tx(readonly=True) as session:
        _, workflow = office.load(session, instance_id)
        [ready] = [t for t in workflow.tasks.values() if t.task_spec.bpmn_id == "review"]
        assert ready.data["return_reason"] == "数量有误" and ready.data["comment"] == "已改"
    complete(office, tx, again["id"], "lina", {"decision": "approve"})
    with tx(readonly=True) as session:
        shown = queries.show(office, session, instance_id)
    assert shown["status"] == "completed" and shown["data"]["approved"] is True


def test_return_to_the_requester_goes_to_the_first_step(office, tx):
    instance_id, review = at_review(office, tx)
    return_task(office, tx, review["id"], "zhangwei", "请重新提交", to="requester")
    back = open_task(tx, instance_id)
    assert (back["element_id"], back["assignee"]) == ("fill", "wangfang")
    complete(office, tx, back["id"], "wangfang", {"title": "采购（修改）"})
    check = open_task(tx, instance_id)
    assert check["element_id"] == "check"
    return_task(office, tx, check["id"], "zhaoqiang", "还是不对")  # previous of check is fill
    assert open_task(tx, instance_id)["element_id"] == "fill"
    assert [(e, s) for e, s, _ in tasks_of(tx, instance_id)] == [
        ("fill", "completed"), ("check", "completed"), ("review", "cancelled"), ("fill", "completed"),
        ("check", "cancelled"), ("fill", "open")]


def test_return_needs_a_reason_a_known_target_and_an_earlier_step(office, tx):
    instance_id = start(office, tx)
    fill = open_task(tx, instance_id, "fill")
    for reason in ("", "   ", None, "长" * 2001):
        with pytest.raises(InvalidInput) as invalid:
            return_task(office, tx, fill["id"], "wangfang", reason)
        assert list(invalid.value.errors) == ["reason"]
    with pytest.raises(InvalidInput) as invalid:
        return_task(office, tx, fill["id"], "wangfang", "x", to="sideways")
    assert list(invalid.value.errors) == ["to"]
    for to in ("previous", "requester"):
        with pytest.raises(Conflict, match="this step has no earlier step to return to"):
            return_task(office, tx, fill["id"], "wangfang", "退回", to=to)
    complete(office, tx, fill["id"], "wangfang", {"title": "采购"})
    check = open_task(tx, instance_id)
    with pytest.raises(PermissionDenied):
        return_task(office, tx, check["id"], "zhangwei", "不是我的")  # not a clerk
    assert history(office, tx, instance_id, "task_returned") == []
    assert open_task(tx, instance_id)["id"] == check["id"]


def test_a_returned_loop_stays_small_and_the_process_still_finishes(office, tx):
    """Twenty rounds of review → check (returned) → review, then requester and the normal way to the end:
    the saved state does not grow with the rounds (compaction), and every round's rows are right."""
    instance_id, review = at_review(office, tx)
    sizes = []
    for round_ in range(24):
        return_task(office, tx, review["id"], "zhangwei", f"第{round_ + 1}次退回")
        check = open_task(tx, instance_id)
        assert (check["element_id"], check["assignee"]) == ("check", "chenjing")
        complete(office, tx, check["id"], "chenjing", {"checked": True, "comment": f"第{round_ + 1}次修改"})
        review = open_task(tx, instance_id)
        assert review["element_id"] == "review"
        sizes.append(state_size(tx, instance_id))
    assert max(sizes) - min(sizes) < 100, sizes  # flat: not even one more task's worth per round
    return_task(office, tx, review["id"], "lina", "从头再来", to="requester")
    complete(office, tx, open_task(tx, instance_id)["id"], "wangfang", {"title": "最终版"})
    complete(office, tx, open_task(tx, instance_id)["id"], "chenjing", {"checked": True})
    complete(office, tx, open_task(tx, instance_id)["id"], "liuyang", {"decision": "approve"})
    with tx(readonly=True) as session:
        shown = queries.show(office, session, instance_id)
    assert shown["status"] == "completed" and shown["data"]["approved"] is True
    assert shown["data"]["title"] == "最终版" and shown["data"]["return_reason"] == "从头再来"
    assert len(history(office, tx, instance_id, "task_returned")) == 25
    statuses = [s for _, s, _ in tasks_of(tx, instance_id)]
    assert statuses.count("cancelled") == 25 and "open" not in statuses


PARALLEL = process("parallel", (
    '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>\n'
    + user_task("first", "f1", "f2")
    + '<bpmn:parallelGateway id="split"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>fa</bpmn:outgoing>'
      '<bpmn:outgoing>fb</bpmn:outgoing></bpmn:parallelGateway>\n'
    + user_task("left", "fa", "fa2") + user_task("right", "fb", "fb2")
    + '<bpmn:parallelGateway id="join"><bpmn:incoming>fa2</bpmn:incoming><bpmn:incoming>fb2</bpmn:incoming>'
      '<bpmn:outgoing>f3</bpmn:outgoing></bpmn:parallelGateway>\n'
    + user_task("last", "f3", "f4")
    + '<bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>\n'
    + flow("start", "first", "f1") + flow("first", "split", "f2") + flow("split", "left", "fa")
    + flow("split", "right", "fb") + flow("left", "join", "fa2") + flow("right", "join", "fb2")
    + flow("join", "last", "f3") + flow("last", "end", "f4")))

SUBPROCESS = process("nested", (
    '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>\n'
    + user_task("first", "f1", "f2")
    + '<bpmn:subProcess id="sub"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>'
      '<bpmn:startEvent id="sub_start"><bpmn:outgoing>s1</bpmn:outgoing></bpmn:startEvent>'
    + user_task("inner_a", "s1", "s2") + user_task("inner_b", "s2", "s3")
    + flow("sub_start", "inner_a", "s1") + flow("inner_a", "inner_b", "s2") + flow("inner_b", "sub_end", "s3")
    + '<bpmn:endEvent id="sub_end"><bpmn:incoming>s3</bpmn:incoming></bpmn:endEvent></bpmn:subProcess>\n'
    + user_task("last", "f3", "f4")
    + '<bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>\n'
    + flow("start", "first", "f1") + flow("first", "sub", "f2") + flow("sub", "last", "f3")
    + flow("last", "end", "f4")))


def _timer(name, attached, minutes):
    return (f'<bpmn:boundaryEvent id="{name}" attachedToRef="{attached}"><bpmn:outgoing>{name}_f</bpmn:outgoing>'
            f'<bpmn:timerEventDefinition><bpmn:timeDuration>"PT{minutes}M"</bpmn:timeDuration>'
            f'</bpmn:timerEventDefinition></bpmn:boundaryEvent>\n'
            f'<bpmn:endEvent id="{name}_end"><bpmn:incoming>{name}_f</bpmn:incoming></bpmn:endEvent>\n'
            + flow(name, f"{name}_end", f"{name}_f"))


TIMED = process("timed", (
    '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>\n'
    + user_task("first", "f1", "f2") + _timer("first_late", "first", 60)
    + user_task("second", "f2", "f3") + _timer("second_late", "second", 120)
    + '<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>\n'
    + flow("start", "first", "f1") + flow("first", "second", "f2") + flow("second", "end", "f3")))


@pytest.fixture
def shapes(office, tx):
    with tx() as session:
        office.deploy(session, {"parallel.bpmn": PARALLEL, "nested.bpmn": SUBPROCESS, "timed.bpmn": TIMED})
    return office


def test_no_return_while_parallel_branches_are_live(shapes, tx):
    instance_id = start(shapes, tx, {}, key="parallel")
    complete(shapes, tx, open_task(tx, instance_id)["id"], "wangfang")
    left = open_task(tx, instance_id, "left")
    with pytest.raises(Conflict, match=r"other work in progress in parallel \(right\)"):
        return_task(shapes, tx, left["id"], "zhangwei")
    complete(shapes, tx, left["id"], "zhangwei")
    right = open_task(tx, instance_id, "right")
    with pytest.raises(Conflict, match="parallel"):  # the join waits there with left's arrival
        return_task(shapes, tx, right["id"], "zhangwei")
    complete(shapes, tx, right["id"], "lina")
    last = open_task(tx, instance_id, "last")
    with pytest.raises(Conflict, match="inside a parallel branch"):  # right alone could never pass the join
        return_task(shapes, tx, last["id"], "liuyang", "重做右边")
    return_task(shapes, tx, last["id"], "liuyang", "从头再来", to="requester")  # before the split: fine
    back = open_task(tx, instance_id)
    assert (back["element_id"], back["assignee"]) == ("first", "wangfang")
    complete(shapes, tx, back["id"], "wangfang")
    complete(shapes, tx, open_task(tx, instance_id, "left")["id"], "zhangwei")
    complete(shapes, tx, open_task(tx, instance_id, "right")["id"], "lina")
    complete(shapes, tx, open_task(tx, instance_id, "last")["id"], "liuyang")
    with tx(readonly=True) as session:
        assert queries.show(shapes, session, instance_id)["status"] == "completed"
    assert [s for _, s, _ in tasks_of(tx, instance_id)].count("open") == 0


def test_return_stays_inside_its_subprocess(shapes, tx):
    instance_id = start(shapes, tx, {}, key="nested")
    complete(shapes, tx, open_task(tx, instance_id)["id"], "wangfang")
    inner_a = open_task(tx, instance_id)
    with pytest.raises(Conflict, match="not part of the subprocess"):
        return_task(shapes, tx, inner_a["id"], "zhangwei")  # previous is `first`, outside the subprocess
    complete(shapes, tx, inner_a["id"], "zhangwei")
    inner_b = open_task(tx, instance_id)
    return_task(shapes, tx, inner_b["id"], "lina", "子流程内退回")
    back = open_task(tx, instance_id)
    assert (back["element_id"], back["assignee"]) == ("inner_a", "zhangwei")
    complete(shapes, tx, back["id"], "zhangwei")
    complete(shapes, tx, open_task(tx, instance_id, "inner_b")["id"], "lina")
    last = open_task(tx, instance_id, "last")
    with pytest.raises(Conflict, match="not part of the process"):  # inner_b is inside the subprocess
        return_task(shapes, tx, last["id"], "liuyang")
    complete(shapes, tx, last["id"], "liuyang")
    with tx(readonly=True) as session:
        assert queries.show(shapes, session, instance_id)["status"] == "completed"


def test_boundary_timers_follow_the_returned_task(shapes, tx):
    instance_id = start(shapes, tx, {}, key="timed")
    with tx(readonly=True) as session:
        first_due = session.get(ProcessInstance, instance_id).next_timer_at
    complete(shapes, tx, open_task(tx, instance_id)["id"], "wangfang")
    second = open_task(tx, instance_id)
    with tx(readonly=True) as session:
        assert session.get(ProcessInstance, instance_id).next_timer_at > first_due
    with clock.frozen(clock.now()) as now:
        return_task(shapes, tx, second["id"], "zhangwei", "重填")
        with tx(readonly=True) as session:
            instance = session.get(ProcessInstance, instance_id)
            _, workflow = shapes.load(session, instance_id)
        assert (instance.next_timer_at - now.at).total_seconds() == 3600  # first's one-hour timer, re-armed
    timers = [t["element_id"] for t in queries.timers(workflow)]
    assert timers == ["first_late"]
    back = open_task(tx, instance_id)
    assert (back["element_id"], back["assignee"]) == ("first", "wangfang")
    complete(shapes, tx, back["id"], "wangfang")
    complete(shapes, tx, open_task(tx, instance_id, "second")["id"], "zhangwei")
    with tx(readonly=True) as session:
        shown = queries.show(shapes, session, instance_id)
    assert shown["status"] == "completed" and shown["timers"] == []


# ---------------------------------------------------------------------- return by the diagram's own path

@pytest.fixture
def approval(tx, database):
    engine = Engine(build_registry(), forms=FormCatalog(ROOT / "forms"), groups_of=groups_of, user_exists=user_exists,
                    script_globals=script_globals())
    with tx() as session:
        engine.deploy(session, read_paths([ROOT / "bpmn" / "approval"]))
        ensure_user(session, "wangfang", "王芳", groups=["employees"])
        ensure_user(session, "zhangwei", "张伟", groups=["dept_manager"])
    return engine


def test_returning_to_the_requester_takes_the_diagrams_return_path_when_the_form_has_one(approval, tx):
    with tx() as session:
        instance_id = approval.start(session, "approval", {"title": "采购", "amount": Decimal("500"),
                                                           "requester": "wangfang"}, user="wangfang").id
    review = open_task(tx, instance_id)
    with tx() as session:
        approval.return_task(session, review["id"], "zhangwei", "请补充发票", to="requester")
    revise = open_task(tx, instance_id)
    assert (revise["element_id"], revise["assignee"]) == ("revise", "wangfang")
    assert row(tx, review["id"])["status"] == "completed"  # completed with the decision, by the diagram
    events = [(h["kind"], h["data"]) for h in history(approval, tx, instance_id)
              if h["kind"] in ("task_returned", "task_completed")]
    assert events == [("task_returned", {"reason": "请补充发票", "to": "requester", "from": "review",
                                         "via": "diagram"}),
                      ("task_completed", {"decision": "return", "comment": "请补充发票"})]
    complete(approval, tx, revise["id"], "wangfang", {"amount": 600})
    review = open_task(tx, instance_id)
    with tx() as session:  # "previous" moves the instance back by hand, whatever the form offers
        approval.return_task(session, review["id"], "zhangwei", "再改一次", to="previous")
    back = open_task(tx, instance_id)
    assert (back["element_id"], back["assignee"]) == ("revise", "wangfang")


# ---------------------------------------------------------------------- withdraw (撤回)

def test_withdraw_takes_a_step_back_while_the_next_one_is_untouched(office, tx):
    instance_id = start(office, tx)
    fill = open_task(tx, instance_id)
    complete(office, tx, fill["id"], "wangfang", {"title": "写错了"})
    check = open_task(tx, instance_id)
    with pytest.raises(PermissionDenied, match="only they can withdraw"):
        with tx() as session:
            office.withdraw(session, fill["id"], "chenjing")
    with pytest.raises(Conflict, match="only a completed task"):
        with tx() as session:
            office.withdraw(session, check["id"], "chenjing")
    with tx() as session:
        office.withdraw(session, fill["id"], "wangfang")
    again = open_task(tx, instance_id)
    assert (again["element_id"], again["assignee"]) == ("fill", "wangfang")
    assert row(tx, check["id"])["status"] == "cancelled"
    [event] = history(office, tx, instance_id, "task_withdrawn")
    assert event["actor"] == "wangfang" and event["element_id"] == "fill"
    assert event["data"] == {"task_id": fill["id"], "cancelled": [{"task_id": check["id"], "element_id": "check"}]}
    with pytest.raises(Conflict, match="withdrawn already"):
        with tx() as session:
            office.withdraw(session, fill["id"], "wangfang")
    complete(office, tx, again["id"], "wangfang", {"title": "改好了"})
    check = open_task(tx, instance_id)
    complete(office, tx, check["id"], "chenjing", {"checked": True})
    with pytest.raises(Conflict, match="the next step has already started"):
        with tx() as session:
            office.withdraw(session, again["id"], "wangfang")  # check was completed after it
    with tx() as session:  # but the clerk may take back the check, nobody has touched the review yet
        office.withdraw(session, check["id"], "chenjing")
    assert open_task(tx, instance_id)["element_id"] == "check"


@pytest.mark.parametrize("touch", ["claim", "comment", "draft", "transfer", "delegate", "signer"])
def test_withdraw_is_refused_once_the_next_step_is_taken_up(office, tx, touch):
    instance_id = start(office, tx)
    fill = open_task(tx, instance_id)
    complete(office, tx, fill["id"], "wangfang", {"title": "采购"})
    check = open_task(tx, instance_id)
    with tx() as session:
        {"claim": lambda: office.claim(session, check["id"], "chenjing"),
         "comment": lambda: office.comment(session, check["id"], "chenjing", "我来看"),
         "draft": lambda: office.save_draft(session, check["id"], "chenjing", {"checked": False}),
         "transfer": lambda: office.transfer(session, check["id"], "chenjing", "zhaoqiang"),
         "delegate": lambda: office.delegate(session, check["id"], "chenjing", "zhaoqiang"),
         "signer": lambda: office.add_signer(session, check["id"], "chenjing", "zhaoqiang", "after"),
         }[touch]()
    with pytest.raises(Conflict, match="the next step has already started"):
        with tx() as session:
            office.withdraw(session, fill["id"], "wangfang")
    assert open_task(tx, instance_id)["id"] == check["id"]


def test_withdraw_is_refused_once_the_instance_has_ended(office, tx):
    instance_id, review = at_review(office, tx)
    complete(office, tx, review["id"], "zhangwei", {"decision": "reject", "comment": "不批"})
    with pytest.raises(InstanceNotActive, match="completed"):
        with tx() as session:
            office.withdraw(session, review["id"], "zhangwei")


def test_withdraw_does_not_cancel_a_parallel_branch_it_did_not_start(shapes, tx):
    instance_id = start(shapes, tx, {}, key="parallel")
    complete(shapes, tx, open_task(tx, instance_id)["id"], "wangfang")
    left = open_task(tx, instance_id, "left")
    complete(shapes, tx, left["id"], "zhangwei")
    with pytest.raises(Conflict):  # right was open before left was completed; the join holds left's arrival
        with tx() as session:
            shapes.withdraw(session, left["id"], "zhangwei")
    assert open_task(tx, instance_id)["element_id"] == "right"
