"""Writing the access log (访问日志) from the web: a view that shows personal information unmasked calls
`personal_shown(...)` once per record, naming the fields; who, from where and how (a page, the API, an export)
come from the request. It also names the acting user for the audit trail's change capture on every request."""
from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, g, request

from erp.audit.access import record_access
from erp.audit.changes import begin_acting, end_acting
from erp.masking import present  # also for the views that note what they showed
from webapp import requestdb


def personal_shown(entity: str, entity_id, fields: Iterable[str], how: str | None = None) -> None:
    """Note that the current user was shown these personal fields of `entity` unmasked (nothing if none)."""
    record_access(requestdb.session(), actor=_username() or "anonymous", how=how or _how(), entity=entity,
                  entity_id=entity_id, fields=fields, address=request.remote_addr,
                  detail=f"{request.method} {request.full_path.rstrip('?')}")


def note_unmasked(entity: str, entity_id, data, personal_fields: Iterable[str], how: str | None = None) -> None:
    """For a view showing `data` masked or not by personal_data.view: when the user holds it, note the personal
    fields that carry a value in `data` (at any depth)."""
    if getattr(g.get("_login_user"), "can", lambda _p: False)("personal_data.view"):
        personal_shown(entity, entity_id, present(data, personal_fields), how=how)


def _how() -> str:
    return "api" if request.path.startswith("/api/") else "view"


def _username() -> str | None:
    """The logged-in user, once the request has loaded them (Flask-Login keeps them in g)."""
    return getattr(g.get("_login_user"), "username", None)


def init_app(app: Flask) -> None:
    """Every request acts as its logged-in user (and from its address) for the audit trail's change capture."""

    @app.before_request
    def act_as_the_user():
        g.audit_acting = begin_acting(_username, request.remote_addr)

    @app.teardown_request
    def stop_acting(_exc):
        token = g.pop("audit_acting", None)
        if token is not None:
            end_acting(token)
