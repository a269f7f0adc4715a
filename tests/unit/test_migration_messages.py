"""Data-migration reasons are stored as templates with parameters and shown in the reader's language: every
template has its zh-CN translation, with the same parameters."""
from __future__ import annotations

import string
from pathlib import Path

from babel.messages.pofile import read_po

from erp.migration.messages import TEMPLATES, say, translated

PARTS = Path(__file__).resolve().parents[2] / "webapp" / "translations" / "zh_Hans_CN" / "parts"


def _catalogue() -> dict[str, str]:
    merged = {}
    for part in sorted(PARTS.glob("*.po")):
        with part.open("rb") as source:
            merged.update({m.id: m.string for m in read_po(source) if m.id and m.string})
    return merged


def _names(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_template_is_translated_with_the_same_parameters():
    catalogue = _catalogue()
    missing = sorted(t for t in TEMPLATES if t not in catalogue)
    assert missing == []
    assert [t for t in TEMPLATES if _names(catalogue[t]) != _names(t)] == []


def test_a_reason_reads_in_chinese_and_keeps_its_english():
    catalogue = _catalogue()
    reason = say("{value} repeats row {row}", value="K1", row=2)
    assert reason["message"] == "K1 repeats row 2"
    assert translated(reason, lambda t: catalogue.get(t, t)) == "K1 与第 2 行重复"
    assert translated({"message": "an old reason"}, catalogue.get) == "an old reason"


def test_an_unknown_template_is_refused():
    try:
        say("no such template")
    except ValueError as exc:
        assert "no such template" in str(exc)
    else:
        raise AssertionError("an unknown template was accepted")
