"""`erp bench inbox`: inbox and tasks-API server time on a large task table, and a process driven over HTTP.

Per backend (SQLite file, and PostgreSQL when reachable), in a fresh database:

1. Deploys `bench/diagrams/inbox_bench.bpmn` through the engine, then bulk-inserts SYNTHETIC rows: `--tasks`
   open human tasks over one synthetic process instance per 10 tasks (the inbox never loads instance state, so
   the instances carry an empty state), candidates spread over `--users` users and `--users / 10` groups (a mix
   of group tasks, candidate-user tasks, claimed tasks, tasks open to everyone; due dates, some overdue;
   priorities), and the users' group memberships. One measured user belongs to 50 groups.
2. Starts the app as `erp serve` does (waitress, in its own process: nothing outside the web layer imports
   it) on 127.0.0.1 and a free port; as one keep-alive HTTP client, logs in through the login form (with its
   CSRF token) and asks for the measured user's inbox page (three views) and the tasks API (bearer token),
   round-robin, `--requests` times each. Prints the server time (the app's `Server-Timing` header, commit
   included) and the client wall time, p50 and p95.
3. Drives a start → user task → script → end process through the API for `--http-seconds`: starts, then
   completes each started instance's task; prints the rates and the ratios to the peer's figures (SpiffArena,
   ../shared/DESIGN.md). The SQL statements per request come from a second, short-lived server with
   ERP_ECHO_SQL=1 (the app's engine logs each statement; transaction control is not counted, as in
   `erp bench engine`), so the logging does not slow the timed server.

Prints `name: value` lines; the ratios are what to compare across runs (the machine is noisy).
"""
from __future__ import annotations

import http.client
import itertools
import json
import math
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import func, insert, select, text

from bench.engine import _databases
from core import clock, db
from core.migrate import upgrade
from engine.deploy import read_paths
from engine.models import HumanTask, ProcessDefinition, ProcessInstance, TaskCandidate
from engine.store import EVERYONE

DIAGRAM = Path(__file__).parent / "diagrams" / "inbox_bench.bpmn"
ROOT = Path(__file__).resolve().parent.parent
APPROVAL_KEY = "bench_inbox_approval"
HTTP_KEY = "bench_http"
USER = "bench_lead"
PASSWORD = "bench-password-1"
TARGET_P95_MS = 50.0
#: SpiffArena through its HTTP API on the same process shape (../shared/DESIGN.md, "The peer to beat")
PEER = {"sqlite": {"starts_per_s": 22, "completions_per_s": 25},
        "postgresql": {"starts_per_s": 20, "completions_per_s": 18},
        "sql_per_start": 91, "sql_per_completion": 109}
BATCH = 5000
TASKS_PER_INSTANCE = 10
MEASURED_GROUPS = 50
WARM_UP = 5

#: name -> (path, authentication); the pages log in with a session cookie, the API with a bearer token
ENDPOINTS = {
    "inbox_page": ("/inbox", "session"),
    "inbox_group_priority": ("/inbox?view=group&sort=priority&desc=1", "session"),
    "inbox_overdue": ("/inbox?overdue=1", "session"),
    "tasks_api": ("/api/v1/tasks", "token"),
}


def run(tasks: int, users: int, requests: int, http_seconds: float, postgres_url: str | None, out=print) -> dict:
    figures = {}
    out(f"parameters: tasks={tasks} users={users} groups={_group_count(users)} requests={requests} "
        f"http_seconds={http_seconds}")
    out("note: the human_task, task_candidate and process_instance rows are synthetic (bulk-inserted, not "
        "started through the engine; instances carry no state)")
    for name, url, cleanup in _databases(postgres_url, out):
        try:
            figures.update(_measure(name, url, tasks, users, requests, http_seconds, out))
        finally:
            if db._default is not None and db._default.url == url:
                db._default.dispose()
                db._default = None
            cleanup()
            if name == "sqlite":  # the file is some 50 MB at the default size
                shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)
    return figures


