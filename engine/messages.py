"""What deploy validation says about a diagram, as message templates with named parameters: a DeployProblem
carries its template and parameters beside the English text, so the modeler shows it in the reader's language
while `erp deploy` and the API keep the English. Every template is listed here, and the zh-CN catalogue must
translate each one (tests/unit/test_engine_messages.py).

Texts written by SpiffWorkflow, lxml, Python's compiler, RestrictedPython and the form catalogue cannot be
templated where they are written: the common ones are recognised here by their wording (which their template
repeats exactly), and a text of the process engine that is not recognised keeps its English behind a translated
lead-in (`engine_says`).
"""
from __future__ import annotations

import re

#: the lead-in for a text of the process engine (SpiffWorkflow, lxml) that no template recognises
ENGINE_SAYS = "the process engine cannot parse this: {detail}"

# The product's own problems (engine.parsing, engine.deploy, engine.drafts).
OWN = (
    # the file
    "file is larger than {mb} MB",
    "DOCTYPE and entity declarations are not allowed in BPMN/DMN files (refused for safety)",
    "the file must be UTF-8 encoded XML",
    "malformed XML: {detail}",
    "unreadable XML: {detail}",
    "empty document",
    "the files cannot be read: {detail}",
    "no executable process found",
    "cannot parse process {process}: {detail}",
    ENGINE_SAYS,
    # a file opened in the modeler (engine.drafts)
    "{file} is not an acceptable file name",
    "{file}: only {suffixes} files can be opened in the modeler",
    "{file}: {problem}",
    "{file}: the file must be UTF-8 encoded",
    "{file}: not a BPMN or DMN file (its root element is {root})",
    "{file}: the file holds {kind} but its name says otherwise",
    "a comment saying what changed is required to deploy",
    # scripts and expressions (the error is one of SANDBOX, or the compiler's own words)
    "script: {error}",
    "pre-script: {error}",
    "post-script: {error}",
    "condition: {error}",
    "condition to {target}: {error}",
    "cardinality: {error}",
    "timer expression: {error}",
    "message payload expression: {error}",
    "correlation property {name}: {error}",
    "parameter {name}: {error}",
    "{property} expression: {error}",
    # decision tables
    "input expression: {error}",
    "rule {rule}: cannot compile test {test}",
    "rule {rule} output: {error}",
    "no deployed process uses decision {decision}: a decision table is deployed together with a process that "
    "calls it",
    # operators, forms, called processes
    "service-task operator {operator} is not registered (registered: {known})",
    "service-task operator {operator} is not registered (registered: none)",
    "call activity targets process {process}, which is neither in this deployment nor deployed before",
    "called process {process} not found",
    # what another modeler drew and this engine cannot execute (engine.parsing.explain_unexecutable)
    "complex gateways are not supported: use an exclusive, inclusive or parallel gateway",
    "transaction subprocesses are not supported (their cancel and compensation are not run): use an embedded "
    "subprocess with an error boundary event",
    "compensation events are not supported: draw the undo step as a task reached from an error boundary event",
    "link events are not supported: draw the sequence flow directly",
    "compensation handlers are not supported: draw the undo step in the normal flow",
    "service task has no operator: choose one of the registered operators (spiffworkflow:serviceTaskOperator)",
    "service task has no operator (it is given as {foreign}, which belongs to another modeler): choose one of the "
    "registered operators (spiffworkflow:serviceTaskOperator)",
    "user task has no form of ours (its form {foreign} belongs to another modeler): choose one of our forms",
    "business rule task names no decision table: choose a deployed decision (spiffworkflow:calledDecisionId)",
    "business rule task names no decision table (it is given as {foreign}, which belongs to another modeler): "
    "choose a deployed decision (spiffworkflow:calledDecisionId)",
    "call activity names no process to call: set the called process",
    "call activity names no process to call (it is given as {foreign}, which belongs to another modeler): set the "
    "called process",
    "the script is written in {language}: scripts here are Python, run in the sandbox",
    "script task has no script: write it in Python",
    "script task has no script (it is given as {foreign}, which belongs to another modeler): write it in Python",
    "the condition {text} is a Java (JUEL) expression: expressions here are Python, e.g. {example}",
    "the timer {text} is a Java (JUEL) expression: expressions here are Python, e.g. {example}",
    "the condition {text} is a FEEL expression: expressions here are Python, e.g. {example}",
    "the timer {text} is a FEEL expression: expressions here are Python, e.g. {example}",
    'the timer {text} is a bare ISO 8601 value: timer expressions here are Python, write "{value}"',
)

# The script sandbox (engine.sandbox.check_source): "Line N: ..." around its own words, RestrictedPython's
# or the compiler's.
CODE = (
    "Line {line}: syntax error: {detail}",
    "Line {line}: {error}",
)
SANDBOX = (
    'the name "{name}" is not allowed (names starting with "_" are reserved)',
    '"{name}" is not allowed here',
    'access to "{name}" is not allowed; use an f-string',
    'access to "{name}" is not allowed',
    "import is not allowed",
    "class definitions are not allowed",
    "augmented assignment to a slice is not allowed",
    "computed format specifications in f-strings are not allowed",
    "f-string format widths/precisions above 9999 are not allowed",
    "Exec calls are not allowed.",
    "Eval calls are not allowed.",
    "{statement} statements are not allowed.",
    '"{name}" is a reserved name.',
    "Unpacking in comprehensions is not allowed.",
)
PYTHON_SYNTAX = (
    "invalid syntax",
    "invalid syntax. Perhaps you forgot a comma?",
    "'{bracket}' was never closed",
    "unmatched '{bracket}'",
    "unexpected indent",
    "unindent does not match any outer indentation level",
    "expected ':'",
    "unterminated string literal (detected at line {line})",
    "unterminated triple-quoted string literal (detected at line {line})",
    "expected an indented block after {construct} on line {line}",
    "the code is nested too deeply",
)

