"""Who may see which process instance — one rule for the pages, the API and downloads: every instance with
instance.view_all; otherwise those the user started, has or had a task in, is offered, was handed or copied
on, and, for holders of the manager role, those their direct reports started."""
from __future__ import annotations

from sqlalchemy import select

from engine import api_queries
from erp.identity.models import User


def viewer(session, me) -> api_queries.Viewer | None:
    """The user as a viewer of instances; None when they may see all of them."""
    if me.can("instance.view_all"):
        return None
    reports = (frozenset(session.scalars(select(User.username).where(User.manager == me.username)))
               if "manager" in me.roles else frozenset())
    return api_queries.Viewer(me.username, frozenset(me.groups), reports)


def clause(session, me):
    """A WHERE clause on process_instance for the instances `me` may see; None: all of them."""
    who = viewer(session, me)
    return None if who is None else api_queries.visible_clause(who)


def may_view_instance(session, instance_id: int, me) -> bool:
    return api_queries.instance_visible(session, instance_id, viewer(session, me))
