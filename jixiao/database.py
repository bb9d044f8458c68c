"""Write ``build/jixiao.db``: schema tables, Chinese full-text search and views.

The file is written to a temporary name in the same folder and moved into place with
``os.replace`` only when complete, so a killed build leaves the previous database intact.

Search follows research/chinese-search.md, design D1 in layout S2: ``sections_fts`` is a
plain ``unicode61`` FTS5 table that stores its own copy of heading and body with every Han
character as its own token (U+200B-separated); its rowid is the ``sections`` rowid. The
plugin ``plugins/cjk_search.py`` turns a query into a phrase of single characters.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Iterable

import sqlite_utils

from .schema import TABLES, create_tables, sql_value
from .views import VIEWS

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
HAN_RE = re.compile(f"([{_HAN}])")
ZWSP = "\u200b"
_ZW_RUN = re.compile(ZWSP + "+")
_TERMS = re.compile(r'\s+|(".*?")')  # the term splitting of datasette.utils.escape_fts

FTS_TABLE = "sections_fts"
FTS_COLUMNS = ("heading_cjk", "body_cjk")


def han_split(text: str | None) -> str:
    """Every Han character becomes its own token: U+200B on both sides (exactly reversible)."""
    t = HAN_RE.sub(ZWSP + r"\1" + ZWSP, (text or "").replace(ZWSP, ""))
    return _ZW_RUN.sub(ZWSP, t).strip(ZWSP)


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


def write_database(path: str | Path, rows: dict[str, list[dict]]) -> dict[str, int]:
    """Write every table of ``rows`` (table name → row dicts) to ``path`` atomically.

    Returns the row count of each table as written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        db = sqlite_utils.Database(tmp, recreate=True)
        counts = populate(db, rows)
        db.conn.close()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return counts


def populate(db: sqlite_utils.Database, rows: dict[str, list[dict]]) -> dict[str, int]:
    db.execute("pragma foreign_keys = on")
    with db.conn:
        create_tables(db)
        counts = {}
        for t in TABLES:
            data = rows.get(t.name, [])
            db[t.name].insert_all(
                ({f.name: sql_value(f, row[f.name]) for f in t.fields} for row in data), batch_size=500
            )
            counts[t.name] = len(data)
        build_search(db)
        for name, sql in VIEWS.items():
            db.create_view(name, sql.strip())
    violations = db.execute("pragma foreign_key_check").fetchall()
    if violations:
        raise RuntimeError(f"foreign key violations: {violations[:5]}")
    db.execute(f"insert into {FTS_TABLE}({FTS_TABLE}) values ('optimize')")
    db.conn.commit()
    db.execute("vacuum")
    return counts


def build_search(db: sqlite_utils.Database) -> None:
    cols = ", ".join(FTS_COLUMNS)
    db.execute(f"create virtual table {FTS_TABLE} using fts5({cols}, tokenize='unicode61')")
    db.conn.executemany(
        f"insert into {FTS_TABLE}(rowid, {cols}) values (?, ?, ?)",
        ((rowid, han_split(h), han_split(b)) for rowid, h, b in
         db.execute("select rowid, heading, body from sections order by rowid").fetchall()),
    )


def table_counts(path: str | Path, names: Iterable[str]) -> dict[str, int]:
    db = sqlite_utils.Database(path)
    try:
        return {n: db[n].count for n in names}
    finally:
        db.conn.close()
