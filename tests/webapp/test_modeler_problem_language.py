"""Validation and deploy problems in the modeler read in the analyst's language (zh-CN or English), located on
the same elements whatever the language; the engine's English stays what `erp deploy` prints."""
from __future__ import annotations

import io
import re

import pytest

from tests.conftest import FIXTURES
from tests.webapp.conftest import login

SIMPLE = (FIXTURES / "bpmn" / "simple_task.bpmn").read_text()
BROKEN_SCRIPT = SIMPLE.replace("tallied = approved and True", "tallied = (approved")
#: the script task "tally" turned into a service task that names no operator
NO_OPERATOR = re.sub(r'<bpmn:scriptTask id="tally" name="Tally">(.*?)<bpmn:script>.*?</bpmn:script>\s*'
                     r"</bpmn:scriptTask>",
                     r'<bpmn:serviceTask id="tally" name="Tally">\1</bpmn:serviceTask>', SIMPLE, flags=re.S)
#: an attribute the BPMN schema does not know, on the flow "f2" (SpiffWorkflow's own words)
UNKNOWN_ATTRIBUTE = SIMPLE.replace('<bpmn:sequenceFlow id="f2" ', '<bpmn:sequenceFlow id="f2" bogus="1" ')


@pytest.fixture
def deployed(deploy):
    [result] = deploy("simple_task.bpmn")
    return result.definition_id


@pytest.fixture
def analysts(app, make_user):
    """{"zh": a client logged in as an analyst who reads Chinese, "en": one who reads English}."""
    clients = {}
    for language, username, locale in (("zh", "zhaolei", "zh_CN"), ("en", "lucy", "en")):
        client = app.test_client()
        login(client, make_user(username, roles=["employee", "analyst"], groups=["process_analysts"],
                                locale=locale))
        clients[language] = client
    return clients


def _draft_with(client, definition_id: int, xml: str) -> int:
    opened = client.post(f"/modeler/definitions/{definition_id}/drafts")
    draft_id = int(opened.headers["Location"].rsplit("/", 1)[1])
    saved = client.post(f"/modeler/drafts/{draft_id}/save", json={"xml": xml, "lock_version": 1})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    return draft_id


def _line_of(text: str, xml: str) -> int:
    return xml[:xml.index(text)].count("\n") + 1


def _problems(client, draft_id: int) -> list[tuple[str, str]]:
    report = client.post(f"/modeler/drafts/{draft_id}/validate").get_json()
    assert report["valid"] is False
    return [(p["element_id"], p["message"]) for p in report["problems"]]


def test_a_broken_script_reads_in_chinese_and_in_english_on_the_same_element(analysts, deployed):
    draft_id = _draft_with(analysts["zh"], deployed, BROKEN_SCRIPT)
    assert _problems(analysts["zh"], draft_id) == [("tally", "脚本：第 1 行：语法错误：“(”没有闭合")]
    assert _problems(analysts["en"], draft_id) == [("tally", "script: Line 1: syntax error: '(' was never closed")]


def test_a_service_task_without_operator_reads_in_the_readers_language(analysts, deployed):
    draft_id = _draft_with(analysts["en"], deployed, NO_OPERATOR)
    assert _problems(analysts["zh"], draft_id) == [
        ("tally", "服务任务没有指定操作：请从已注册的操作中选择一个（spiffworkflow:serviceTaskOperator）")]
    assert _problems(analysts["en"], draft_id) == [
        ("tally", "service task has no operator: choose one of the registered operators "
                  "(spiffworkflow:serviceTaskOperator)")]


def test_a_refused_deploy_lists_its_problems_in_the_readers_language(analysts, deployed):
    draft_id = _draft_with(analysts["zh"], deployed, BROKEN_SCRIPT)
    refused = {language: client.post(f"/modeler/drafts/{draft_id}/deploy", json={"comment": "试一下"})
               for language, client in analysts.items()}
    assert {language: r.status_code for language, r in refused.items()} == {"zh": 422, "en": 422}
    zh, en = (refused[language].get_json()["error"] for language in ("zh", "en"))
    assert [(p["element_id"], p["line"]) for p in zh["problems"]] == [
        (p["element_id"], p["line"]) for p in en["problems"]] == [("tally", _line_of('id="tally"', BROKEN_SCRIPT))]
    assert zh["problems"][0]["message"].startswith("脚本：第 1 行：")
    assert en["problems"][0]["message"].startswith("script: Line 1: ")


def test_a_schema_error_of_the_process_engine_is_translated_too(analysts, deployed):
    draft_id = _draft_with(analysts["zh"], deployed, UNKNOWN_ATTRIBUTE)
    assert _problems(analysts["zh"], draft_id) == [("f2", "元素“bpmn:sequenceFlow”不允许有属性“bogus”")]
    [(element, english)] = _problems(analysts["en"], draft_id)
    assert element == "f2" and english == ("Element 'bpmn:sequenceFlow', attribute 'bogus': "
                                           "The attribute 'bogus' is not allowed")


def test_the_syntax_check_answers_in_the_readers_language(analysts):
    said = {language: client.post("/modeler/check", json={"source": "total = ("}).get_json()["errors"]
            for language, client in analysts.items()}
    assert said == {"zh": ["第 1 行：语法错误：“(”没有闭合"], "en": ["Line 1: syntax error: '(' was never closed"]}


def test_a_refused_save_or_import_says_why_in_the_readers_language(analysts, deployed):
    opened = analysts["zh"].post(f"/modeler/definitions/{deployed}/drafts")
    draft_id = int(opened.headers["Location"].rsplit("/", 1)[1])
    broken = {"xml": "<bpmn:definitions", "lock_version": 1}
    saved = {language: client.post(f"/modeler/drafts/{draft_id}/save", json=broken)
             for language, client in analysts.items()}
    assert {language: r.status_code for language, r in saved.items()} == {"zh": 400, "en": 400}
    zh, en = (saved[language].get_json()["error"]["message"] for language in ("zh", "en"))
    assert zh.startswith("simple_task.bpmn:1：XML 格式错误：") and en.startswith("simple_task.bpmn:1: malformed XML: ")
    imported = {language: client.post("/modeler/import", content_type="multipart/form-data",
                                      data={"file": (io.BytesIO(b"<html><body/></html>"), "page.bpmn")})
                for language, client in analysts.items()}
    assert {language: r.status_code for language, r in imported.items()} == {"zh": 400, "en": 400}
    assert "page.bpmn：不是 BPMN 或 DMN 文件（根元素为 html）" in imported["zh"].get_data(as_text=True)
    assert "page.bpmn: not a BPMN or DMN file (its root element is html)" in imported["en"].get_data(as_text=True)
