"""Deploy-time reading of BPMN and DMN files: safe XML, XSD validation, SpiffWorkflow parsing and the checks
SpiffWorkflow leaves to us (every expression compiled in the sandbox, forms, operators, call activities).

Every problem becomes a DeployProblem naming the file, the element id and, where the XML has it, the line, with
its message as a template of engine.messages (shown in the reader's language) beside the English text.
A diagram from another modeler is explained element by element (explain_unexecutable) before SpiffWorkflow,
which stops at the first element it cannot build, gets to see it.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.specs.MultiChoice import MultiChoice
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from engine.messages import code_error, engine_says, form_problem, say
from engine.sandbox import check_source
from engine.specs import Parser, ServiceTask

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
MAX_FILE_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class DeployProblem:
    file: str
    element_id: str | None
    line: int | None
    message: str  # English, for the command line and the API
    #: the message as a template of engine.messages with its parameters (None: a text no template knows)
    template: str | None = field(default=None, compare=False)
    params: dict = field(default_factory=dict, compare=False)

    @classmethod
    def said(cls, file: str, element_id: str | None, line: int | None, said: dict) -> DeployProblem:
        """From a message of engine.messages (say(), or a recogniser's)."""
        return cls(file, element_id, line, said["message"], said["template"], said["params"])

    @property
    def as_said(self) -> dict:
        """{"message", "template", "params"}, for engine.messages.translated."""
        return {"message": self.message, "template": self.template, "params": self.params}

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
        if self.element_id:
            where += f" [{self.element_id}]"
        return f"{where}: {self.message}"


@dataclass
class ParsedProcess:
    key: str
    name: str | None
    spec: object
    subprocess_specs: dict
    files: list[str]
    forms: dict[str, str] = field(default_factory=dict)
    message_starts: list[str] = field(default_factory=list)

    def content_hash(self, sources: dict[str, bytes]) -> str:
        """Over the files' contents only: the same diagrams deployed from another folder or under another
        file name are the same version."""
        digest = hashlib.sha256()
        for content in sorted(hashlib.sha256(sources[name]).digest() for name in self.files):
            digest.update(content)
        return digest.hexdigest()


_SAFE_PARSER_OPTIONS = dict(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
    remove_comments=False,
)
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_NO_DOCTYPE = "DOCTYPE and entity declarations are not allowed in BPMN/DMN files (refused for safety)"


def safe_parse(data: bytes, filename: str):
    """Parse untrusted XML: no DTD, no entities, no network, bounded size. Returns the root element."""
    if len(data) > MAX_FILE_BYTES:
        raise _Problem(filename, None, None, say("file is larger than {mb} MB", mb=MAX_FILE_BYTES // 1024 // 1024))
    if _DOCTYPE.search(data):
        raise _Problem(filename, None, None, say(_NO_DOCTYPE))
    if b"\x00" in data:  # UTF-16/32 would slip past the DOCTYPE check above
        raise _Problem(filename, None, None, say("the file must be UTF-8 encoded XML"))
    parser = etree.XMLParser(**_SAFE_PARSER_OPTIONS)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise _Problem(filename, None, exc.lineno, say("malformed XML: {detail}", detail=exc.msg)) from None
    except ValueError as exc:  # lxml refuses some encodings and declarations outright
        raise _Problem(filename, None, None, say("unreadable XML: {detail}", detail=exc)) from None
    if root is None:
        raise _Problem(filename, None, None, say("empty document"))
    if root.getroottree().docinfo.internalDTD is not None:
        raise _Problem(filename, None, None, say(_NO_DOCTYPE))
    return root


class _Problem(Exception):
    def __init__(self, file, element_id, line, said: dict):
        super().__init__(said["message"])
        self.problem = DeployProblem.said(file, element_id, line, said)


def is_dmn(root) -> bool:
    return etree.QName(root).localname == "definitions" and "dmn" in (etree.QName(root).namespace or "").lower()


class DeploymentReader:
    """Reads a set of files into parsed processes, collecting every problem instead of stopping at the first."""

    def __init__(self, operators: set[str], forms, dependency_sources=None):
        self.operators = operators
        self.forms = forms
        #: callable(process key) -> {file name: bytes} of an already-deployed process, or None
        self.dependency_sources = dependency_sources or (lambda key: None)
        self.problems: list[DeployProblem] = []
        self.lines: dict[str, dict[str, int]] = {}  # file -> element id -> line

    def read(self, sources: dict[str, bytes]) -> list[ParsedProcess]:
        parser = Parser(validator=VALIDATOR)
        roots = {}
        for name, data in sorted(sources.items()):
            try:
                roots[name] = safe_parse(data, name)
            except _Problem as exc:
                self.problems.append(exc.problem)
        explanations = []
        for name, root in roots.items():
            self.lines[name] = {el.get("id"): el.sourceline for el in root.iter() if el.get("id")}
            if not is_dmn(root):
                explanations += [DeployProblem.said(name, element, self.lines[name].get(element), why)
                                 for element, why in explain_unexecutable(root)]
            self._add(parser, name, root)
        if self.problems:
            return []
        own_keys = [k for k, p in parser.process_parsers.items() if p.filename in roots]
        self._add_missing_dependencies(parser, sources)
        for name, root in roots.items():
            for call in root.iter(f"{{{BPMN_NS}}}callActivity"):
                called = call.get("calledElement")
                if called and called not in parser.process_parsers:
                    self._problem(name, call.get("id"), say(
                        "call activity targets process {process}, which is neither in this deployment nor deployed "
                        "before", process=repr(called)))
        processes = []
        if not self.problems:
            for key in own_keys:
                if not parser.process_parsers[key].process_executable:
                    continue
                process = self._parse_process(parser, key)
                if process is not None:
                    processes.append(process)
        self.problems = _merge_explanations(explanations, self.problems)
        if not processes and not self.problems:
            self.problems.append(DeployProblem.said(", ".join(sorted(sources)) or "(no files)", None, None,
                                                    say("no executable process found")))
        return [] if self.problems else processes

    def _add(self, parser, name, root):
        try:
            if is_dmn(root):
                parser.add_dmn_xml(root, filename=name)
            else:
                parser.add_bpmn_xml(root, filename=name)
        except ValidationException as exc:
            self.problems.append(self._from_validation(exc, name))
        except etree.LxmlError as exc:
            self.problems.append(DeployProblem.said(name, None, None, engine_says(str(exc))))

    def _add_missing_dependencies(self, parser, sources):
        """A call activity may target a process deployed earlier: bring in that process's files."""
        missing = [d for d in parser.get_process_dependencies() if d and d not in parser.process_parsers]
        seen = set(sources)
        while missing:
            key = missing.pop()
            extra = self.dependency_sources(key) or {}
            for name, data in extra.items():
                if name in seen:
                    continue
                seen.add(name)
                sources[name] = data
                root = safe_parse(data, name)
                self.lines[name] = {el.get("id"): el.sourceline for el in root.iter() if el.get("id")}
                self._add(parser, name, root)
            missing = [d for d in parser.get_process_dependencies() if d and d not in parser.process_parsers
                       and d != key and d not in missing]

    def _parse_process(self, parser, key) -> ParsedProcess | None:
        file = parser.process_parsers[key].filename
        try:
            spec = parser.get_spec(key)
            subprocess_specs = parser.get_subprocess_specs(key)
        except ValidationException as exc:
            self.problems.append(self._from_validation(exc, file))
            return None
        except Exception as exc:  # SpiffWorkflow raises assorted errors on odd diagrams
            self.problems.append(DeployProblem.said(file, None, None, say(
                "cannot parse process {process}: {detail}", process=repr(key), detail=exc)))
            return None
        files = {file}
        for sub_key in subprocess_specs:
            sub_parser = parser.process_parsers.get(sub_key)
            if sub_parser is not None:
                files.add(sub_parser.filename)
        process = ParsedProcess(key, parser.process_parsers[key].get_name(), spec, subprocess_specs, [])
        for s in [spec, *subprocess_specs.values()]:
            s_file = parser.process_parsers[s.name].filename if s.name in parser.process_parsers else file
            for task_spec in s.task_specs.values():
                self._check_task(task_spec, s_file, process, parser, files)
        for task_spec in spec.task_specs.values():  # the start form: what a person fills in to start it
            if isinstance(task_spec, StartEvent) and form_key_of(task_spec):
                self._start_form(task_spec, file, process)
        process.files = sorted(files)
        process.message_starts = sorted(
            ts.event_definition.name for ts in spec.task_specs.values()
            if isinstance(ts, StartEvent) and isinstance(getattr(ts, "event_definition", None),
                                                        MessageEventDefinition))
        return process

    def _start_form(self, task_spec, file, process):
        element, form_key = task_spec.bpmn_id or task_spec.name, form_key_of(task_spec)
        process.forms[element] = form_key
        for message in self.forms.problems(form_key):
            self._problem(file, element, form_problem(message))

    def _check_task(self, task_spec, file, process, parser, files):
        element = getattr(task_spec, "bpmn_id", None) or task_spec.name

        def check(source, mode, template, **params):
            if source is None or not str(source).strip():
                return
            for message in check_source(str(source), mode):
                self._problem(file, element, say(template, error=code_error(message), **params))

        check(getattr(task_spec, "script", None), "exec", "script: {error}")
        check(getattr(task_spec, "prescript", None), "exec", "pre-script: {error}")
        check(getattr(task_spec, "postscript", None), "exec", "post-script: {error}")
        if isinstance(task_spec, MultiChoice):
            for condition, target in task_spec.cond_task_specs:
                if condition is not None:
                    check(getattr(condition, "args", [condition])[0], "eval", "condition to {target}: {error}",
                          target=target)
        for attr in ("condition", "cardinality"):
            value = getattr(task_spec, attr, None)
            if isinstance(value, str):
                check(value, "eval", f"{attr}: {{error}}")
        definition = getattr(task_spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition):
            check(definition.expression, "eval", "timer expression: {error}")
        if isinstance(definition, MessageEventDefinition):
            check(getattr(definition, "expression", None), "eval", "message payload expression: {error}")
            for prop in [*definition.correlation_properties, *getattr(definition, "process_correlations", [])]:
                check(prop.retrieval_expression, "eval", "correlation property {name}: {error}", name=prop.name)
        if isinstance(task_spec, ServiceTask):
            if task_spec.operation_name not in self.operators:
                operator = repr(task_spec.operation_name)
                self._problem(file, element, say(
                    "service-task operator {operator} is not registered (registered: {known})", operator=operator,
                    known=", ".join(sorted(self.operators))) if self.operators else say(
                    "service-task operator {operator} is not registered (registered: none)", operator=operator))
            for name, param in task_spec.operation_params.items():
                check(param.get("value"), "eval", "parameter {name}: {error}", name=name)
        if isinstance(task_spec, (UserTask, ManualTask)):
            form_key = form_key_of(task_spec)
            if form_key:
                process.forms[element] = form_key
                for message in self.forms.problems(form_key):
                    self._problem(file, element, form_problem(message))
            for prop in ("dueDate", "assignee", "candidateUsers", "candidateGroups", "priority"):
                value = properties_of(task_spec).get(prop)
                if value and prop != "priority" or (prop == "priority" and value and not value.isdigit()):
                    check(value, "eval", "{property} expression: {error}", property=prop)
        dmn = getattr(task_spec, "dmnEngine", None)
        if dmn is not None:
            self._check_decision_table(dmn.decision_table, parser, files)
        if isinstance(task_spec, SubWorkflowTask) and task_spec.spec not in process.subprocess_specs:
            self._problem(file, element, say("called process {process} not found", process=repr(task_spec.spec)))

    def _check_decision_table(self, table, parser, files):
        dmn_parser = next((p for p in parser.dmn_parsers.values() if p.decision.decisionTables
                           and p.decision.decisionTables[0] is table), None)
        file = dmn_parser.filename if dmn_parser is not None else "(DMN)"
        files.add(file)
        for inp in table.inputs:
            if inp.expression:
                for message in check_source(inp.expression, "eval"):
                    self._problem(file, inp.id, say("input expression: {error}", error=code_error(message)))
        for rule in table.rules:
            for entry in rule.inputEntries:
                for lhs in entry.lhs:
                    if lhs and not _dmn_match_compiles(entry.input.expression or "x", lhs):
                        self._problem(file, entry.id, say("rule {rule}: cannot compile test {test}",
                                                          rule=rule.row_number, test=repr(lhs)))
            for entry in rule.outputEntries:
                if entry.text:
                    for message in check_source(entry.text, "eval"):
                        self._problem(file, entry.id, say("rule {rule} output: {error}", rule=rule.row_number,
                                                          error=code_error(message)))

    def _problem(self, file, element_id, said: dict):
        line = self.lines.get(file, {}).get(element_id)
        self.problems.append(DeployProblem.said(file, element_id, line, said))

    def _from_validation(self, exc: ValidationException, default_file: str) -> DeployProblem:
        file = exc.file_name or default_file
        element = getattr(exc, "id", None) or None
        line = getattr(exc, "line_number", None) or self.lines.get(file, {}).get(element)
        if element is None and line:  # schema errors carry a line only: name the element that starts there
            element = next((el for el, at in self.lines.get(file, {}).items() if at == int(line)), None)
        message = (str(exc).split("\n")[0].replace(f"{{{BPMN_NS}}}", "bpmn:")
                   .replace("{http://spiffworkflow.org/bpmn/schema/1.0/core}", "spiffworkflow:"))
        return DeployProblem.said(file, element, int(line) if line else None, engine_says(message))


def _dmn_match_compiles(input_expr: str, match: str) -> bool:
    """Mirror SpiffWorkflow's DMNEngine.evaluate: '?' stands for the input, else `==` or an operator prefix."""
    if "?" in match:
        return not check_source(match.replace("?", "dmninputexpr"), "eval")
    return (not check_source(f"({input_expr}) == ({match})", "eval")
            or not check_source(f"{input_expr} {match}", "eval"))


def properties_of(task_spec) -> dict:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {}) or {}


def form_key_of(task_spec) -> str | None:
    props = properties_of(task_spec)
    key = props.get("formKey") or props.get("formJsonSchemaFilename")
    if key and key.endswith(".json"):
        key = key[: -len(".json")]
    return key


def is_catching_message(task_spec) -> bool:
    return isinstance(task_spec, CatchingEvent) and isinstance(
        getattr(task_spec, "event_definition", None), MessageEventDefinition)


# ---------------------------------------------------------------- what we cannot execute, element by element
# A diagram from another modeler (Camunda, Zeebe, Flowable...) parses, but SpiffWorkflow stops at the first
# element it cannot build, with a message about its own internals. These checks read the XML itself and say,
# for every such element, what is missing and what to use instead.

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
_UNSUPPORTED = {
    "complexGateway": "complex gateways are not supported: use an exclusive, inclusive or parallel gateway",
    "transaction": "transaction subprocesses are not supported (their cancel and compensation are not run): "
                   "use an embedded subprocess with an error boundary event",
    "compensateEventDefinition": "compensation events are not supported: draw the undo step as a task reached "
                                 "from an error boundary event",
    "linkEventDefinition": "link events are not supported: draw the sequence flow directly",
}
_PYTHON_SCRIPTS = {"", "python", "python3", "text/x-python", "text/python", "application/x-python"}
_FOREIGN_IMPLEMENTATION = ("class", "delegateExpression", "expression", "topic", "type", "taskDefinition",
                           "connector", "decisionRef", "calledDecision", "formKey", "formRef", "formDefinition",
                           "userTaskForm", "calledElement")
_ISO_LITERAL = re.compile(r"^(R\d*/)?(P(?=[\dT])[\dYMWDTHS.,]*|\d{4}-\d\d-\d\d(T[\d:.]+(Z|[+-][\d:]+)?)?)$")


def explain_unexecutable(root) -> list[tuple[str | None, dict]]:
    """(element id, why) for each element of a BPMN document that this engine cannot execute as drawn; why is a
    message of engine.messages."""
    found = []
    for el in root.iter(etree.Element):
        if etree.QName(el).namespace != BPMN_NS:
            continue
        tag = etree.QName(el).localname
        why = _why_unexecutable(el, tag)
        if why:
            found.append((_shape_of(el), why))
    return found


def _shape_of(el) -> str | None:
    """The id of the element a problem shows on: a timer or condition belongs to its event or flow."""
    while el is not None and (not el.get("id") or etree.QName(el).localname.endswith("EventDefinition")):
        el = el.getparent()
    return el.get("id") if el is not None else None


def _why_unexecutable(el, tag: str) -> dict | None:
    if tag in _UNSUPPORTED:
        return say(_UNSUPPORTED[tag])
    if el.get("isForCompensation") == "true":
        return say("compensation handlers are not supported: draw the undo step in the normal flow")
    check = _ELEMENT_CHECKS.get(tag)
    return check(el) if check else None


def _spiff(el, name: str):
    return el.find(f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}{name}")


def _foreign(el) -> str | None:
    """How another modeler implements the element, as `prefix:name=value` (None when it says nothing)."""
    prefixes = {ns: prefix for prefix, ns in el.nsmap.items() if prefix}
    for name, value in el.attrib.items():
        qname = etree.QName(name)
        if qname.namespace not in (None, BPMN_NS, SPIFF_NS) and qname.localname in _FOREIGN_IMPLEMENTATION:
            return f"{prefixes.get(qname.namespace, qname.namespace)}:{qname.localname}={value}"
    extensions = el.find(f"{{{BPMN_NS}}}extensionElements")
    for child in extensions if extensions is not None else []:
        qname = etree.QName(child) if isinstance(child.tag, str) else None
        if qname is not None and qname.namespace != SPIFF_NS and qname.localname in _FOREIGN_IMPLEMENTATION:
            detail = next(iter(child.attrib.values()), "")
            return f"{prefixes.get(qname.namespace, qname.namespace)}:{qname.localname}" + (
                f"={detail}" if detail else "")
    return None


def _missing(el, template: str) -> dict:
    """`template` names what is missing and what to do: "{what}: {do}" or, when another modeler's attribute
    is there instead, "{what} (it is given as {foreign}, which belongs to another modeler): {do}"."""
    foreign = _foreign(el)
    if foreign is None:
        return say(template)
    what, do = template.split(": ", 1)
    return say(f"{what} (it is given as {{foreign}}, which belongs to another modeler): {do}", foreign=foreign)


def _service_task(el) -> dict | None:
    if _spiff(el, "serviceTaskOperator") is not None:
        return None
    return _missing(el, "service task has no operator: choose one of the registered operators "
                        "(spiffworkflow:serviceTaskOperator)")


def _user_task(el) -> dict | None:
    foreign = _foreign(el)
    props = _spiff(el, "properties")
    ours = props is not None and any(p.get("name") in ("formKey", "formJsonSchemaFilename") for p in props)
    if ours or foreign is None or "form" not in foreign.lower():
        return None
    return say("user task has no form of ours (its form {foreign} belongs to another modeler): choose one of our "
               "forms", foreign=foreign)


def _business_rule_task(el) -> dict | None:
    if _spiff(el, "calledDecisionId") is not None:
        return None
    return _missing(el, "business rule task names no decision table: choose a deployed decision "
                        "(spiffworkflow:calledDecisionId)")


def _call_activity(el) -> dict | None:
    if el.get("calledElement"):
        return None
    return _missing(el, "call activity names no process to call: set the called process")


def _script_task(el) -> dict | None:
    language = (el.get("scriptFormat") or "").strip().lower()
    if language not in _PYTHON_SCRIPTS:
        return say("the script is written in {language}: scripts here are Python, run in the sandbox",
                   language=el.get("scriptFormat"))
    if el.find(f"{{{BPMN_NS}}}script") is None:
        return _missing(el, "script task has no script: write it in Python")
    return None


def _expression(what: str, example: str):
    def check(el) -> dict | None:
        text = (el.text or "").strip()
        language = (el.get("language") or "").lower()
        if text.startswith(("${", "#{")) or language in ("juel", "javascript", "groovy"):
            return say(f"the {what} {{text}} is a Java (JUEL) expression: expressions here are Python, "
                       "e.g. {example}", text=repr(text), example=example)
        if text.startswith("=") or "feel" in language:
            return say(f"the {what} {{text}} is a FEEL expression: expressions here are Python, e.g. {{example}}",
                       text=repr(text), example=example)
        if what == "timer" and _ISO_LITERAL.match(text):
            return say('the timer {text} is a bare ISO 8601 value: timer expressions here are Python, write '
                       '"{value}"', text=repr(text), value=text)
        return None
    return check


_ELEMENT_CHECKS = {
    "serviceTask": _service_task,
    "userTask": _user_task,
    "businessRuleTask": _business_rule_task,
    "callActivity": _call_activity,
    "scriptTask": _script_task,
    "conditionExpression": _expression("condition", "amount > 10000"),
    "timeDuration": _expression("timer", '"PT5M"'),
    "timeDate": _expression("timer", '"2030-01-31T09:00:00+08:00"'),
    "timeCycle": _expression("timer", '"R3/PT1H"'),
}


def _merge_explanations(explanations: list[DeployProblem], problems: list[DeployProblem]) -> list[DeployProblem]:
    """The explanations first; a later problem about an element already explained (or a parser crash in a file
    with explanations, which they are the cause of) would only repeat it in SpiffWorkflow's words."""
    explained = {(p.file, p.element_id) for p in explanations}
    files = {p.file for p in explanations}
    rest = [p for p in problems if (p.file, p.element_id) not in explained
            and not (p.file in files and p.element_id is None)]
    return explanations + rest
