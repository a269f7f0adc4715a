"""Similar company names among many: the bigram index finds what comparing every pair finds, and scales to a
file of many thousand names."""
from __future__ import annotations

import random

from faker import Faker

from erp.crm.validation import company_name_key
from erp.migration.similar_names import SimilarNames, alike


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
