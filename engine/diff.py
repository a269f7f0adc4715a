"""Semantic comparison of two versions of a BPMN diagram or DMN decision table: which elements were added,
removed or changed, and in what (name, flow ends, condition, script, form, operator, timer, message, called
process, lane; DMN rules, inputs, outputs). The diagram layout (DI) and the order of the XML are ignored.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from core.errors import InvalidInput
from engine.parsing import BPMN_NS, SPIFF_NS, _Problem, is_dmn, safe_parse

#: BPMN elements compared one by one; whatever sits inside them (event definitions, conditions, scripts,
#: extensions) is folded into their details
BPMN_ELEMENTS = {
    "process", "subProcess", "transaction", "adHocSubProcess", "task", "userTask", "manualTask", "scriptTask",
    "serviceTask", "businessRuleTask", "sendTask", "receiveTask", "callActivity", "exclusiveGateway",
    "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway", "startEvent", "endEvent",
    "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "sequenceFlow", "lane", "message",
    "error", "signal", "escalation", "correlationProperty", "dataObject",
}
DMN_ELEMENTS = {"decision", "decisionTable", "input", "output", "rule"}
_RENAMED = {"sourceRef": "source", "targetRef": "target", "calledElement": "called process",
            "attachedToRef": "attached to", "messageRef": "message", "errorRef": "error", "signalRef": "signal",
            "escalationRef": "escalation", "default": "default flow", "isExecutable": "executable",
            "cancelActivity": "interrupting", "triggeredByEvent": "event subprocess"}
_SPIFF_TEXTS = {"preScript": "pre-script", "postScript": "post-script", "calledDecisionId": "decision",
                "instructionsForEndUser": "instructions", "messageVariable": "message variable"}
#: structure derived elsewhere (flows, lane membership) and artifacts that change nothing in how a process runs
_SKIPPED = {"incoming", "outgoing", "flowNodeRef", "laneSet", "childLaneSet", "extensionElements", "textAnnotation",
            "association", "group", "category"}


@dataclass(frozen=True)
class Change:
    kind: str  # "added" | "removed" | "changed"
    element_id: str
    element_type: str  # e.g. "userTask", "sequenceFlow", "rule"
    name: str | None
    details: tuple[tuple[str, str | None, str | None], ...]  # (attribute, old, new)


def diff(old: bytes | str, new: bytes | str) -> list[Change]:
    """What changed from `old` to `new`: elements of `new` in document order, then those removed."""
    before, after = _elements(_parse(old, "old")), _elements(_parse(new, "new"))
    changes = []
    for element_id, (kind, name, details) in after.items():
        if element_id not in before:
            changes.append(Change("added", element_id, kind, name,
                                  tuple((k, None, v) for k, v in sorted(details.items()))))
            continue
        old_kind, _, old_details = before[element_id]
        if old_kind != kind:
            old_details = {**old_details, "type": old_kind}
            details = {**details, "type": kind}
        changed = tuple((k, old_details.get(k), details.get(k)) for k in sorted({*old_details, *details})
                        if old_details.get(k) != details.get(k))
        if changed:
            changes.append(Change("changed", element_id, kind, name, changed))
    for element_id, (kind, name, details) in before.items():
        if element_id not in after:
            changes.append(Change("removed", element_id, kind, name,
                                  tuple((k, v, None) for k, v in sorted(details.items()))))
    return changes


def _parse(source: bytes | str, which: str):
    data = source.encode("utf-8") if isinstance(source, str) else source
    try:
        return safe_parse(data, f"{which} version")
    except _Problem as exc:
        raise InvalidInput(str(exc.problem)) from None


def _elements(root) -> dict[str, tuple[str, str | None, dict[str, str]]]:
    """{id: (type, name, {attribute: value})} of the compared elements."""
    if is_dmn(root):
        namespace, wanted, describe = etree.QName(root).namespace, DMN_ELEMENTS, _dmn_details
    else:
        namespace, wanted, describe = BPMN_NS, BPMN_ELEMENTS, _bpmn_details
    lanes = _lane_of(root) if namespace == BPMN_NS else {}
    found = {}
    for el in root.iter(f"{{{namespace}}}*"):
        kind = etree.QName(el).localname
        if kind in wanted and el.get("id"):
            details = describe(el, kind)
            if el.get("id") in lanes:
                details["lane"] = lanes[el.get("id")]
            name = el.get("name") or el.get("label")
            found[el.get("id")] = (kind, name, {k: v for k, v in details.items() if v not in (None, "")})
    return found


def _lane_of(root) -> dict[str, str]:
    """Lane membership: flow node id → the name (else id) of the innermost lane listing it."""
    lanes = {}
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        for ref in lane.iterfind(f"{{{BPMN_NS}}}flowNodeRef"):
            lanes[(ref.text or "").strip()] = lane.get("name") or lane.get("id")
    return lanes


def _text(el) -> str | None:
    if el is None or el.text is None:
        return None
    return "\n".join(line.rstrip() for line in el.text.replace("\r\n", "\n").strip().split("\n"))


#: BPMN attributes with a default in the schema: a modeler may write or omit them (bpmn-js omits
#: cancelActivity="true"), so a value equal to its default is no change
_DEFAULTS = {"cancelActivity": "true", "isInterrupting": "true", "triggeredByEvent": "false",
             "isForCompensation": "false", "startQuantity": "1", "completionQuantity": "1",
             "isImmediate": "true", "parallelMultiple": "false", "isClosed": "false", "instantiate": "false",
             "gatewayDirection": "Unspecified", "isExecutable": None, "processType": "None"}


def _attributes(el) -> dict[str, str]:
    prefixes = {ns: prefix for prefix, ns in el.nsmap.items() if prefix}
    found = {}
    for key, value in el.attrib.items():
        qname = etree.QName(key)
        if qname.localname == "id" and qname.namespace is None:
            continue
        if qname.namespace is None and _DEFAULTS.get(qname.localname) == value:
            continue
        name = (_RENAMED.get(qname.localname, qname.localname) if qname.namespace is None
                else f"{prefixes.get(qname.namespace, qname.namespace)}:{qname.localname}")
        found[name] = value
    return found


def _bpmn_details(el, kind: str) -> dict[str, str | None]:
    details = _attributes(el)
    for child in el:
        if not isinstance(child.tag, str):
            continue
        qname = etree.QName(child)
        local = qname.localname
        if qname.namespace == BPMN_NS and (local in BPMN_ELEMENTS and child.get("id") or local in _SKIPPED):
            continue  # compared on their own, or derived from the flows
        if qname.namespace == BPMN_NS and local.endswith("EventDefinition"):
            details.update(_event_definition(child))
        elif qname.namespace == BPMN_NS and local.endswith("LoopCharacteristics"):
            details.update(_loop(child))
        elif qname.namespace == BPMN_NS:
            details[_label(local)] = _text(child) or _canonical(child)
    details.update(_extensions(el))
    return details


def _label(local: str) -> str:
    return {"conditionExpression": "condition", "script": "script", "documentation": "documentation"}.get(
        local, re.sub(r"(?<!^)(?=[A-Z])", " ", local).lower())


def _event_definition(el) -> dict[str, str | None]:
    kind = etree.QName(el).localname[: -len("EventDefinition")]
    details = {"event": kind}
    for key, value in _attributes(el).items():
        details[f"{kind} {key}" if key not in ("message", "error", "signal", "escalation") else key] = value
    for child in el:
        if isinstance(child.tag, str) and etree.QName(child).namespace == BPMN_NS and child.tag.endswith(
                ("timeDuration", "timeDate", "timeCycle")):
            details["timer"] = f"{etree.QName(child).localname[4:].lower()}: {_text(child)}"
    details.update(_extensions(el))
    return details


def _loop(el) -> dict[str, str | None]:
    local = etree.QName(el).localname
    kind = "standard loop" if local.startswith("standard") else (
        "sequential multi-instance" if el.get("isSequential") == "true" else "parallel multi-instance")
    details = {"loop": kind}
    for child in el:
        if isinstance(child.tag, str) and etree.QName(child).namespace == BPMN_NS:
            details[f"loop {_label(etree.QName(child).localname)}"] = _text(child) or _canonical(child)
    return details


def _extensions(el) -> dict[str, str | None]:
    """Our spiffworkflow: extensions one by one (forms, operators, scripts); another modeler's as its XML."""
    details = {}
    extensions = el.find(f"{{{BPMN_NS}}}extensionElements")
    for child in extensions if extensions is not None else []:
        if not isinstance(child.tag, str):
            continue
        qname = etree.QName(child)
        if qname.namespace != SPIFF_NS:
            details[child.prefix + ":" + qname.localname if child.prefix else qname.localname] = _canonical(child)
        elif qname.localname == "properties":
            details.update({p.get("name"): p.get("value") for p in child if isinstance(p.tag, str)})
        elif qname.localname == "serviceTaskOperator":
            details["operator"] = child.get("id")
            details["result variable"] = child.get("resultVariable")
            for param in child.iter(f"{{{SPIFF_NS}}}parameter"):
                details[f"parameter {param.get('id')}"] = param.get("value")
        else:
            details[_SPIFF_TEXTS.get(qname.localname, qname.localname)] = _text(child) or _canonical(child)
    return details


