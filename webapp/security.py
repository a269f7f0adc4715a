"""Who is asking and what they may do: Flask-Login sessions, bearer tokens for the API, CSRF on every form,
and the `requires(permission)` decorator every view carries (the permission-matrix test reads it).

Browser sessions are renewed at login (`start_session`), end after a spell without requests (the idle timeout
of the settings) and when the user's password is set anew; administrators may be required to have a TOTP
second factor before the administration pages open to them."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from flask import Flask, abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin, LoginManager, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import select

from core import clock
from core.settings import load_settings
from erp.identity import passwords
from erp.identity.models import GroupMembership, User
from erp.identity.permissions import PERMISSIONS, ROLES, has_permission, permissions_of
from erp.identity.totp import has_second_factor
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
    settings = load_settings()
    app.config.setdefault("SESSION_IDLE_MINUTES", settings.session_idle_minutes)
    app.config.setdefault("ADMIN_SESSION_IDLE_MINUTES", settings.admin_session_idle_minutes)
    app.config.setdefault("REQUIRE_TOTP_FOR_ADMINS", settings.require_totp_for_admins)
    app.jinja_env.globals.update(password_min_length=lambda: passwords.PasswordPolicy.configured().min_length,
                                 has_second_factor=lambda user_id: has_second_factor(requestdb.session(), user_id))
    login_manager.init_app(app)
    login_manager.anonymous_user = Anonymous
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)

    app.before_request(end_idle_session)

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
        if user is None or not user.active or not _same_password(user):
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
            if permission in ADMINISTRATION and second_factor_missing():
                return _to_second_factor_set_up()
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


# ---------------------------------------------------------------------- the browser session

ADMINISTRATOR = "administrator"
#: what a required second factor guards: whatever the administrator role permits beyond what every role may do
#: (an administrator without one can still work their tasks and reach their account page to set it up)
ADMINISTRATION = frozenset(p for p, holders in PERMISSIONS.items()
                           if ADMINISTRATOR in holders and not set(ROLES) <= holders)


def start_session(db, found: User) -> None:
    """Log `found` in on a renewed session (against session fixation): nothing of the session before login
    survives but the chosen language; the CSRF token is new too."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    login_user(principal_from(db, found))
    session.permanent = True
    session["seen_at"] = clock.now().timestamp()
    note_password(found)


def note_password(found: User) -> None:
    """The session belongs to the user's current password (a later change of it ends the session)."""
    session["password_set"] = _password_stamp(found)


def _password_stamp(found: User) -> int | None:
    return round(found.password_changed_at.timestamp() * 1_000_000) if found.password_changed_at else None


def _same_password(found: User) -> bool:
    """A browser session opened before the password was last set (by the user elsewhere, or by an administrator)
    no longer counts; token requests carry no session and are not affected."""
    if "_user_id" not in session:
        return True
    return session.get("password_set") == _password_stamp(found)


def end_idle_session():
    """Log out a browser session that saw no request for longer than the idle timeout."""
    if "_user_id" not in session or request.endpoint in ("static", "vendor.vendor"):
        return None
    now = clock.now().timestamp()
    seen = session.get("seen_at")
    if seen is not None and now - seen > _idle_minutes() * 60:
        logout_user()
        locale = session.get("locale")
        session.clear()
        if locale:
            session["locale"] = locale
        flash(_("You were logged out after %(n)s minutes without activity. Please log in again.",
                n=_idle_minutes()), "warning")
        return login_manager.unauthorized()
    # noted once a minute, only forwards (a clock set back, as tests do, must not make a session look idle
    # later): a request that changes nothing in the session sends no cookie, so concurrent requests of one page
    # cannot undo each other's changes; the idle timeout may end a session up to a minute early
    if seen is None or now - seen >= SEEN_EVERY:
        session["seen_at"] = max(seen or now, now)
    return None


#: seconds between two notes of a session's activity (seen_at)
SEEN_EVERY = 60


def _idle_minutes() -> int:
    config = current_app.config
    if ADMINISTRATOR in (getattr(current_user, "roles", None) or []):
        return int(config["ADMIN_SESSION_IDLE_MINUTES"])
    return int(config["SESSION_IDLE_MINUTES"])


def second_factor_missing() -> bool:
    """Whether the settings require a second factor of this administrator and they have not set one up yet (API
    tokens are a credential of their own and are not asked)."""
    if not current_app.config.get("REQUIRE_TOTP_FOR_ADMINS") or getattr(current_user, "via_token", False):
        return False
    if ADMINISTRATOR not in (current_user.roles or []):
        return False
    return not has_second_factor(requestdb.session(), current_user.id)


def _to_second_factor_set_up():
    if _wants_json():
        abort(403)
    flash(_("Set up your second factor (an authenticator app) before using the administration pages."), "warning")
    return redirect(url_for("auth.second_factor"))


# ---------------------------------------------------------------------- messages from erp.identity

def field_error_text(message: str) -> str:
    """A field error of erp.identity (a fixed English phrase) in the reader's language."""
    length = re.fullmatch(r"at least (\d+) characters", message)
    if length:
        return _("At least %(n)s characters.", n=int(length.group(1)))
    texts = {
        passwords.LETTERS_AND_DIGITS: _("Use both letters and digits."),
        passwords.NOT_THE_USERNAME: _("The password must not be the username."),
        passwords.TOO_COMMON: _("This password is too common; choose another."),
        passwords.NOT_THE_CURRENT: _("The new password must differ from the current one."),
    }
    return texts[message] if message in texts else _(message)


def translated_errors(errors: dict) -> dict:
    return {name: [field_error_text(message) for message in messages] for name, messages in errors.items()}
