"""Compaction of SpiffWorkflow 3.2.0's task tree: cuts out the finished tasks the engine no longer needs, so
an instance's saved state and per-step cost stay bounded by its live work instead of growing with its history.
"""
from __future__ import annotations

from collections import defaultdict

from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState

# SpiffWorkflow never prunes completed tasks: a loop drawn as a back-edge adds a few tasks per round until the
# library's depth-limited iterators stop seeing live tasks and the workflow counts as completed. Compaction
# edits private fields (`_parent`, `_children`, `workflow.tasks`, the event manager, `subprocesses`), which is
# why the library is pinned and tests/unit/test_compaction.py pins the behaviour construct by construct.

_LIVE = TaskState.NOT_FINISHED_MASK


def compact(workflow) -> list:
    """Remove finished tasks that `workflow` (a BpmnWorkflow) and its subprocesses no longer need, in place.

    Returns the removed Task objects (still holding data, state and spec) so the caller can record them in
    history; removing does not fire `task_removed_event`. Subprocesses whose owning task is removed are
    deleted and their tasks returned too. The workflow serializes, loads and runs on as an uncompacted one
    would, with one deliberate difference: a parallel join in a loop no longer counts earlier rounds' arrivals
    (3.2.0 does, and fires early when the branches finish in a different order from round to round).
    """
    top = workflow.top_workflow
    # Parents before children: a subprocess goes when its owner has gone, and its nested ones go with it.
    subprocesses = sorted(top.subprocesses.items(), key=lambda item: item[1].depth)
    owners_needed = {owner_id for owner_id, sp in subprocesses if _has_live_tasks(sp)}
    removed = _compact_tree(top, owners_needed)
    gone = {task.id for task in removed}
    for owner_id, sp in subprocesses:
        if owner_id in gone:
            dropped = list(sp.tasks.values())
            del top.subprocesses[owner_id]
        elif _has_live_tasks(sp):
            dropped = _compact_tree(sp, owners_needed)
        else:
            continue  # a finished subprocess whose owner stays is left as it is: bounded by one run
        removed.extend(dropped)
        gone.update(task.id for task in dropped)
    for task in removed:
        top.event_manager.remove_task(task)
    return removed


class CompactionHook:
    """A `did_complete_task` callback that compacts every `every` completed tasks, for loops that spin inside
    a single `do_engine_steps` call: `workflow.do_engine_steps(did_complete_task=CompactionHook(workflow))`.

    Removed tasks are passed to `on_removed(tasks)` if given. Compacting mid-run is safe because only finished
    tasks go, while within a pass the engine touches only tasks that were ready when the pass began and the
    owner of each subprocess it has just run, which is still live then (an owner finishes in its parent
    workflow's turn, later in the pass).
    """

    def __init__(self, workflow, every: int = 50, on_removed=None):
        if every < 1:
            raise ValueError("every must be at least 1")
        self.workflow = workflow
        self.every = every
        self.on_removed = on_removed
        self.completed = 0

    def __call__(self, task) -> None:
        self.completed += 1
        if self.completed % self.every:
            return
        removed = compact(self.workflow)
        if removed and self.on_removed is not None:
            self.on_removed(removed)


def _has_live_tasks(workflow) -> bool:
    return any(task._state & _LIVE for task in workflow.tasks.values())


def _compact_tree(workflow, owners_needed: set) -> list:
    """Cut unneeded finished tasks out of one workflow's tree; return them."""
    root = workflow.task_tree
    order, start, end = _preorder(root)
    keep = _needed(root, order, start, end, owners_needed)
    _add_branch_points(order, keep)

    # Re-link each kept task to its nearest kept ancestor; pre-order keeps children in their original order.
    nearest, children, removed = {}, {task_id: [] for task_id in keep}, []
    for task in order:
        above = nearest.get(task._parent)
        if task.id in keep:
            if task is not root:
                task._parent = above
                children[above].append(task.id)
            nearest[task.id] = task.id
        else:
            nearest[task.id] = above
            removed.append(task)
    if not removed:
        return removed
    for task_id, child_ids in children.items():
        workflow.tasks[task_id]._children = child_ids
    # Deleting in place keeps the map's parent-before-child order, which the serializer relies on: it stores
    # each task's data as a delta against its parent and rebuilds it in map order on load. Deltas are
    # recomputed against the new parent at save time, so every kept task loads with the data it has now.
    for task in removed:
        del workflow.tasks[task.id]
    if workflow.last_task is not None and workflow.last_task.id not in workflow.tasks:
        workflow.last_task = None
    return removed


