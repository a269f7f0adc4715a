"""The auditor's pages, read only: the audit trail (explicit entries and captured record changes, searched by who,
action, target, dates and text, each shown as a before/after comparison, exported to CSV) and the access log of
personal information. Personal values in the audit trail are masked for readers without personal_data.view;
reading them unmasked, and every export, is itself written to the access log.

The audit trail keeps its old address /admin/audit; an export is the same page with ?format=csv, so the
application offers exactly one route on the log, and it only reads."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from erp.audit import access
from erp.audit import queries as audit
from erp.audit.access import HOW
from webapp import requestdb
from webapp.access_log import personal_shown
from webapp.navigation import EXTRA
from webapp.security import requires, user

blueprint = Blueprint("audit", __name__, url_prefix="/admin")

EXTRA.append(("audit.audit_log", lazy_gettext("Audit log"), "audit.view", None))
EXTRA.append(("audit.access_log", lazy_gettext("Access log"), "access_log.view", None))

PER_PAGE = 50
#: the most rows one export holds (narrow the search for more)
EXPORT_LIMIT = 50_000
BEIJING = ZoneInfo("Asia/Shanghai")
#: how personal information was accessed, as the access log page names it
WAYS = {"view": lazy_gettext("Viewed on a page"), "export": lazy_gettext("Exported"), "print": lazy_gettext("Printed"),
        "api": lazy_gettext("Through the API"), "email": lazy_gettext("Sent by email")}
AUDIT_KEYS = ("actor", "action", "target_type", "target_id", "since", "until", "q", "kind")
#: which entries the page lists: business events (audit_log, the default), record changes, or both by time
KINDS = {"event": audit.EVENT, "change": audit.CHANGE, "all": None}
ACCESS_KEYS = ("actor", "how", "entity", "entity_id", "field", "since", "until")


@blueprint.context_processor
def _helpers() -> dict:
    return {"access_way": lambda how: str(WAYS.get(how, how))}


def _args(keys) -> dict:
    return {k: request.args.get(k, "").strip() for k in keys if request.args.get(k, "").strip()}


def _page() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


def _pages(total: int) -> int:
    return max((total + PER_PAGE - 1) // PER_PAGE, 1)


def _period(args: dict, errors: dict) -> dict:
    """since/until from yyyy-mm-dd fields, as Beijing days (until includes its whole day)."""
    since, until = _day(args.get("since"), "since", errors), _day(args.get("until"), "until", errors)
    return {"since": since, "until": until + timedelta(days=1) if until else None}


def _day(text: str | None, field: str, errors: dict) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time.min, tzinfo=BEIJING)
    except ValueError:
        errors[field] = [_("A date like 2026-03-31.")]
        return None


def _wants_csv() -> bool:
    return request.args.get("format") == "csv"


# ---------------------------------------------------------------------- the audit trail

@blueprint.route("/audit")
@requires("audit.view")
def audit_log():
    args, errors = _args(AUDIT_KEYS), {}
    filters = {"actor": args.get("actor"), "action": args.get("action"), "target_type": args.get("target_type"),
               "target_id": args.get("target_id"), "text": args.get("q"),
               "kind": KINDS.get(args.get("kind", "event"), audit.EVENT), **_period(args, errors)}
    db = requestdb.session()
    if _wants_csv():
        rows, _total = audit.search(db, **filters, limit=EXPORT_LIMIT)
        return _audit_csv(_readable(rows, how="export"))
    rows, total = audit.search(db, **filters, page=_page(), per_page=PER_PAGE)
    return render_template("audit/log.html", rows=[_display(e) for e in _readable(rows, how="view")], total=total,
                           page=_page(), pages=_pages(total), args=args, errors=errors,
                           target_types=audit.target_types(db), kind=args.get("kind", "event"))


def _readable(rows: list[dict], how: str) -> list[dict]:
    """The entries as this reader may see them: masked without personal_data.view; otherwise what they are shown
    is noted in the access log (an export is noted either way)."""
    if not user().can("personal_data.view"):
        if how == "export":
            personal_shown("audit_log", None, [], how="export")
        return [audit.masked(e) for e in rows]
    shown = set().union(*(audit.shown_personal(e) for e in rows)) if rows else set()
    personal_shown("audit_log", None, shown, how=how)
    return rows


def _display(entry: dict) -> dict:
    """The entry with its before/after comparison: one line per field, changed ones marked."""
    before, after = entry["before"], entry["after"]
    before = before if isinstance(before, dict) else ({} if before is None else {"": before})
    after = after if isinstance(after, dict) else ({} if after is None else {"": after})
    fields = [{"name": k, "before": _text(before.get(k)), "after": _text(after.get(k)),
               "had": k in before, "has": k in after, "changed": k in before and k in after
               and before.get(k) != after.get(k)} for k in sorted(set(before) | set(after))]
    return {**entry, "fields": fields}


def _text(value) -> str:
    if value is None:
        return "—"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _audit_csv(rows: list[dict]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "kind", "at", "actor", "action", "target_type", "target_id", "before", "after",
                     "address", "detail"])
    for e in rows:
        writer.writerow([e["id"], e["kind"], e["at"], e["actor"] or "", e["action"], e["target_type"] or "",
                         e["target_id"] or "", _json(e["before"]), _json(e["after"]), e["address"] or "",
                         e["detail"] or ""])
    return _csv_response(out.getvalue(), "audit-log.csv")


def _json(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _csv_response(text: str, filename: str) -> Response:
    # the byte-order mark lets Excel (as used in the office) open the UTF-8 file with its Chinese intact
    return Response("\ufeff" + text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# ---------------------------------------------------------------------- the access log

@blueprint.route("/access-log")
@requires("access_log.view")
def access_log():
    args, errors = _args(ACCESS_KEYS), {}
    filters = {"actor": args.get("actor"), "how": args.get("how"), "entity": args.get("entity"),
               "entity_id": args.get("entity_id"), "field": args.get("field"), **_period(args, errors)}
    db = requestdb.session()
    if _wants_csv():
        rows, _total = access.search(db, **filters, per_page=EXPORT_LIMIT)
        personal_shown("access_log", None, [], how="export")
        return _access_csv(rows)
    rows, total = access.search(db, **filters, page=_page(), per_page=PER_PAGE)
    return render_template("audit/access_log.html", rows=rows, total=total, page=_page(), pages=_pages(total),
                           args=args, errors=errors, ways=HOW)


def _access_csv(rows: list[dict]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "at", "actor", "how", "entity", "entity_id", "fields", "address", "detail"])
    for e in rows:
        writer.writerow([e["id"], e["at"], e["actor"], e["how"], e["entity"], e["entity_id"] or "",
                         " ".join(e["fields"]), e["address"] or "", e["detail"] or ""])
    return _csv_response(out.getvalue(), "access-log.csv")
