"""Diagram drafts of the modeler (流程设计器): a BPMN or DMN file saved while an analyst edits it, validated with
the same checks as `erp deploy`, and deployed as a new version. A draft affects nothing running.

A draft is one file. What it is deployed with comes from the deployed versions: a process keeps the decision
tables of the version it was opened from, a decision table goes out with the latest version of every process
that calls it, and called processes are resolved against the latest deployed versions, as `erp deploy` does.
"""
from __future__ import annotations

import re

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from core import clock
from core.errors import Conflict, InvalidInput, NotFound
from engine.deploy import SOURCE_SUFFIXES, Deployed, _deployed_sources
from engine.errors import DeploymentFailed
from engine.messages import say, timer_start_problem
from engine.models import DiagramDraft, ProcessDefinition, ProcessInstance
from engine.parsing import (
    BPMN_NS,
    MAX_FILE_BYTES,
    SPIFF_NS,
    DeploymentReader,
    DeployProblem,
    _Problem,
    is_dmn,
    safe_parse,
)

__all__ = ["DiagramDraft", "Problem", "save_draft", "get_draft", "list_drafts", "discard_draft", "draft_sources",
           "validate_draft", "validate_sources", "deploy_draft", "definition_source", "definition_files",
           "process_versions"]

#: a validation problem: file, element_id, line, message (English), template and params (engine.messages)
Problem = DeployProblem

_UNSAFE_NAME = re.compile(r"[\x00-\x1f\\]|(^|/)\.\.(/|$)")
_RUNNING = ("running", "incident", "suspended")


# ---------------------------------------------------------------- saving, reading, discarding

def save_draft(session, *, file_name: str, source: bytes | str, user: str, draft_id: int | None = None,
               base_definition_id: int | None = None, expected_version: int | None = None) -> DiagramDraft:
    """Create (draft_id None) or overwrite a draft. Hostile, malformed, oversized or non-BPMN/DMN XML is refused
    with InvalidInput and nothing is stored; a save over someone else's newer save raises Conflict."""
    data = source.encode("utf-8") if isinstance(source, str) else bytes(source)
    kind, key = _check_file(file_name, data)
    if base_definition_id is not None and session.get(ProcessDefinition, base_definition_id) is None:
        raise NotFound(f"process definition {base_definition_id} not found")
    now = clock.now()
    if draft_id is None:
        draft = DiagramDraft(created_by=user, created_at=now)
        session.add(draft)
    else:
        draft = get_draft(session, draft_id)
        if expected_version is not None and expected_version != draft.lock_version:
            raise Conflict(f"draft {draft_id} was saved by {draft.updated_by} in the meantime; reload it first")
    draft.file_name, draft.kind, draft.process_key = file_name, kind, key
    draft.source = data.decode("utf-8")
    draft.updated_by, draft.updated_at = user, now
    if base_definition_id is not None:
        draft.base_definition_id = base_definition_id
    try:
        session.flush()
    except StaleDataError:
        raise Conflict(f"draft {draft_id} was saved by someone else at the same time; reload it first") from None
    return draft


