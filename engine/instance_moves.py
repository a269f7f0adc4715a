"""Moving running instances to another version of their process (移动实例).

An instance can move when each piece of its live work (a ready user task, a waiting event or timer, a running
call activity and what waits inside it) has an element with the same id, of the same kind, in the target
version. The move rebuilds the saved task tree against the target's spec: tasks predicted from the old
version's flows are dropped and predicted again from the new ones, finished tasks the new version no longer has
are cut out (their children keep their data), every other task takes the target's task spec of the same name.
Open inbox rows, message subscriptions and the next timer are then re-projected as after a normal step, and the
move is written to the instance's history.

Like engine.relocation this edits SpiffWorkflow 3.2.0's task tree directly, so the library stays pinned and
tests/integration/test_instance_moves.py pins the behaviour. Each instance moves in its own savepoint: a failure
leaves it exactly as it was.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, select, update

from core.errors import InvalidInput, NotFound
from engine.models import HumanTask, MessageSubscription, ProcessDefinition, ProcessInstance, TaskCandidate
from engine.projection import SUBSCRIBED_FLAG, human_task_fields
from engine.serialization import dump_state, load_state
from engine.stepping import Step
from engine.store import EVERYONE, fetch_instance

MOVABLE_STATUSES = ("running", "incident", "suspended")
_LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
_PREDICTED = TaskState.MAYBE | TaskState.LIKELY | TaskState.FUTURE


@dataclass
class TaskMapping:
    element_id: str
    name: str | None
    target_element_id: str | None  # None: the target version has no such element


@dataclass
class MovePreview:
    instance_id: int
    business_key: str | None
    from_version: int
    movable: bool
    reasons: list[str]
    tasks: list[TaskMapping]
    status: str = "running"


@dataclass
class MoveResult:
    instance_id: int
    moved: bool
    reason: str | None
    tasks: list[TaskMapping] = field(default_factory=list)


# ---------------------------------------------------------------- public API

def preview_moves(engine, session, *, from_definition_id: int, to_definition_id: int) -> list[MovePreview]:
    """For each unfinished instance of `from_definition_id`: can it move to `to_definition_id`, and where
    would its waiting tasks go. Nothing is written; each instance is moved in memory to find out."""
    source, target = _versions(session, from_definition_id, to_definition_id)
    rows = session.execute(select(ProcessInstance.id).where(
        ProcessInstance.definition_id == from_definition_id, ProcessInstance.status.in_(MOVABLE_STATUSES))
        .order_by(ProcessInstance.id)).scalars().all()
    previews = []
    for instance_id in rows:
        instance, workflow = engine.load(session, instance_id)
        plan = _Plan(engine, session, workflow, target)
        if not plan.reasons:
            plan.rehearse()
        previews.append(MovePreview(instance_id, instance.business_key, source.version, not plan.reasons,
                                    plan.reasons, plan.mapping, instance.status))
    return previews


def move_instances(engine, session, instance_ids: list[int], *, to_definition_id: int,
                   user: str) -> list[MoveResult]:
    """Move each instance to `to_definition_id` in its own savepoint; one that cannot move, or fails while
    moving, is reported with the reason and left exactly as it was."""
    target = _definition(session, to_definition_id)
    results = []
    for instance_id in instance_ids:
        try:
            with session.begin_nested():
                results.append(_move(engine, session, instance_id, target, user))
        except _NotMovable as exc:
            results.append(MoveResult(instance_id, False, str(exc), exc.mapping))
        except Exception as exc:  # whatever breaks one instance's move must not stop the others
            results.append(MoveResult(instance_id, False, f"the move failed and was undone: {exc}"))
    return results


# ---------------------------------------------------------------- one move

class _NotMovable(Exception):
    def __init__(self, reason: str, mapping=()):
        super().__init__(reason)
        self.mapping = list(mapping)


def _move(engine, session, instance_id: int, target: ProcessDefinition, user: str) -> MoveResult:
    instance = fetch_instance(session, instance_id)
    if instance.definition_id == target.id:
        raise _NotMovable(f"instance {instance_id} already runs version {target.version}")
    source = _definition(session, instance.definition_id)
    if source.key != target.key:
        raise _NotMovable(f"instance {instance_id} runs process {source.key}, not {target.key}")
    workflow = engine._workflow(session, instance)
    plan = _Plan(engine, session, workflow, target)
    if instance.status not in MOVABLE_STATUSES:
        plan.reasons.insert(0, f"the instance is {instance.status}")
    if plan.reasons:
        raise _NotMovable("; ".join(plan.reasons), plan.mapping)
    # Re-point the instance first, then rebuild its state: a failure anywhere after this is undone together.
    session.execute(update(ProcessInstance).where(ProcessInstance.id == instance_id)
                    .values(definition_id=target.id))
    session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id == instance_id))
    moved = plan.apply()
    instance.definition_id = target.id
    step = Step(session, instance, moved, user)
    _repoint_inbox(engine, session, instance_id, moved)
    step.event("migrated", data={
        "from_definition_id": source.id, "from_version": source.version,
        "to_definition_id": target.id, "to_version": target.version,
        "tasks": [{"element_id": m.element_id, "name": m.name, "target_element_id": m.target_element_id}
                  for m in plan.mapping]},
        message=f"moved from version {source.version} to version {target.version}")
    engine._save(step)
    return MoveResult(instance_id, True, None, plan.mapping)


def _versions(session, from_id: int, to_id: int) -> tuple[ProcessDefinition, ProcessDefinition]:
    source, target = _definition(session, from_id), _definition(session, to_id)
    if source.key != target.key:
        raise InvalidInput(f"versions of different processes: {source.key} and {target.key}")
    if source.id == target.id:
        raise InvalidInput("choose another version to move the instances to")
    return source, target


def _definition(session, definition_id: int) -> ProcessDefinition:
    definition = session.get(ProcessDefinition, definition_id)
    if definition is None:
        raise NotFound(f"process definition {definition_id} not found")
    return definition


# ---------------------------------------------------------------- checking and rebuilding the task tree

class _Plan:
    """The move of one loaded workflow to a target version: what blocks it, how its live tasks map, and the
    rebuilt workflow."""

    def __init__(self, engine, session, workflow, target: ProcessDefinition):
        self.engine = engine
        self.workflow = workflow
        self.target = target
        self.spec, self.subprocess_specs = engine._spec(session, target.id)
        self.reasons: list[str] = []
        self.mapping: list[TaskMapping] = []
        for _owner, sub in self._workflows():
            self._check(sub, self._target_spec(sub))

    def _workflows(self):
        """(owner task id or None, workflow) for the top workflow and each subprocess, parents first."""
        top = self.workflow
        return [(None, top)] + sorted(top.subprocesses.items(), key=lambda item: item[1].depth)

    def _target_spec(self, sub):
        return self.spec if sub is self.workflow else self.subprocess_specs.get(sub.spec.name)

    def _check(self, sub, spec) -> None:
        live = [t for t in sub.tasks.values() if _is_live(t)]
        for task in live:
            if task.task_spec.bpmn_id:
                target = spec.task_specs.get(task.task_spec.name) if spec is not None else None
                self.mapping.append(TaskMapping(task.task_spec.bpmn_id, task.task_spec.bpmn_name,
                                                task.task_spec.bpmn_id if target is not None else None))
        if spec is None:
            if live:  # a finished one the target no longer calls is simply dropped
                self.reasons.append(f"version {self.target.version} does not contain the subprocess "
                                    f"{sub.spec.name!r} the instance is working in")
            return
        for task in live:
            self._check_live(task, spec)

    def _check_live(self, task, spec) -> None:
        old = task.task_spec
        label = old.bpmn_name or old.bpmn_id or old.name
        new = spec.task_specs.get(old.name)
        if new is None:
            self.reasons.append(f"{label} ({old.bpmn_id or old.name}) is waiting but version "
                                f"{self.target.version} has no such element")
        elif type(new) is not type(old):
            self.reasons.append(f"{label} is a different kind of element in version {self.target.version}")
        elif _boundary_events(old) != _boundary_events(new):
            self.reasons.append(f"the boundary events on {label} differ in version {self.target.version}; "
                                "move the instance once that step is done")
        elif isinstance(old, UnstructuredJoin) and _names(old.inputs) != _names(new.inputs):
            self.reasons.append(f"{label} is waiting for its incoming branches, which differ in version "
                                f"{self.target.version}")

    def rehearse(self) -> None:
        """Move a copy in memory (the preview): a failure becomes a reason."""
        try:
            self.apply(rehearsal=True)
        except Exception as exc:  # e.g. a changed timer expression that cannot be evaluated for this instance
            self.reasons.append(f"the move would fail: {exc}")

    def apply(self, rehearsal: bool = False):
        """The workflow rebuilt against the target version (a fresh object, loaded from the rebuilt state)."""
        workflow = self.workflow
        if rehearsal:
            workflow = load_state(dump_state(workflow), workflow.spec, workflow.subprocess_specs)
            workflow.script_engine = self.engine.script_engine
        self._drop_finished_subprocesses(workflow)
        old_specs = {}
        for _owner, sub in sorted([(None, workflow)] + list(workflow.subprocesses.items()),
                                  key=lambda item: 0 if item[0] is None else item[1].depth):
            spec = self.spec if sub is workflow else self.subprocess_specs[sub.spec.name]
            old_specs.update({t.id: t.task_spec for t in sub.tasks.values()})
            _retarget(sub, spec)
        workflow.subprocess_specs = self.subprocess_specs
        for task in list(_all(workflow)):
            if _is_live(task):
                task.task_spec._predict(task, mask=TaskState.NOT_FINISHED_MASK)
                _restart_changed_timer(task, old_specs.get(task.id))
                task.internal_data.pop(SUBSCRIBED_FLAG, None)  # subscribe again, to the target's messages
        moved = load_state(dump_state(workflow), self.spec, self.subprocess_specs)
        moved.script_engine = self.engine.script_engine
        return moved


    def _drop_finished_subprocesses(self, workflow) -> None:
        """A finished subprocess whose call (or called process) the target version no longer has goes; the
        others are kept as they are, like compaction keeps them."""
        for owner, sub in sorted(workflow.subprocesses.items(), key=lambda item: item[1].depth):
            if owner not in workflow.subprocesses or any(_is_live(t) for t in sub.tasks.values()):
                continue  # gone with its parent, or checked to exist in the target
            owner_task = workflow.get_task_from_id(owner)
            home = owner_task.workflow
            home_spec = self.spec if home is workflow else self.subprocess_specs.get(home.spec.name)
            if (sub.spec.name not in self.subprocess_specs or home_spec is None
                    or owner_task.task_spec.name not in home_spec.task_specs):
                for task in workflow.delete_subprocess(owner_task):
                    workflow.event_manager.remove_task(task)


def _retarget(sub, spec) -> None:
    """Give every task of one (sub)workflow the target's spec of the same name."""
    for task in [t for t in sub.tasks.values() if t.has_state(_PREDICTED) and _predicted_from_live(t)]:
        if task.id in sub.tasks:
            sub._remove_task(task.id)
    for task in list(sub.tasks.values()):
        if task.task_spec.name not in spec.task_specs:
            _cut_out(sub, task)
    for task in sub.tasks.values():
        task.task_spec = spec.task_specs[task.task_spec.name]
    sub.spec = spec
    if sub.last_task is not None and sub.last_task.id not in sub.tasks:
        sub.last_task = None


