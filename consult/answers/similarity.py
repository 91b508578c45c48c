"""Finding near-identical comments (F13): form letters and campaigns, in near-linear time.

1. `normalise` each text (`consult.textfold`): NFKC (full-width letters and digits become
   plain ones), traditional characters to simplified (OpenCC t2s), lower case, punctuation,
   symbols and white space removed. Digits stay: "提高到500元" and "提高到800元" say
   different things.
2. Exact duplicates (equal normalised texts) are joined by a dictionary lookup, and only one
   text of each goes on to step 3: a campaign of identical letters costs one sketch. Texts
   under MIN_FUZZY_LENGTH characters ("同意", "支持") are grouped only when identical.
3. Each distinct text becomes a MinHash of its character 3-shingles (datasketch), indexed in a
   MinHash LSH: texts that share a band land in the same bucket and are *candidates*.
4. rapidfuzz confirms candidates: `fuzz.ratio` of the normalised texts ≥ `similarity`
   (GROUP_SIMILARITY, default 90). Within a bucket each text is compared with the few
   components already seen there, never with every other member, so a bucket holding a
   30 000-letter campaign costs 30 000 comparisons, not 450 million.
5. Union-find joins the confirmed pairs; every component of two or more texts is a group.

All-pairs rapidfuzz is quadratic (100 000 comments: 5·10⁹ comparisons, hours on two cores);
this is near-linear — bench/grouping_bench.py measures both.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Hashable, Iterable

from rapidfuzz import fuzz

from consult.textfold import normalise

DEFAULT_SIMILARITY = 90  # rapidfuzz ratio (0–100) that confirms two texts as one comment
SHINGLE = 3  # characters per shingle: Chinese words are mostly one to three characters
NUM_PERM = 64  # MinHash permutations: enough to find texts ≥ 90 % alike, cheap to compute
LSH_THRESHOLD = 0.5  # Jaccard of shingles at which LSH proposes a pair (well below ratio 90)
MAX_LEADERS = 8  # distinct components compared per bucket member (buckets of strangers)
# Shorter texts are grouped only when identical: in "公示期延长至三十日" one character is the
# whole point, though the ratio to "…二十日" is 92.
MIN_FUZZY_LENGTH = 20

def shingles(text: str) -> set[bytes]:
    """The text's character 3-grams, as UTF-32 bytes (hashed by zlib.crc32 in C: a fast 32-bit
    hash that is the same in every process, unlike Python's salted hash())."""
    data = text.encode("utf-32-le")
    width = 4 * SHINGLE
    return {data[i:i + width] for i in range(0, len(data) - width + 4, 4)}


class _UnionFind:
    def __init__(self, size: int):
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]  # path halving
            i = parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        a, b = self.find(a), self.find(b)
        if a != b:
            # The smaller index becomes the root: a group's root is its earliest text.
            self.parent[max(a, b)] = min(a, b)


def similar(a: str, b: str, similarity: int = DEFAULT_SIMILARITY) -> bool:
    """Whether two normalised texts count as one comment."""
    if a == b:
        return True
    if min(len(a), len(b)) < MIN_FUZZY_LENGTH:
        return False
    return fuzz.ratio(a, b, score_cutoff=similarity) > 0


Progress = Callable[[float, str | None], None]
PROGRESS_STEP = 5000  # texts between two progress reports


def _no_progress(fraction: float, text: str | None = None) -> None:
    return None


