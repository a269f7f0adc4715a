"""Human tasks: claim, complete, and the scheduler's reminders and escalations, each written to the history
(a mixin of Engine: `self` is the Engine)."""
from __future__ import annotations

from uuid import UUID

from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, delete, select, update

from core import clock
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine.actions import unpack
from engine.errors import InstanceNotActive
from engine.models import HumanTask, ProcessInstance, TaskDraft
from engine.stepping import ACTIVE, Step
from engine.store import INSTANCE_COLUMNS, InstanceRecord, insert_history, record_from

_TASK_COLUMNS = [HumanTask.__table__.c[name] for name in (
    "id", "instance_id", "spiff_task_id", "element_id", "form_key", "status", "assignee", "candidate_users",
    "candidate_groups", "name", "due_at", "priority", "owner", "delegation_state", "return_to", "signers_after",
    "pending_data", "excluded_users", "on_behalf_of")]
_SELECT_TASK = (select(*_TASK_COLUMNS, *INSTANCE_COLUMNS)
                .join_from(HumanTask.__table__, ProcessInstance.__table__,
                           ProcessInstance.__table__.c.id == HumanTask.__table__.c.instance_id)
                .where(HumanTask.__table__.c.id == bindparam("task_id")))
_DELETE_DRAFTS = delete(TaskDraft.__table__).where(TaskDraft.__table__.c.task_id == bindparam("task_id"))


