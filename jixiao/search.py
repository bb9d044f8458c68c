"""Chinese full-text search: index text and query text (research/chinese-search.md, D1/S2).

``sections_fts`` is a plain ``unicode61`` FTS5 table holding heading and body with every Han
character as its own token (U+200B-separated); a query becomes a phrase of single characters.
Pure functions: the build calls :func:`han_split` in its workers, the site plugin
``plugins/cjk_search.py`` registers :func:`escape_fts_cjk` as ``escape_fts``.
"""
from __future__ import annotations

import re

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
HAN_RE = re.compile(f"([{_HAN}])")
_HAN_RUNS = re.compile(f"([{_HAN}]+)")
ZWSP = "\u200b"
_TERMS = re.compile(r'\s+|(".*?")')  # the term splitting of datasette.utils.escape_fts

FTS_TABLE = "sections_fts"
FTS_COLUMNS = ("heading_cjk", "body_cjk")


def han_split(text: str | None) -> str:
    """Every Han character becomes its own token: U+200B between it and its neighbours.

    Reversible: removing U+200B gives the text back (U+200B already in the text is dropped).
    Splitting into runs and joining is ~10× faster than a per-character ``re.sub`` template.
    """
    parts = _HAN_RUNS.split((text or "").replace(ZWSP, ""))
    # split() with a group alternates: other text (even indexes), Han runs (odd indexes)
    return ZWSP.join(ZWSP.join(p) if i % 2 else p for i, p in enumerate(parts) if p)


def escape_fts_cjk(query: str) -> str:
    """A search box query → FTS5 MATCH: each term a phrase of single Han characters.

    ``法律援助`` → ``"法 律 援 助"``; ``法律援助 2024`` → ``"法 律 援 助" "2024"``; empty → ``""``.
    """
    query = query or ""
    if query.count('"') % 2:
        query += '"'
    terms = [b.replace('"', "") for b in _TERMS.split(query) if b and b != '""']
    phrases = [" ".join(HAN_RE.sub(r" \1 ", t).split()) for t in terms]
    return " ".join(f'"{p}"' for p in phrases if p) or '""'
