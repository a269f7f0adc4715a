"""Modeling advice while a diagram is edited: problems in how a BPMN diagram is drawn, each with the alternative
to use. Unlike deploy validation this reads only the XML, is fast enough to run on every change, and also warns
about diagrams that would run but are likely wrong (a loop drawn as a gateway back-edge, a gateway without a
default). Rule ids are stable: the modeler page translates by rule id and `params`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from engine.parsing import BPMN_NS, SPIFF_NS, _Problem, is_dmn, safe_parse

ACTIVITIES = {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask",
              "receiveTask", "callActivity", "subProcess", "transaction", "adHocSubProcess"}
GATEWAYS = {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}
EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
FLOW_NODES = ACTIVITIES | GATEWAYS | EVENTS
CONTAINERS = {"process", "subProcess", "transaction", "adHocSubProcess"}
CONDITIONAL_GATEWAYS = {"exclusiveGateway", "inclusiveGateway"}


@dataclass(frozen=True)
class Finding:
    rule: str
    element_id: str | None
    severity: str  # "error" | "warning"
    message: str
    recommendation: str
    params: dict = field(default_factory=dict, hash=False)


def lint(source: bytes | str, file_name: str = "diagram.bpmn") -> list[Finding]:
    """Every finding for the diagram, in document order; a DMN file has none, unreadable XML one."""
    data = source.encode("utf-8") if isinstance(source, str) else source
    try:
        root = safe_parse(data, file_name)
    except _Problem as exc:
        return [Finding("unreadable", None, "error", exc.problem.message,
                        "Save the diagram from the modeler again.")]
    if is_dmn(root):
        return []
    findings = []
    for container in root.iter(*(_tag(t) for t in CONTAINERS)):
        findings += _Scope(container).findings()
    return findings


def _tag(local: str) -> str:
    return f"{{{BPMN_NS}}}{local}"


def _local(el) -> str | None:
    return etree.QName(el).localname if isinstance(el.tag, str) and etree.QName(el).namespace == BPMN_NS else None


class _Scope:
    """One process or subprocess: its own flow nodes and the sequence flows between them."""

    def __init__(self, container):
        self.container = container
        self.kind = _local(container)
        self.nodes = {el.get("id"): el for el in container if _local(el) in FLOW_NODES and el.get("id")}
        self.flows = [el for el in container if _local(el) == "sequenceFlow"]
        self.outgoing: dict[str, list] = {node_id: [] for node_id in self.nodes}
        self.incoming: dict[str, list] = {node_id: [] for node_id in self.nodes}
        for flow in self.flows:
            self.outgoing.setdefault(flow.get("sourceRef"), []).append(flow)
            self.incoming.setdefault(flow.get("targetRef"), []).append(flow)

    def findings(self) -> list[Finding]:
        found = self._start_and_end()
        for node_id, node in self.nodes.items():
            found += self._node_findings(node_id, node, _local(node))
        found += self._back_edges()
        return found

    # ------------------------------------------------------------ whole scope

    def _start_and_end(self) -> list[Finding]:
        if self.kind == "adHocSubProcess":
            return []
        kinds = [_local(n) for n in self.nodes.values()]
        scope_id, found = self.container.get("id"), []
        where = "process" if self.kind == "process" else "subprocess"
        if "startEvent" not in kinds:
            found.append(Finding(
                "no-start-event", scope_id, "error", f"The {where} has no start event.",
                "Draw a start event where the work begins.", {"scope": where}))
        if "endEvent" not in kinds:
            found.append(Finding(
                "no-end-event", scope_id, "warning", f"The {where} has no end event.",
                "Draw an end event at each place where the work is finished.", {"scope": where}))
        return found

    # ------------------------------------------------------------ one element

    def _node_findings(self, node_id: str, node, kind: str) -> list[Finding]:
        found = self._connection(node_id, node, kind)
        name = node.get("name") or node_id
        if kind in ACTIVITIES and not (node.get("name") or "").strip():
            found.append(Finding("unnamed-task", node_id, "warning", f"Task {node_id} has no name.",
                                 "Name the task after the work done in it, so that it reads well in the inbox "
                                 "and the history.", {"id": node_id}))
        if kind == "userTask" and not _has_form(node):
            found.append(Finding("user-task-no-form", node_id, "warning", f"User task {name} has no form.",
                                 "Choose the form the person fills in for this task.", {"name": name}))
        if kind == "serviceTask" and _spiff(node, "serviceTaskOperator") is None:
            found.append(Finding("service-task-no-operator", node_id, "error",
                                 f"Service task {name} has no operator, so nothing would be done there.",
                                 "Choose one of the registered operators.", {"name": name}))
        if kind in ACTIVITIES and len(self.outgoing.get(node_id, [])) > 1 and not _for_compensation(node):
            found.append(Finding("implicit-split", node_id, "warning",
                                 f"Task {name} has several outgoing flows, which all run at once.",
                                 "Draw a gateway after the task: exclusive to choose one path, parallel to run "
                                 "them all.", {"name": name}))
        if kind in CONDITIONAL_GATEWAYS and len(self.outgoing.get(node_id, [])) > 1:
            found += self._conditions(node_id, node, name)
        for timer in node.iter(_tag("timerEventDefinition")):
            if not any((child.text or "").strip() for child in timer if _local(child) in
                       ("timeDuration", "timeDate", "timeCycle")):
                found.append(Finding("timer-without-definition", node_id, "error",
                                     f"Timer {name} does not say when it fires.",
                                     'Give it a duration ("P2D"), a date or a cycle ("R3/PT1H").', {"name": name}))
        return found

    def _connection(self, node_id: str, node, kind: str) -> list[Finding]:
        if self.kind == "adHocSubProcess" or _for_compensation(node) or node.get("triggeredByEvent") == "true":
            return []
        needs_in = kind not in ("startEvent", "boundaryEvent")
        needs_out = kind != "endEvent"
        lacks_in = needs_in and not self.incoming.get(node_id)
        lacks_out = needs_out and not self.outgoing.get(node_id)
        if not (lacks_in or lacks_out):
            return []
        name = node.get("name") or node_id
        if lacks_in and lacks_out or not (needs_in and needs_out):
            message, severity = f"{name} is not connected to the rest of the diagram.", "error"
        elif lacks_in:
            message, severity = f"Nothing leads to {name}: it is never reached.", "warning"
        else:
            message, severity = f"Nothing leaves {name}: the path ends there without an end event.", "warning"
        return [Finding("disconnected", node_id, severity, message,
                        "Connect it with sequence flows, or delete it.",
                        {"name": name, "incoming": not lacks_in, "outgoing": not lacks_out})]

    def _conditions(self, node_id: str, node, name: str) -> list[Finding]:
        default = node.get("default")
        flows = self.outgoing[node_id]
        unconditioned = [f for f in flows if not _condition(f) and f.get("id") != default]
        if node.get("default") is None and not unconditioned:
            return [Finding("gateway-no-default", node_id, "warning",
                            f"Gateway {name} has no default flow: when no condition holds, the instance stops "
                            "with an incident.",
                            "Mark one outgoing flow as the default flow.", {"name": name})]
        if _local(node) != "exclusiveGateway":
            return []
        return [Finding("condition-missing", f.get("id"), "error",
                        f"Flow {f.get('name') or f.get('id')} leaving gateway {name} has no condition and is not "
                        "the default flow.",
                        "Give the flow a condition, or make it the gateway's default flow.",
                        {"flow": f.get("name") or f.get("id"), "gateway": name}) for f in unconditioned]

    # ------------------------------------------------------------ loops

    def _back_edges(self) -> list[Finding]:
        """Flows from a gateway back to a task passed before: a rework loop drawn as a back-edge."""
        found = []
        for flow, cycle in self._cycles():
            source = self.nodes.get(flow.get("sourceRef"))
            if source is None or _local(source) not in GATEWAYS:
                continue
            tasks = [n for n in cycle if _local(self.nodes[n]) in ACTIVITIES]
            if not tasks:
                continue
            target = self.nodes[tasks[0]]
            target_name = target.get("name") or tasks[0]
            gateway = source.get("name") or source.get("id")
            found.append(Finding(
                "back-edge-loop", flow.get("id"), "warning",
                f"The flow from gateway {gateway} goes back to {target_name}: a loop drawn as a back-edge.",
                "To send work back for revision, use the Return (退回) action on the task instead of drawing the "
                "way back; to repeat a task, give it a standard loop or multi-instance marker.",
                {"gateway": gateway, "task": target_name, "task_id": tasks[0]}))
        return found

    def _cycles(self):
        """(closing flow, node ids on the cycle from its target to its source) for each back-edge of a depth-first
        walk from the start events (then from anything not yet reached)."""
        successors = {node_id: [(f, f.get("targetRef")) for f in self.outgoing.get(node_id, [])
                                if f.get("targetRef") in self.nodes] for node_id in self.nodes}
        for node_id, node in self.nodes.items():  # a boundary event runs on from the task it is attached to
            attached = node.get("attachedToRef")
            if _local(node) == "boundaryEvent" and attached in successors:
                successors[attached].append((None, node_id))
        starts = [n for n, el in self.nodes.items() if _local(el) == "startEvent"] + list(self.nodes)
        state: dict[str, int] = {}  # 1 on the current path, 2 done
        for start in starts:
            if start in state:
                continue
            path, stack = [start], [iter(successors[start])]
            state[start] = 1
            while stack:
                step = next(stack[-1], None)
                if step is None:
                    state[path.pop()] = 2
                    stack.pop()
                    continue
                flow, target = step
                if state.get(target) == 1 and flow is not None:
                    yield flow, path[path.index(target):]
                elif target not in state:
                    state[target] = 1
                    path.append(target)
                    stack.append(iter(successors[target]))


def _spiff(el, name: str):
    return el.find(f"{_tag('extensionElements')}/{{{SPIFF_NS}}}{name}")


def _has_form(el) -> bool:
    props = _spiff(el, "properties")
    return props is not None and any(p.get("name") in ("formKey", "formJsonSchemaFilename") and p.get("value")
                                     for p in props)


def _condition(flow) -> str:
    condition = flow.find(_tag("conditionExpression"))
    return (condition.text or "").strip() if condition is not None else ""


def _for_compensation(el) -> bool:
    """A compensation handler or its boundary event: tied together by an association, not by flows."""
    return el.get("isForCompensation") == "true" or el.find(_tag("compensateEventDefinition")) is not None

