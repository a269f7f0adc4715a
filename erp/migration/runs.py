"""The dry run (试运行 / 模拟导入): a source mapped, cleansed and validated into a migration run with its rows,
without touching any target table; its report and the rows in error as a CSV to fix and upload again."""
from __future__ import annotations

import csv
import io
import re
from collections import Counter
from contextlib import nullcontext

from sqlalchemy import select, update

from core import clock
from core.bulk import collector_paused, insert_rows, read_rows
from core.errors import Conflict, InvalidInput, NotFound
from erp.migration.entities import entity
from erp.migration.mapping import Mapper, References, auto_mapping, checked_columns, find_mapping
from erp.migration.models import MigrationRow, MigrationRun
from erp.migration.similar_names import InSecondProcess
from erp.migration.sources import EXTRA_CELLS, SourceTable
from erp.migration.validation import FileChecks, names_started, pending_references, status_of

REASONS_COLUMN = "错误原因 Reasons"
SAMPLE_ERRORS = 20
#: runs a re-upload may replace (an import under way or done is reconciled instead)
SUPERSEDABLE = ("validated", "approved", "failed")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def stage(session, entity_key: str, source: SourceTable, *, mapping: str | None = None,
          columns: dict | None = None, by: str | None, source_name: str | None = None) -> MigrationRun:
    """A validated run of `source` for the entity: every row mapped (by `columns`, else the saved mapping
    `mapping`, else the template's headers), cleansed, validated and stored with its status and reasons."""
    entity(entity_key)
    mapping_id = None
    if columns is not None:
        checked_columns(entity_key, columns)
    elif mapping is not None:
        saved = find_mapping(session, entity_key, mapping)
        columns, mapping_id = saved.columns, saved.id
    else:
        columns = auto_mapping(entity_key, source.columns)
    if not columns:
        raise InvalidInput("no column of the file matches a field; map the columns or use the template",
                           {"columns": [f"recognised none of {', '.join(source.columns)}"]})
    references = References(session, pending_references(session, entity_key))
    run = MigrationRun(entity=entity_key, mapping_id=mapping_id, mapping=columns,
                       source_name=(source_name or f"upload.{source.kind}")[:500], source_kind=source.kind,
                       encoding=source.encoding, delimiter=source.delimiter, status="validated",
                       created_at=clock.now(), created_by=by, imported=0)
    with collector_paused():
        names = names_started(entity_key, columns, source.rows, references)  # a large file's, meanwhile
        with names or nullcontext():
            _stage_rows(session, run, source, columns, references, names)
    return run


def _stage_rows(session, run: MigrationRun, source: SourceTable, columns: dict, references: References,
                names: InSecondProcess | None) -> None:
    mapper = Mapper(run.entity, columns, references)
    mapped = [(row_no, values, problems) for (row_no, _), (values, problems)
              in zip(source.rows, mapper.rows([raw for _, raw in source.rows]), strict=True)]
    checks = FileChecks(session, run.entity, [(row_no, values) for row_no, values, _ in mapped],
                        references=references)
    found = checks.check()
    session.add(run)
    session.flush()
    merged = [_merged(problems, reasons) for (_, _, problems), reasons in zip(mapped, found, strict=True)]
    statuses = list(map(status_of, merged))
    insert_rows(session, MigrationRow.__table__, ("run_id", "row_no", "raw", "values", "status", "reasons"),
                [(run.id, row_no, raw, values, status, reasons) for (row_no, values, _), status, reasons, (_, raw)
                 in zip(mapped, statuses, merged, source.rows, strict=True)])
    # the similar names last: the rows are stored while a large file's are still being compared
    similar = checks.similar_names(names)
    for i, reasons in similar.items():
        merged[i] = merged[i] + reasons
        statuses[i] = status_of(merged[i])
    _amend(session, run, {i: (statuses[i], merged[i]) for i in similar})
    counts = Counter(statuses)
    run.total, run.ok, run.warnings, run.errors = len(statuses), counts["ok"], counts["warning"], counts["error"]
    session.flush()