# The form catalogue (forms.FormCatalog.problems) and timer start events (engine.timers).
FORMS = (
    "form {form} not found (looked for {path})",
    "form {form} is not a form of {folder}",
    "form {form} is not a valid JSON Schema: {detail}",
    "form file {file} is not valid JSON: {detail}",
)
TIMER_START = ("timer start {expression} cannot be scheduled: {detail}",)

# SpiffWorkflow's validation and the BPMN schema (lxml), without the dots SpiffWorkflow appends; the more
# specific wording first.
ENGINE = (
    "Element '{element}': This element is not expected. Expected is one of ( {expected} )",
    "Element '{element}': This element is not expected. Expected is ( {expected} )",
    "Element '{element}': This element is not expected",
    "Element '{element}', attribute '{attribute}': The attribute '{attribute}' is not allowed",
    "Element '{element}': The attribute '{attribute}' is required but missing",
    "Element '{element}', attribute '{attribute}': '{value}' is not a valid value of the atomic type 'xs:ID'",
    "Element '{element}', attribute '{attribute}': '{value}' is not a valid value of the {kind} type '{type}'",
    "Element '{element}': Missing child element(s). Expected is one of ( {expected} )",
    "Element '{element}': Missing child element(s). Expected is ( {expected} )",
    "Element '{element}': Character content other than whitespace is not allowed because the content type is "
    "'element-only'",
    "No start event found",
    "Process {process} is not executable",
    "Duplicate process ID: {process}",
    "The process '{process}' was not found. Did you mean one of the following: {choices}?",
    "Non-default exclusive outgoing sequence flow without condition",
    'No "calledElement" attribute for Call Activity',
    "A Service Task must have an operator",
    "There is no support implemented for this task type",
    "Could not find messageRef from message event definition: {message}",
    "Time Specification Error. Unknown Time Specification",
    "Time Specification Error. {detail}",
    "Conditional event definition with missing condition",
    "Exactly one start event is required in a SubWorkflow Task; found {count}",
    "A SubWorkflow Must contain an End event",
    'No DMN Diagram available with id "{decision}", Available DMN ids are: {available}',
    'No DMN Diagram available with id "{decision}", Available DMN ids are:',
    "Malformed Output Expression '{expression}'. {detail}",
    "No decisions found",
    "Multiple decision tables are not current supported",
)

TEMPLATES = frozenset((*OWN, *CODE, *SANDBOX, *PYTHON_SYNTAX, *FORMS, *TIMER_START, *ENGINE))


def say(template: str, **params) -> dict:
    """{"message": the English text, "template", "params"}. A parameter is text, or a message said itself
    (a dict from say() or a recogniser here), translated together with the message it is part of."""
    if template not in TEMPLATES:
        raise ValueError(f"no message template {template!r}")
    params = {name: value if isinstance(value, dict) else str(value) for name, value in params.items()}
    english = {name: value["message"] if isinstance(value, dict) else value for name, value in params.items()}
    return {"message": template.format(**english), "template": template, "params": params}


def plain(text: str) -> dict:
    """A text no template knows: it stays as it is, in every language."""
    return {"message": text, "template": None, "params": {}}


def translated(said: dict, gettext) -> str:
    """The message in the language of `gettext` (one without a template keeps its English)."""
    template = said.get("template")
    if not template:
        return said.get("message", "")
    params = {name: translated(value, gettext) if isinstance(value, dict) else value
              for name, value in (said.get("params") or {}).items()}
    try:
        return gettext(template).format(**params)
    except (KeyError, IndexError, ValueError):  # a translation naming a parameter wrongly: English then
        return said.get("message", "")


# ---------------------------------------------------------------- texts written elsewhere, recognised

def _pattern(template: str) -> re.Pattern:
    """The template as a regular expression: each {name} matches any text (the same text where it repeats)."""
    parts, seen = [], set()
    for literal, name in re.findall(r"([^{]*)(?:\{(\w+)\}|$)", template):
        parts.append(re.escape(literal))
        if name:
            parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
            seen.add(name)
    return re.compile("^" + "".join(parts) + "$", re.DOTALL)


_PATTERNS = {template: _pattern(template) for template in TEMPLATES}


def _recognise(text: str, templates, *, message: str | None = None) -> dict | None:
    for template in templates:
        found = _PATTERNS[template].match(text)
        if found:
            return {"message": text if message is None else message, "template": template,
                    "params": found.groupdict()}
    return None


def code_error(text: str) -> dict | str:
    """A message of engine.sandbox.check_source, said (or the text itself when its wording is unknown)."""
    found = _recognise(text, CODE)
    if found is None:
        return text
    params = found["params"]
    if "detail" in params:
        params["detail"] = _recognise(params["detail"], PYTHON_SYNTAX) or params["detail"]
    else:
        params["error"] = _recognise(params["error"], SANDBOX) or params["error"]
    return found


def form_problem(text: str) -> dict:
    """A problem of forms.FormCatalog with a form file."""
    return _recognise(text, FORMS) or plain(text)


def timer_start_problem(text: str) -> dict:
    """A timer start event that cannot be scheduled (engine.timers)."""
    return _recognise(text, TIMER_START) or plain(text)


def engine_says(text: str) -> dict:
    """A text of SpiffWorkflow or lxml: recognised, or kept in English behind a translated lead-in. The English
    message stays the text as it was written."""
    core = re.sub(r"[\s.]+$", "", text.strip())
    return _recognise(core, ENGINE, message=text) or {
        "message": text, "template": ENGINE_SAYS, "params": {"detail": core or text}}
