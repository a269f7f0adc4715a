"""The dependency rules of DESIGN.md, checked on the source: core imports nothing of ours, the engine never
imports the domain or the web app, SpiffWorkflow stays inside the engine, nothing imports webapp."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = {"core", "engine", "erp", "forms", "webapp", "notifications", "bench"}


def _imports(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                yield path.relative_to(ROOT), name.split(".")[0]


@pytest.mark.parametrize("package, forbidden", [
    ("core", OURS - {"core"}),
    ("engine", {"erp", "webapp", "notifications", "bench"}),
    ("forms", OURS - {"core", "forms"}),
    ("erp", {"webapp", "SpiffWorkflow"}),
])
def test_a_layer_imports_only_what_it_may(package, forbidden):
    offending = [(str(p), n) for p, n in _imports(package) if n in forbidden]
    assert offending == []


def test_spiffworkflow_is_imported_only_inside_the_engine_and_its_benchmark():
    for package in ("core", "erp", "forms", "notifications"):
        assert [str(p) for p, n in _imports(package) if n == "SpiffWorkflow"] == []


def test_apscheduler_lives_in_the_worker_module_and_flask_in_the_mail_adapter():
    found = {(str(p), n) for package in ("core", "engine", "erp", "forms", "notifications")
             for p, n in _imports(package) if n in ("apscheduler", "flask", "flask_mail")}
    assert {p for p, n in found if n == "apscheduler"} <= {"erp/worker.py"}
    assert {p for p, n in found if n in ("flask", "flask_mail")} <= {"notifications/sender.py"}


def test_nothing_outside_the_web_layer_imports_it():
    for package in ("core", "engine", "erp", "forms", "notifications", "bench"):
        assert [str(p) for p, n in _imports(package) if n == "webapp"] == [], package


def test_the_web_layer_reaches_spiffworkflow_only_through_the_engine():
    assert [str(p) for p, n in _imports("webapp") if n == "SpiffWorkflow"] == []


#: SpiffWorkflow's own methods and attributes on workflows and tasks: calling them is using it, import or not
SPIFF_API = ("get_task_from_id", "get_tasks(", "task_spec", "has_state(", "last_state_change", "TaskState.")


def test_no_spiffworkflow_api_is_called_outside_the_engine():
    """The web layer and the domain get workflow data from the engine's queries (engine.queries.task_data_now,
    current_data), never from a SpiffWorkflow object they were handed."""
    calls = [(str(path.relative_to(ROOT)), name) for package in ("webapp", "erp", "notifications", "forms", "core")
             for path in sorted((ROOT / package).rglob("*.py"))
             for name in SPIFF_API if name in path.read_text(encoding="utf-8")]
    assert calls == []