def _amend(session, run: MigrationRun, rows: dict[int, tuple[str, list[dict]]]) -> None:
    """Store the new (status, reasons) of the run's rows given by their place in the file. The rows were
    written in the file's order in one statement, so their ids ascend in it."""
    if not rows:
        return
    ids = [row_id for row_id, in read_rows(session, select(MigrationRow.id).where(MigrationRow.run_id == run.id)
                                           .order_by(MigrationRow.id))]
    session.execute(update(MigrationRow), [{"id": ids[i], "status": status, "reasons": reasons}
                                            for i, (status, reasons) in sorted(rows.items())])


def _merged(problems: list[dict], reasons: list[dict]) -> list[dict]:
    """The transform problems (errors) and validation's reasons, without a second complaint about a field a
    transform already failed on."""
    if not problems:  # most rows
        return reasons
    failed = {p["field"] for p in problems}
    return [{**p, "level": p.get("level", "error")} for p in problems] + \
        [r for r in reasons if not (r["field"] in failed and r["level"] == "error")]


def find_run(session, run) -> MigrationRun:
    if isinstance(run, MigrationRun):
        return run
    found = session.get(MigrationRun, run)
    if found is None:
        raise NotFound(f"no migration run {run}")
    return found


def report(session, run) -> dict:
    """The dry run's result: counts, reasons per field and the first rows in error."""
    run = find_run(session, run)
    by_field: Counter = Counter()
    samples = []
    rows = session.execute(select(MigrationRow.row_no, MigrationRow.status, MigrationRow.reasons)
                           .where(MigrationRow.run_id == run.id, MigrationRow.status != "ok")
                           .order_by(MigrationRow.id))
    for row_no, status, reasons in rows:
        by_field.update(r["field"] or "(row)" for r in reasons)
        if status == "error" and len(samples) < SAMPLE_ERRORS:
            samples.append({"row_no": row_no, "reasons": [r for r in reasons if r.get("level") == "error"]})
    return {"run": run.id, "entity": run.entity, "status": run.status, "total": run.total, "ok": run.ok,
            "warnings": run.warnings, "errors": run.errors, "imported": run.imported,
            "by_field": dict(by_field.most_common()), "sample_errors": samples}


def error_rows_csv(session, run, *, include_warnings: bool = False, explain=None) -> bytes:
    """The rows in error (and warnings if asked) with their original columns and a last column of reasons
    (in English, or as `explain(reason)` words them), UTF-8 with BOM, to fix and upload again."""
    explain = explain or (lambda r: r["message"])
    run = find_run(session, run)
    statuses = ("error", "warning") if include_warnings else ("error",)
    rows = session.execute(select(MigrationRow.raw, MigrationRow.reasons)
                           .where(MigrationRow.run_id == run.id, MigrationRow.status.in_(statuses))
                           .order_by(MigrationRow.id)).all()
    columns = _original_columns(session, run, rows)
    labels = {f.name: f"{f.label_zh} {f.label_en}" for f in entity(run.entity).fields}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*columns, REASONS_COLUMN])
    for raw, reasons in rows:
        explained = "; ".join(f"{labels.get(r['field'], r['field'] or '行 row')}: {explain(r)}"
                              for r in reasons if r.get("level") in statuses)
        writer.writerow([*(_safe_cell(raw.get(c, "")) for c in columns), explained])
    return out.getvalue().encode("utf-8-sig")


def _original_columns(session, run: MigrationRun, rows) -> list[str]:
    raw = rows[0][0] if rows else session.scalar(select(MigrationRow.raw).where(MigrationRow.run_id == run.id)
                                                 .limit(1))
    if raw is None:
        raw = {rule["source"]: "" for rule in run.mapping.values() if rule.get("source")}
    return [c for c in raw if c not in (EXTRA_CELLS, REASONS_COLUMN)]


def _safe_cell(value) -> str:
    """A cell that a spreadsheet would run as a formula (=, +, -, @) is written with a leading apostrophe."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def supersede(session, run) -> MigrationRun:
    """The run replaced by a re-upload: status "superseded" (its rows stay for the record)."""
    run = find_run(session, run)
    if run.status not in SUPERSEDABLE:
        raise Conflict(f"run {run.id} is {run.status}; only a run not yet imported can be replaced")
    run.status = "superseded"
    session.flush()
    return run
