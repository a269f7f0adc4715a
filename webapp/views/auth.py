"""Logging in (password, then the TOTP code for users who set one up) and out, and the user's own settings
(language, password, second factor)."""
from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import logout_user

from core import clock
from core.errors import InvalidInput, RateLimited
from erp.audit.services import record
from erp.identity import totp
from erp.identity.login import authenticate, confirm_code
from erp.identity.login_attempts import minutes
from erp.identity.passwords import check_new_password
from erp.identity.queries import delegation_of, usernames
from erp.identity.services import (
    end_delegation,
    get_user,
    get_user_by_id,
    password_matches,
    set_delegation,
    set_password,
    update_user,
)
from webapp import requestdb
from webapp.security import (
    note_password,
    public,
    requires,
    second_factor_missing,
    start_session,
    translated_errors,
    user,
)

blueprint = Blueprint("auth", __name__)

#: how long the code step waits after the right password
CODE_STEP_TIME = timedelta(minutes=5)


def client_address() -> str | None:
    return request.remote_addr


@blueprint.route("/login", methods=["GET", "POST"])
@public
def login():
    if request.method == "GET":
        session.pop("login_pending", None)  # a code step left unfinished starts over
        return render_template("auth/login.html", next=request.args.get("next", ""))
    db = requestdb.session()
    username, target = request.form.get("username", ""), request.form.get("next", "")
    requestdb.keep_writes()  # failed and blocked attempts count towards the rate limit and are audited
    try:
        checked = authenticate(db, username, request.form.get("password", ""), client_address())
    except RateLimited as exc:
        return _rate_limited(exc, "auth/login.html", next=target, username=username)
    if checked.user is None:
        return render_template("auth/login.html", next=target, username=username,
                               error=_("Wrong username or password.")), 401
    if checked.needs_code:
        _start_code_step(checked.user, target)
        return redirect(url_for("auth.login_code"))
    return _logged_in(db, checked.user, target)


def _start_code_step(found, target: str) -> None:
    """Between the password and the code the session holds only who is logging in (signed, so not forgeable)."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    session["login_pending"] = {"user_id": found.id, "since": clock.now().timestamp(), "next": target}


@blueprint.route("/login/code", methods=["GET", "POST"])
@public
def login_code():
    """The second step of a login: the six-digit code of the user's authenticator app."""
    db = requestdb.session()
    pending = _pending_login()
    found = get_user_by_id(db, pending["user_id"]) if pending else None
    if found is None:
        flash(_("Please log in again."), "warning")
        return redirect(url_for("auth.login"))
    if request.method == "GET":
        return render_template("auth/login_code.html")
    requestdb.keep_writes()
    try:
        ok = confirm_code(db, found, request.form.get("code", ""), client_address())
    except RateLimited as exc:
        return _rate_limited(exc, "auth/login_code.html")
    if not ok:
        return render_template("auth/login_code.html", error=_("The code is wrong or was already used.")), 401
    return _logged_in(db, found, pending.get("next"))


def _pending_login() -> dict | None:
    pending = session.get("login_pending")
    if not isinstance(pending, dict) or "user_id" not in pending:
        return None
    if clock.now().timestamp() - pending.get("since", 0) > CODE_STEP_TIME.total_seconds():
        session.pop("login_pending", None)
        return None
    return pending


def _logged_in(db, found, target: str | None):
    start_session(db, found)
    if second_factor_missing():
        flash(_("Set up your second factor (an authenticator app) before using the administration pages."),
              "warning")
        return redirect(url_for("auth.second_factor"))
    return redirect(_safe_next(target) or url_for("inbox.tasks"))


