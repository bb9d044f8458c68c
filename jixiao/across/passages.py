"""Passages shared between reports: copied text and template wording. Pure: no I/O.

A *passage* is a narrative paragraph (one source line that is not a table cell and not a
section heading) of at least :data:`MIN_CHARS` characters once normalised. Two places hold the
same passage when their normalised texts are equal (exact: a hash) or near-equal: character
trigrams, MinHash signatures and LSH buckets (datasketch's scheme, parameters and buckets,
computed in numpy: :func:`permutations`, :func:`buckets`) propose candidates, and the Jaccard
similarity of the two trigram sets (≥ :data:`THRESHOLD`; trigrams hashed to 32 bits, so exact but
for the rare collision) decides. The places linked this
way form one passage.

Bounded at any corpus size: exact duplicates are hashed once; only distinct texts are
MinHashed; within an LSH bucket a text is compared with at most :data:`LINK_CAP` earlier members
and never with one already linked to it; each place keeps at most :data:`PAIR_CAP` pairs; and a
passage shared by ``min_units`` units or more (template wording) keeps its counts but no places
or pairs.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import yaml

MIN_CHARS = 20  # normalised characters: shorter lines are headings, labels or stock phrases
SHINGLE = 3  # character n-grams (Chinese has no spaces to split words on)
NUM_PERM = 32  # the cost is trigrams x permutations
THRESHOLD = 0.7  # Jaccard similarity of the trigram sets
# LSH bands x rows: what datasketch's MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM) chooses
# (its _optimal_param, which imports scipy: 1.3 s a build; tests/test_across.py checks they agree)
BANDS, ROWS = 5, 6
LINK_CAP = 8  # earlier members of an LSH bucket a text is compared with
PAIR_CAP = 10  # pairs stored per place (the most similar, own unit first)

VOCAB = Path(__file__).resolve().parent.parent / "vocab" / "template_passages.yml"

# Leading numbering of a paragraph: 一、 （一） (1) 1、 1. ① 第一，
_NUMBERING = re.compile(
    r"^\s*(?:[（(]\s*[一二三四五六七八九十\d]+\s*[）)]|[一二三四五六七八九十]+\s*[、.．]|\d+(?:\.\d+)*\s*[、.．]"
    r"|[①-⑳]|第[一二三四五六七八九十]+[，,、是])\s*")
_DIGITS = re.compile(r"\d+(?:\.\d+)?")


@lru_cache(maxsize=1)
def _drop() -> re.Pattern:
    """Runs of punctuation, spaces, symbols and controls (Unicode categories P, Z, S, C in the
    BMP), as one character class of ranges: re.sub deletes them ~3× faster than str.translate
    with a dict, which pays a failed look-up for every character it keeps."""
    ranges: list[list[int]] = []
    for cp in range(0x10000):
        if unicodedata.category(chr(cp))[0] in "PZSC":
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    return re.compile("[" + "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "")
                                    for a, b in ranges) + "]+")


def plain(line: str) -> str:
    """The line without its numbering, full-width folded (NFKC), without spaces and punctuation."""
    # Numbering off, punctuation and spaces out, then NFKC only when something is left to fold
    # (full-width digits or letters): most lines need no normalising once the punctuation is gone.
    drop = _drop()
    s = drop.sub("", _NUMBERING.sub("", line, count=1))
    if not unicodedata.is_normalized("NFKC", s):
        s = drop.sub("", unicodedata.normalize("NFKC", s))
    return s


def key(plain_text: str) -> str:
    """What two places must share to hold the same passage: figures are masked (a copied
    paragraph with its amounts changed is still the same paragraph)."""
    return _DIGITS.sub("0", plain_text)


# ---------------------------------------------------------------- template wording


@dataclass(frozen=True)
class Templates:
    patterns: tuple[str | re.Pattern, ...]
    min_units: int

    def matches(self, plain_text: str) -> bool:
        return any(p.search(plain_text) if isinstance(p, re.Pattern) else p in plain_text for p in self.patterns)


@lru_cache(maxsize=None)
def templates() -> Templates:
    data = yaml.safe_load(VOCAB.read_text(encoding="utf-8"))
    pats = []
    for p in data.get("patterns") or []:
        p = str(p)
        # patterns match the plain text (no punctuation): strip it from a plain-substring pattern too
        pats.append(re.compile(p[1:-1]) if len(p) > 2 and p.startswith("/") and p.endswith("/") else plain(p))
    return Templates(tuple(pats), int(data.get("min_units", 20)))


# ---------------------------------------------------------------- input and output


@dataclass(frozen=True)
class Doc:
    """One report as this module needs it."""
    report_id: str
    unit: str | None
    text: str
    headings: frozenset[int] = frozenset()  # lines that are section headings


@dataclass
class Passage:
    passage_id: int
    text: str  # the text of its first place (by report_id, line)
    plain: str
    report_id: str  # its first place
    line: int
    reports: int  # distinct reports holding it
    units: int  # distinct units
    places: int
    is_template: bool
    template_reason: str | None  # 词表 (vocabulary) | 多单位共用 (shared by many units)
    place_list: list[tuple[str, int, str]] = field(default_factory=list)  # (report_id, line, text); none for many-unit ones


@dataclass(frozen=True)
class Pair:
    passage_id: int
    report_id: str
    line: int
    text: str
    other_report_id: str
    other_line: int
    similarity: float
    same_unit: bool
    is_template: bool


def paragraphs(doc: Doc) -> Iterable[tuple[int, str, str]]:
    """(line, raw text, plain text) of each candidate paragraph of a report."""
    for n, raw in enumerate(doc.text.split("\n"), 1):
        if len(raw) < MIN_CHARS or raw.startswith("\t") or n in doc.headings:
            continue  # (a line shorter than MIN_CHARS cannot have MIN_CHARS once normalised)
        p = plain(raw)
        if len(p) >= MIN_CHARS:
            yield n, raw.strip(), p


class _Union:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, a: int) -> int:
        p = self.parent
        while p[a] != a:
            p[a] = p[p[a]]
            a = p[a]
        return a

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _mix(c):
    """32-bit hashes of the trigrams starting at each position of a uint64 array of code points."""
    import numpy as np

    h = (c[:-2] * np.uint64(0x9E3779B1) + c[1:-1]) * np.uint64(0x85EBCA77) + c[2:]
    h ^= h >> np.uint64(31)  # a MurmurHash3-style finaliser: neighbouring trigrams far apart
    h *= np.uint64(0xC2B2AE3D27D4EB4F)
    h ^= h >> np.uint64(29)
    return h & np.uint64(0xFFFFFFFF)


def trigram_hashes(k: str):
    """The distinct character trigrams of a text as sorted 32-bit hashes (:func:`trigram_hashes_many`)."""
    return trigram_hashes_many([k])[0]


def _distinct(a):
    """``a``'s distinct values, sorted: a sort and a comparison of neighbours. (numpy 2's
    ``np.unique`` hashes instead, ~15× slower on these arrays: 8.5 of 9.4 s at 2,000 reports.)"""
    import numpy as np

    a = np.sort(a)
    if len(a) < 2:
        return a
    keep = np.empty(len(a), dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def trigram_hashes_many(keys: list[str], chunk: int = 2000) -> list:
    """Each text's distinct character trigrams as sorted 32-bit hashes, computed in numpy a chunk
    of texts at a time (one call per text cost ~8 numpy calls each: 9.4 s at 2,000 reports, 0.6 s
    this way). Deterministic: the same text gives the same values in every process (Python's own
    hash() is salted)."""
    import numpy as np

    out = []
    for start in range(0, len(keys), chunk):
        ks = [k.ljust(SHINGLE, "\0") for k in keys[start:start + chunk]]
        lens = np.fromiter((len(k) for k in ks), dtype=np.int64, count=len(ks))
        c = np.frombuffer("".join(ks).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        h = _mix(c)  # the trigram starting at each position of the concatenation
        text = np.repeat(np.arange(len(ks), dtype=np.uint64), lens)[:-2]
        inside = np.arange(len(h)) + 2 < np.repeat(np.cumsum(lens), lens)[:-2]  # not across two texts
        both = _distinct((text[inside] << np.uint64(32)) | h[inside])  # sorted by text, then hash
        values = (both & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        out.extend(np.split(values, np.searchsorted(both >> np.uint64(32), np.arange(1, len(ks), dtype=np.uint64))))
    return out


def hashed_jaccard(a, b) -> float:
    """Jaccard similarity of two sorted arrays of distinct trigram hashes (trigram_hashes): the
    values both hold are the equal neighbours of the two arrays sorted together (np.intersect1d
    does the same behind ~2 µs of Python a call, and it is called ~275,000 times at 2,000 reports)."""
    import numpy as np

    if not (len(a) or len(b)):
        return 1.0
    both = np.concatenate((a, b))
    both.sort()
    inter = int(np.count_nonzero(both[1:] == both[:-1]))
    return inter / (len(a) + len(b) - inter)


def signatures(hashes: list, chunk: int = 2000):
    """MinHash signatures (datasketch's affine32 scheme and its own permutations, from its seed) of
    the texts' trigram sets as trigram_hashes gives them — what ``MinHash.update_batch`` computes
    one text at a time — a chunk of texts at a time, one permutation at a time over the chunk's
    concatenated trigrams (contiguous 1-D arrays: ~20× faster than the (trigrams × permutations)
    matrix, which does not fit the cache). Yields one uint32 array of NUM_PERM values per text."""
    import numpy as np

    a, b = permutations()
    for start in range(0, len(hashes), chunk):
        hs = hashes[start:start + chunk]
        offsets = np.cumsum([0] + [len(h) for h in hs[:-1]])
        flat = np.concatenate(hs)
        sig = np.empty((len(hs), NUM_PERM), dtype=np.uint32)
        for j in range(NUM_PERM):  # uint32 arithmetic wraps, as in datasketch's affine32 scheme
            sig[:, j] = np.minimum.reduceat(flat * a[j] + b[j], offsets)
        yield from sig


def permutations(num_perm: int = NUM_PERM, seed: int = 1):
    """The affine permutations (a, b) of datasketch's ``MinHash(num_perm, seed)`` (scheme affine32:
    h → a·h + b mod 2³², a odd), drawn from the same seeded generator (a test checks they are equal)."""
    import numpy as np

    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def buckets(sigs) -> Iterable[list[int]]:
    """The LSH buckets of two or more texts, as datasketch's MinHashLSH (BANDS × ROWS) fills them:
    band by band, each bucket the texts whose signatures agree on the whole band, buckets in the
    order of their first text, members ascending. One numpy grouping per band (inserting the
    texts one by one into datasketch's index cost 3.5 s of the 14 s at 2,000 reports)."""
    import numpy as np

    for band in range(BANDS):
        part = np.ascontiguousarray(sigs[:, band * ROWS:(band + 1) * ROWS])
        rows = part.view(np.dtype((np.void, part.dtype.itemsize * ROWS))).ravel()
        _, first, inverse, counts = np.unique(rows, return_index=True, return_inverse=True, return_counts=True)
        inverse = inverse.ravel()
        by_bucket = np.argsort(inverse, kind="stable")  # texts grouped by bucket, ascending within it
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        shared = np.nonzero(counts >= 2)[0]
        for g in shared[np.argsort(first[shared], kind="stable")]:
            yield by_bucket[starts[g]:starts[g] + counts[g]].tolist()


def near_groups(keys: list[str]) -> tuple[_Union, list]:
    """Link distinct texts whose trigram Jaccard is ≥ THRESHOLD, found through MinHash LSH; returns
    the groups and each text's trigram hashes (for the similarities of the pairs)."""
    import numpy as np

    groups = _Union(len(keys))
    hashes = trigram_hashes_many(keys)  # ~4 bytes a character: kept for the whole run
    if len(keys) < 2:
        return groups, hashes
    sigs = np.array(list(signatures(hashes)), dtype=np.uint32)  # NUM_PERM × 4 bytes a text
    for members in buckets(sigs):
        for i in range(1, len(members)):
            a = members[i]
            for b in members[max(0, i - LINK_CAP):i]:
                if groups.find(a) == groups.find(b):
                    break
                if hashed_jaccard(hashes[a], hashes[b]) >= THRESHOLD:
                    groups.union(a, b)
                    break
    return groups, hashes


def find(docs: Iterable[Doc], tpl: Templates | None = None) -> tuple[list[Passage], list[Pair]]:
    """Every passage held by two or more reports, and the pairs of its places."""
    tpl = tpl or templates()
    units: dict[str, str] = {}
    uid_of: dict[str, int] = {}
    keys: list[str] = []
    plains: list[str] = []
    places: list[tuple[int, str, int, str]] = []  # (uid, report_id, line, raw)
    for doc in docs:
        units[doc.report_id] = doc.unit or doc.report_id
        for line, raw, p in paragraphs(doc):
            k = key(p)
            uid = uid_of.get(k)
            if uid is None:
                uid = uid_of[k] = len(keys)
                keys.append(k)
                plains.append(p)
            places.append((uid, doc.report_id, line, raw))
    # Only texts held by another report can be shared; distinct texts seen in one report alone
    # still take part in the near-duplicate search (their near twin may be elsewhere).
    groups, hashes = near_groups(keys)
    by_group: dict[int, list[tuple[int, str, int, str]]] = {}
    for pl in places:
        by_group.setdefault(groups.find(pl[0]), []).append(pl)
    found = []
    for members in by_group.values():
        reports = {rid for _, rid, _, _ in members}
        if len(reports) < 2:
            continue
        members.sort(key=lambda m: (m[1], m[2]))
        first = members[0]
        n_units = len({units[rid] for rid in reports})
        reason = "词表" if any(tpl.matches(plains[u]) for u in {m[0] for m in members}) else (
            "多单位共用" if n_units >= tpl.min_units else None)
        found.append((members, len(reports), n_units, reason, first))
    # Numbered most shared first (stable: ties by the first place).
    found.sort(key=lambda f: (-f[2], -f[1], f[4][1], f[4][2]))
    passages, pairs = [], []
    for pid, (members, n_reports, n_units, reason, first) in enumerate(found, 1):
        many = n_units >= tpl.min_units
        passages.append(Passage(pid, first[3], plains[first[0]], first[1], first[2], n_reports, n_units, len(members),
                                reason is not None, reason, [] if many else [(m[1], m[2], m[3]) for m in members]))
        if not many:
            pairs.extend(_pairs(pid, members, hashes, units, reason is not None))
    return passages, pairs


def _pairs(pid, members, hashes, units, is_template) -> list[Pair]:
    sims: dict[tuple[int, int], float] = {}

    def sim(a: int, b: int) -> float:
        if a == b:
            return 1.0
        ab = (a, b) if a < b else (b, a)
        if ab not in sims:
            sims[ab] = round(hashed_jaccard(hashes[a], hashes[b]), 4)
        return sims[ab]

    out = []
    for uid, rid, line, raw in members:
        others = [(sim(uid, o[0]), units[o[1]] == units[rid], o) for o in members if o[1] != rid]
        others.sort(key=lambda x: (-x[0], not x[1], x[2][1], x[2][2]))
        for s, same, o in others[:PAIR_CAP]:
            out.append(Pair(pid, rid, line, raw, o[1], o[2], s, same, is_template))
    return out
