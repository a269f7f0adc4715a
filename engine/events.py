"""What the engine tells the rest of the application, inside the transaction of the step that caused it
(listeners may write, e.g. notification outbox rows, and never commit)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

#: a task became ready (data: the inbox row's fields and its id)
TASK_CREATED = "task_created"
#: an instance reached its end
INSTANCE_COMPLETED = "instance_completed"
#: an instance stopped at an incident (data: element_id, error_type, message)
INCIDENT_RAISED = "incident_raised"
#: an open task got a new assignee by a task action (data: the inbox row's fields, `reason`: transferred |
#: delegated | resolved | signer | signed, `by`: who acted, `seq`: distinguishes repeated hand-overs)
TASK_REASSIGNED = "task_reassigned"
#: a task or a whole instance was copied (抄送) to people for their information (data: task_id or None,
#: task_name, to_users, by, note)
TASK_COPIED = "task_copied"


@dataclass(frozen=True)
class EngineEvent:
    kind: str
    instance_id: int
    process_key: str
    business_key: str | None
    started_by: str | None
    data: dict = field(default_factory=dict)


Listener = Callable[[object, EngineEvent], None]  # listener(session, event)
