"""Creating and changing users and groups, passwords, roles and API tokens (take a session, never commit)."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import date

from sqlalchemy import delete, select
from werkzeug.security import check_password_hash, generate_password_hash

from core import clock
from core.errors import InvalidInput, NotFound
from erp.audit.services import changes, record
from erp.identity.models import ApiToken, Group, GroupMembership, TaskDelegation, User
from erp.identity.passwords import check_new_password, password_problems
from erp.identity.permissions import ROLES, check_roles
from erp.identity.queries import beijing_today, open_delegations

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


def get_user_by_id(session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user #{user_id}")
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
    user.password_changed_at = clock.now()


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


# ---------------------------------------------------------------------- administration (each change audited)
#
# Field errors use fixed English phrases (the web layer translates them), never values typed by the user.

ADMINISTRATOR = "administrator"
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")


def register_user(session, *, username: str, display_name: str | None = None, email: str | None = None,
                  locale: str = "zh_CN", manager: str | None = None, roles=("employee",), groups=(),
                  password: str | None = None, actor: str | None, address: str | None = None) -> User:
    """An administrator creates a user; without a password the user cannot log in until one is set."""
    username = (username or "").strip()
    errors = _profile_errors(session, username, email, locale, manager, roles, groups)
    if not username:
        errors["username"] = ["required"]
    elif not USERNAME.fullmatch(username):
        errors["username"] = ["letters, digits and . _ @ - only"]
    elif user_by_name(session, username) is not None:
        errors["username"] = ["already taken"]
    if password and (problems := password_problems(password, username=username)):
        errors["password"] = problems
    if errors:
        raise InvalidInput("the user was not created", errors)
    user = User(username=username, display_name=(display_name or "").strip() or username,
                email=(email or "").strip() or None, locale=_locale(locale), manager=manager or None,
                roles=check_roles(roles), active=True, created_at=clock.now())
    session.add(user)
    session.flush()
    if password:
        set_password(user, password)
    set_groups(session, user, list(groups))
    record(session, "user.create", actor=actor, target_type="user", target_id=username,
           after=user_fields(session, user), address=address)
    return user


def change_user(session, user: User, *, display_name: str, email: str | None, locale: str, manager: str | None,
                roles, groups, actor: str | None, address: str | None = None) -> dict:
    """An administrator edits a user's profile, roles and groups; returns the changed fields (after)."""
    errors = _profile_errors(session, user.username, email, locale, manager, roles, groups)
    if actor == user.username and ADMINISTRATOR in (user.roles or []) and ADMINISTRATOR not in roles:
        errors["roles"] = ["you cannot remove your own administrator role"]
    if errors:
        raise InvalidInput("the user was not changed", errors)
    before = update_user(session, user, display_name=display_name or "", email=email or "", locale=locale,
                         manager=manager or "", roles=list(roles), groups=list(groups))
    old, new = changes(before, user_fields(session, user))
    if new:
        record(session, "user.update", actor=actor, target_type="user", target_id=user.username,
               before=old, after=new, address=address)
    return new


def _profile_errors(session, username, email, locale, manager, roles, groups) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if email and "@" not in email:
        errors["email"] = ["not an email address"]
    if locale not in LOCALES:
        errors["locale"] = ["unknown language"]
    if manager:
        if manager == username:
            errors["manager"] = ["a user cannot be their own manager"]
        elif user_by_name(session, manager) is None:
            errors["manager"] = ["no such user"]
    roles = [r for r in roles if r]
    if not roles:
        errors["roles"] = ["at least one role"]
    elif any(r not in ROLES for r in roles):
        errors["roles"] = ["unknown role"]
    known = set(session.scalars(select(Group.name).where(Group.name.in_(list(groups))))) if groups else set()
    if set(groups) - known:
        errors["groups"] = ["no such group"]
    return errors


def deactivate_user(session, user: User, *, actor: str | None, address: str | None = None) -> None:
    """The user can no longer log in or use a token; their history and tasks stay."""
    if user.username == actor:
        raise InvalidInput("you cannot deactivate yourself", {"active": ["you cannot deactivate yourself"]})
    _set_active(session, user, False, "user.deactivate", actor, address)