def find_groups(texts: Iterable[tuple[Hashable, str]], *,
                similarity: int = DEFAULT_SIMILARITY,
                progress: Progress | None = None) -> list[list[Hashable]]:
    """Groups (two or more keys each, in input order) of near-identical texts.

    `texts` is (key, text) pairs, e.g. (comment id, body). Texts that normalise to nothing
    (only punctuation) are never grouped. `progress(fraction, step)` hears how far it is
    (a job shows it to staff); `len(texts)` is used for it when `texts` has a length.
    """
    report = progress or _no_progress
    total = len(texts) if hasattr(texts, "__len__") else 0
    report(0.0, "normalise")
    keys: list[Hashable] = []
    first_of: dict[str, int] = {}  # normalised text -> index of its first occurrence
    distinct: list[tuple[int, str]] = []  # (index, text) of each distinct normalised text
    links: list[tuple[int, int]] = []
    for index, (key, text) in enumerate(texts):
        if total and index % PROGRESS_STEP == 0:
            report(0.4 * index / total, "normalise")
        keys.append(key)
        norm = normalise(text)
        if not norm:
            continue
        first = first_of.setdefault(norm, index)
        if first != index:
            links.append((first, index))  # exact duplicate: the fast path
        elif len(norm) >= MIN_FUZZY_LENGTH:
            distinct.append((index, norm))
    del first_of
    found = _UnionFind(len(keys))
    for a, b in links:
        found.union(a, b)
    del links
    report(0.4, "compare")
    _join_near_duplicates(distinct, found, similarity, report)
    report(1.0, "compare")

    members: dict[int, list[int]] = {}
    for index in range(len(keys)):
        members.setdefault(found.find(index), []).append(index)
    return [[keys[i] for i in group]
            for _root, group in sorted(members.items()) if len(group) >= 2]


def _join_near_duplicates(distinct: list[tuple[int, str]], found: _UnionFind,
                          similarity: int, report: Progress = _no_progress) -> None:
    """Union the texts that LSH proposes and rapidfuzz confirms."""
    if len(distinct) < 2:
        return
    # Imported here: datasketch brings scipy, seconds of start-up for every web and worker
    # process, when only the detector needs it.
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
    sketch = MinHash(num_perm=NUM_PERM, hashfunc=zlib.crc32)  # reused: the index keeps bands
    with lsh.insertion_session() as session:
        for done, (index, norm) in enumerate(distinct):
            if done % PROGRESS_STEP == 0:
                report(0.4 + 0.3 * done / len(distinct), "compare")
            sketch.clear()
            sketch.update_batch(shingles(norm))
            session.insert(index, sketch, check_duplication=False)
    text_of = dict(distinct)
    rejected: set[tuple[int, int]] = set()
    for number, table in enumerate(lsh.hashtables):  # one dict of buckets per band
        report(0.7 + 0.3 * number / len(lsh.hashtables), "compare")
        for band in table.keys():  # noqa: SIM118 (a datasketch storage, not a dict)
            bucket = table.get(band)
            if len(bucket) < 2:
                continue
            leaders: list[int] = []  # one text per component met in this bucket
            for index in sorted(bucket):
                root = found.find(index)
                if any(found.find(leader) == root for leader in leaders):
                    continue
                for leader in leaders:
                    pair = (leader, index)
                    if pair in rejected:
                        continue
                    if similar(text_of[leader], text_of[index], similarity):
                        found.union(leader, index)
                        break
                    rejected.add(pair)
                else:
                    if len(leaders) < MAX_LEADERS:
                        leaders.append(index)


def all_pairs_groups(texts: Iterable[tuple[Hashable, str]], *,
                     similarity: int = DEFAULT_SIMILARITY) -> list[list[Hashable]]:
    """The quadratic reference: every pair compared with rapidfuzz (for the benchmark and
    tests only; 100 000 comments would take hours)."""
    items = [(key, normalise(text)) for key, text in texts]
    found = _UnionFind(len(items))
    for i, (_key, a) in enumerate(items):
        if not a:
            continue
        for j in range(i + 1, len(items)):
            b = items[j][1]
            if b and found.find(i) != found.find(j) and similar(a, b, similarity):
                found.union(i, j)
    members: dict[int, list[int]] = {}
    for index in range(len(items)):
        if items[index][1]:
            members.setdefault(found.find(index), []).append(index)
    return [[items[i][0] for i in group]
            for _root, group in sorted(members.items()) if len(group) >= 2]
