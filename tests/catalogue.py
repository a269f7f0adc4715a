"""The zh-CN message catalogue as the web app merges it from its parts, and the parameters a message names: for
the tests that hold each English message template to its translation."""
from __future__ import annotations

import string
from pathlib import Path

from babel.messages.pofile import read_po

PARTS = Path(__file__).resolve().parents[1] / "webapp" / "translations" / "zh_Hans_CN" / "parts"


def zh_cn_catalogue() -> dict[str, str]:
    """Every translated message of every part: English id → Chinese text."""
    merged = {}
    for part in sorted(PARTS.glob("*.po")):
        with part.open("rb") as source:
            merged.update({m.id: m.string for m in read_po(source) if m.id and m.string})
    return merged


def placeholders(text: str) -> set[str]:
    """The names of the {parameters} in a message."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
