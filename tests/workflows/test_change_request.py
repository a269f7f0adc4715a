"""Project change requests (变更请求) go through the reusable approval (bpmn/implementation/change_request.bpmn):
approved, a baseline of the plan is kept and the cost and the days change the plan; rejected, nothing changes;
the requester never approves their own change."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from core import clock
from core.calendar import BEIJING
from core.errors import PermissionDenied
from engine import queries
from engine.deploy import read_paths
from erp.identity.services import ensure_user
from erp.projects.common import find_project
from erp.projects.gates import find_change_request
from erp.projects.process import request_change
from erp.projects.queries import baselines, budget_by_phase_and_category
from tests.conftest import ROOT, process_engine
from tests.projects_data import project

NOW = datetime(2026, 4, 6, 10, 0, tzinfo=BEIJING)


@pytest.fixture
def engine(tx):
    engine = process_engine()
    with clock.frozen(NOW), tx() as session:
        engine.deploy(session, read_paths([ROOT / "bpmn"]))
        for username, groups in (("zhang", ["project_managers"]), ("zhangwei", ["dept_manager"]),
                                 ("lina", ["finance_director"]), ("liuyang", ["general_manager"])):
            ensure_user(session, username, username, groups=groups)
        project(session)
    return engine


def _request(engine, tx, cost, days=10):
    with clock.frozen(NOW), tx() as session:
        request = request_change(session, engine, "ERP-2026", title="增加电子发票接口 e-invoice interface",
                                 reason="税务局要求", cost_impact=Decimal(cost), days_impact=days,
                                 requested_by="zhang")
        [instance] = queries.instances(session, business_key=request.number)
        return request.number, instance["id"]


def _review(engine, tx, instance_id):
    with tx(readonly=True) as session:
        [task] = queries.show(engine, session, instance_id)["tasks"]
    return task


def _decide(engine, tx, task, user, decision, comment=None):
    with clock.frozen(NOW + timedelta(hours=1)), tx() as session:
        engine.complete(session, task["id"], {"decision": decision, **({"comment": comment} if comment else {})},
                        user)


def test_an_approved_change_keeps_a_baseline_and_changes_the_budget_and_the_end(engine, tx):
    number, instance_id = _request(engine, tx, "36000.00")  # 36,000: department manager, then finance
    task = _review(engine, tx, instance_id)
    assert task["candidate_groups"] == ["dept_manager"] and task["excluded_users"] == ["zhang"]
    with pytest.raises(PermissionDenied):
        _decide(engine, tx, task, "zhang", "approve")
    _decide(engine, tx, task, "zhangwei", "approve")
    _decide(engine, tx, _review(engine, tx, instance_id), "lina", "approve")
    with tx(readonly=True) as session:
        assert queries.show(engine, session, instance_id)["status"] == "completed"
        assert find_change_request(session, number).status == "approved"
        found = find_project(session, "ERP-2026")
        assert str(found.planned_end) == "2026-07-10"  # 30 June + 10 days
        assert [b["version"] for b in baselines(session, found)] == [1]
        assert budget_by_phase_and_category(session, found)["by_phase"]["execution"] == Decimal("36000.00")


def test_a_rejected_change_changes_nothing(engine, tx):
    number, instance_id = _request(engine, tx, "8000.00")
    _decide(engine, tx, _review(engine, tx, instance_id), "zhangwei", "reject", "本期不做")
    with tx(readonly=True) as session:
        assert find_change_request(session, number).status == "rejected"
        found = find_project(session, "ERP-2026")
        assert str(found.planned_end) == "2026-06-30" and baselines(session, found) == []
