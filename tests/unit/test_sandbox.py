"""The script sandbox: known escapes fail with SandboxError, ordinary business scripts behave exactly as with
SpiffWorkflow's stock TaskDataEnvironment, and the sandbox works inside SpiffWorkflow for real."""
import copy
import sys
import threading
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment, TaskDataEnvironment
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine import sandbox
from engine.sandbox import SandboxedEnvironment, SandboxError, check_source

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sandbox"
MEANINGFUL = ("not allowed", "limit", "not defined")


def _run(source, mode, context=None, cpu_seconds=0.2):
    env = SandboxedEnvironment(cpu_seconds=cpu_seconds)
    context = {"x": 1} if context is None else context
    if mode == "eval":
        return env.evaluate(source, context)
    return env.execute(source, context)


# (id, source, mode, a fragment the message must contain)
ESCAPES = [
    ("subclasses_walk", "().__class__.__base__.__subclasses__()", "eval", '"__class__"'),
    ("dunder_import", "__import__('os')", "eval", '"__import__"'),
    ("import_statement", "import os", "exec", "import is not allowed"),
    ("from_import", "from os import path", "exec", "import is not allowed"),
    ("open_file", "open('/etc/passwd')", "eval", "open() is not allowed"),
    ("getattr_dunder", "getattr(x, '__class__')", "eval", "getattr() is not allowed"),
    ("type_mro", "type(x).__mro__", "eval", '"__mro__"'),
    ("format_class", '"{0.__class__}".format(1)', "eval", '"format"'),
    ("format_globals", 'def f():\n    pass\ns = "{.__globals__}".format(f)', "exec", '"format"'),
    ("format_map", "str.format_map('{x.__class__}', {'x': 1})", "eval", '"format_map"'),
    ("generator_frame_walk", "g = (i for i in [1])\nfr = g.gi_frame.f_back.f_globals", "exec", '"gi_frame"'),
    ("generator_code", "g = (i for i in [1])\nc = g.gi_code", "exec", '"gi_code"'),
    ("traceback_frame", "try:\n    1 / 0\nexcept Exception as e:\n    t = e.__traceback__.tb_frame", "exec",
     '"__traceback__"'),
    ("lambda_code", "(lambda: 0).__code__", "eval", '"__code__"'),
    ("list_class", "[].__class__", "eval", '"__class__"'),
    ("eval_call", "eval('1')", "eval", "Eval calls are not allowed"),
    ("exec_call", "exec('x = 1')", "exec", "Exec calls are not allowed"),
    ("compile_call", "compile('1', 'f', 'eval')", "eval", "compile() is not allowed"),
    ("globals_call", "globals()", "eval", "globals() is not allowed"),
    ("locals_call", "locals()", "eval", "locals() is not allowed"),
    ("vars_call", "vars()", "eval", "vars() is not allowed"),
    ("dir_call", "dir()", "eval", "dir() is not allowed"),
    ("breakpoint_call", "breakpoint()", "exec", '"breakpoint" is not allowed'),
    ("builtins_subscript", "__builtins__['open']", "eval", '"__builtins__"'),
    ("setattr_call", "setattr(x, 'real', 2)", "eval", "setattr() is not allowed"),
    ("delattr_call", "delattr(x, 'real')", "eval", "delattr() is not allowed"),
    ("object_subclasses", "object.__subclasses__()", "eval", '"__subclasses__"'),
    ("decimal_init_globals", "Decimal.__init__.__globals__", "eval", '"__init__"'),
    ("date_class", "date.__class__", "eval", '"__class__"'),
    ("type_three_args", "type('X', (), {})", "eval", "type() is not allowed"),
    ("class_definition", "class X:\n    pass", "exec", "class definitions are not allowed"),
    ("fstring_dunder", 'f"{x.__class__}"', "eval", '"__class__"'),
    ("fstring_huge_width", 'f"{x:>1000000000}"', "eval", "not allowed"),
    ("fstring_computed_width", 'f"{x:>{10 ** 9}}"', "eval", "not allowed"),
    ("percent_star_width", "'%*d' % (10 ** 9, 1)", "eval", "not allowed"),
    ("attribute_write", "d = date(2024, 1, 1)\nd.year = 2025", "exec",
     "changing a date object is not allowed"),
    ("async_def", "async def f():\n    pass", "exec", "not allowed"),
    ("iter_sentinel", "sum(iter(int, 1))", "eval", "iter() is not allowed"),
    ("infinite_loop", "while True:\n    pass", "exec", "CPU time limit of 0.2 s"),
    ("infinite_generator", "def g():\n    while True:\n        yield 1\ntotal = sum(g())", "exec",
     "CPU time limit"),
    ("exponential_recursion", "def f(n):\n    return f(n - 1) + f(n - 1) if n else 1\nr = f(100)", "exec",
     "CPU time limit"),
    ("deep_recursion", "def f():\n    return f()\nf()", "exec", "recursion limit"),
    ("lambda_recursion", "(lambda f: f(f))(lambda f: f(f))", "eval", "recursion limit"),
    ("huge_range", "sum(range(10 ** 12))", "eval", "range() is limited"),
    ("nested_comprehension", "len([1 for i in range(10 ** 6) for j in range(10 ** 6)])", "eval",
     "CPU time limit"),
    ("string_repeat_bomb", "'a' * 10 ** 10", "eval", "limit"),
    ("list_repeat_bomb", "x = [1] * 10 ** 10", "exec", "limit"),
    ("power_bomb", "2 ** 10 ** 10", "eval", "limit"),
    ("pow_builtin_bomb", "pow(10, 10 ** 10)", "eval", "limit"),
    ("shift_bomb", "1 << 10 ** 10", "eval", "limit"),
    ("doubling_bomb", "s = 'ab'\nwhile True:\n    s = s + s", "exec", "limit"),
    ("inplace_doubling_bomb", "s = ['ab'] * 10 ** 6\nfor i in range(100):\n    s += s", "exec", "limit"),
    ("swallowed_cpu_limit",
     "try:\n    while True:\n        pass\nexcept Exception:\n    pass\nescaped = True", "exec",
     "CPU time limit"),
    ("swallowed_refusal", "try:\n    open('/etc/passwd')\nexcept Exception:\n    pass\nescaped = True",
     "exec", "open() is not allowed"),
    ("refusal_in_finally_loop", "try:\n    open('/etc/passwd')\nfinally:\n    while True:\n        pass",
     "exec", "open() is not allowed"),
]


