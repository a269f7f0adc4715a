"""Data-migration reasons are stored as templates with parameters and shown in the reader's language: every
template has its zh-CN translation, with the same parameters."""
from __future__ import annotations

from erp.migration.messages import TEMPLATES, say, translated
from tests.catalogue import placeholders, zh_cn_catalogue


def test_every_template_is_translated_with_the_same_parameters():
    catalogue = zh_cn_catalogue()
    missing = sorted(t for t in TEMPLATES if t not in catalogue)
    assert missing == []
    assert [t for t in TEMPLATES if placeholders(catalogue[t]) != placeholders(t)] == []


def test_a_reason_reads_in_chinese_and_keeps_its_english():
    catalogue = zh_cn_catalogue()
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
