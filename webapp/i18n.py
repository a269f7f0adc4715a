"""zh-CN and English: the user's language (or the browser's before login), and locale-aware formatting of
dates, numbers and CNY amounts for templates."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request, session
from flask_babel import Babel, format_date, format_datetime, format_decimal, get_locale
from flask_login import current_user

TRANSLATIONS = Path(__file__).parent / "translations"
LOCALES = ("zh_CN", "en")


def select_locale() -> str:
    chosen = getattr(current_user, "locale", None) if current_user else None
    if chosen in LOCALES:
        return chosen
    if session.get("locale") in LOCALES:
        return session["locale"]
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"]) if request else None
    return "en" if best == "en" else "zh_CN"


def compile_catalogues() -> None:
    """Build each language's messages.mo from its parts (translations/<locale>/parts/*.po, one file per area of
    the app, so areas are translated independently) when the .mo is missing or older than a part."""
    for folder in TRANSLATIONS.iterdir() if TRANSLATIONS.is_dir() else ():
        parts = sorted((folder / "parts").glob("*.po"))
        if not parts:
            continue
        mo = folder / "LC_MESSAGES" / "messages.mo"
        if mo.exists() and mo.stat().st_mtime >= max(p.stat().st_mtime for p in parts):
            continue
        merged = None
        for part in parts:
            with part.open("rb") as source:
                catalog = read_po(source, locale=folder.name)
            if merged is None:
                merged = catalog
                continue
            for message in catalog:
                if message.id and message.id not in merged:
                    merged[message.id] = message
        mo.parent.mkdir(parents=True, exist_ok=True)
        with mo.open("wb") as target:
            write_mo(target, merged)


def money(value, currency: str = "CNY") -> str:
    """¥1,234.50 in both languages (amounts stay exact: Decimal, two places)."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return str(value)
    return "¥" + format_decimal(amount, format="#,##0.00")


def when(value, kind: str = "datetime") -> str:
    """A stored ISO text, date or datetime, shown in Beijing time in the user's format."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return format_datetime(value, "short" if kind == "datetime" else "medium")
    return format_date(value, "medium")


def number(value) -> str:
    if value is None or value == "":
        return ""
    return format_decimal(value)


def locale_tag() -> str:
    return "zh-CN" if str(get_locale()).startswith("zh") else "en"


def init_app(app: Flask) -> None:
    compile_catalogues()
    Babel(app, locale_selector=select_locale, default_translation_directories=str(TRANSLATIONS))
    from webapp.forms_render import localized

    # "审批 Review" (diagrams and forms name things in both languages) -> the reader's half
    app.jinja_env.filters.update(money=money, when=when, number=number, bilingual=localized)
    app.jinja_env.globals.update(locale_tag=locale_tag)
