"""The administrators' commands of the worker's world: escalation policies, periodic jobs, notification
switches and the outbox, run through the real `erp` command group on both databases."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from core import db
from erp import cli


@pytest.fixture
def erp(database, database_url, monkeypatch):
    monkeypatch.setenv("ERP_DATABASE_URL", database_url)
    runner = CliRunner()

    def run(*args, ok=True):
        result = runner.invoke(cli.main, list(args), catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    yield run
    db._default = database  # the command group configured its own; the fixture's database is the test's


def test_escalation_policies_are_set_and_listed(erp):
    erp("escalation", "set", "--remind-before", "120", "--user", "admin")
    erp("escalation", "set", "--process", "approval", "--task", "review", "--raise-priority", "30",
        "--reassign-to", "lina", "--repeat-after", "60")
    listed = json.loads(erp("escalation", "list", "--json").output)
    scopes = {(p["process"], p["task"]): p for p in listed["policies"]}
    assert scopes[(None, None)]["remind_before_minutes"] == 120
    review = scopes[("approval", "review")]
    assert (review["raise_priority_by"], review["reassign_to"], review["repeat_after_minutes"]) == (30, "lina", 60)
    refused = erp("escalation", "set", "--task", "review", ok=False)
    assert refused.exit_code == 1 and "needs its process" in refused.output


def test_periodic_jobs_are_listed_run_and_rescheduled(erp):
    listed = json.loads(erp("jobs", "list", "--json").output)["jobs"]
    assert {"tasks.escalate", "notifications.daily_digest"} <= {j["name"] for j in listed}
    assert "tasks.escalate: ok" in erp("jobs", "run", "tasks.escalate").output
    runs = json.loads(erp("jobs", "runs", "--json").output)["runs"]
    assert runs[0]["job"] == "tasks.escalate" and runs[0]["status"] == "ok"
    assert "disabled" in erp("jobs", "set", "notifications.daily_digest", "--disable", "--user", "admin").output
    bad = erp("jobs", "set", "tasks.escalate", "--schedule", "soon", ok=False)
    assert bad.exit_code == 1 and "crontab" in bad.output


def test_notification_switches_and_the_outbox(erp):
    erp("user", "add", "wangfang", "--name", "王芳")
    prefs = json.loads(erp("notifications", "prefs", "wangfang", "--on", "daily_digest", "--off",
                           "task_due_soon", "--json").output)["preferences"]
    assert prefs["daily_digest"] is True and prefs["task_due_soon"] is False and prefs["task_assigned"] is True
    assert erp("notifications", "outbox").exit_code == 0
