"""What validation and the transforms say about a row, as message templates with parameters: stored with
each reason so the pages (and the error file) show it in the reader's language; the English text is kept
beside it for the command line and the API. Every template is listed here, and the zh-CN catalogue must
translate each one (tests/unit/test_migration_messages.py)."""
from __future__ import annotations

TEMPLATES = frozenset((
    # fields
    "required",
    "'{value}' is not a whole number",
    "a whole number of days from 0 to 365",
    "an amount cannot be negative",
    "must be more than zero",
    "'{value}' is not a date (YYYY-MM-DD)",
    "'{value}' is not an email address",
    "'{value}' is not one of {choices}",
    "'{value}' is not a Chinese phone number (mobile, or landline with its area code)",
    "'{value}' is not a mainland China mobile number",
    "a unified social credit code has 18 characters",
    "not a unified social credit code (characters 3-8 are the region's digits; I, O, S, V and Z are never used)",
    "the check character of the unified social credit code is wrong",
    # references
    "{value} is staged in another {entity} upload but not imported yet: import that first",
    "unknown {entity} '{value}': neither imported nor an existing key",
    # rules of an entity
    "give either a debit or a credit amount (not both, not none)",
    "a partner needs both its type and its code",
    "due before the document date",
    "an open item of zero",
    # duplicates
    "{value} repeats row {row}",
    "a similar name is on row {row}",
    "order {order} has customer {customer} on row {row}",
    "will update {code}",
    "the same tax number already exists as {code}",
    "the same phone already exists as {code}",
    "a similar name already exists as {code}",
    # transforms and the file
    "'{value}' is not a date (expected YYYY-MM-DD)",
    "'{value}' is not a number",
    "no value map named '{name}'",
    "unknown transform '{name}'",
    "more cells than columns ({cells}): a delimiter inside an unquoted value?",
    "the file has no column '{column}'",
))


def say(template: str, **params) -> dict:
    """{"message": the English text, "template", "params"}; params become text (stored as JSON)."""
    if template not in TEMPLATES:
        raise ValueError(f"no message template {template!r}")
    params = {name: str(value) for name, value in params.items()}
    return {"message": template.format(**params), "template": template, "params": params}


def translated(reason: dict, gettext) -> str:
    """The reason in the language of `gettext` (a stored reason without a template keeps its English)."""
    template = reason.get("template")
    if not template:
        return reason.get("message", "")
    try:
        return gettext(template).format(**reason.get("params", {}))
    except (KeyError, IndexError, ValueError):  # a translation naming a parameter wrongly: English then
        return reason.get("message", "")
