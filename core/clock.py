"""The one source of 'now' (timezone-aware UTC), replaceable in tests, benchmarks and timer runs."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

_override: ContextVar[FrozenClock | None] = ContextVar("erp_clock", default=None)


def now() -> datetime:
    frozen_clock = _override.get()
    return frozen_clock.at if frozen_clock is not None else datetime.now(UTC)


@contextmanager
def frozen(at: datetime) -> Iterator[FrozenClock]:
    """Freeze time at `at` (move it with .advance()) in this thread/context for the duration of the block."""
    clock = FrozenClock(at)
    token = _override.set(clock)
    try:
        yield clock
    finally:
        _override.reset(token)


class FrozenClock:
    def __init__(self, at: datetime):
        if at.tzinfo is None:
            raise ValueError("a frozen clock needs a timezone-aware datetime")
        self.at = at

    def advance(self, **delta: float) -> datetime:
        self.at = self.at + timedelta(**delta)
        return self.at
