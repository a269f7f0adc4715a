"""Service-task operators of the data_migration process (bpmn/data_migration): the dry run's summary for the
data steward (`migration.report`), a re-upload replacing the run (`migration.supersede`), the business owner's
approval (`migration.approve`), reconciliation (`migration.reconcile`) and the steward's sign-off
(`migration.sign_off`). The import itself runs outside the process, in the job `migration.run_imports`."""
from __future__ import annotations

from core import clock
from core.errors import Conflict
from erp.audit.services import record
from erp.migration import runs
from erp.migration.entities import entity
from erp.migration.reconcile import reconcile as reconcile_run


def summary(run) -> dict:
    """What the process keeps of a run: counts, labels and where the report and the error rows are."""
    spec = entity(run.entity)
    return {"run": run.id, "entity": run.entity, "entity_label": spec.label_zh, "entity_label_en": spec.label_en,
            "source_name": run.source_name, "status": run.status, "total": run.total, "ok": run.ok,
            "warnings": run.warnings, "errors": run.errors, "to_import": run.ok + run.warnings,
            "report_url": f"/migration/runs/{run.id}", "errors_url": f"/migration/runs/{run.id}/errors.csv"}


def report(ctx, run) -> dict:
    """The dry run's counts for the gateway and the steward's form."""
    return summary(runs.find_run(ctx.session, int(run)))


def supersede(ctx, run) -> dict:
    """The steward chose to fix the file: this run is replaced by the one they upload next."""
    found = runs.supersede(ctx.session, int(run))
    record(ctx.session, "migration.supersede", actor=ctx.actor, target_type="migration_run", target_id=found.id)
    return {"run": found.id, "status": found.status}


def approve(ctx, run) -> dict:
    """The business owner approved the import: the job `migration.run_imports` picks the run up."""
    found = runs.find_run(ctx.session, int(run))
    if found.status != "validated":
        raise Conflict(f"migration run {found.id} is {found.status}; only a validated run is approved")
    if found.errors:
        raise Conflict(f"migration run {found.id} has {found.errors} rows in error; fix the file and upload again")
    found.status, found.approved_at = "approved", clock.now()
    ctx.session.flush()
    record(ctx.session, "migration.approve", actor=ctx.actor, target_type="migration_run", target_id=found.id)
    return {"run": found.id, "status": found.status}


def reconcile(ctx, run) -> dict:
    """Compare the imported run with the system (对账); the result goes to the steward's sign-off form."""
    found = runs.find_run(ctx.session, int(run))
    result = reconcile_run(ctx.session, found)
    return {"ok": result["ok"], "checks": result["checks"], "differences": result["differences"],
            "imported": found.imported, "total": found.total, "errors": found.errors}


def sign_off(ctx, run, signed_off, note=None) -> dict:
    """The steward signs the reconciled import off (or records why not: the run stays reconciled)."""
    found = runs.find_run(ctx.session, int(run))
    if found.status != "reconciled":
        raise Conflict(f"migration run {found.id} is {found.status}; only a reconciled run is signed off")
    if signed_off:
        found.status = "signed_off"
        ctx.session.flush()
    record(ctx.session, "migration.sign_off" if signed_off else "migration.sign_off_refused", actor=ctx.actor,
           target_type="migration_run", target_id=found.id, detail=(note or None))
    return {"run": found.id, "status": found.status, "signed_off": bool(signed_off)}


def register(registry) -> None:
    registry.register("migration.report", report)
    registry.register("migration.supersede", supersede)
    registry.register("migration.approve", approve)
    registry.register("migration.reconcile", reconcile)
    registry.register("migration.sign_off", sign_off)
