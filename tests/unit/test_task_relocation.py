"""engine.relocation, without a database: a user task that compaction has long removed from the tree is made
ready again, completed, and the process runs on through the diagram, round after round, with the tree (and the
saved state) bounded; a step inside a parallel branch is recognised as one."""
from __future__ import annotations

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.compaction import compact
from engine.relocation import NotRelocatable, go_to, inside_parallel_branch
from engine.serialization import dump_state, load_state
from tests.bpmn_text import HEAD

FLOW = HEAD + """<bpmn:process id="flow" isExecutable="true">
<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
<bpmn:userTask id="fill"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
<bpmn:scriptTask id="count"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
  <bpmn:script>fills = fills + 1 if "fills" in globals() else 1</bpmn:script></bpmn:scriptTask>
<bpmn:userTask id="review"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
<bpmn:exclusiveGateway id="ok" default="f_no"><bpmn:incoming>f4</bpmn:incoming>
  <bpmn:outgoing>f_yes</bpmn:outgoing><bpmn:outgoing>f_no</bpmn:outgoing></bpmn:exclusiveGateway>
<bpmn:userTask id="archive"><bpmn:incoming>f_yes</bpmn:incoming><bpmn:outgoing>f_end</bpmn:outgoing></bpmn:userTask>
<bpmn:endEvent id="end"><bpmn:incoming>f_end</bpmn:incoming></bpmn:endEvent>
<bpmn:endEvent id="rejected"><bpmn:incoming>f_no</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fill"/>
<bpmn:sequenceFlow id="f2" sourceRef="fill" targetRef="count"/>
<bpmn:sequenceFlow id="f3" sourceRef="count" targetRef="review"/>
<bpmn:sequenceFlow id="f4" sourceRef="review" targetRef="ok"/>
<bpmn:sequenceFlow id="f_yes" sourceRef="ok" targetRef="archive">
  <bpmn:conditionExpression>approved</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="f_no" sourceRef="ok" targetRef="rejected"/>
<bpmn:sequenceFlow id="f_end" sourceRef="archive" targetRef="end"/>
</bpmn:process>
<bpmn:process id="split" isExecutable="true">
<bpmn:startEvent id="s_start"><bpmn:outgoing>g1</bpmn:outgoing></bpmn:startEvent>
<bpmn:userTask id="before"><bpmn:incoming>g1</bpmn:incoming><bpmn:outgoing>g2</bpmn:outgoing></bpmn:userTask>
<bpmn:parallelGateway id="fork"><bpmn:incoming>g2</bpmn:incoming>
  <bpmn:outgoing>ga</bpmn:outgoing><bpmn:outgoing>gb</bpmn:outgoing></bpmn:parallelGateway>
<bpmn:userTask id="branch_a"><bpmn:incoming>ga</bpmn:incoming><bpmn:outgoing>ga2</bpmn:outgoing></bpmn:userTask>
<bpmn:userTask id="branch_b"><bpmn:incoming>gb</bpmn:incoming><bpmn:outgoing>gb2</bpmn:outgoing></bpmn:userTask>
<bpmn:parallelGateway id="merge"><bpmn:incoming>ga2</bpmn:incoming><bpmn:incoming>gb2</bpmn:incoming>
  <bpmn:outgoing>g3</bpmn:outgoing></bpmn:parallelGateway>
<bpmn:userTask id="after"><bpmn:incoming>g3</bpmn:incoming><bpmn:outgoing>g4</bpmn:outgoing></bpmn:userTask>
<bpmn:endEvent id="s_end"><bpmn:incoming>g4</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="g1" sourceRef="s_start" targetRef="before"/>
<bpmn:sequenceFlow id="g2" sourceRef="before" targetRef="fork"/>
<bpmn:sequenceFlow id="ga" sourceRef="fork" targetRef="branch_a"/>
<bpmn:sequenceFlow id="gb" sourceRef="fork" targetRef="branch_b"/>
<bpmn:sequenceFlow id="ga2" sourceRef="branch_a" targetRef="merge"/>
<bpmn:sequenceFlow id="gb2" sourceRef="branch_b" targetRef="merge"/>
<bpmn:sequenceFlow id="g3" sourceRef="merge" targetRef="after"/>
<bpmn:sequenceFlow id="g4" sourceRef="after" targetRef="s_end"/>
</bpmn:process>
</bpmn:definitions>
"""


def spec(process_id):
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(FLOW.encode(), "flow.bpmn")
    return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)


def ready(workflow, element=None):
    tasks = [t for t in workflow.tasks.values() if t.state == TaskState.READY and t.task_spec.manual]
    return [t for t in tasks if element is None or t.task_spec.bpmn_id == element]


def request(specs, state, act):
    """One request as the engine makes it: load, act, run the engine, compact, save."""
    workflow = load_state(state, *specs)
    act(workflow)
    workflow.do_engine_steps()
    compact(workflow)
    return dump_state(workflow), workflow


def complete(element, data=None):
    def act(workflow):
        [task] = ready(workflow, element)
        task.data.update(data or {})
        task.run()
    return act


def test_a_returned_task_is_completed_and_the_process_loops_back_into_it_with_bounded_state():
    specs = spec("flow")
    workflow = BpmnWorkflow(*specs)
    workflow.do_engine_steps()
    state, workflow = request(specs, dump_state(workflow), complete("fill", {"title": "v1"}))
    sizes, tree_sizes = [], []
    for round_ in range(1, 26):
        def send_back(workflow, round_=round_):
            [review] = ready(workflow, "review")
            assert not [t for t in workflow.tasks.values() if t.task_spec.bpmn_id == "fill"]  # compacted away
            new = go_to(workflow, [review], "fill", {**review.data, "return_reason": f"round {round_}"})
            assert new.state == TaskState.READY and new.task_spec.bpmn_id == "fill"
        state, workflow = request(specs, state, send_back)
        [fill] = ready(workflow)
        assert fill.task_spec.bpmn_id == "fill" and fill.data["return_reason"] == f"round {round_}"
        state, workflow = request(specs, state, complete("fill", {"title": f"v{round_ + 1}"}))
        [review] = ready(workflow)
        assert review.task_spec.bpmn_id == "review" and review.data["fills"] == round_ + 1  # count ran again
        sizes.append(len(state))
        tree_sizes.append(len(workflow.tasks))
    assert max(tree_sizes) == min(tree_sizes) and max(sizes) - min(sizes) < 100, (tree_sizes, sizes)
    state, workflow = request(specs, state, complete("review", {"approved": True}))
    [archive] = ready(workflow)
    assert archive.task_spec.bpmn_id == "archive" and archive.data["title"] == "v26"
    state, workflow = request(specs, state, complete("archive"))
    assert workflow.completed and workflow.data["fills"] == 26 and workflow.data["return_reason"] == "round 25"


def test_going_back_from_a_branch_with_live_siblings_or_into_a_branch_is_refused():
    specs = spec("split")
    workflow = BpmnWorkflow(*specs)
    workflow.do_engine_steps()
    state, workflow = request(specs, dump_state(workflow), complete("before"))
    [branch_a] = ready(workflow, "branch_a")
    with pytest.raises(NotRelocatable, match="parallel"):
        go_to(workflow, [branch_a], "before", {})
    task_specs = specs[0].task_specs
    assert inside_parallel_branch(task_specs["branch_a"]) and inside_parallel_branch(task_specs["branch_b"])
    assert not inside_parallel_branch(task_specs["before"]) and not inside_parallel_branch(task_specs["after"])
    with pytest.raises(NotRelocatable, match="not part of the process"):
        go_to(workflow, [branch_a], "fill", {})
