"""Validation (数据验证) of mapped rows before anything is imported: required fields, formats, choices,
references, duplicates inside the file and against existing records. Errors block a row; warnings do not."""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import date

from sqlalchemy import select

from erp.catalog.money import to_decimal
from erp.crm.validation import (
    company_name_key,
    normalise_credit_code,
    normalise_mobile,
    normalise_phone,
)
from erp.migration.entities import Entity, Field, entity
from erp.migration.mapping import Mapper, References, is_email
from erp.migration.messages import TEMPLATES, say
from erp.migration.models import ExternalRef
from erp.migration.similar_names import Here, InSecondProcess, SimilarNames

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: the entities whose rows are checked for similar company names
NAMED = ("customers", "suppliers")
#: from this many rows, a file's similar names are worked out in a second process while this one maps and
#: checks the rest (a second Python process costs about 0.1 s to start)
SECOND_PROCESS_FROM = 10_000


def reason(field: str, template: str, level: str = "error", **params) -> dict:
    return {"field": field, "level": level, **say(template, **params)}


def status_of(reasons: list[dict]) -> str:
    levels = {r.get("level", "error") for r in reasons}
    return "error" if "error" in levels else "warning" if "warning" in levels else "ok"


def validate_rows(session, entity_key: str, rows: list[tuple[int, dict]], *, references: References | None = None,
                  names: InSecondProcess | None = None) -> list[tuple[str, list[dict]]]:
    """(status, reasons) for every (row_no, values) in order: "ok", "warning" (imports) or "error" (does not).
    `names` is the rows' names under way in a second process (names_started), else they are worked out here."""
    checks = FileChecks(session, entity_key, rows, references=references)
    found = checks.check()
    for i, reasons in checks.similar_names(names).items():
        found[i].extend(reasons)
    return [(status_of(reasons), reasons) for reasons in found]


class FileChecks:
    """A file's rows validated in two steps: check() finds everything but similar company names, which
    similar_names() adds; in between, the rows can be stored while a large file's names are still being
    compared in a second process."""

    def __init__(self, session, entity_key: str, rows: list[tuple[int, dict]], *,
                 references: References | None = None):
        self.session, self.spec, self.rows = session, entity(entity_key), rows
        self.references = references or References(session, pending_references(session, entity_key))
        self.existing: _Existing | None = None

    def check(self) -> list[list[dict]]:
        """The reasons of every row but its similar names: formats, references, duplicates in the file and
        tax numbers and phones of the customers or suppliers on file."""
        spec, rows = self.spec, self.rows
        found = _reasons(spec, rows, self.references)
        _duplicates_in_file(spec, rows, found)
        if spec.key in NAMED and rows:
            self.existing = _Existing.read(self.session, spec)
            if self.existing is not None:
                self.existing.check_numbers(rows, found)
        return found

    def similar_names(self, names: InSecondProcess | None = None) -> dict[int, list[dict]]:
        """{row index: reasons} for the names alike to an earlier row's or to one on file (after check())."""
        if self.spec.key not in NAMED or "name_zh" not in self.spec.field_names:
            return {}
        rows = self.rows
        keys, earlier = (names or Here([_name(values) for _, values in rows])).result()
        found: dict[int, list[dict]] = {}
        for i, j in earlier:
            found.setdefault(i, []).append(reason("name_zh", "a similar name is on row {row}", "warning",
                                                  row=rows[j][0]))
        if self.existing is not None:
            for i, code in self.existing.similar_names(rows, keys):
                found.setdefault(i, []).append(reason("name_zh", "a similar name already exists as {code}",
                                                      "warning", code=code))
        return found


def names_started(entity_key: str, columns: dict, raw_rows: list[tuple[int, dict]],
                  references: References | None = None) -> InSecondProcess | None:
    """For a large file of customers or suppliers: its names mapped (name_zh alone) and their similar-name
    check started in a second process, for FileChecks.similar_names to take the result from; None when that
    had better work them out itself."""
    if entity_key not in NAMED or len(raw_rows) < SECOND_PROCESS_FROM:
        return None
    names = Mapper(entity_key, columns, references).values_of("name_zh", [raw for _, raw in raw_rows])
    return InSecondProcess([str(name or "") for name in names])


def _name(values: dict) -> str:
    return str(values.get("name_zh") or "")


# -- one row ---------------------------------------------------------------------------------------------------


