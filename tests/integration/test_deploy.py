"""Deploying: versions, all-or-nothing, precise problems, hostile XML, specs parsed once."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import queries
from engine.deploy import read_paths
from engine.errors import DeploymentFailed
from engine.models import ProcessDefinition
from engine.runtime import Engine
from erp.wiring import build_registry, script_globals
from forms import FormCatalog
from tests.bpmn_text import HEAD, one_task, process
from tests.conftest import FIXTURES, ROOT


def _problems(engine, tx, sources):
    with pytest.raises(DeploymentFailed) as failed:
        with tx() as session:
            engine.deploy(session, sources)
    return failed.value.problems


def _count(tx):
    with tx(readonly=True) as session:
        return session.scalar(select(func.count()).select_from(ProcessDefinition))


def test_deploying_the_bpmn_folder_deploys_the_approval_process(database, tx):
    engine = Engine(build_registry(), forms=FormCatalog(ROOT / "forms"), script_globals=script_globals())
    with tx() as session:
        results = engine.deploy(session, read_paths([ROOT / "bpmn"]))
    assert ("approval", 1, True) in [(r.key, r.version, r.new) for r in results]  # other processes come and go
    with tx(readonly=True) as session:
        [row] = [d for d in queries.definitions(session) if d["key"] == "approval"]
        stored = session.get(ProcessDefinition, row["id"])
        assert set(stored.sources) == {"bpmn/approval/approval.bpmn", "bpmn/approval/approval_levels.dmn"}
        assert stored.forms == {"submitted": "approval/request", "review": "approval/review",
                                "countersign": "approval/review", "revise": "approval/revise"}


def test_same_content_keeps_the_version_and_changed_content_makes_a_new_one(deploy, engine, tx):
    first = deploy("simple_task.bpmn")
    again = deploy("simple_task.bpmn")
    assert (first[0].version, again[0].version, again[0].new) == (1, 1, False)
    changed = (FIXTURES / "bpmn" / "simple_task.bpmn").read_bytes().replace(b'name="Approve"', b'name="Check"')
    with tx() as session:
        [result] = engine.deploy(session, {"simple_task.bpmn": changed})
    assert (result.version, result.new) == (2, True)
    with tx(readonly=True) as session:
        assert [(d["key"], d["version"]) for d in queries.definitions(session)] == [
            ("simple_task", 1), ("simple_task", 2)]


def test_the_same_files_from_another_folder_are_the_same_version(engine, tx, database, tmp_path):
    sources = read_paths([ROOT / "bpmn" / "approval"])
    renamed = {f"elsewhere/{name.rsplit('/', 1)[-1]}": data for name, data in sources.items()}
    engine = Engine(build_registry(), forms=FormCatalog(ROOT / "forms"), script_globals=script_globals())
    with tx() as session:
        [first] = engine.deploy(session, sources)
        [second] = engine.deploy(session, renamed)
    assert (first.version, second.version, second.new) == (1, 1, False)


def test_running_instances_stay_on_their_version_after_a_redeploy(deploy, engine, tx):
    deploy("simple_task.bpmn")
    with tx() as session:
        old = engine.start(session, "simple_task", {"amount": 1}).id
    changed = (FIXTURES / "bpmn" / "simple_task.bpmn").read_bytes().replace(b'"80"', b'"20"')
    with tx() as session:
        engine.deploy(session, {"simple_task.bpmn": changed})
        new = engine.start(session, "simple_task", {"amount": 1}).id
    with tx(readonly=True) as session:
        assert queries.show(engine, session, old)["version"] == 1
        assert queries.show(engine, session, new)["version"] == 2
        assert [t["priority"] for t in queries.tasks(session)] == [80, 20]


def test_starting_an_instance_never_parses_bpmn_again(deploy, engine, tx, monkeypatch):
    deploy("simple_task.bpmn")
    engine.specs = type(engine.specs)()  # as in a fresh process: nothing cached

    def refuse(*args, **kwargs):
        raise AssertionError("BPMN parsed at start")

    monkeypatch.setattr("engine.parsing.Parser.__init__", refuse)
    monkeypatch.setattr("engine.parsing.safe_parse", refuse)
    with tx() as session:
        instance = engine.start(session, "simple_task", {"amount": 5})
    assert instance.status == "running"


def test_one_bad_file_deploys_nothing_at_all(engine, tx, database):
    good = (FIXTURES / "bpmn" / "rework.bpmn").read_bytes()
    bad = one_task("bad", '<bpmn:scriptTask id="t"><bpmn:script>x = (</bpmn:script></bpmn:scriptTask>')
    problems = _problems(engine, tx, {"rework.bpmn": good, "bad.bpmn": bad})
    assert _count(tx) == 0
    [problem] = problems
    assert (problem.file, problem.element_id) == ("bad.bpmn", "t")
    assert problem.line == 5 and "script" in problem.message


@pytest.mark.parametrize("task_xml, expected", [
    ('<bpmn:scriptTask id="t"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>', "import"),
    ('<bpmn:scriptTask id="t"><bpmn:script>x = ().__class__.__base__</bpmn:script></bpmn:scriptTask>',
     "__class__"),
    ('<bpmn:userTask id="t"><bpmn:extensionElements><spiffworkflow:properties>'
     '<spiffworkflow:property name="formKey" value="no/such_form"/></spiffworkflow:properties>'
     '</bpmn:extensionElements></bpmn:userTask>', "not found"),
    ('<bpmn:userTask id="t"><bpmn:extensionElements><spiffworkflow:properties>'
     '<spiffworkflow:property name="formKey" value="broken"/></spiffworkflow:properties>'
     '</bpmn:extensionElements></bpmn:userTask>', "not a valid JSON Schema"),
    ('<bpmn:userTask id="t"><bpmn:extensionElements><spiffworkflow:properties>'
     '<spiffworkflow:property name="dueDate" value="now("/></spiffworkflow:properties>'
     '</bpmn:extensionElements></bpmn:userTask>', "dueDate"),
    ('<bpmn:serviceTask id="t"><bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="crm.nothing">'
     '<spiffworkflow:parameters/></spiffworkflow:serviceTaskOperator>'
     '</bpmn:extensionElements></bpmn:serviceTask>', "not registered"),
    ('<bpmn:callActivity id="t" calledElement="nowhere"/>', "nowhere"),
    ('<bpmn:intermediateCatchEvent id="t"><bpmn:timerEventDefinition id="td">'
     '<bpmn:timeDuration>"PT1H" +</bpmn:timeDuration></bpmn:timerEventDefinition>'
     '</bpmn:intermediateCatchEvent>', "timer"),
])
def test_each_problem_names_file_element_and_line(engine, tx, database, task_xml, expected):
    problems = _problems(engine, tx, {"p.bpmn": one_task("p", task_xml)})
    assert _count(tx) == 0
    assert any(expected in p.message for p in problems), problems
    located = [p for p in problems if p.element_id == "t"]
    assert located and located[0].file == "p.bpmn" and located[0].line == 5, problems


def test_a_bad_condition_is_found_before_anything_runs(engine, tx, database):
    body = ('<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw"/>'
            '<bpmn:exclusiveGateway id="gw" default="f_end"><bpmn:incoming>f1</bpmn:incoming>'
            '<bpmn:outgoing>f_end</bpmn:outgoing><bpmn:outgoing>f_other</bpmn:outgoing></bpmn:exclusiveGateway>'
            '<bpmn:sequenceFlow id="f_end" sourceRef="gw" targetRef="end"/>'
            '<bpmn:sequenceFlow id="f_other" sourceRef="gw" targetRef="end">'
            '<bpmn:conditionExpression>amount &gt;&gt;&gt; 3</bpmn:conditionExpression></bpmn:sequenceFlow>'
            .replace('<bpmn:incoming>f_end', '<bpmn:incoming>f_end'))
    text = process("p", body).replace(b'<bpmn:incoming>f_end</bpmn:incoming>',
                                      b'<bpmn:incoming>f_end</bpmn:incoming><bpmn:incoming>f_other</bpmn:incoming>')
    problems = _problems(engine, tx, {"p.bpmn": text})
    assert any("condition" in p.message and p.element_id == "gw" for p in problems), problems


@pytest.mark.parametrize("old, new, element", [
    (b'"finance_director"', b'"finance_director" +', "rule_medium_group"),
    (b"&lt; 100000", b"&lt; 100000 +", "rule_medium_amount"),
    (b"<text>amount</text>", b"<text>amount.__class__</text>", "input_amount"),
])
def test_a_bad_decision_table_cell_is_reported_where_it_is(tx, database, old, new, element):
    dmn = (ROOT / "bpmn/approval/approval_levels.dmn").read_bytes().replace(old, new)
    bpmn = (ROOT / "bpmn/approval/approval.bpmn").read_bytes()
    engine = Engine(build_registry(), forms=FormCatalog(ROOT / "forms"), script_globals=script_globals())
    problems = _problems(engine, tx, {"approval.bpmn": bpmn, "approval_levels.dmn": dmn})
    problem = problems[0]  # a bad input expression also spoils every rule that tests it
    assert problem.file == "approval_levels.dmn" and problem.element_id == element
    assert problem.line


def test_schema_violations_carry_the_line(engine, tx, database):
    text = process("p", '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" bogus="1"/>'
                        '<bpmn:notAnElement id="zz"/>')
    [problem] = _problems(engine, tx, {"p.bpmn": text})
    assert problem.file == "p.bpmn" and problem.line == 5 and problem.element_id == "f1"


def test_malformed_xml_is_refused_with_its_line(engine, tx, database):
    [problem] = _problems(engine, tx, {"p.bpmn": HEAD.encode() + b"<bpmn:process id='p'>\n<oops>"})
    assert "malformed XML" in problem.message and problem.line


def test_external_entities_are_refused_and_never_read(engine, tx, database, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    xxe = (f'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>\n'
           + HEAD.split("\n", 1)[1] + '<bpmn:process id="p" name="&x;" isExecutable="true"/></bpmn:definitions>')
    [problem] = _problems(engine, tx, {"xxe.bpmn": xxe.encode()})
    assert "DOCTYPE" in problem.message and "TOP-SECRET" not in str(problem)


def test_entity_expansion_bombs_are_refused(engine, tx, database):
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10 if i else "lol"}">' for i in range(10))
    bomb = f'<?xml version="1.0"?><!DOCTYPE d [{lol}]><d>&l9;</d>'
    [problem] = _problems(engine, tx, {"bomb.bpmn": bomb.encode()})
    assert "not allowed" in problem.message


def test_a_file_with_no_executable_process_is_refused(engine, tx, database):
    text = (HEAD + '<bpmn:process id="p" isExecutable="false"/></bpmn:definitions>').encode()
    [problem] = _problems(engine, tx, {"p.bpmn": text})
    assert "no executable process" in problem.message


def test_a_call_activity_resolves_against_an_earlier_deployment(deploy, engine, tx):
    deploy("rework.bpmn")
    [result] = deploy("caller.bpmn")
    assert result.key == "caller"
    with tx() as session:
        instance = engine.start(session, "caller", {"target": 1})
        assert queries.tasks(session, instance_id=instance.id)[0]["element_id"] == "work"
