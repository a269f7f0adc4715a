"""Creating users and group memberships (take a session, never commit)."""
from __future__ import annotations

from sqlalchemy import select

from core.errors import InvalidInput
from erp.identity.models import GroupMembership, User


def ensure_user(session, username: str, display_name: str | None = None, *, email: str | None = None,
                groups: list[str] = (), locale: str = "zh_CN") -> User:
    """Create the user if missing, update the name/email if given, and add the groups."""
    if not username or not username.strip():
        raise InvalidInput("a username is required")
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        user = User(username=username, display_name=display_name or username, email=email, locale=locale)
        session.add(user)
        session.flush()
    else:
        user.display_name = display_name or user.display_name
        user.email = email or user.email
    have = set(session.scalars(select(GroupMembership.group_name).where(GroupMembership.user_id == user.id)))
    for group in groups:
        if group not in have:
            session.add(GroupMembership(user_id=user.id, group_name=group))
            have.add(group)
    session.flush()
    return user
