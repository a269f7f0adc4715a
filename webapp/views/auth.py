"""Logging in and out, and the user's own settings (language, password)."""
from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from core.errors import InvalidInput
from erp.audit.services import record
from erp.identity.login import authenticate
from erp.identity.queries import delegation_of, usernames
from erp.identity.services import (
    end_delegation,
    get_user,
    password_matches,
    set_delegation,
    set_password,
    update_user,
)
from webapp import requestdb
from webapp.security import principal_from, public, requires, user

blueprint = Blueprint("auth", __name__)


def client_address() -> str | None:
    return request.remote_addr


@blueprint.route("/login", methods=["GET", "POST"])
@public
def login():
    if request.method == "GET":
        return render_template("auth/login.html", next=request.args.get("next", ""))
    db = requestdb.session()
    username = request.form.get("username", "")
    found = authenticate(db, username, request.form.get("password", ""), client_address())
    if found is None:
        requestdb.keep_writes()  # the failed attempt counts towards the rate limit
        return render_template("auth/login.html", next=request.form.get("next", ""), username=username,
                               error=_("Wrong username or password.")), 401
    session.clear()
    login_user(principal_from(db, found))
    session.permanent = True
    return redirect(_safe_next(request.form.get("next")) or url_for("inbox.tasks"))


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
            if not password_matches(me, form.get("current_password", "")):
                errors["current_password"] = [_("The current password is wrong.")]
            elif form.get("new_password") != form.get("confirm_password"):
                errors["confirm_password"] = [_("The passwords differ.")]
            else:
                try:
                    set_password(me, form.get("new_password", ""))
                except InvalidInput as exc:
                    errors["new_password"] = [_("At least %(n)s characters.", n=8)] if exc.errors else [str(exc)]
            if not errors:
                record(db, "user.password", actor=me.username, target_type="user", target_id=me.username,
                       address=client_address())
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
    return render_template("auth/account.html", me=me, errors=errors), (422 if errors else 200)


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
