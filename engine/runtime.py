"""The engine: start instances, run them to their next wait state, complete human tasks, deliver messages, fire
timers, raise and retry incidents. Every method works inside the caller's transaction and never commits.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from core import clock
from core.errors import Conflict, InvalidInput, NotFound
from engine.actions import TaskActions
from engine.errors import InstanceNotActive
from engine.inbox import Inbox
from engine.messaging import Messaging
from engine.models import HumanTask, Incident, MessageSubscription, ProcessDefinition
from engine.operators import OperatorRegistry
from engine.projection import all_tasks
from engine.script_engine import ScriptEngine
from engine.serialization import SpecCache, dump_state, load_state
from engine.stepping import ACTIVE, Step, Stepping
from engine.store import (
    InstanceRecord,
    drop_candidates_of_closed,
    fetch_instance,
    insert_history,
    update_instance,
)
from engine.timers import Timers, pass_start_timers, prime_start_cycles

_definitions = ProcessDefinition.__table__
_LATEST_DEFINITION = (select(_definitions.c.id, _definitions.c.key, _definitions.c.version)
                      .where(_definitions.c.key == bindparam("key"))
                      .order_by(_definitions.c.version.desc()).limit(1))


class Engine(TaskActions, Inbox, Stepping, Messaging, Timers):
    def __init__(self, operators: OperatorRegistry | None = None, forms=None, *,
                 groups_of: Callable[[Session, str], set[str]] | None = None, script_cpu_seconds: float = 2.0,
                 listeners: list | None = None, script_globals: dict | None = None,
                 user_exists: Callable[[Session, str], bool] | None = None,
                 delegations: Callable[[Session, datetime], list[tuple[str, str, str | None]]] | None = None):
        from forms import default_catalog

        self.operators = operators or OperatorRegistry()
        self.forms = forms or default_catalog()
        self.groups_of = groups_of or (lambda session, user: set())
        #: whether a username names a (current) user: the target of a transfer, delegation, signer or copy
        self.user_exists = user_exists or (lambda session, user: True)
        #: the standing delegations (代理) in force at a time: (delegator, delegate, process key or None)
        self.delegations = delegations
        self.script_engine = ScriptEngine(self.operators, cpu_seconds=script_cpu_seconds, extra_globals=script_globals)
        #: callables (session, EngineEvent) told of new tasks, completions and incidents (see engine.events)
        self.listeners = list(listeners or [])
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
              user: str | None = None, version: int | None = None, message=None,
              definition_id: int | None = None, scheduled: bool = False) -> InstanceRecord:
        """Start the latest (or the given) version of process `key` and run it to its first wait state."""
        if data is not None and not isinstance(data, dict):
            raise InvalidInput("start data must be a JSON object")
        if definition_id is not None:
            definition = session.execute(select(ProcessDefinition.id, ProcessDefinition.key, ProcessDefinition.version)
                                         .where(ProcessDefinition.id == definition_id)).first()
        elif version is None:
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
        step = Step(session, instance, workflow, user)
        step.event("started", data=data or {}, message=f"{key} v{definition.version}"
                   + (f" by message {message[0]}" if message else "") + (" by its timer start" if scheduled else ""))
        if scheduled:
            prime_start_cycles(workflow, clock.now())  # one occurrence: the one due now
            self._run(step)  # reach the timer start event that scheduled this instance, then pass it
            pass_start_timers(workflow, clock.now())
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

    # ------------------------------------------------------------------ incidents and administration

    def retry(self, session, instance_id: int, user: str | None = None) -> InstanceRecord:
        instance, workflow = self.load(session, instance_id)
        if instance.status == "suspended":
            raise InstanceNotActive(f"instance {instance_id} is suspended; resume it first")
        incidents = session.execute(select(Incident.id, Incident.error_type).where(
            Incident.instance_id == instance_id, Incident.open.is_(True))).all()
        if not incidents:
            raise Conflict(f"instance {instance_id} has no open incident")
        step = Step(session, instance, workflow, user)
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
        drop_candidates_of_closed(session, instance_id)
        session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == instance_id))
        return self._set_status(session, instance, "terminated", "terminated", user, reason)

    @staticmethod
    def _has_open_incident(session, instance_id) -> bool:
        return session.scalar(select(Incident.id).where(Incident.instance_id == instance_id,
                                                        Incident.open.is_(True)).limit(1)) is not None
