"""Running an instance to its next wait state and saving what changed: history, incidents, the inbox
projection, message subscriptions, the next timer and the compacted state, in the caller's transaction."""
from __future__ import annotations

import traceback

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from core import clock
from engine.compaction import compact
from engine.delegation import hand_over
from engine.errors import MessageNotDelivered
from engine.events import INCIDENT_RAISED, INSTANCE_COMPLETED, TASK_CREATED, EngineEvent
from engine.models import HumanTask, MessageSubscription
from engine.projection import (
    INBOX_FLAG,
    SUBSCRIBED_FLAG,
    all_tasks,
    correlation_key,
    element_id,
    human_task_fields,
    message_definitions,
    next_timer,
    ready_human_tasks,
    subscription_correlation,
    waiting_message_tasks,
)
from engine.script_engine import RunContext, running
from engine.serialization import dump_state
from engine.store import (
    InstanceRecord,
    drop_candidates_of_closed,
    finish_task,
    insert_history,
    insert_human_tasks,
    insert_incidents,
    insert_instance,
    insert_subscriptions,
    update_instance,
)
from engine.values import jsonable

RECORDED_FLAG = "erp_h"
TIMER_CHANNEL = "erp_timers"  # PostgreSQL channel notified when an instance gets a (new) due timer
ACTIVE = ("running", "incident")  # statuses in which an instance takes tasks, messages and timers
COMPACT_EVERY = 40  # completed tasks between compactions inside one engine run


class UncaughtError(Exception):
    def __init__(self, event, task):
        code = getattr(event.event_definition, "code", None) or event.event_definition.name
        super().__init__(f"BPMN error {code!r} thrown by {element_id(task)} was not caught by any boundary "
                         f"or event subprocess")
        self.task = task


class Step:
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
        self.sent_messages: list[tuple[str, dict, dict]] = []  # by operators: (name, correlation, payload)
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