@pytest.mark.parametrize("source, mode, fragment", [e[1:] for e in ESCAPES], ids=[e[0] for e in ESCAPES])
def test_known_escape_is_refused_with_a_clear_message(source, mode, fragment):
    # Like any failing script, one that swallows a refusal may have changed task data before it fails.
    with pytest.raises(SandboxError) as info:
        _run(source, mode)
    message = str(info.value)
    assert fragment in message
    assert any(word in message for word in MEANINGFUL), message


def test_compile_time_refusals_are_also_reported_by_check_source():
    compile_time = ["import os", "().__class__", "(lambda: 0).__code__", "g.gi_frame", "class X:\n    pass",
                    '"{}".format(1)', "eval('1')", "__import__('os')"]
    for source in compile_time:
        errors = check_source(source, "exec")
        assert errors and all("not allowed" in e for e in errors), (source, errors)


def test_baseexception_only_exceptions_are_not_available():
    with pytest.raises(NameError):
        _run("raise SystemExit(1)", "exec")
    with pytest.raises(NameError):
        _run("KeyboardInterrupt", "eval")


# (id, script, context before, expected values afterwards)
BUSINESS = [
    ("vat_half_up", "net = Decimal('12.50')\n"
                    "vat = (net * Decimal('0.13')).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)\n"
                    "gross = net + vat",
     {}, {"vat": Decimal("1.63"), "gross": Decimal("14.13")}),
    ("order_total_from_lines", "total = Decimal('0')\nfor l in order['lines']:\n"
                               "    total += Decimal(l['price']) * l['qty']\ntotal = round(total, 2)",
     {"order": {"lines": [{"price": "19.99", "qty": 3}, {"price": "0.015", "qty": 2}]}},
     {"total": Decimal("60.00")}),
    ("date_arithmetic", "due = date(2024, 1, 31) + timedelta(days=30)\ndays_left = (due - today).days\n"
                        "due_year = due.year",
     {"today": date(2024, 2, 15)}, {"due": date(2024, 3, 1), "days_left": 15, "due_year": 2024}),
    ("datetime_timezone", "ts = datetime(2024, 5, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))\n"
                          "utc_hour = ts.astimezone(timezone.utc).hour\nstamp = ts.isoformat()",
     {}, {"utc_hour": 1, "stamp": "2024-05-01T09:00:00+08:00"}),
    ("parse_and_format_dates", "d = datetime.strptime('2024-03-08 14:30', '%Y-%m-%d %H:%M')\n"
                               "label = d.strftime('%d/%m/%Y')\nweek = d.isocalendar()[1]",
     {}, {"d": datetime(2024, 3, 8, 14, 30), "label": "08/03/2024", "week": 10}),
    ("list_comprehension", "big = [l['sku'] for l in lines if l['qty'] > 1]",
     {"lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}]}, {"big": ["A"]}),
    ("dict_and_set_comprehension", "by_sku = {l['sku']: l['qty'] for l in lines}\n"
                                   "skus = {l['sku'][0] for l in lines}",
     {"lines": [{"sku": "A1", "qty": 2}, {"sku": "A2", "qty": 1}]},
     {"by_sku": {"A1": 2, "A2": 1}, "skus": {"A"}}),
    ("nested_updates", "order['lines'][0]['qty'] = 5\norder['status'] = 'confirmed'\ndel order['draft']",
     {"order": {"lines": [{"qty": 1}], "draft": True}},
     {"order": {"lines": [{"qty": 5}], "status": "confirmed"}}),
    ("augmented_subscripts", "counts['a'] += 2\ncounts['b'] = counts.get('b', 0) + 1\n"
                             "order['lines'][0]['qty'] *= 3\nmatrix[0, 1] -= 1",
     {"counts": {"a": 1}, "order": {"lines": [{"qty": 2}]}, "matrix": {(0, 1): 5}},
     {"counts": {"a": 3, "b": 1}, "order": {"lines": [{"qty": 6}]}, "matrix": {(0, 1): 4}}),
    ("augmented_names", "total = 0\nn = 10\nfor q in qtys:\n    total += q\nn //= 3\nflags = 1\nflags <<= 4\n"
                        "label = 'x'\nlabel *= 3",
     {"qtys": [1, 2, 3]}, {"total": 6, "n": 3, "flags": 16, "label": "xxx"}),
    ("sorted_with_lambda", "ranked = sorted(lines, key=lambda l: (-l['qty'], l['sku']))\n"
                           "first = ranked[0]['sku']\ntop = max(lines, key=lambda l: l['qty'])['sku']",
     {"lines": [{"sku": "B", "qty": 2}, {"sku": "A", "qty": 2}, {"sku": "C", "qty": 1}]},
     {"first": "A", "top": "B"}),
    ("string_methods", "code = ' ab-12 '.strip().upper().replace('-', '_')\nparts = 'a,b,c'.split(',')\n"
                       "ok = code.startswith('AB') and 'b' in parts\njoined = '/'.join(parts)\n"
                       "title = 'beijing trading co'.title()",
     {}, {"code": "AB_12", "parts": ["a", "b", "c"], "ok": True, "joined": "a/b/c",
          "title": "Beijing Trading Co"}),
    ("f_strings", "msg = f\"Order {order_id}: {amount:,.2f} CNY ({ratio:.0%}) on {day:%Y-%m-%d} {name!r}\"",
     {"order_id": 42, "amount": Decimal("12345.6"), "ratio": 0.25, "day": date(2024, 3, 8), "name": "王"},
     {"msg": "Order 42: 12,345.60 CNY (25%) on 2024-03-08 '王'"}),
    ("percent_formatting", "number = '%s-%05d' % (prefix, seq)", {"prefix": "INV", "seq": 42},
     {"number": "INV-00042"}),
    ("tuple_unpacking", "a, (b, c) = 1, (2, 3)\nq, r = divmod(17, 5)\nfirst, *rest = [1, 2, 3]\n"
                        "pairs = [k + str(v) for k, v in sorted(d.items())]",
     {"d": {"y": 2, "x": 1}}, {"a": 1, "b": 2, "c": 3, "q": 3, "r": 2, "first": 1, "rest": [2, 3],
                               "pairs": ["x1", "y2"]}),
    ("functions_in_script", "def net_price(p, disc=Decimal('0.1')):\n    return p * (1 - disc)\n"
                            "price = net_price(Decimal('100'))\nfn = lambda v: v + 1\nbumped = fn(1)",
     {}, {"price": Decimal("90.0"), "bumped": 2}),
    ("builtins", "stats = [len(xs), min(xs), max(xs), sum(xs), abs(-3), round(2.5), round(3.14159, 2)]\n"
                 "flags = [any(v > 2 for v in xs), all(xs), isinstance(xs, list), bool(0)]\n"
                 "conv = [int('42'), float('0.5'), str(7), list((1, 2)), tuple([1]), dict(a=1)]",
     {"xs": [3, 1, 2]}, {"stats": [3, 1, 3, 6, 3, 2, 3.14], "flags": [True, True, True, False],
                         "conv": [42, 0.5, "7", [1, 2], (1,), {"a": 1}]}),
    ("iteration_builtins", "pairs = list(zip(['a', 'b'], [1, 2]))\nidx = [i for i, _ in enumerate(xs)]\n"
                           "rev = list(reversed(xs))\nuniq = sorted(set([3, 1, 3]))\n"
                           "squares = [i ** 2 for i in range(4)]",
     {"xs": ["p", "q"]}, {"pairs": [("a", 1), ("b", 2)], "idx": [0, 1], "rev": ["q", "p"], "uniq": [1, 3],
                          "squares": [0, 1, 4, 9]}),
    ("in_place_mutation", "lst.append(1)\nlst.extend([2, 3])\nd['a'] = 1\nd.update(b=2)\n"
                          "d.setdefault('c', []).append(4)\nlst.sort(reverse=True)",
     {"lst": [], "d": {}}, {"lst": [3, 2, 1], "d": {"a": 1, "b": 2, "c": [4]}}),
    ("control_flow", "n = 0\nwhile True:\n    n += 1\n    if n >= 10:\n        break\n"
                     "try:\n    v = int('x')\n"
                     "except ValueError:\n    v = -1\nkind = 'big' if n > 5 else 'small'\n"
                     "if (m := n * 2) > 15:\n    doubled = m",
     {}, {"n": 10, "v": -1, "kind": "big", "doubled": 20}),
    ("print_is_allowed", "print('hello', 1)\ndone = True", {}, {"done": True}),
    ("repeat_within_limits", "rule = '-' * 10\nzeros = [0] * 3\nbig = 2 ** 64\nmasked = 0xFF & 0x0F",
     {}, {"rule": "----------", "zeros": [0, 0, 0], "big": 18446744073709551616, "masked": 15}),
]


@pytest.mark.parametrize("script, before, expected", [b[1:] for b in BUSINESS], ids=[b[0] for b in BUSINESS])
def test_business_script_runs_and_gives_the_right_result(script, before, expected):
    context = copy.deepcopy(before)
    assert SandboxedEnvironment().execute(script, context) is True
    assert {k: context.get(k) for k in expected} == expected
    assert not any(callable(v) for v in context.values())
    assert "__builtins__" not in context


@pytest.mark.parametrize("script, before, expected", [b[1:] for b in BUSINESS], ids=[b[0] for b in BUSINESS])
def test_business_script_leaves_the_same_task_data_as_the_stock_environment(script, before, expected):
    globals_ = {"Decimal": Decimal, "ROUND_HALF_UP": ROUND_HALF_UP, "date": date, "datetime": datetime,
                "timedelta": timedelta, "timezone": timezone}
    stock, ours = copy.deepcopy(before), copy.deepcopy(before)
    TaskDataEnvironment(dict(globals_)).execute(script, stock, {})
    SandboxedEnvironment(dict(globals_)).execute(script, ours, {})
    assert ours == stock


@pytest.mark.parametrize("expression, expected", [
    ("amount > 1000", True),
    ("amount > 1000 and customer == 'ACME'", True),
    ("  amount * Decimal('1.13') > 1200", True),
    ("(due - date(2024, 1, 1)).days", 60),
    ("sum(l['qty'] for l in lines)", 3),
    ("[l['sku'] for l in lines if l['qty'] > limit]", ["B"]),
    ("'P1D' if customer.startswith('AC') else 'P2D'", "P1D"),
    ("sorted(lines, key=lambda l: -l['qty'])[0]['sku']", "B"),
])
def test_expression_evaluates_like_the_stock_environment(expression, expected):
    context = {"amount": Decimal("1100"), "customer": "ACME", "due": date(2024, 3, 1), "limit": 1,
               "lines": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]}
    before = copy.deepcopy(context)
    assert SandboxedEnvironment().evaluate(expression, context) == expected
    assert TaskDataEnvironment({"Decimal": Decimal, "date": date}).evaluate(expression, context) == expected
    assert context == before


def test_environment_globals_and_external_context_are_visible_then_removed():
    def vat_of(amount):
        return (amount * Decimal("0.13")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    env = SandboxedEnvironment({"vat_of": vat_of, "company": "Beijing"})
    context = {"net": Decimal("100")}
    env.execute("vat = vat_of(net)\nwho = company + '/' + region", context, {"region": "North"})
    assert context == {"net": Decimal("100"), "vat": Decimal("13.00"), "who": "Beijing/North"}
    assert env.evaluate("vat_of(net) + bonus", context, {"bonus": 1}) == Decimal("14.00")
    assert "bonus" not in context


def test_task_data_that_overwrites_a_global_is_rejected_like_the_stock_environment():
    with pytest.raises(ValueError, match="overwrites a predefined"):
        SandboxedEnvironment({"helper": len}).execute("y = 1", {"helper": 3})


def test_task_data_may_shadow_the_default_globals():
    context = {"date": "2024-03-01"}
    SandboxedEnvironment().execute("year = int(date[:4])", context)
    assert context == {"date": "2024-03-01", "year": 2024}


def test_task_data_using_a_reserved_helper_name_is_rejected():
    with pytest.raises(SandboxError, match="reserved"):
        SandboxedEnvironment().evaluate("1", {"_getattr_": getattr})


def test_attribute_writes_need_an_opted_in_class():
    class Counter:
        _guarded_writes = True

        def __init__(self):
            self.hits = 1

    counter = Counter()
    SandboxedEnvironment().execute("counter.hits += 2\ncounter.label = 'ok'", {"counter": counter})
    assert (counter.hits, counter.label) == (3, "ok")


def test_compiled_code_is_cached_by_source_and_mode():
    source = "amount_cached_probe > 1"
    before = sandbox._compile.cache_info().hits
    env = SandboxedEnvironment()
    for _ in range(5):
        env.evaluate(source, {"amount_cached_probe": 2})
    assert sandbox._compile.cache_info().hits >= before + 4


def test_cpu_limit_is_per_call_not_cumulative():
    env = SandboxedEnvironment(cpu_seconds=0.5)
    for _ in range(3):   # each call well under the limit on its own
        env.execute("n = 0\nfor i in range(1000):\n    n += i", {})


# --- check_source -------------------------------------------------------------------------------------------

def test_check_source_reports_a_syntax_error_with_its_line_for_scripts():
    errors = check_source("total = 1\nif total > 0\n    total = 2", "exec")
    assert len(errors) == 1 and errors[0].startswith("Line 2: syntax error")


def test_check_source_reports_a_syntax_error_with_its_line_for_expressions():
    errors = check_source("amount >", "eval")
    assert len(errors) == 1 and errors[0].startswith("Line 1: syntax error")
    assert check_source("x = 1", "eval")[0].startswith("Line 1: syntax error")


def test_check_source_reports_restricted_python_refusals_with_their_line():
    errors = check_source("a = 1\nimport os\nb = a.__class__", "exec")
    assert errors == ["Line 2: import is not allowed", 'Line 3: access to "__class__" is not allowed']
    assert check_source("x._private", "eval") == ['Line 1: access to "_private" is not allowed']


@pytest.mark.parametrize("source, mode", [
    ("total = sum(l['qty'] for l in lines)\nif total > 3:\n    flag = True", "exec"),
    ("def f(v):\n    return v * 2\nr = [f(i) for i in range(3)]", "exec"),
    ("", "exec"),
    ("amount > 1000 and customer['tier'] in ('A', 'B')", "eval"),
    (" amount > 1000", "eval"),
    ("'PT' + str(hours) + 'H'", "eval"),
])
def test_check_source_accepts_good_code(source, mode):
    assert check_source(source, mode) == []


def test_check_source_never_executes_anything():
    assert check_source("open('/tmp/should-not-exist')\nwhile True:\n    pass", "exec") == []
    assert not Path("/tmp/should-not-exist").exists()


def test_check_source_reports_unparsable_sources_instead_of_raising():
    assert check_source("x\x00", "eval") == [
        "Line 1: syntax error: source code string cannot contain null bytes"]
    assert check_source("+".join(["1"] * 100_000), "eval") == [
        "Line 1: syntax error: the code is nested too deeply"]


def test_check_source_rejects_an_unknown_mode():
    with pytest.raises(ValueError):
        check_source("1", "single")


def test_execute_reports_syntax_errors_as_syntax_errors():
    with pytest.raises(SyntaxError):
        SandboxedEnvironment().execute("if x\n", {"x": 1})


# --- threads and trace functions ----------------------------------------------------------------------------

def test_cpu_limit_works_in_a_non_main_thread():
    errors = []

    def worker():
        try:
            SandboxedEnvironment(cpu_seconds=0.2).execute("while True:\n    pass", {})
        except Exception as exc:    # noqa: BLE001 - handed to the main thread
            errors.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], SandboxError)
    assert "CPU time limit" in str(errors[0])


