"""`erp import`, `erp export-template`, `erp import-runs`: data migration (数据迁移) from the command line — the
dry run with its report and error rows, the import in batches with a progress bar, and reconciliation."""
from __future__ import annotations

import json
from pathlib import Path

import click
from sqlalchemy import select

from core import clock, db
from erp.migration.entities import ENTITIES
from erp.migration.models import BATCH_SIZE

ENTITY = click.Choice(sorted(ENTITIES))
EXIT_ROWS_IN_ERROR = 2


def _emit(as_json: bool, value, text: str) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str) if as_json else text)


def errors_file(path: Path) -> Path:
    """Where the rows in error of `path` are written: next to it, as <file>.errors.csv."""
    return path.with_name(path.name + ".errors.csv")


def _report_text(report: dict) -> str:
    lines = [f"run {report['run']} ({report['entity']}): {report['total']} rows, {report['ok']} ok, "
             f"{report['warnings']} with warnings, {report['errors']} in error"]
    lines += [f"  {field}: {count}" for field, count in report["by_field"].items()]
    for sample in report["sample_errors"]:
        reasons = "; ".join(f"{r['field'] or 'row'}: {r['message']}" for r in sample["reasons"])
        lines.append(f"  row {sample['row_no']}: {reasons}")
    return "\n".join(lines)


@click.command("import")
@click.argument("entity", type=ENTITY)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mapping", "mapping", help="a saved mapping's name (default: the template's headers)")
@click.option("--dry-run", is_flag=True, help="validate and report only; import nothing")
@click.option("--batch-size", default=BATCH_SIZE, show_default=True, type=click.IntRange(min=1))
@click.option("--user", "user", default="migration", show_default=True, help="the user acting")
@click.option("--json", "as_json", is_flag=True, help="print one JSON document")
def import_command(entity, file, mapping, dry_run, batch_size, user, as_json):
    """Import FILE (.csv, .txt or .xlsx) as ENTITY: the dry run first; rows in error block the import (they are
    written to FILE.errors.csv to fix and import again); then the import in batches and the reconciliation."""
    from erp.migration import importer, runs
    from erp.migration.reconcile import reconcile
    from erp.migration.sources import read_source

    with db.transaction() as session:
        run = runs.stage(session, entity, read_source(file.name, file.read_bytes()), mapping=mapping, by=user,
                         source_name=file.name)
        report = runs.report(session, run)
        run_id, errors = run.id, run.errors
        if errors:
            errors_file(file).write_bytes(runs.error_rows_csv(session, run))
        elif not dry_run:  # the command line is its own approval: whoever runs it holds the database
            run.status, run.approved_at = "approved", clock.now()
    result = {"dry_run": report}
    text = _report_text(report)
    if errors:
        result["errors_file"] = str(errors_file(file))
        _emit(as_json, result, f"{text}\nrows in error written to {errors_file(file)}; nothing imported")
        raise SystemExit(EXIT_ROWS_IN_ERROR)
    if dry_run:
        _emit(as_json, result, f"{text}\ndry run: nothing imported")
        return
    result["import"] = _run_import(importer, run_id, batch_size, show=not as_json)
    with db.transaction() as session:
        result["reconciliation"] = reconcile(session, runs.find_run(session, run_id))
    _emit(as_json, result, "\n".join([text, f"imported {result['import']['imported']} rows in "
                                            f"{result['import']['batches']} batches",
                                      _reconciliation_text(result["reconciliation"])]))


def _run_import(importer, run_id: int, batch_size: int, *, show: bool) -> dict:
    database = db.get_database()
    if not show:
        return importer.run_import(database, run_id, batch_size=batch_size)
    with click.progressbar(length=1, label="importing", show_pos=True) as bar:
        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        return importer.run_import(database, run_id, batch_size=batch_size, progress=progress)


def _reconciliation_text(result: dict) -> str:
    lines = [f"reconciliation: {'ok' if result['ok'] else 'DIFFERENCES'}"]
    lines += [f"  {c['name']}: source {c['source']}, system {c['system']}, difference {c['difference']}"
              for c in result["checks"]]
    lines += [f"  {json.dumps(d, ensure_ascii=False, default=str)}" for d in result["differences"]]
    return "\n".join(lines)


@click.command("export-template")
@click.argument("entity", type=ENTITY)
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="the file to write (default: <entity>_template.<format>)")
def export_template(entity, fmt, output):
    """Write the import template of ENTITY: a header per field and example rows (xlsx: with instructions)."""
    from erp.migration.templates import template_csv, template_xlsx

    output = output or Path(f"{entity}_template.{fmt}")
    output.write_bytes(template_xlsx(entity) if fmt == "xlsx" else template_csv(entity))
    click.echo(f"template for {entity} written to {output}")


@click.command("import-runs")
@click.option("--entity", type=ENTITY)
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print one JSON document")
def import_runs(entity, limit, as_json):
    """List migration runs, newest first."""
    from erp.migration.models import MigrationRun

    with db.transaction(readonly=True) as session:
        query = select(MigrationRun).order_by(MigrationRun.id.desc()).limit(limit)
        if entity:
            query = query.where(MigrationRun.entity == entity)
        rows = [{"run": r.id, "entity": r.entity, "status": r.status, "source_name": r.source_name,
                 "total": r.total, "ok": r.ok, "warnings": r.warnings, "errors": r.errors, "imported": r.imported,
                 "created_by": r.created_by, "created_at": r.created_at} for r in session.scalars(query)]
    _emit(as_json, {"runs": rows}, "\n".join(
        f"{r['run']:>5} {r['entity']:<16} {r['status']:<11} {r['imported']:>6}/{r['total']:<6} "
        f"err {r['errors']:<5} warn {r['warnings']:<5} {r['source_name']}" for r in rows) or "no migration runs")
