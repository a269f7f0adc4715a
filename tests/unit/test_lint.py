"""Lint: modeling advice on a diagram's XML, one rule at a time, and none of it an error on our own diagrams."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.lint import lint
from tests.bpmn_text import HEAD, one_task, process

ROOT = Path(__file__).resolve().parents[2]
FORM = ('<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="formKey" '
        'value="simple/approve"/></spiffworkflow:properties></bpmn:extensionElements>')


def _rules(xml) -> list[tuple[str, str | None, str]]:
    return [(f.rule, f.element_id, f.severity) for f in lint(xml)]


def _user_task(task_id="t", name="Check", extra=""):
    return f'<bpmn:userTask id="{task_id}" name="{name}">{FORM}{extra}</bpmn:userTask>'


def _rework_loop() -> bytes:
    """start → work → gateway: done → end, else back to work."""
    return process("p", FORM.join(['<bpmn:userTask id="work" name="Work">',
                                   '<bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>f_again</bpmn:incoming>'
                                   '<bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>'])
                   + '<bpmn:exclusiveGateway id="check" name="Done?" default="f_end">'
                     '<bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f_end</bpmn:outgoing>'
                     '<bpmn:outgoing>f_again</bpmn:outgoing></bpmn:exclusiveGateway>'
                     '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>'
                     '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="check"/>'
                     '<bpmn:sequenceFlow id="f_end" sourceRef="check" targetRef="end"/>'
                     '<bpmn:sequenceFlow id="f_again" sourceRef="check" targetRef="work">'
                     '<bpmn:conditionExpression>not done</bpmn:conditionExpression></bpmn:sequenceFlow>')


def _split(gateway_attrs: str, first_condition: str | None, second_condition: str | None) -> bytes:
    def flow(flow_id, target, condition):
        body = f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>" if condition else ""
        return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="gw" targetRef="{target}">{body}</bpmn:sequenceFlow>'

    return process("p", f'<bpmn:exclusiveGateway id="gw" name="Which?" {gateway_attrs}>'
                        '<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f_a</bpmn:outgoing>'
                        '<bpmn:outgoing>f_b</bpmn:outgoing></bpmn:exclusiveGateway>'
                   + _user_task("a", "A", "<bpmn:incoming>f_a</bpmn:incoming><bpmn:outgoing>f_a_end</bpmn:outgoing>")
                   + _user_task("b", "B", "<bpmn:incoming>f_b</bpmn:incoming><bpmn:outgoing>f_end</bpmn:outgoing>")
                   + '<bpmn:endEvent id="end_a"><bpmn:incoming>f_a_end</bpmn:incoming></bpmn:endEvent>'
                   + '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw"/>'
                   + flow("f_a", "a", first_condition) + flow("f_b", "b", second_condition)
                   + '<bpmn:sequenceFlow id="f_a_end" sourceRef="a" targetRef="end_a"/>'
                   + '<bpmn:sequenceFlow id="f_end" sourceRef="b" targetRef="end"/>')


def test_a_clean_diagram_has_no_findings():
    assert lint(one_task("p", _user_task())) == []


def test_a_loop_drawn_as_a_gateway_back_edge_is_flagged_on_the_flow_with_the_alternative():
    [finding] = lint(_rework_loop())
    assert (finding.rule, finding.element_id, finding.severity) == ("back-edge-loop", "f_again", "warning")
    assert finding.params == {"gateway": "Done?", "task": "Work", "task_id": "work"}
    assert "Return" in finding.recommendation and "loop" in finding.recommendation


def test_a_loop_through_a_merging_gateway_names_the_first_task_on_the_way_back():
    # the back-edge goes to a merge gateway in front of the task: still a loop around the task
    xml = _rework_loop().replace(b'targetRef="work">', b'targetRef="merge">').replace(
        b'<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>',
        b'<bpmn:exclusiveGateway id="merge"><bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>f_again</bpmn:incoming>'
        b'<bpmn:outgoing>f0</bpmn:outgoing></bpmn:exclusiveGateway>'
        b'<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="merge"/>'
        b'<bpmn:sequenceFlow id="f0" sourceRef="merge" targetRef="work"/>')
    [finding] = [f for f in lint(xml) if f.rule == "back-edge-loop"]
    assert finding.element_id == "f_again" and finding.params["task_id"] == "work"


def test_a_process_without_start_and_end_events_is_flagged():
    xml = (HEAD + '<bpmn:process id="p" isExecutable="true">' + _user_task() + '</bpmn:process>'
           '</bpmn:definitions>').encode()
    assert _rules(xml) == [("no-start-event", "p", "error"), ("no-end-event", "p", "warning"),
                           ("disconnected", "t", "error")]


def test_an_element_without_incoming_or_outgoing_flow_is_disconnected():
    xml = one_task("p", _user_task()).replace(b"</bpmn:process>", _user_task("lost", "Lost").encode()
                                              + b"</bpmn:process>")
    [finding] = lint(xml)
    assert (finding.rule, finding.element_id, finding.severity) == ("disconnected", "lost", "error")
    dangling = one_task("p", _user_task()).replace(b'<bpmn:outgoing>f_end</bpmn:outgoing>', b"").replace(
        b'<bpmn:sequenceFlow id="f_end" sourceRef="t" targetRef="end"/>', b"")
    assert _rules(dangling) == [("disconnected", "t", "warning"), ("disconnected", "end", "error")]


def test_a_split_whose_flows_all_have_conditions_needs_a_default():
    assert _rules(_split("", "x > 1", "x &lt;= 1")) == [("gateway-no-default", "gw", "warning")]
    assert _rules(_split('default="f_b"', "x > 1", None)) == []


def test_a_flow_without_condition_that_is_not_the_default_is_an_error():
    assert _rules(_split('default="f_b"', None, None)) == [("condition-missing", "f_a", "error")]


@pytest.mark.parametrize("task_xml, rule, severity", [
    ('<bpmn:userTask id="t" name="Check"/>', "user-task-no-form", "warning"),
    ('<bpmn:serviceTask id="t" name="Book"/>', "service-task-no-operator", "error"),
    (f'<bpmn:userTask id="t">{FORM}</bpmn:userTask>', "unnamed-task", "warning"),
    ('<bpmn:intermediateCatchEvent id="t" name="Wait"><bpmn:timerEventDefinition id="td"/>'
     '</bpmn:intermediateCatchEvent>', "timer-without-definition", "error"),
])
def test_task_level_rules(task_xml, rule, severity):
    assert _rules(one_task("p", task_xml)) == [(rule, "t", severity)]


def test_a_task_with_two_outgoing_flows_is_an_implicit_split():
    xml = one_task("p", _user_task()).replace(
        b'<bpmn:outgoing>f_end</bpmn:outgoing>',
        b'<bpmn:outgoing>f_end</bpmn:outgoing><bpmn:outgoing>f_x</bpmn:outgoing>'
    ).replace(b"</bpmn:process>", b'<bpmn:sequenceFlow id="f_x" sourceRef="t" targetRef="end"/></bpmn:process>')
    assert _rules(xml) == [("implicit-split", "t", "warning")]


def test_a_timer_with_an_expression_is_fine():
    timer = ('<bpmn:intermediateCatchEvent id="t" name="Wait"><bpmn:timerEventDefinition id="td">'
             '<bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')
    assert lint(one_task("p", timer)) == []


def test_unreadable_xml_is_one_error_and_a_decision_table_has_no_findings():
    [finding] = lint(b"<bpmn:definitions")
    assert (finding.rule, finding.severity) == ("unreadable", "error")
    assert lint((ROOT / "bpmn/approval/approval_levels.dmn").read_bytes()) == []


def test_hostile_xml_is_reported_not_read():
    [finding] = lint(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')
    assert finding.rule == "unreadable" and "DOCTYPE" in finding.message


@pytest.mark.parametrize("path", sorted((ROOT / "bpmn").rglob("*.bpmn")), ids=lambda p: p.name)
def test_our_own_diagrams_have_no_lint_errors(path):
    assert [f for f in lint(path.read_bytes(), path.name) if f.severity == "error"] == []


def test_the_order_to_cash_delivery_loop_is_pointed_out():
    findings = lint((ROOT / "bpmn/order_to_cash/order_to_cash.bpmn").read_bytes())
    assert ("back-edge-loop", "f_more_reserved") in [(f.rule, f.element_id) for f in findings]
