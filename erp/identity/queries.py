"""Reads about users and groups."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import String, cast, func, or_, select

from core import clock
from erp.identity.models import Group, GroupMembership, TaskDelegation, User

BEIJING = timezone(timedelta(hours=8))  # delegations run by the company's calendar days


def groups_of(session, username: str) -> set[str]:
    return set(session.scalars(select(GroupMembership.group_name).join(User, User.id == GroupMembership.user_id)
                               .where(User.username == username)))


def users(session) -> list[dict]:
    rows = session.scalars(select(User).order_by(User.username)).all()
    memberships = session.execute(select(GroupMembership.user_id, GroupMembership.group_name)).all()
    by_user: dict[int, list[str]] = {}
    for user_id, group in memberships:
        by_user.setdefault(user_id, []).append(group)
    return [{"username": u.username, "display_name": u.display_name, "email": u.email, "locale": u.locale,
             "manager": u.manager, "roles": list(u.roles or []), "active": u.active,
             "groups": sorted(by_user.get(u.id, []))} for u in rows]


def display_name(session, username: str | None) -> str | None:
    """A person's name as letters and pages show it (王芳); the username when unknown, None for nobody."""
    if not username:
        return None
    return session.scalar(select(User.display_name).where(User.username == username)) or username


def manager_of(session, username: str) -> str | None:
    return session.scalar(select(User.manager).where(User.username == username))


def leads_of(session, group: str) -> list[str]:
    return list(session.scalars(select(User.username).join(GroupMembership, GroupMembership.user_id == User.id)
                                .where(GroupMembership.group_name == group, GroupMembership.is_lead.is_(True))
                                .order_by(User.username)))


def members_of(session, groups, *, active_only: bool = False) -> list[str]:
    groups = list(groups)
    if not groups:
        return []
    query = (select(User.username).join(GroupMembership, GroupMembership.user_id == User.id)
             .where(GroupMembership.group_name.in_(groups)))
    if active_only:
        query = query.where(User.active.is_(True))
    return list(session.scalars(query.distinct().order_by(User.username)))


def direct_reports(session, manager: str) -> list[str]:
    """The usernames whose manager is `manager` (their overdue work and their requests go to them)."""
    return list(session.scalars(select(User.username).where(User.manager == manager).order_by(User.username)))


def user_page(session, *, text: str | None = None, role: str | None = None, active: bool | None = None,
              page: int = 1, per_page: int = 50) -> tuple[list[dict], int]:
    """The administrators' user list: search by username, name or email, filter by role and by being active."""
    query = select(User)
    if text:
        wanted = text.strip()  # literal text: % and _ are not wildcards
        query = query.where(or_(User.username.icontains(wanted, autoescape=True),
                                User.display_name.icontains(wanted, autoescape=True),
                                User.email.icontains(wanted, autoescape=True)))
    if role:
        # roles is a JSON list; its text holds each role in double quotes on SQLite and PostgreSQL alike
        query = query.where(cast(User.roles, String).like(f'%"{role}"%'))
    if active is not None:
        query = query.where(User.active.is_(active))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(User.username).limit(per_page)
                           .offset((max(page, 1) - 1) * per_page)).all()
    groups: dict[int, list[str]] = {}
    if rows:
        for user_id, group in session.execute(select(GroupMembership.user_id, GroupMembership.group_name)
                                              .where(GroupMembership.user_id.in_([u.id for u in rows]))
                                              .order_by(GroupMembership.group_name)):
            groups.setdefault(user_id, []).append(group)
    return [{"id": u.id, "username": u.username, "display_name": u.display_name, "email": u.email,
             "locale": u.locale, "manager": u.manager, "roles": list(u.roles or []), "active": u.active,
             "groups": groups.get(u.id, [])} for u in rows], total


def group_list(session) -> list[dict]:
    """Every group with its titles, how many members it has and who leads it."""
    counts = dict(session.execute(select(GroupMembership.group_name, func.count())
                                  .group_by(GroupMembership.group_name)).all())
    leads: dict[str, list[str]] = {}
    for group, username in session.execute(
            select(GroupMembership.group_name, User.username).join(User, User.id == GroupMembership.user_id)
            .where(GroupMembership.is_lead.is_(True)).order_by(User.username)):
        leads.setdefault(group, []).append(username)
    return [{"id": g.id, "name": g.name, "title_zh": g.title_zh, "title_en": g.title_en,
             "members": counts.get(g.name, 0), "leads": leads.get(g.name, [])}
            for g in session.scalars(select(Group).order_by(Group.name))]


def group_members(session, group: str) -> list[dict]:
    """The members of one group, leads first."""
    rows = session.execute(select(User, GroupMembership.is_lead)
                           .join(GroupMembership, GroupMembership.user_id == User.id)
                           .where(GroupMembership.group_name == group)
                           .order_by(GroupMembership.is_lead.desc(), User.username)).all()
    return [{"id": u.id, "username": u.username, "display_name": u.display_name, "active": u.active,
             "is_lead": bool(lead)} for u, lead in rows]


def group_names(session) -> list[str]:
    return list(session.scalars(select(Group.name).order_by(Group.name)))


def usernames(session, *, active_only: bool = True) -> list[tuple[str, str]]:
    """(username, display name) of every (active) user, for choosing a manager or a member."""
    query = select(User.username, User.display_name).order_by(User.username)
    if active_only:
        query = query.where(User.active.is_(True))
    return [(u, n) for u, n in session.execute(query)]


def beijing_today(now: datetime | None = None) -> date:
    return (now or clock.now()).astimezone(BEIJING).date()


def active_delegations(session, now: datetime) -> list[tuple[str, str, str | None]]:
    """(delegator, delegate, process key or None) of every standing delegation (代理) in force at `now`: the
    engine hands new tasks over with these."""
    today = beijing_today(now)
    return [tuple(row) for row in session.execute(
        select(TaskDelegation.delegator, TaskDelegation.delegate, TaskDelegation.process_key)
        .where(TaskDelegation.ended_at.is_(None), TaskDelegation.starts_on <= today,
               TaskDelegation.ends_on >= today).order_by(TaskDelegation.id))]


def open_delegations(session, delegator: str) -> list[TaskDelegation]:
    """The user's delegations in force now or still to come (normally one), newest first."""
    return list(session.scalars(select(TaskDelegation).where(
        TaskDelegation.delegator == delegator, TaskDelegation.ended_at.is_(None),
        TaskDelegation.ends_on >= beijing_today()).order_by(TaskDelegation.id.desc())))


def delegation_of(session, delegator: str) -> dict | None:
    """The user's current or planned delegation for the account page."""
    found = open_delegations(session, delegator)
    if not found:
        return None
    d = found[0]
    return {"delegate": d.delegate, "process_key": d.process_key, "starts_on": d.starts_on, "ends_on": d.ends_on,
            "active": d.starts_on <= beijing_today() <= d.ends_on}
