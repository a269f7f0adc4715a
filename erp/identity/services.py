"""Creating and changing users and groups, passwords, roles and API tokens (take a session, never commit)."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import delete, select
from werkzeug.security import check_password_hash, generate_password_hash

from core import clock
from core.errors import InvalidInput, NotFound
from erp.identity.models import ApiToken, Group, GroupMembership, User
from erp.identity.permissions import check_roles

MIN_PASSWORD_LENGTH = 8
LOCALES = ("zh_CN", "en")


def ensure_user(session, username: str, display_name: str | None = None, *, email: str | None = None,
                groups: list[str] = (), locale: str | None = None, manager: str | None = None,
                lead_of: list[str] = (), roles: list[str] | None = None, password: str | None = None) -> User:
    """Create the user if missing, update what is given, and add the groups (leading those in `lead_of`)."""
    if not username or not username.strip():
        raise InvalidInput("a username is required", {"username": ["required"]})
    username = username.strip()
    user = user_by_name(session, username)
    if user is None:
        user = User(username=username, display_name=display_name or username, email=email,
                    locale=_locale(locale or "zh_CN"), manager=manager, roles=check_roles(roles or ["employee"]),
                    active=True, created_at=clock.now())
        session.add(user)
        session.flush()
    else:
        user.display_name = display_name or user.display_name
        user.email = email or user.email
        user.locale = _locale(locale) if locale else user.locale
        user.manager = manager or user.manager
        if roles is not None:
            user.roles = check_roles(roles)
    if password is not None:
        set_password(user, password)
    for group in [*groups, *lead_of]:
        ensure_group(session, group)
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


def user_by_name(session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).first()


def get_user(session, username: str) -> User:
    user = user_by_name(session, username)
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def _locale(locale: str) -> str:
    locale = locale.replace("-", "_")
    if locale not in LOCALES:
        raise InvalidInput(f"unknown language {locale!r}", {"locale": [f"one of {', '.join(LOCALES)}"]})
    return locale


def set_password(user: User, password: str) -> None:
    if not password or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD_LENGTH} characters",
                           {"password": [f"at least {MIN_PASSWORD_LENGTH} characters"]})
    user.password_hash = generate_password_hash(password)


def password_matches(user: User | None, password: str) -> bool:
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password or "")  # same time whether or not the user exists
        return False
    return check_password_hash(user.password_hash, password or "")


_DUMMY_HASH = generate_password_hash("not a password of anyone")


def update_user(session, user: User, *, display_name=None, email=None, locale=None, manager=None, roles=None,
                active=None, groups: list[str] | None = None) -> dict:
    """Apply the given changes; returns the user's fields before, for the audit entry."""
    before = user_fields(session, user)
    if display_name is not None:
        user.display_name = display_name.strip() or user.username
    if email is not None:
        user.email = email.strip() or None
    if locale is not None:
        user.locale = _locale(locale)
    if manager is not None:
        if manager and user_by_name(session, manager) is None:
            raise InvalidInput(f"no user {manager!r}", {"manager": [f"no user {manager!r}"]})
        user.manager = manager or None
    if roles is not None:
        user.roles = check_roles(roles)
    if active is not None:
        user.active = bool(active)
    if groups is not None:
        set_groups(session, user, groups)
    session.flush()
    return before


def set_groups(session, user: User, groups: list[str]) -> None:
    wanted = {g.strip() for g in groups if g and g.strip()}
    for group in wanted:
        ensure_group(session, group)
    current = set(session.scalars(select(GroupMembership.group_name).where(GroupMembership.user_id == user.id)))
    session.execute(delete(GroupMembership).where(GroupMembership.user_id == user.id,
                                                  GroupMembership.group_name.in_(current - wanted)))
    for group in sorted(wanted - current):
        session.add(GroupMembership(user_id=user.id, group_name=group, is_lead=False))
    session.flush()


def user_fields(session, user: User) -> dict:
    groups = sorted(session.scalars(select(GroupMembership.group_name).where(GroupMembership.user_id == user.id)))
    return {"username": user.username, "display_name": user.display_name, "email": user.email,
            "locale": user.locale, "manager": user.manager, "roles": list(user.roles or []),
            "active": user.active, "groups": groups}


def ensure_group(session, name: str, title_zh: str | None = None, title_en: str | None = None) -> Group:
    name = (name or "").strip()
    if not name or len(name) > 200 or any(c.isspace() for c in name):
        raise InvalidInput(f"invalid group name {name!r}", {"name": ["a name without spaces"]})
    group = session.scalars(select(Group).where(Group.name == name)).first()
    if group is None:
        group = Group(name=name, title_zh=title_zh, title_en=title_en)
        session.add(group)
        session.flush()
    else:
        group.title_zh = title_zh or group.title_zh
        group.title_en = title_en or group.title_en
    return group


def create_token(session, user: User, name: str | None = None) -> str:
    """A new bearer token for `user`; the plain token is returned once and never stored."""
    token = "erp_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=token_hash(token), name=name, created_at=clock.now()))
    session.flush()
    return token


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_for_token(session, token: str) -> User | None:
    row = session.execute(select(User, ApiToken).join(ApiToken, ApiToken.user_id == User.id).where(
        ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None))).first()
    if row is None or not row[0].active:
        return None
    return row[0]


def revoke_tokens(session, user: User) -> int:
    tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
    count = 0
    for token in tokens:
        token.revoked_at = clock.now()
        count += 1
    session.flush()
    return count
