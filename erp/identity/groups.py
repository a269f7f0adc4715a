"""Administering groups: titles, members and leads (组长), each change audited. BPMN lanes and
candidateGroups name a group by its `name`, so a name never changes once a diagram may use it."""
from __future__ import annotations

from sqlalchemy import select

from core.errors import InvalidInput, NotFound
from erp.audit.services import changes, record
from erp.identity.models import Group, GroupMembership, User
from erp.identity.services import ensure_group, user_by_name


def get_group(session, group_id: int) -> Group:
    group = session.get(Group, group_id)
    if group is None:
        raise NotFound(f"no group #{group_id}")
    return group


def create_group(session, name: str, *, title_zh: str | None = None, title_en: str | None = None,
                 actor: str | None, address: str | None = None) -> Group:
    name = (name or "").strip()
    if not name or len(name) > 200 or any(c.isspace() for c in name):
        raise InvalidInput("invalid group name", {"name": ["a name without spaces"]})
    if session.scalar(select(Group.id).where(Group.name == name)) is not None:
        raise InvalidInput("the group exists", {"name": ["already taken"]})
    group = ensure_group(session, name, _text(title_zh), _text(title_en))
    record(session, "group.create", actor=actor, target_type="group", target_id=name,
           after=_fields(group), address=address)
    return group


def retitle_group(session, group: Group, *, title_zh: str | None, title_en: str | None, actor: str | None,
                  address: str | None = None) -> dict:
    """Change the titles people see (the name stays); returns the changed fields."""
    before = _fields(group)
    group.title_zh, group.title_en = _text(title_zh), _text(title_en)
    session.flush()
    old, new = changes(before, _fields(group))
    if new:
        record(session, "group.update", actor=actor, target_type="group", target_id=group.name, before=old,
               after=new, address=address)
    return new


def add_member(session, group: Group, username: str, *, lead: bool = False, actor: str | None,
               address: str | None = None) -> GroupMembership:
    user = user_by_name(session, (username or "").strip())
    if user is None:
        raise InvalidInput("no such user", {"username": ["no such user"]})
    membership = _membership(session, group, user.id)
    if membership is not None:
        raise InvalidInput("already a member", {"username": ["already a member"]})
    membership = GroupMembership(user_id=user.id, group_name=group.name, is_lead=bool(lead))
    session.add(membership)
    session.flush()
    record(session, "group.member_add", actor=actor, target_type="group", target_id=group.name,
           after={"member": user.username, "is_lead": bool(lead)}, address=address)
    return membership


def remove_member(session, group: Group, user_id: int, *, actor: str | None, address: str | None = None) -> None:
    membership = _existing(session, group, user_id)
    username = membership_username(session, membership)
    session.delete(membership)
    session.flush()
    record(session, "group.member_remove", actor=actor, target_type="group", target_id=group.name,
           before={"member": username, "is_lead": membership.is_lead}, address=address)


def set_lead(session, group: Group, user_id: int, is_lead: bool, *, actor: str | None,
             address: str | None = None) -> None:
    """Mark or unmark a member as the group's lead, who receives escalations of its unclaimed overdue tasks."""
    membership = _existing(session, group, user_id)
    if membership.is_lead == bool(is_lead):
        return
    membership.is_lead = bool(is_lead)
    session.flush()
    username = membership_username(session, membership)
    record(session, "group.lead", actor=actor, target_type="group", target_id=group.name,
           before={"member": username, "is_lead": not is_lead}, after={"member": username, "is_lead": bool(is_lead)},
           address=address)


def membership_username(session, membership: GroupMembership) -> str:
    return session.scalar(select(User.username).where(User.id == membership.user_id))


def _membership(session, group: Group, user_id: int) -> GroupMembership | None:
    return session.scalars(select(GroupMembership).where(GroupMembership.group_name == group.name,
                                                         GroupMembership.user_id == user_id)).first()


def _existing(session, group: Group, user_id: int) -> GroupMembership:
    membership = _membership(session, group, user_id)
    if membership is None:
        raise NotFound(f"user #{user_id} is not a member of {group.name}")
    return membership


def _fields(group: Group) -> dict:
    return {"name": group.name, "title_zh": group.title_zh, "title_en": group.title_en}


def _text(value: str | None) -> str | None:
    return (value or "").strip()[:200] or None
