"""Creating users and group memberships (take a session, never commit)."""
from __future__ import annotations

from sqlalchemy import select

from core.errors import InvalidInput
from erp.identity.models import GroupMembership, User


def ensure_user(session, username: str, display_name: str | None = None, *, email: str | None = None,
                groups: list[str] = (), locale: str | None = None, manager: str | None = None,
                lead_of: list[str] = ()) -> User:
    """Create the user if missing, update what is given, and add the groups (leading those in `lead_of`)."""
    if not username or not username.strip():
        raise InvalidInput("a username is required")
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        user = User(username=username, display_name=display_name or username, email=email,
                    locale=locale or "zh_CN", manager=manager)
        session.add(user)
        session.flush()
    else:
        user.display_name = display_name or user.display_name
        user.email = email or user.email
        user.locale = locale or user.locale
        user.manager = manager or user.manager
    memberships = {m.group_name: m for m in session.scalars(
        select(GroupMembership).where(GroupMembership.user_id == user.id))}
    for group in [*groups, *lead_of]:
        if group not in memberships:
            memberships[group] = GroupMembership(user_id=user.id, group_name=group, is_lead=False)
            session.add(memberships[group])
        if group in lead_of:
            memberships[group].is_lead = True
    session.flush()
    return user