def _predicted_from_live(task) -> bool:
    """A prediction hanging below live work (predicted again from the target's flows after the move)."""
    parent = task.parent
    return parent is not None and not parent.has_state(TaskState.FINISHED_MASK)


def _cut_out(sub, task) -> None:
    """Remove a finished task the target version does not have; its children move up to its parent."""
    parent = task.parent
    if parent is None:
        raise _NotMovable(f"the instance's first step {task.task_spec.name!r} is not in the target version")
    at = parent._children.index(task.id)
    parent._children[at:at + 1] = task._children
    for child in task.children:
        child._parent = parent.id
    del sub.tasks[task.id]  # in place: the map keeps its parent-before-child order, which loading relies on


def _restart_changed_timer(task, old_spec) -> None:
    """A waiting timer whose expression changed is evaluated again from now; an unchanged one keeps its due
    time. An event-based gateway waits with the timers of all its events at once."""
    definition = getattr(task.task_spec, "event_definition", None)
    new = _timers(definition)
    if task.state != TaskState.WAITING or not new:
        return
    if new == _timers(getattr(old_spec, "event_definition", None)):
        return
    task.internal_data.pop("event_value", None)
    task.internal_data.pop("event_fired", None)
    if isinstance(definition, CycleTimerEventDefinition):
        value = task.workflow.script_engine.evaluate(task, definition.expression)
        cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(value)
        task._set_internal_data(event_value={"cycles": cycles, "next": start.isoformat(),
                                             "duration": duration.total_seconds()})
    else:
        definition.has_fired(task)  # computes the due time from now, as when the timer started waiting


