"""Factory helpers for risk tests: the implementation project, its people and risks, and an engine with the
product's diagrams deployed."""
from __future__ import annotations

from datetime import date

from engine.deploy import read_paths
from engine.runtime import Engine
from erp.identity.queries import groups_of
from erp.identity.services import ensure_user
from erp.notify import on_engine_event
from erp.projects.services import create_project
from erp.risks import services
from erp.wiring import build_registry, script_globals, user_exists
from forms import FormCatalog
from tests.conftest import ROOT

#: the project manager and three risk owners, each with a mailbox
PEOPLE = ("zhangwei", "wangfang", "lina", "liuyang")


def product_engine() -> Engine:
    """An engine built like the product's (erp.wiring), over forms/."""
    return Engine(build_registry(), FormCatalog(ROOT / "forms"), groups_of=groups_of, script_globals=script_globals(),
                  user_exists=user_exists, script_cpu_seconds=2.0, listeners=[on_engine_event])


def deploy_product(engine: Engine, session, extra: dict | None = None) -> None:
    engine.deploy(session, {**read_paths([ROOT / "bpmn"]), **(extra or {})})


def people(session) -> None:
    for username in PEOPLE:
        ensure_user(session, username, username, groups=[], email=f"{username}@example.cn")


def project(session, code: str = "ERP-2026", manager: str = "zhangwei"):
    return create_project(session, code=code, name_zh="华信 ERP 实施项目", name_en="Huaxin ERP rollout",
                          manager=manager, start_date=date(2026, 9, 1), planned_end=date(2027, 6, 30), by="tester")


def risk(session, project_, *, owner: str = "wangfang", probability: int = 3, impact: int = 4,
         category: str = "schedule", title: str = "上线延期", by: str = "zhangwei", **fields):
    return services.create_risk(session, project_, title=title, owner=owner, probability=probability, impact=impact,
                                category=category, by=by, **fields)
