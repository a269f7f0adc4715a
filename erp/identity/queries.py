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
    return [{"username": u.username, "display_name": u.display_name, "email": u.email,
             "groups": sorted(by_user.get(u.id, []))} for u in rows]
