"""Starting the data_migration process (bpmn/data_migration) for a staged run, and the import of approved runs
that the periodic job `migration.run_imports` (erp.wiring) does before telling the waiting process."""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import and_, or_, select

from core import clock
from core.errors import Conflict, ErpError
from engine.errors import MessageNotDelivered
from erp.migration import importer
from erp.migration.models import BATCH_SIZE, MigrationRun
from erp.migration.runs import find_run

PROCESS = "data_migration"
MESSAGE = "migration_imported"
#: an import that gave no sign of life (a committed batch) for this long is taken over by the next worker
STALE_AFTER = timedelta(minutes=10)

log = logging.getLogger(__name__)


def business_key(run_id: int) -> str:
    return f"MIG-{run_id}"


def start_migration(session, engine, run, *, user: str):
    """Submit a validated run for approval: the process reports the dry run to the data steward if anything
    was found, asks the business owner, waits for the import, reconciles and asks for the sign-off."""
    run = find_run(session, run)
    if run.status != "validated" or run.instance_id is not None:
        raise Conflict(f"migration run {run.id} is {run.status} and already submitted"
                       if run.instance_id is not None else
                       f"migration run {run.id} is {run.status}; only a validated run is submitted")
    instance = engine.start(session, PROCESS, {"run": run.id, "requester": user}, business_key=business_key(run.id),
                            user=user)
    run.instance_id = instance.id
    session.flush()
    return instance


def _claim_next(database) -> int | None:
    """The oldest approved run — or one whose import stopped without a sign of life for STALE_AFTER (its
    worker was killed: the import resumes where it stopped) — claimed (status "importing", heartbeat now) so
    no other worker takes it; SKIP LOCKED on PostgreSQL lets a second worker pass over the one being claimed."""
    stale = clock.now() - STALE_AFTER
    with database.transaction() as session:
        abandoned = and_(MigrationRun.status == "importing",
                         or_(MigrationRun.heartbeat_at.is_(None), MigrationRun.heartbeat_at < stale))
        query = (select(MigrationRun).where(or_(MigrationRun.status == "approved", abandoned))
                 .order_by(MigrationRun.approved_at, MigrationRun.id).limit(1))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        run = session.scalar(query)
        if run is None:
            return None
        run.status, run.heartbeat_at = "importing", clock.now()
        return run.id


def import_approved(database, engine, *, batch_size: int = BATCH_SIZE) -> dict:
    """Import one approved run (the oldest) and deliver `migration_imported` to its waiting process; each
    step is its own transaction (run_import commits batch by batch)."""
    run_id = _claim_next(database)
    if run_id is None:
        return {"run": None}
    try:
        result = importer.run_import(database, run_id, batch_size=batch_size)
    except ErpError as exc:  # run_import marked the run failed; the process keeps waiting for a retry
        log.warning("migration run %s failed: %s", run_id, exc)
        return {"run": run_id, "failed": str(exc)}
    with database.transaction() as session:
        try:
            delivered = engine.deliver_message(session, MESSAGE, {"run": run_id}, {"imported": result["imported"]},
                                               user="system")
        except MessageNotDelivered:  # imported from the command line: no process waits
            delivered = {}
    return {"run": run_id, **result, "delivered": delivered.get("delivered_to", [])}
