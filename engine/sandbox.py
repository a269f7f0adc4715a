"""Restricted execution of the Python that analysts put into diagrams (scripts, conditions, timer,
service-task parameter and DMN expressions): a drop-in replacement for SpiffWorkflow's TaskDataEnvironment.

Covered: code is compiled through a RestrictedPython policy (no imports, class definitions, names or
attributes starting with "_", frame/generator/traceback attributes, str.format/format_map); only a small set
of builtins exists (open, eval, exec, compile, globals, vars, dir, getattr, type, ... raise SandboxError);
only dicts, lists and classes marked `_guarded_writes = True` can be written to; `range` is capped at 10**6
items; `*`, `**`, `<<`, `+` and `%` (also augmented) refuse results above 10**7 items/characters, 100,000-bit
integers or format widths above 9999; f-strings with a computed or huge format spec are refused. Every loop
iteration, comprehension item and function/lambda call checks the thread's CPU time (time.thread_time, so it
works in any thread, and no trace function is involved); once a limit is hit or anything is refused, the run
is aborted even if the script catches the error.

Not covered: memory grown by method calls (str.join/ljust/center/zfill, list.extend, dict/set growth in a loop
until the CPU limit stops it): run workers under a memory rlimit. CPU spent inside one long C call (sorting a
10**7-item list, big-int or Decimal conversions) is only noticed when the call returns. Objects the
application hands in (environment_globals, task data) are trusted: their public methods are callable from
scripts.
"""
from __future__ import annotations

import ast
import functools
import logging
import operator
import re
import threading
import time
from datetime import date, datetime, timedelta, timezone
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
)
from typing import NamedTuple

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence, safe_builtins
from RestrictedPython.transformer import (
    INSPECT_ATTRIBUTES,
    IOPERATOR_TO_STR,
    RestrictingNodeTransformer,
    copy_locations,
)
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

logger = logging.getLogger(__name__)

MAX_RANGE = 10**6
MAX_ITEMS = 10**7          # characters of a str, items of a list/tuple, built by one operator
MAX_INT_BITS = 100_000     # about 30,000 decimal digits
MAX_FORMAT_DIGITS = 4      # format widths/precisions up to 9999
FILENAME = "<string>"      # Spiff's PythonScriptEngine looks for this name to report the failing line

_FORBIDDEN_ATTRIBUTES = INSPECT_ATTRIBUTES | {"format", "format_map", "mro"}
_SEQUENCES = (str, bytes, bytearray, list, tuple)


class SandboxError(Exception):
    """Raised for anything the sandbox refuses or aborts; the message says what was refused."""


# --- run state: per thread, so one environment can serve many request threads ------------------------------

class _ThreadState(threading.local):
    run = None


_state = _ThreadState()


class _Run:
    __slots__ = ("cpu_seconds", "cpu_start", "wall_check", "violation")

    def __init__(self, cpu_seconds):
        self.cpu_seconds = cpu_seconds
        self.cpu_start = time.thread_time()
        # A thread cannot use more CPU than wall time, so the (cheaper) monotonic clock tells when to look.
        self.wall_check = time.monotonic() + cpu_seconds
        self.violation = None

    def check(self):
        if self.violation is not None:
            raise SandboxError(*self.violation.args)
        used = time.thread_time() - self.cpu_start
        if used >= self.cpu_seconds:
            _refuse(f"script exceeded the CPU time limit of {self.cpu_seconds} s")
        self.wall_check = time.monotonic() + (self.cpu_seconds - used)


def _refuse(message):
    error = SandboxError(message)
    run = _state.run
    if run is not None and run.violation is None:
        # Remembered so that a script catching the error is still aborted at its next tick and fails at the
        # end.
        run.violation = error
        run.wall_check = float("-inf")
    raise error


def _tick():
    run = _state.run
    if run is None:
        # A script's function or generator kept in task data and called (or finalized) after its run ended
        # would otherwise run unlimited.
        _refuse("running a script's function or generator outside the sandbox is not allowed")
    if time.monotonic() >= run.wall_check:
        run.check()
    return True


# --- guards called by the compiled code -----------------------------------------------------------------

