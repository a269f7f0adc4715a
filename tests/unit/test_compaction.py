"""Compaction keeps a workflow's task tree bounded by its live work (engine/compaction.py).

Every scenario drives an instance the way the application does, one request per round:
load → act (complete a ready user task, deliver a message, fire a timer) → do_engine_steps → compact → save.
Equivalence tests run the same scenario without compaction and compare final data and the trace of completed
task specs. The fixtures are in tests/fixtures/compaction/.
"""
from __future__ import annotations

import copy
import random
from collections import Counter
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine.compaction import CompactionHook, compact

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "compaction"
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
PAST = "2000-01-01T00:00:00+00:00"


def parse(process_id, *files):
    """A fresh spec per instance: triggering a message-start event subprocess changes the spec in 3.2.0."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_files([str(FIXTURES / name) for name in files or (f"{process_id}.bpmn",)])
    return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)


def all_tasks(workflow) -> dict:
    tasks = dict(workflow.tasks)
    for subprocess in workflow.subprocesses.values():
        tasks.update(subprocess.tasks)
    return tasks


def ancestors(task_id, parents) -> list:
    chain = []
    while (task_id := parents.get(task_id)) is not None:
        chain.append(task_id)
    return chain


def checked_compact(workflow) -> list:
    """compact(), checking that it returns exactly the tasks that left the workflow (subprocesses included),
    that only finished tasks went, and that kept tasks keep their ancestry among themselves."""
    parents = {task_id: task._parent for task_id, task in all_tasks(workflow).items()}
    removed = compact(workflow)
    after = all_tasks(workflow)
    removed_ids = [task.id for task in removed]
    assert len(removed_ids) == len(set(removed_ids))
    assert set(removed_ids) == set(parents) - set(after)
    assert all(task.has_state(TaskState.FINISHED_MASK) for task in removed)
    assert all(task_id in after for task_id in workflow.event_manager.tasks)
    parents_after = {task_id: task._parent for task_id, task in after.items()}
    for task_id in after:
        assert ancestors(task_id, parents_after) == [a for a in ancestors(task_id, parents) if a in after]
    return removed


class Instance:
    """One process instance, saved as JSON between rounds.

    `trace` lists the completed task specs in order, `trace_ids` their task ids, `removed` every task that
    compaction took out, `task_counts`/`state_sizes` the size after each round."""

    def __init__(self, process_id, *files, compacting=True, **start_data):
        spec, subprocess_specs = parse(process_id, *files)
        self.compacting = compacting
        self.trace, self.trace_ids, self.removed = [], [], []
        self.task_counts, self.state_sizes = [], []
        workflow = BpmnWorkflow(spec, subprocess_specs)
        workflow.task_tree.data.update(start_data)
        self._finish(workflow)

    def load(self) -> BpmnWorkflow:
        return SERIALIZER.deserialize_json(self.state)

    def complete(self, spec_name, **data) -> None:
        workflow = self.load()
        assert not workflow.is_completed()
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        task = next(t for t in ready if t.task_spec.name == spec_name)
        task.data.update(data)
        task.run()
        self._record(task)
        self._finish(workflow)

    def send(self, message, **payload) -> None:
        workflow = self.load()
        workflow.send_event(BpmnEvent(MessageEventDefinition(message), payload))
        self._finish(workflow)

    def fire_timer(self, spec_name) -> None:
        """Make a waiting timer due, as the scheduler would after its time has passed."""
        workflow = self.load()
        [timer] = [t for t in workflow.event_manager.tasks.values() if t.task_spec.name == spec_name]
        timer.internal_data["event_value"] = PAST
        workflow.refresh_timers()
        self._finish(workflow)

    def ready(self) -> list:
        return sorted(t.task_spec.name for t in self.load().get_tasks(state=TaskState.READY, manual=True))

    def outcome(self):
        workflow = self.load()
        return workflow.is_completed(), workflow.data, self.trace

    def _record(self, task) -> None:
        self.trace.append(task.task_spec.name)
        self.trace_ids.append(task.id)

    def _finish(self, workflow) -> None:
        workflow.do_engine_steps(did_complete_task=self._record)
        if self.compacting:
            self.removed.extend(checked_compact(workflow))
        self.state = SERIALIZER.serialize_json(workflow)
        self.workflow = workflow
        self.task_counts.append(len(all_tasks(workflow)))
        self.state_sizes.append(len(self.state))


# Scenarios: each returns the Instance after the last round.

def rework(process_id="rework_loop", *files, rounds, compacting=True, fire_at=None):
    instance = Instance(process_id, *files, compacting=compacting)
    for round_no in range(1, rounds + 1):
        if round_no == fire_at:
            instance.fire_timer("overdue")
            break
        instance.complete("review", limit=rounds, note=f"round {round_no}")
    return instance


def parallel(rounds, orders, compacting=True):
    instance = Instance("parallel_loop", compacting=compacting)
    for round_no in range(rounds):
        for name in orders[round_no % len(orders)]:
            instance.complete(name, limit=rounds, **{name: f"signed in round {round_no}"})
    return instance


def events(rounds, compacting=True):
    """Nudges every third round, a due reminder every fourth, and a 'proceed' message after every review."""
    instance = Instance("event_loop", compacting=compacting)
    for round_no in range(rounds):
        if round_no % 3 == 1:
            instance.send("nudge", round=round_no)
        if round_no % 4 == 2:
            instance.fire_timer("remind")
        instance.complete("review", limit=rounds)
        instance.send("proceed")
    return instance


def audited(process_id, rounds, compacting=True, audits=(1, 4, 5), checks=(3, 7, 7)):
    """An audit event subprocess triggered in some rounds, its user task completed in later ones."""
    instance = Instance(process_id, compacting=compacting)
    for round_no in range(rounds):
        for _ in range(audits.count(round_no)):
            instance.send("audit", round=round_no)
        for _ in range(checks.count(round_no)):
            instance.complete("check_audit", checked_in_round=round_no)
        instance.complete("review", limit=rounds)
    return instance


def countersign(rounds, compacting=True, order=("zhao", "li", "wang")):
    """A parallel multi-instance user task, one instance per approver, signed in separate requests."""
    instance = Instance("multi_instance_loop", compacting=compacting, limit=rounds)
    for round_no in range(rounds):
        for approver in order:
            workflow = instance.load()
            ready = workflow.get_tasks(state=TaskState.READY, manual=True)
            task = next(t for t in ready if t.data["approver"] == approver)
            task.data["approval"] = f"{approver}: approved in round {round_no}"
            task.run()
            instance._record(task)
            instance._finish(workflow)
    return instance


def script_loop(limit, compacting=True, every=50):
    spec, subprocess_specs = parse("script_loop")
    workflow = BpmnWorkflow(spec, subprocess_specs)
    workflow.task_tree.data["limit"] = limit
    trace, removed = [], []
    hook = CompactionHook(workflow, every=every, on_removed=removed.extend)

    def did_complete(task):
        trace.append(task.task_spec.name)
        if compacting:
            hook(task)

    workflow.do_engine_steps(did_complete_task=did_complete)
    return workflow, trace, removed


FIXED_ORDER = [["sign_a", "sign_b", "sign_c"]]

EQUIVALENCE = {
    "rework loop": lambda compacting: rework(rounds=5, compacting=compacting),
    "interrupting timer, never due": lambda compacting: rework(
        "rework_timer", rounds=5, compacting=compacting
    ),
    "interrupting timer, due in round 3": lambda compacting: rework(
        "rework_timer", rounds=5, compacting=compacting, fire_at=3
    ),
    "parallel split/join": lambda compacting: parallel(5, FIXED_ORDER, compacting),
    "embedded subprocess": lambda compacting: rework("subprocess_loop", rounds=5, compacting=compacting),
    "call activity": lambda compacting: rework(
        "call_loop", "call_loop.bpmn", "called_rework.bpmn", rounds=5, compacting=compacting
    ),
    "multi-instance countersign": lambda compacting: countersign(4, compacting),
    "boundary and catch events": lambda compacting: events(7, compacting),
    "non-interrupting event subprocess": lambda compacting: audited(
        "event_subprocess_non_interrupting", 8, compacting
    ),
    "interrupting event subprocess": lambda compacting: audited(
        "event_subprocess_interrupting", 8, compacting
    ),
}


@pytest.mark.parametrize("scenario", EQUIVALENCE)
def test_compacted_run_matches_uncompacted_run(scenario):
    compacted = EQUIVALENCE[scenario](True)
    plain = EQUIVALENCE[scenario](False)

    assert compacted.outcome() == plain.outcome()
    assert compacted.outcome()[0], "the scenario runs to the end"
    assert compacted.removed, "compaction did something"
    assert compacted.task_counts[-2] < plain.task_counts[-2]


def test_script_loop_with_hook_matches_uncompacted_run():
    workflow, trace, removed = script_loop(60, every=7)
    plain, plain_trace, _ = script_loop(60, compacting=False)

    assert removed
    assert workflow.is_completed() and plain.is_completed()
    assert workflow.data == plain.data == {"limit": 60, "count": 60, "finished": 60}
    assert trace == plain_trace


@pytest.mark.slow
def test_rework_loop_of_1000_rounds_stays_bounded_and_ends_correctly():
    instance = rework(rounds=1000)

    completed, data, trace = instance.outcome()
    assert completed
    assert data == {"count": 1000, "limit": 1000, "note": "round 1000"}
    assert trace.count("review") == 1000 and trace.count("End") == 1
    # Instance.complete checked before every round that the workflow was not reported completed early.
    # Index 0 is the start; index n is after round n. The last round completes the workflow.
    assert instance.task_counts[10] == instance.task_counts[500] == instance.task_counts[999]
    assert abs(instance.state_sizes[999] - instance.state_sizes[10]) < 64  # digits of counters and timestamps
    assert instance.task_counts[999] <= 12


def test_rework_loop_with_interrupting_timer_stays_bounded_for_300_rounds():
    instance = rework("rework_timer", rounds=300)

    completed, data, trace = instance.outcome()
    assert completed
    assert data == {"count": 300, "limit": 300, "note": "round 300"}
    assert "escalate" not in trace
    assert instance.task_counts[10] == instance.task_counts[150] == instance.task_counts[299]
    assert abs(instance.state_sizes[299] - instance.state_sizes[10]) < 64


def test_interrupting_timer_still_fires_after_many_compacted_rounds():
    instance = rework("rework_timer", rounds=100, fire_at=60)

    completed, data, trace = instance.outcome()
    assert completed
    assert data["escalated"] is True and data["count"] == 59
    assert trace.count("escalate") == 1 and "end_escalated" in trace


def test_parallel_join_fires_once_per_round_whatever_the_branch_order():
    rng = random.Random(20240601)
    branches = ["sign_a", "sign_b", "sign_c"]
    orders = [rng.sample(branches, 3) for _ in range(100)]
    instance = parallel(100, orders)

    completed, data, trace = instance.outcome()
    assert completed
    assert data["count"] == 100
    assert trace.count("join") == trace.count("bump") == 100
    for name in branches:
        assert trace.count(name) == 100
    # Bounded by the live work: 3 branches of 11 open or predicted tasks, the root, the split, and the nearest
    # task of each join input. Which old inputs are nearest depends on the order of arrival, hence a bound.
    assert max(instance.task_counts) <= 40
    assert max(instance.state_sizes[150:-1]) <= max(instance.state_sizes[:30]) * 1.05


def test_parallel_join_waits_for_the_branches_still_open_when_compaction_runs():
    instance = Instance("parallel_loop")
    instance.complete("sign_b", limit=3)
    assert instance.ready() == ["sign_a", "sign_c"]
    instance.complete("sign_c")
    assert instance.ready() == ["sign_a"]
    workflow = instance.load()
    [waiting] = [t for t in workflow.get_tasks(state=TaskState.WAITING) if t.task_spec.name == "join"]
    assert waiting.parent.task_spec.name == "sign_c"
    # The join counts sign_b's cancelled join instance and its parent: compaction had to keep them.
    cancelled = [t for t in workflow.get_tasks(state=TaskState.CANCELLED) if t.task_spec.name == "join"]
    assert [t.parent.task_spec.name for t in cancelled] == ["sign_b"]
    assert "bump" not in instance.trace

    instance.complete("sign_a")
    assert instance.trace.count("join") == instance.trace.count("bump") == 1
    assert instance.ready() == ["sign_a", "sign_b", "sign_c"]


def test_uncompacted_spiff_fires_a_looped_parallel_join_early_when_the_branch_order_changes():
    """Pins the 3.2.0 behaviour compaction does not reproduce: the previous round's cancelled join instances
    still count as arrived, so the join fires as soon as last round's final branch signs again."""
    instance = Instance("parallel_loop", compacting=False)
    for name in ["sign_a", "sign_b", "sign_c", "sign_c"]:
        instance.complete(name, limit=5)

    assert instance.trace.count("join") == 2
    assert instance.ready() == ["sign_a", "sign_a", "sign_b", "sign_b", "sign_c"]


