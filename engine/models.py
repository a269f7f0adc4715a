"""Engine tables: definitions, instances, the inbox projection of human tasks, message subscriptions,
the append-only history and incidents."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UtcDateTime


class ProcessDefinition(Base):
    """One deployed version of an executable process; the parsed spec is serialized once, at deploy."""

    __tablename__ = "process_definition"
    __table_args__ = (
        UniqueConstraint("key", "version"),
        UniqueConstraint("key", "content_hash", name="uq_process_definition_key_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)  # the BPMN process id
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(400))
    #: sha256 over the files this version was built from (the process file, its DMN and called processes)
    content_hash: Mapped[str] = mapped_column(String(64))
    #: {file name: XML text} of every file the spec was built from
    sources: Mapped[dict] = mapped_column(JSON)
    #: SpiffWorkflow's serialized spec and subprocess specs, as JSON text
    spec: Mapped[str] = mapped_column(Text)
    #: names of the messages that start this process
    message_starts: Mapped[list] = mapped_column(JSON, default=list)
    #: {element id: form key} of the user tasks, for listing without loading the spec
    forms: Mapped[dict] = mapped_column(JSON, default=dict)
    deployed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    deployed_by: Mapped[str | None] = mapped_column(String(200))
    comment: Mapped[str | None] = mapped_column(Text)


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    __table_args__ = (Index("ix_process_instance_key_status", "process_key", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(200))
    business_key: Mapped[str | None] = mapped_column(String(200), index=True)
    #: running | incident | suspended | completed | terminated
    status: Mapped[str] = mapped_column(String(20), index=True)
    #: the workflow as SpiffWorkflow serializes it, without the spec, compacted to its live work
    state: Mapped[str] = mapped_column(Text)
    #: optimistic lock: every save is UPDATE ... WHERE lock_version = the version that was loaded
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    #: earliest due time of the instance's waiting timers, for the scheduler
    next_timer_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    started_by: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class HumanTask(Base):
    """The inbox row of a ready user or manual task (a projection of the workflow state)."""

    __tablename__ = "human_task"
    __table_args__ = (
        UniqueConstraint("instance_id", "spiff_task_id"),
        Index("ix_human_task_status_assignee", "status", "assignee"),
        Index("ix_human_task_instance_status", "instance_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    spiff_task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(400))
    form_key: Mapped[str | None] = mapped_column(String(200))
    #: the BPMN lane the task is drawn in; lanes map to groups
    lane: Mapped[str | None] = mapped_column(String(200))
    #: candidates as lists too, so a permission check needs no extra query (the lane is one of the groups)
    candidate_users: Mapped[list] = mapped_column(JSON, default=list)
    candidate_groups: Mapped[list] = mapped_column(JSON, default=list)
    assignee: Mapped[str | None] = mapped_column(String(200))
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=50)
    #: open | completed | cancelled (also when returned or withdrawn: see the history)
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    completed_by: Mapped[str | None] = mapped_column(String(200))
    #: when the people on the task were reminded that it falls due soon (催办)
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: how often the task was escalated (升级) for being overdue, and when last
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: who delegated the task (委派) and gets it back when the delegate resolves it
    owner: Mapped[str | None] = mapped_column(String(200))
    #: None | pending (with the delegate) | resolved (back with the owner)
    delegation_state: Mapped[str | None] = mapped_column(String(20))
    #: when to look at the task again (跟进), set by the people on it or a supervisor
    follow_up_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: 前加签: the users the task goes back to, one after another, as each signer added before signs (a stack)
    return_to: Mapped[list] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    #: 后加签: the signers still to sign after the current one (a queue)
    signers_after: Mapped[list] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    #: the data submitted so far while signers added after are still to sign
    pending_data: Mapped[dict | None] = mapped_column(JSON)
    #: users who may never work on the task, whatever their groups (the `excludedUsers` property: e.g. the
    #: requester of an approval, so that no one approves their own request)
    excluded_users: Mapped[list] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    #: standing delegation (代理): {delegate: the user they stand in for} when the task reached them that way
    on_behalf_of: Mapped[dict | None] = mapped_column(JSON)



class TaskDraft(Base):
    """Form data a user saved on an open task without submitting it (one per task and user)."""

    __tablename__ = "task_draft"
    __table_args__ = (UniqueConstraint("task_id", "user_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"))
    user_name: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TaskInvolvement(Base):
    """A person's part in a task beyond working it: handed on (转办), delegated (委派), copied (抄送) or
    asked for a signer (加签); the lists of "tasks I passed on" and "copied to me"."""

    __tablename__ = "task_involvement"
    __table_args__ = (Index("ix_task_involvement_user_kind", "user_name", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None when a whole instance was copied
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    user_name: Mapped[str] = mapped_column(String(200))
    #: handed_on | delegated | copied | signer_requested
    kind: Mapped[str] = mapped_column(String(20))
    by_user: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    note: Mapped[str | None] = mapped_column(Text)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class TaskCandidate(Base):
    """One candidate (user or group) of an open human task, for indexed inbox queries."""

    __tablename__ = "task_candidate"
    __table_args__ = (
        # (name, task_id): the inbox finds a user's or group's task ids from the index alone
        Index("ix_task_candidate_user_task", "user_name", "task_id"),
        Index("ix_task_candidate_group_task", "group_name", "task_id"),
        # an exclusion row: the inbox removes these task ids from the ones a user's candidate rows found
        Index("ix_task_candidate_excluded_task", "excluded_user", "task_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"), index=True)
    user_name: Mapped[str | None] = mapped_column(String(200))
    group_name: Mapped[str | None] = mapped_column(String(200))
    #: set (with user_name and group_name empty) on a row that excludes this user from the task
    excluded_user: Mapped[str | None] = mapped_column(String(200))


class MessageSubscription(Base):
    """An instance waiting for a message, keyed by message name and canonical correlation values."""

    __tablename__ = "message_subscription"
    __table_args__ = (Index("ix_message_subscription_lookup", "message_name", "correlation_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    message_name: Mapped[str] = mapped_column(String(200))
    #: "prop=value&prop2=value2", sorted; "" when the message carries no correlation
    correlation_key: Mapped[str] = mapped_column(String(1000), default="")
    element_id: Mapped[str] = mapped_column(String(200))
    spiff_task_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class HistoryEvent(Base):
    """Append-only: what happened to an instance, when, by whom, with which data."""

    __tablename__ = "history_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    #: started | element_completed | task_completed | task_claimed | message_received | timer_fired |
    #: incident_raised | retried | migrated | suspended | resumed | terminated | completed |
    #: task_transferred | task_delegated | task_resolved | task_signer_added | task_signed | task_returned |
    #: task_withdrawn | task_copied | comment | task_dates_changed
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str | None] = mapped_column(String(200))
    element_id: Mapped[str | None] = mapped_column(String(200))
    element_type: Mapped[str | None] = mapped_column(String(60))
    spiff_task_id: Mapped[str | None] = mapped_column(String(36))
    data: Mapped[dict | None] = mapped_column(JSON)
    message: Mapped[str | None] = mapped_column(Text)


class TimerStart(Base):
    """The schedule of a process drawn with a timer start event: the worker starts an instance when due.
    Only the latest version of a process keeps its schedule."""

    __tablename__ = "timer_start"

    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id", ondelete="CASCADE"),
                                               primary_key=True)
    element_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    process_key: Mapped[str] = mapped_column(String(200), index=True)
    next_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    #: starts still to come: 1 for a date or duration, n for R<n>/…, -1 for an endless cycle
    remaining: Mapped[int] = mapped_column(Integer)
    #: the cycle's period in seconds (None: starts once)
    every_seconds: Mapped[float | None] = mapped_column(Float)


class Incident(Base):
    """A failure that stopped an instance at a task; it stays there until retried."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    element_id: Mapped[str | None] = mapped_column(String(200))
    spiff_task_id: Mapped[str | None] = mapped_column(String(36))
    error_type: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    open: Mapped[bool] = mapped_column(Boolean, default=True, index=True)


class DiagramDraft(Base):
    """A BPMN or DMN file being edited in the modeler: saving it affects nothing running; deploying it makes a
    new version of the processes it belongs to and deletes the draft."""

    __tablename__ = "diagram_draft"
    __table_args__ = (CheckConstraint("kind IN ('bpmn', 'dmn')", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: e.g. "bpmn/order_to_cash/order_to_cash.bpmn" when opened from a version, the upload's name when imported
    file_name: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(10))
    #: the BPMN process id (the first executable process) or the DMN decision id the file defines
    process_key: Mapped[str | None] = mapped_column(String(200), index=True)
    #: the deployed version the draft was opened from (None for a new or imported file)
    base_definition_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_definition.id", ondelete="SET NULL"), index=True)
    #: the XML exactly as the modeler saved it: other modelers' extensions and the diagram layout included
    source: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    #: optimistic lock: a save names the version it edited; a stale one is refused (HTTP 409)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}
