"""Automatic audit of business records: every insert, update (changed columns only, before and after) and
delete of a business table made through the ORM is written to audit_change with the acting user, as one
multi-row insert per flush; UPDATE and DELETE statements run through a session are recorded once per statement.

Who acts comes from `acting_as` (a context variable): the web app sets it for each request, the command line
for each command; work nobody started (the worker's timers and jobs) acts as "system". Columns holding secrets
are recorded as changed, never with their value. The audit tables themselves refuse changes through a session:
only the retention job deletes from them, through `erp.audit.retention`.

`install()` hooks this into every SQLAlchemy session; importing erp.audit does it, and every business module
imports erp.audit, so no entry point can forget it."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import LargeBinary, event, insert, inspect
from sqlalchemy.orm import Session

from core import clock
from core.errors import PermissionDenied
from engine.values import jsonable
from erp.audit.models import AccessEntry, AuditEntry, RecordChange
from erp.masking import mask

SYSTEM = "system"
#: shown instead of a secret's value: that it was set or changed is recorded, never what to
SECRET = "[secret]"
#: shown instead of large content (files, diagram sources) that the audit log does not copy
NOT_RECORDED = "[not recorded]"
#: the execution option with which erp.audit.retention (and nothing else) deletes from the audit tables
RETENTION_OPTION = "erp_audit_retention"

LOG_TABLES = frozenset({AuditEntry.__tablename__, RecordChange.__tablename__, AccessEntry.__tablename__})
#: the domain and administration: every table of these modules is audited unless skipped below
AUDITED_MODULES = ("erp.", "core.calendar")
#: tables outside those modules whose changes are administrative (deploying a process version)
AUDITED_TABLES = frozenset({"process_definition"})
#: high-volume bookkeeping that records nothing a person decided (and the logs themselves)
SKIPPED_TABLES = LOG_TABLES | frozenset({"job_run", "migration_row", "migration_row_import", "login_attempt",
                                         "saved_filter", "journal_sequence"})
#: columns too large to copy into the log (the diagram sources and parsed spec of a deployment)
BULKY_COLUMNS = frozenset({("process_definition", "sources"), ("process_definition", "spec"),
                           ("process_definition", "forms")})


# ---------------------------------------------------------------------- who is acting

@dataclass(frozen=True)
class Actor:
    """Who acts, and from which address. `who` may be a function, so the web app can name the user only once
    the request has loaded them."""

    who: str | Callable[[], str | None] | None
    address: str | Callable[[], str | None] | None = None

    def name(self) -> str:
        return _value(self.who) or SYSTEM

    def where(self) -> str | None:
        return _value(self.address)


def _value(value):
    return value() if callable(value) else value


_acting: ContextVar[Actor | None] = ContextVar("erp_audit_actor", default=None)


def current_actor() -> Actor:
    return _acting.get() or Actor(None)


def begin_acting(who, address=None):
    """Act as `who` from now on in this context; returns the token `end_acting` takes."""
    return _acting.set(Actor(who, address))


def end_acting(token) -> None:
    _acting.reset(token)


@contextmanager
def acting_as(who, address=None) -> Iterator[Actor]:
    token = begin_acting(who, address)
    try:
        yield _acting.get()
    finally:
        end_acting(token)


# ---------------------------------------------------------------------- which tables and columns

def audited(table_name: str, module: str) -> bool:
    if table_name in SKIPPED_TABLES:
        return False
    return table_name in AUDITED_TABLES or module.startswith(AUDITED_MODULES)


def _secret(column) -> bool:
    name = column.name
    return name == "secret" or name.endswith(("_hash", "_secret")) or bool(column.info.get("secret"))


def _shown(table_name: str, column, value):
    """The value as the log keeps it."""
    if value is None:
        return None
    if _secret(column):
        return SECRET
    if (table_name, column.name) in BULKY_COLUMNS or isinstance(column.type, LargeBinary):
        return NOT_RECORDED
    if column.info.get("personal"):
        # personal information (erp.privacy.classification) is kept masked: the log shows that a phone changed
        # without becoming a second copy of it, which an erasure (PIPL art. 47) could not reach
        return mask(jsonable(value))
    return jsonable(value)


# ---------------------------------------------------------------------- capturing one flush

def _columns(mapper):
    """(attribute key, column) of each mapped column of the table."""
    return [(prop.key, prop.columns[0]) for prop in mapper.column_attrs if prop.columns[0].table is mapper.local_table]


def _key(mapper, obj) -> str:
    return ",".join(str(v) for v in mapper.primary_key_from_instance(obj))


def _inserted(mapper, state) -> dict | None:
    values = state.dict
    table = mapper.local_table.name
    return {"after": {key: _shown(table, column, values[key]) for key, column in _columns(mapper) if key in values}}


def _updated(mapper, state) -> dict | None:
    table = mapper.local_table.name
    before, after = {}, {}
    for key, column in _columns(mapper):
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old == new:
            continue
        before[key], after[key] = _shown(table, column, old), _shown(table, column, new)
    return {"before": before, "after": after} if after else None


def _deleted(mapper, state) -> dict | None:
    values = state.dict
    table = mapper.local_table.name
    return {"before": {key: _shown(table, column, values[key]) for key, column in _columns(mapper) if key in values}}


def _rows(session: Session) -> list[dict]:
    rows = []
    for action, objects, describe in (("record.insert", session.new, _inserted),
                                      ("record.update", session.dirty, _updated),
                                      ("record.delete", session.deleted, _deleted)):
        for obj in objects:
            state = inspect(obj)
            mapper = state.mapper
            if not audited(mapper.local_table.name, mapper.class_.__module__):
                continue
            change = describe(mapper, state)
            if change is not None:
                rows.append({"action": action, "target_type": mapper.local_table.name,
                             "target_id": _key(mapper, obj), "before": change.get("before"),
                             "after": change.get("after")})
    return rows


def _record_flush(session: Session, _flush_context) -> None:
    rows = _rows(session)
    if not rows:
        return
    actor, at = current_actor(), clock.now()
    who, where = actor.name(), actor.where()
    for row in rows:
        row.update(at=at, actor=who, address=where, detail=None)
    # one statement for the whole flush (an executemany; PostgreSQL gets one multi-row INSERT)
    session.connection().execute(insert(RecordChange.__table__), rows)


# ---------------------------------------------------------------------- statements and the logs' protection

def _refuse_log_changes(session: Session, _flush_context, _instances) -> None:
    for obj in session.dirty:
        if isinstance(obj, (AuditEntry, RecordChange, AccessEntry)) and session.is_modified(obj):
            raise PermissionDenied(f"{obj.__tablename__} entries cannot be changed")
    for obj in session.deleted:
        if isinstance(obj, (AuditEntry, RecordChange, AccessEntry)):
            raise PermissionDenied(f"{obj.__tablename__} entries cannot be deleted")


def _on_statement(state) -> object:
    """UPDATE and DELETE statements run through a session: refused on the logs (unless the retention job runs
    them), recorded once each on business tables."""
    if not (state.is_update or state.is_delete):
        return None
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name in LOG_TABLES:
        if state.is_update or not state.execution_options.get(RETENTION_OPTION):
            raise PermissionDenied(f"{name} entries cannot be changed or deleted")
        return None
    mapper = state.bind_mapper
    if name is None or mapper is None or not audited(name, mapper.class_.__module__):
        return None
    result = state.invoke_statement()
    _record_statement(state, name, result.rowcount)
    return result


def _record_statement(state, table_name: str, rowcount: int) -> None:
    compiled = state.statement.compile()
    params = {k: jsonable(v) for k, v in compiled.params.items()}
    where = state.statement.whereclause
    actor = current_actor()
    state.session.connection().execute(insert(RecordChange.__table__), [{
        "at": clock.now(), "actor": actor.name(), "address": actor.where(),
        "action": "record.bulk_update" if state.is_update else "record.bulk_delete",
        "target_type": table_name, "target_id": None, "before": None,
        "after": {"parameters": params, "rows": rowcount},
        "detail": str(where) if where is not None else None}])


_installed = False


def install() -> None:
    """Hook change capture and the logs' protection into every session (idempotent)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "before_flush", _refuse_log_changes)
    event.listen(Session, "after_flush", _record_flush)
    event.listen(Session, "do_orm_execute", _on_statement)
    _installed = True


def command_line_user() -> str:
    """Who acts in an `erp` command: the operating-system account that ran it."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for the uid (some containers)
        return "cli"
