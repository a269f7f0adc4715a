"""The `erp` command as a user runs it: deploy → start → tasks → complete → show, with --json output."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

ERP = [sys.executable, "-m", "erp.cli"]


@pytest.fixture
def erp(database, database_url):
    env = {**os.environ, "ERP_DATABASE_URL": database_url, "ERP_FORMS_DIR": str(ROOT / "forms"),
           "ERP_BPMN_DIR": str(ROOT / "bpmn")}

    def run(*args, ok=True):
        done = subprocess.run([*ERP, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
        if ok:
            assert done.returncode == 0, done.stderr + done.stdout
        return done

    return run


def _json(done):
    return json.loads(done.stdout)


def test_the_approval_round_trip_from_the_command_line(erp):
    deployed = _json(erp("deploy", "--json"))["deployed"]
    assert ("approval", 1) in [(d["key"], d["version"]) for d in deployed]
    assert "approval" in erp("definitions").stdout
    erp("user", "add", "zhangwei", "--name", "张伟", "--group", "dept_manager")

    started = _json(erp("start", "approval", "--data", '{"title": "服务器采购", "amount": 5600.00, '
                                                       '"requester": "wangfang"}',
                        "--business-key", "PR-2026-001", "--user", "wangfang", "--json"))
    assert started["status"] == "running" and started["business_key"] == "PR-2026-001"
    [task] = started["tasks"]
    assert task["candidate_groups"] == ["dept_manager"] and task["form_key"] == "approval/review"

    inbox = _json(erp("tasks", "--user", "zhangwei", "--json"))["tasks"]
    assert [t["id"] for t in inbox] == [task["id"]]
    assert _json(erp("tasks", "--user", "wangfang", "--json"))["tasks"] == []

    refused = erp("complete", str(task["id"]), "--user", "zhangwei", "--data", '{"decision": "maybe"}',
                  "--json", ok=False)
    assert refused.returncode == 1 and "decision" in _json(refused)["errors"]

    done = _json(erp("complete", str(task["id"]), "--user", "zhangwei", "--data", '{"decision": "approve"}',
                     "--json"))
    assert done["status"] == "completed" and done["data"]["approved_amount"] == "5600.00"

    shown = erp("show", str(started["id"])).stdout
    assert "status: completed" in shown and "task_completed" in shown and "zhangwei" in shown
    listed = _json(erp("instances", "--json"))["instances"]
    assert [(i["id"], i["status"]) for i in listed] == [(started["id"], "completed")]


def test_errors_are_clear_and_exit_non_zero(erp):
    missing = erp("start", "nope", ok=False)
    assert missing.returncode == 1 and "no process definition with key 'nope'" in missing.stderr
    bad_json = erp("start", "nope", "--data", "{oops", ok=False)
    assert bad_json.returncode == 1 and "--data is not valid JSON" in bad_json.stderr
    message = erp("message", "nobody_waits", "--correlation", "order_id=1", "--json", ok=False)
    assert _json(message)["type"] == "MessageNotDelivered"


def test_a_refused_deployment_lists_every_problem(erp, tmp_path):
    (tmp_path / "bad.bpmn").write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><x>&e;</x>')
    (tmp_path / "worse.bpmn").write_text("<not xml")
    done = erp("deploy", str(tmp_path), ok=False)
    assert done.returncode == 1
    assert "bad.bpmn" in done.stderr and "worse.bpmn" in done.stderr and "DOCTYPE" in done.stderr
    assert "no definitions deployed" in erp("definitions").stdout


def test_admin_commands_suspend_resume_terminate(erp):
    erp("deploy")
    started = _json(erp("start", "approval", "--data", '{"title": "t", "amount": 1, "requester": "a"}',
                        "--json"))
    assert "suspended" in erp("suspend", str(started["id"])).stdout
    assert "running" in erp("resume", str(started["id"])).stdout
    assert _json(erp("terminate", str(started["id"]), "--reason", "测试", "--json"))["status"] == "terminated"
    assert _json(erp("timers", "--json"))["timers"] == []
