"""Moving running instances to another version (移动实例): the preview, the move and its history entry, instances
that cannot move, and a move that fails half-way leaving the instance exactly as it was."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core import clock
from engine import queries
from engine.instance_moves import TaskMapping, move_instances, preview_moves
from engine.models import HistoryEvent, MessageSubscription, ProcessInstance
from erp.identity.services import ensure_user
from tests.conftest import FIXTURES

MODELER = FIXTURES / "modeler"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEAVE = (MODELER / "leave_request.bpmn").read_text()
DECISION = (MODELER / "leave_days.dmn").read_bytes()
REPLY = (MODELER / "reply_or_chase.bpmn").read_text()

#: version 2 of the leave request: the approval is renamed and the team is told before the decision is recorded
LEAVE_V2 = LEAVE.replace('name="Approve the leave"', 'name="Approve the leave request"').replace(
    '<bpmn:sequenceFlow id="f_approved" sourceRef="approve" targetRef="record"/>',
    '<bpmn:sequenceFlow id="f_approved" sourceRef="approve" targetRef="notify"/>'
    '<bpmn:userTask id="notify" name="Tell the team"><bpmn:extensionElements><spiffworkflow:properties>'
    '<spiffworkflow:property name="formKey" value="simple/note"/>'
    '<spiffworkflow:property name="candidateGroups" value="approver_group"/>'
    '</spiffworkflow:properties></bpmn:extensionElements>'
    '<bpmn:incoming>f_approved</bpmn:incoming><bpmn:outgoing>f_notified</bpmn:outgoing></bpmn:userTask>'
    '<bpmn:sequenceFlow id="f_notified" sourceRef="notify" targetRef="record"/>').replace(
    '<bpmn:incoming>f_approved</bpmn:incoming>\n      <bpmn:outgoing>f_recorded</bpmn:outgoing>',
    '<bpmn:incoming>f_notified</bpmn:incoming>\n      <bpmn:outgoing>f_recorded</bpmn:outgoing>')
#: version 2 without the step the instances wait in: approval moved to HR
LEAVE_WITHOUT_APPROVE = LEAVE.replace('"approve"', '"approve_hr"').replace(
    'targetRef="approve"', 'targetRef="approve_hr"').replace('sourceRef="approve"', 'sourceRef="approve_hr"')


def _deploy(engine, tx, process: str, name="leave/leave_request.bpmn", dmn=True) -> int:
    sources = {name: process.encode()} | ({"leave/leave_days.dmn": DECISION} if dmn else {})
    with tx() as session:
        [deployed] = engine.deploy(session, sources, user="analyst", comment="test")
    return deployed.definition_id


def _start(engine, tx, key="leave_request", data=None) -> int:
    with clock.frozen(T0), tx() as session:
        return engine.start(session, key, data or {"days": 2}).id


def _snapshot(tx, instance_id) -> tuple:
    """Everything a failed move must leave as it was."""
    with tx(readonly=True) as session:
        row = session.get(ProcessInstance, instance_id)
        history = session.scalar(select(func.count()).select_from(HistoryEvent)
                                 .where(HistoryEvent.instance_id == instance_id))
        subscriptions = session.execute(select(MessageSubscription.message_name, MessageSubscription.correlation_key)
                                        .where(MessageSubscription.instance_id == instance_id)).all()
        tasks = queries.tasks(session, instance_id=instance_id, status=None)
        return (row.definition_id, row.lock_version, row.state, row.next_timer_at, row.status, history,
                subscriptions, tasks)


@pytest.fixture
def team_lead(tx, database):
    with tx() as session:
        ensure_user(session, "lead", "张伟", groups=["team_leads"])
    return "lead"


def _complete_open(engine, tx, instance_id, user, data):
    with tx() as session:
        [task] = queries.tasks(session, instance_id=instance_id)
        engine.complete(session, task["id"], data, user)
    return task


def test_an_instance_waiting_in_a_user_task_moves_to_version_2_and_runs_the_task_added_there(
        engine, tx, team_lead):
    v1 = _deploy(engine, tx, LEAVE)
    instance_id = _start(engine, tx)
    v2 = _deploy(engine, tx, LEAVE_V2)
    with tx(readonly=True) as session:
        [preview] = preview_moves(engine, session, from_definition_id=v1, to_definition_id=v2)
    assert (preview.instance_id, preview.from_version, preview.movable, preview.reasons) == (instance_id, 1, True, [])
    assert preview.tasks == [TaskMapping("approve", "Approve the leave", "approve")]

    with tx() as session:
        [result] = move_instances(engine, session, [instance_id], to_definition_id=v2, user="analyst")
    assert (result.instance_id, result.moved, result.reason) == (instance_id, True, None)
    with tx(readonly=True) as session:
        shown = queries.show(engine, session, instance_id)
        [open_task] = queries.tasks(session, instance_id=instance_id)
    assert shown["version"] == 2
    moved = shown["history"][-1]
    assert (moved["kind"], moved["actor"]) == ("migrated", "analyst")
    assert (moved["data"]["from_version"], moved["data"]["to_version"]) == (1, 2)
    assert moved["data"]["tasks"] == [{"element_id": "approve", "name": "Approve the leave",
                                       "target_element_id": "approve"}]
    assert open_task["name"] == "Approve the leave request"  # the inbox shows version 2's task

    _complete_open(engine, tx, instance_id, team_lead, {"approved": True})
    notify = _complete_open(engine, tx, instance_id, team_lead, {"note": "told"})
    assert (notify["element_id"], notify["form_key"]) == ("notify", "simple/note")
    with tx(readonly=True) as session:
        shown = queries.show(engine, session, instance_id)
    assert shown["status"] == "completed" and shown["data"]["outcome"] == "approved"


def test_an_instance_waiting_in_a_task_removed_in_version_2_cannot_move_and_is_untouched(engine, tx):
    v1 = _deploy(engine, tx, LEAVE)
    instance_id = _start(engine, tx)
    v2 = _deploy(engine, tx, LEAVE_WITHOUT_APPROVE)
    before = _snapshot(tx, instance_id)
    with tx(readonly=True) as session:
        [preview] = preview_moves(engine, session, from_definition_id=v1, to_definition_id=v2)
    assert not preview.movable and "approve" in preview.reasons[0]
    assert preview.tasks == [TaskMapping("approve", "Approve the leave", None)]
    with tx() as session:
        [result] = move_instances(engine, session, [instance_id], to_definition_id=v2, user="analyst")
    assert not result.moved and "has no such element" in result.reason
    assert _snapshot(tx, instance_id) == before


def test_a_move_failing_half_way_leaves_the_instance_exactly_as_it_was(engine, tx):
    v1 = _deploy(engine, tx, REPLY, "reply_or_chase.bpmn", dmn=False)
    instance_id = _start(engine, tx, "reply_or_chase", {"ticket": "T-1"})
    # version 2 reads a setting old instances do not have: evaluating the timer again fails for them
    v2 = _deploy(engine, tx, REPLY.replace('"P1D"', '"P" + str(chase_after_days) + "D"'),
                 "reply_or_chase.bpmn", dmn=False)
    before = _snapshot(tx, instance_id)
    assert before[6] == [("reply_received", "ticket=T-1")]
    with tx(readonly=True) as session:
        [preview] = preview_moves(engine, session, from_definition_id=v1, to_definition_id=v2)
    assert not preview.movable and "would fail" in preview.reasons[0] and "chase_after_days" in preview.reasons[0]
    with clock.frozen(T0 + timedelta(hours=1)), tx() as session:
        [result] = move_instances(engine, session, [instance_id], to_definition_id=v2, user="analyst")
    assert not result.moved and "undone" in result.reason
    assert _snapshot(tx, instance_id) == before
    with clock.frozen(T0 + timedelta(hours=2)), tx() as session:  # still waiting on v1, for the same message
        engine.deliver_message(session, "reply_received", {"ticket": "T-1"}, {"text": "ok"})
    with tx(readonly=True) as session:
        assert queries.show(engine, session, instance_id)["status"] == "completed"


def test_a_changed_timer_is_computed_again_and_a_renamed_message_is_subscribed_anew(engine, tx):
    v1 = _deploy(engine, tx, REPLY, "reply_or_chase.bpmn", dmn=False)
    instance_id = _start(engine, tx, "reply_or_chase", {"ticket": "T-2"})
    v2 = _deploy(engine, tx, REPLY.replace('"P1D"', '"P3D"').replace('name="reply_received"',
                                                                       'name="customer_replied"'),
                 "reply_or_chase.bpmn", dmn=False)
    with clock.frozen(T0 + timedelta(hours=1)), tx() as session:
        [result] = move_instances(engine, session, [instance_id], to_definition_id=v2, user="analyst")
    assert result.moved, result.reason
    with tx(readonly=True) as session:
        row = session.get(ProcessInstance, instance_id)
        subscriptions = session.execute(select(MessageSubscription.message_name, MessageSubscription.correlation_key)
                                        .where(MessageSubscription.instance_id == instance_id)).all()
    assert row.next_timer_at == T0 + timedelta(hours=1, days=3)
    assert subscriptions == [("customer_replied", "ticket=T-2")]
    with clock.frozen(T0 + timedelta(hours=2)), tx() as session:
        engine.deliver_message(session, "customer_replied", {"ticket": "T-2"}, {"text": "ok"})
    with tx(readonly=True) as session:
        assert queries.show(engine, session, instance_id)["status"] == "completed"
    assert v1 != v2


def test_an_unchanged_timer_keeps_its_due_time(engine, tx):
    v1 = _deploy(engine, tx, REPLY, "reply_or_chase.bpmn", dmn=False)
    instance_id = _start(engine, tx, "reply_or_chase", {"ticket": "T-3"})
    v2 = _deploy(engine, tx, REPLY.replace('name="Chase the customer"', 'name="Call the customer"'),
                 "reply_or_chase.bpmn", dmn=False)
    with clock.frozen(T0 + timedelta(hours=5)), tx() as session:
        [result] = move_instances(engine, session, [instance_id], to_definition_id=v2, user="analyst")
    assert result.moved
    with tx(readonly=True) as session:
        assert session.get(ProcessInstance, instance_id).next_timer_at == T0 + timedelta(days=1)
    with clock.frozen(T0 + timedelta(days=1, minutes=1)), tx() as session:
        assert engine.fire_due_timers(session) == [instance_id]
        [task] = queries.tasks(session, instance_id=instance_id)
    assert task["name"] == "Call the customer"  # the rest of the way is version 2's
    assert v1 != v2


def test_each_instance_of_a_batch_moves_or_stays_on_its_own(engine, tx):
    v1 = _deploy(engine, tx, LEAVE)
    waiting = _start(engine, tx)
    other = _start(engine, tx, data={"days": 9})
    with tx() as session:
        engine.terminate(session, other, user="admin")
    v2 = _deploy(engine, tx, LEAVE_V2)
    with tx(readonly=True) as session:
        previews = preview_moves(engine, session, from_definition_id=v1, to_definition_id=v2)
    assert [p.instance_id for p in previews] == [waiting]  # ended instances are not offered
    with tx() as session:
        results = move_instances(engine, session, [other, waiting, 999999], to_definition_id=v2, user="analyst")
    assert [(r.instance_id, r.moved) for r in results] == [(other, False), (waiting, True), (999999, False)]
    assert "terminated" in results[0].reason and "not found" in results[2].reason
    with tx(readonly=True) as session:
        assert queries.show(engine, session, other)["version"] == 1
        assert queries.show(engine, session, waiting)["version"] == 2


def test_versions_of_different_processes_cannot_be_compared_for_a_move(engine, tx):
    leave = _deploy(engine, tx, LEAVE)
    reply = _deploy(engine, tx, REPLY, "reply_or_chase.bpmn", dmn=False)
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput), tx(readonly=True) as session:
        preview_moves(engine, session, from_definition_id=leave, to_definition_id=reply)


def test_an_instance_waiting_inside_a_called_process_moves_with_its_child(engine, tx):
    rework = (FIXTURES / "bpmn/rework.bpmn").read_bytes()
    caller = (FIXTURES / "bpmn/caller.bpmn").read_text()
    with tx() as session:
        [v1] = [d.definition_id for d in engine.deploy(session, {"rework.bpmn": rework, "caller.bpmn": caller.encode()})
                if d.key == "caller"]
    instance_id = _start(engine, tx, "caller", {"target": 1})
    with_archive = caller.replace(
        '<bpmn:sequenceFlow id="f2" sourceRef="call_rework" targetRef="end"/>',
        '<bpmn:sequenceFlow id="f2" sourceRef="call_rework" targetRef="archive"/>'
        '<bpmn:userTask id="archive" name="Archive"><bpmn:incoming>f2</bpmn:incoming>'
        '<bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>'
        '<bpmn:sequenceFlow id="f3" sourceRef="archive" targetRef="end"/>').replace(
        '<bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>', '<bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>')
    with tx() as session:
        [v2] = [d for d in engine.deploy(session, {"caller.bpmn": with_archive.encode()}) if d.key == "caller"]
    with tx(readonly=True) as session:
        [preview] = preview_moves(engine, session, from_definition_id=v1, to_definition_id=v2.definition_id)
    assert preview.movable, preview.reasons
    assert {m.element_id for m in preview.tasks} == {"call_rework", "work"}
    with tx() as session:
        [result] = move_instances(engine, session, [instance_id], to_definition_id=v2.definition_id, user="analyst")
    assert result.moved, result.reason
    with tx() as session:
        [work] = queries.tasks(session, instance_id=instance_id)
        engine.complete(session, work["id"], {}, "anyone")
        [archive] = queries.tasks(session, instance_id=instance_id)
        engine.complete(session, archive["id"], {}, "anyone")
    assert (work["element_id"], archive["element_id"]) == ("work", "archive")
    with tx(readonly=True) as session:
        shown = queries.show(engine, session, instance_id)
    assert (shown["status"], shown["version"]) == ("completed", 2)


def test_a_finished_call_the_new_version_no_longer_makes_is_left_behind(engine, tx):
    rework = (FIXTURES / "bpmn/rework.bpmn").read_bytes()
    review = ('<bpmn:sequenceFlow id="f2" sourceRef="call_rework" targetRef="review"/>'
              '<bpmn:userTask id="review" name="Review"><bpmn:incoming>f2</bpmn:incoming>'
              '<bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>'
              '<bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="end"/>')
    caller = (FIXTURES / "bpmn/caller.bpmn").read_text().replace(
        '<bpmn:sequenceFlow id="f2" sourceRef="call_rework" targetRef="end"/>', review).replace(
        '<bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>', '<bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>')
    without_call = caller.replace(
        '<bpmn:callActivity id="call_rework" calledElement="rework">', '<bpmn:scriptTask id="prepare">').replace(
        "</bpmn:callActivity>", "<bpmn:script>prepared = True</bpmn:script></bpmn:scriptTask>").replace(
        '"call_rework"', '"prepare"')
    with tx() as session:
        [v1] = [d.definition_id for d in engine.deploy(session, {"rework.bpmn": rework, "caller.bpmn": caller.encode()})
                if d.key == "caller"]
    instance_id = _start(engine, tx, "caller", {"target": 1})
    with tx() as session:
        [work] = queries.tasks(session, instance_id=instance_id)
        engine.complete(session, work["id"], {}, "anyone")  # the called process ends; the caller waits in review
    v2 = _deploy(engine, tx, without_call, "caller.bpmn", dmn=False)
    with tx(readonly=True) as session:
        [preview] = preview_moves(engine, session, from_definition_id=v1, to_definition_id=v2)
    assert preview.movable, preview.reasons
    assert preview.tasks == [TaskMapping("review", "Review", "review")]
    with tx() as session:
        [result] = move_instances(engine, session, [instance_id], to_definition_id=v2, user="analyst")
        [task] = queries.tasks(session, instance_id=instance_id)
        engine.complete(session, task["id"], {}, "anyone")
    assert result.moved, result.reason
    with tx(readonly=True) as session:
        shown = queries.show(engine, session, instance_id)
    assert (shown["status"], shown["version"]) == ("completed", 2)
