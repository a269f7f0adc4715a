"""Modeler drafts: saving affects nothing running, validation is `erp deploy`'s, deploying makes a new version with
author and comment, decision tables go out with the processes calling them, and files from other modelers are
kept byte for byte and explained element by element."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.errors import Conflict, InvalidInput, NotFound
from engine import drafts, queries
from engine.errors import DeploymentFailed
from engine.models import DiagramDraft, ProcessDefinition
from tests.conftest import FIXTURES

MODELER = FIXTURES / "modeler"
PROCESS_FILE, DECISION_FILE = "leave/leave_request.bpmn", "leave/leave_days.dmn"


def _read(name: str) -> bytes:
    return (MODELER / name).read_bytes()


@pytest.fixture
def leave_v1(database, engine, tx) -> int:
    """Version 1 of the leave request (process + decision table) deployed; its definition id."""
    with tx() as session:
        [deployed] = engine.deploy(session, {PROCESS_FILE: _read("leave_request.bpmn"),
                                             DECISION_FILE: _read("leave_days.dmn")}, user="dev")
    return deployed.definition_id


def _open_draft(tx, definition_id, edit=lambda text: text, user="analyst") -> int:
    with tx() as session:
        name, text = drafts.definition_source(session, definition_id)
        return drafts.save_draft(session, file_name=name, source=edit(text), user=user,
                                 base_definition_id=definition_id).id


def _versions(tx, key="leave_request"):
    with tx(readonly=True) as session:
        return session.scalars(select(ProcessDefinition.version).where(ProcessDefinition.key == key)
                               .order_by(ProcessDefinition.version)).all()


def _rename_approval(text: str) -> str:
    return text.replace('name="Approve the leave"', 'name="Approve the leave request"')


def test_a_deployed_version_opens_with_its_process_file_and_lists_its_decision_table(leave_v1, tx):
    with tx(readonly=True) as session:
        name, text = drafts.definition_source(session, leave_v1)
        files = drafts.definition_files(session, leave_v1)
        dmn_name, dmn_text = drafts.definition_source(session, leave_v1, DECISION_FILE)
    assert name == PROCESS_FILE and text.encode() == _read("leave_request.bpmn")
    assert files == [PROCESS_FILE, DECISION_FILE]
    assert dmn_name == DECISION_FILE and 'id="leave_level"' in dmn_text


def test_saving_a_draft_keeps_the_xml_byte_for_byte_and_deploys_nothing(leave_v1, engine, tx):
    with tx() as session:
        running = engine.start(session, "leave_request", {"days": 2}).id
    draft_id = _open_draft(tx, leave_v1, _rename_approval)
    with tx(readonly=True) as session:
        draft = drafts.get_draft(session, draft_id)
        assert (draft.kind, draft.process_key, draft.base_definition_id) == ("bpmn", "leave_request", leave_v1)
        assert draft.source == _rename_approval(_read("leave_request.bpmn").decode())
        assert (draft.updated_by, draft.lock_version) == ("analyst", 1)
        assert [d.id for d in drafts.list_drafts(session)] == [draft_id]
        assert [t["name"] for t in queries.tasks(session, instance_id=running)] == ["Approve the leave"]
    assert _versions(tx) == [1]


def test_a_save_over_a_newer_save_is_a_conflict_and_changes_nothing(leave_v1, tx):
    draft_id = _open_draft(tx, leave_v1)
    with tx() as session:
        name, text = drafts.definition_source(session, leave_v1)
        saved = drafts.save_draft(session, file_name=name, source=_rename_approval(text), user="wang",
                                  draft_id=draft_id, expected_version=1)
        assert saved.lock_version == 2
    with pytest.raises(Conflict), tx() as session:
        drafts.save_draft(session, file_name=name, source=text, user="li", draft_id=draft_id, expected_version=1)
    with tx(readonly=True) as session:
        draft = drafts.get_draft(session, draft_id)
        assert (draft.updated_by, draft.lock_version) == ("wang", 2)
        assert "Approve the leave request" in draft.source


def test_a_discarded_draft_is_gone(leave_v1, tx):
    draft_id = _open_draft(tx, leave_v1)
    with tx() as session:
        drafts.discard_draft(session, draft_id)
    with pytest.raises(NotFound), tx(readonly=True) as session:
        drafts.get_draft(session, draft_id)


def test_validation_puts_a_broken_script_on_its_element_with_its_line(leave_v1, engine, tx):
    draft_id = _open_draft(tx, leave_v1, lambda t: t.replace('outcome = "approved"', 'outcome = ("approved"'))
    with tx(readonly=True) as session:
        problems = drafts.validate_draft(engine, session, draft_id)
    [problem] = problems
    assert (problem.file, problem.element_id) == (PROCESS_FILE, "record")
    assert problem.line == 27 and "script" in problem.message


def test_a_valid_draft_validates_with_the_decision_table_of_its_version(leave_v1, engine, tx):
    draft_id = _open_draft(tx, leave_v1, _rename_approval)
    with tx(readonly=True) as session:
        sources = drafts.draft_sources(session, drafts.get_draft(session, draft_id))
        assert drafts.validate_draft(engine, session, draft_id) == []
    assert set(sources) == {PROCESS_FILE, DECISION_FILE}


def test_deploying_a_draft_makes_version_2_with_author_and_comment_and_running_instances_stay(leave_v1, engine, tx):
    with tx() as session:
        old = engine.start(session, "leave_request", {"days": 2}).id
    draft_id = _open_draft(tx, leave_v1, _rename_approval)
    with tx() as session:
        [deployed] = drafts.deploy_draft(engine, session, draft_id, user="analyst", comment="clearer task name")
        new = engine.start(session, "leave_request", {"days": 2}).id
    assert (deployed.key, deployed.version, deployed.new) == ("leave_request", 2, True)
    with tx(readonly=True) as session:
        v2 = session.get(ProcessDefinition, deployed.definition_id)
        assert (v2.deployed_by, v2.comment) == ("analyst", "clearer task name")
        assert set(v2.sources) == {PROCESS_FILE, DECISION_FILE}
        assert session.scalar(select(func.count()).select_from(DiagramDraft)) == 0
        assert (queries.show(engine, session, old)["version"], queries.show(engine, session, new)["version"]) == (1, 2)
        names = {t["instance_id"]: t["name"] for t in queries.tasks(session)}
        versions = {v["version"]: v["running"] for v in drafts.process_versions(session)}
    assert names == {old: "Approve the leave", new: "Approve the leave request"}
    assert versions == {1: 1, 2: 1}


def test_an_invalid_draft_is_not_deployed_and_is_kept(leave_v1, engine, tx):
    draft_id = _open_draft(tx, leave_v1, lambda t: t.replace("simple/approve", "simple/nowhere"))
    with pytest.raises(DeploymentFailed) as failed, tx() as session:
        drafts.deploy_draft(engine, session, draft_id, user="analyst", comment="try")
    assert [(p.element_id, "not found" in p.message) for p in failed.value.problems] == [("approve", True)]
    with tx(readonly=True) as session:
        assert drafts.get_draft(session, draft_id).id == draft_id
    assert _versions(tx) == [1]


def test_deploying_needs_a_comment(leave_v1, engine, tx):
    draft_id = _open_draft(tx, leave_v1, _rename_approval)
    with pytest.raises(InvalidInput) as refused, tx() as session:
        drafts.deploy_draft(engine, session, draft_id, user="analyst", comment="  ")
    assert "comment" in refused.value.errors
    assert _versions(tx) == [1]


def test_a_decision_table_draft_deploys_a_new_version_of_the_process_that_calls_it(leave_v1, engine, tx):
    with tx() as session:
        _, text = drafts.definition_source(session, leave_v1, DECISION_FILE)
        draft = drafts.save_draft(session, file_name=DECISION_FILE, source=text.replace("&lt;= 3", "&lt;= 5"),
                                  user="analyst")
        assert (draft.kind, draft.process_key) == ("dmn", "leave_level")
        draft_id = draft.id
    with tx() as session:
        assert drafts.validate_draft(engine, session, draft_id) == []
        [deployed] = drafts.deploy_draft(engine, session, draft_id, user="analyst", comment="five days")
        instance = engine.start(session, "leave_request", {"days": 4})
        [task] = queries.tasks(session, instance_id=instance.id)
    assert (deployed.key, deployed.version) == ("leave_request", 2)
    assert task["candidate_groups"] == ["team_leads"]  # 4 days: the new table's short leave


def test_a_decision_table_no_process_calls_cannot_be_deployed_alone(database, engine, tx):
    with tx() as session:
        draft_id = drafts.save_draft(session, file_name="leave_days.dmn", source=_read("leave_days.dmn"),
                                     user="analyst").id
    with tx(readonly=True) as session:
        [problem] = drafts.validate_draft(engine, session, draft_id)
    assert problem.element_id == "leave_level" and "no deployed process uses" in problem.message


def test_an_imported_process_calls_a_deployed_decision_table(leave_v1, engine, tx):
    imported = _read("leave_request.bpmn").replace(b'id="leave_request"', b'id="leave_request_hr"')
    with tx() as session:
        draft = drafts.save_draft(session, file_name="leave_request_hr.bpmn", source=imported, user="analyst")
        sources = drafts.draft_sources(session, draft)
        problems = drafts.validate_draft(engine, session, draft.id)
    assert set(sources) == {"leave_request_hr.bpmn", DECISION_FILE} and problems == []


def test_an_imported_camunda_diagram_is_kept_byte_for_byte(database, tx):
    original = _read("camunda_invoice.bpmn")
    with tx() as session:
        draft_id = drafts.save_draft(session, file_name="camunda_invoice.bpmn", source=original, user="analyst").id
    with tx(readonly=True) as session:
        draft = drafts.get_draft(session, draft_id)
    assert draft.source.encode("utf-8") == original
    assert (draft.kind, draft.process_key, draft.base_definition_id) == ("bpmn", "invoice_approval", None)


def test_validating_an_imported_camunda_diagram_explains_each_element_we_cannot_execute(database, engine, tx):
    with tx() as session:
        draft_id = drafts.save_draft(session, file_name="camunda_invoice.bpmn",
                                     source=_read("camunda_invoice.bpmn"), user="analyst").id
    with tx(readonly=True) as session:
        problems = drafts.validate_draft(engine, session, draft_id)
    why = {p.element_id: p.message for p in problems}
    assert all(p.file == "camunda_invoice.bpmn" and p.line for p in problems)
    assert "camunda:formKey" in why["assign_approver"] and "our forms" in why["assign_approver"]
    assert "camunda:decisionRef=invoice_classification" in why["classify_invoice"]
    assert "complex gateway" in why["route_invoice"]
    assert "groovy" in why["compute_tax"]
    assert "transaction" in why["book_payment"]
    assert "camunda:class=org.example.invoice.BookInvoiceDelegate" in why["book_invoice"]
    assert "operator" in why["book_invoice"]
    assert "compensation" in why["undo_booking_trigger"] and "compensation" in why["cancel_booking"]
    assert "document_archive" in why["archive"]
    assert '"PT5M"' in why["wait_for_audit"]
    assert "JUEL" in why["f_big"] and "JUEL" in why["f_small"]
    assert len(problems) == len(why) == 12  # one explanation per element, none in SpiffWorkflow's words


def test_deploying_an_imported_camunda_diagram_fails_with_the_explanations(database, engine, tx):
    with tx() as session:
        draft_id = drafts.save_draft(session, file_name="camunda_invoice.bpmn",
                                     source=_read("camunda_invoice.bpmn"), user="analyst").id
    with pytest.raises(DeploymentFailed) as failed, tx() as session:
        drafts.deploy_draft(engine, session, draft_id, user="analyst", comment="import")
    assert {p.element_id for p in failed.value.problems} >= {"route_invoice", "book_invoice", "archive"}
    with tx(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(ProcessDefinition)) == 0
        assert drafts.get_draft(session, draft_id) is not None


@pytest.mark.parametrize("file_name, source, expected", [
    ("notes.txt", b"<x/>", "only"),
    ("leave.dmn", _read("leave_request.bpmn"), "name says otherwise"),
    ("page.bpmn", b"<html><body/></html>", "not a BPMN or DMN file"),
    ("broken.bpmn", b"<bpmn:definitions xmlns:bpmn='x'>", "malformed XML"),
    ("../../etc/passwd.bpmn", _read("leave_request.bpmn"), "not an acceptable file name"),
    ("latin.bpmn", "<?xml version='1.0' encoding='latin-1'?><a>\xe9</a>".encode("latin-1"), "UTF-8"),
])
def test_files_that_are_not_diagrams_are_refused_and_nothing_is_stored(database, tx, file_name, source, expected):
    with pytest.raises(InvalidInput) as refused, tx() as session:
        drafts.save_draft(session, file_name=file_name, source=source, user="analyst")
    assert expected in str(refused.value) and refused.value.errors["source"]
    with tx(readonly=True) as session:
        assert drafts.list_drafts(session) == []


def test_the_order_to_cash_diagram_opens_validates_and_deploys_as_version_2(database, product_engine, tx):
    from engine.deploy import read_paths
    from tests.conftest import ROOT

    with tx() as session:
        deployed = product_engine.deploy(session, read_paths([ROOT / "bpmn"]), user="dev")
    [v1] = [d.definition_id for d in deployed if d.key == "order_to_cash"]
    broken = '<bpmn:script>title = ("broken"</bpmn:script>'

    def add_task(text: str, script: str) -> str:  # a script task between reading and checking the quotation
        return text.replace(
            '<bpmn:sequenceFlow id="f_loaded" sourceRef="load_quotation" targetRef="discount_check"/>',
            '<bpmn:sequenceFlow id="f_loaded" sourceRef="load_quotation" targetRef="note_quote"/>'
            '<bpmn:scriptTask id="note_quote" name="Note the quotation"><bpmn:incoming>f_loaded</bpmn:incoming>'
            f'<bpmn:outgoing>f_noted</bpmn:outgoing>{script}</bpmn:scriptTask>'
            '<bpmn:sequenceFlow id="f_noted" sourceRef="note_quote" targetRef="discount_check"/>').replace(
            "<bpmn:incoming>f_loaded</bpmn:incoming>\n      <bpmn:outgoing>f_checked</bpmn:outgoing>",
            "<bpmn:incoming>f_noted</bpmn:incoming>\n      <bpmn:outgoing>f_checked</bpmn:outgoing>")

    draft_id = _open_draft(tx, v1, lambda t: add_task(t, broken))
    with tx(readonly=True) as session:
        [problem] = drafts.validate_draft(product_engine, session, draft_id)
    assert problem.element_id == "note_quote" and "script" in problem.message
    with tx() as session:
        name, text = drafts.definition_source(session, v1)
        drafts.save_draft(session, file_name=name, source=add_task(text, '<bpmn:script>noted = True</bpmn:script>'),
                          user="analyst", draft_id=draft_id, expected_version=1)
        assert drafts.validate_draft(product_engine, session, draft_id) == []
        results = drafts.deploy_draft(product_engine, session, draft_id, user="analyst", comment="note the quote")
    assert [(r.key, r.version, r.new) for r in results] == [("order_to_cash", 2, True)]


def test_validating_an_imported_zeebe_diagram_explains_each_element_we_cannot_execute(database, engine, tx):
    original = _read("zeebe_shipping.bpmn")
    with tx() as session:
        draft = drafts.save_draft(session, file_name="shipping.bpmn", source=original, user="analyst")
        problems = drafts.validate_draft(engine, session, draft.id)
        assert draft.source.encode() == original
    why = {p.element_id: p.message for p in problems}
    assert set(why) == {"pick_carrier", "pack_by_hand", "book_carrier", "invoice_freight", "cool_off", "f_heavy"}
    assert "zeebe:calledDecision=carrier_rules" in why["pick_carrier"]
    assert "zeebe:formDefinition" in why["pack_by_hand"]
    assert "zeebe:taskDefinition=carrier-booking" in why["book_carrier"]
    assert "zeebe:calledElement=freight_invoicing" in why["invoice_freight"]
    assert "FEEL" in why["f_heavy"] and '"PT15M"' in why["cool_off"]


def test_a_decision_table_used_through_a_called_process_goes_out_with_every_caller(database, product_engine, tx):
    from engine.deploy import read_paths
    from tests.conftest import ROOT

    with tx() as session:
        deployed = product_engine.deploy(session, read_paths([ROOT / "bpmn"]), user="dev")
        [approval] = [d.definition_id for d in deployed if d.key == "approval"]
        name, text = drafts.definition_source(session, approval, "bpmn/approval/approval_levels.dmn")
        draft = drafts.save_draft(session, file_name=name, source=text.replace("&lt; 100000", "&lt; 150000", 1),
                                  user="analyst", base_definition_id=approval)
        results = drafts.deploy_draft(product_engine, session, draft.id, user="analyst", comment="higher limit")
    callers = {r.key for r in results if r.new}
    assert {"approval", "order_to_cash"} <= callers  # order to cash calls the approval for discounts
    assert all(r.version == 2 for r in results if r.new)
