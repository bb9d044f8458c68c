"""A search hit's relevance, from its own text (jixiao/search.py builds the index; the site's
queries in jixiao/search_queries.py call :func:`score` as the SQL function ``search_score``).

The index keeps no positions (``detail=none``), so FTS5's bm25 has nothing to count: a hit is
scored here, and one whose text does not hold the words is dropped.
"""
from __future__ import annotations

import functools
import re

from .search import WORD, QueryError, t2s_table, fold, parse_query

# BM25's term-frequency part (k1, b) without the inverse document frequency, which would need
# every hit of each word counted (what the bounded ranking avoids). AVG_LENGTH: the mean
# document length over the samples' 632 documents (sections, table rows, indicators, findings:
# 67 index tokens, about one a character), standing for BM25's mean over the index.
K1, B, AVG_LENGTH = 1.2, 0.75, 67


@functools.lru_cache(maxsize=1)
def _variants() -> dict[str, str]:
    """Simplified character → it and the Traditional ones that fold to it (for a regex class)."""
    out: dict[str, str] = {}
    for code, simplified in t2s_table().items():
        out[simplified] = out.get(simplified, simplified) + chr(code)
    return out


@functools.lru_cache(maxsize=1024)
def _unfolded_pattern(term: str) -> re.Pattern:
    """Where a term stands in a text that was not folded: its characters as typed, each Han one
    also in its Traditional forms (folding a whole document costs ~10× the search); separators
    only where the term has them ("人民 调解" also finds 人民、调解; 导管理社 is not 导、管理社,
    as ``LIKE`` would not find it, and as the index holds it only where the bigrams meet)."""
    variants = _variants()
    words = WORD.findall(fold(term))
    parts = ["".join(f"[{re.escape(variants[c])}]" if c in variants else re.escape(c) for c in w) for w in words]
    return re.compile(r"[\W_]*".join(parts), re.IGNORECASE)


@functools.lru_cache(maxsize=256)
def _groups(q: str) -> tuple[tuple[tuple[str, re.Pattern], ...], ...]:
    """The query's ANDed groups of ORed terms, each as (its folded text, its unfolded pattern)."""
    try:
        query = parse_query(q)
    except QueryError:
        return ()
    return tuple(tuple((fold(t), _unfolded_pattern(t)) for t in g) for g in query.groups)


def _count(text: str, literal: str, pattern: re.Pattern) -> int:
    # str.count is ~10× faster than the pattern; the pattern only where the literal is absent
    # (Traditional characters, punctuation inside the term, Latin in another case)
    return text.count(literal) or len(pattern.findall(text))


def score(q: str | None, *fields) -> float | None:
    """A hit's relevance (≤ 0, lower is better, as FTS5's bm25), or None when its text does not
    hold every ANDed term: the index proposes documents by their bigrams, this keeps only the
    ones whose text has the words as typed (:func:`_unfolded_pattern`). Bytes: see :func:`scorer`."""
    groups = _groups(q or "")
    texts = {f if isinstance(f, str) else str(f) for f in fields if f not in (None, "")}
    norm = K1 * (1 - B + B * sum(map(len, texts)) / AVG_LENGTH)
    total = 0.0
    for group in groups:
        tf = sum(_count(t, literal, pattern) for literal, pattern in group for t in texts)
        if not tf:
            return None
        total += tf * (K1 + 1) / (tf + norm)
    return -total if groups else None


_CODECS = {"UTF-8": "utf-8", "UTF-16LE": "utf-16-le", "UTF-16BE": "utf-16-be"}


def scorer(encoding: str = "UTF-8"):
    """:func:`score` for a database whose text encoding (SQLite's ``pragma encoding``) is
    ``encoding``: the site's queries pass a body as ``cast(body as blob)``, its bytes in that
    encoding, which are decoded here (the build writes UTF-16: a copy, cheaper than SQLite's
    conversion to UTF-8 and Python's decoding of that)."""
    codec = _CODECS[encoding.upper()]

    def score_decoded(q: str | None, *fields) -> float | None:
        return score(q, *(f.decode(codec) if isinstance(f, bytes) else f for f in fields))

    return score_decoded