def _check_file(file_name: str, data: bytes) -> tuple[str, str | None]:
    """(kind, key) of an acceptable file, or InvalidInput saying what is wrong with it."""
    if not file_name or len(file_name) > 500 or _UNSAFE_NAME.search(file_name):
        raise _invalid("{file} is not an acceptable file name", file=repr(file_name))
    if not file_name.lower().endswith(SOURCE_SUFFIXES):
        raise _invalid("{file}: only {suffixes} files can be opened in the modeler", file=file_name,
                       suffixes=", ".join(SOURCE_SUFFIXES))
    if len(data) > MAX_FILE_BYTES:  # before decoding or parsing anything
        raise _invalid("{file}: {problem}", file=file_name,
                       problem=say("file is larger than {mb} MB", mb=MAX_FILE_BYTES // 1024 // 1024))
    try:
        data.decode("utf-8")
        root = safe_parse(data, file_name)
    except _Problem as exc:
        raise _invalid("{file}: {problem}", file=_where(exc.problem), problem=exc.problem.as_said) from None
    except UnicodeDecodeError:
        raise _invalid("{file}: the file must be UTF-8 encoded", file=file_name) from None
    kind, key = identify(root)
    if kind is None:
        raise _invalid("{file}: not a BPMN or DMN file (its root element is {root})", file=file_name, root=root.tag)
    if (kind == "dmn") != file_name.lower().endswith(".dmn"):
        raise _invalid("{file}: the file holds {kind} but its name says otherwise", file=file_name, kind=kind.upper())
    return kind, key


def _invalid(template: str, **params) -> InvalidInput:
    """InvalidInput in English, carrying the message said (`.said`) for the modeler to show translated."""
    said = say(template, **params)
    error = InvalidInput(said["message"], {"source": [said["message"]]})
    error.said = said
    return error


def _where(problem) -> str:
    """The file and line of a parse problem, as its English text names them."""
    return f"{problem.file}:{problem.line}" if problem.line else problem.file


def identify(root) -> tuple[str | None, str | None]:
    """("bpmn", first executable process id) or ("dmn", first decision id); (None, None) for other XML."""
    if is_dmn(root):
        decision = next((el for el in root if _local(el) == "decision"), None)
        return "dmn", decision.get("id") if decision is not None else None
    if root.tag != f"{{{BPMN_NS}}}definitions":
        return None, None
    processes = root.findall(f"{{{BPMN_NS}}}process")
    executable = [p for p in processes if p.get("isExecutable") == "true"] or processes
    return "bpmn", executable[0].get("id") if executable else None


def _local(el) -> str | None:
    return etree.QName(el).localname if isinstance(el.tag, str) else None


def get_draft(session, draft_id: int) -> DiagramDraft:
    draft = session.get(DiagramDraft, draft_id)
    if draft is None:
        raise NotFound(f"draft {draft_id} not found")
    return draft


def list_drafts(session) -> list[DiagramDraft]:
    return list(session.scalars(select(DiagramDraft).order_by(DiagramDraft.updated_at.desc(),
                                                              DiagramDraft.id.desc())))


def discard_draft(session, draft_id: int) -> None:
    session.delete(get_draft(session, draft_id))
    session.flush()


# ---------------------------------------------------------------- what a draft is deployed with

def draft_sources(session, draft: DiagramDraft) -> dict[str, bytes]:
    """The draft plus the deployed files it needs, so that validation sees what deploy will see."""
    own = _defined_ids(safe_parse(draft.source.encode("utf-8"), draft.file_name))
    sources: dict[str, bytes] = {}
    for definition in _companion_definitions(session, draft, own):
        for name, text in definition.sources.items():
            data = text.encode("utf-8")
            ids = _defined_ids(safe_parse(data, name))
            if ids & own:
                continue  # the draft replaces this file
            if name.lower().endswith(".dmn") or (draft.kind == "dmn" and definition.key in ids):
                sources.setdefault(name, data)
    sources[draft.file_name] = draft.source.encode("utf-8")
    _add_called_decisions(session, sources)
    return sources


def _defined_ids(root) -> set[str]:
    """The process ids of a BPMN document or the decision ids of a DMN one."""
    wanted = "decision" if is_dmn(root) else "process"
    return {el.get("id") for el in root if _local(el) == wanted and el.get("id")}


def _companion_definitions(session, draft: DiagramDraft, own: set[str]) -> list[ProcessDefinition]:
    """A process draft: the version it was opened from (else the latest of its key). A decision-table draft:
    that version too, and the latest version of every process whose files define one of its decisions."""
    found = []
    if draft.base_definition_id is not None:
        found.append(session.get(ProcessDefinition, draft.base_definition_id))
    elif draft.kind == "bpmn" and draft.process_key:
        found.extend(d for d in _latest_definitions(session) if d.key == draft.process_key)
    if draft.kind == "dmn":
        found.extend(d for d in _latest_definitions(session) if d not in found and _uses_decisions(d, own))
    return [d for d in found if d is not None]


def _latest_definitions(session) -> list[ProcessDefinition]:
    latest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("version"))
              .group_by(ProcessDefinition.key).subquery())
    return list(session.scalars(select(ProcessDefinition).join(
        latest, (latest.c.key == ProcessDefinition.key) & (latest.c.version == ProcessDefinition.version))
        .order_by(ProcessDefinition.key)))


def _uses_decisions(definition: ProcessDefinition, decisions: set[str]) -> bool:
    return any(name.lower().endswith(".dmn") and _defined_ids(safe_parse(text.encode("utf-8"), name)) & decisions
               for name, text in definition.sources.items())


def _add_called_decisions(session, sources: dict[str, bytes]) -> None:
    """Decision tables the files call but do not bring (an imported diagram calling a deployed decision)."""
    roots = {name: safe_parse(data, name) for name, data in sources.items()}
    defined = set().union(*(_defined_ids(r) for r in roots.values() if is_dmn(r)))
    called = {el.text.strip() for r in roots.values() if not is_dmn(r)
              for el in r.iter(f"{{{SPIFF_NS}}}calledDecisionId") if el.text and el.text.strip()}
    missing = called - defined
    for definition in _latest_definitions(session) if missing else []:
        for name, text in definition.sources.items():
            if name.lower().endswith(".dmn") and name not in sources:
                ids = _defined_ids(safe_parse(text.encode("utf-8"), name))
                if ids & missing:
                    sources[name] = text.encode("utf-8")
                    missing -= ids


# ---------------------------------------------------------------- validating and deploying