def test_multi_instance_countersign_in_a_loop_stays_bounded_for_100_rounds():
    instance = countersign(100)

    completed, data, trace = instance.outcome()
    assert completed
    assert data["count"] == 100 and data["last_approvals"] == [
        "zhao: approved in round 99", "li: approved in round 99", "wang: approved in round 99"
    ]
    assert trace.count("countersign [child]") == 300 and trace.count("countersign") == 100
    assert max(instance.task_counts[30:-1]) == max(instance.task_counts[:30])


@pytest.mark.parametrize(
    "process_id, files",
    [("subprocess_loop", ()), ("call_loop", ("call_loop.bpmn", "called_rework.bpmn"))],
    ids=["embedded subprocess", "call activity"],
)
def test_loop_inside_a_subprocess_stays_bounded_for_200_rounds(process_id, files):
    instance = rework(process_id, *files, rounds=200)

    completed, data, trace = instance.outcome()
    assert completed
    assert data == {"count": 200, "limit": 200, "note": "round 200", "finished": 200}
    assert trace.count("wrap_up") == 1
    assert instance.task_counts[10] == instance.task_counts[100] == instance.task_counts[199]
    assert abs(instance.state_sizes[199] - instance.state_sizes[10]) < 64


@pytest.mark.slow
@pytest.mark.parametrize("limit", [1000, 5000])
def test_script_loop_in_one_engine_run_finishes_with_the_hook(limit):
    workflow, trace, removed = script_loop(limit)

    assert workflow.is_completed()
    assert workflow.data == {"limit": limit, "count": limit, "finished": limit}
    assert trace.count("bump") == limit and trace[-1] == "End"
    assert len(workflow.tasks) < 60
    assert len(removed) > 2 * limit - 60