def _rate_limited(exc: RateLimited, template: str, **values):
    message = _("Too many failed attempts. Try again in %(n)s minutes.", n=minutes(exc.retry_after))
    return render_template(template, error=message, **values), 429, {"Retry-After": str(exc.retry_after)}


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (never //evil.example or https://evil.example)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@blueprint.route("/logout", methods=["POST"])
@requires(None)
def logout():
    record(requestdb.session(), "logout", actor=user().username, target_type="user", target_id=user().username,
           address=client_address())
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@blueprint.route("/account", methods=["GET", "POST"])
@requires(None)
def account():
    db = requestdb.session()
    me = get_user(db, user().username)
    errors = {}
    if request.method == "POST":
        form = request.form
        if form.get("action") == "password":
            errors = _change_password(db, me, form)
            if not errors:
                flash(_("Your password was changed."), "success")
                return redirect(url_for("auth.account"))
        else:
            before = update_user(db, me, locale=form.get("locale") or me.locale,
                                 display_name=form.get("display_name") or me.display_name)
            record(db, "user.update", actor=me.username, target_type="user", target_id=me.username,
                   before={"locale": before["locale"], "display_name": before["display_name"]},
                   after={"locale": me.locale, "display_name": me.display_name}, address=client_address())
            flash(_("Saved."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", me=me, errors=errors,
                           second_factor=totp.has_second_factor(db, me.id)), (422 if errors else 200)


def _change_password(db, me, form) -> dict:
    """The user's own change: the current password, the new one twice, and the password policy. Other browser
    sessions of the user end; this one continues."""
    new = form.get("new_password", "")
    if not password_matches(me, form.get("current_password", "")):
        return {"current_password": [_("The current password is wrong.")]}
    if new != form.get("confirm_password"):
        return {"confirm_password": [_("The passwords differ.")]}
    try:
        check_new_password(new, username=me.username, current_hash=me.password_hash, field="new_password")
    except InvalidInput as exc:
        return translated_errors(exc.errors)
    set_password(me, new)
    db.flush()
    note_password(me)
    record(db, "user.password", actor=me.username, target_type="user", target_id=me.username,
           address=client_address())
    return {}


# ---------------------------------------------------------------------- the TOTP second factor

@blueprint.route("/account/second-factor", methods=["GET"])
@requires(None)
def second_factor():
    """Set up (secret as text, otpauth:// URI and QR code, confirmed with a first code) or turn off."""
    db = requestdb.session()
    me = get_user(db, user().username)
    return _second_factor_page(db, me)


def _second_factor_page(db, me, errors=None, status=200):
    credential = totp.credential_of(db, me.id)
    enrolling = credential is not None and credential.confirmed_at is None
    uri = totp.provisioning_uri(credential, me.username) if enrolling else None
    required = bool(current_app.config.get("REQUIRE_TOTP_FOR_ADMINS")) and "administrator" in (me.roles or [])
    return render_template("auth/second_factor.html", credential=credential, enrolling=enrolling, uri=uri,
                           qr=_qr_code(uri) if uri else None, required=required, errors=errors or {}), status


def _qr_code(uri: str) -> str:
    """The URI as a QR code, an SVG data: URI for an <img> (the CSP allows data: images, no inline markup)."""
    import segno

    return segno.make(uri, error="m").svg_data_uri(scale=4, border=2)


@blueprint.route("/account/second-factor/start", methods=["POST"])
@requires(None)
def start_second_factor():
    db = requestdb.session()
    me = get_user(db, user().username)
    try:
        totp.start_enrolment(db, me)
    except InvalidInput as exc:
        return _second_factor_page(db, me, _code_errors(exc), 422)
    return redirect(url_for("auth.second_factor"))


@blueprint.route("/account/second-factor/confirm", methods=["POST"])
@requires(None)
def confirm_second_factor():
    db = requestdb.session()
    me = get_user(db, user().username)
    try:
        totp.confirm_enrolment(db, me, request.form.get("code", ""), address=client_address())
    except InvalidInput as exc:
        return _second_factor_page(db, me, _code_errors(exc), 422)
    flash(_("Your second factor is set up: from now on, logging in asks for a code from your app."), "success")
    return redirect(url_for("auth.account"))


@blueprint.route("/account/second-factor/remove", methods=["POST"])
@requires(None)
def remove_second_factor():
    db = requestdb.session()
    me = get_user(db, user().username)
    if current_app.config.get("REQUIRE_TOTP_FOR_ADMINS") and "administrator" in (me.roles or []):
        return _second_factor_page(db, me, {"code": [_("Administrators must keep their second factor.")]}, 422)
    try:
        totp.remove_second_factor(db, me, request.form.get("code", ""), address=client_address())
    except InvalidInput as exc:
        return _second_factor_page(db, me, _code_errors(exc), 422)
    flash(_("Your second factor was turned off."), "success")
    return redirect(url_for("auth.account"))


@blueprint.route("/admin/users/<int:user_id>/second-factor/reset", methods=["POST"])
@requires("admin.users")
def reset_second_factor(user_id):
    """An administrator removes a user's second factor (a lost phone); the user may set up a new one."""
    db = requestdb.session()
    person = get_user_by_id(db, user_id)
    if totp.reset_second_factor(db, person, actor=user().username, address=client_address()):
        flash(_("The second factor of %(name)s was reset.", name=person.display_name), "success")
    else:
        flash(_("%(name)s has no second factor.", name=person.display_name), "info")
    return redirect(url_for("admin.edit_user", user_id=person.id))


def _code_errors(exc: InvalidInput) -> dict:
    texts = {totp.WRONG_CODE: _("The code is wrong or was already used."),
             totp.ALREADY_ENROLLED: _("Your second factor is already set up."),
             totp.NOT_ENROLLING: _("Start the set-up first.")}
    return {"code": [texts.get(m, m) for m in exc.errors.get("code", [])]}


@blueprint.route("/account/delegation", methods=["GET", "POST"])
@requires("task.work")
def delegation():
    """The user's standing delegation (代理): from one date to another, their new tasks go to a colleague."""
    db = requestdb.session()
    me = user().username
    errors, values = {}, {}
    if request.method == "POST":
        if request.form.get("action") == "end":
            if end_delegation(db, me, address=client_address()):
                flash(_("Your delegation was ended. Tasks already handed over stay with your stand-in."), "success")
            return redirect(url_for("auth.delegation"))
        values = {name: request.form.get(name, "").strip()
                  for name in ("delegate", "starts_on", "ends_on", "process_key")}
        try:
            set_delegation(db, me, delegate=values["delegate"], starts_on=_date(values["starts_on"]),
                           ends_on=_date(values["ends_on"]), process_key=values["process_key"],
                           address=client_address())
        except InvalidInput as exc:
            errors = {field: [_delegation_error(m) for m in messages] for field, messages in exc.errors.items()}
        else:
            flash(_("Your delegation was saved."), "success")
            return redirect(url_for("auth.delegation"))
    return render_template("auth/delegation.html", current=delegation_of(db, me), values=values, errors=errors,
                           people=[(u, n) for u, n in usernames(db) if u != me]), (422 if errors else 200)


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _delegation_error(message: str) -> str:
    """erp.identity reports fixed English phrases: each in the reader's language."""
    return {"required": _("Required."), "you cannot delegate to yourself": _("You cannot delegate to yourself."),
            "no such user": _("No such user."), "ends before it starts": _("The last day is before the first."),
            "already over": _("The last day is already past."), "too long": _("Too long.")}.get(message, message)


@blueprint.route("/language/<locale>", methods=["POST"])
@public
def language(locale):
    """Switch the language before login (after login the account page sets it for good)."""
    if locale in ("zh_CN", "en"):
        session["locale"] = locale
    return redirect(_safe_next(request.form.get("next")) or url_for("auth.login"))