def _getattr(obj, name):
    if name[:1] == "_" or name in _FORBIDDEN_ATTRIBUTES:
        _refuse(f'access to "{name}" is not allowed')
    return getattr(obj, name)


def _write(obj):
    # RestrictedPython's convention: a class that sets _guarded_writes = True accepts attribute/item writes.
    if isinstance(obj, (dict, list)) or getattr(type(obj), "_guarded_writes", False):
        return obj
    _refuse(f"changing a {type(obj).__name__} object is not allowed")


def _check_size(n, what):
    if n > MAX_ITEMS:
        _refuse(f"{what} would exceed the limit of {MAX_ITEMS} items")


def _check_int_bits(bits):
    if bits > MAX_INT_BITS:
        _refuse(f"integer result would exceed the limit of {MAX_INT_BITS} bits")


def _check_add(a, b):
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        _check_size(len(a) + len(b), "concatenation")


def _check_mul(a, b):
    if isinstance(b, int):
        if isinstance(a, _SEQUENCES):
            _check_size(len(a) * b, "repetition")
        elif isinstance(a, int):
            _check_int_bits(a.bit_length() + b.bit_length())
    elif isinstance(a, int) and isinstance(b, _SEQUENCES):
        _check_size(len(b) * a, "repetition")


def _check_pow(a, b):
    if isinstance(a, int) and isinstance(b, int) and b > 0 and a not in (-1, 0, 1):
        _check_int_bits(a.bit_length() * b)


def _check_lshift(a, b):
    if isinstance(a, int) and isinstance(b, int) and a:
        _check_int_bits(a.bit_length() + b)


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_mod(a, b):
    if isinstance(a, (bytes, bytearray)):
        a = a.decode("latin-1")
    if isinstance(a, str) and "%" in a:
        for width, precision in _PERCENT_SPEC.findall(a):
            if "*" in (width, precision) or max(len(width), len(precision)) > MAX_FORMAT_DIGITS:
                _refuse("% formatting with a '*' or a width/precision above 9999 is not allowed")


def _guarded(check, risky, op):
    # One Python call per operation: the check only runs when an operand is of a type that can blow up.
    def guarded(a, b):
        if isinstance(a, risky) or isinstance(b, risky):
            check(a, b)
        return op(a, b)
    return guarded


# ast operator: (helper suffix, check, operand types worth checking, operator, in-place operator)
_GUARDED_OPS = {
    ast.Add: ("add", _check_add, _SEQUENCES, operator.add, operator.iadd),
    ast.Mult: ("mul", _check_mul, int, operator.mul, operator.imul),
    ast.Pow: ("pow", _check_pow, int, operator.pow, operator.ipow),
    ast.LShift: ("lshift", _check_lshift, int, operator.lshift, operator.ilshift),
    ast.Mod: ("mod", _check_mod, (str, bytes, bytearray), operator.mod, operator.imod),
}
_OP_HELPERS = {}
_INPLACE = {"-=": operator.isub, "/=": operator.itruediv, ">>=": operator.irshift, "|=": operator.ior,
            "^=": operator.ixor, "&=": operator.iand, "//=": operator.ifloordiv, "@=": operator.imatmul}
for _op, (_suffix, _check, _risky, _binary, _inplace) in _GUARDED_OPS.items():
    _OP_HELPERS[f"_{_suffix}_"] = _guarded(_check, _risky, _binary)
    _OP_HELPERS[f"_i{_suffix}_"] = _INPLACE[IOPERATOR_TO_STR[_op]] = _guarded(_check, _risky, _inplace)


def _aug_item(obj, key, op, value):
    # `value` is evaluated before obj[key] is read (Python reads first): only a script mutating obj[key] while
    # computing value can tell.
    _write(obj)[key] = _INPLACE[op](obj[key], value)


def _aug_attr(obj, name, op, value):
    setattr(_write(obj), name, _INPLACE[op](_getattr(obj, name), value))


def _apply(func, *args, **kwargs):
    return func(*args, **kwargs)


def _range(*args):
    r = range(*args)
    try:
        n = len(r)
    except OverflowError:
        n = MAX_RANGE + 1
    if n > MAX_RANGE:
        _refuse(f"range() is limited to {MAX_RANGE} items")
    return r


