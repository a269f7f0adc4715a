"""Every message of the web app has its zh-CN translation: the strings are extracted from the Python code and
the templates the way pybabel does, and looked up in the catalogue the app builds from its parts."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

WEBAPP = Path(__file__).resolve().parents[2] / "webapp"
METHODS = [("**/assets/**", "ignore"), ("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")]
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2), "gettext_": None}


def _extracted() -> dict[str, str]:
    found = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            str(WEBAPP), METHODS, keywords=KEYWORDS, options_map={"**/templates/**.html": {}}):
        for msgid in (message if isinstance(message, tuple) else (message,)):
            if msgid:
                found.setdefault(msgid, filename)
    return found


def _catalogue(locale: str) -> dict[str, str]:
    merged = {}
    for part in sorted((WEBAPP / "translations" / locale / "parts").glob("*.po")):
        with part.open("rb") as source:
            for message in read_po(source):
                if message.id:
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    text = message.string if isinstance(message.string, str) else message.string[0]
                    merged.setdefault(key, text)
    return merged


def test_extraction_finds_the_messages():
    assert len(_extracted()) > 50


def test_every_message_has_a_chinese_translation():
    catalogue = _catalogue("zh_Hans_CN")
    missing = {msgid: where for msgid, where in _extracted().items() if not catalogue.get(msgid)}
    assert missing == {}


def test_translations_keep_their_placeholders():
    import re

    for msgid, text in _catalogue("zh_Hans_CN").items():
        assert sorted(re.findall(r"%\(\w+\)s", msgid)) == sorted(re.findall(r"%\(\w+\)s", text)), msgid