def _timers(definition) -> list[tuple[str, str]]:
    if isinstance(definition, MultipleEventDefinition):
        return [t for d in definition.event_definitions for t in _timers(d)]
    if isinstance(definition, TimerEventDefinition):
        return [(type(definition).__name__, definition.expression)]
    return []


def _is_live(task) -> bool:
    return task.has_state(_LIVE) or (task.has_state(_PREDICTED) and not _predicted_from_live(task))


def _all(workflow):
    yield from workflow.tasks.values()
    for sub in workflow.subprocesses.values():
        yield from sub.tasks.values()


def _boundary_events(spec) -> set[str]:
    split = spec._wf_spec.task_specs.get(f"{spec.name}.BoundaryEventSplit")
    return _names(split.outputs) - {spec.name} if split is not None else set()


def _names(specs) -> set[str]:
    return {s.name for s in specs}


# ---------------------------------------------------------------- the inbox

def _repoint_inbox(engine, session, instance_id: int, workflow) -> None:
    """Open inbox rows take the target version's name, form, lane and candidates of their element; who has
    claimed, been delegated or reminded stays as it was."""
    by_id = {str(t.id): t for t in _all(workflow)}
    for row in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                       HumanTask.status == "open")):
        task = by_id.get(row.spiff_task_id)
        if task is None:
            continue
        try:
            fields = human_task_fields(task, engine.script_engine)
        except Exception:  # an assignment expression failing keeps the task as it was, like a normal step
            continue
        row.name, row.form_key, row.lane = fields["name"], fields["form_key"], fields["lane"]
        if (sorted(row.candidate_users or []), sorted(row.candidate_groups or [])) != (
                sorted(fields["candidate_users"]), sorted(fields["candidate_groups"])):
            row.candidate_users, row.candidate_groups = fields["candidate_users"], fields["candidate_groups"]
            _replace_candidates(session, row.id, fields["candidate_users"], fields["candidate_groups"])
    session.flush()


def _replace_candidates(session, task_id: int, users: list[str], groups: list[str]) -> None:
    session.execute(delete(TaskCandidate).where(TaskCandidate.task_id == task_id,
                                                TaskCandidate.excluded_user.is_(None)))
    rows = ([TaskCandidate(task_id=task_id, user_name=u) for u in users]
            + [TaskCandidate(task_id=task_id, group_name=g) for g in groups])
    session.add_all(rows or [TaskCandidate(task_id=task_id, group_name=EVERYONE)])
