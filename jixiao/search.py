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


# ---------------------------------------------------------------- the index (build side)

def _section_docs(conn, where: str = "", params=()):
    for rowid, heading, body in conn.execute(f"select rowid, heading, body from sections {where}", params):
        yield rowid, han_split(heading), han_split(body)


def create_index(conn) -> None:
    """Create and fill the search index in one pass over the published tables (full build)."""
    conn.execute(f"create virtual table {FTS_TABLE} using fts5({', '.join(FTS_COLUMNS)}, tokenize='unicode61')")
    conn.executemany(f"insert into {FTS_TABLE}(rowid, {', '.join(FTS_COLUMNS)}) values (?, ?, ?)",
                     _section_docs(conn))
    conn.execute(f"insert into {FTS_TABLE}({FTS_TABLE}) values ('optimize')")


def _ids_json(report_ids) -> str:
    import json
    return json.dumps(list(report_ids), ensure_ascii=False)


def drop_reports(conn, report_ids) -> None:
    """Remove these reports' entries from the index; call while their rows are still in the tables."""
    conn.execute(f"delete from {FTS_TABLE} where rowid in (select rowid from sections "
                 "where report_id in (select value from json_each(?)))", [_ids_json(report_ids)])


def index_reports(conn, report_ids) -> None:
    """Add these reports' entries (their rows already written) to the index."""
    conn.executemany(f"insert into {FTS_TABLE}(rowid, {', '.join(FTS_COLUMNS)}) values (?, ?, ?)",
                     _section_docs(conn, "where report_id in (select value from json_each(?))",
                                   [_ids_json(report_ids)]))
