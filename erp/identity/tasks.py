"""Service-task operators about people: who must countersign (会签) an approval level (`identity.approvers`).
Registered through erp.wiring.OPERATOR_MODULES."""
from __future__ import annotations

from core.errors import NotFound
from erp.identity.queries import members_of


def approvers(ctx, group: str, excluded=()) -> list[str]:
    """The active members of `group` who each approve in a countersign level, less `excluded` (the requester).

    A group with no one left is an error, never a level that approves itself silently."""
    excluded = {str(user) for user in (excluded or ())}
    found = [user for user in members_of(ctx.session, [group], active_only=True) if user not in excluded]
    if not found:
        raise NotFound(f"approver group {group!r} has no active member other than {', '.join(sorted(excluded))} "
                       "to countersign: add members to the group, then retry the instance")
    return found


def register(registry) -> None:
    registry.register("identity.approvers", approvers)
