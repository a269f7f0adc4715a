"""Service tasks, incidents and retry, BPMN errors, and diagram code that fails at run time."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.errors import Conflict
from engine import queries
from engine.models import Incident
from engine.specs import BpmnError
from erp.identity.models import User
from erp.identity.services import ensure_user


@pytest.fixture
def charges(operators):
    """A test operator that writes a real row through the step's session, and can be told to fail."""
    calls = {"fail": None, "seen": []}

    def charge(ctx, amount, customer):
        calls["seen"].append((amount, customer, ctx.element_id, ctx.business_key))
        ensure_user(ctx.session, f"charged-{customer}")
        if calls["fail"]:
            raise calls["fail"]
        return {"charged": amount, "currency": "CNY"}

    operators.register("test.charge", charge)
    return calls


def _users(tx):
    with tx(readonly=True) as session:
        return set(session.scalars(select(User.username)))


def test_an_operator_gets_evaluated_parameters_and_its_result_stays_python(charges, deploy, engine, tx):
    deploy("service.bpmn")
    with tx() as session:
        instance = engine.start(session, "service", {"amount": Decimal("12.50"), "customer": "c1"},
                                business_key="SO-1")
        shown = queries.show(engine, session, instance.id)
    assert charges["seen"] == [(Decimal("25.00"), "c1", "charge", "SO-1")]
    assert shown["status"] == "running" and shown["tasks"][0]["element_id"] == "confirm"
    assert shown["data"]["receipt"] == {"charged": "25.00", "currency": "CNY"}
    assert "charged-c1" in _users(tx)  # the operator's write committed with the step


def test_a_failing_operator_raises_an_incident_keeps_the_step_and_undoes_its_own_writes(
        charges, deploy, engine, tx):
    deploy("service.bpmn")
    charges["fail"] = RuntimeError("payment gateway unreachable")
    with tx() as session:
        instance_id = engine.start(session, "service", {"amount": 1, "customer": "c2"}).id
    with tx(readonly=True) as session:
        shown = queries.show(engine, session, instance_id)
    assert shown["status"] == "incident" and shown["tasks"] == []
    [incident] = shown["incidents"]
    assert incident["element_id"] == "charge" and incident["open"]
    assert incident["error_type"] == "RuntimeError" and "gateway unreachable" in incident["message"]
    assert "charged-c2" not in _users(tx)  # rolled back to the savepoint around the operator

    charges["fail"] = None
    with tx() as session:
        engine.retry(session, instance_id, user="admin")
    with tx(readonly=True) as session:
        shown = queries.show(engine, session, instance_id)
    assert shown["status"] == "running" and shown["tasks"][0]["element_id"] == "confirm"
    assert [i["open"] for i in shown["incidents"]] == [False]
    kinds = [h["kind"] for h in shown["history"]]
    assert kinds.index("incident_raised") < kinds.index("retried")
    assert "charged-c2" in _users(tx)


def test_retry_without_an_incident_is_refused(deploy, engine, tx):
    deploy("rework.bpmn")
    with tx() as session:
        instance_id = engine.start(session, "rework", {"target": 1}).id
    with pytest.raises(Conflict, match="no open incident"):
        with tx() as session:
            engine.retry(session, instance_id)


@pytest.mark.parametrize("raised, path", [
    (BpmnError("CreditRefused", "over the limit"), "handle_refusal"),
    (type("CreditRefused", (Exception,), {})("by class name"), "handle_refusal"),
])
def test_an_error_boundary_turns_the_exception_into_its_bpmn_error(operators, deploy, engine, tx, raised, path):
    def check_credit(ctx, amount):
        raise raised

    operators.register("test.check_credit", check_credit)
    deploy("service_boundary.bpmn")
    with tx() as session:
        instance_id = engine.start(session, "service_boundary", {"amount": 10}).id
        shown = queries.show(engine, session, instance_id)
    assert shown["status"] == "running" and shown["incidents"] == []
    assert [t["element_id"] for t in shown["tasks"]] == [path]
    assert shown["data"]["error_code"] == "CreditRefused"


def test_an_error_the_boundary_does_not_catch_is_an_incident(operators, deploy, engine, tx):
    operators.register("test.check_credit", lambda ctx, amount: 1 / 0)
    deploy("service_boundary.bpmn")
    with tx() as session:
        instance_id = engine.start(session, "service_boundary", {"amount": 10}).id
        shown = queries.show(engine, session, instance_id)
    assert shown["status"] == "incident"
    assert shown["incidents"][0]["error_type"] == "ZeroDivisionError"


def test_an_operator_succeeding_goes_the_normal_way(operators, deploy, engine, tx):
    operators.register("test.check_credit", lambda ctx, amount: {"ok": True})
    deploy("service_boundary.bpmn")
    with tx() as session:
        shown = queries.show(engine, session, engine.start(session, "service_boundary", {"amount": 1}).id)
    assert shown["status"] == "completed" and shown["data"]["credit"] == {"ok": True}