class Inbox:
    def claim(self, session, task_id: int, user: str) -> HumanTask:
        task = self._open_task(session, task_id)
        if task.assignee and task.assignee != user:
            raise Conflict(f"task {task_id} is already claimed by {task.assignee}")
        self._check_candidate(session, task, user)
        claimed = session.execute(update(HumanTask).where(
            HumanTask.id == task_id, HumanTask.status == "open",
            (HumanTask.assignee.is_(None)) | (HumanTask.assignee == user)).values(
            assignee=user, claimed_at=clock.now()))
        if claimed.rowcount != 1:
            raise Conflict(f"task {task_id} was claimed or completed by someone else just now")
        insert_history(session, task.instance_id, [dict(at=clock.now(), kind="task_claimed", actor=user,
                                                        element_id=task.element_id,
                                                        spiff_task_id=task.spiff_task_id)])
        return task

    def unclaim(self, session, task_id: int, user: str) -> HumanTask:
        task = self._open_task(session, task_id)
        if task.assignee != user:
            raise PermissionDenied(f"task {task_id} is not claimed by {user}")
        if task.delegation_state == "pending":
            raise Conflict(f"task {task_id} was delegated to {user} by {task.owner}: resolve it back instead")
        if task.return_to:
            raise Conflict(f"task {task_id} was given to {user} to sign: complete it to send it back to "
                           f"{task.return_to[-1]}")
        session.execute(update(HumanTask).where(HumanTask.id == task_id, HumanTask.assignee == user)
                        .values(assignee=None, claimed_at=None))
        insert_history(session, task.instance_id, [dict(at=clock.now(), kind="task_unclaimed", actor=user,
                                                        element_id=task.element_id,
                                                        spiff_task_id=task.spiff_task_id)])
        return task

    def complete(self, session, task_id: int, data: dict | None, user: str) -> InstanceRecord:
        """Complete a human task with the submitted data and run the instance to its next wait state.

        With signers on the task (engine.actions), a completion is a signature: a signer added before sends
        the task back to whoever added them, and while signers added after remain, the data waits for them;
        a delegated task must be resolved back to its owner before anyone completes it."""
        row = session.connection().execute(_SELECT_TASK, {"task_id": task_id}).first()
        if row is None:
            raise NotFound(f"task {task_id} not found")
        task, instance = row, record_from(row[len(_TASK_COLUMNS):])
        if task.status != "open":
            raise Conflict(f"task {task_id} is already {task.status}")
        if instance.status not in ACTIVE:
            raise InstanceNotActive(f"instance {instance.id} is {instance.status}")
        if user:
            self._check_delegation(task, user)
        self._check_candidate(session, task, user)
        data = data or {}
        if not isinstance(data, dict):
            raise InvalidInput("task data must be a JSON object")
        submitted = data
        if task.pending_data and not task.return_to:
            data = {**unpack(task.pending_data), **data}  # a later signer's decision governs
        if task.form_key:
            self.forms.validate(task.form_key, data)
        if task.return_to or task.signers_after:
            return self._complete_as_signer(session, task, instance, data, submitted, user)
        return self._finish_task(session, task, instance, data, user)

    def _finish_task(self, session, task, instance: InstanceRecord, data: dict, user: str) -> InstanceRecord:
        """Run the workflow task of inbox row `task` with `data` (already checked) and save the instance."""
        workflow = self._workflow(session, instance)
        try:
            spiff_task = workflow.get_task_from_id(UUID(task.spiff_task_id))
        except TaskNotFoundException:
            spiff_task = None
        if spiff_task is None or spiff_task.state != TaskState.READY:
            raise Conflict(f"task {task.id} is no longer waiting (the instance moved on)")
        step = Step(session, instance, workflow, user)
        spiff_task.task_spec.add_data_from_form(spiff_task, data) if hasattr(
            spiff_task.task_spec, "add_data_from_form") else spiff_task.update_data(data)
        spiff_task.run()
        step.completed_inbox.add(task.spiff_task_id)
        step.finish_task = {"id": task.id, "user": user}
        on_behalf = (task.on_behalf_of or {}).get(user)
        step.event("task_completed", task=spiff_task, data=data,
                   message=f"{user} on behalf of {on_behalf} (代理)" if on_behalf else None)
        self._run(step)
        self._save(step)
        session.connection().execute(_DELETE_DRAFTS, {"task_id": task.id})
        return instance

    def _open_task(self, session, task_id) -> HumanTask:
        task = session.get(HumanTask, task_id, populate_existing=True)
        if task is None:
            raise NotFound(f"task {task_id} not found")
        if task.status != "open":
            raise Conflict(f"task {task_id} is already {task.status}")
        return task

    def may_work_on(self, session, task: HumanTask, user: str) -> bool:
        if user in (task.excluded_users or ()):
            return False  # excludedUsers: e.g. the requester, on an approval of their own request
        if task.assignee:
            return task.assignee == user
        if not task.candidate_users and not task.candidate_groups:
            return True  # nobody named in the diagram: anyone may take it
        if user in task.candidate_users:
            return True
        return bool(task.candidate_groups and set(task.candidate_groups) & self.groups_of(session, user))

    def _check_candidate(self, session, task, user):
        if not user:
            raise PermissionDenied("a user is required")
        if user in (task.excluded_users or ()):
            raise PermissionDenied(f"{user} may not work on task {task.id}: the task excludes them "
                                   "(no one approves their own request)")
        if not self.may_work_on(session, task, user):
            who = task.assignee or ", ".join([*task.candidate_users, *task.candidate_groups])
            raise PermissionDenied(f"{user} may not work on task {task.id} (it is for {who})")

    def remind(self, session, task_id: int, *, actor: str = "scheduler") -> HumanTask:
        """Record that the people on an open task were reminded before it falls due (催办)."""
        task = self._open_task(session, task_id)
        task.reminded_at = clock.now()
        self._task_history(session, task, "reminder_sent", actor, {"due_at": task.due_at})
        session.flush()
        return task

    def escalate(self, session, task_id: int, *, reason: str, raise_priority_by: int = 0,
                 reassign_to: str | None = None, actor: str = "scheduler") -> HumanTask:
        """Raise an overdue task (升级): a higher priority and, if the policy says so, a new assignee."""
        task = self._open_task(session, task_id)
        before = {"assignee": task.assignee, "priority": task.priority}
        task.priority = min(task.priority + raise_priority_by, 100)
        if reassign_to:
            task.assignee, task.claimed_at = reassign_to, clock.now()
            if task.delegation_state == "pending":  # the new assignee has it for good, not as a delegate
                task.delegation_state = None
        task.escalation_level += 1
        task.escalated_at = clock.now()
        self._task_history(session, task, "escalated", actor, {
            "reason": reason, "level": task.escalation_level, "from": before,
            "to": {"assignee": task.assignee, "priority": task.priority}})
        session.flush()
        return task

    @staticmethod
    def _task_history(session, task, kind, actor, data=None) -> None:
        from engine.values import jsonable

        insert_history(session, task.instance_id, [dict(
            at=clock.now(), kind=kind, actor=actor, element_id=task.element_id, spiff_task_id=task.spiff_task_id,
            data=jsonable(data) if data is not None else None)])
