"""Our task-spec classes and the parser that uses them.

Service tasks call the application's operators directly and keep the Python result (SpiffWorkflow's stock
service task expects a JSON string back and loses Decimal and date values on the way).
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.specs.defaults import ServiceTask as SpiffServiceTask


class BpmnError(Exception):
    """Raised by an operator to signal a business error that a boundary error event may catch by `code`."""

    def __init__(self, code: str, message: str = "", data: dict | None = None):
        super().__init__(message or code)
        self.code = code
        self.data = data or {}


class ServiceTask(SpiffServiceTask):
    def _execute(self, task):
        params = {name: p["value"] for name, p in self.evaluate_params(task).items()}
        try:
            result = task.workflow.script_engine.call_operator(task, self.operation_name, params)
        except Exception as exc:
            boundary = _catching_error_boundary(task, _error_code(exc))
            if boundary is None:
                raise  # no boundary catches it: an incident, which can be retried
            _throw_bpmn_error(task, exc, boundary)
            return None  # the boundary event takes over and cancels this task
        task.data[self.result_variable] = result
        return True


def _error_code(exc: Exception) -> str:
    """A BpmnError carries its code; any other exception is known by its class name."""
    return exc.code if isinstance(exc, BpmnError) else type(exc).__name__


def _catching_error_boundary(task, code: str):
    """The error event definition of a boundary event on `task` that catches `code`, if any."""
    parent = task.parent
    if parent is None or not isinstance(parent.task_spec, BoundaryEventSplit):
        return None
    for sibling in parent.children:
        definition = getattr(sibling.task_spec, "event_definition", None)
        if sibling is not task and isinstance(definition, ErrorEventDefinition) and definition.code in (None, code):
            return definition
    return None


def _throw_bpmn_error(task, exc: Exception, boundary) -> None:
    code = _error_code(exc)
    payload = {"error_code": code, "error_message": str(exc)}
    if isinstance(exc, BpmnError):
        payload.update(exc.data)
    # thrown with the catcher's own definition class: SpiffWorkflow matches events by class and code
    definition = type(boundary)(boundary.name, code=code)
    task.workflow.top_workflow.catch(BpmnEvent(definition, payload=payload, target=task.workflow))
    if getattr(boundary, "variable", None) is None:  # no variable named in the diagram: merge into the data
        for sibling in task.parent.children:
            if getattr(sibling.task_spec, "event_definition", None) is boundary:
                sibling.data.update(payload)


class Parser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ServiceTaskParser, ServiceTask),
    }
