"""The engine: start instances, run them to their next wait state, complete human tasks, deliver messages, fire
timers, raise and retry incidents. Every method works inside the caller's transaction and never commits.
"""
from __future__ import annotations

import traceback
from datetime import datetime
from typing import Callable

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from core import clock
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine.compaction import compact
from engine.errors import InstanceNotActive, MessageNotDelivered
from engine.models import HumanTask, Incident, MessageSubscription, ProcessDefinition, ProcessInstance
from engine.operators import OperatorRegistry
from engine.projection import (
    INBOX_FLAG,
    SUBSCRIBED_FLAG,
    all_tasks,
    correlation_key,
    element_id,
    human_task_fields,
    next_timer,
    ready_human_tasks,
    subscription_correlation,
    timers,
    waiting_message_tasks,
)
from engine.script_engine import RunContext, ScriptEngine, running
from engine.serialization import SpecCache, dump_state, load_state
from engine.store import (
    InstanceRecord,
    INSTANCE_COLUMNS,
    fetch_instance,
    finish_task,
    insert_history,
    insert_human_tasks,
    insert_incidents,
    insert_instance,
    insert_subscriptions,
    record_from,
    update_instance,
)
from engine.values import jsonable

RECORDED_FLAG = "erp_h"
_TASK_COLUMNS = [HumanTask.__table__.c[name] for name in (
    "id", "instance_id", "spiff_task_id", "element_id", "form_key", "status", "assignee", "candidate_users",
    "candidate_groups")]
_definitions = ProcessDefinition.__table__
_LATEST_DEFINITION = (select(_definitions.c.id, _definitions.c.key, _definitions.c.version)
                      .where(_definitions.c.key == bindparam("key"))
                      .order_by(_definitions.c.version.desc()).limit(1))
_SELECT_TASK = (select(*_TASK_COLUMNS, *INSTANCE_COLUMNS)
                .join_from(HumanTask.__table__, ProcessInstance.__table__,
                           ProcessInstance.__table__.c.id == HumanTask.__table__.c.instance_id)
                .where(HumanTask.__table__.c.id == bindparam("task_id")))

ACTIVE = ("running", "incident")
COMPACT_EVERY = 40  # completed tasks between compactions inside one engine run


class _UncaughtError(Exception):
    def __init__(self, event, task):
        code = getattr(event.event_definition, "code", None) or event.event_definition.name
        super().__init__(f"BPMN error {code!r} thrown by {element_id(task)} was not caught by any boundary "
                         f"or event subprocess")
        self.task = task


class _Step:
    """One load → run → save of an instance inside the caller's transaction."""

    def __init__(self, session: Session, instance: InstanceRecord, workflow: BpmnWorkflow, actor: str | None):
        self.session = session
        self.instance = instance
        self.workflow = workflow
        self.actor = actor
        self.history: list[dict] = []
        self.completed_inbox: set[str] = set()
        self.inbox_before = {str(t.id) for t in ready_human_tasks(workflow) if t.internal_data.get(INBOX_FLAG)}
        self.subscribed_before = {str(t.id) for t in waiting_message_tasks(workflow)
                                  if t.internal_data.get(SUBSCRIBED_FLAG)}
        self.thrown_messages: list = []
        self.incidents: list[dict] = []
        self.finish_task: dict | None = None  # the inbox row this step completes

    def event(self, kind, *, task=None, element=None, data=None, message=None, actor=None):
        self.history.append(dict(
            at=clock.now(), kind=kind, actor=actor if actor is not None else self.actor,
            element_id=element or (element_id(task) if task is not None else None),
            element_type=type(task.task_spec).__name__ if task is not None else None,
            spiff_task_id=str(task.id) if task is not None else None,
            data=jsonable(data) if data is not None else None, message=message,
        ))