def _pow(base, exp, mod=None):
    if mod is None:
        _check_pow(base, exp)
    return pow(base, exp, mod)


class _PrintToLog:
    """`print` in a script goes to the debug log. Callable, so the stock clean-up drops it from task data."""

    def __call__(self):
        return ""

    def _call_print(self, *objects, **ignored):
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("script print: %s", " ".join(str(o) for o in objects)[:2000])


_PRINT = _PrintToLog()


# C code (datetime.strftime/strptime) imports through the builtins of the running frame; scripts cannot name
# __import__ themselves, so this only serves those internal imports.
_INTERNAL_IMPORTS = frozenset({"time", "_strptime"})


def _import(name, globals=None, locals=None, fromlist=(), level=0):
    if name not in _INTERNAL_IMPORTS or level:
        _refuse(f'import is not allowed (module "{name}")')
    return __import__(name, globals, locals, fromlist, level)


def _forbidden(name, hint=""):
    def refused(*args, **kwargs):
        _refuse(f"{name}() is not allowed in scripts{hint}")
    refused.__name__ = refused.__qualname__ = name
    return refused


_HELPERS = {
    "_getattr_": _getattr, "_getitem_": operator.getitem, "_getiter_": iter, "_write_": _write,
    "_apply_": _apply, "_print_": lambda _getattr_=None: _PRINT, "_print": _PRINT,
    "_unpack_sequence_": guarded_unpack_sequence, "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_tick_": _tick, "_aug_item_": _aug_item, "_aug_attr_": _aug_attr, "__import__": _import,
    **_OP_HELPERS,
}
RESERVED_NAMES = frozenset(_HELPERS)

_BUILTINS = {k: v for k, v in safe_builtins.items() if not k.startswith("_") and k not in {
    "setattr", "delattr",
    # not catchable by `except Exception`; a SystemExit raised in the main thread would stop the server
    "BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit"}}
_BUILTINS.update(
    range=_range, pow=_pow,
    sum=sum, min=min, max=max, sorted=sorted, reversed=reversed, enumerate=enumerate, zip=zip, map=map,
    filter=filter, any=any, all=all, next=next, list=list, dict=dict, set=set, frozenset=frozenset,
    tuple=tuple, Decimal=Decimal, ROUND_HALF_UP=ROUND_HALF_UP, ROUND_HALF_EVEN=ROUND_HALF_EVEN,
    ROUND_HALF_DOWN=ROUND_HALF_DOWN, ROUND_UP=ROUND_UP, ROUND_DOWN=ROUND_DOWN, ROUND_CEILING=ROUND_CEILING,
    ROUND_FLOOR=ROUND_FLOOR,
    date=date, datetime=datetime, timedelta=timedelta, timezone=timezone,
)
for _name in ("open", "eval", "exec", "compile", "globals", "locals", "vars", "dir", "getattr", "setattr",
              "delattr", "hasattr", "object", "input", "help", "exit", "quit", "memoryview", "super",
              "classmethod", "staticmethod", "property", "format", "bytearray", "breakpoint"):
    _BUILTINS[_name] = _forbidden(_name)
# iter(callable, sentinel) makes endless iterators that C functions such as sum() consume without a tick.
_BUILTINS["iter"] = _forbidden("iter", "; loop over the value directly")
_BUILTINS["type"] = _forbidden("type", "; use isinstance()")
_BUILTINS.update(_HELPERS)


# --- compilation ----------------------------------------------------------------------------------------

def _call(name, *args, node):
    call = ast.Call(func=ast.Name(name, ast.Load()), args=list(args), keywords=[])
    copy_locations(call, node)
    return call


