"""Similar company names among many (相似名称): which earlier name (or which existing customer's or
supplier's) is like this one, without comparing every pair — a file of 10^5 rows would be 10^10 comparisons.

Names are compared by their keys (erp.crm.validation.company_name_key) with crm's own measure and threshold
(difflib's ratio ≥ SIMILAR_NAME_RATIO). The index finds every alike pair that comparing all pairs finds:

- difflib's ratio is 2·M / (n + m) with M characters matched, and M is at most the longest common
  subsequence. So a key of n characters alike to some key keeps all but at most `lost(n)` of its
  characters in it (the most any partner length allows), and two alike keys share at least
  `distinct characters − lost(n)` distinct characters.
- Characters are ranked rarest first over the whole file. When two keys share three characters or more, the
  first three they share (in that rank) lie among the first `lost + 3` of each key: a key is signed with the
  triples of those characters (the prefix filter of similarity joins, asking for three shared elements, which
  a file of similar-looking names needs to keep candidates few).
- A key too short or too repetitive to promise three shared characters ("weak") is signed with all triples of
  its characters — so a weak key and a strong one still meet — and also with its single characters, which
  weak keys alone look up among themselves.

Candidates sharing a signature are scored in C by rapidfuzz (its ratio is the same formula over the longest
common subsequence, so never below difflib's), and those passing are confirmed with difflib."""
from __future__ import annotations

from collections import Counter, deque
from difflib import SequenceMatcher
from functools import cache
from itertools import combinations, repeat

from rapidfuzz import fuzz, process

from erp.crm.validation import SIMILAR_NAME_RATIO, SIMILAR_NAME_SCORE

#: the shared characters a signature names
_SHARED = 3


def alike(a: str, b: str) -> bool:
    matcher = SequenceMatcher(None, a, b)
    return matcher.real_quick_ratio() >= SIMILAR_NAME_RATIO and matcher.quick_ratio() >= SIMILAR_NAME_RATIO \
        and matcher.ratio() >= SIMILAR_NAME_RATIO


def _could_be_alike(n: int, m: int, common: int) -> bool:
    return 2.0 * common / (n + m) >= SIMILAR_NAME_RATIO and (common < n or n != m)  # difflib's own arithmetic


@cache
def lost(n: int) -> int:
    """The most characters of a key of length n that a different key alike to it can lack: n − the shortest
    common subsequence any partner length allows (partners differ in length by at most a factor of ~1.35)."""
    worst = 0
    for m in range(1, 2 * n + 2):
        common = next((c for c in range(min(n, m) + 1) if _could_be_alike(n, m, c)), None)
        if common is not None:
            worst = max(worst, n - common)
    return worst


class SimilarNames:
    """Keys added with a label (a row number, a customer code); `find(key)` gives the label of an identical
    key, else of the most alike one added, else None. `frequencies` counts the characters of every key that
    will be added or looked up (the rank: rarer characters first; a character not counted ranks rarest)."""

    def __init__(self, frequencies: Counter):
        self.frequencies = frequencies
        self.rank = {c: r for r, c in enumerate(sorted(frequencies, key=lambda c: (frequencies[c], c)))}
        self.exact: dict[str, list] = {}
        self.postings: dict[tuple | str, list[str]] = {}

    @classmethod
    def over(cls, *key_lists) -> SimilarNames:
        counts: Counter = Counter()
        for keys in key_lists:
            for key in keys:
                if key:
                    counts.update(set(key))
        return cls(counts)

    def _signatures(self, key: str) -> list:
        """The triples of the key's rarest `lost + 3` characters; for a weak key all its triples and its
        characters."""
        rank = self.rank
        try:
            chars = sorted(set(key), key=rank.__getitem__)
        except KeyError:  # a character not counted: ranked before all, in the order first seen
            for c in set(key) - rank.keys():
                rank[c] = -len(rank) - 1
            chars = sorted(set(key), key=rank.__getitem__)
        size = lost(len(key)) + _SHARED
        signatures = list(combinations(chars[:size], _SHARED))
        if len(chars) < size:  # weak: may share fewer than three characters with an alike key
            signatures.extend(chars)
        return signatures

    def add(self, key: str, label) -> None:
        self._enter(key, label, search=False)

    def find_then_add(self, key: str, label):
        """find(key), then add(key, label), signing the key once and reaching each signature's postings once:
        each row of a file against the earlier ones."""
        return self._enter(key, label, search=True)

    def _enter(self, key: str, label, *, search: bool):
        """Add the key with its label; with `search`, first the label of an identical or alike key added
        before (None otherwise)."""
        if not key:
            return None
        labels = self.exact.get(key)
        if labels is not None:
            labels.append(label)
            return labels[0]
        # map, repeat and deque run the per-signature steps in C: this runs for every row of a large file
        lists = list(map(self.postings.setdefault, self._signatures(key), iter(list, None)))
        found = self._most_alike(key, [keys for keys in lists if keys], None) if search else None
        self.exact[key] = [label]
        deque(map(list.append, lists, repeat(key)), 0)
        return found

    def find(self, key: str, *, unless=None):
        """The label of a key like `key` (not the label `unless`), or None: identical first, then most alike."""
        if not key:
            return None
        same = next((label for label in self.exact.get(key, ()) if label != unless), None)
        if same is not None:
            return same
        found = map(self.postings.get, self._signatures(key))
        return self._most_alike(key, [keys for keys in found if keys], unless)

    def _most_alike(self, key: str, lists: list[list[str]], unless):
        if not lists:
            return None
        candidates = set().union(*lists)
        candidates.discard(key)
        for other, _score, _ in process.extract(key, candidates, scorer=fuzz.ratio, score_cutoff=SIMILAR_NAME_SCORE,
                                                limit=None):
            if alike(key, other):
                label = next((label for label in self.exact[other] if label != unless), None)
                if label is not None:
                    return label
        return None