def test_runaway_script_in_one_thread_does_not_abort_another_sharing_the_environment():
    env = SandboxedEnvironment(cpu_seconds=0.3)
    started, results = threading.Event(), {}

    def runaway():
        started.set()
        try:
            env.execute("while True:\n    pass", {})
        except SandboxError as exc:
            results["runaway"] = exc

    thread = threading.Thread(target=runaway)
    thread.start()
    started.wait(timeout=10)
    context = {"lines": list(range(100))}
    for _ in range(50):
        env.execute("total = 0\nfor v in lines:\n    total += v", context)
    thread.join(timeout=60)
    assert context["total"] == 4950
    assert "CPU time limit" in str(results["runaway"])


def test_script_generator_finalized_after_its_run_cannot_loop_forever(monkeypatch):
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: unraisable.append(info.exc_value))
    context = {}
    SandboxedEnvironment(cpu_seconds=0.2).execute(
        "def g():\n    try:\n        yield 1\n    finally:\n        while True:\n            pass\n"
        "holder = {'gen': g()}\nfirst = next(holder['gen'])", context)
    assert context["first"] == 1
    finalizer = threading.Thread(target=context.clear, daemon=True)   # the generator is closed there
    finalizer.start()
    finalizer.join(timeout=30)
    assert not finalizer.is_alive()
    assert [type(e) for e in unraisable] == [SandboxError]


