"""What every projects module needs: finding a project and its parts, checking input, today's date."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from core import clock
from core.calendar import BEIJING
from core.errors import InvalidInput, NotFound
from erp.catalog.money import to_decimal
from erp.projects.models import PHASE_KEYS, Project, ProjectPhase, WorkPackage

Errors = dict[str, list[str]]


def today() -> date:
    """The business day in Beijing."""
    return clock.now().astimezone(BEIJING).date()


def local_date(moment: datetime) -> date:
    return moment.astimezone(BEIJING).date()


def find_project(session, project, *, lock: bool = False) -> Project:
    """A project by itself, its id (int or digits) or its code."""
    if isinstance(project, Project):
        if lock:
            session.refresh(project, with_for_update=True)
        return project
    key = project.strip() if isinstance(project, str) else project
    is_id = isinstance(key, int) or (isinstance(key, str) and key.isdigit())
    query = select(Project).where(Project.id == int(key) if is_id else Project.code == str(key).upper())
    found = session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound(f"no project {project}")
    return found


def find_phase(session, project, key: str) -> ProjectPhase:
    project = find_project(session, project)
    phase = session.scalar(select(ProjectPhase).where(ProjectPhase.project_id == project.id,
                                                      ProjectPhase.key == key))
    if phase is None:
        raise NotFound(f"no phase {key!r} in project {project.code} (phases: {', '.join(PHASE_KEYS)})")
    return phase


def find_work_package(session, project, code: str) -> WorkPackage:
    project = find_project(session, project)
    found = session.scalar(select(WorkPackage).where(WorkPackage.project_id == project.id,
                                                     WorkPackage.code == code))
    if found is None:
        raise NotFound(f"no work package {code} in project {project.code}")
    return found


def get(session, model, key, label: str):
    """A row by itself or its id."""
    if isinstance(key, model):
        return key
    found = session.get(model, int(key)) if key is not None and str(key).isdigit() else None
    if found is None:
        raise NotFound(f"no {label} {key}")
    return found


def refuse_if(errors: Errors, message: str) -> None:
    if errors:
        details = "; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items())
        raise InvalidInput(f"{message}: {details}", errors)


def add_error(errors: Errors, field: str, reason: str) -> None:
    errors.setdefault(field, []).append(reason)


def checked_date(value, field: str, errors: Errors, *, required: bool = True) -> date | None:
    """A date given as a date or ISO text."""
    if value is None or value == "":
        if required:
            add_error(errors, field, "required")
        return None
    if isinstance(value, datetime):
        add_error(errors, field, "give a date, not a moment")
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        add_error(errors, field, f"{value!r} is not a date (YYYY-MM-DD)")
        return None


def ordered(start: date | None, end: date | None, field: str, errors: Errors) -> None:
    if start is not None and end is not None and end < start:
        add_error(errors, field, "ends before it starts")


def checked_number(value, field: str, errors: Errors, *, places: int = 2, low: Decimal | None = Decimal(0),
                   high: Decimal | None = None, required: bool = True) -> Decimal | None:
    """A Decimal within [low, high] (either bound may be None)."""
    if value is None or value == "":
        if required:
            add_error(errors, field, "required")
        return None
    try:
        number = to_decimal(value, places)
    except ValueError as exc:
        add_error(errors, field, str(exc))
        return None
    if low is not None and number < low:
        add_error(errors, field, f"must be at least {low}")
        return None
    if high is not None and number > high:
        add_error(errors, field, f"must be at most {high}")
        return None
    return number


def checked_percent(value, field: str, errors: Errors, *, required: bool = True) -> Decimal | None:
    return checked_number(value, field, errors, low=Decimal(0), high=Decimal(100), required=required)


def checked_choice(value, choices, field: str, errors: Errors, *, required: bool = True):
    if value is None:
        if required:
            add_error(errors, field, "required")
        return None
    if value not in choices:
        add_error(errors, field, f"{value!r} is not one of {', '.join(map(str, choices))}")
        return None
    return value


def checked_text(value, field: str, errors: Errors, *, required: bool = True, length: int = 200) -> str | None:
    text = value.strip() if isinstance(value, str) else value
    if not text:
        if required:
            add_error(errors, field, "required")
        return None
    if not isinstance(text, str):
        add_error(errors, field, "must be text")
        return None
    if len(text) > length:
        add_error(errors, field, f"at most {length} characters")
        return None
    return text
