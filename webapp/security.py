"""Who is asking and what they may do: Flask-Login sessions, bearer tokens for the API, CSRF on every form,
and the `requires(permission)` decorator every view carries (the permission-matrix test reads it)."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

from flask import Flask, abort, g, redirect, request, url_for
from flask_login import AnonymousUserMixin, LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import select

from erp.identity.models import GroupMembership, User
from erp.identity.permissions import has_permission, permissions_of
from webapp import requestdb

login_manager = LoginManager()
csrf = CSRFProtect()


@dataclass
class Principal:
    """The logged-in user as the web layer sees them: plain data loaded once per request."""

    id: int
    username: str
    display_name: str
    email: str | None
    locale: str
    roles: list[str]
    groups: set[str] = field(default_factory=set)
    via_token: bool = False

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def permissions(self) -> frozenset[str]:
        return permissions_of(self.roles)

    def can(self, permission: str) -> bool:
        return has_permission(self.roles, permission)


class Anonymous(AnonymousUserMixin):
    username = None
    roles: list[str] = []
    groups: set[str] = set()
    locale = None

    def can(self, permission: str) -> bool:
        return False


def principal_from(session, user: User, via_token: bool = False) -> Principal:
    groups = set(session.scalars(select(GroupMembership.group_name).where(GroupMembership.user_id == user.id)))
    return Principal(id=user.id, username=user.username, display_name=user.display_name, email=user.email,
                     locale=user.locale, roles=list(user.roles or []), groups=groups, via_token=via_token)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.anonymous_user = Anonymous
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)

    @app.before_request
    def check_csrf():
        # Every state-changing request from a browser carries the CSRF token (form field or X-CSRFToken
        # header). A bearer token is never sent by a browser on its own, so token requests need none.
        if not app.config.get("WTF_CSRF_ENABLED", True) or request.method in ("GET", "HEAD", "OPTIONS") \
                or request.headers.get("Authorization", "").startswith("Bearer "):
            return
        csrf.protect()

    @login_manager.user_loader
    def load_user(user_id: str):
        session = requestdb.session()
        user = session.get(User, int(user_id)) if user_id.isdigit() else None
        if user is None or not user.active:
            return None
        return principal_from(session, user)

    @login_manager.request_loader
    def load_from_token(req):
        header = req.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        from erp.identity.services import user_for_token

        session = requestdb.session()
        user = user_for_token(session, header[len("Bearer "):].strip())
        return principal_from(session, user, via_token=True) if user is not None else None

    @login_manager.unauthorized_handler
    def unauthorized():
        if _wants_json():
            abort(401)
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def requires(permission: str | None):
    """Mark a view with the permission it needs (None: any logged-in user) and check it on every call."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if permission is not None and not current_user.can(permission):
                abort(403)
            g.user = current_user
            return view(*args, **kwargs)

        wrapper.erp_permission = permission
        wrapper.erp_public = False
        return wrapper

    return decorate


def public(view):
    """A view anyone may reach without logging in (the login page, static assets)."""
    view.erp_public = True
    view.erp_permission = None
    return view


def user() -> Principal:
    return current_user  # type: ignore[return-value]
