"""Saving and loading workflows: the spec is serialized once per definition and never stored in an instance.

Instance state is SpiffWorkflow's own serialization minus `spec` and `subprocess_specs`; on load the cached
spec objects of the instance's definition are attached instead of being rebuilt from JSON.
"""
from __future__ import annotations

import copy
import json
import threading
from collections import OrderedDict
from datetime import date
from decimal import Decimal

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition

from engine.specs import ServiceTask

STATE_FORMAT = "erp-1"


class StatelessSpecWorkflowConverter(BpmnWorkflowConverter):
    """Leaves the spec out of the saved state and takes the cached one on load."""

    def to_dict(self, workflow):
        dct = super().to_dict(workflow)
        del dct["spec"], dct["subprocess_specs"]
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        if spec is None:
            return super().from_dict(dct)
        dct = dict(dct)
        dct["spec"] = None
        dct["subprocess_specs"] = {}
        return self._restore_with(dct, spec, subprocess_specs or {})

    def _restore_with(self, dct, spec, subprocess_specs):
        from uuid import UUID

        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dict(dct["subprocesses"]), workflow)
        workflow.bpmn_events = self.registry.restore(dct.get("bpmn_events", []))
        return workflow


def _build_registry():
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = StatelessSpecWorkflowConverter
    config[ServiceTask] = ServiceTaskConverter
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
    return registry


SERIALIZER = BpmnWorkflowSerializer(_build_registry())


def dump_state(workflow: BpmnWorkflow) -> str:
    return SERIALIZER.serialize_json(workflow)


def load_state(state: str, spec, subprocess_specs) -> BpmnWorkflow:
    dct = json.loads(state)
    dct.pop(SERIALIZER.VERSION_KEY, None)
    return SERIALIZER.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)


def dump_spec(spec, subprocess_specs) -> str:
    return json.dumps(
        {
            "format": STATE_FORMAT,
            "spec": SERIALIZER.to_dict(spec),
            "subprocess_specs": {k: SERIALIZER.to_dict(v) for k, v in subprocess_specs.items()},
        },
        cls=SERIALIZER._encoder_cls,
    )


def load_spec(text: str):
    dct = json.loads(text)
    spec = SERIALIZER.from_dict(dct["spec"])
    subprocess_specs = {k: SERIALIZER.from_dict(v) for k, v in dct["subprocess_specs"].items()}
    return spec, subprocess_specs


def _mutable_on_run(spec, subprocess_specs) -> bool:
    """SpiffWorkflow 3.2.0 changes the spec object the first time a message-start event subprocess is
    triggered, so such specs must not be shared between instances."""
    for s in [spec, *subprocess_specs.values()]:
        for task_spec in s.task_specs.values():
            if isinstance(task_spec, SubWorkflowTask) and task_spec.__class__.__name__ == "EventSubprocess":
                sub = subprocess_specs.get(task_spec.spec)
                if sub is None:
                    return True
                for inner in sub.task_specs.values():
                    if isinstance(inner, StartEvent) and isinstance(
                        getattr(inner, "event_definition", None), MessageEventDefinition
                    ):
                        return True
    return False


class SpecCache:
    """Parsed specs by definition id (bounded LRU, thread-safe); definitions are immutable, so never stale."""

    def __init__(self, size: int = 256):
        self._size = size
        self._items: OrderedDict[int, tuple] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, definition_id: int, load_text):
        with self._lock:
            item = self._items.get(definition_id)
            if item is not None:
                self._items.move_to_end(definition_id)
        if item is None:
            spec, subprocess_specs = load_spec(load_text())
            item = (spec, subprocess_specs, _mutable_on_run(spec, subprocess_specs))
            with self._lock:
                self._items[definition_id] = item
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
        spec, subprocess_specs, mutable = item
        if mutable:
            return copy.deepcopy((spec, subprocess_specs))
        return spec, subprocess_specs

    def put(self, definition_id: int, spec, subprocess_specs) -> None:
        with self._lock:
            self._items[definition_id] = (spec, subprocess_specs, _mutable_on_run(spec, subprocess_specs))