class _SandboxPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, stricter (imports, classes) and instrumented (ticks, size guards)."""

    def __init__(self):
        super().__init__()
        self.needs_run = False      # loops, functions or try/with: needs the CPU clock and violation tracking

    def check_name(self, node, name, allow_magic_methods=False):
        if name is None:
            return
        if name.startswith("_") and name != "_":
            self.error(node, f'the name "{name}" is not allowed (names starting with "_" are reserved)')
        elif name in ("print", "printed", "builtins", "breakpoint"):
            self.error(node, f'"{name}" is not allowed here')

    def _check_attribute(self, node, attr):
        if attr.startswith("_") or attr in _FORBIDDEN_ATTRIBUTES:
            hint = "; use an f-string" if attr in ("format", "format_map") else ""
            self.error(node, f'access to "{attr}" is not allowed{hint}')
            return False
        return True

    def visit_Attribute(self, node):
        if not self._check_attribute(node, node.attr):
            return self.node_contents_visit(node)
        return super().visit_Attribute(node)

    def visit_Import(self, node):
        self.error(node, "import is not allowed")
        return node

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node):
        self.error(node, "class definitions are not allowed")
        return node

    def guard_iter(self, node):
        # Iteration needs no guard here (RestrictedPython's _getiter_ hook is for Zope's security checks).
        return self.node_contents_visit(node)

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        guard = _GUARDED_OPS.get(type(node.op))
        if guard is None:
            return node
        return _call(f"_{guard[0]}_", node.left, node.right, node=node)

    def visit_AugAssign(self, node):
        target = node.target
        if isinstance(target, ast.Name):
            guard = _GUARDED_OPS.get(type(node.op))
            if guard is None:           # `n -= 1` cannot blow up: keep it native
                return self.node_contents_visit(node)
            value = _call(f"_i{guard[0]}_", ast.Name(target.id, ast.Load()), self.visit(node.value),
                          node=node)
            assign = ast.Assign(targets=[self.visit(target)], value=value)
            copy_locations(assign, node)
            return assign
        op = ast.Constant(IOPERATOR_TO_STR[type(node.op)])
        if isinstance(target, ast.Subscript):
            if any(isinstance(n, ast.Slice) for n in ast.walk(target.slice)):
                self.error(node, "augmented assignment to a slice is not allowed")
                return node
            call = _call("_aug_item_", self.visit(target.value), self.visit(target.slice), op,
                         self.visit(node.value), node=node)
        else:
            if not self._check_attribute(node, target.attr):
                return node
            call = _call("_aug_attr_", self.visit(target.value), ast.Constant(target.attr), op,
                         self.visit(node.value), node=node)
        statement = ast.Expr(call)
        copy_locations(statement, node)
        return statement

    def visit_FormattedValue(self, node):
        spec = node.format_spec
        if spec is not None:
            if any(isinstance(v, ast.FormattedValue) for v in spec.values):
                self.error(node, "computed format specifications in f-strings are not allowed")
            elif any(len(digits) > MAX_FORMAT_DIGITS
                     for v in spec.values for digits in re.findall(r"\d+", str(v.value))):
                self.error(node, "f-string format widths/precisions above 9999 are not allowed")
        return super().visit_FormattedValue(node)

    # Ticks: every loop iteration, comprehension item and function call checks the CPU clock.

    def _tick_first(self, node):
        self.needs_run = True
        tick = ast.Expr(_call("_tick_", node=node))
        copy_locations(tick, node)
        node.body.insert(0, tick)
        return node

    def visit_While(self, node):
        return self._tick_first(super().visit_While(node))

    def visit_For(self, node):
        return self._tick_first(super().visit_For(node))

    def visit_FunctionDef(self, node):
        return self._tick_first(super().visit_FunctionDef(node))

    def visit_Lambda(self, node):
        node = super().visit_Lambda(node)
        self.needs_run = True
        body = ast.BoolOp(op=ast.And(), values=[_call("_tick_", node=node), node.body])   # _tick_() is True
        copy_locations(body, node.body)
        node.body = body
        return node

    def visit_comprehension(self, node):
        node = super().visit_comprehension(node)
        self.needs_run = True
        node.ifs.insert(0, _call("_tick_", node=node.iter))
        return node

    def visit_Try(self, node):
        self.needs_run = True
        return super().visit_Try(node)

    def visit_With(self, node):
        self.needs_run = True
        return super().visit_With(node)


class _Compiled(NamedTuple):
    code: object
    errors: tuple
    needs_run: bool


def _prepare(source, mode):
    if mode not in ("exec", "eval"):
        raise ValueError(f"mode must be 'exec' or 'eval', not {mode!r}")
    # builtin eval() drops an expression's leading blanks; so do we, so conditions behave as with the stock
    # engine
    return source.lstrip(" \t") if mode == "eval" else source


@functools.lru_cache(maxsize=4096)
def _compile(source, mode):
    """Compile through the policy. Raises SyntaxError (not cached); refusals come back as `errors`."""
    try:
        tree = ast.parse(source, FILENAME, mode)
        policy = _SandboxPolicy()
        tree = policy.visit(tree)
        if policy.errors:
            return _Compiled(None, tuple(policy.errors), False)
        return _Compiled(compile(tree, FILENAME, mode), (), policy.needs_run)
    except ValueError as exc:       # null bytes in the source
        raise SyntaxError(str(exc)) from None
    except RecursionError:
        raise SyntaxError("the code is nested too deeply") from None


def _compiled(source, mode):
    result = _compile(_prepare(source, mode), mode)
    if result.errors:
        raise SandboxError("; ".join(result.errors))
    return result


def check_source(source: str, mode: str = "exec") -> list[str]:
    """Deploy-time check of a script ("exec") or expression ("eval"): error messages, [] if it compiles."""
    source = _prepare(source, mode)
    try:
        return list(_compile(source, mode).errors)
    except SyntaxError as exc:
        return [f"Line {exc.lineno or 1}: syntax error: {exc.msg}"]


# --- the environment ------------------------------------------------------------------------------------

class SandboxedEnvironment(BasePythonScriptEngineEnvironment):
    """TaskDataEnvironment's contract, with every script and expression run restricted and CPU-limited."""

    def __init__(self, environment_globals: dict | None = None, cpu_seconds: float = 2.0):
        super().__init__(environment_globals)
        self._check_reserved(self.globals, "environment globals")
        self.cpu_seconds = cpu_seconds

    def evaluate(self, expression, context, external_context=None):
        compiled = _compiled(expression, "eval")
        namespace = dict(self.globals)
        if external_context:
            self._check_reserved(external_context, "external context")
            namespace.update(external_context)
        self._check_reserved(context, "task data")
        namespace.update(context)
        namespace["__builtins__"] = _BUILTINS
        return self._run(compiled, namespace)

    def execute(self, script, context, external_context=None):
        external_context = external_context or {}
        self.check_for_overwrite(context, external_context)
        compiled = _compiled(script, "exec")
        self._check_reserved(external_context, "external context")
        self._check_reserved(context, "task data")
        context.update(self.globals)
        context.update(external_context)
        context["__builtins__"] = _BUILTINS
        try:
            self._run(compiled, context)
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        return True

    def call_service(self, context, **kwargs):
        raise NotImplementedError("service calls are handled by the script engine")

    def _run(self, compiled, namespace):
        if not compiled.needs_run:          # straight-line code: nothing can loop or swallow a refusal
            return eval(compiled.code, namespace)
        run = _Run(self.cpu_seconds)
        previous, _state.run = _state.run, run
        try:
            result = eval(compiled.code, namespace)
        except SandboxError:
            raise
        except Exception as exc:
            if run.violation is not None:
                raise run.violation from exc
            if isinstance(exc, RecursionError):
                raise SandboxError("script exceeded the recursion limit") from exc
            raise
        finally:
            _state.run = previous
        if run.violation is not None:      # the script caught a refusal and carried on
            raise run.violation
        return result

    @staticmethod
    def _check_reserved(mapping, what):
        if not mapping.keys().isdisjoint(RESERVED_NAMES):
            clash = sorted(mapping.keys() & RESERVED_NAMES)
            raise SandboxError(f"{what} uses names reserved by the sandbox: {clash}")

    # The two helpers below are TaskDataEnvironment's, unchanged, so task data ends up exactly the same.

    def _remove_globals_and_functions_from_context(self, context, external_context=None):
        for k in list(context):
            if k == "__builtins__" or callable(context[k]) or k in self.globals or \
                    external_context and k in external_context:
                context.pop(k)

    def check_for_overwrite(self, context, external_context):
        func_overwrites = set(self.globals).intersection(context)
        func_overwrites.update(set(external_context).intersection(context))
        if len(func_overwrites) > 0:
            msg = f"You have task data that overwrites a predefined " \
                  f"function(s). Please change the following variable or " \
                  f"field name(s) to something else: {func_overwrites}"
            raise ValueError(msg)
