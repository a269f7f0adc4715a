"""The registry of service-task operators: Python callables the application hands to the engine by name."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class OperatorContext:
    """What an operator may know about the step that calls it. It must not commit `session`."""

    session: Session
    instance_id: int | None
    business_key: str | None
    element_id: str
    data: dict
    actor: str | None
    #: messages the operator sends (see send_message); delivered once the step is saved
    outbox: list = field(default_factory=list)

    def send_message(self, name: str, correlation: dict, payload: dict | None = None) -> None:
        """Tell other instances something (a receipt releases the orders waiting for its goods): delivered
        after this step is saved, in the same transaction, like a message thrown by the diagram; one nobody
        waits for is recorded in this instance's history, not an error. Dropped if the operator fails."""
        self.outbox.append((name, dict(correlation), dict(payload or {})))


Operator = Callable[..., Any]  # operator(ctx: OperatorContext, **params) -> result stored in the task data


class OperatorRegistry:
    def __init__(self):
        self._operators: dict[str, Operator] = {}

    def register(self, name: str, fn: Operator | None = None):
        """Register `fn` under `name`; usable as a decorator: @registry.register("sales.reserve_stock")."""
        def add(f: Operator) -> Operator:
            if name in self._operators and self._operators[name] is not f:
                raise ValueError(f"operator {name!r} is already registered")
            self._operators[name] = f
            return f

        return add(fn) if fn is not None else add

    def get(self, name: str) -> Operator:
        try:
            return self._operators[name]
        except KeyError:
            raise LookupError(f"service-task operator {name!r} is not registered") from None

    def names(self) -> set[str]:
        return set(self._operators)
