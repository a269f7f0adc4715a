"""The approval actions on human tasks (a mixin of Engine: `self` is the Engine): transfer (转办), delegate and
resolve (委派), add signer before/after (前加签/后加签), return (退回), withdraw (撤回), copy (抄送), comments,
due and follow-up dates, and drafts. Each works inside the caller's transaction, checks who may act, writes the
history and, where people must hear of it, tells the listeners.

Actions that hand a task to someone else bump the instance's lock version, so a completion racing with them
fails with a Conflict instead of completing a task that has just changed hands.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, delete, exists, or_, select, update

from core import clock
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from engine.errors import InstanceNotActive
from engine.events import TASK_COPIED, TASK_REASSIGNED, EngineEvent
from engine.models import (
    HistoryEvent,
    HumanTask,
    ProcessInstance,
    TaskCandidate,
    TaskDraft,
    TaskInvolvement,
)
from engine.relocation import go_to
from engine.stepping import ACTIVE, Step
from engine.store import EVERYONE, fetch_instance, insert_history
from engine.values import jsonable

MAX_TEXT = 2000
POSITIONS = ("before", "after")
RETURN_TARGETS = ("previous", "requester")
#: history kinds that show someone has taken up an open task (it can then no longer be withdrawn from)
TAKEN_UP = ("task_claimed", "task_unclaimed", "comment", "task_transferred", "task_delegated", "task_resolved",
            "task_signer_added", "task_signed")
_UNSET = object()

_instances = ProcessInstance.__table__
_BUMP = (update(_instances)
         .where(_instances.c.id == bindparam("b_id"), _instances.c.lock_version == bindparam("b_version"))
         .values(lock_version=bindparam("b_next"), updated_at=bindparam("b_now")))


class TaskActions:
    # ------------------------------------------------------------------ transfer and delegation

    def transfer(self, session, task_id: int, user: str, to_user: str, comment: str | None = None) -> HumanTask:
        """转办: the task is `to_user`'s from now on (claimed by them)."""
        task, instance = self._acting_on(session, task_id, user)
        target = self._other_user(session, "to_user", to_user, user)
        comment = _optional_text("comment", comment)
        before = task.assignee
        task.assignee, task.claimed_at = target, clock.now()
        self._record(session, task, "task_transferred", user,
                     {"from": user, "assignee_before": before, "to": target, "comment": comment}, message=comment)
        self._involve(session, task, user, "handed_on", user, comment)
        self._handed(session, instance, task, "transferred", user)
        return task

    def delegate(self, session, task_id: int, user: str, to_user: str, comment: str | None = None) -> HumanTask:
        """委派: `to_user` works the task and resolves it back to `user` (the owner), who completes it."""
        task, instance = self._acting_on(session, task_id, user)
        target = self._other_user(session, "to_user", to_user, user)
        comment = _optional_text("comment", comment)
        task.owner, task.assignee, task.delegation_state, task.claimed_at = user, target, "pending", clock.now()
        self._record(session, task, "task_delegated", user, {"owner": user, "to": target, "comment": comment},
                     message=comment)
        self._involve(session, task, user, "delegated", user, comment)
        self._handed(session, instance, task, "delegated", user)
        return task

    def resolve(self, session, task_id: int, user: str, data: dict | None = None,
                comment: str | None = None) -> HumanTask:
        """The delegate hands a delegated task back to its owner; `data` becomes the owner's draft."""
        task, instance = self._task_and_instance(session, task_id)
        _require(user)
        if task.delegation_state != "pending":
            raise Conflict(f"task {task_id} is not delegated, so there is nothing to resolve")
        if task.assignee != user:
            raise PermissionDenied(f"only {task.assignee}, to whom task {task_id} was delegated, can resolve it")
        if data is not None and not isinstance(data, dict):
            raise InvalidInput("task data must be a JSON object", {"data": ["must be a JSON object"]})
        comment = _optional_text("comment", comment)
        task.assignee, task.delegation_state, task.claimed_at = task.owner, "resolved", clock.now()
        if data:
            existing = self.draft(session, task.id, task.owner) or {}
            self._put_draft(session, task.id, task.owner, {**existing, **jsonable(data)})
        session.execute(delete(TaskDraft).where(TaskDraft.task_id == task.id, TaskDraft.user_name == user))
        self._record(session, task, "task_resolved", user, {"owner": task.owner, "delegate": user,
                                                            "data": data or {}, "comment": comment},
                     message=comment)
        self._handed(session, instance, task, "resolved", user)
        return task

    # ------------------------------------------------------------------ signers (加签)

    def add_signer(self, session, task_id: int, user: str, signer: str, position: str = "before",
                   comment: str | None = None) -> HumanTask:
        """加签: `before`, the signer signs first and the task comes back to `user`; `after`, the signer signs
        once `user` has completed it, and only the last signer's completion moves the process on."""
        if position not in POSITIONS:
            raise InvalidInput(f"position must be one of {', '.join(POSITIONS)}",
                               {"position": [f"must be one of {', '.join(POSITIONS)}"]})
        task, instance = self._acting_on(session, task_id, user)
        signer = self._other_user(session, "signer", signer, user)
        comment = _optional_text("comment", comment)
        if position == "before":
            task.return_to = [*(task.return_to or []), user]
            task.assignee, task.claimed_at = signer, clock.now()
        else:
            if signer in (task.signers_after or []):
                raise InvalidInput(f"{signer} is already to sign after", {"signer": ["is already to sign after"]})
            task.signers_after = [*(task.signers_after or []), signer]
            if task.assignee is None:  # whoever adds a signer after themselves works the task
                task.assignee, task.claimed_at = user, clock.now()
        self._record(session, task, "task_signer_added", user, {"signer": signer, "position": position,
                                                                "comment": comment}, message=comment)
        self._involve(session, task, user, "signer_requested", user, comment)
        if position == "before":
            self._handed(session, instance, task, "signer", user)
        else:
            self._bump(session, instance)
            session.flush()
        return task

    def _complete_as_signer(self, session, task, instance, data: dict, submitted: dict, user: str):
        """complete() on a task with signers: a signer added before sends it back to whoever added them; with
        signers still to come after, the merged data waits in pending_data and the next signer gets the task.
        `data` is the validated merged data, `submitted` what this user sent."""
        now = clock.now()
        if task.return_to:
            back, values = task.return_to[-1], {"return_to": task.return_to[:-1]}
            record = {"position": "before", "data": submitted, "back_to": back}
        else:
            back, values = task.signers_after[0], {"signers_after": task.signers_after[1:],
                                                   "pending_data": pack(data)}
            record = {"position": "after", "data": submitted, "next": back}
        holder = HumanTask.assignee.is_(None) if task.assignee is None else HumanTask.assignee == task.assignee
        changed = session.execute(update(HumanTask).where(HumanTask.id == task.id, HumanTask.status == "open", holder)
                                  .values(assignee=back, claimed_at=now, **values))
        if changed.rowcount != 1:
            raise Conflict(f"task {task.id} was changed by someone else just now; reload and try again")
        session.execute(delete(TaskDraft).where(TaskDraft.task_id == task.id, TaskDraft.user_name == user))
        comment = submitted.get("comment") if isinstance(submitted.get("comment"), str) else None
        self._record(session, task, "task_signed", user, record, message=comment)
        self._bump(session, instance)
        fields = {name: getattr(task, name) for name in ("id", "name", "element_id", "due_at", "priority",
                                                         "candidate_users", "candidate_groups")}
        self._tell(session, instance, TASK_REASSIGNED, {**fields, "assignee": back, "reason": "signed", "by": user,
                                                        "seq": instance.lock_version})
        return instance

    # ------------------------------------------------------------------ return (退回) and withdraw (撤回)

    def return_task(self, session, task_id: int, user: str, reason: str, to: str = "previous"):
        """退回: back to the previous human step or to the requester (the first one), with a reason.

        To the requester, a form whose `decision` may be "return" completes the task with that decision, so
        the diagram's own return path runs; otherwise the instance is moved back by hand: this task is
        cancelled and the earlier step is ready again, for whoever completed it then."""
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInput("a reason is required to return a task", {"reason": ["a reason is required"]})
        reason = reason.strip()
        if len(reason) > MAX_TEXT:
            raise InvalidInput("the reason is too long", {"reason": [f"at most {MAX_TEXT} characters"]})
        if to not in RETURN_TARGETS:
            raise InvalidInput(f"to must be one of {', '.join(RETURN_TARGETS)}",
                               {"to": [f"must be one of {', '.join(RETURN_TARGETS)}"]})
        task, instance = self._acting_on(session, task_id, user)
        if task.return_to and task.assignee == user:
            raise PermissionDenied(f"{user} was asked to sign task {task_id} for {task.return_to[-1]}; "
                                   "a signer cannot return it")
        if to == "requester" and self._form_can_return(task.form_key):
            data = {"decision": "return", "comment": reason}
            self.forms.validate(task.form_key, data)
            self._record(session, task, "task_returned", user, {"reason": reason, "to": to, "from": task.element_id,
                                                                "via": "diagram"}, message=reason)
            return self._finish_task(session, task, instance, data, user)
        target = self._earlier_step(session, task, to)
        workflow = self._workflow(session, instance)
        spiff_task = _ready_spiff_task(workflow, task)
        step = Step(session, instance, workflow, user)
        data = {**spiff_task.data, "return_reason": reason}
        go_to(workflow, [spiff_task], target.element_id, data)
        step.assign = {target.element_id: target.completed_by} if target.completed_by else {}
        step.event("task_returned", task=spiff_task, message=reason, data={
            "reason": reason, "to": to, "from": task.element_id, "to_element": target.element_id,
            "assignee": target.completed_by, "task_id": task.id})
        self._run(step)
        self._save(step)
        return instance

    def withdraw(self, session, task_id: int, user: str):
        """撤回: the user takes back a task they completed, as long as the next step has not been taken up."""
        _require(user)
        done = session.get(HumanTask, task_id, populate_existing=True)
        if done is None:
            raise NotFound(f"task {task_id} not found")
        if done.status != "completed":
            raise Conflict(f"task {task_id} is {done.status}; only a completed task can be withdrawn")
        if done.completed_by != user:
            raise PermissionDenied(f"task {task_id} was completed by {done.completed_by}; only they can withdraw it")
        instance = fetch_instance(session, done.instance_id)
        if instance.status not in ACTIVE:
            raise InstanceNotActive(f"instance {instance.id} is {instance.status}; nothing can be withdrawn")
        latest = session.scalar(select(HumanTask.id).where(
            HumanTask.instance_id == done.instance_id, HumanTask.status == "completed")
            .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc()).limit(1))
        if latest != done.id:
            raise Conflict(f"task {task_id} cannot be withdrawn: the next step has already started "
                           "(another step was completed after it)")
        since = session.scalar(select(HistoryEvent.at).where(
            HistoryEvent.instance_id == done.instance_id, HistoryEvent.kind == "task_completed",
            HistoryEvent.spiff_task_id == done.spiff_task_id).order_by(HistoryEvent.id.desc()).limit(1))
        since = since or done.completed_at
        for data in session.scalars(select(HistoryEvent.data).where(
                HistoryEvent.instance_id == done.instance_id, HistoryEvent.kind == "task_withdrawn",
                HistoryEvent.element_id == done.element_id, HistoryEvent.at >= since)):
            if (data or {}).get("task_id") == done.id:
                raise Conflict(f"task {task_id} was withdrawn already")
        following = session.scalars(select(HumanTask).where(
            HumanTask.instance_id == done.instance_id, HumanTask.status == "open", HumanTask.id > done.id,
            HumanTask.created_at >= since).order_by(HumanTask.id)).all()
        if not following:
            raise Conflict(f"task {task_id} cannot be withdrawn: the next step has already started "
                           "(the process is not waiting at a step that follows it)")
        for row in following:
            why = self._taken_up(session, row)
            if why:
                raise Conflict(f"task {task_id} cannot be withdrawn: the next step has already started "
                               f"({row.name or row.element_id}: {why})")
        workflow = self._workflow(session, instance)
        spiff_tasks = [_ready_spiff_task(workflow, row) for row in following]
        step = Step(session, instance, workflow, user)
        go_to(workflow, spiff_tasks, done.element_id, dict(spiff_tasks[0].data))
        step.assign = {done.element_id: user}
        step.event("task_withdrawn", element=done.element_id, data={
            "task_id": done.id, "cancelled": [{"task_id": r.id, "element_id": r.element_id} for r in following]})
        self._run(step)
        self._save(step)
        return instance

    def _earlier_step(self, session, task, to: str):
        order = (HumanTask.completed_at.desc(), HumanTask.id.desc()) if to == "previous" else (
            HumanTask.completed_at, HumanTask.id)
        target = session.scalars(select(HumanTask).where(
            HumanTask.instance_id == task.instance_id, HumanTask.status == "completed",
            HumanTask.element_id != task.element_id).order_by(*order).limit(1)).first()
        if target is None:
            raise Conflict(f"task {task.id}: this step has no earlier step to return to")
        return target

    def _taken_up(self, session, row) -> str | None:
        """Why an open task counts as started by someone (None: untouched)."""
        if row.claimed_at is not None:
            return f"claimed by {row.assignee}"
        if row.owner or row.delegation_state or row.return_to or row.signers_after or row.pending_data:
            return "handed on or signed"
        if session.scalar(select(exists().where(TaskDraft.task_id == row.id))):
            return "a draft was saved"
        kind = session.scalar(select(HistoryEvent.kind).where(
            HistoryEvent.instance_id == row.instance_id, HistoryEvent.spiff_task_id == row.spiff_task_id,
            HistoryEvent.kind.in_(TAKEN_UP)).limit(1))
        return {None: None, "comment": "commented on"}.get(kind, kind and kind.replace("task_", ""))

    def _form_can_return(self, form_key: str | None) -> bool:
        """Whether the form offers the decision "return" (the diagram then draws the way back itself)."""
        if not form_key:
            return False
        try:
            schema = self.forms.get(form_key).schema
        except (NotFound, ValueError):
            return False
        decision = (schema.get("properties") or {}).get("decision") or {}
        return "return" in (decision.get("enum") or [])

    # ------------------------------------------------------------------ copy (抄送) and comments

    def copy_to(self, session, task_id: int | None, user: str, to_users, note: str | None = None,
                instance_id: int | None = None) -> list[str]:
        """抄送: let people know of a task (or a whole instance); returns the users newly copied."""
        _require(user)
        task = None
        if task_id is not None:
            task = session.get(HumanTask, task_id)
            if task is None:
                raise NotFound(f"task {task_id} not found")
            if instance_id is not None and instance_id != task.instance_id:
                raise InvalidInput(f"task {task_id} is not part of instance {instance_id}",
                                   {"instance_id": [f"task {task_id} belongs to instance {task.instance_id}"]})
            instance_id = task.instance_id
        elif instance_id is None:
            raise InvalidInput("copy a task or an instance", {"instance_id": ["a task or an instance is required"]})
        instance = fetch_instance(session, instance_id)
        if not self.can_see_instance(session, instance, user):
            raise PermissionDenied(f"{user} may not see instance {instance_id}, so cannot copy it to others")
        note = _optional_text("note", note)
        if (isinstance(to_users, str) or not isinstance(to_users, (list, tuple, set)) or not to_users
                or not all(isinstance(u, str) for u in to_users)):
            raise InvalidInput("name at least one person to copy to", {"to_users": ["a list of user names"]})
        wanted = list(dict.fromkeys(to_users))
        problems = [f"{u!r} is not a user" for u in wanted if not u.strip() or not self.user_exists(session, u)]
        if problems:
            raise InvalidInput("cannot copy to unknown users", {"to_users": problems})
        same = (TaskInvolvement.task_id == task.id) if task is not None else (
            TaskInvolvement.task_id.is_(None) & (TaskInvolvement.instance_id == instance_id))
        already = set(session.scalars(select(TaskInvolvement.user_name).where(
            same, TaskInvolvement.kind == "copied", TaskInvolvement.user_name.in_(wanted))))
        new = [u for u in wanted if u not in already]
        now = clock.now()
        for name in new:
            session.add(TaskInvolvement(task_id=task.id if task else None, instance_id=instance_id, user_name=name,
                                        kind="copied", by_user=user, at=now, note=note))
        insert_history(session, instance_id, [dict(
            at=now, kind="task_copied", actor=user, element_id=task.element_id if task else None,
            spiff_task_id=task.spiff_task_id if task else None, message=note,
            data={"task_id": task.id if task else None, "to": new, "already": sorted(already), "note": note})])
        session.flush()
        if new:
            self._tell(session, instance, TASK_COPIED, {
                "task_id": task.id if task else None, "task_name": (task.name or task.element_id) if task else None,
                "due_at": task.due_at if task else None, "priority": task.priority if task else None,
                "assignee": task.assignee if task else None, "to_users": new, "by": user, "note": note})
        return new

    def can_see_instance(self, session, instance, user: str) -> bool:
        """Whether `user` started the instance, worked or was given one of its tasks, or may work an open one."""
        if not user:
            return False
        if instance.started_by == user:
            return True
        worked = select(HumanTask.id).where(HumanTask.instance_id == instance.id, or_(
            HumanTask.completed_by == user, HumanTask.assignee == user, HumanTask.owner == user))
        involved = select(TaskInvolvement.id).where(TaskInvolvement.instance_id == instance.id,
                                                    TaskInvolvement.user_name == user)
        if session.scalar(select(exists(worked) | exists(involved))):
            return True
        groups = self.groups_of(session, user)
        offered = (select(TaskCandidate.id).join(HumanTask, HumanTask.id == TaskCandidate.task_id)
                   .where(HumanTask.instance_id == instance.id, HumanTask.status == "open",
                          HumanTask.assignee.is_(None),
                          or_(TaskCandidate.user_name == user,
                              TaskCandidate.group_name.in_([*sorted(groups), EVERYONE]))))
        return bool(session.scalar(select(exists(offered))))

    def comment(self, session, task_id: int, user: str, text: str) -> None:
        """A remark on an open task, kept in the instance history."""
        _require(user)
        task = self._open_task(session, task_id)
        if task.owner != user:
            self._check_candidate(session, task, user)
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput("a comment needs some text", {"text": ["must not be empty"]})
        if len(text) > MAX_TEXT:
            raise InvalidInput("the comment is too long", {"text": [f"at most {MAX_TEXT} characters"]})
        self._record(session, task, "comment", user, {"task_id": task.id}, message=text.strip())

    # ------------------------------------------------------------------ dates

    def set_dates(self, session, task_id: int, user: str, *, due_at=_UNSET, follow_up_at=_UNSET,
                  supervise: bool = False) -> HumanTask:
        """Change the due date and/or the follow-up date (None clears one); a new due date is reminded of
        again. The people on the task may do it; `supervise=True` (a manager, checked by the caller) skips
        that check."""
        _require(user)
        task = self._open_task(session, task_id)
        if not supervise and task.owner != user:
            self._check_candidate(session, task, user)
        changes = {name: _moment(name, value) for name, value in (("due_at", due_at), ("follow_up_at", follow_up_at))
                   if value is not _UNSET}
        if not changes:
            raise InvalidInput("give due_at or follow_up_at", {"due_at": ["nothing to change"]})
        before = {name: getattr(task, name) for name in changes}
        for name, value in changes.items():
            setattr(task, name, value)
        if "due_at" in changes and changes["due_at"] != before["due_at"]:
            task.reminded_at = None  # the escalation job reminds of the new date
        self._record(session, task, "task_dates_changed", user, {"before": before, "after": changes,
                                                                 "supervised": bool(supervise)})
        session.flush()
        return task

    # ------------------------------------------------------------------ drafts

    def save_draft(self, session, task_id: int, user: str, data: dict) -> None:
        """Keep form data a user has not submitted yet (no validation; replaces their earlier draft)."""
        _require(user)
        if not isinstance(data, dict):
            raise InvalidInput("a draft must be a JSON object", {"data": ["must be a JSON object"]})
        task = self._open_task(session, task_id)
        if task.owner != user:
            self._check_candidate(session, task, user)
        self._put_draft(session, task.id, user, jsonable(data))

    def draft(self, session, task_id: int, user: str) -> dict | None:
        """The user's saved draft of an open task, or None."""
        row = session.execute(select(TaskDraft.data, HumanTask.status)
                              .join(HumanTask, HumanTask.id == TaskDraft.task_id)
                              .where(TaskDraft.task_id == task_id, TaskDraft.user_name == user)).first()
        if row is None:
            if session.get(HumanTask, task_id) is None:
                raise NotFound(f"task {task_id} not found")
            return None
        return dict(row.data) if row.status == "open" else None

    @staticmethod
    def _put_draft(session, task_id: int, user: str, data: dict) -> None:
        now = clock.now()
        changed = session.execute(update(TaskDraft).where(TaskDraft.task_id == task_id, TaskDraft.user_name == user)
                                  .values(data=data, updated_at=now))
        if changed.rowcount:
            return
        try:
            with session.begin_nested():
                session.add(TaskDraft(task_id=task_id, user_name=user, data=data, updated_at=now))
        except Exception:  # a concurrent first save by the same user won: overwrite theirs
            session.execute(update(TaskDraft).where(TaskDraft.task_id == task_id, TaskDraft.user_name == user)
                            .values(data=data, updated_at=now))

    # ------------------------------------------------------------------ the engine's save path

    def _project_inbox(self, step):
        """Stepping's projection, plus: new rows for a step moved back by hand go to the person chosen
        (`step.assign`, by element id), and drafts of tasks that went away are deleted."""
        rows, gone = super()._project_inbox(step)
        assign = getattr(step, "assign", None)
        if assign:
            now = clock.now()
            for row in rows:
                if assign.get(row["element_id"]):
                    row["assignee"], row["claimed_at"] = assign[row["element_id"]], now
        if gone:
            step.session.execute(delete(TaskDraft).where(TaskDraft.task_id.in_(
                select(HumanTask.id).where(HumanTask.instance_id == step.instance.id,
                                           HumanTask.spiff_task_id.in_(gone)))))
        return rows, gone

    # ------------------------------------------------------------------ helpers

    def _task_and_instance(self, session, task_id):
        task = session.get(HumanTask, task_id, populate_existing=True)
        if task is None:
            raise NotFound(f"task {task_id} not found")
        if task.status != "open":
            raise Conflict(f"task {task_id} is already {task.status}")
        instance = fetch_instance(session, task.instance_id)
        if instance.status not in ACTIVE:
            raise InstanceNotActive(f"instance {instance.id} is {instance.status}")
        return task, instance

    def _acting_on(self, session, task_id, user):
        """The open task and its instance, once `user` is found to be the one who may act on it now."""
        _require(user)
        task, instance = self._task_and_instance(session, task_id)
        self._check_delegation(task, user)
        self._check_candidate(session, task, user)
        return task, instance

    @staticmethod
    def _check_delegation(task, user) -> None:
        if task.delegation_state != "pending":
            return
        if user == task.assignee:
            raise PermissionDenied(f"task {task.id} was delegated to {user} by {task.owner}: "
                                   f"resolve it back to {task.owner}")
        raise PermissionDenied(f"task {task.id} is delegated to {task.assignee}; it comes back to {task.owner} "
                               "when resolved")

    def _other_user(self, session, field: str, name, user: str) -> str:
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(f"{field} is required", {field: ["a user is required"]})
        name = name.strip()
        if name == user:
            raise InvalidInput(f"{field} must be someone else", {field: ["must be someone other than you"]})
        if not self.user_exists(session, name):
            raise InvalidInput(f"there is no user {name!r}", {field: [f"no user {name!r}"]})
        return name

    @staticmethod
    def _record(session, task, kind, actor, data, message=None) -> None:
        insert_history(session, task.instance_id, [dict(
            at=clock.now(), kind=kind, actor=actor, element_id=task.element_id, spiff_task_id=task.spiff_task_id,
            data=jsonable(data), message=message)])

    @staticmethod
    def _involve(session, task, user_name, kind, by_user, note) -> None:
        session.add(TaskInvolvement(task_id=task.id, instance_id=task.instance_id, user_name=user_name, kind=kind,
                                    by_user=by_user, at=clock.now(), note=note))

    def _handed(self, session, instance, task, reason, by) -> None:
        """The task changed hands: bump the instance's lock and tell the new assignee."""
        self._bump(session, instance)
        session.flush()
        self._tell(session, instance, TASK_REASSIGNED, {
            "id": task.id, "name": task.name, "element_id": task.element_id, "due_at": task.due_at,
            "priority": task.priority, "assignee": task.assignee, "candidate_users": task.candidate_users,
            "candidate_groups": task.candidate_groups, "reason": reason, "by": by, "seq": instance.lock_version})

    @staticmethod
    def _bump(session, instance) -> None:
        params = {"b_id": instance.id, "b_version": instance.lock_version, "b_next": instance.lock_version + 1,
                  "b_now": clock.now()}
        if session.connection().execute(_BUMP, params).rowcount != 1:
            raise Conflict(f"process instance {instance.id} was changed by someone else at the same time; "
                           "reload and try again")
        instance.lock_version += 1

    def _tell(self, session, instance, kind, data) -> None:
        event = EngineEvent(kind, instance.id, instance.process_key, instance.business_key, instance.started_by,
                            data)
        for listener in self.listeners:
            listener(session, event)


