"""Semantic diff of two diagram versions: what an analyst changed, never the layout or the XML's formatting."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import InvalidInput
from engine.diff import Change, diff

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
ORDER = (ROOT / "bpmn/order_to_cash/order_to_cash.bpmn").read_text()
LEAVE = (FIXTURES / "modeler/leave_request.bpmn").read_text()
LEVELS = (ROOT / "bpmn/approval/approval_levels.dmn").read_text()


def _changed(old: str, new: str) -> dict[str, dict[str, tuple]]:
    """{element id: {attribute: (old, new)}} of the changed elements."""
    return {c.element_id: {a: (o, n) for a, o, n in c.details} for c in diff(old, new) if c.kind == "changed"}


def test_the_same_diagram_has_no_changes():
    assert diff(ORDER, ORDER.encode()) == []


def test_moving_shapes_and_reformatting_the_xml_is_no_change():
    moved = ORDER.replace('<dc:Bounds x="92" y="322"', '<dc:Bounds x="192" y="422"').replace(
        '<di:waypoint x="', '<di:waypoint x="1').replace("\n    <bpmn:", "\n<bpmn:")
    assert diff(ORDER, moved) == []


def test_writing_or_omitting_an_attribute_at_its_default_is_no_change():
    # bpmn-js leaves out cancelActivity="true" when it saves; an interrupting boundary event stays one
    assert 'cancelActivity="true"' in ORDER
    assert diff(ORDER, ORDER.replace(' cancelActivity="true"', "")) == []
    assert {c.element_id for c in diff(ORDER, ORDER.replace('cancelActivity="true"', 'cancelActivity="false"', 1))}


def test_a_task_added_between_two_others_shows_the_task_its_flow_and_the_rewired_flow():
    added = LEAVE.replace(
        '<bpmn:sequenceFlow id="f_approved" sourceRef="approve" targetRef="record"/>',
        '<bpmn:sequenceFlow id="f_approved" sourceRef="approve" targetRef="notify"/>'
        '<bpmn:manualTask id="notify" name="Tell the team"><bpmn:incoming>f_approved</bpmn:incoming>'
        '<bpmn:outgoing>f_notified</bpmn:outgoing></bpmn:manualTask>'
        '<bpmn:sequenceFlow id="f_notified" sourceRef="notify" targetRef="record"/>')
    changes = diff(LEAVE, added)
    assert [(c.kind, c.element_id, c.element_type) for c in changes] == [
        ("changed", "f_approved", "sequenceFlow"), ("added", "notify", "manualTask"),
        ("added", "f_notified", "sequenceFlow")]
    assert changes[0].details == (("target", "record", "notify"),)
    assert changes[1] == Change("added", "notify", "manualTask", "Tell the team", (("name", None, "Tell the team"),))
    assert ("source", None, "notify") in changes[2].details


def test_a_removed_task_is_listed_with_what_it_was():
    removed = LEAVE.replace(LEAVE[LEAVE.index('    <bpmn:scriptTask'):LEAVE.index('    <bpmn:endEvent')], "")
    [change] = [c for c in diff(LEAVE, removed) if c.element_id == "record"]
    assert (change.kind, change.element_type, change.name) == ("removed", "scriptTask", "Record the decision")
    assert ("script", 'outcome = "approved" if approved else "refused"', None) in change.details


@pytest.mark.parametrize("old, new, element, attribute", [
    ('name="Approve the leave"', 'name="Approve"', "approve", "name"),
    ('value="simple/approve"', 'value="simple/note"', "approve", "formKey"),
    ('value="approver_group"', 'value="\'hr\'"', "approve", "candidateGroups"),
    ('"approved" if approved', '"ok" if approved', "record", "script"),
    ("<spiffworkflow:calledDecisionId>leave_level", "<spiffworkflow:calledDecisionId>other", "decide_level",
     "decision"),
])
def test_names_forms_assignment_scripts_and_decisions_are_compared(old, new, element, attribute):
    assert LEAVE.count(old) == 1
    changed = _changed(LEAVE, LEAVE.replace(old, new))
    assert list(changed) == [element] and list(changed[element]) == [attribute]


@pytest.mark.parametrize("old, new, element, attribute", [
    ('credit_result == "pass"', 'credit_result != "fail"', "f_credit_passed", "condition"),
    ('id="sales.cancel_order"', 'id="sales.void_order"', "cancel_order", "operator"),
    ('<spiffworkflow:parameter id="level" type="any" value="dunning_level + 1"/>',
     '<spiffworkflow:parameter id="level" type="any" value="dunning_level + 2"/>', "send_dunning",
     "parameter level"),
    ('<bpmn:timeDuration>"P1D"</bpmn:timeDuration>', '<bpmn:timeDuration>"PT12H"</bpmn:timeDuration>',
     "recheck_stock", "timer"),
    ('messageRef="msg_stock_available">\n        <bpmn:extensionElements><spiffworkflow:messageVariable>stock_message',
     'messageRef="msg_stock_available">\n        <bpmn:extensionElements><spiffworkflow:messageVariable>arrival',
     "stock_arrived", "message variable"),
    ('calledElement="approval"', 'calledElement="approval_v2"', "discount_approval", "called process"),
    ('<bpmn:message id="msg_payment_received" name="payment_received"/>',
     '<bpmn:message id="msg_payment_received" name="payment_booked"/>', "msg_payment_received", "name"),
    ('default="f_credit_failed"', 'default="f_credit_passed"', "credit_gate", "default flow"),
])
def test_conditions_operators_timers_messages_and_call_targets_are_compared(old, new, element, attribute):
    assert ORDER.count(old) == 1, old
    changed = _changed(ORDER, ORDER.replace(old, new))
    assert list(changed) == [element] and list(changed[element]) == [attribute]


def test_a_task_moved_to_another_lane_changes_its_lane():
    simple = (FIXTURES / "bpmn/simple_task.bpmn").read_text()
    moved = simple.replace("<bpmn:flowNodeRef>approve</bpmn:flowNodeRef>", "").replace(
        "<bpmn:flowNodeRef>tally</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>tally</bpmn:flowNodeRef><bpmn:flowNodeRef>approve</bpmn:flowNodeRef>")
    assert _changed(simple, moved) == {"approve": {"lane": ("clerks", "system")}}


def test_another_modelers_extensions_count_as_changes():
    camunda = (FIXTURES / "modeler/camunda_invoice.bpmn").read_text()
    changed = _changed(camunda, camunda.replace('value="PT4H"', 'value="PT8H"'))
    assert list(changed) == ["assign_approver"] and list(changed["assign_approver"]) == ["camunda:properties"]


def test_decision_table_rules_inputs_and_outputs_are_compared():
    edited = (LEVELS.replace("&lt; 100000", "&lt; 200000", 1)
              .replace('label="部门 Department"', 'label="部门 Dept"'))
    rule_start = edited.index("<rule ")
    rule_end = edited.index("</rule>", rule_start) + len("</rule>")
    edited = edited[:rule_start] + edited[rule_end:]
    changes = {c.element_id: c for c in diff(LEVELS, edited)}
    assert changes["input_department"].kind == "changed"
    assert changes["input_department"].details == (("label", "部门 Department", "部门 Dept"),)
    removed = [c for c in changes.values() if c.kind == "removed"]
    assert len(removed) == 1 and removed[0].element_type == "rule"
    assert any(c.element_type == "rule" and any(a.startswith("input 金额") for a, _, _ in c.details)
               for c in changes.values() if c.kind == "changed")


def test_a_rule_added_to_a_decision_table_is_listed_with_its_cells():
    leave = (FIXTURES / "modeler/leave_days.dmn").read_text()
    added = leave.replace('<rule id="rule_long">',
                          '<rule id="rule_medium"><inputEntry id="m_in"><text>&lt;= 10</text></inputEntry>'
                          '<outputEntry id="m_out"><text>"department_heads"</text></outputEntry></rule>'
                          '<rule id="rule_long">')
    changes = diff(leave, added)
    assert [(c.kind, c.element_id) for c in changes] == [("added", "rule_medium"), ("changed", "rule_long")]
    assert dict((a, n) for a, _, n in changes[0].details) == {
        "input Days": "<= 10", "output approver_group": '"department_heads"', "row": "2"}
    assert changes[1].details == (("row", "2", "3"),)


def test_unreadable_versions_are_refused():
    with pytest.raises(InvalidInput):
        diff(LEAVE, "<bpmn:definitions")
    with pytest.raises(InvalidInput):
        diff(LEAVE, '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