def test_script_function_kept_in_task_data_cannot_be_called_outside_a_run():
    context = {}
    SandboxedEnvironment().execute("box = {'f': lambda: 1}", context)
    with pytest.raises(SandboxError, match="outside the sandbox"):
        context["box"]["f"]()


def test_previous_trace_function_is_kept_during_and_restored_after_a_run():
    def tracer(frame, event, arg):
        return None

    seen = []
    env = SandboxedEnvironment({"probe": lambda: seen.append(sys.gettrace() is tracer) or True},
                               cpu_seconds=0.2)
    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        env.execute("for i in range(3):\n    probe()", {})
        assert env.evaluate("[probe() for i in range(2)]", {}) == [True, True]
        with pytest.raises(SandboxError):
            env.execute("while True:\n    pass", {})
        with pytest.raises(SandboxError):
            env.evaluate("open('x')", {})
        after = sys.gettrace()
    finally:
        sys.settrace(previous)
    assert after is tracer
    assert seen == [True] * 5


# --- through SpiffWorkflow ----------------------------------------------------------------------------------

@pytest.fixture
def parser():
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_files([str(FIXTURES / "order_routing.bpmn"), str(FIXTURES / "import_os.bpmn")])
    return parser


@pytest.fixture
def script_engine():
    return PythonScriptEngine(environment=SandboxedEnvironment(cpu_seconds=2.0))


