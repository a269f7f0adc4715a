"""Hostile diagram files: external entities, entity expansion, DTDs, other encodings, absurd size and depth are
refused by saving a draft, by validation and by deploy, with a clear message, reading no other file and storing
nothing."""
from __future__ import annotations

import tracemalloc

import pytest
from sqlalchemy import func, select

from core.errors import InvalidInput
from engine import drafts
from engine.diff import diff
from engine.errors import DeploymentFailed
from engine.lint import lint
from engine.models import DiagramDraft, ProcessDefinition
from engine.parsing import MAX_FILE_BYTES
from tests.conftest import FIXTURES

LEAVE = (FIXTURES / "modeler/leave_request.bpmn").read_bytes()
SECRET = "TOP-SECRET-7f3a"
BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                            for i in range(1, 10))
                  + ']><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol9;'
                  '</bpmn:definitions>').encode()


def _with_doctype(doctype: str, body: str = "") -> bytes:
    text = LEAVE.decode()
    head, rest = text.split("\n", 1)
    return f"{head}\n{doctype}\n{rest}".replace('name="Approve the leave"', f'name="Approve {body}"').encode()


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


def _hostile_files(secret_file) -> dict[str, tuple[bytes, str]]:
    """name → (content, what the refusal says)."""
    url = secret_file.as_uri()
    return {
        "external_entity.bpmn": (_with_doctype(f'<!DOCTYPE d [<!ENTITY secret SYSTEM "{url}">]>', "&secret;"),
                                 "DOCTYPE"),
        "external_dtd.bpmn": (_with_doctype(f'<!DOCTYPE d SYSTEM "{url}">'), "DOCTYPE"),
        "parameter_entity.bpmn": (_with_doctype(f'<!DOCTYPE d [<!ENTITY % p SYSTEM "{url}"> %p;]>'), "DOCTYPE"),
        "billion_laughs.bpmn": (BILLION_LAUGHS, "DOCTYPE"),
        "plain_dtd.bpmn": (_with_doctype("<!DOCTYPE definitions>"), "DOCTYPE"),
        # UTF-16 would hide "<!DOCTYPE" from a byte search: refused for its encoding
        "utf16_entity.bpmn": (_with_doctype(f'<!DOCTYPE d [<!ENTITY secret SYSTEM "{url}">]>', "&secret;")
                              .decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"), "UTF-8"),
        "too_deep.bpmn": (b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
                          + b"<a>" * 5000 + b"</a>" * 5000 + b"</bpmn:definitions>", "malformed XML"),
    }


@pytest.mark.parametrize("name", ["external_entity.bpmn", "external_dtd.bpmn", "parameter_entity.bpmn",
                                  "billion_laughs.bpmn", "plain_dtd.bpmn", "utf16_entity.bpmn", "too_deep.bpmn"])
def test_saving_a_hostile_draft_is_refused_and_stores_nothing(database, tx, secret_file, name):
    data, expected = _hostile_files(secret_file)[name]
    with pytest.raises(InvalidInput) as refused, tx() as session:
        drafts.save_draft(session, file_name=name, source=data, user="analyst")
    assert expected in str(refused.value) and SECRET not in str(refused.value)
    with tx(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(DiagramDraft)) == 0


@pytest.mark.parametrize("name", ["external_entity.bpmn", "external_dtd.bpmn", "parameter_entity.bpmn",
                                  "billion_laughs.bpmn", "utf16_entity.bpmn", "too_deep.bpmn"])
def test_validation_and_deploy_refuse_hostile_files_with_a_problem_not_a_crash(database, engine, tx, secret_file,
                                                                                 name):
    data, expected = _hostile_files(secret_file)[name]
    with tx(readonly=True) as session:
        [problem] = drafts.validate_sources(engine, session, {name: data})
    assert problem.file == name and expected in problem.message and SECRET not in problem.message
    with pytest.raises(DeploymentFailed) as refused, tx() as session:
        engine.deploy(session, {name: data})
    assert SECRET not in str(refused.value)
    with tx(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(ProcessDefinition)) == 0


def test_an_oversized_file_is_refused_before_it_is_read(database, tx):
    huge = LEAVE.replace(b"</bpmn:definitions>", b"<!--" + b"x" * MAX_FILE_BYTES + b"--></bpmn:definitions>")
    tracemalloc.start()
    try:
        with pytest.raises(InvalidInput) as refused, tx() as session:
            drafts.save_draft(session, file_name="huge.bpmn", source=huge, user="analyst")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "larger than 5 MB" in str(refused.value)
    assert peak < len(huge) // 4  # refused on its length: never decoded, copied or parsed
    with tx(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(DiagramDraft)) == 0


def test_an_xinclude_is_kept_as_text_and_never_followed(database, engine, tx, secret_file):
    """XInclude is not a DTD: the file is accepted, but nothing ever reads the file it points to."""
    include = (f'<bpmn:extensionElements><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
               f'href="{secret_file.as_uri()}" parse="text"/></bpmn:extensionElements>')
    data = LEAVE.replace(b'<bpmn:scriptTask id="record" name="Record the decision">',
                         f'<bpmn:scriptTask id="record" name="Record the decision">{include}'.encode())
    with tx() as session:
        draft = drafts.save_draft(session, file_name="leave.bpmn", source=data, user="analyst")
        problems = drafts.validate_draft(engine, session, draft.id)
        stored = draft.source
    assert SECRET not in stored and SECRET not in " ".join(p.message for p in problems)
    assert secret_file.as_uri() in stored  # kept byte for byte, like any other extension


def test_lint_and_diff_do_not_read_hostile_files(secret_file):
    data, _ = _hostile_files(secret_file)["external_entity.bpmn"]
    [finding] = lint(data)
    assert finding.rule == "unreadable" and SECRET not in finding.message
    with pytest.raises(InvalidInput) as refused:
        diff(LEAVE, data)
    assert SECRET not in str(refused.value)