def _preorder(root):
    """Pre-order list of the tree plus, per task id, its index and the index just past its subtree.

    Iterative: an uncompacted tree can be thousands of tasks deep."""
    order, start, end = [], {}, {}
    stack = [(root, False)]
    while stack:
        task, leaving = stack.pop()
        if leaving:
            end[task.id] = len(order)
            continue
        start[task.id] = len(order)
        order.append(task)
        stack.append((task, True))
        stack.extend((child, False) for child in reversed(task.children))
    return order, start, end


def _needed(root, order, start, end, owners_needed) -> set:
    """Ids of the tasks the engine still reads, before branch points are added."""
    # The root stays: event subprocesses and triggered paths are added under it and take their data from it.
    # So does each child of the root with live work below: ad-hoc path completion looks for live paths there.
    keep = {root.id}
    joins = defaultdict(list)
    live = []
    covered = 0
    path = None
    for i, task in enumerate(order):
        if task._parent == root.id:
            path = task.id
        if isinstance(task.task_spec, UnstructuredJoin):
            joins[task.task_spec].append(task)
        if task.id in owners_needed:
            keep.add(task.id)
        if not task._state & _LIVE:
            if i < covered:
                keep.add(task.id)
            continue
        # A live task's whole subtree stays (predicted tasks, and the finished children that multi-instance
        # and loop tasks wait on), and so does its parent, whose data it inherits when it becomes ready.
        covered = max(covered, end[task.id])
        keep.update((task.id, task._parent, path))
        live.append(task)

    for task in live:
        spec = task.task_spec
        if isinstance(spec, UnstructuredJoin):
            keep.update(_join_inputs(task, joins[spec], start, end))
        elif isinstance(spec, Join) and spec.split_task:
            # Boundary-event and start-event joins decide from their split task's children.
            split = _ancestor(task, lambda t, name=spec.split_task: t.task_spec.name == name)
            if split is not None:
                keep.add(split.id)
                keep.update(split._children)
    keep.discard(None)
    return keep


def _join_inputs(waiting, instances, start, end) -> set:
    """The tasks a waiting parallel, inclusive or end join counts as its arrived inputs.

    These joins find their inputs by walking the tree for other instances of their spec and looking at each
    one's parent (and merge those parents' data when they fire), and a parallel gateway that merges a loop's
    back-edge also walks up its ancestors to the nearest task of each input: without these it waits forever.
    Only instances since the join's previous firing (its nearest ancestor of the same spec) are this round's.
    """
    keep, inputs, fired = set(), set(waiting.task_spec.inputs), None
    ancestor = waiting.parent
    while ancestor is not None and (inputs or fired is None):
        if ancestor.task_spec in inputs:
            inputs.discard(ancestor.task_spec)
            keep.add(ancestor.id)
        if fired is None and ancestor.task_spec == waiting.task_spec:
            fired = ancestor
        ancestor = ancestor.parent
    this_round = [
        task for task in instances
        if not start[task.id] <= start[waiting.id] < end[task.id]  # an ancestor is an earlier firing: skipped
        and (fired is None or start[fired.id] < start[task.id] < end[fired.id])
    ]
    # The join merges the finished instances' parents' data oldest first, then its own parent's; a live
    # instance is merged after every finished one (it is cancelled later, or it is the one that fires).
    finished = sorted(
        (task for task in this_round if task._state & TaskState.FINISHED_MASK),
        key=lambda task: task.last_state_change,
    )
    live = [task for task in this_round if task._state & _LIVE]
    for i, task in enumerate(finished):
        if not any(_overrides(later, task) for later in finished[i + 1:] + live):
            keep.update((task.id, task._parent))
    return keep


def _overrides(later, earlier) -> bool:
    """Whether `later` arrived from the same input with final data that overwrites everything `earlier` would
    merge, so that dropping `earlier` changes neither the join's count nor its data. This keeps a loop bounded
    when, say, a non-interrupting reminder path reaches an end event every round while the main path goes on.
    Only plain values count: DeepMerge combines nested dicts and lists with what was merged before."""
    source, earlier_source = later.parent, earlier.parent
    if source.task_spec != earlier_source.task_spec or not source._state & TaskState.COMPLETED:
        return False
    data = source.data
    return all(key in data and not isinstance(data[key], (dict, list)) for key in earlier_source.data)


def _ancestor(task, matches):
    parent = task.parent
    while parent is not None and not matches(parent):
        parent = parent.parent
    return parent


def _add_branch_points(order, keep) -> None:
    """Keep every task below which kept tasks sit in two or more child subtrees, so the compacted tree has the
    same shape (which task is on which branch) as the original."""
    holds_kept = {}
    for task in reversed(order):
        branches = sum(1 for child_id in task._children if holds_kept.get(child_id))
        if branches >= 2:
            keep.add(task.id)
        holds_kept[task.id] = branches > 0 or task.id in keep
