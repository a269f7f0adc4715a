"""What the database shows of a workflow: its ready human tasks, its message subscriptions and its timers.

Each is derived from the live tasks after every engine run; flags in a task's internal data say what has
already been written, so a save writes only the difference.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import quote

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from core import clock
from engine.parsing import form_key_of, properties_of

INBOX_FLAG = "erp_inbox"
SUBSCRIBED_FLAG = "erp_subscribed"
DEFAULT_PRIORITY = 50


def all_tasks(workflow):
    """Every task of the workflow and its subprocesses (flat: compaction keeps these lists short)."""
    yield from workflow.tasks.values()
    for sub in workflow.subprocesses.values():
        yield from sub.tasks.values()


def ready_human_tasks(workflow):
    return [t for t in all_tasks(workflow) if t.state == TaskState.READY and t.task_spec.manual]


def waiting_message_tasks(workflow):
    return [
        t for t in workflow.event_manager.tasks.values()
        if t.state == TaskState.WAITING and message_definitions(t)
    ]


def event_definitions(task) -> list:
    """A catching task's event definitions; an event-based gateway waits on several at once."""
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition] if definition is not None else []


def message_definitions(task, name: str | None = None) -> list:
    return [d for d in event_definitions(task)
            if isinstance(d, MessageEventDefinition) and (name is None or d.name == name)]


def element_id(task) -> str:
    return task.task_spec.bpmn_id or task.task_spec.name


def human_task_fields(task, script_engine) -> dict:
    """Assignment, form, due date and priority of a ready user/manual task, from its spiffworkflow:properties
    (values are expressions over the task data, like every other expression in a diagram)."""
    props = properties_of(task.task_spec)

    def expr(name):
        source = props.get(name)
        if not source:
            return None
        return script_engine.evaluate(task, source)

    lane = task.task_spec.lane
    assignee = expr("assignee")
    return {
        "spiff_task_id": str(task.id),
        "element_id": element_id(task),
        "name": task.task_spec.bpmn_name or element_id(task),
        "form_key": form_key_of(task.task_spec),
        "lane": lane,
        "candidate_users": _names(expr("candidateUsers")),
        "candidate_groups": sorted({*([lane] if lane else []), *_names(expr("candidateGroups"))}),
        "assignee": str(assignee) if assignee else None,
        "excluded_users": _names(expr("excludedUsers")),
        "due_at": _due(expr("dueDate")) or boundary_timer_due(task),
        "priority": int(expr("priority") or DEFAULT_PRIORITY) if props.get("priority") else DEFAULT_PRIORITY,
    }


def boundary_timer_due(task) -> datetime | None:
    """Without a dueDate property, a task is due when the earliest timer drawn on its boundary fires."""
    parent = task.parent
    if parent is None or type(parent.task_spec).__name__ != "BoundaryEventSplit":
        return None
    dues = [timer_due(sibling) for sibling in parent.children if sibling is not task
            and isinstance(getattr(sibling.task_spec, "event_definition", None), TimerEventDefinition)]
    dues = [d for d in dues if d is not None]
    return min(dues) if dues else None


def _names(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def _due(value) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=clock.now().tzinfo)
    if isinstance(value, date):
        return datetime.combine(value, datetime.max.time(), tzinfo=clock.now().tzinfo)
    if isinstance(value, timedelta):
        return clock.now() + value
    if isinstance(value, str):
        if value.upper().startswith("P"):
            return clock.now() + TimerEventDefinition.get_timedelta_from_start(
                TimerEventDefinition.parse_iso_duration(value), clock.now())
        return _due(datetime.fromisoformat(value))
    raise ValueError(f"due date must be a date, datetime, ISO string or duration, not {value!r}")


def correlation_key(values: dict) -> str:
    """Canonical text of correlation values: sorted, each value as text, so 42 and "42" match."""
    return "&".join(f"{quote(str(k))}={quote(str(v))}" for k, v in sorted(values.items()) if v is not None)


def subscription_correlation(task, definition, script_engine) -> dict:
    """The values a waiting message event expects: those already correlated in this workflow, else its
    retrieval expressions evaluated over the instance's own data (a payload carrying `order_id` correlates
    with an instance whose data has the same `order_id`)."""
    known = {}
    for props in task.workflow.correlations.values():
        known.update(props)
    values = {}
    for prop in [*definition.correlation_properties, *getattr(definition, "process_correlations", [])]:
        if prop.name in known:
            values[prop.name] = known[prop.name]
            continue
        try:
            values[prop.name] = script_engine.environment.evaluate(prop.retrieval_expression, dict(task.data))
        except Exception:
            values[prop.name] = None
    return values


def timers(workflow) -> list[dict]:
    """The waiting timers of the workflow with their due time."""
    found = []
    for task in workflow.event_manager.tasks.values():
        definition = next((d for d in event_definitions(task) if isinstance(d, TimerEventDefinition)), None)
        if task.state != TaskState.WAITING or definition is None:
            continue
        due = timer_due(task)
        kind = type(definition).__name__.replace("TimerEventDefinition", "").replace("TimeDate", "Date")
        found.append({"element_id": element_id(task), "spiff_task_id": str(task.id), "due_at": due,
                      "kind": kind or "Timer"})
    return found


def timer_due(task) -> datetime | None:
    value = task.internal_data.get("event_value")
    if isinstance(value, dict):  # cycle timers keep {'cycles', 'next', 'duration'}
        value = value.get("next") if value.get("cycles", 0) != 0 else None
    if value is None:
        return None
    try:
        due = TimerEventDefinition.get_datetime(value)
    except (TypeError, ValueError):
        due = TimerEventDefinition.parse_time_or_duration(value)
    return due


def next_timer(workflow) -> datetime | None:
    dues = [t["due_at"] for t in timers(workflow) if t["due_at"] is not None]
    return min(dues) if dues else None
