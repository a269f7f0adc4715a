"""Tiny BPMN documents built in tests (for the deploy checks' bad inputs)."""

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="defs" '
        'targetNamespace="http://erp.example/test">\n')


def process(pid: str, body: str, *, head_extra: str = "") -> bytes:
    """A process start → body → end; `body` is elements between f1 (from start) and f_end (to end)."""
    return (HEAD + head_extra + f'<bpmn:process id="{pid}" isExecutable="true">\n'
            '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>\n'
            + body +
            '<bpmn:endEvent id="end"><bpmn:incoming>f_end</bpmn:incoming></bpmn:endEvent>\n'
            '</bpmn:process>\n</bpmn:definitions>\n').encode()


def one_task(pid: str, task_xml: str) -> bytes:
    """`task_xml` is one task element with id "t" (its incoming/outgoing are added here)."""
    tag_end = task_xml.index(">") + 1
    if task_xml[tag_end - 2] == "/":
        task_xml = task_xml[:tag_end - 2] + ">" + task_xml[tag_end:]
        closing = "</bpmn:" + task_xml[1:].split()[0].split(":")[1] + ">"
        task_xml += closing
        tag_end -= 1
    inner = '<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f_end</bpmn:outgoing>'
    if "</bpmn:extensionElements>" in task_xml:  # the schema wants flows after the extensions
        tag_end = task_xml.index("</bpmn:extensionElements>") + len("</bpmn:extensionElements>")
    task_xml = task_xml[:tag_end] + inner + task_xml[tag_end:]
    return process(pid, task_xml + '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t"/>'
                   '<bpmn:sequenceFlow id="f_end" sourceRef="t" targetRef="end"/>\n')
