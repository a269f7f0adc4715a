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

import gc
import logging
import pickle
import subprocess
import sys
import threading
from collections import Counter, deque
from collections.abc import Sequence
from difflib import SequenceMatcher
from functools import cache
from itertools import combinations, repeat

from rapidfuzz import fuzz, process

from erp.crm.validation import SIMILAR_NAME_RATIO, SIMILAR_NAME_SCORE, company_name_key

log = logging.getLogger(__name__)

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
        #: each key's place in the order added: of equally alike keys, the one added first is found
        self.order: dict[str, int] = {}
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
        self.order[key] = len(self.order)
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
        passing = process.extract(key, candidates, scorer=fuzz.ratio, score_cutoff=SIMILAR_NAME_SCORE, limit=None)
        order = self.order
        for other, _score, _ in sorted(passing, key=lambda found: (-found[1], order[found[0]])):
            if alike(key, other):
                label = next((label for label in self.exact[other] if label != unless), None)
                if label is not None:
                    return label
        return None


# -- a file's names, here or in a second process -------------------------------------------------------------------

#: what keys_and_earlier gives: each name's key, and (i, j) for every name i alike to an earlier name j
KeysAndEarlier = tuple[list[str], list[tuple[int, int]]]


def keys_and_earlier(names: Sequence[str]) -> KeysAndEarlier:
    """Each name's key (company_name_key), and (i, j) for every name i whose key is identical or alike to an
    earlier one's: j is the first name with the identical key, else the first with the most alike key."""
    keys = [company_name_key(name) for name in names]
    index = SimilarNames.over(keys)
    earlier = []
    for i, key in enumerate(keys):
        j = index.find_then_add(key, i)
        if j is not None:
            earlier.append((i, j))
    return keys, earlier


class InSecondProcess:
    """keys_and_earlier(names) worked out by a second Python process (`python -m erp.migration.similar_names`)
    while this one maps and checks the rest of a large file: on a machine with two cores or more a file's
    similar names then cost about nothing of the dry run's time (10^5 names: about 5 s). The names go to it
    pickled through its stdin, written by a thread in one call (the pipe takes 64 KB at a time, and the thread
    needs the GIL only between those; subprocess's communicate() writes 512 bytes at a time and kept the
    second process waiting for seconds), and the answer comes back through its stdout when asked for. If the
    second process cannot start or fails, the answer is worked out here; the result is the same."""

    def __init__(self, names: Sequence[str]):
        self.names = list(names)
        try:
            self._process = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as exc:
            log.warning("similar names worked out here: no second process (%s)", exc)
            self._process = None
            return
        self._writer = threading.Thread(target=self._send, args=(pickle.dumps(self.names, pickle.HIGHEST_PROTOCOL),),
                                        name="similar-names", daemon=True)
        self._writer.start()

    def _send(self, data: bytes) -> None:
        try:
            with self._process.stdin:
                self._process.stdin.write(data)
        except OSError:  # it died before reading everything: result() reports why
            pass

    def result(self) -> KeysAndEarlier:
        process, self._process = self._process, None
        if process is not None:
            self._writer.join()
            with process.stdout, process.stderr:
                out = process.stdout.read()  # its stderr is only a traceback, read after
                err = process.stderr.read()
            process.wait()
            if process.returncode == 0:
                return pickle.loads(out)  # noqa: S301 - written by our own child process, through its pipe
            log.warning("similar names worked out here: the second process failed (exit %s): %s",
                        process.returncode, err.decode(errors="replace")[-2000:])
        return keys_and_earlier(self.names)

    def close(self) -> None:
        """Stop the second process if its answer was never asked for (the dry run failed meanwhile): it would
        otherwise wait forever to write it."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            self._writer.join()
            process.wait()
            process.stdout.close()
            process.stderr.close()

    def __enter__(self) -> InSecondProcess:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


class Here:
    """keys_and_earlier(names) worked out in this process, when asked for (small files)."""

    def __init__(self, names: Sequence[str]):
        self.names = names

    def result(self) -> KeysAndEarlier:
        return keys_and_earlier(self.names)


def _serve() -> None:
    gc.disable()  # a process for one bulk job: see core.bulk.collector_paused
    names = pickle.load(sys.stdin.buffer)  # noqa: S301 - from the parent process, through its pipe
    pickle.dump(keys_and_earlier(names), sys.stdout.buffer, pickle.HIGHEST_PROTOCOL)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    _serve()
