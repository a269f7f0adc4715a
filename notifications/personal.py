"""Personal information (个人信息) of someone other than the recipient in a mail (PIPL). The caller marks such
values by putting a `PersonalInfo` in the mail's context (at any depth: a digest has one per task); `enqueue`
decides per recipient: a user holding personal_data.view reads them as they are, and the showing is written to
the access log (how "email"); any other user, and a bare address, reads them masked (138****5678).

Mails to the person the data is about (a dunning letter to the customer, the answer to someone's own request)
carry their values plainly, not as PersonalInfo: they are neither masked nor logged."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from erp.audit.access import record_access
from erp.identity.permissions import has_permission
from erp.masking import mask_data, personal_fields, present

PERMISSION = "personal_data.view"
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
_LETTER = re.compile(r"[A-Za-z]")


@dataclass(frozen=True)
class PersonalInfo:
    """Values a mail shows about `entity` `entity_id` (e.g. a task's form data), in the order given; the keys
    named in `fields` hold personal information, at any depth. `labels` name the values for the reader."""

    entity: str
    entity_id: object
    values: Mapping
    fields: frozenset[str]
    labels: Mapping[str, str] = field(default_factory=dict)


def form_details(entity: str, entity_id, data: Mapping, schemas: Iterable[dict]) -> PersonalInfo:
    """Form data as a mail shows it: the personal fields are those the forms mark `"x-personal": true`, the
    labels the forms' titles (a title in both languages, '请求人 Requester', reads in the recipient's)."""
    schemas = list(schemas)
    labels = {}
    for schema in schemas:
        for name, prop in (schema.get("properties") or {}).items():
            if isinstance(prop, dict) and prop.get("title"):
                labels.setdefault(name, prop["title"])
    return PersonalInfo(entity, entity_id, dict(data), frozenset(personal_fields(schemas)), labels)


def may_see_personal(roles) -> bool:
    return has_permission(roles, PERMISSION)


def resolve(context: dict, *, unmasked: bool, locale: str) -> tuple[dict, list[tuple[PersonalInfo, set[str]]]]:
    """The context with every PersonalInfo replaced by its rows [{field, label, value}] (values as text, empty
    ones left out), masked unless `unmasked`; and, for each one shown unmasked, the personal fields it showed."""
    shown: list[tuple[PersonalInfo, set[str]]] = []

    def rows(info: PersonalInfo) -> list[dict]:
        values = dict(info.values)
        if unmasked:
            shown.append((info, present(values, info.fields)))
        else:
            values = mask_data(values, info.fields)
        return [{"field": key, "label": localized(info.labels.get(key) or key, locale), "value": _text(value, locale)}
                for key, value in values.items() if value not in (None, "", [], {})]

    return _replace(context, rows), shown


def note_shown(session, shown: list[tuple[PersonalInfo, set[str]]], *, recipient: str, kind: str) -> None:
    """Write to the access log what a mail to the user `recipient` showed unmasked (nothing for no field)."""
    for info, fields in shown:
        record_access(session, actor=recipient, how="email", entity=info.entity, entity_id=info.entity_id,
                      fields=fields, address=None, detail=kind)


def localized(label: str, locale: str) -> str:
    """A form title in the reader's language: '请求人 Requester' is '请求人' in zh_CN and 'Requester' in en, as the
    pages show it (webapp.forms_render.localized); a title in one language stays whole."""
    first_cjk = _CJK.search(label)
    english = _LETTER.search(label, first_cjk.end()) if first_cjk else None
    if english is None:
        return label
    return label[english.start():].strip() if locale == "en" else label[:english.start()].strip()


def _replace(value, rows):
    """`value` with each PersonalInfo in it (in dicts and lists) turned into rows; untouched parts are kept."""
    if isinstance(value, PersonalInfo):
        return rows(value)
    if isinstance(value, dict):
        new = {key: _replace(item, rows) for key, item in value.items()}
        return value if all(new[key] is value[key] for key in value) else new
    if isinstance(value, (list, tuple)):
        new = [_replace(item, rows) for item in value]
        return value if all(a is b for a, b in zip(new, value, strict=True)) else type(value)(new)
    return value


def _text(value, locale: str) -> str:
    en = locale == "en"
    if isinstance(value, bool):
        return ("Yes" if value else "No") if en else ("是" if value else "否")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "; ".join(f"{key}: {_text(item, locale)}" for key, item in value.items() if item is not None)
    if isinstance(value, (list, tuple)):
        return (", " if en else "、").join(_text(item, locale) for item in value if item is not None)
    return str(value)