def _ready_spiff_task(workflow, row):
    try:
        spiff_task = workflow.get_task_from_id(UUID(row.spiff_task_id))
    except TaskNotFoundException:
        spiff_task = None
    if spiff_task is None or spiff_task.state != TaskState.READY:
        raise Conflict(f"task {row.id} is no longer waiting (the instance moved on)")
    return spiff_task


def _require(user) -> None:
    if not user:
        raise PermissionDenied("a user is required")


def _optional_text(field: str, value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", {field: ["must be text"]})
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{field} is too long", {field: [f"at most {MAX_TEXT} characters"]})
    return value or None


def _moment(field: str, value):
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"{field} is not a date and time", {field: ["not an ISO date and time"]}) from None
    if isinstance(value, date) and not isinstance(value, datetime):
        raise InvalidInput(f"{field} needs a time", {field: ["give a date and time with its zone"]})
    if not isinstance(value, datetime):
        raise InvalidInput(f"{field} is not a date and time", {field: ["not a date and time"]})
    if value.tzinfo is None:
        raise InvalidInput(f"{field} needs a time zone", {field: ["give the time zone"]})
    return value


# pending_data keeps the types a form's data may carry, which plain JSON would turn into text
def pack(value):
    if isinstance(value, dict):
        return {str(k): pack(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [pack(v) for v in value]
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    return jsonable(value)


def unpack(value):
    if isinstance(value, dict):
        if len(value) == 1:
            (key, text), = value.items()
            if key == "$decimal":
                return Decimal(text)
            if key == "$datetime":
                return datetime.fromisoformat(text)
            if key == "$date":
                return date.fromisoformat(text)
        return {k: unpack(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unpack(v) for v in value]
    return value