def test_hook_compacts_subprocesses_entered_many_times_in_one_engine_run():
    def spin(hooked):
        spec, subprocess_specs = parse("script_loop_in_subprocess")
        workflow = BpmnWorkflow(spec, subprocess_specs)
        workflow.task_tree.data.update(limit=12, per_round=40)
        trace, removed, sizes = [], [], []
        hook = CompactionHook(workflow, every=7, on_removed=removed.extend)

        def did_complete(task):
            trace.append(task.task_spec.name)
            if hooked:
                hook(task)
            sizes.append((len(workflow.subprocesses), len(all_tasks(workflow))))

        workflow.do_engine_steps(did_complete_task=did_complete)
        return workflow, trace, removed, sizes

    workflow, trace, removed, sizes = spin(hooked=True)
    plain, plain_trace, _, plain_sizes = spin(hooked=False)

    assert workflow.is_completed()
    assert workflow.data == plain.data == {"limit": 12, "per_round": 40, "count": 480, "rounds": 12}
    assert trace == plain_trace
    assert max(subprocesses for subprocesses, _ in sizes) <= 2 < plain_sizes[-1][0] == 12
    assert max(tasks for _, tasks in sizes) < 50 < plain_sizes[-1][1]
    removed += checked_compact(workflow)
    assert workflow.subprocesses == {} and len(workflow.tasks) == 1
    assert len(removed) + 1 == len(all_tasks(plain))
    assert Counter(t.task_spec.name for t in removed if t.state == TaskState.COMPLETED)["bump"] == 480