def validate_sources(engine, session, sources: dict[str, bytes]) -> list[Problem]:
    """The checks of `erp deploy` over these files, every problem located by file, element and line. Never
    raises for a bad diagram: whatever goes wrong becomes a problem."""
    reader = DeploymentReader(engine.operators.names(), engine.forms,
                              dependency_sources=lambda key: _deployed_sources(session, key))
    try:
        processes = reader.read(dict(sources))
    except Exception as exc:  # a diagram odd enough to break the reader is still only a problem to show
        return [Problem.said(", ".join(sorted(sources)), None, None,
                             say("the files cannot be read: {detail}", detail=exc))]
    return reader.problems or _schedule_problems(engine, reader, processes)


def _schedule_problems(engine, reader, processes) -> list[Problem]:
    """Timer start events are evaluated at deploy to schedule the process: an expression failing there counts."""
    from engine.timers import timer_start_schedule

    problems = []
    for process in processes:
        try:
            timer_start_schedule(process.spec, engine.script_engine, clock.now())
        except ValueError as exc:
            element = getattr(exc, "element_id", None)
            file = next((f for f in process.files if element in reader.lines.get(f, {})), process.files[0])
            problems.append(Problem.said(file, element, reader.lines.get(file, {}).get(element),
                                         timer_start_problem(str(exc))))
    return problems


def validate_draft(engine, session, draft_id: int) -> list[Problem]:
    draft = get_draft(session, draft_id)
    sources = draft_sources(session, draft)
    return _unused_decision(draft, sources) or validate_sources(engine, session, sources)


def _unused_decision(draft: DiagramDraft, sources: dict[str, bytes]) -> list[Problem]:
    """A decision table is deployed with the processes that call it: alone it would deploy nothing."""
    if draft.kind != "dmn" or any(not is_dmn(safe_parse(data, name)) for name, data in sources.items()):
        return []
    return [Problem.said(draft.file_name, draft.process_key, None, say(
        "no deployed process uses decision {decision}: a decision table is deployed together with a process that "
        "calls it", decision=repr(draft.process_key)))]


def deploy_draft(engine, session, draft_id: int, *, user: str, comment: str) -> list[Deployed]:
    """Validate and deploy the draft as a new version (author and comment recorded), then delete it. Invalid:
    DeploymentFailed with every problem, the draft kept. Running instances stay on their version."""
    if not comment or not comment.strip():
        error = _invalid("a comment saying what changed is required to deploy")
        error.errors = {"comment": error.errors["source"]}
        raise error
    draft = get_draft(session, draft_id)
    sources = draft_sources(session, draft)
    problems = _unused_decision(draft, sources) or validate_sources(engine, session, sources)
    if problems:
        raise DeploymentFailed(problems)
    results = engine.deploy(session, sources, user=user, comment=comment.strip())
    session.delete(draft)
    session.flush()
    return results


# ---------------------------------------------------------------- deployed versions, for opening and comparing

def definition_files(session, definition_id: int) -> list[str]:
    """The names of the files a deployed version was built from (its process file first)."""
    definition = _definition(session, definition_id)
    main = _main_file(definition)
    return [main, *sorted(n for n in definition.sources if n != main)]


def definition_source(session, definition_id: int, file_name: str | None = None) -> tuple[str, str]:
    """(file name, XML text) of a deployed version: its process file, or the named file of that version."""
    definition = _definition(session, definition_id)
    name = file_name or _main_file(definition)
    if name not in definition.sources:
        raise NotFound(f"version {definition.version} of {definition.key} has no file {name!r}")
    return name, definition.sources[name]


def _definition(session, definition_id: int) -> ProcessDefinition:
    definition = session.get(ProcessDefinition, definition_id)
    if definition is None:
        raise NotFound(f"process definition {definition_id} not found")
    return definition


def _main_file(definition: ProcessDefinition) -> str:
    for name, text in sorted(definition.sources.items()):
        if not name.lower().endswith(".dmn") and definition.key in _defined_ids(safe_parse(text.encode(), name)):
            return name
    return sorted(definition.sources)[0]


def process_versions(session) -> list[dict]:
    """Every deployed version with who deployed it, why, and how many of its instances are still running."""
    running = (select(ProcessInstance.definition_id, func.count().label("running"))
               .where(ProcessInstance.status.in_(_RUNNING)).group_by(ProcessInstance.definition_id).subquery())
    rows = session.execute(
        select(ProcessDefinition.id, ProcessDefinition.key, ProcessDefinition.version, ProcessDefinition.name,
               ProcessDefinition.deployed_at, ProcessDefinition.deployed_by, ProcessDefinition.comment,
               func.coalesce(running.c.running, 0))
        .outerjoin(running, running.c.definition_id == ProcessDefinition.id)
        .order_by(ProcessDefinition.key, ProcessDefinition.version.desc())).all()
    return [{"id": r[0], "key": r[1], "version": r[2], "name": r[3], "deployed_at": r[4], "deployed_by": r[5],
             "comment": r[6], "running": r[7]} for r in rows]
