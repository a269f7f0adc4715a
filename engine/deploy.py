"""Deploying BPMN/DMN files: all or nothing, one new version per changed process, the spec serialized once."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select

from core import clock
from engine.errors import DeploymentFailed, InvalidInput
from engine.messages import timer_start_problem
from engine.models import ProcessDefinition, TimerStart
from engine.parsing import DeploymentReader, DeployProblem
from engine.serialization import dump_spec

SOURCE_SUFFIXES = (".bpmn", ".dmn", ".bpmn20.xml")


@dataclass(frozen=True)
class Deployed:
    key: str
    version: int
    definition_id: int
    new: bool  # False when the same content was already deployed

    def as_dict(self) -> dict:
        return {"key": self.key, "version": self.version, "id": self.definition_id, "new": self.new}


def read_paths(paths) -> dict[str, bytes]:
    """The files to deploy, by name relative to the folder given (folders are searched for .bpmn/.dmn)."""
    sources: dict[str, bytes] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for file in sorted(path.rglob("*")):
                if file.is_file() and file.name.lower().endswith(SOURCE_SUFFIXES):
                    sources[str(file.relative_to(path.parent))] = file.read_bytes()
        elif path.is_file():
            sources[path.name] = path.read_bytes()
        else:
            raise InvalidInput(f"{raw}: no such file or folder")
    if not sources:
        raise InvalidInput("no .bpmn or .dmn files to deploy")
    return sources


def deploy(engine, session, sources: dict[str, bytes], *, user=None, comment=None) -> list[Deployed]:
    """Validate every file and process; deploy all of them or, on any problem, none (DeploymentFailed)."""
    sources = dict(sources)
    reader = DeploymentReader(engine.operators.names(), engine.forms,
                              dependency_sources=lambda key: _deployed_sources(session, key))
    processes = reader.read(sources)
    if reader.problems:
        raise DeploymentFailed(reader.problems)
    results = []
    for process in processes:
        digest = process.content_hash(sources)
        existing = session.scalars(select(ProcessDefinition).where(
            ProcessDefinition.key == process.key, ProcessDefinition.content_hash == digest)).first()
        if existing is not None:
            results.append(Deployed(process.key, existing.version, existing.id, False))
            continue
        version = (session.scalar(select(func.max(ProcessDefinition.version))
                                  .where(ProcessDefinition.key == process.key)) or 0) + 1
        definition = ProcessDefinition(
            key=process.key, version=version, name=process.name, content_hash=digest,
            sources={name: sources[name].decode("utf-8") for name in process.files},
            spec=dump_spec(process.spec, process.subprocess_specs), message_starts=process.message_starts,
            forms=process.forms, deployed_at=clock.now(), deployed_by=user, comment=comment,
        )
        session.add(definition)
        session.flush()
        _replace_schedule(engine, session, process, definition, reader)
        results.append(Deployed(process.key, version, definition.id, True))
    return results


def _replace_schedule(engine, session, process, definition, reader) -> None:
    """The newest version's timer start events replace the schedule of the versions before it."""
    from engine.timers import timer_start_schedule

    try:
        rows = timer_start_schedule(process.spec, engine.script_engine, clock.now())
    except ValueError as exc:
        element = getattr(exc, "element_id", None)
        file = next((f for f in process.files if element in reader.lines.get(f, {})), process.files[0])
        line = reader.lines.get(file, {}).get(element)
        raise DeploymentFailed([DeployProblem.said(file, element, line, timer_start_problem(str(exc)))]) from None
    session.execute(delete(TimerStart).where(TimerStart.process_key == process.key))
    for row in rows:
        session.add(TimerStart(definition_id=definition.id, process_key=process.key, **row))
    if rows:
        session.flush()


def _deployed_sources(session, key: str) -> dict[str, bytes] | None:
    sources = session.scalar(select(ProcessDefinition.sources).where(ProcessDefinition.key == key)
                             .order_by(ProcessDefinition.version.desc()).limit(1))
    return {name: text.encode("utf-8") for name, text in sources.items()} if sources else None
