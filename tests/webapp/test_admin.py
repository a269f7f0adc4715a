"""The administration pages: users (create, edit, roles, deactivate, passwords, tokens), groups (titles,
members, leads) and the read-only audit log; every change audited with before and after."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core import clock, db
from erp.audit.models import AuditEntry
from erp.identity.models import ApiToken, Group, GroupMembership, User
from erp.identity.queries import leads_of
from erp.identity.services import ensure_group
from tests.webapp.conftest import PASSWORD, login


@pytest.fixture
def admin(client, make_user):
    make_user("admin", roles=["administrator"], name="管理员")
    make_user("zhangwei", roles=["employee", "manager"], name="张伟")
    with db.transaction() as session:
        ensure_group(session, "finance", "财务部", "Finance")
        ensure_group(session, "sales", "销售部", "Sales")
    login(client, "admin")
    return client


def _user(username) -> User | None:
    with db.transaction() as session:
        found = session.scalars(select(User).where(User.username == username)).first()
        if found is not None:
            session.expunge(found)
        return found


def _groups(username) -> dict[str, bool]:
    with db.transaction() as session:
        return dict(session.execute(select(GroupMembership.group_name, GroupMembership.is_lead)
                                    .join(User, User.id == GroupMembership.user_id)
                                    .where(User.username == username)).all())


def _audit(action) -> list[AuditEntry]:
    with db.transaction() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                  .order_by(AuditEntry.id)).all()
        for entry in entries:
            session.expunge(entry)
        return entries


NEW_USER = {"username": "liuyang", "display_name": "刘洋", "email": "liuyang@example.cn", "locale": "en",
            "manager": "zhangwei", "roles": ["employee", "analyst"], "groups": ["finance"],
            "password": "initial-pass-1"}


def _create(client, **changes):
    return client.post("/admin/users/new", data={**NEW_USER, **changes})


# ---------------------------------------------------------------------- users


def test_an_administrator_creates_a_user_who_can_then_log_in(admin, app):
    response = _create(admin)
    assert response.status_code == 302
    created = _user("liuyang")
    assert response.headers["Location"] == f"/admin/users/{created.id}"
    assert (created.display_name, created.email, created.locale, created.manager, created.roles, created.active) \
        == ("刘洋", "liuyang@example.cn", "en", "zhangwei", ["employee", "analyst"], True)
    assert _groups("liuyang") == {"finance": False}
    [entry] = _audit("user.create")
    assert entry.actor == "admin" and entry.target_id == "liuyang" and entry.before is None
    assert entry.after == {"username": "liuyang", "display_name": "刘洋", "email": "liuyang@example.cn",
                           "locale": "en", "manager": "zhangwei", "roles": ["employee", "analyst"],
                           "active": True, "groups": ["finance"]}
    assert "password" not in json.dumps(entry.after) and "scrypt" not in json.dumps(entry.after)

    newcomer = app.test_client()
    login(newcomer, "liuyang", "initial-pass-1")
    assert newcomer.get("/instances").status_code == 200

    listed = admin.get("/admin/users?q=刘").get_data(as_text=True)
    assert re.findall(r'data-username="(\w+)"', listed) == ["liuyang"]
    listed = admin.get("/admin/users?role=manager").get_data(as_text=True)
    assert re.findall(r'data-username="(\w+)"', listed) == ["zhangwei"]
    listed = admin.get("/admin/users?role=analyst&active=active").get_data(as_text=True)
    assert re.findall(r'data-username="(\w+)"', listed) == ["liuyang"]


def test_creating_a_user_checks_every_field_and_creates_nothing_on_error(admin):
    response = _create(admin, username="zhangwei", manager="nobody", roles=[], groups=["ghosts"], password="short1",
                       email="not-an-address")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    errors = dict(re.findall(r'data-error-for="(\w+)">([^<]+)<', html))
    assert errors == {"username": "已被占用", "manager": "没有这个用户", "roles": "至少选择一个角色",
                      "groups": "没有这个用户组", "password": "至少 10 个字符。", "email": "不是有效的邮箱地址"}
    assert _create(admin, username="has space").status_code == 422
    assert _user("has space") is None and _user("liuyang") is None
    assert _audit("user.create") == []
    assert 'value="nobody"' not in html and 'value="zhangwei"' in html  # the form keeps what was typed


def test_a_user_without_an_initial_password_cannot_log_in(admin, app):
    assert _create(admin, password="").status_code == 302
    assert _user("liuyang").password_hash is None
    response = app.test_client().post("/login", data={"username": "liuyang", "password": ""})
    assert response.status_code == 401


def _edit(client, username, **changes):
    person = _user(username)
    with db.transaction() as session:
        current = {"display_name": person.display_name, "email": person.email or "", "locale": person.locale,
                   "manager": person.manager or "", "roles": list(person.roles),
                   "groups": sorted(session.scalars(select(GroupMembership.group_name)
                                                    .where(GroupMembership.user_id == person.id)))}
    return client.post(f"/admin/users/{person.id}", data={**current, **changes})


def test_editing_a_user_is_audited_with_only_what_changed(admin):
    _create(admin)
    response = _edit(admin, "liuyang", display_name="刘阳", groups=["finance", "sales"], manager="")
    assert response.status_code == 302
    person = _user("liuyang")
    assert person.display_name == "刘阳" and person.manager is None
    assert _groups("liuyang") == {"finance": False, "sales": False}
    [entry] = _audit("user.update")
    assert entry.before == {"display_name": "刘洋", "manager": "zhangwei", "groups": ["finance"]}
    assert entry.after == {"display_name": "刘阳", "manager": None, "groups": ["finance", "sales"]}
    assert _edit(admin, "liuyang").status_code == 302  # nothing changed: no entry
    assert len(_audit("user.update")) == 1


def test_a_role_change_takes_effect_on_the_next_request(admin, app, make_user):
    make_user("wangfang")
    employee = app.test_client()
    login(employee, "wangfang")
    assert employee.get("/admin/users").status_code == 403
    assert _edit(admin, "wangfang", roles=["employee", "administrator"]).status_code == 302
    assert employee.get("/admin/users").status_code == 200
    assert _edit(admin, "wangfang", roles=["employee"]).status_code == 302
    assert employee.get("/admin/users").status_code == 403
    [granted, revoked] = _audit("user.update")
    assert (granted.before, granted.after) == ({"roles": ["employee"]}, {"roles": ["employee", "administrator"]})
    assert revoked.after == {"roles": ["employee"]}


def test_a_deactivated_user_cannot_log_in_and_loses_their_session(admin, app, make_user):
    make_user("wangfang")
    employee = app.test_client()
    login(employee, "wangfang")
    person = _user("wangfang")
    assert admin.post(f"/admin/users/{person.id}/deactivate").status_code == 302
    assert _user("wangfang").active is False
    assert employee.get("/instances").status_code == 302  # the session no longer loads a user
    response = app.test_client().post("/login", data={"username": "wangfang", "password": PASSWORD})
    assert response.status_code == 401
    [entry] = _audit("user.deactivate")
    assert (entry.before, entry.after, entry.target_id) == ({"active": True}, {"active": False}, "wangfang")
    listed = admin.get("/admin/users?active=inactive").get_data(as_text=True)
    assert re.findall(r'data-username="(\w+)"', listed) == ["wangfang"]

    assert admin.post(f"/admin/users/{person.id}/reactivate").status_code == 302
    assert _user("wangfang").active is True
    login(app.test_client(), "wangfang")
    assert _audit("user.reactivate")[0].after == {"active": True}


def test_an_administrator_cannot_lock_themselves_out(admin):
    me = _user("admin")
    response = admin.post(f"/admin/users/{me.id}/deactivate")
    assert response.status_code == 422 and "不能停用自己的账号" in response.get_data(as_text=True)
    response = _edit(admin, "admin", roles=["employee"])
    assert response.status_code == 422
    assert dict(re.findall(r'data-error-for="(\w+)">([^<]+)<', response.get_data(as_text=True))) == {
        "roles": "不能取消自己的系统管理员角色"}
    me = _user("admin")
    assert me.active is True and me.roles == ["administrator"]
    assert 'id="deactivate"' not in admin.get(f"/admin/users/{me.id}").get_data(as_text=True)
    assert _audit("user.update") == [] and _audit("user.deactivate") == []
    # another administrator may do it
    _create(admin, username="admin2", roles=["administrator"])
    assert _edit(admin, "admin2", roles=["employee"]).status_code == 302


def test_password_reset_and_api_tokens(admin, app, make_user):
    make_user("wangfang")
    person = _user("wangfang")
    assert admin.post(f"/admin/users/{person.id}/password", data={"password": "short"}).status_code == 422
    assert admin.post(f"/admin/users/{person.id}/password", data={"password": "brand-new-pass-1"}).status_code == 302
    login(app.test_client(), "wangfang", "brand-new-pass-1")
    [entry] = _audit("user.password_reset")
    assert entry.before is None and entry.after is None and entry.target_id == "wangfang"

    response = admin.post(f"/admin/users/{person.id}/tokens", data={"name": "ERP 接口"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    token = re.search(r'<code class="fs-6 user-select-all">(erp_[\w-]+)</code>', response.get_data(as_text=True))
    token = token.group(1)
    api = app.test_client()
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    page = admin.get(f"/admin/users/{person.id}").get_data(as_text=True)
    assert token not in page and "ERP 接口" in page  # shown once only
    assert _audit("token.create")[0].after == {"name": "ERP 接口"}
    assert token not in json.dumps([e.after for e in _audit("token.create")])

    assert admin.post(f"/admin/users/{person.id}/tokens/revoke").status_code == 302
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    with db.transaction() as session:
        assert session.scalars(select(ApiToken.revoked_at)).one() is not None
    assert _audit("token.revoke")[0].after == {"revoked": 1}


@pytest.mark.parametrize("role", ["employee", "manager", "analyst"])
def test_administration_is_for_administrators_only(client, make_user, role):
    make_user("someone", roles=[role])
    target = _user("someone")
    login(client, "someone")
    for url in ("/admin/users", "/admin/users/new", f"/admin/users/{target.id}", "/admin/groups",
                "/admin/groups/new", "/admin/audit"):
        assert client.get(url).status_code == 403, url
    assert client.post("/admin/users/new", data=NEW_USER).status_code == 403
    assert client.post(f"/admin/users/{target.id}/deactivate").status_code == 403
    assert _user("liuyang") is None and _user("someone").active is True
    assert "/admin/users" not in client.get("/instances").get_data(as_text=True)


# ---------------------------------------------------------------------- groups


def _group_id(name) -> int:
    with db.transaction() as session:
        return session.scalar(select(Group.id).where(Group.name == name))


def test_groups_with_titles_members_and_a_lead(admin, make_user):
    make_user("wangfang", name="王芳")
    make_user("lina", name="李娜")
    assert admin.post("/admin/groups/new", data={"name": "purchasing", "title_zh": "采购部",
                                                 "title_en": "Purchasing"}).status_code == 302
    assert admin.post("/admin/groups/new", data={"name": "purchasing"}).status_code == 422
    assert admin.post("/admin/groups/new", data={"name": "two words"}).status_code == 422
    group_id = _group_id("purchasing")
    assert admin.post(f"/admin/groups/{group_id}/members", data={"username": "wangfang"}).status_code == 302
    assert admin.post(f"/admin/groups/{group_id}/members", data={"username": "lina", "lead": "1"}).status_code \
        == 302
    assert admin.post(f"/admin/groups/{group_id}/members", data={"username": "lina"}).status_code == 422
    assert admin.post(f"/admin/groups/{group_id}/members", data={"username": "ghost"}).status_code == 422
    wangfang = _user("wangfang").id
    assert admin.post(f"/admin/groups/{group_id}/members/{wangfang}/lead", data={"lead": "1"}).status_code == 302
    with db.transaction() as session:
        assert leads_of(session, "purchasing") == ["lina", "wangfang"]
    assert admin.post(f"/admin/groups/{group_id}/members/{_user('lina').id}/lead",
                      data={"lead": "0"}).status_code == 302
    with db.transaction() as session:
        assert leads_of(session, "purchasing") == ["wangfang"]
    assert admin.post(f"/admin/groups/{group_id}", data={"title_zh": "采购中心", "title_en": "Purchasing"}) \
        .status_code == 302

    listing = admin.get("/admin/groups").get_data(as_text=True)
    row = re.search(r'data-group="purchasing">(.*?)</tr>', listing, re.S).group(1)
    assert "采购中心" in row and '<td class="member-count">2</td>' in row and "王芳" in row
    assert "BPMN" in re.search(r'id="lane-note">(.*?)</p>', listing).group(1)
    page = admin.get(f"/admin/groups/{group_id}").get_data(as_text=True)
    assert "purchasing" in page and page.count("lead-badge") == 1

    assert admin.post(f"/admin/groups/{group_id}/members/{_user('lina').id}/remove").status_code == 302
    assert _groups("lina") == {} and _groups("wangfang") == {"purchasing": True}
    assert admin.post(f"/admin/groups/{group_id}/members/{_user('lina').id}/remove").status_code == 404

    actions = [(e.action, e.before, e.after) for e in _audit_of_group("purchasing")]
    assert actions == [
        ("group.create", None, {"name": "purchasing", "title_zh": "采购部", "title_en": "Purchasing"}),
        ("group.member_add", None, {"member": "wangfang", "is_lead": False}),
        ("group.member_add", None, {"member": "lina", "is_lead": True}),
        ("group.lead", {"member": "wangfang", "is_lead": False}, {"member": "wangfang", "is_lead": True}),
        ("group.lead", {"member": "lina", "is_lead": True}, {"member": "lina", "is_lead": False}),
        ("group.update", {"title_zh": "采购部"}, {"title_zh": "采购中心"}),
        ("group.member_remove", {"member": "lina", "is_lead": False}, None),
    ]


def _audit_of_group(name) -> list[AuditEntry]:
    with db.transaction() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.target_type == "group",
                                                           AuditEntry.target_id == name)
                                  .order_by(AuditEntry.id)).all()
        for entry in entries:
            session.expunge(entry)
        return entries


def test_a_user_form_offers_the_groups_and_sets_them(admin):
    html = admin.get("/admin/users/new").get_data(as_text=True)
    assert 'name="groups" value="finance"' in html and 'name="groups" value="sales"' in html
    assert 'name="roles" value="administrator"' in html


# ---------------------------------------------------------------------- audit log


def _entries(client, query) -> list[str]:
    html = client.get("/admin/audit" + query).get_data(as_text=True)
    return re.findall(r'class="audit-row" data-action="([^"]+)"', html)


def test_the_audit_log_is_searched_by_actor_action_target_and_dates(admin, make_user):
    with clock.frozen(datetime(2026, 3, 1, 15, 0, tzinfo=UTC)):  # 23:00 in Beijing, 1 March
        _create(admin)
    with clock.frozen(datetime(2026, 3, 1, 17, 0, tzinfo=UTC)):  # 01:00 in Beijing, 2 March
        _edit(admin, "liuyang", display_name="刘阳")
        admin.post("/admin/groups/new", data={"name": "hr"})
    assert _entries(admin, "?actor=admin&action=user.") == ["user.update", "user.create"]
    assert _entries(admin, "?target_type=group") == ["group.create"]
    assert _entries(admin, "?target_type=user&target_id=liuyang") == ["user.update", "user.create"]
    assert _entries(admin, "?action=user.&since=2026-03-02&until=2026-03-02") == ["user.update"]
    assert _entries(admin, "?action=user.&until=2026-03-01") == ["user.create"]
    assert _entries(admin, "?actor=zhangwei") == []
    assert "日期格式" in admin.get("/admin/audit?since=yesterday").get_data(as_text=True)
    html = admin.get("/admin/audit?action=user.update").get_data(as_text=True)
    assert "刘洋" in html and "刘阳" in html and "管理员" in html


def test_the_audit_log_pages_and_offers_no_way_to_change_an_entry(admin, app):
    with db.transaction() as session:
        for i in range(60):
            session.add(AuditEntry(at=clock.now() - timedelta(minutes=i), actor="robot", action=f"test.{i:02d}"))
    assert len(_entries(admin, "?actor=robot")) == 50
    assert _entries(admin, "?actor=robot&page=2") == [f"test.{i:02d}" for i in range(9, -1, -1)]  # newest first
    audit_rules = [r for r in app.url_map.iter_rules() if "/audit" in r.rule and not r.rule.startswith("/api/")]
    assert [(r.rule, sorted(r.methods - {"HEAD", "OPTIONS"})) for r in audit_rules] == [("/admin/audit", ["GET"])]
    assert admin.post("/admin/audit").status_code == 405