def _canonical(el) -> str:
    """An element's XML with insignificant whitespace removed, for extensions we do not interpret."""
    text = etree.tostring(el, encoding="unicode", with_tail=False)
    return re.sub(r">\s+<", "><", re.sub(r'\sxmlns(:\w+)?="[^"]*"', "", text)).strip()


def _dmn_details(el, kind: str) -> dict[str, str | None]:
    details = {k: v for k, v in _attributes(el).items()}
    ns = etree.QName(el).namespace
    if kind == "input":
        details["expression"] = _text(el.find(f"{{{ns}}}inputExpression/{{{ns}}}text"))
    elif kind == "rule":
        table = el.getparent()
        inputs = [i.get("label") or i.get("id") for i in table.iterfind(f"{{{ns}}}input")]
        outputs = [o.get("name") or o.get("label") or o.get("id") for o in table.iterfind(f"{{{ns}}}output")]
        details["row"] = str(list(table.iterfind(f"{{{ns}}}rule")).index(el) + 1)
        details["description"] = _text(el.find(f"{{{ns}}}description"))
        for label, entry in zip(inputs, el.iterfind(f"{{{ns}}}inputEntry"), strict=False):
            details[f"input {label}"] = _text(entry.find(f"{{{ns}}}text")) or "-"
        for label, entry in zip(outputs, el.iterfind(f"{{{ns}}}outputEntry"), strict=False):
            details[f"output {label}"] = _text(entry.find(f"{{{ns}}}text"))
    elif kind in ("decision", "decisionTable"):
        details["description"] = _text(el.find(f"{{{ns}}}description"))
    return details