def test_hook_lets_a_loop_enter_a_subprocess_500_times_in_one_engine_run():
    """Without compaction 3.2.0 stops this loop after 333 entries and reports the workflow completed."""
    spec, subprocess_specs = parse("script_loop_in_subprocess")
    workflow = BpmnWorkflow(spec, subprocess_specs)
    workflow.task_tree.data.update(limit=500, per_round=1)

    workflow.do_engine_steps(did_complete_task=CompactionHook(workflow, every=20))

    assert workflow.is_completed()
    assert workflow.data == {"limit": 500, "per_round": 1, "count": 500, "rounds": 500}


def test_script_loop_without_compaction_stops_early_and_reports_completed():
    """Pins the 3.2.0 behaviour the hook guards against: task iterators stop at depth 1,000 (two tasks per
    iteration here, three in a loop with a user task), the engine sees no more ready tasks and the workflow
    counts as completed without ever reaching its end."""
    workflow, trace, _ = script_loop(600, compacting=False)

    assert workflow.is_completed()
    assert trace.count("bump") == 499
    assert "wrap_up" not in trace and workflow.data == {}


def test_waiting_events_survive_compaction_and_can_be_triggered():
    instance = Instance("event_loop")
    instance.complete("review", limit=40)
    instance.send("proceed")
    for round_no in range(1, 40):
        workflow = instance.load()
        assert sorted(e.name for e in workflow.waiting_events()) == ["nudge", "remind"]
        if round_no % 2:
            instance.send("nudge", round=round_no)
        if round_no % 3 == 0:
            instance.fire_timer("remind")
        instance.complete("review")
        assert [e.name for e in instance.workflow.waiting_events()] == ["proceed"]
        assert [e.name for e in instance.load().waiting_events()] == ["proceed"]
        instance.send("proceed")

    completed, data, trace = instance.outcome()
    assert completed
    assert data == {"count": 40, "limit": 40, "nudged_in_round": 39, "reminded_in_round": 39}
    assert trace.count("note_nudge") == 20 and trace.count("note_reminder") == 13
    # Each path that ended waits in the end join, until a later path from the same end event supersedes it:
    # no growth from round to round.
    assert max(instance.task_counts[-40:-1]) <= max(instance.task_counts[10:50])


