"""The JSON API under /api/v1 through bearer tokens, on SQLite and PostgreSQL: the inbox, claiming and completing,
errors with stable codes, starting instances, who sees which instance, masking, history, administration,
tokens and CSRF."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from core import clock, db
from engine.models import HistoryEvent, HumanTask, ProcessInstance
from erp import cli
from erp.identity.models import ApiToken, User
from erp.identity.services import revoke_tokens, user_by_name
from tests.webapp.conftest import PASSWORD, csrf_token, login
from tests.webapp.test_api_support import (
    Api,
    build_engine,
    deploy_expense,
    error_of,
    expense_bpmn,
    first_task,
    make_people,
    start_expense,
    token_for,
    write_forms,
)
from webapp import create_app

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def api_forms(tmp_path_factory):
    return write_forms(tmp_path_factory.mktemp("api_forms"))


@pytest.fixture
def engine(api_forms):
    """Overrides the shared engine fixture: the app and `deploy` use the expense forms."""
    return build_engine(api_forms)


@pytest.fixture
def people(make_user, client) -> dict[str, Api]:
    return make_people(make_user, client)


@pytest.fixture
def expense(database, engine):
    deploy_expense(database, engine)




def task_row(task_id: int) -> HumanTask:
    with db.transaction(readonly=True) as session:
        row = session.get(HumanTask, task_id)
        session.expunge(row)
        return row


def instance_row(instance_id: int) -> ProcessInstance:
    with db.transaction(readonly=True) as session:
        row = session.get(ProcessInstance, instance_id)
        session.expunge(row)
        return row


def history_kinds(instance_id: int) -> list[tuple[str, str | None]]:
    with db.transaction(readonly=True) as session:
        return [(h.kind, h.actor) for h in session.scalars(
            select(HistoryEvent).where(HistoryEvent.instance_id == instance_id).order_by(HistoryEvent.id))]


# ---------------------------------------------------------------------- who is asking


def test_me_tells_the_token_user_their_roles_groups_and_permissions(people):
    response = people["zhaomin"].get("/me")
    assert response.status_code == 200
    me = response.get_json()
    assert me["username"] == "zhaomin" and me["roles"] == ["manager"] and me["groups"] == ["approvers"]
    assert "personal_data.view" in me["permissions"] and "instance.administer" not in me["permissions"]
    assert me["via_token"] is True and me["locale"] == "zh_CN"
    assert response.headers["Cache-Control"] == "no-store"


def test_no_token_or_a_bad_token_is_refused_with_401(people, client):
    for headers in ({}, {"Authorization": "Bearer erp_not-a-token"}, {"Authorization": "Basic d2FuZzp4"}):
        response = client.get("/api/v1/tasks", headers=headers)
        assert response.status_code == 401
        assert error_of(response)["code"] == "unauthenticated"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_printed_by_erp_token_works(people, client, database, database_url, monkeypatch):
    monkeypatch.setenv("ERP_DATABASE_URL", database_url)
    try:
        result = CliRunner().invoke(cli.main, ["token", "chenjie", "--name", "erp-sync"], catch_exceptions=False)
    finally:
        configured, db._default = db._default, database  # the command configured a database of its own
        if configured is not database:
            configured.dispose()
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("erp_")
    assert Api(client, token).get("/me").get_json()["username"] == "chenjie"


def test_a_revoked_token_and_a_deactivated_users_token_are_refused(people, client):
    assert people["lina"].get("/me").status_code == 200
    with db.transaction() as session:
        revoke_tokens(session, user_by_name(session, "lina"))
        user_by_name(session, "chenjie").active = False
    assert people["lina"].get("/me").status_code == 401
    assert people["chenjie"].get("/me").status_code == 401
    assert error_of(people["chenjie"].get("/tasks"))["code"] == "unauthenticated"


def test_token_use_is_written_at_most_once_a_minute(people, client):
    token = token_for("lina", "integration")
    api = Api(client, token)

    def last_used():
        with db.transaction(readonly=True) as session:
            return session.scalar(select(ApiToken.last_used_at).where(ApiToken.name == "integration"))

    assert last_used() is None
    with clock.frozen(T0) as frozen:
        assert api.get("/me").status_code == 200
        assert last_used() == T0
        frozen.advance(seconds=30)
        assert api.get("/me").status_code == 200
        assert last_used() == T0  # no write within the minute
        frozen.advance(seconds=31)
        assert api.get("/tasks").status_code == 200
        assert last_used() == T0 + timedelta(seconds=61)


def test_unknown_paths_and_wrong_methods_answer_in_json(people):
    api = people["lina"]
    response = api.get("/no-such-thing")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    for path in ("/tasks/999999", f"/tasks/{2**63}", "/instances/99999999999999999999999", "/tasks/-1"):
        response = api.get(path)
        assert response.status_code == 404 and error_of(response)["code"] == "not_found", path
    response = api.client.delete("/api/v1/tasks", headers=api.headers)
    assert response.status_code == 405 and error_of(response)["code"] == "method_not_allowed"


def test_a_body_that_is_not_json_is_a_bad_request(people, expense):
    api = people["wangfang"]
    response = api.client.post("/api/v1/instances", data="{not json", content_type="application/json",
                               headers=api.headers)
    assert response.status_code == 400 and error_of(response)["code"] == "bad_request"
    response = api.post("/instances", ["expense"])
    assert response.status_code == 422 and error_of(response)["code"] == "invalid_input"


def test_a_missing_permission_is_403(people, expense):
    instance = start_expense(people["wangfang"])
    response = people["wangfang"].post(f"/instances/{instance['id']}/suspend")
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    assert instance_row(instance["id"]).status == "running"


# ---------------------------------------------------------------------- starting instances


def test_starting_sets_the_requester_to_the_caller_whatever_the_body_says(people, expense):
    instance = start_expense(people["wangfang"], requester="zhaomin", business_key="EXP-2026-0001")
    assert instance["status"] == "running" and instance["process_key"] == "expense"
    assert instance["business_key"] == "EXP-2026-0001" and instance["started_by"] == "wangfang"
    row = instance_row(instance["id"])
    assert (row.started_by, row.business_key) == ("wangfang", "EXP-2026-0001")
    with db.transaction(readonly=True) as session:
        started = session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == row.id,
                                                             HistoryEvent.kind == "started")).one()
    assert started.data["requester"] == "wangfang" and started.data["amount"] == "1280.5"
    assert instance["data"]["requester"] == "wangfang"
    [task] = instance["tasks"]
    assert task["element_id"] == "review" and task["candidate_groups"] == ["approvers"]


def test_start_data_is_checked_against_the_start_form(people, expense):
    api = people["wangfang"]
    response = api.post("/instances", {"process_key": "expense", "data": {"title": "", "amount": -1}})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_input" and set(error["fields"]) == {"title", "amount"}
    response = api.post("/instances", {"process_key": "nope", "data": {}})
    assert response.status_code == 422 and "process_key" in error_of(response)["fields"]
    response = api.post("/instances", {"data": {}})
    assert response.status_code == 422 and "process_key" in error_of(response)["fields"]
    with db.transaction(readonly=True) as session:
        assert session.scalar(select(ProcessInstance.id)) is None


# ---------------------------------------------------------------------- the inbox: claim and complete


def test_list_claim_and_complete_a_task(people, expense):
    instance = start_expense(people["wangfang"])
    lina = people["lina"]
    page = lina.get("/tasks", view="group").get_json()
    assert page["total"] == 1 and page["page"] == 1 and page["per_page"] == 25
    [row] = page["items"]
    assert row["id"] == first_task(instance) and row["process_key"] == "expense" and row["priority"] == 60
    assert people["outsider"].get("/tasks").get_json()["total"] == 0

    response = lina.post(f"/tasks/{row['id']}/claim")
    assert response.status_code == 200 and response.get_json()["task"]["assignee"] == "lina"
    assert task_row(row["id"]).assignee == "lina"
    assert lina.get("/tasks", view="group").get_json()["total"] == 0
    assert [t["id"] for t in lina.get("/tasks", view="mine").get_json()["items"]] == [row["id"]]
    # claimed by lina: zhaomin, though an approver too, may no longer take it
    response = people["zhaomin"].post(f"/tasks/{row['id']}/claim")
    assert response.status_code == 409 and error_of(response)["code"] == "conflict"

    response = lina.post(f"/tasks/{row['id']}/complete", {"data": {"approved": True, "comment": "同意"}})
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert result["task"]["status"] == "completed" and result["task"]["completed_by"] == "lina"
    assert [t["element_id"] for t in result["open_tasks"]] == ["pay"]
    done = task_row(row["id"])
    assert (done.status, done.completed_by) == ("completed", "lina")
    assert ("task_completed", "lina") in history_kinds(instance["id"])


def test_unclaim_gives_the_task_back_to_the_group(people, expense):
    task_id = first_task(start_expense(people["wangfang"]))
    assert people["lina"].post(f"/tasks/{task_id}/claim").status_code == 200
    response = people["zhaomin"].post(f"/tasks/{task_id}/unclaim")
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    assert people["lina"].post(f"/tasks/{task_id}/unclaim").status_code == 200
    assert task_row(task_id).assignee is None


def test_invalid_task_data_is_422_with_the_errors_per_field(people, expense):
    task_id = first_task(start_expense(people["wangfang"]))
    response = people["lina"].post(f"/tasks/{task_id}/complete",
                                   {"data": {"approved": "yes", "comment": "x" * 201}})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_input" and set(error["fields"]) == {"approved", "comment"}
    response = people["lina"].post(f"/tasks/{task_id}/complete", {"data": {}})
    assert error_of(response)["fields"] == {"approved": ["'approved' is a required property"]}
    response = people["lina"].post(f"/tasks/{task_id}/complete", {"data": [1]})
    assert response.status_code == 422 and "data" in error_of(response)["fields"]
    assert task_row(task_id).status == "open"


def test_the_second_completion_of_the_same_task_is_a_conflict(people, expense):
    instance = start_expense(people["wangfang"])
    task_id = first_task(instance)
    assert people["lina"].post(f"/tasks/{task_id}/complete", {"data": {"approved": True}}).status_code == 200
    response = people["zhaomin"].post(f"/tasks/{task_id}/complete", {"data": {"approved": False}})
    assert response.status_code == 409 and error_of(response)["code"] == "conflict"
    assert task_row(task_id).completed_by == "lina"
    assert [k for k in history_kinds(instance["id"]) if k[0] == "task_completed"] == [("task_completed", "lina")]


def test_a_completion_racing_with_another_is_a_conflict_and_writes_nothing(people, expense, database, engine):
    """Two approvers complete the same task at once: the one committing second gets 409 (PostgreSQL, where
    the two transactions really overlap; SQLite lets only one writer in at a time)."""
    if database.is_sqlite:
        pytest.skip("SQLite serialises writers")
    instance = start_expense(people["wangfang"])
    task_id = first_task(instance)
    answers = []
    with database.transaction() as session:
        engine.complete(session, task_id, {"approved": True}, "zhaomin")  # not committed yet
        racer = threading.Thread(target=lambda: answers.append(
            people["lina"].post(f"/tasks/{task_id}/complete", {"data": {"approved": False}})))
        racer.start()
        racer.join(timeout=1.0)  # lina's request waits on zhaomin's uncommitted rows
        assert racer.is_alive() and answers == []
    racer.join(timeout=30)
    [response] = answers
    assert response.status_code == 409 and error_of(response)["code"] == "conflict"
    assert task_row(task_id).completed_by == "zhaomin"
    assert [k for k in history_kinds(instance["id"]) if k[0] == "task_completed"] == [("task_completed", "zhaomin")]


def test_completing_a_task_of_someone_elses_group_is_forbidden(people, expense):
    task_id = first_task(start_expense(people["wangfang"]))
    response = people["chenjie"].post(f"/tasks/{task_id}/complete", {"data": {"approved": True}})
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    assert task_row(task_id).status == "open"


def test_inbox_filters_sorting_and_paging(people, expense):
    for n in range(3):
        start_expense(people["wangfang"], business_key=f"EXP-{n}")
    lina = people["lina"]
    page = lina.get("/tasks", per_page=2, sort="business_key", desc="1").get_json()
    assert page["total"] == 3 and [t["business_key"] for t in page["items"]] == ["EXP-2", "EXP-1"]
    page = lina.get("/tasks", per_page=2, page=2, sort="business_key", desc="1").get_json()
    assert [t["business_key"] for t in page["items"]] == ["EXP-0"]
    assert lina.get("/tasks", business_key="EXP-1").get_json()["total"] == 1
    assert lina.get("/tasks", process="other").get_json()["total"] == 0
    assert lina.get("/tasks", min_priority=61).get_json()["total"] == 0
    assert lina.get("/tasks", q="Review").get_json()["total"] == 3
    assert lina.get("/tasks", overdue="1").get_json()["total"] == 0
    with clock.frozen(clock.now() + timedelta(days=3)):
        assert lina.get("/tasks", overdue="1").get_json()["total"] == 3
    for bad in ({"per_page": 101}, {"per_page": 0}, {"page": "x"}, {"page": 10**20}, {"view": "everyone"},
                {"sort": "name"}, {"min_priority": "high"}):
        response = lina.get("/tasks", **bad)
        assert response.status_code == 422, bad
        assert set(error_of(response)["fields"]) == set(bad)


def test_a_task_shows_its_form_schema_data_and_the_callers_draft(people, expense):
    instance = start_expense(people["wangfang"])
    task_id = first_task(instance)
    lina = people["lina"]
    shown = lina.get(f"/tasks/{task_id}").get_json()
    assert shown["form_key"] == "expense/review" and shown["may_work"] is True
    assert shown["form"]["schema"]["required"] == ["approved"]
    assert shown["draft"] is None and shown["data"]["phone"] == "13812345678"  # the worker sees it as it is
    response = lina.put(f"/tasks/{task_id}/draft", {"data": {"comment": "再看看"}})
    assert response.status_code == 200 and response.get_json()["draft"] == {"comment": "再看看"}
    assert lina.get(f"/tasks/{task_id}").get_json()["draft"] == {"comment": "再看看"}
    assert people["zhaomin"].get(f"/tasks/{task_id}").get_json()["draft"] is None  # drafts are personal
    # the requester may look at it, masked, but not work on it
    shown = people["wangfang"].get(f"/tasks/{task_id}").get_json()
    assert shown["may_work"] is False and shown["data"]["phone"] == "138****5678"
    response = people["outsider"].get(f"/tasks/{task_id}")
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    assert people["outsider"].put(f"/tasks/{task_id}/draft", {"data": {}}).status_code == 403


# ---------------------------------------------------------------------- instances: visibility, masking, history


def test_an_employee_sees_only_their_instances_and_an_analyst_all(people, expense):
    mine = start_expense(people["wangfang"])
    theirs = start_expense(people["outsider"])
    listed = people["wangfang"].get("/instances").get_json()
    assert [i["id"] for i in listed["items"]] == [mine["id"]] and listed["total"] == 1
    assert people["wangfang"].get(f"/instances/{theirs['id']}").status_code == 403
    assert people["wangfang"].get(f"/instances/{theirs['id']}/history").status_code == 403
    everything = people["liwei"].get("/instances").get_json()
    assert {i["id"] for i in everything["items"]} == {mine["id"], theirs["id"]}
    # an approver sees both through the tasks offered to their group; the manager also their report's
    assert people["lina"].get("/instances").get_json()["total"] == 2
    assert people["chenjie"].get("/instances").get_json()["total"] == 0
    assert people["liwei"].get("/instances", status="completed").get_json()["total"] == 0
    assert people["liwei"].get("/instances", process_key="expense", per_page=1).get_json()["total"] == 2
    assert people["liwei"].get("/instances", status="bogus").status_code == 422
    assert people["liwei"].get("/instances/999999").status_code == 404


def test_having_worked_a_task_makes_the_instance_visible(people, expense):
    instance = start_expense(people["outsider"])
    task_id = first_task(instance)
    assert people["lina"].post(f"/tasks/{task_id}/complete", {"data": {"approved": True}}).status_code == 200
    # finance now sees it (pay is offered to them); lina still does, having completed a task in it
    assert people["chenjie"].get(f"/instances/{instance['id']}").status_code == 200
    assert people["lina"].get(f"/instances/{instance['id']}").status_code == 200
    assert people["wangfang"].get(f"/instances/{instance['id']}").status_code == 403


def test_personal_fields_are_masked_for_an_employee_but_not_for_a_manager(people, expense):
    instance = start_expense(people["wangfang"])
    as_employee = people["wangfang"].get(f"/instances/{instance['id']}").get_json()
    as_manager = people["zhaomin"].get(f"/instances/{instance['id']}").get_json()
    assert as_employee["data"]["phone"] == "138****5678" and as_employee["data"]["title"] == "出差北京"
    assert as_manager["data"]["phone"] == "13812345678"
    assert instance["data"]["phone"] == "138****5678"  # the start answer too
    history = people["wangfang"].get(f"/instances/{instance['id']}/history").get_json()
    [started] = [h for h in history["items"] if h["kind"] == "started"]
    assert started["data"]["phone"] == "138****5678"
    history = people["liwei"].get(f"/instances/{instance['id']}/history").get_json()
    assert next(h for h in history["items"] if h["kind"] == "started")["data"]["phone"] == "138****5678"
    history = people["admin"].get(f"/instances/{instance['id']}/history").get_json()
    assert next(h for h in history["items"] if h["kind"] == "started")["data"]["phone"] == "13812345678"


def test_history_lists_what_happened_in_order_and_pages(people, expense):
    instance = start_expense(people["wangfang"])
    task_id = first_task(instance)
    people["lina"].post(f"/tasks/{task_id}/claim")
    people["lina"].post(f"/tasks/{task_id}/complete", {"data": {"approved": True}})
    history = people["wangfang"].get(f"/instances/{instance['id']}/history").get_json()
    kinds = [(h["kind"], h["actor"]) for h in history["items"]]
    assert kinds[0] == ("started", "wangfang")
    assert kinds.index(("task_claimed", "lina")) < kinds.index(("task_completed", "lina"))
    assert history["total"] == len(kinds) == len(history_kinds(instance["id"]))
    first = people["wangfang"].get(f"/instances/{instance['id']}/history", per_page=1, page=2).get_json()
    assert first["items"][0]["kind"] == kinds[1][0] and first["total"] == len(kinds)


# ---------------------------------------------------------------------- administration


def test_only_administrators_suspend_resume_and_terminate(people, expense):
    instance = start_expense(people["wangfang"])
    path = f"/instances/{instance['id']}"
    for action in ("suspend", "resume", "terminate", "retry"):
        assert people["liwei"].post(f"{path}/{action}").status_code == 403
    admin = people["admin"]
    response = admin.post(f"{path}/suspend")
    assert response.status_code == 200 and response.get_json()["status"] == "suspended"
    assert instance_row(instance["id"]).status == "suspended"
    response = people["lina"].post(f"/tasks/{first_task(instance)}/complete", {"data": {"approved": True}})
    assert response.status_code == 409  # a suspended instance takes no work
    assert admin.post(f"{path}/suspend").status_code == 409
    assert admin.post(f"{path}/resume").get_json()["status"] == "running"
    assert admin.post(f"{path}/retry").status_code == 409  # nothing to retry
    response = admin.post(f"{path}/terminate", {"reason": "重复提交"})
    assert response.status_code == 200 and response.get_json()["status"] == "terminated"
    assert instance_row(instance["id"]).status == "terminated"
    assert task_row(first_task(instance)).status == "cancelled"
    assert ("terminated", "admin") in history_kinds(instance["id"])
    assert admin.post("/instances/999999/suspend").status_code == 404


# ---------------------------------------------------------------------- definitions


def test_definitions_list_the_latest_versions_and_all_for_analysts(people, expense, database, engine):
    deploy_expense(database, engine, "报销 Expense v2")
    latest = people["wangfang"].get("/definitions").get_json()["items"]
    assert [(d["key"], d["version"], d["latest"]) for d in latest] == [("expense", 2, True)]
    assert latest[0]["start_form_key"] == "expense/request" and latest[0]["name"] == "报销 Expense v2"
    every = people["liwei"].get("/definitions").get_json()["items"]
    assert [(d["version"], d["latest"]) for d in every] == [(1, False), (2, True)]
    # a new instance runs on the new version
    instance = start_expense(people["wangfang"])
    assert instance["version"] == 2


def test_the_bpmn_source_of_a_version(people, expense):
    response = people["wangfang"].get("/definitions/expense/1/xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert response.get_data(as_text=True) == expense_bpmn().decode()
    assert people["wangfang"].get("/definitions/expense/9/xml").status_code == 404


# ---------------------------------------------------------------------- CSRF for cookie sessions


@pytest.fixture
def csrf_app(database, engine):
    return create_app({"TESTING": True, "ENGINE": engine, "WTF_CSRF_ENABLED": True, "SECRET_KEY": "test",
                       "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False})


def test_a_cookie_session_post_needs_the_csrf_header_but_a_token_request_does_not(csrf_app, people, expense):
    task_id = first_task(start_expense(people["wangfang"]))
    browser = csrf_app.test_client()
    response = browser.post("/login", data={"username": "lina", "password": PASSWORD,
                                            "csrf_token": csrf_token(browser)})
    assert response.status_code == 302
    token = csrf_token(browser)  # the session starts afresh at login, with a new token
    assert browser.get("/api/v1/me").get_json()["via_token"] is False

    response = browser.post(f"/api/v1/tasks/{task_id}/claim")
    assert response.status_code == 400 and error_of(response)["code"] == "bad_request"
    assert task_row(task_id).assignee is None
    response = browser.post(f"/api/v1/tasks/{task_id}/claim", headers={"X-CSRFToken": token})
    assert response.status_code == 200 and task_row(task_id).assignee == "lina"

    with_token = Api(csrf_app.test_client(), token_for("lina"))
    assert with_token.post(f"/tasks/{task_id}/unclaim").status_code == 200
    assert task_row(task_id).assignee is None


def test_a_bad_token_is_refused_even_beside_a_good_session_cookie(people, client):
    login(client, "lina")
    assert client.get("/api/v1/me").get_json()["via_token"] is False
    for token in ("erp_forged", token_for("chenjie")):  # a bad token, or someone else's
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401 and error_of(response)["code"] == "unauthenticated"
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token_for('lina')}"})
    assert response.status_code == 200 and response.get_json()["username"] == "lina"


def test_a_deactivated_user_loses_their_running_session_too(people, client):
    login(client, "wangfang")
    assert client.get("/api/v1/me").get_json()["username"] == "wangfang"
    with db.transaction() as session:
        session.execute(update(User).where(User.username == "wangfang").values(active=False))
    response = client.get("/api/v1/me")
    assert response.status_code == 401 and error_of(response)["code"] == "unauthenticated"