def reactivate_user(session, user: User, *, actor: str | None, address: str | None = None) -> None:
    _set_active(session, user, True, "user.reactivate", actor, address)


def _set_active(session, user, active, action, actor, address) -> None:
    if user.active == active:
        return
    user.active = active
    session.flush()
    record(session, action, actor=actor, target_type="user", target_id=user.username,
           before={"active": not active}, after={"active": active}, address=address)


def reset_password(session, user: User, password: str, *, actor: str | None, address: str | None = None) -> None:
    """An administrator sets a new password (the audit entry says so, and holds neither password nor hash)."""
    check_new_password(password, username=user.username, current_hash=user.password_hash)
    set_password(user, password)
    session.flush()
    record(session, "user.password_reset", actor=actor, target_type="user", target_id=user.username,
           address=address)


def issue_token(session, user: User, name: str | None, *, actor: str | None, address: str | None = None) -> str:
    """A new API token for `user`, returned once; the audit entry names it, never shows it."""
    name = (name or "").strip()[:200] or None
    token = create_token(session, user, name)
    record(session, "token.create", actor=actor, target_type="user", target_id=user.username,
           after={"name": name}, address=address)
    return token


def withdraw_tokens(session, user: User, *, actor: str | None, address: str | None = None) -> int:
    """Revoke every API token of `user`; returns how many were still valid."""
    count = revoke_tokens(session, user)
    record(session, "token.revoke", actor=actor, target_type="user", target_id=user.username,
           after={"revoked": count}, address=address)
    return count


def active_tokens(session, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                                .order_by(ApiToken.id)))


# ---------------------------------------------------------------------- standing delegation (代理), audited


def set_delegation(session, delegator: str, *, delegate: str, starts_on: date | None, ends_on: date | None,
                   process_key: str | None = None, address: str | None = None) -> TaskDelegation:
    """From `starts_on` to `ends_on` (both included) the delegator's new tasks go to `delegate`; replaces the
    delegator's current or planned delegation. Only new tasks are handed over, and they stay handed over."""
    delegate, process_key = (delegate or "").strip(), (process_key or "").strip() or None
    errors: dict[str, list[str]] = {}
    target = user_by_name(session, delegate) if delegate else None
    if not delegate:
        errors["delegate"] = ["required"]
    elif delegate == delegator:
        errors["delegate"] = ["you cannot delegate to yourself"]
    elif target is None or not target.active:
        errors["delegate"] = ["no such user"]
    if starts_on is None:
        errors["starts_on"] = ["required"]
    if ends_on is None:
        errors["ends_on"] = ["required"]
    elif starts_on is not None and ends_on < starts_on:
        errors["ends_on"] = ["ends before it starts"]
    elif ends_on < beijing_today():
        errors["ends_on"] = ["already over"]
    if process_key is not None and len(process_key) > 200:
        errors["process_key"] = ["too long"]
    if errors:
        raise InvalidInput("the delegation was not set", errors)
    replaced = open_delegations(session, delegator)
    for old in replaced:
        old.ended_at = clock.now()
    delegation = TaskDelegation(delegator=delegator, delegate=delegate, process_key=process_key,
                                starts_on=starts_on, ends_on=ends_on, created_at=clock.now())
    session.add(delegation)
    session.flush()
    record(session, "delegation.set", actor=delegator, target_type="user", target_id=delegator,
           before=_delegation_fields(replaced[0]) if replaced else None, after=_delegation_fields(delegation),
           address=address)
    return delegation


def end_delegation(session, delegator: str, *, address: str | None = None) -> int:
    """End the delegator's current or planned delegation now; tasks already handed over stay with the delegate."""
    ended = open_delegations(session, delegator)
    for delegation in ended:
        delegation.ended_at = clock.now()
    session.flush()
    if ended:
        record(session, "delegation.end", actor=delegator, target_type="user", target_id=delegator,
               before=_delegation_fields(ended[0]), address=address)
    return len(ended)


def _delegation_fields(delegation: TaskDelegation) -> dict:
    return {"delegate": delegation.delegate, "process_key": delegation.process_key,
            "starts_on": delegation.starts_on, "ends_on": delegation.ends_on}