def test_waiting_timer_keeps_its_due_time_through_compaction_and_reload():
    instance = Instance("rework_timer")
    for _ in range(20):
        instance.complete("review", limit=30)
    [timer] = instance.workflow.event_manager.tasks.values()
    assert isinstance(timer.task_spec.event_definition, TimerEventDefinition)
    assert timer.id in instance.workflow.tasks

    [reloaded] = instance.load().event_manager.tasks.values()
    assert reloaded.id == timer.id
    assert reloaded.internal_data["event_value"] == timer.internal_data["event_value"]


@pytest.mark.parametrize("process_id", ["event_subprocess_non_interrupting", "event_subprocess_interrupting"])
def test_event_subprocess_stays_usable_while_the_loop_runs(process_id):
    instance = audited(process_id, 60, audits=(1, 20, 21), checks=(30, 30, 31))

    completed, data, trace = instance.outcome()
    assert completed
    assert data == {"count": 60, "limit": 60}  # 3.2.0 returns no data from an event subprocess
    assert trace.count("check_audit") == trace.count("record_audit") == 3
    assert trace.count("review") == 60
    # While an audit is open its subprocess stays; once all are done the size is that of the plain loop.
    assert instance.task_counts[5] > instance.task_counts[40] == instance.task_counts[59]


