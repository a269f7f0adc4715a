"""The registry of service-task operators: Python callables the application hands to the engine by name."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