def _reasons(spec: Entity, rows: list[tuple[int, dict]], references: References) -> list[list[dict]]:
    """Every row's reasons of its own (required fields, formats, references, the entity's rules), worked out
    field by field with each field's check chosen once (10^5 rows of ten fields are 10^6 values)."""
    found: list[list[dict]] = [[] for _ in rows]
    for f in spec.fields:
        name, kind = f.name, f.kind
        column = [values.get(name) for _, values in rows]
        if kind == "text" and not f.required:  # any text will do
            continue
        check = None if kind == "text" else _format_check(f)
        for reasons, value in zip(found, column, strict=True):
            if value is None or value == "":
                if f.required:
                    reasons.append(reason(name, "required"))
                continue
            if check is None:
                continue
            message = check(value)
            if message is None and kind == "ref":
                problem, level = _reference_problem(f, str(value), references)
                if problem:
                    reasons.append({"field": name, "level": level, **problem})
            elif message:
                reasons.append({"field": name, "level": "error", **message})
    if spec.key in _RULED:
        for reasons, (_, values) in zip(found, rows, strict=True):
            reasons.extend(_entity_rules(spec, values))
    return found


def _format_check(f: Field):
    """The function giving a present value's format problem (a message) or None, for the field's kind."""
    kind = f.kind
    if kind == "int":
        def check(value):
            if not isinstance(value, int) or isinstance(value, bool):
                return say("'{value}' is not a whole number", value=str(value))
            if f.name == "payment_terms_days" and not 0 <= value <= 365:
                return say("a whole number of days from 0 to 365")
            return None
        return check
    if kind == "money":
        return _unless_unread(f, lambda text: say("an amount cannot be negative") if to_decimal(text, 2) < 0 else None)
    if kind == "decimal":
        def check_decimal(text):
            number = to_decimal(text, 3)
            return say("must be more than zero") if f.positive and number <= 0 else None
        return _unless_unread(f, check_decimal)
    if kind == "date":
        def check_date(text):
            if not _ISO_DATE.fullmatch(text):
                return say("'{value}' is not a date (YYYY-MM-DD)", value=text)
            date.fromisoformat(text)
            return None
        return _unless_unread(f, check_date)
    if kind in ("phone", "mobile", "credit_code"):
        normalise = {"phone": normalise_phone, "mobile": normalise_mobile, "credit_code": normalise_credit_code}[kind]

        def check_number(text):
            normalise(text)  # raises ValueError if it cannot be read
            return None
        return _unless_unread(f, check_number)
    if kind == "email":
        return lambda value: None if is_email(str(value)) else say("'{value}' is not an email address",
                                                                   value=str(value))
    if kind == "choice":
        choices = f.choices or ()
        return lambda value: None if str(value) in choices else \
            say("'{value}' is not one of {choices}", value=str(value), choices=", ".join(choices))
    return lambda _value: None


def _unless_unread(f: Field, check):
    """check(text) of the value as text, and its ValueError as the problem it names."""
    def checked(value):
        text = str(value)
        try:
            return check(text)
        except ValueError as exc:
            return _value_problem(f, text, exc)
    return checked


#: the entities with rules across a row's fields (_entity_rules)
_RULED = ("opening_balances", "receivables", "payables")


#: what the phone checks of erp.crm say, by kind (their own text names the value in English)
_BAD_NUMBER = {"phone": "'{value}' is not a Chinese phone number (mobile, or landline with its area code)",
               "mobile": "'{value}' is not a mainland China mobile number"}


def _value_problem(f: Field, text: str, exc: ValueError) -> dict:
    if f.kind in _BAD_NUMBER:
        return say(_BAD_NUMBER[f.kind], value=text)
    if str(exc) in TEMPLATES:  # crm's credit-code messages, and the amount checks
        return say(str(exc))
    return {"message": str(exc)}


def _reference_problem(f: Field, value: str, references: References) -> tuple[dict | None, str]:
    if references.target(f.ref, value) is not None:
        return None, "ok"
    if value in references.pending.get(f.ref, ()):
        return say("{value} is staged in another {entity} upload but not imported yet: import that first",
                   value=value, entity=f.ref), "warning"
    return say("unknown {entity} '{value}': neither imported nor an existing key", value=value, entity=f.ref), "error"


def _entity_rules(spec: Entity, values: dict) -> list[dict]:
    reasons = []
    if spec.key == "opening_balances":
        debit, credit = (_amount(values.get(k)) for k in ("debit", "credit"))
        if (debit or 0) and (credit or 0) or not (debit or credit):
            reasons.append(reason("debit", "give either a debit or a credit amount (not both, not none)"))
        if bool(values.get("partner_type")) != bool(values.get("partner_code")):
            reasons.append(reason("partner_code", "a partner needs both its type and its code"))
    if spec.key in ("receivables", "payables"):
        issued, due = values.get("document_date"), values.get("due_date")
        if issued and due and _ISO_DATE.fullmatch(str(issued)) and _ISO_DATE.fullmatch(str(due)) and due < issued:
            reasons.append(reason("due_date", "due before the document date", "warning"))
        if _amount(values.get("amount")) == 0:
            reasons.append(reason("amount", "an open item of zero", "warning"))
    return reasons


def _amount(value):
    try:
        return to_decimal(str(value), 2) if value not in (None, "") else None
    except ValueError:
        return None


# -- duplicates --------------------------------------------------------------------------------------------------


