"""The production shape, as separate processes on one PostgreSQL: the web app under gunicorn
(deploy/gunicorn.conf.py) with three worker processes and two `erp worker` processes. Instances are started
and their tasks completed over HTTP from several threads at once, some completions racing each other; the
workers fire each instance's timer. Nothing is lost or done twice, and no request fails with a server error."""
from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select

from core import db
from engine.models import HistoryEvent, HumanTask, ProcessInstance
from erp import cli
from tests.bpmn_text import HEAD
from tests.conftest import ROOT, scratch_postgres

INSTANCES = 40
THREADS = 8
#: every RACE-th instance has its task completed by two clerks at the same moment
RACE = 4
CLERKS = ("zhangwei", "lina", "wangfang")
GUNICORN = Path(sys.executable).with_name("gunicorn")

#: a delivery check: a clerk confirms, a short cooling-off timer the workers fire, done
DELIVERY_CHECK = (HEAD + '<bpmn:process id="delivery_check" name="发货复核 Delivery check" isExecutable="true">'
                  '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
                  '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="confirm"/>'
                  '<bpmn:userTask id="confirm" name="复核 Confirm"><bpmn:extensionElements><spiffworkflow:properties>'
                  '<spiffworkflow:property name="candidateGroups" value="\'clerks\'"/>'
                  '</spiffworkflow:properties></bpmn:extensionElements>'
                  '<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>'
                  '<bpmn:sequenceFlow id="f2" sourceRef="confirm" targetRef="cool_off"/>'
                  '<bpmn:intermediateCatchEvent id="cool_off"><bpmn:incoming>f2</bpmn:incoming>'
                  '<bpmn:outgoing>f3</bpmn:outgoing><bpmn:timerEventDefinition id="t1">'
                  '<bpmn:timeDuration>"PT1S"</bpmn:timeDuration></bpmn:timerEventDefinition>'
                  '</bpmn:intermediateCatchEvent>'
                  '<bpmn:sequenceFlow id="f3" sourceRef="cool_off" targetRef="end"/>'
                  '<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>'
                  '</bpmn:process></bpmn:definitions>')


# ---------------------------------------------------------------------- setting up, as an operator would


@pytest.fixture
def production_url(database_url):
    """A new, empty PostgreSQL database of its own (dropped afterwards)."""
    if database_url.startswith("sqlite"):
        pytest.skip("the production shape is many processes on one PostgreSQL; SQLite has one writer at a time")
    with scratch_postgres("prod") as url:
        yield url


def erp(url: str, *args: str) -> str:
    """One `erp` command against `url`; returns what it printed."""
    previous = os.environ.get("ERP_DATABASE_URL")
    os.environ["ERP_DATABASE_URL"] = url
    try:
        result = CliRunner().invoke(cli.main, list(args), catch_exceptions=False)
    finally:
        if previous is None:
            del os.environ["ERP_DATABASE_URL"]
        else:
            os.environ["ERP_DATABASE_URL"] = previous
        if db._default is not None:
            db._default.dispose()
        db._default = None
    assert result.exit_code == 0, result.output
    return result.stdout


def set_up(url: str, tmp_path: Path) -> dict[str, str]:
    """Migrate, create the clerks with their API tokens, deploy the process; returns user -> token."""
    erp(url, "db", "upgrade")
    tokens = {}
    for user in CLERKS:
        erp(url, "user", "create", user, "--role", "employee", "--group", "clerks", "--password", "at-least-8")
        tokens[user] = erp(url, "token", user, "--name", "production test").strip()
    diagram = tmp_path / "delivery_check.bpmn"
    diagram.write_text(DELIVERY_CHECK, encoding="utf-8")
    assert "delivery_check v1 deployed" in erp(url, "deploy", str(diagram), "--user", "ops")
    return tokens