def _group_count(users: int) -> int:
    return max(users // 10, 10)


def _measure(name, url, tasks, users, requests, http_seconds, out) -> dict:
    from erp.wiring import engine as wired_engine

    upgrade(url)
    database = db.configure(url)
    wired_engine.cache_clear()  # a fresh engine (and spec cache) per database
    engine = wired_engine()
    started = time.monotonic()
    with database.transaction() as session:
        engine.deploy(session, read_paths([DIAGRAM]))
    token, visible = _load(database, tasks, users)
    _analyze(database)
    figures = {f"{name}.setup_s": round(time.monotonic() - started, 1), f"{name}.visible_tasks": visible}
    for key, value in figures.items():
        out(f"{key}: {value}")

    with _server(url) as port:
        client = Client(port, token)
        client.login(USER, PASSWORD)
        figures.update(_inbox_figures(name, client, requests, out))
        figures.update(_http_figures(name, client, database, http_seconds, out))
        client.close()
    with _server(url, echo_sql=True) as (port, log):
        client = Client(port, token)
        client.login(USER, PASSWORD)
        figures.update(_sql_figures(name, client, log, out))
        client.close()
    return figures


def _analyze(database) -> None:
    """PostgreSQL: planner statistics and the visibility map (what autovacuum leaves after a bulk load)."""
    if not database.is_sqlite:
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


# ------------------------------------------------------------------------------------------------ data


def _load(database, tasks: int, users: int) -> tuple[str, int]:
    """Bulk-inserts the synthetic rows; creates the measured user (password, 50 groups, an API token).
    Returns the token and the number of tasks the measured user's inbox shows."""
    from erp.identity.models import Group, GroupMembership, User
    from erp.identity.services import create_token, ensure_user

    rnd = random.Random(20261126)
    now = clock.now()
    group_names = [f"grp{n:05d}" for n in range(_group_count(users))]
    user_names = [f"user{n:05d}" for n in range(users)]
    mine = sorted(rnd.sample(group_names, min(MEASURED_GROUPS, len(group_names) // 2)))
    with database.transaction() as session:
        definition_id = session.scalar(select(ProcessDefinition.id).where(ProcessDefinition.key == APPROVAL_KEY))
        _insert(session, Group, [{"name": g, "title_zh": f"组 {g}", "title_en": f"Group {g}"} for g in group_names])
        _insert(session, User, [{"username": u, "display_name": f"用户{u[4:]}", "email": f"{u}@example.cn",
                                 "locale": "zh_CN", "roles": ["employee"], "active": True, "created_at": now}
                                for u in user_names])
        user_ids = dict(session.execute(select(User.username, User.id)).all())
        _insert(session, GroupMembership, [
            {"user_id": user_ids[u], "group_name": g, "is_lead": False}
            for u in user_names for g in rnd.sample(group_names, rnd.randint(1, 3))])
        user = ensure_user(session, USER, "王芳 (bench)", groups=mine, roles=["employee"], password=PASSWORD)
        token = create_token(session, user, "erp bench inbox")

    instances = math.ceil(tasks / TASKS_PER_INSTANCE)
    with database.transaction() as session:
        _insert(session, ProcessInstance, [
            {"id": i + 1, "definition_id": definition_id, "process_key": APPROVAL_KEY,
             "business_key": f"PR-2026-{i + 1:06d}", "status": "running", "state": "{}", "lock_version": 1,
             "started_by": rnd.choice(user_names), "started_at": now - timedelta(days=rnd.uniform(0, 30)),
             "updated_at": now} for i in range(instances)])
    candidates_total = 0
    for first in range(0, tasks, BATCH):
        task_rows, candidate_rows = [], []
        for n in range(first, min(first + BATCH, tasks)):
            row, candidates = _task(rnd, n, now, user_names, group_names)
            task_rows.append(row)
            candidate_rows.extend({"id": candidates_total + k + 1, "task_id": n + 1, **c}
                                  for k, c in enumerate(candidates))
            candidates_total += len(candidates)
        with database.transaction() as session:
            _insert(session, HumanTask, task_rows)
            _insert(session, TaskCandidate, candidate_rows)
    if not database.is_sqlite:  # explicit ids: move the sequences past them for the rows the HTTP phase adds
        with database.engine.begin() as conn:
            for table in ("process_instance", "human_task", "task_candidate"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
    from engine import worklist

    with database.transaction(readonly=True) as session:
        _, visible = worklist.inbox(session, USER, set(mine), worklist.InboxFilter(), now=clock.now())
    return token, visible


def _task(rnd, n, now, user_names, group_names) -> tuple[dict, list[dict]]:
    """One open task and its candidate rows: 55% offered to a group (some to two), 15% to 1-3 users, 4% to a
    user and a group, 25% claimed, 1% open to everyone. The measured user is occasionally the candidate or
    assignee; 70% have a due date between 10 days ago and 20 days ahead."""
    kind = rnd.random()
    groups, users, assignee = [], [], None
    if kind < 0.55:
        groups = rnd.sample(group_names, 2 if rnd.random() < 0.15 else 1)
    elif kind < 0.70:
        users = rnd.sample(user_names, rnd.randint(1, 3))
        if rnd.random() < 0.003:
            users[0] = USER
    elif kind < 0.74:
        users, groups = [rnd.choice(user_names)], [rnd.choice(group_names)]
    elif kind < 0.99:
        groups = [rnd.choice(group_names)]
        assignee = USER if rnd.random() < 0.005 else rnd.choice(user_names)
    created = now - timedelta(days=rnd.uniform(0, 30))
    due = now + timedelta(days=rnd.uniform(-10, 20)) if rnd.random() < 0.7 else None
    row = {"id": n + 1, "instance_id": n // TASKS_PER_INSTANCE + 1, "spiff_task_id": str(uuid.UUID(int=n + 1)),
           "element_id": "approve", "name": rnd.choice(("审批 Approve", "复核 Review", "会签 Countersign")),
           "form_key": None, "lane": groups[0] if groups else None, "candidate_users": users,
           "candidate_groups": groups, "assignee": assignee, "due_at": due,
           "priority": rnd.choice((10, 30, 50, 50, 50, 70, 90)), "status": "open", "created_at": created,
           "claimed_at": created + timedelta(hours=1) if assignee else None}
    candidates = ([{"user_name": u, "group_name": None} for u in users]
                  + [{"user_name": None, "group_name": g} for g in groups])
    return row, candidates or [{"user_name": None, "group_name": EVERYONE}]


def _insert(session, model, rows: list[dict]) -> None:
    statement = insert(model.__table__)
    for first in range(0, len(rows), BATCH):
        session.execute(statement, rows[first:first + BATCH])


# ------------------------------------------------------------------------------------------------ HTTP


@contextmanager
def _server(url: str, echo_sql: bool = False):
    """`erp serve` on 127.0.0.1 and a free port, on the bench database; yields the port (and, with echo_sql,
    the path of the file its SQL log goes to)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = Path(tempfile.mkdtemp(prefix="erp-bench-serve-"))
    log_path = folder / "server.log"
    env = {**os.environ, "ERP_DATABASE_URL": url, "ERP_INSECURE_COOKIES": "1",
           "ERP_SECRET_KEY": secrets.token_hex(32), "ERP_ECHO_SQL": "1" if echo_sql else ""}
    with open(log_path, "wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "webapp.cli", "serve", "--host", "127.0.0.1",
                                   "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"erp serve did not start: {log_path.read_text()[-2000:]}") from None
                time.sleep(0.1)
        yield (port, log_path) if echo_sql else port
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(folder, ignore_errors=True)


class Client:
    """One keep-alive HTTP/1.1 connection with a cookie jar and an optional bearer token."""

    def __init__(self, port: int, token: str):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.token = token
        self.conn = self._connect()

    def _connect(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def request(self, method: str, path: str, *, auth: str = "session", form: dict | None = None,
                body: dict | None = None) -> tuple[int, dict, bytes, float, float | None]:
        """(status, headers, body, client ms, server ms from Server-Timing)."""
        headers = {"User-Agent": "erp-bench", "Accept": "text/html,application/json"}
        payload = None
        if form is not None:
            payload = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if auth == "token":
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=payload, headers=headers)
            response = self.conn.getresponse()
        except (ConnectionError, http.client.HTTPException):  # the server closed the idle connection
            self.conn.close()
            self.conn = self._connect()
            self.conn.request(method, path, body=payload, headers=headers)
            response = self.conn.getresponse()
        data = response.read()
        client_ms = (time.perf_counter() - started) * 1000
        if auth == "session":
            for header in response.headers.get_all("Set-Cookie") or []:
                for key, morsel in SimpleCookie(header).items():
                    self.cookies[key] = morsel.value
        timing = re.search(r"app;dur=([0-9.]+)", response.headers.get("Server-Timing", ""))
        return response.status, dict(response.headers), data, client_ms, float(timing.group(1)) if timing else None

    def login(self, username: str, password: str) -> None:
        """Through the login form, with the CSRF token it carries."""
        _, _, page, _, _ = self.request("GET", "/login")
        csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
        status, _, data, _, _ = self.request("POST", "/login", form={"username": username, "password": password,
                                                                     "csrf_token": csrf})
        if status != 302:
            raise RuntimeError(f"login failed: HTTP {status}: {data[:300]!r}")

    def close(self) -> None:
        self.conn.close()


# ------------------------------------------------------------------------------------------------ inbox


def _inbox_figures(name, client, requests, out) -> dict:
    endpoints = dict(ENDPOINTS)
    for endpoint, (path, auth) in list(endpoints.items()):  # warm up, and fail loudly on a broken page
        for _ in range(3):
            status, _, data, _, _ = client.request("GET", path, auth=auth)
            if status == 404 and endpoint == "tasks_api":
                out("tasks_api: not available")
                endpoints.pop(endpoint)
                break
            if status != 200:
                raise RuntimeError(f"{endpoint}: GET {path} -> HTTP {status}: {data[:500]!r}")
    server = {e: [] for e in endpoints}
    wall = {e: [] for e in endpoints}
    for _ in range(requests):  # round-robin, so a noisy moment hurts every endpoint alike
        for endpoint, (path, auth) in endpoints.items():
            status, _, _, client_ms, server_ms = client.request("GET", path, auth=auth)
            if status != 200 or server_ms is None:
                raise RuntimeError(f"{endpoint}: GET {path} -> HTTP {status} (Server-Timing: {server_ms})")
            server[endpoint].append(server_ms)
            wall[endpoint].append(client_ms)
    figures = {}
    for endpoint in endpoints:
        figures[f"{name}.{endpoint}.p50_ms"] = round(statistics.median(server[endpoint]), 1)
        figures[f"{name}.{endpoint}.p95_ms"] = round(_percentile(server[endpoint], 95), 1)
        figures[f"{name}.{endpoint}.client_p50_ms"] = round(statistics.median(wall[endpoint]), 1)
        figures[f"{name}.{endpoint}.client_p95_ms"] = round(_percentile(wall[endpoint], 95), 1)
        figures[f"{name}.{endpoint}.p95_target_met"] = \
            "yes" if figures[f"{name}.{endpoint}.p95_ms"] <= TARGET_P95_MS else "NO"
    for key, value in figures.items():
        out(f"{key}: {value}")
    return figures


def _percentile(values, pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(len(ordered) * pct / 100) - 1, 0)]


# ------------------------------------------------------------------------------------------------ HTTP process


def _http_figures(name, client, database, seconds, out) -> dict:
    try:
        for _ in range(WARM_UP):  # warm up: the spec cache, the connection pool, the statement caches
            _complete(client, _start(client)[1])
    except _Unavailable as exc:
        out(f"{name}.http: not available ({exc})")
        return {}
    started_ids = []
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        started_ids.append(_start(client))
    start_elapsed = time.perf_counter() - started
    started = time.perf_counter()
    for _, task_id in started_ids:
        _complete(client, task_id)
    complete_elapsed = time.perf_counter() - started
    with database.transaction(readonly=True) as session:
        done = session.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.process_key == HTTP_KEY, ProcessInstance.status == "completed"))
    if done != len(started_ids) + WARM_UP:
        raise RuntimeError(f"only {done - WARM_UP} of {len(started_ids)} instances completed")
    peer = PEER[name]
    starts = len(started_ids) / start_elapsed
    completions = len(started_ids) / complete_elapsed
    figures = {
        f"{name}.http_instances": len(started_ids),
        f"{name}.http_starts_per_s": round(starts, 1),
        f"{name}.http_completions_per_s": round(completions, 1),
        f"{name}.http_starts_vs_peer_ratio": round(starts / peer["starts_per_s"], 2),
        f"{name}.http_completions_vs_peer_ratio": round(completions / peer["completions_per_s"], 2),
    }
    for key, value in figures.items():
        out(f"{key}: {value}")
    return figures


class _Unavailable(Exception):
    pass


_amounts = itertools.count(1)


def _start(client) -> tuple[int, int]:
    """Start one bench_http instance through the API: (instance id, the id of its user task, from the answer)."""
    status, _, data, _, _ = client.request("POST", "/api/v1/instances", auth="token",
                                           body={"process_key": HTTP_KEY, "data": {"amount": next(_amounts)}})
    if status in (404, 405):
        raise _Unavailable(f"POST /api/v1/instances -> HTTP {status}")
    if status != 201:
        raise RuntimeError(f"POST /api/v1/instances -> HTTP {status}: {data[:500]!r}")
    shown = json.loads(data)
    return int(shown["id"]), int(shown["tasks"][0]["id"])


def _complete(client, task_id: int) -> None:
    status, _, data, _, _ = client.request("POST", f"/api/v1/tasks/{task_id}/complete", auth="token",
                                           body={"data": {"approved": True}})
    if status != 200:
        raise RuntimeError(f"POST /api/v1/tasks/{task_id}/complete -> HTTP {status}: {data[:500]!r}")


# ------------------------------------------------------------------------------------------------ SQL counts

_ECHO_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ INFO sqlalchemy\.engine\.Engine (.*)$")
_NOT_COUNTED = ("[", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
SQL_SAMPLES = 10


def _statements(log: Path) -> int:
    """Statements the app's engine logged so far (its echo: one record per statement, then one for its
    parameters; transaction control not counted)."""
    count = 0
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        found = _ECHO_RECORD.match(line)
        if found and not found.group(1).lstrip().upper().startswith(_NOT_COUNTED):
            count += 1
    return count


def _sql_figures(name, client, log: Path, out) -> dict:
    """SQL statements per request, from a server that logs its SQL (ERP_ECHO_SQL=1)."""
    def per_request(action) -> float:
        action()  # warm: first-use queries (the spec, the calendar) are not per request
        time.sleep(0.2)
        before = _statements(log)
        for _ in range(SQL_SAMPLES):
            action()
        time.sleep(0.2)  # the log is written by another process
        return (_statements(log) - before) / SQL_SAMPLES

    figures = {}
    for endpoint, (path, auth) in ENDPOINTS.items():
        status = client.request("GET", path, auth=auth)[0]
        if status == 200:
            figures[f"{name}.{endpoint}.sql_per_request"] = round(per_request(
                lambda p=path, a=auth: client.request("GET", p, auth=a)), 1)
    try:
        started = [_start(client)]
    except _Unavailable:
        return figures
    figures[f"{name}.sql_per_http_start"] = round(per_request(lambda: started.append(_start(client))), 1)
    pending = iter([task_id for _, task_id in started])
    figures[f"{name}.sql_per_http_completion"] = round(per_request(lambda: _complete(client, next(pending))), 1)
    figures[f"{name}.sql_per_http_start_vs_peer_ratio"] = \
        round(figures[f"{name}.sql_per_http_start"] / PEER["sql_per_start"], 3)
    figures[f"{name}.sql_per_http_completion_vs_peer_ratio"] = \
        round(figures[f"{name}.sql_per_http_completion"] / PEER["sql_per_completion"], 3)
    for key, value in figures.items():
        out(f"{key}: {value}")
    return figures
