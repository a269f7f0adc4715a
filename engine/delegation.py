"""Standing delegation (代理) applied to a new inbox row: while a user is away, a task assigned to them goes to
their delegate, and a task offered to them or to one of their groups is offered to the delegate too. It is
applied once, when the task enters the inbox, so ending a delegation leaves handed-over tasks where they are.
The delegations themselves come from the application (Engine(delegations=...)): the engine knows no table."""
from __future__ import annotations


def hand_over(fields: dict, delegations, groups_of) -> dict[str, str]:
    """Apply `delegations` [(delegator, delegate)] to a new task's inbox `fields` in place.

    Returns {delegate: delegator} for each delegate who got the task. Nobody excluded from the task
    (excludedUsers: the requester) gets it as a delegate, nor through a delegator who is excluded."""
    excluded = set(fields.get("excluded_users") or ())
    delegate_of: dict[str, str] = {}
    for delegator, delegate in delegations:
        delegate_of.setdefault(delegator, delegate)  # one delegate per user: the first (oldest) wins
    handed: dict[str, str] = {}
    assignee = fields.get("assignee")
    if assignee:
        delegate = delegate_of.get(assignee)
        if delegate and delegate not in excluded:
            fields["assignee"] = delegate
            handed[delegate] = assignee
        return handed
    users = list(fields.get("candidate_users") or [])
    groups = set(fields.get("candidate_groups") or ())
    for delegator, delegate in delegate_of.items():
        if delegate in excluded or delegator in excluded or delegate in users:
            continue
        if delegator in users or (groups and groups & set(groups_of(delegator))
                                  and not groups & set(groups_of(delegate))):
            users.append(delegate)
            handed[delegate] = delegator
    fields["candidate_users"] = users
    return handed
