"""The BPMN script escape corpus (tests/fixtures/sandbox/escapes/*.py: subclass walks, format-string attribute
tricks, generator and traceback frame walks, str.format_map, operator.attrgetter, importlib, __builtins__, ...)
run through the engine's sandbox and through a deployed diagram's script task, on SQLite and PostgreSQL. Each
escape is refused when the diagram is deployed (compiled) or, failing that, when it runs (an incident), and none
reaches a file, a shell or a subprocess: an audit hook (sys.addaudithook) watches for those while scripts run,
and each escape aims at a canary file that must never appear."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from xml.sax.saxutils import escape

import pytest

from engine import queries
from engine.errors import DeploymentFailed
from engine.sandbox import SandboxedEnvironment, SandboxError, check_source
from erp.wiring import script_globals
from tests.bpmn_text import one_task
from tests.conftest import FIXTURES

CORPUS = sorted((FIXTURES / "sandbox" / "escapes").glob("*.py"))
#: audit events that no script may ever cause, whatever their arguments
FORBIDDEN_EVENTS = ("os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.kill", "os.remove",
                    "os.rename", "os.chmod", "subprocess.Popen", "pty.spawn", "ctypes.", "socket.", "shutil.",
                    "webbrowser.", "pdb.")

_watching: list[tuple[str, list]] = []  # (canary, events seen) while a script runs


def _audit(event: str, args: tuple) -> None:
    if not _watching:
        return
    canary, seen = _watching[-1]
    if event.startswith(FORBIDDEN_EVENTS) or (event == "open" and canary in str(args[:1])):
        seen.append((event, repr(args)[:200]))


sys.addaudithook(_audit)  # hooks cannot be removed: this one is idle unless a test is watching


@contextmanager
def tripwire(canary: str):
    """Everything dangerous the code inside does: the list must stay empty."""
    seen: list = []
    _watching.append((canary, seen))
    try:
        yield seen
    finally:
        _watching.pop()


@pytest.fixture
def canary(tmp_path):
    path = tmp_path / "escaped"
    yield path
    assert not path.exists(), "a script escaped the sandbox and wrote the canary file"


def payload(path, canary) -> str:
    return path.read_text(encoding="utf-8").replace("CANARY", str(canary))


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_the_sandbox_refuses_each_escape(path, canary):
    script = payload(path, canary)
    sandbox = SandboxedEnvironment(script_globals(), cpu_seconds=1.0)  # with the helpers the product offers
    with tripwire(str(canary)) as seen, pytest.raises((SandboxError, NameError)) as refused:
        sandbox.execute(script, {"amount": 1})
    assert seen == []
    assert "not allowed" in str(refused.value) or isinstance(refused.value, NameError), refused.value


def test_the_corpus_covers_the_known_families_of_escape():
    names = {p.stem for p in CORPUS}
    for family in ("subclasses", "format_string", "format_map", "generator", "traceback", "attrgetter",
                   "importlib", "builtins", "open", "eval", "exec", "getattr"):
        assert any(family in name for name in names), family
    # most are caught when compiled: at deploy, before any instance runs them
    refused_at_compile = [p.stem for p in CORPUS if check_source(payload(p, "x"), "exec")]
    assert len(refused_at_compile) >= len(CORPUS) // 2


def _script_task(pid: str, script: str) -> bytes:
    return one_task(pid, f'<bpmn:scriptTask id="t"><bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>')


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_a_deployed_script_task_cannot_escape(path, canary, product_engine, tx):
    """Refused at deploy with the element named, or, when it compiles, the instance stops at the script with an
    incident; either way nothing of it ran outside the sandbox."""
    engine = product_engine
    source = _script_task("escape", payload(path, canary))
    with tripwire(str(canary)) as seen:
        try:
            with tx() as session:
                engine.deploy(session, {"escape.bpmn": source}, user="analyst")
        except DeploymentFailed as failed:
            assert any(p.element_id == "t" and "not allowed" in p.message for p in failed.problems), \
                failed.problems
            assert seen == []
            return
        with tx() as session:
            instance_id = engine.start(session, "escape", {"amount": 1}).id
    assert seen == []
    with tx(readonly=True) as session:
        shown = queries.show(engine, session, instance_id)
    assert shown["status"] == "incident"
    [incident] = shown["incidents"]
    assert incident["element_id"] == "t"
    assert "not allowed" in incident["message"] or incident["error_type"] == "NameError", incident
    assert "completed" not in [h["kind"] for h in shown["history"]]


def test_the_tripwire_sees_what_an_unsandboxed_script_does(tmp_path):
    """The watch is real: the same payload run by plain exec() opens the canary and the hook records it."""
    canary = tmp_path / "unsandboxed"
    with tripwire(str(canary)) as seen:
        exec(payload(FIXTURES / "sandbox" / "escapes" / "open_direct.py", canary), {})  # noqa: S102
    assert canary.exists() and [event for event, _ in seen] == ["open"]
