"""Reads about users and groups."""
from __future__ import annotations

from sqlalchemy import select

from erp.identity.models import GroupMembership, User


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


def manager_of(session, username: str) -> str | None:
    return session.scalar(select(User.manager).where(User.username == username))


def leads_of(session, group: str) -> list[str]:
    return list(session.scalars(select(User.username).join(GroupMembership, GroupMembership.user_id == User.id)
                                .where(GroupMembership.group_name == group, GroupMembership.is_lead.is_(True))
                                .order_by(User.username)))


def members_of(session, groups) -> list[str]:
    groups = list(groups)
    if not groups:
        return []
    return list(session.scalars(select(User.username).join(GroupMembership, GroupMembership.user_id == User.id)
                                .where(GroupMembership.group_name.in_(groups)).distinct().order_by(User.username)))
