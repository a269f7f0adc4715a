"""What every page's layout needs: the inbox counts in the navigation, role labels and people's names."""
from __future__ import annotations

from flask import Flask, g, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user
from sqlalchemy import select

from core import clock
from engine import worklist
from erp.identity.models import User
from webapp import requestdb

ROLE_LABELS = {"employee": lazy_gettext("Employee"), "manager": lazy_gettext("Manager"),
               "analyst": lazy_gettext("Analyst"), "administrator": lazy_gettext("Administrator"),
               "sales": lazy_gettext("Sales"), "finance": lazy_gettext("Finance"),
               "warehouse": lazy_gettext("Warehouse"), "purchasing": lazy_gettext("Purchasing"),
               "privacy_officer": lazy_gettext("Privacy officer"), "auditor": lazy_gettext("Auditor")}

#: extra navigation entries: (endpoint, label, permission, count function or None); areas append theirs
EXTRA: list[tuple[str, object, str, object]] = []


def nav_counts() -> dict:
    if "nav_counts" not in g:
        me = current_user
        g.nav_counts = worklist.counts(requestdb.session(), me.username, me.groups, now=clock.now())
    return g.nav_counts


def nav_extra() -> list[dict]:
    items = []
    for endpoint, label, permission, count in EXTRA:
        if current_user.can(permission):
            items.append({"url": url_for(endpoint), "label": label,
                          "count": count(requestdb.session(), current_user) if count else None})
    return items


def display_name(username: str | None) -> str:
    """A person's name for pages ('王芳'), cached per request."""
    if not username:
        return ""
    names = g.setdefault("display_names", {})
    if username not in names:
        names[username] = requestdb.session().scalar(
            select(User.display_name).where(User.username == username)) or username
    return names[username]


def known_names(usernames) -> None:
    """Load the display names of many people in one query (a page listing tasks names dozens of them)."""
    names = g.setdefault("display_names", {})
    wanted = {u for u in usernames if u and u not in names}
    if wanted:
        names.update({u: u for u in wanted})
        names.update(dict(requestdb.session().execute(
            select(User.username, User.display_name).where(User.username.in_(sorted(wanted)))).all()))


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(nav_counts=nav_counts, nav_extra=nav_extra, display_name=display_name,
                                 role_label=role_label, gettext_=_)
