"""Similar company names among many (相似名称): which earlier name (or which existing customer's or
supplier's) is like this one, without comparing every pair — a file of 10^5 rows would be 10^10 comparisons.

Names are compared by their keys (erp.crm.validation.company_name_key) with crm's own measure and threshold
(difflib's ratio ≥ SIMILAR_NAME_RATIO). Candidates come from an index of character pairs (bigrams): two keys
that alike share most of their bigrams, so they share at least two of the few rarest bigrams of each (the
prefix filter of similarity joins). Only names sharing such a pair of bigrams are compared."""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from difflib import SequenceMatcher
from itertools import combinations

from erp.crm.validation import SIMILAR_NAME_RATIO

#: the share of a key's bigrams that a name this alike may lack (a changed character breaks two of them)
_MISSABLE = 2 * (1 - SIMILAR_NAME_RATIO) + 0.1
#: names compared with difflib per lookup at most (those sharing most bigrams with it, rarest bigrams first)
MAX_CANDIDATES = 50
#: names read per signature at most (the latest added: in a file, near-duplicates tend to be near each other)
MAX_SCANNED = 200


def bigrams(key: str) -> set[str]:
    return {key[i:i + 2] for i in range(len(key) - 1)} if len(key) > 1 else {key}


def alike(a: str, b: str) -> bool:
    matcher = SequenceMatcher(None, a, b)
    return matcher.real_quick_ratio() >= SIMILAR_NAME_RATIO and matcher.quick_ratio() >= SIMILAR_NAME_RATIO \
        and matcher.ratio() >= SIMILAR_NAME_RATIO


class SimilarNames:
    """Keys added with a label (a row number, a customer code); `find(key)` gives the label of an identical
    key, else of the first alike one added, else None. `frequencies` counts bigrams over every key that will
    be added or looked up (rarer bigrams first)."""

    def __init__(self, frequencies: Counter):
        self.frequencies = frequencies
        self.exact: dict[str, list] = {}
        self.postings: dict[str, list[str]] = defaultdict(list)
        #: key -> (its distinct characters, its length, how many of its characters repeat)
        self.chars: dict[str, tuple[frozenset[str], int, int]] = {}

    @classmethod
    def over(cls, *key_lists) -> SimilarNames:
        counts: Counter = Counter()
        for keys in key_lists:
            for key in keys:
                if key:
                    counts.update(bigrams(key))
        return cls(counts)

    def _signatures(self, key: str) -> list[str]:
        """The pairs among the key's rarest bigrams: two keys alike share at least two of those (the prefix
        filter asking for two common elements), and a pair of bigrams is far more selective than one."""
        frequencies = self.frequencies
        grams = sorted(bigrams(key), key=lambda g: (frequencies.get(g, 0), g))
        prefix = grams[:min(len(grams), math.floor(_MISSABLE * len(grams)) + 2)]
        if len(prefix) < 2:
            return prefix
        return [f"{a}\0{b}" if a < b else f"{b}\0{a}" for a, b in combinations(prefix, 2)]

    def add(self, key: str, label, *, signatures: list[str] | None = None) -> None:
        if not key:
            return
        if key in self.exact:
            self.exact[key].append(label)
            return
        self.exact[key] = [label]
        distinct = frozenset(key)
        self.chars[key] = (distinct, len(key), len(key) - len(distinct))
        postings = self.postings
        for signature in self._signatures(key) if signatures is None else signatures:
            postings[signature].append(key)

    def find_then_add(self, key: str, label):
        """find(key), then add(key, label), signing the key once: each row of a file against the earlier ones."""
        if not key:
            return None
        if key in self.exact:
            found = self.exact[key][0]
            self.exact[key].append(label)
            return found
        signatures = self._signatures(key)
        found = self.find(key, signatures=signatures)
        self.add(key, label, signatures=signatures)
        return found

    def find(self, key: str, *, unless=None, signatures: list[str] | None = None):
        """The label of a key like `key` (not the label `unless`), or None. At most MAX_CANDIDATES names
        sharing a rare bigram are compared, rarest bigram first, so a name costs the same in any file size."""
        if not key:
            return None
        same = next((label for label in self.exact.get(key, ()) if label != unless), None)
        if same is not None:
            return same
        mine, size = frozenset(key), len(key)
        repeats = size - len(mine)
        seen, chars, checked = {key}, self.chars, 0
        postings = self.postings
        for signature in self._signatures(key) if signatures is None else signatures:
            for other in postings.get(signature, ())[-MAX_SCANNED:]:
                if other in seen:
                    continue
                seen.add(other)
                # _may_be_alike inlined: this line runs for every candidate of every row of a large file
                theirs, their_size, their_repeats = chars[other]
                total = (size + their_size) * SIMILAR_NAME_RATIO
                if 2 * min(size, their_size) < total or \
                        2 * (len(mine & theirs) + min(repeats, their_repeats)) < total:
                    continue
                checked += 1
                if alike(key, other):
                    label = next((label for label in self.exact[other] if label != unless), None)
                    if label is not None:
                        return label
                if checked >= MAX_CANDIDATES:
                    return None
        return None