def _duplicates_in_file(spec: Entity, rows: list[tuple[int, dict]], found: list[list[dict]]) -> None:
    """Legacy ids, tax numbers and phones repeated in the file, and an order's lines naming two customers
    (similar names: keys_and_earlier)."""
    first: dict[tuple[str, str], int] = {}
    unique = [(name, level) for name, level in (("external_id", "error"), ("tax_number", "warning"),
                                                ("phone", "warning"), ("mobile", "warning"))
              if name in spec.field_names]
    for i, (row_no, values) in enumerate(rows):
        for name, level in unique:
            value = values.get(name)
            if value in (None, ""):
                continue
            key = (name, re.sub(r"\D", "", str(value)) if name in ("phone", "mobile") else str(value))
            if key in first:
                found[i].append(reason(name, "{value} repeats row {row}", level, value=value, row=first[key]))
            else:
                first[key] = row_no
    if spec.key == "sales_orders":
        _order_customers_agree(rows, found)


def _order_customers_agree(rows: list[tuple[int, dict]], found: list[list[dict]]) -> None:
    customer_of: dict[str, tuple[int, str]] = {}
    for i, (_row_no, values) in enumerate(rows):
        order, customer = values.get("order_external_id"), values.get("customer")
        if not order or not customer:
            continue
        seen = customer_of.setdefault(str(order), (_row_no, str(customer)))
        if seen[1] != str(customer):
            found[i].append(reason("customer", "order {order} has customer {customer} on row {row}",
                                          order=order, customer=seen[1], row=seen[0]))


class _Existing:
    """The customers or suppliers on file and the legacy ids imported to them, for a file's rows to be compared
    with; a row whose tax number is on file is not compared by phone or name."""

    def __init__(self, existing: list, mine: dict[str, str]):
        self.existing, self.mine = existing, mine
        self.by_tax = {r.tax_number: r.code for r in existing if r.tax_number}
        self.by_phone = {re.sub(r"\D", "", r.phone): r.code for r in existing if r.phone}
        self.same_tax: set[int] = set()

    @classmethod
    def read(cls, session, spec: Entity) -> _Existing | None:
        model = _partner_model(spec.key)
        existing = session.execute(select(model.code, model.name_zh, model.tax_number, model.phone)).all()
        if not existing:
            return None
        mine = dict(session.execute(select(ExternalRef.external_id, ExternalRef.target_id)
                                    .where(ExternalRef.entity == spec.key)).all())
        return cls(existing, mine)

    def _updates(self, values: dict) -> str | None:
        return self.mine.get(str(values.get("external_id")))

    def check_numbers(self, rows: list[tuple[int, dict]], found: list[list[dict]]) -> None:
        for i, (_row_no, values) in enumerate(rows):
            updates = self._updates(values)
            code = self.by_tax.get(values.get("tax_number"))
            if code is not None:
                found[i].append(reason("tax_number", "will update {code}" if code == updates else
                                       "the same tax number already exists as {code}", "warning", code=code))
                self.same_tax.add(i)
                continue
            phone = re.sub(r"\D", "", str(values.get("phone") or ""))
            if phone and self.by_phone.get(phone) not in (None, updates):
                found[i].append(reason("phone", "the same phone already exists as {code}", "warning",
                                       code=self.by_phone[phone]))

    def similar_names(self, rows: list[tuple[int, dict]], keys: list[str]):
        """(row index, code on file) for every row whose name is like one on file (other than its own)."""
        existing_keys = [(company_name_key(r.name_zh), r.code) for r in self.existing]
        index = SimilarNames.over((k for k, _ in existing_keys), keys)
        for key, code in existing_keys:
            index.add(key, code)
        for i, (_row_no, values) in enumerate(rows):
            if i in self.same_tax:
                continue
            similar = index.find(keys[i], unless=self._updates(values))
            if similar is not None:
                yield i, similar


def _partner_model(entity_key: str):
    from erp.crm.models import Customer
    from erp.purchasing.models import Supplier

    return {"customers": Customer, "suppliers": Supplier}.get(entity_key)


def pending_references(session, entity_key: str) -> dict[str, set[str]]:
    """The legacy ids staged (validated or approved, not in error) for the entities `entity_key` refers to."""
    from erp.migration.models import MigrationRow, MigrationRun, not_imported

    wanted = {f.ref for f in entity(entity_key).fields if f.kind == "ref"}
    pending: dict[str, set[str]] = defaultdict(set)
    if not wanted:
        return pending
    rows = session.execute(select(MigrationRun.entity, MigrationRow.values)
                           .join(MigrationRun, MigrationRow.run_id == MigrationRun.id)
                           .where(MigrationRun.entity.in_(wanted),
                                  MigrationRun.status.in_(("validated", "approved", "importing")),
                                  MigrationRow.status != "error", not_imported()))
    for ref_entity, values in rows:
        if values.get("external_id"):
            pending[ref_entity].add(str(values["external_id"]))
    return pending
