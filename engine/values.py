"""Turning workflow data into JSON-safe values for history rows and CLI/API output."""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from uuid import UUID

#: the types JSON holds as they are (not their subclasses: a bool is an int, an IntEnum too)
_PLAIN = frozenset((str, int, float, bool, type(None)))


def jsonable(value):
    """Decimal → string (money keeps its digits), dates → ISO text, sets/tuples → lists; callables dropped."""
    if type(value) in _PLAIN:  # most values: as they are, without the checks below
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items() if not callable(v)}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