# ---------------------------------------------------------------------- the processes


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_processes(url: str, port: int, logs: Path) -> tuple[subprocess.Popen, list[subprocess.Popen]]:
    env = {**os.environ, "ERP_DATABASE_URL": url, "ERP_SECRET_KEY": uuid.uuid4().hex,
           "ERP_WEB_BIND": f"127.0.0.1:{port}", "ERP_WEB_WORKERS": "3", "ERP_WEB_THREADS": "4",
           "ERP_WEB_ACCESS_LOG": str(logs / "access.log"), "ERP_WEB_ERROR_LOG": str(logs / "error.log"),
           "ERP_MAIL_SERVER": "127.0.0.1", "ERP_MAIL_PORT": str(free_port())}  # no mail is due; none may leave
    web = subprocess.Popen([str(GUNICORN), "-c", str(ROOT / "deploy" / "gunicorn.conf.py")], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = []
    for n in (1, 2):
        with open(logs / f"worker{n}.log", "w") as log:  # the child keeps its own copy of the file
            workers.append(subprocess.Popen([sys.executable, "-m", "erp.cli", "worker", "--max-sleep", "5"],
                                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
    return web, workers


def stop(processes: list[subprocess.Popen], timeout: float = 30) -> list[int]:
    """SIGTERM to all at once (gunicorn and `erp worker` both finish their work and exit), SIGKILL only to one
    that hangs; their exit codes."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    exits = []
    for process in processes:
        try:
            exits.append(process.wait(timeout=max(deadline - time.monotonic(), 0.1)))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
            exits.append(-signal.SIGKILL)
    return exits


def children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


class Http:
    """JSON over HTTP to the API, one connection per request (so the kernel hands each to any web worker)."""

    def __init__(self, port: int):
        self.port = port
        self.statuses: list[int] = []
        self._lock = threading.Lock()

    def call(self, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            conn.request(method, f"/api/v1{path}", body=json.dumps(body) if body is not None else None,
                         headers=headers)
            response = conn.getresponse()
            payload = response.read()
        finally:
            conn.close()
        with self._lock:
            self.statuses.append(response.status)
        return response.status, (json.loads(payload) if payload else {})

    def wait_ready(self, web: subprocess.Popen, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert web.poll() is None, "gunicorn exited while starting"
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/api/v1/openapi.json")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            finally:
                conn.close()
            time.sleep(0.2)
        raise AssertionError("gunicorn did not answer within a minute")


# ---------------------------------------------------------------------- the work


def start_and_complete(api: Http, tokens: dict[str, str], n: int) -> dict:
    """Clerk n starts an instance; its task is completed by one clerk, or by two at once (a race)."""
    starter = CLERKS[n % len(CLERKS)]
    status, instance = api.call("POST", "/instances", tokens[starter],
                                {"process_key": "delivery_check", "business_key": f"DC-{n:03d}", "data": {"n": n}})
    assert status == 201, instance
    [task] = [t for t in instance["tasks"] if t["element_id"] == "confirm"]
    racers = [CLERKS[(n + 1) % len(CLERKS)]] + ([CLERKS[(n + 2) % len(CLERKS)]] if n % RACE == 0 else [])
    barrier = threading.Barrier(len(racers))
    answers: dict[str, int] = {}

    def complete(clerk: str) -> None:
        barrier.wait()
        answers[clerk] = api.call("POST", f"/tasks/{task['id']}/complete", tokens[clerk],
                                  {"data": {"checked": True}})[0]

    threads = [threading.Thread(target=complete, args=(clerk,)) for clerk in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"instance": instance["id"], "task": task["id"], "answers": answers}


def wait_until_all_completed(url: str, timeout: float = 45) -> int:
    engine = create_engine(url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            with engine.connect() as conn:
                done = conn.scalar(select(func.count()).select_from(ProcessInstance)
                                   .where(ProcessInstance.status == "completed"))
            if done == INSTANCES or time.monotonic() > deadline:
                return done
            time.sleep(0.25)
    finally:
        engine.dispose()


def served_by(access_log: Path) -> Counter:
    """Requests to /api/v1 (but the readiness probe) per gunicorn worker pid, from the access log (its lines
    end with "<pid> microseconds")."""
    lines = re.finditer(r'"[A-Z]+ (/api/v1/[^ "]*)[^"]*" \d+ .* <(\d+)> \d+$', access_log.read_text(), re.M)
    return Counter(m.group(2) for m in lines if m.group(1) != "/api/v1/openapi.json")


def test_gunicorn_and_two_workers_on_one_postgresql_lose_and_double_nothing(production_url, tmp_path):
    assert GUNICORN.exists(), f"gunicorn is not installed beside {sys.executable} (it is in requirements.lock)"
    tokens = set_up(production_url, tmp_path)
    port = free_port()
    web, workers = start_processes(production_url, port, tmp_path)
    api = Http(port)
    try:
        api.wait_ready(web)
        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(lambda n: start_and_complete(api, tokens, n), range(INSTANCES)))
        completed = wait_until_all_completed(production_url)
        web_pids = children(web.pid)
    finally:
        exits = stop([web, *workers])

    assert exits == [0, 0, 0], (exits, (tmp_path / "error.log").read_text()[-3000:])
    for n in (1, 2):
        assert "Traceback" not in (tmp_path / f"worker{n}.log").read_text()
    assert not [s for s in api.statuses if s >= 500]
    for result in results:  # one completion won each race; the other was told it came too late
        assert sorted(result["answers"].values()) == ([200, 409] if len(result["answers"]) == 2 else [200]), result
    assert completed == INSTANCES

    engine = create_engine(production_url)
    try:
        with engine.connect() as conn:
            kinds = Counter((i, k) for i, k in conn.execute(select(HistoryEvent.instance_id, HistoryEvent.kind)))
            tasks = conn.execute(select(HumanTask.instance_id, HumanTask.status, HumanTask.completed_by)).all()
            statuses = conn.scalars(select(ProcessInstance.status)).all()
    finally:
        engine.dispose()
    ids = {r["instance"] for r in results}
    assert statuses == ["completed"] * INSTANCES and len(ids) == INSTANCES
    for instance_id in ids:  # each step once: no task completed twice, no timer fired twice
        assert [kinds[(instance_id, k)] for k in ("started", "task_completed", "timer_fired", "completed")] == \
            [1, 1, 1, 1], instance_id
    assert len(tasks) == INSTANCES and {t.status for t in tasks} == {"completed"}
    assert {t.completed_by for t in tasks} <= set(CLERKS)

    pids = served_by(tmp_path / "access.log")
    assert sum(pids.values()) == len(api.statuses)  # every request we made is in the log, with its worker
    assert len(pids) > 1, pids  # the requests were spread over several web processes
    assert {int(p) for p in pids} <= web_pids, (pids, web_pids)  # and those were gunicorn's workers
