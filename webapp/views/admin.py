"""Administration: users (roles, groups, manager, activation, passwords, API tokens), groups (titles, members,
leads); the audit log has its own pages (webapp.views.audit). The rules live in erp.identity; every change is
audited there."""
from __future__ import annotations

import json

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from core.errors import InvalidInput
from erp.audit import queries as audit
from erp.identity import groups as group_ops
from erp.identity import queries
from erp.identity import services as identity
from erp.identity.permissions import ROLES
from webapp import requestdb
from webapp.navigation import EXTRA
from webapp.security import requires, translated_errors, user

blueprint = Blueprint("admin", __name__, url_prefix="/admin")

EXTRA.append(("admin.users", lazy_gettext("Administration"), "admin.users", None))

PER_PAGE = 50


def _address() -> str | None:
    return request.remote_addr


def _me() -> str:
    return user().username


def _translated(errors: dict) -> dict:
    """Field errors from erp.identity are fixed English phrases: show them in the user's language."""
    return translated_errors(errors)


def _page() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


def _pages(total: int) -> int:
    return max((total + PER_PAGE - 1) // PER_PAGE, 1)


# ---------------------------------------------------------------------- users

@blueprint.route("/users")
@requires("admin.users")
def users():
    args = {k: v for k, v in request.args.items() if k in ("q", "role", "active") and v}
    active = {"active": True, "inactive": False}.get(args.get("active", ""))
    rows, total = queries.user_page(requestdb.session(), text=args.get("q"),
                                    role=args.get("role") if args.get("role") in ROLES else None,
                                    active=active, page=_page(), per_page=PER_PAGE)
    return render_template("admin/users.html", rows=rows, total=total, page=_page(), pages=_pages(total),
                           args=args, roles=ROLES)


def _profile_form() -> dict:
    form = request.form
    return {"display_name": form.get("display_name", "").strip(), "email": form.get("email", "").strip(),
            "locale": form.get("locale", "zh_CN"), "manager": form.get("manager", "").strip() or None,
            "roles": form.getlist("roles"), "groups": form.getlist("groups")}


def _user_form(template: str, status: int = 200, **context):
    db = requestdb.session()
    return render_template(template, roles=ROLES, all_groups=queries.group_names(db),
                           people=queries.usernames(db), **context), status


@blueprint.route("/users/new", methods=["GET", "POST"])
@requires("admin.users")
def new_user():
    if request.method == "GET":
        return _user_form("admin/user_new.html", values={"locale": "zh_CN", "roles": ["employee"], "groups": []},
                          errors={})
    values = {"username": request.form.get("username", "").strip(), **_profile_form()}
    try:
        created = identity.register_user(requestdb.session(), **values,
                                         password=request.form.get("password") or None, actor=_me(),
                                         address=_address())
    except InvalidInput as exc:
        return _user_form("admin/user_new.html", 422, values=values, errors=_translated(exc.errors))
    flash(_("User %(name)s was created.", name=created.username), "success")
    return redirect(url_for("admin.edit_user", user_id=created.id))


def _edit_page(person, status=200, errors=None, values=None, new_token=None):
    db = requestdb.session()
    history, _total = audit.search(db, target_type="user", target_id=person.username, per_page=10)
    return _user_form("admin/user_edit.html", status, person=person,
                      values=values or identity.user_fields(db, person), errors=errors or {},
                      tokens=identity.active_tokens(db, person), new_token=new_token,
                      history=[_entry(e) for e in history], is_me=person.username == _me())


@blueprint.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires("admin.users")
def edit_user(user_id):
    db = requestdb.session()
    person = identity.get_user_by_id(db, user_id)
    if request.method == "GET":
        return _edit_page(person)
    values = _profile_form()
    try:
        changed = identity.change_user(db, person, **values, actor=_me(), address=_address())
    except InvalidInput as exc:
        return _edit_page(person, 422, _translated(exc.errors), {**identity.user_fields(db, person), **values})
    flash(_("Saved.") if changed else _("Nothing changed."), "success")
    return redirect(url_for("admin.edit_user", user_id=person.id))


@blueprint.route("/users/<int:user_id>/deactivate", methods=["POST"])
@requires("admin.users")
def deactivate_user(user_id):
    db = requestdb.session()
    person = identity.get_user_by_id(db, user_id)
    try:
        identity.deactivate_user(db, person, actor=_me(), address=_address())
    except InvalidInput as exc:
        return _edit_page(person, 422, _translated(exc.errors))
    flash(_("%(name)s was deactivated: they can no longer log in.", name=person.display_name), "success")
    return redirect(url_for("admin.edit_user", user_id=person.id))


@blueprint.route("/users/<int:user_id>/reactivate", methods=["POST"])
@requires("admin.users")
def reactivate_user(user_id):
    db = requestdb.session()
    person = identity.get_user_by_id(db, user_id)
    identity.reactivate_user(db, person, actor=_me(), address=_address())
    flash(_("%(name)s was reactivated.", name=person.display_name), "success")
    return redirect(url_for("admin.edit_user", user_id=person.id))


@blueprint.route("/users/<int:user_id>/password", methods=["POST"])
@requires("admin.users")
def reset_password(user_id):
    db = requestdb.session()
    person = identity.get_user_by_id(db, user_id)
    try:
        identity.reset_password(db, person, request.form.get("password", ""), actor=_me(), address=_address())
    except InvalidInput as exc:
        return _edit_page(person, 422, _translated(exc.errors))
    flash(_("The password was reset."), "success")
    return redirect(url_for("admin.edit_user", user_id=person.id))


@blueprint.route("/users/<int:user_id>/tokens", methods=["POST"])
@requires("admin.users")
def create_token(user_id):
    db = requestdb.session()
    person = identity.get_user_by_id(db, user_id)
    token = identity.issue_token(db, person, request.form.get("name"), actor=_me(), address=_address())
    # shown once, in this response only (never in a flash message: those travel in the session cookie)
    body, status = _edit_page(person, new_token=token)
    return body, status, {"Cache-Control": "no-store"}


@blueprint.route("/users/<int:user_id>/tokens/revoke", methods=["POST"])
@requires("admin.users")
def revoke_tokens(user_id):
    db = requestdb.session()
    person = identity.get_user_by_id(db, user_id)
    count = identity.withdraw_tokens(db, person, actor=_me(), address=_address())
    flash(_("%(n)s token(s) revoked.", n=count), "success")
    return redirect(url_for("admin.edit_user", user_id=person.id))


# ---------------------------------------------------------------------- groups

@blueprint.route("/groups")
@requires("admin.users")
def groups():
    return render_template("admin/groups.html", rows=queries.group_list(requestdb.session()))


@blueprint.route("/groups/new", methods=["GET", "POST"])
@requires("admin.users")
def new_group():
    values = {k: request.form.get(k, "") for k in ("name", "title_zh", "title_en")}
    if request.method == "GET":
        return render_template("admin/group_new.html", values=values, errors={})
    try:
        group = group_ops.create_group(requestdb.session(), values["name"], title_zh=values["title_zh"],
                                       title_en=values["title_en"], actor=_me(), address=_address())
    except InvalidInput as exc:
        return render_template("admin/group_new.html", values=values, errors=_translated(exc.errors)), 422
    flash(_("Group %(name)s was created.", name=group.name), "success")
    return redirect(url_for("admin.edit_group", group_id=group.id))


def _group_page(group, status=200, errors=None):
    db = requestdb.session()
    members = queries.group_members(db, group.name)
    member_names = {m["username"] for m in members}
    candidates = [(u, n) for u, n in queries.usernames(db) if u not in member_names]
    return render_template("admin/group_edit.html", group=group, members=members, candidates=candidates,
                           errors=errors or {}), status


@blueprint.route("/groups/<int:group_id>", methods=["GET", "POST"])
@requires("admin.users")
def edit_group(group_id):
    db = requestdb.session()
    group = group_ops.get_group(db, group_id)
    if request.method == "GET":
        return _group_page(group)
    changed = group_ops.retitle_group(db, group, title_zh=request.form.get("title_zh"),
                                      title_en=request.form.get("title_en"), actor=_me(), address=_address())
    flash(_("Saved.") if changed else _("Nothing changed."), "success")
    return redirect(url_for("admin.edit_group", group_id=group.id))


@blueprint.route("/groups/<int:group_id>/members", methods=["POST"])
@requires("admin.users")
def add_member(group_id):
    db = requestdb.session()
    group = group_ops.get_group(db, group_id)
    try:
        group_ops.add_member(db, group, request.form.get("username", ""), lead=bool(request.form.get("lead")),
                             actor=_me(), address=_address())
    except InvalidInput as exc:
        return _group_page(group, 422, _translated(exc.errors))
    flash(_("Member added."), "success")
    return redirect(url_for("admin.edit_group", group_id=group.id))


@blueprint.route("/groups/<int:group_id>/members/<int:user_id>/remove", methods=["POST"])
@requires("admin.users")
def remove_member(group_id, user_id):
    db = requestdb.session()
    group = group_ops.get_group(db, group_id)
    group_ops.remove_member(db, group, user_id, actor=_me(), address=_address())
    flash(_("Member removed."), "success")
    return redirect(url_for("admin.edit_group", group_id=group.id))


@blueprint.route("/groups/<int:group_id>/members/<int:user_id>/lead", methods=["POST"])
@requires("admin.users")
def set_lead(group_id, user_id):
    db = requestdb.session()
    group = group_ops.get_group(db, group_id)
    group_ops.set_lead(db, group, user_id, request.form.get("lead") == "1", actor=_me(), address=_address())
    flash(_("Saved."), "success")
    return redirect(url_for("admin.edit_group", group_id=group.id))


# ---------------------------------------------------------------------- a user's audit entries
# (the audit log's own pages are in webapp.views.audit)

def _entry(entry: dict) -> dict:
    def shown(value):
        return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""

    return {**entry, "before_text": shown(entry["before"]), "after_text": shown(entry["after"])}
