"""The notifications package keeps to DESIGN.md's layering: no engine or web app, Flask only in the
Flask-Mail adapter."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "notifications"


def _imports() -> list[tuple[str, str]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(path.name, alias.name.split(".")[0]) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append((path.name, node.module.split(".")[0]))
    return found


def test_notifications_import_neither_the_engine_nor_the_web_app():
    assert [(f, m) for f, m in _imports() if m in {"engine", "webapp", "bench", "SpiffWorkflow"}] == []


def test_flask_is_imported_only_by_the_sender():
    assert {f for f, m in _imports() if m in {"flask", "flask_mail"}} == {"sender.py"}


def test_of_our_own_packages_only_core_and_identity_are_used():
    ours = {"core", "engine", "erp", "forms", "webapp", "bench"}
    assert {m for _, m in _imports() if m in ours} <= {"core", "erp"}
    erp_modules = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("erp"):
                erp_modules.add(node.module)
    # the recipient's roles, and for personal information in mails the shared masking and the access log
    assert erp_modules <= {"erp.identity.models", "erp.identity.permissions", "erp.masking", "erp.audit.access"}
