"""The script engine every workflow runs with: the sandbox for scripts and expressions, operators for service
tasks, and the application's clock for timers."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer

from core import clock
from engine.operators import OperatorContext, OperatorRegistry
from engine.sandbox import SandboxedEnvironment


class _ClockDatetime(datetime):
    """SpiffWorkflow's timers ask datetime.now(); route that to core.clock so tests and the scheduler control it."""

    @classmethod
    def now(cls, tz=None):
        current = clock.now()
        return current.astimezone(tz) if tz is not None else current.replace(tzinfo=None)


_spiff_timer.datetime = _ClockDatetime


class RunContext:
    """The step being executed: what service-task operators see besides their parameters."""

    def __init__(self, session, instance_id, business_key, actor):
        self.session = session
        self.instance_id = instance_id
        self.business_key = business_key
        self.actor = actor
        #: (name, correlation, payload) sent by operators that succeeded, delivered after the step is saved
        self.messages: list[tuple[str, dict, dict]] = []


_current: ContextVar[RunContext | None] = ContextVar("erp_run_context", default=None)


@contextmanager
def running(ctx: RunContext):
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


class ScriptEngine(PythonScriptEngine):
    def __init__(self, operators: OperatorRegistry, cpu_seconds: float = 2.0, extra_globals: dict | None = None):
        # the sandbox itself offers Decimal, date, datetime, timedelta and timezone; the application may add
        # helpers (e.g. add_workdays for the business-day calendar)
        super().__init__(environment=SandboxedEnvironment(extra_globals or None, cpu_seconds=cpu_seconds))
        self.operators = operators

    def validate(self, expression):
        # DMN uses validate() to decide how to build a test; the sandbox's compile check is the stricter one
        super().validate(expression)

    def call_operator(self, task, name: str, params: dict):
        ctx = _current.get()
        if ctx is None:
            raise RuntimeError("service tasks run only inside an engine step")
        operator = self.operators.get(name)
        op_ctx = OperatorContext(
            session=ctx.session,
            instance_id=ctx.instance_id,
            business_key=ctx.business_key,
            element_id=task.task_spec.bpmn_id or task.task_spec.name,
            data=task.data,
            actor=ctx.actor,
        )
        # A failing operator must leave nothing behind, while the work done before it in this step is kept.
        with ctx.session.begin_nested():
            result = operator(op_ctx, **params)
        ctx.messages.extend(op_ctx.outbox)
        return result

    def call_service(self, task, **kwargs):
        return self.call_operator(task, kwargs["operation_name"],
                                  {k: v["value"] for k, v in kwargs.get("operation_params", {}).items()})