def _causes(exc):
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


def test_sandboxed_environment_is_a_spiff_script_environment():
    env = SandboxedEnvironment()
    assert isinstance(env, BasePythonScriptEngineEnvironment)
    with pytest.raises(NotImplementedError):
        env.call_service({}, operation_name="x")


def test_workflow_runs_script_task_and_gateway_condition_in_the_sandbox(parser, script_engine):
    workflow = BpmnWorkflow(parser.get_spec("order_routing"), script_engine=script_engine)
    workflow.do_engine_steps()
    assert workflow.is_completed()
    assert workflow.data["net"] == Decimal("1299.99")
    assert workflow.data["vat"] == Decimal("169.00")
    assert workflow.data["total"] == Decimal("1468.99")
    assert workflow.data["due"] == "2024-03-01"
    assert workflow.data["route"] == "approval"
    assert {t.task_spec.name for t in workflow.get_tasks()} >= {"mark_big"}
    assert "mark_small" not in {t.task_spec.name for t in workflow.get_tasks(state=TaskState.COMPLETED)}


def test_workflow_script_importing_os_fails_with_sandbox_error_in_the_cause_chain(parser, script_engine):
    workflow = BpmnWorkflow(parser.get_spec("import_os"), script_engine=script_engine)
    with pytest.raises(WorkflowTaskException) as info:
        workflow.do_engine_steps()
    assert info.value.error_type == "SandboxError"
    sandbox_errors = [e for e in _causes(info.value) if isinstance(e, SandboxError)]
    assert sandbox_errors and "import is not allowed" in str(sandbox_errors[0])
    assert not workflow.is_completed()


def test_runtime_refusal_through_spiff_reports_the_script_line(parser, script_engine):
    workflow = BpmnWorkflow(parser.get_spec("order_routing"), script_engine=script_engine)
    task = workflow.get_tasks()[0]
    with pytest.raises(WorkflowTaskException) as info:
        script_engine.execute(task, "x = 1\nopen('/etc/passwd')")
    assert info.value.line_number == 2
    assert any(isinstance(e, SandboxError) for e in _causes(info.value))
