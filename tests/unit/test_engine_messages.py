"""Deploy problems are message templates with parameters, shown in the reader's language: every template has its
zh-CN translation with the same parameters; texts of the sandbox and SpiffWorkflow are recognised by their wording
(their English left exactly as written), and one no template knows keeps its English behind a translated lead-in."""
from __future__ import annotations

import pytest

from engine.messages import TEMPLATES, code_error, engine_says, form_problem, say, translated
from engine.parsing import DeployProblem
from engine.sandbox import check_source
from tests.catalogue import placeholders, zh_cn_catalogue

CATALOGUE = zh_cn_catalogue()


def _chinese(said: dict) -> str:
    return translated(said, lambda template: CATALOGUE.get(template, template))


def test_every_template_is_translated_with_the_same_parameters():
    assert sorted(t for t in TEMPLATES if t not in CATALOGUE) == []
    assert [t for t in TEMPLATES if placeholders(CATALOGUE[t]) != placeholders(t)] == []


def test_a_script_problem_reads_in_chinese_and_keeps_its_english():
    [error] = check_source("total = (amount", "exec")
    said = say("script: {error}", error=code_error(error))
    assert said["message"] == "script: Line 1: syntax error: '(' was never closed"
    assert _chinese(said) == "脚本：第 1 行：语法错误：“(”没有闭合"
    assert translated(said, lambda template: template) == said["message"]  # English: the templates themselves


@pytest.mark.parametrize("source, chinese", [
    ("import os", "第 1 行：不允许使用 import"),
    ("x = ().__class__", "第 1 行：不允许访问“__class__”"),
    ("_secret = 1", "第 1 行：不允许使用名称“_secret”（以“_”开头的名称是保留的）"),
    ("class A:\n    pass", "第 1 行：不允许定义类"),
    ('x = "{}".format(1)', "第 1 行：不允许访问“format”；请改用 f-string"),
    ('exec("x = 1")', "第 1 行：不允许调用 exec。"),
    ("x = 1 +", "第 1 行：语法错误：语法无效"),
    ("if x\n    y = 1", "第 1 行：语法错误：缺少“:”"),
    ('x = "open', "第 1 行：语法错误：字符串没有结束（在第 1 行发现）"),
])
def test_the_sandboxs_own_words_are_recognised(source, chinese):
    [error] = check_source(source, "exec")
    said = code_error(error)
    assert said["message"] == error
    assert _chinese(said) == chinese


def test_a_sandbox_text_of_unknown_wording_stays_as_it_is():
    said = say("script: {error}", error=code_error("something new the sandbox says"))
    assert _chinese(said) == "脚本：something new the sandbox says"


def test_spiffworkflow_wording_is_recognised_and_its_english_kept_as_written():
    written = "Element 'bpmn:task': The attribute 'name' is required but missing.. "
    said = engine_says(written)
    assert said["message"] == written
    assert _chinese(said) == "元素“bpmn:task”缺少必需的属性“name”"
    assert _chinese(engine_says("No start event found. ")) == "找不到开始事件"


def test_an_unknown_text_of_the_process_engine_keeps_its_english_behind_a_chinese_lead_in():
    said = engine_says("Something SpiffWorkflow never said before. ")
    assert said["message"] == "Something SpiffWorkflow never said before. "
    assert _chinese(said) == "流程引擎无法解析：Something SpiffWorkflow never said before"


def test_a_form_problem_is_recognised_and_an_unknown_one_kept():
    assert _chinese(form_problem("form 'x/y' not found (looked for /forms/x/y.json)")) == (
        "找不到表单 'x/y'（查找位置：/forms/x/y.json）")
    assert _chinese(form_problem("the form is odd")) == "the form is odd"


def test_a_problem_compares_and_prints_by_its_english_as_before():
    problem = DeployProblem.said("p.bpmn", "t", 5, say("called process {process} not found", process="'x'"))
    assert problem == DeployProblem("p.bpmn", "t", 5, "called process 'x' not found")
    assert str(problem) == "p.bpmn:5 [t]: called process 'x' not found"
    assert _chinese(problem.as_said) == "找不到被调用的流程 'x'"


def test_a_translation_naming_a_parameter_wrongly_falls_back_to_english():
    said = say("called process {process} not found", process="'x'")
    assert translated(said, lambda template: "找不到 {flow}") == "called process 'x' not found"


def test_an_unknown_template_is_refused():
    with pytest.raises(ValueError, match="no such template"):
        say("no such template")