class Stepping:
    """The Engine's run-and-save half (a mixin: `self` is the Engine)."""

    def _run(self, step: Step) -> None:
        """Run engine steps to the next wait state; a failure becomes an incident, never a lost step."""
        workflow = step.workflow
        count = 0

        def after_task(task):
            nonlocal count
            for event in list(workflow.bpmn_events):
                if isinstance(event.event_definition, ErrorEventDefinition):
                    workflow.bpmn_events.remove(event)
                    raise UncaughtError(event, task)
            count += 1
            if count % COMPACT_EVERY == 0:
                self._record_finished(step)
                compact(workflow)

        ctx = RunContext(step.session, step.instance.id, step.instance.business_key, step.actor)
        try:
            with running(ctx):
                workflow.do_engine_steps(did_complete_task=after_task)
        except UncaughtError as exc:
            self._incident(step, exc, exc.task)
        except Exception as exc:  # any failure in a diagram's code or an operator
            self._incident(step, exc, None)
        step.thrown_messages.extend(e for e in workflow.get_events()
                                    if isinstance(e.event_definition, MessageEventDefinition))
        step.sent_messages.extend(ctx.messages)

    def _incident(self, step: Step, exc: Exception, task) -> None:
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

    def _record_finished(self, step: Step) -> None:
        """Write each finished BPMN element to the history once, before compaction can drop it."""
        for task in all_tasks(step.workflow):
            if (task.state == TaskState.COMPLETED and task.task_spec.bpmn_id
                    and not task.internal_data.get(RECORDED_FLAG)):
                task.internal_data[RECORDED_FLAG] = True
                if not task.task_spec.manual:
                    step.event("element_completed", task=task, actor="engine")

    def _save(self, step: Step) -> None:
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
            drop_candidates_of_closed(session, instance.id)
        if unsubscribed:
            session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == instance.id,
                                                              MessageSubscription.spiff_task_id.in_(unsubscribed)))
        task_ids = insert_human_tasks(session, instance.id, new_tasks)
        insert_subscriptions(session, instance.id, new_subs)
        insert_incidents(session, instance.id, step.incidents)
        insert_history(session, instance.id, step.history)
        if instance.next_timer_at is not None:
            self._timer_set(session, instance.next_timer_at)
        created = zip(task_ids, new_tasks, strict=True)
        self._emit(step, [(TASK_CREATED, {"id": task_id, **task}) for task_id, task in created]
                   + [(INCIDENT_RAISED, {k: i[k] for k in ("element_id", "error_type", "message")})
                      for i in step.incidents]
                   + ([(INSTANCE_COMPLETED, {})] if instance.status == "completed" else []))
        for message in step.thrown_messages:
            self._route_thrown(step, message)
        for name, correlation, payload in step.sent_messages:
            self._route(step, name, correlation, payload)

    def _emit(self, step: Step, events) -> None:
        instance = step.instance
        for kind, data in events:
            event = EngineEvent(kind, instance.id, instance.process_key, instance.business_key,
                                instance.started_by, data)
            for listener in self.listeners:
                listener(step.session, event)

    @staticmethod
    def _timer_set(session, due) -> None:
        """Wake sleeping workers: on PostgreSQL a NOTIFY, delivered when this transaction commits."""
        if session.get_bind().dialect.name == "postgresql":
            session.connection().exec_driver_sql(f"NOTIFY {TIMER_CHANNEL}")

    def _project_inbox(self, step: Step):
        now = clock.now()
        ready = ready_human_tasks(step.workflow)
        rows, new_ready = [], []
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
            new_ready.append(task)
        if rows and self.delegations is not None:
            self._hand_over(step, rows, new_ready, now)
        still_ready = {str(t.id) for t in ready}
        gone = sorted(step.inbox_before - still_ready - step.completed_inbox)
        return rows, gone

    def _hand_over(self, step: Step, rows: list[dict], tasks: list, now) -> None:
        """Standing delegation (代理) of the new inbox rows, each noted in the history as on behalf of."""
        standing = self.delegations(step.session, now)
        if not standing:
            return
        groups: dict[str, set[str]] = {}

        def groups_of(user):
            if user not in groups:
                groups[user] = set(self.groups_of(step.session, user))
            return groups[user]

        for row, task in zip(rows, tasks, strict=True):
            keys = {step.instance.process_key, task.workflow.spec.name}  # a called process counts by its own key
            handed = hand_over(row, [(a, b) for a, b, key in standing if key is None or key in keys], groups_of)
            row["on_behalf_of"] = handed or None
            for delegate, delegator in handed.items():
                step.event("task_on_behalf", task=task, actor="engine",
                           data={"to": delegate, "on_behalf_of": delegator},
                           message=f"{delegate} on behalf of {delegator} (代理)")

    def _project_subscriptions(self, step: Step):
        now = clock.now()
        waiting = waiting_message_tasks(step.workflow)
        rows = []
        for task in waiting:
            if task.internal_data.get(SUBSCRIBED_FLAG):
                continue
            for definition in message_definitions(task):
                values = subscription_correlation(task, definition, self.script_engine)
                rows.append(dict(message_name=definition.name, correlation_key=correlation_key(values),
                                 element_id=element_id(task), spiff_task_id=str(task.id), created_at=now))
            task.internal_data[SUBSCRIBED_FLAG] = True
        current = {str(t.id) for t in waiting}
        return rows, sorted(step.subscribed_before - current)

    def _route_thrown(self, step: Step, event) -> None:
        """A message thrown by one instance goes to the instances (or start events) waiting for it."""
        values = {}
        for props in (event.correlations or {}).values():
            values.update(props)
        self._route(step, event.event_definition.name, values,
                    event.payload if isinstance(event.payload, dict) else {"payload": event.payload})

    def _route(self, step: Step, name: str, correlation: dict, payload: dict) -> None:
        try:
            self.deliver_message(step.session, name, correlation, payload, user=step.actor)
        except MessageNotDelivered as exc:
            insert_history(step.session, step.instance.id, [dict(at=clock.now(), kind="message_undelivered",
                                                                 actor="engine", message=str(exc))])