class Engine:
    def __init__(self, operators: OperatorRegistry | None = None, forms=None, *,
                 groups_of: Callable[[Session, str], set[str]] | None = None, script_cpu_seconds: float = 2.0):
        from forms import default_catalog

        self.operators = operators or OperatorRegistry()
        self.forms = forms or default_catalog()
        self.groups_of = groups_of or (lambda session, user: set())
        self.script_engine = ScriptEngine(self.operators, cpu_seconds=script_cpu_seconds)
        self.specs = SpecCache()

    # ------------------------------------------------------------------ definitions and instances

    def deploy(self, session, sources, *, user=None, comment=None):
        from engine.deploy import deploy

        return deploy(self, session, sources, user=user, comment=comment)

    def latest_definition(self, session, key: str):
        """(id, key, version) of the newest version of `key`."""
        definition = session.connection().execute(_LATEST_DEFINITION, {"key": key}).first()
        if definition is None:
            raise NotFound(f"no process definition with key {key!r} is deployed")
        return definition

    def _spec(self, session, definition_id: int):
        return self.specs.get(definition_id, lambda: session.scalar(
            select(ProcessDefinition.spec).where(ProcessDefinition.id == definition_id)))

    def start(self, session, key: str, data: dict | None = None, *, business_key: str | None = None,
              user: str | None = None, version: int | None = None, message=None) -> InstanceRecord:
        """Start the latest (or the given) version of process `key` and run it to its first wait state."""
        if data is not None and not isinstance(data, dict):
            raise InvalidInput("start data must be a JSON object")
        if version is None:
            definition = self.latest_definition(session, key)
        else:
            definition = session.execute(select(ProcessDefinition.id, ProcessDefinition.key,
                                                ProcessDefinition.version)
                                         .where(ProcessDefinition.key == key,
                                                ProcessDefinition.version == version)).first()
            if definition is None:
                raise NotFound(f"process {key!r} has no version {version}")
        spec, subprocess_specs = self._spec(session, definition.id)
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=self.script_engine)
        start_task = next(t for t in workflow.tasks.values() if t.state == TaskState.READY)
        start_task.data.update(data or {})
        now = clock.now()
        instance = InstanceRecord(id=None, definition_id=definition.id, process_key=key, business_key=business_key,
                                  status="running", state="", lock_version=1, started_by=user, started_at=now,
                                  updated_at=now)
        step = _Step(session, instance, workflow, user)
        step.event("started", data=data or {}, message=f"{key} v{definition.version}"
                   + (f" by message {message[0]}" if message else ""))
        if message is not None:
            self._run(step)  # reach the message start event, then hand it the message
            name, definition_obj, payload = message
            workflow.catch(BpmnEvent(definition_obj, payload=payload))
            self._merge_message_payload(workflow, name, payload)
        self._run(step)
        self._save(step)
        return instance

    def load(self, session, instance_id: int) -> tuple[InstanceRecord, BpmnWorkflow]:
        instance = fetch_instance(session, instance_id)
        return instance, self._workflow(session, instance)

    def _workflow(self, session, instance) -> BpmnWorkflow:
        spec, subprocess_specs = self._spec(session, instance.definition_id)
        workflow = load_state(instance.state, spec, subprocess_specs)
        workflow.script_engine = self.script_engine
        return workflow

    # ------------------------------------------------------------------ human tasks

    def claim(self, session, task_id: int, user: str) -> HumanTask:
        task = self._open_task(session, task_id)
        if task.assignee and task.assignee != user:
            raise Conflict(f"task {task_id} is already claimed by {task.assignee}")
        self._check_candidate(session, task, user)
        claimed = session.execute(update(HumanTask).where(
            HumanTask.id == task_id, HumanTask.status == "open",
            (HumanTask.assignee.is_(None)) | (HumanTask.assignee == user)).values(
            assignee=user, claimed_at=clock.now()))
        if claimed.rowcount != 1:
            raise Conflict(f"task {task_id} was claimed or completed by someone else just now")
        insert_history(session, task.instance_id, [dict(at=clock.now(), kind="task_claimed", actor=user,
                                                        element_id=task.element_id,
                                                        spiff_task_id=task.spiff_task_id)])
        return task

    def unclaim(self, session, task_id: int, user: str) -> HumanTask:
        task = self._open_task(session, task_id)
        if task.assignee != user:
            raise PermissionDenied(f"task {task_id} is not claimed by {user}")
        session.execute(update(HumanTask).where(HumanTask.id == task_id, HumanTask.assignee == user)
                        .values(assignee=None, claimed_at=None))
        insert_history(session, task.instance_id, [dict(at=clock.now(), kind="task_unclaimed", actor=user,
                                                        element_id=task.element_id,
                                                        spiff_task_id=task.spiff_task_id)])
        return task

    def complete(self, session, task_id: int, data: dict | None, user: str) -> InstanceRecord:
        """Complete a human task with the submitted data and run the instance to its next wait state."""
        row = session.connection().execute(_SELECT_TASK, {"task_id": task_id}).first()
        if row is None:
            raise NotFound(f"task {task_id} not found")
        task, instance = row, record_from(row[len(_TASK_COLUMNS):])
        if task.status != "open":
            raise Conflict(f"task {task_id} is already {task.status}")
        if instance.status not in ACTIVE:
            raise InstanceNotActive(f"instance {instance.id} is {instance.status}")
        self._check_candidate(session, task, user)
        data = data or {}
        if not isinstance(data, dict):
            raise InvalidInput("task data must be a JSON object")
        if task.form_key:
            self.forms.validate(task.form_key, data)
        workflow = self._workflow(session, instance)
        spiff_task = workflow.get_task_from_id(_uuid(task.spiff_task_id))
        if spiff_task is None or spiff_task.state != TaskState.READY:
            raise Conflict(f"task {task_id} is no longer waiting (the instance moved on)")
        step = _Step(session, instance, workflow, user)
        spiff_task.task_spec.add_data_from_form(spiff_task, data) if hasattr(
            spiff_task.task_spec, "add_data_from_form") else spiff_task.update_data(data)
        spiff_task.run()
        step.completed_inbox.add(task.spiff_task_id)
        step.finish_task = {"id": task.id, "user": user}
        step.event("task_completed", task=spiff_task, data=data)
        self._run(step)
        self._save(step)
        return instance

    def _open_task(self, session, task_id) -> HumanTask:
        task = session.get(HumanTask, task_id)
        if task is None:
            raise NotFound(f"task {task_id} not found")
        if task.status != "open":
            raise Conflict(f"task {task_id} is already {task.status}")
        return task

    def may_work_on(self, session, task: HumanTask, user: str) -> bool:
        if task.assignee:
            return task.assignee == user
        if not task.candidate_users and not task.candidate_groups:
            return True  # nobody named in the diagram: anyone may take it
        if user in task.candidate_users:
            return True
        return bool(task.candidate_groups and set(task.candidate_groups) & self.groups_of(session, user))

    def _check_candidate(self, session, task, user):
        if not user:
            raise PermissionDenied("a user is required")
        if not self.may_work_on(session, task, user):
            who = task.assignee or ", ".join([*task.candidate_users, *task.candidate_groups])
            raise PermissionDenied(f"{user} may not work on task {task.id} (it is for {who})")

    # ------------------------------------------------------------------ messages and timers

    def deliver_message(self, session, name: str, correlation: dict | None = None, data: dict | None = None,
                        user: str | None = None) -> dict:
        """Deliver a message to every instance waiting for it with these correlation values; if none waits,
        start the processes that begin with it; if neither, raise MessageNotDelivered."""
        key = correlation_key(correlation or {})
        payload = data or {}
        instance_ids = session.scalars(
            select(MessageSubscription.instance_id).distinct()
            .where(MessageSubscription.message_name == name, MessageSubscription.correlation_key == key)
            .order_by(MessageSubscription.instance_id)).all()
        delivered, skipped = [], []
        for instance_id in instance_ids:
            instance, workflow = self.load(session, instance_id)
            if instance.status not in ACTIVE:
                skipped.append(instance_id)
                continue
            waiting = [t for t in waiting_message_tasks(workflow) if t.task_spec.event_definition.name == name]
            if not waiting:
                continue
            step = _Step(session, instance, workflow, user)
            # the correlation values travel with the message (SpiffWorkflow reads them from the payload)
            workflow.catch(BpmnEvent(waiting[0].task_spec.event_definition,
                                     payload={**(correlation or {}), **payload},
                                     correlations={k: dict(v) for k, v in workflow.correlations.items()}))
            self._merge_message_payload(workflow, name, payload, waiting)
            step.event("message_received", task=waiting[0], data={"name": name, "correlation": correlation or {},
                                                                  "payload": payload})
            self._run(step)
            self._save(step)
            delivered.append(instance_id)
        started = []
        if not delivered:
            for definition in self._message_start_definitions(session, name):
                spec, _ = self._spec(session, definition.id)
                start_def = next(ts.event_definition for ts in spec.task_specs.values()
                                 if isinstance(ts, StartEvent)
                                 and isinstance(getattr(ts, "event_definition", None), MessageEventDefinition)
                                 and ts.event_definition.name == name)
                instance = self.start(session, definition.key, {}, user=user,
                                      business_key=(correlation or {}).get("business_key"),
                                      message=(name, start_def, payload))
                started.append(instance.id)
        if not delivered and not started:
            detail = f" with correlation {key}" if key else ""
            extra = f" (instances {skipped} are suspended or ended)" if skipped else ""
            raise MessageNotDelivered(f"no instance is waiting for message {name!r}{detail} and no process "
                                      f"starts with it{extra}")
        return {"message": name, "correlation": correlation or {}, "delivered_to": delivered, "started": started}

    def _message_start_definitions(self, session, name):
        rows = session.execute(select(ProcessDefinition.id, ProcessDefinition.key, ProcessDefinition.version,
                                      ProcessDefinition.message_starts)).all()
        latest = {}
        for d in rows:
            if d.key not in latest or d.version > latest[d.key].version:
                latest[d.key] = d
        return [d for d in latest.values() if name in (d.message_starts or [])]

    @staticmethod
    def _merge_message_payload(workflow, name, payload, waiting=None):
        """Without a spiffworkflow:messageVariable the payload's fields join the catching task's data."""
        if not isinstance(payload, dict):
            return
        for task in waiting if waiting is not None else list(all_tasks(workflow)):
            definition = getattr(task.task_spec, "event_definition", None)
            if (isinstance(definition, MessageEventDefinition) and definition.name == name
                    and task.state != TaskState.WAITING and getattr(definition, "message_var", None) is None
                    and not task.has_state(TaskState.FINISHED_MASK)):
                task.data.update(payload)

    def fire_due_timers(self, session, now: datetime | None = None, limit: int = 100) -> list[int]:
        """Fire the timers due at `now` (default: the clock) and run their instances on; returns their ids.
        On PostgreSQL due instances are claimed with FOR UPDATE SKIP LOCKED, so workers never share one."""
        at = now or clock.now()
        query = (select(ProcessInstance.id).where(ProcessInstance.next_timer_at <= at,
                                                  ProcessInstance.status.in_(ACTIVE))
                 .order_by(ProcessInstance.next_timer_at).limit(limit))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        fired = []
        with clock.frozen(at):
            for instance_id in session.scalars(query).all():
                instance, workflow = self.load(session, instance_id)
                step = _Step(session, instance, workflow, None)
                due = [t for t in timers(workflow) if t["due_at"] is not None and t["due_at"] <= at]
                workflow.refresh_timers()
                for timer in due:  # a cycle timer keeps waiting after it fires, so judge by due time
                    step.event("timer_fired", task=workflow.get_task_from_id(_uuid(timer["spiff_task_id"])),
                               actor="scheduler", data={"due_at": timer["due_at"]})
                self._run(step)
                self._save(step)
                fired.append(instance_id)
        return fired

    # ------------------------------------------------------------------ incidents and administration

    def retry(self, session, instance_id: int, user: str | None = None) -> InstanceRecord:
        instance, workflow = self.load(session, instance_id)
        if instance.status == "suspended":
            raise InstanceNotActive(f"instance {instance_id} is suspended; resume it first")
        incidents = session.execute(select(Incident.id, Incident.error_type).where(
            Incident.instance_id == instance_id, Incident.open.is_(True))).all()
        if not incidents:
            raise Conflict(f"instance {instance_id} has no open incident")
        step = _Step(session, instance, workflow, user)
        session.execute(update(Incident).where(Incident.id.in_([i.id for i in incidents]))
                        .values(open=False, resolved_at=clock.now(), resolved_by=user))
        for task in all_tasks(workflow):
            if task.state == TaskState.ERROR:
                task._set_state(TaskState.READY)  # SpiffWorkflow has no public "retry" for a failed task
        instance.status = "running"
        step.event("retried", message=", ".join(f"#{i.id} {i.error_type}" for i in incidents))
        self._run(step)
        self._save(step)
        return instance

    def suspend(self, session, instance_id: int, user: str | None = None) -> InstanceRecord:
        instance = fetch_instance(session, instance_id)
        if instance.status not in ACTIVE:
            raise InstanceNotActive(f"instance {instance_id} is {instance.status}")
        return self._set_status(session, instance, "suspended", "suspended", user)

    def resume(self, session, instance_id: int, user: str | None = None) -> InstanceRecord:
        instance = fetch_instance(session, instance_id)
        if instance.status != "suspended":
            raise Conflict(f"instance {instance_id} is {instance.status}, not suspended")
        status = "incident" if self._has_open_incident(session, instance_id) else "running"
        return self._set_status(session, instance, status, "resumed", user)

    @staticmethod
    def _set_status(session, instance, status, kind, user, message=None) -> InstanceRecord:
        instance.status, instance.updated_at = status, clock.now()
        update_instance(session, instance)
        insert_history(session, instance.id, [dict(at=clock.now(), kind=kind, actor=user, message=message)])
        return instance

    def terminate(self, session, instance_id: int, user: str | None = None, reason: str | None = None):
        instance, workflow = self.load(session, instance_id)
        if instance.status in ("completed", "terminated"):
            raise InstanceNotActive(f"instance {instance_id} is already {instance.status}")
        workflow.cancel()
        instance.state = dump_state(workflow)
        instance.ended_at, instance.next_timer_at = clock.now(), None
        session.execute(update(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == "open")
                        .values(status="cancelled"))
        session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == instance_id))
        return self._set_status(session, instance, "terminated", "terminated", user, reason)

    @staticmethod
    def _has_open_incident(session, instance_id) -> bool:
        return session.scalar(select(Incident.id).where(Incident.instance_id == instance_id,
                                                        Incident.open.is_(True)).limit(1)) is not None

    # ------------------------------------------------------------------ running and saving

    def _run(self, step: _Step) -> None:
        """Run engine steps to the next wait state; a failure becomes an incident, never a lost step."""
        workflow = step.workflow
        count = 0

        def after_task(task):
            nonlocal count
            for event in list(workflow.bpmn_events):
                if isinstance(event.event_definition, ErrorEventDefinition):
                    workflow.bpmn_events.remove(event)
                    raise _UncaughtError(event, task)
            count += 1
            if count % COMPACT_EVERY == 0:
                self._record_finished(step)
                compact(workflow)

        ctx = RunContext(step.session, step.instance.id, step.instance.business_key, step.actor)
        try:
            with running(ctx):
                workflow.do_engine_steps(did_complete_task=after_task)
        except _UncaughtError as exc:
            self._incident(step, exc, exc.task)
        except Exception as exc:  # any failure in a diagram's code or an operator
            self._incident(step, exc, None)
        step.thrown_messages.extend(e for e in workflow.get_events()
                                    if isinstance(e.event_definition, MessageEventDefinition))

    def _incident(self, step: _Step, exc: Exception, task) -> None:
        if task is None:
            task = next((t for t in all_tasks(step.workflow) if t.state == TaskState.ERROR), None)
        # SpiffWorkflow wraps errors in diagram code; report the original error's type
        error_type = getattr(exc, "error_type", None) or type(exc).__name__
        message = str(exc)
        notes = getattr(exc, "__notes__", None)
        if notes:
            message += " (" + "; ".join(notes) + ")"
        incident = dict(element_id=element_id(task) if task is not None else None,
                        spiff_task_id=str(task.id) if task is not None else None,
                        error_type=error_type, message=message, created_at=clock.now(), open=True,
                        details="".join(traceback.format_exception(exc))[-8000:])
        step.instance.status = "incident"
        step.incidents.append(incident)
        step.event("incident_raised", task=task, message=f"{error_type}: {message}")

    def _record_finished(self, step: _Step) -> None:
        """Write each finished BPMN element to the history once, before compaction can drop it."""
        for task in all_tasks(step.workflow):
            if (task.state == TaskState.COMPLETED and task.task_spec.bpmn_id
                    and not task.internal_data.get(RECORDED_FLAG)):
                task.internal_data[RECORDED_FLAG] = True
                if not task.task_spec.manual:
                    step.event("element_completed", task=task, actor="engine")

    def _save(self, step: _Step) -> None:
        session, instance, workflow = step.session, step.instance, step.workflow
        self._record_finished(step)
        compact(workflow)
        new_tasks, gone = self._project_inbox(step)
        new_subs, unsubscribed = self._project_subscriptions(step)
        now = clock.now()
        instance.state = dump_state(workflow)
        instance.next_timer_at = next_timer(workflow)
        instance.updated_at = now
        if step.incidents:
            instance.status = "incident"
        elif workflow.completed:
            instance.status, instance.ended_at = "completed", now
            step.event("completed", actor="engine")
        if instance.id is None:
            insert_instance(session, instance)
        else:
            update_instance(session, instance)
        if step.finish_task is not None:
            finish_task(session, step.finish_task["id"], step.finish_task["user"], now)
        if gone:
            session.execute(update(HumanTask).where(HumanTask.instance_id == instance.id,
                                                    HumanTask.spiff_task_id.in_(gone))
                            .values(status="cancelled"))
        if unsubscribed:
            session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == instance.id,
                                                              MessageSubscription.spiff_task_id.in_(unsubscribed)))
        insert_human_tasks(session, instance.id, new_tasks)
        insert_subscriptions(session, instance.id, new_subs)
        insert_incidents(session, instance.id, step.incidents)
        insert_history(session, instance.id, step.history)
        for message in step.thrown_messages:
            self._route_thrown(step, message)

    def _project_inbox(self, step: _Step):
        now = clock.now()
        ready = ready_human_tasks(step.workflow)
        rows = []
        for task in ready:
            if task.internal_data.get(INBOX_FLAG):
                continue
            try:
                fields = human_task_fields(task, self.script_engine)
            except Exception as exc:  # a bad assignment expression must not lose the task
                fields = {"spiff_task_id": str(task.id), "element_id": element_id(task),
                          "name": task.task_spec.bpmn_name, "lane": task.task_spec.lane,
                          "candidate_groups": [task.task_spec.lane] if task.task_spec.lane else [],
                          "candidate_users": []}
                step.event("task_property_error", task=task, message=str(exc))
            task.internal_data[INBOX_FLAG] = True
            rows.append({"status": "open", "created_at": now, **fields})
        still_ready = {str(t.id) for t in ready}
        gone = sorted(step.inbox_before - still_ready - step.completed_inbox)
        return rows, gone

    def _project_subscriptions(self, step: _Step):
        now = clock.now()
        waiting = waiting_message_tasks(step.workflow)
        rows = []
        for task in waiting:
            if task.internal_data.get(SUBSCRIBED_FLAG):
                continue
            values = subscription_correlation(task, self.script_engine)
            rows.append(dict(message_name=task.task_spec.event_definition.name,
                             correlation_key=correlation_key(values), element_id=element_id(task),
                             spiff_task_id=str(task.id), created_at=now))
            task.internal_data[SUBSCRIBED_FLAG] = True
        current = {str(t.id) for t in waiting}
        return rows, sorted(step.subscribed_before - current)

    def _route_thrown(self, step: _Step, event) -> None:
        """A message thrown by one instance goes to the instances (or start events) waiting for it."""
        name = event.event_definition.name
        values = {}
        for props in (event.correlations or {}).values():
            values.update(props)
        try:
            self.deliver_message(step.session, name, values, event.payload if isinstance(event.payload, dict)
                                 else {"payload": event.payload}, user=step.actor)
        except MessageNotDelivered as exc:
            insert_history(step.session, step.instance.id, [dict(at=clock.now(), kind="message_undelivered",
                                                                 actor="engine", message=str(exc))])


def _uuid(text: str):
    from uuid import UUID

    return UUID(text)