@pytest.mark.parametrize(
    "scenario",
    ["rework loop", "parallel split/join", "embedded subprocess", "boundary and catch events",
     "non-interrupting event subprocess"],
)
def test_history_from_removed_and_remaining_tasks_has_no_gaps_or_duplicates(scenario):
    instance = EQUIVALENCE[scenario](True)
    remaining = all_tasks(instance.load())
    removed_ids = [task.id for task in instance.removed]

    assert len(removed_ids) == len(set(removed_ids))
    assert not set(removed_ids) & set(remaining)
    history = {task.id: task for task in instance.removed} | remaining
    completed = {task_id for task_id, task in history.items() if task.state == TaskState.COMPLETED}
    assert len(instance.trace_ids) == len(set(instance.trace_ids))
    assert set(instance.trace_ids) <= completed
    # Only a subprocess's own start runs outside the engine's completion callback.
    untraced = completed - set(instance.trace_ids)
    assert all(history[task_id].task_spec.name == "Start" for task_id in untraced)
    traced_specs = Counter(instance.trace)
    assert traced_specs == Counter(history[task_id].task_spec.name for task_id in instance.trace_ids)


def test_removed_tasks_keep_their_data_for_history():
    instance = rework(rounds=4)
    reviews = [task for task in instance.removed if task.task_spec.name == "review"]

    assert [task.data["note"] for task in reviews] == ["round 1", "round 2", "round 3", "round 4"]
    assert [task.data["count"] for task in instance.removed if task.task_spec.name == "bump"] == [1, 2, 3, 4]


MID_RUN = {
    "rework loop": ("rework_loop", ["review"] * 4),
    "parallel split/join": ("parallel_loop", ["sign_a", "sign_b", "sign_c", "sign_b"]),
    "embedded subprocess": ("subprocess_loop", ["review"] * 4),
    "boundary and catch events": ("event_loop", ["review", "proceed", "nudge", "review"]),
}


def uncompacted_mid_run(scenario) -> BpmnWorkflow:
    process_id, steps = MID_RUN[scenario]
    instance = Instance(process_id, compacting=False)
    for step in steps:
        if step in ("proceed", "nudge"):
            instance.send(step)
        else:
            instance.complete(step, limit=8, **{step: "done"})
    return instance.load()


@pytest.mark.parametrize("scenario", MID_RUN)
def test_relinked_tasks_load_with_the_data_they_had_before_compaction(scenario):
    workflow = uncompacted_mid_run(scenario)
    workflow.task_tree.data["only_in_root"] = {"nested": [1, 2]}  # children must load without it
    before = {task_id: (copy.deepcopy(t.data), t._parent) for task_id, t in all_tasks(workflow).items()}

    assert compact(workflow)
    kept = all_tasks(workflow)
    assert any(task._parent != before[task_id][1] for task_id, task in kept.items()), "something relinked"
    reloaded = all_tasks(SERIALIZER.deserialize_json(SERIALIZER.serialize_json(workflow)))
    assert {task_id: task.data for task_id, task in reloaded.items()} == {
        task_id: before[task_id][0] for task_id in kept
    }
    assert compact(workflow) == []


@pytest.mark.parametrize("scenario", MID_RUN)
def test_compacted_tree_keeps_the_branch_points_between_kept_tasks(scenario):
    """Every task where kept tasks part ways stays, so the compacted tree has the original's shape."""
    workflow = uncompacted_mid_run(scenario)
    parents = {task_id: task._parent for task_id, task in all_tasks(workflow).items()}

    compact(workflow)
    kept = list(all_tasks(workflow))
    for i, first in enumerate(kept):
        first_line = [first, *ancestors(first, parents)]
        for second in kept[i + 1:]:
            second_line = set([second, *ancestors(second, parents)])
            common = next((a for a in first_line if a in second_line), None)
            assert common is None or common in kept


def test_long_uncompacted_instance_is_compacted_on_its_next_round_and_finishes():
    instance = Instance("rework_loop", compacting=False)
    for _ in range(80):
        instance.complete("review", limit=300)
    instance.compacting = True
    for _ in range(220):
        instance.complete("review")

    completed, data, trace = instance.outcome()
    assert completed and data["count"] == 300 and trace.count("review") == 300
    assert instance.task_counts[80] > 240 and instance.task_counts[81] <= 12
