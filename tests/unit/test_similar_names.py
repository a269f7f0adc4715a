"""Similar company names among many: the bigram index finds what comparing every pair finds, and scales to a
file of many thousand names."""
from __future__ import annotations

import random

from faker import Faker

from erp.crm.validation import company_name_key
from erp.migration import similar_names
from erp.migration.similar_names import InSecondProcess, SimilarNames, alike, keys_and_earlier, lost


def _names(count: int, seed: int) -> list[str]:
    fake, pick = Faker("zh_CN"), random.Random(seed)
    Faker.seed(seed)
    names = [f"{fake.city_name()}{fake.company_prefix()}{fake.word()}{fake.word()}{fake.company_suffix()}"
             for _ in range(count)]
    for _ in range(count // 20):  # near-duplicates as legacy systems hold them: a character changed or added
        name = pick.choice(names)
        at = pick.randrange(2, len(name) - 4)
        names.append(name[:at] + pick.choice("新华联盛") + name[at + pick.choice((0, 1)):])
    pick.shuffle(names)
    return names


def _brute_force(keys: list[str]) -> list[int | None]:
    found = []
    for i, key in enumerate(keys):
        hit = next((j for j in range(i) if keys[j] == key), None) if key else None
        if hit is None and key:
            hit = next((j for j in range(i) if keys[j] and alike(key, keys[j])), None)
        found.append(hit)
    return found


def test_the_index_finds_every_similar_earlier_name_that_comparing_all_pairs_finds():
    keys = [company_name_key(n) for n in _names(800, seed=3)]
    expected = _brute_force(keys)
    index = SimilarNames.over(keys)
    found = []
    for i, key in enumerate(keys):
        found.append(index.find(key))
        index.add(key, i)
    assert sum(e is not None for e in expected) > 30
    # the same rows are flagged (the earlier name named may differ when several are alike)
    assert [f is not None for f in found] == [e is not None for e in expected]
    assert all(f is None or alike(keys[i], keys[f]) or keys[i] == keys[f] for i, f in enumerate(found))


def test_a_planted_similar_name_is_found_among_twenty_thousand():
    keys = [company_name_key(n) for n in _names(20_000, seed=5)]
    planted = company_name_key("北京华信商贸科技发展有限公司")
    close = company_name_key("北京华信商贸科枝发展有限公司")
    index = SimilarNames.over(keys, [planted, close])
    for i, key in enumerate(keys):
        index.add(key, i)
    index.add(planted, "planted")
    assert index.find(close) == "planted"
    assert index.find(close, unless="planted") is None or index.find(close, unless="planted") != "planted"


def test_an_alike_key_lacks_at_most_lost_characters_of_the_other():
    """The bound the signatures rest on, checked against difflib on random pairs of related keys."""
    pick = random.Random(11)
    alphabet = "华信商贸科技发展网络传媒新联盛"
    checked = 0
    for _ in range(4000):
        a = "".join(pick.choice(alphabet) for _ in range(pick.randrange(3, 16)))
        b = list(a)
        for _ in range(pick.randrange(1, 4)):  # a few edits: change, drop or add a character
            at, edit = pick.randrange(len(b) + 1), pick.choice("cda")
            if edit == "a" or at == len(b):
                b.insert(at, pick.choice(alphabet))
            elif edit == "c":
                b[at] = pick.choice(alphabet)
            else:
                del b[at]
        b = "".join(b)
        if a != b and alike(a, b):
            checked += 1
            assert len(set(a) - set(b)) <= lost(len(a)), (a, b)
    assert checked > 300


def test_short_and_repetitive_keys_are_found_as_comparing_all_pairs_finds():
    """Keys too short or too repetitive to share three characters (a 3-character key in a 4-character one,
    哈哈哈哈哈哈 against 哈哈哈哈哈哈哈) are found too."""
    pick = random.Random(7)
    alphabet = "哈华信达"
    keys = ["".join(pick.choice(alphabet) for _ in range(pick.randrange(1, 9))) for _ in range(600)]
    keys += ["华信达", "华信新达", "哈哈哈哈哈哈", "哈哈哈哈哈哈哈"]
    expected = _brute_force(keys)
    index = SimilarNames.over(keys)
    found = [index.find_then_add(key, i) for i, key in enumerate(keys)]
    assert sum(e is not None for e in expected) > 100
    assert [f is not None for f in found] == [e is not None for e in expected]
    assert found[-3] is not None and found[-1] is not None


def test_a_second_process_answers_as_this_one_does():
    names = _names(600, seed=11) + ["", "北京华信商贸科技发展有限公司", "北京华信商贸科枝发展有限公司"]
    here = keys_and_earlier(names)
    assert len(here[1]) > 20 and (len(names) - 1, len(names) - 2) in here[1]
    assert InSecondProcess(names).result() == here


def test_of_equally_alike_earlier_names_the_first_is_named():
    # both earlier keys differ from the last by one character: the same score, and the first added is named
    # whatever order a set of candidates would iterate in (it varies between processes)
    names = ["华信商贸科技发展一号", "华信商贸科技发展二号", "华信商贸科技发展三号"]
    _keys, earlier = keys_and_earlier(names)
    assert earlier == [(1, 0), (2, 0)]


def test_when_the_second_process_fails_the_names_are_worked_out_here(monkeypatch, caplog):
    names = _names(200, seed=13)
    expected = keys_and_earlier(names)
    monkeypatch.setattr(similar_names.sys, "executable", "/bin/false")  # starts, reads nothing, exits 1
    assert InSecondProcess(names).result() == expected
    assert "the second process failed (exit 1)" in caplog.text
    monkeypatch.setattr(similar_names.sys, "executable", "/nonexistent/python")  # cannot start at all
    assert InSecondProcess(names).result() == expected
    assert "no second process" in caplog.text


def test_a_second_process_whose_answer_is_not_wanted_is_stopped():
    job = InSecondProcess(_names(20_000, seed=17))
    process = job._process
    job.close()
    assert process.returncode is not None and process.stdout.closed
    job.close()  # twice is harmless
    assert job.result() == keys_and_earlier(job.names)  # asked after all: worked out here
