"""Messages: delivery through the subscription table, message start events, payloads joining the data."""
from __future__ import annotations

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine.errors import MessageNotDelivered
from engine.models import MessageSubscription, ProcessDefinition
from engine.projection import (
    all_tasks,
    correlation_key,
    message_definitions,
    waiting_message_tasks,
)
from engine.stepping import ACTIVE, Step


class Messaging:
    """The Engine's message half (a mixin: `self` is the Engine)."""

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
            waiting = [t for t in waiting_message_tasks(workflow) if message_definitions(t, name)]
            if not waiting:
                continue
            step = Step(session, instance, workflow, user)
            # the correlation values travel with the message (SpiffWorkflow reads them from the payload)
            workflow.catch(BpmnEvent(message_definitions(waiting[0], name)[0],
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
            for definition in message_definitions(task, name):
                if (task.state != TaskState.WAITING and getattr(definition, "message_var", None) is None
                        and not task.has_state(TaskState.FINISHED_MASK)):
                    task.data.update(payload)

