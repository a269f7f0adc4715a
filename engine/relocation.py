"""Moving a workflow's token by hand ("go to element"): the live work at one place in the task tree is cut
out and an earlier user task of the same (sub)workflow is made ready again, for 退回 (return) and 撤回
(withdraw).

SpiffWorkflow 3.2.0 can only reset to a task that is still in the tree, and compaction (engine.compaction)
has usually removed the earlier task by the time someone returns to it. So this module edits the tree the way
the library's own `reset_branch` does, with a new task for the target spec: remove the ready task (with its
boundary events and predicted children), add a READY task for the target under the removed task's parent,
predict its children, give it the data it is to start with. Like compaction it touches private fields, so
SpiffWorkflow stays pinned and tests/integration/test_task_return.py pins the behaviour.
"""
from __future__ import annotations

from copy import deepcopy

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.util.task import TaskState

from core.errors import Conflict

#: states of tasks that are work in progress (not merely predicted, not finished)
_LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


class NotRelocatable(Conflict):
    """The move is not possible in this state of the instance (the message says why)."""


def target_spec(workflow, element_id: str):
    """The spec of user/manual task `element_id` in `workflow`'s own (sub)process, or None."""
    for spec in workflow.spec.task_specs.values():
        if spec.bpmn_id == element_id and spec.manual:
            return spec
    return None


def go_to(workflow, tasks: list, element_id: str, data: dict):
    """Cut `tasks` (live tasks of one workflow, usually the one ready user task) out of the tree and make the
    user task `element_id` of the same workflow ready with `data`; returns the new task (for a target with
    boundary events: its boundary split, which the next engine run passes through).

    `workflow` is the top workflow. Raises NotRelocatable when the target is not in the same (sub)process,
    or when other live work (a parallel branch, a waiting join) would be left behind in that workflow.
    """
    if not tasks:
        raise NotRelocatable("there is no open step to move away from")
    home = tasks[0].workflow
    if any(t.workflow is not home for t in tasks):
        raise NotRelocatable("the open steps are in different (sub)processes")
    spec = target_spec(home, element_id)
    if spec is None:
        where = "the process" if home is workflow else f"the subprocess {home.spec.name!r}"
        raise NotRelocatable(f"step {element_id!r} is not part of {where} the open step belongs to; "
                             "it can only go back within the same (sub)process")
    if inside_parallel_branch(spec):
        raise NotRelocatable(f"step {element_id!r} lies inside a parallel branch; going back there would leave "
                             "the branches unable to join again")
    anchors = []
    for task in tasks:
        anchor = task.parent if isinstance(task.parent.task_spec, BoundaryEventSplit) else task
        if anchor not in anchors:
            anchors.append(anchor)
    removed_ids = set()
    for anchor in anchors:
        removed_ids.update(t.id for t in anchor)
    others = [t for t in live_tasks(home) if t.id not in removed_ids]
    if others:
        names = ", ".join(sorted({t.task_spec.bpmn_id or t.task_spec.name for t in others}))
        raise NotRelocatable(f"the process has other work in progress in parallel ({names}); "
                             "it cannot be moved back by hand")
    parent = anchors[0].parent
    if parent is None or parent.id in removed_ids:
        raise NotRelocatable("the open step has no place in the task tree to go back from")

    top = workflow.top_workflow
    for anchor in anchors:
        gone = list(anchor)
        home._remove_task(anchor.id)
        for task in gone:
            top.event_manager.remove_task(task)
            if task.id in top.subprocesses:
                for sub_task in top.delete_subprocess(task):
                    top.event_manager.remove_task(sub_task)
    if home.last_task is not None and home.last_task.id not in home.tasks:
        home.last_task = None

    entry = home.spec.task_specs.get(f"{spec.name}.BoundaryEventSplit", spec)
    task = parent._add_child(entry, TaskState.FUTURE)
    task.task_spec._predict(task, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE)
    task.task_spec._update(task)  # inherits the parent's data, runs any pre-script, becomes READY
    task.data.update(deepcopy(data))
    home.last_task = parent
    return task


def inside_parallel_branch(spec, limit: int = 20) -> bool:
    """Whether a path from `spec` reaches a parallel or inclusive join it did not pass the split of: a task
    made ready there would arrive at the join alone, and the join would wait for the other branches forever."""
    seen = set()
    stack = [(spec, 0)]
    while stack:
        current, depth = stack.pop()
        for following in current.outputs:
            level = depth
            gateway = isinstance(following, (ParallelGateway, InclusiveGateway))
            if gateway and len(following.inputs) > 1:
                level -= 1
                if level < 0:
                    return True
            if gateway and len(following.outputs) > 1:
                level += 1
            if level <= limit and (following.name, level) not in seen:
                seen.add((following.name, level))
                stack.append((following, level))
    return False


def live_tasks(workflow) -> list:
    """The tasks of `workflow` (one (sub)workflow, not its children) that are work in progress."""
    return [t for t in workflow.tasks.values() if t.has_state(_LIVE) and not _event_subprocess_start(t)]


def _event_subprocess_start(task) -> bool:
    """A start event of an event subprocess waiting to be triggered is no parallel work."""
    return task.state == TaskState.WAITING and isinstance(task.task_spec, StartEvent)