def test_an_uncaught_bpmn_error_never_ends_the_instance_silently(deploy, engine, tx):
    deploy("uncaught_error.bpmn")
    with tx() as session:
        instance_id = engine.start(session, "uncaught_error").id
        shown = queries.show(engine, session, instance_id)
    assert shown["status"] == "incident"
    [incident] = shown["incidents"]
    assert incident["element_id"] == "fail" and "BadData" in incident["message"]
    assert "completed" not in [h["kind"] for h in shown["history"]]


def test_a_failing_script_stops_at_the_script_and_retry_fails_again_until_fixed(deploy, engine, tx):
    deploy("failing_script.bpmn")
    with tx() as session:
        instance_id = engine.start(session, "failing_script", {"divisor": 0}).id
        [task] = queries.tasks(session, instance_id=instance_id)
        engine.complete(session, task["id"], {}, "someone")
    with tx(readonly=True) as session:
        shown = queries.show(engine, session, instance_id)
    assert shown["status"] == "incident" and shown["incidents"][0]["element_id"] == "divide"
    assert shown["incidents"][0]["error_type"] == "ZeroDivisionError"
    assert ("task_completed", "first") in [(h["kind"], h["element_id"]) for h in shown["history"]]
    with tx() as session:
        engine.retry(session, instance_id)
    with tx(readonly=True) as session:
        incidents = session.scalars(select(Incident).where(Incident.instance_id == instance_id)
                                    .order_by(Incident.id)).all()
        assert [i.open for i in incidents] == [False, True]


def test_a_sandbox_violation_at_run_time_is_an_incident(deploy, engine, tx):
    from tests.bpmn_text import one_task

    source = one_task("sneaky", '<bpmn:scriptTask id="t"><bpmn:script>f = data.get\nx = f("a")\n'
                               'y = [c for c in ().__class__.__mro__]</bpmn:script></bpmn:scriptTask>')
    from engine.errors import DeploymentFailed

    with pytest.raises(DeploymentFailed):  # caught at deploy time already
        with tx() as session:
            engine.deploy(session, {"sneaky.bpmn": source})
    loop = one_task("spin", '<bpmn:scriptTask id="t"><bpmn:script>n = 0\nwhile True:\n    n += 1'
                            '</bpmn:script></bpmn:scriptTask>')
    with tx() as session:
        engine.deploy(session, {"spin.bpmn": loop})
        shown = queries.show(engine, session, engine.start(session, "spin").id)
    assert shown["status"] == "incident" and "limit" in shown["incidents"][0]["message"]


@pytest.fixture
def announcer(operators):
    """A test operator that tells the instance waiting for payment of `customer` (as order_id) it is paid."""
    calls = {"fail": None}

    def announce(ctx, amount, customer):
        ctx.send_message("payment_received", {"order_id": customer}, {"paid_amount": str(amount)})
        if calls["fail"]:
            raise calls["fail"]
        return {"announced": customer}

    operators.register("test.charge", announce)
    return calls


def test_a_message_an_operator_sends_reaches_the_waiting_instance_after_the_step(announcer, deploy, engine, tx):
    deploy("service.bpmn", "payment.bpmn")
    with tx() as session:
        waiting = engine.start(session, "await_payment", {"order_id": "SO-9"}).id
        sender = engine.start(session, "service", {"amount": Decimal("8.40"), "customer": "SO-9"}).id
    with tx(readonly=True) as session:
        assert queries.show(engine, session, waiting)["status"] == "completed"
        assert queries.show(engine, session, waiting)["data"]["booked"] == "16.80"
        assert queries.show(engine, session, sender)["tasks"][0]["element_id"] == "confirm"


def test_a_message_nobody_waits_for_is_noted_and_a_failed_operator_sends_nothing(announcer, deploy, engine, tx):
    deploy("service.bpmn", "payment.bpmn")
    with tx() as session:
        lonely = engine.start(session, "service", {"amount": 1, "customer": "SO-nobody"}).id
    with tx(readonly=True) as session:
        history = queries.show(engine, session, lonely)["history"]
        assert any(h["kind"] == "message_undelivered" for h in history)
    announcer["fail"] = RuntimeError("gateway down")
    with tx() as session:
        waiting = engine.start(session, "await_payment", {"order_id": "SO-10"}).id
        failed = engine.start(session, "service", {"amount": 1, "customer": "SO-10"}).id
    with tx(readonly=True) as session:
        assert queries.show(engine, session, failed)["status"] == "incident"
        assert queries.show(engine, session, waiting)["status"] == "running"  # the failed step sent nothing
