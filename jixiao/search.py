"""Chinese full-text search over what a report says (research/chinese-search.md, design D2
without positions; issue 16 for why).

One FTS5 table, ``sections_fts`` (``unicode61``, **contentless** ``content=''``, **no positions**
``detail=none``), indexes four kinds of text, each document as the overlapping bigrams of its Han
runs plus each run's last character (:func:`index_text`), Traditional folded to Simplified
(OpenCC's character table):

* 正文 a section: heading, body — ``rowid`` = ``sections.rowid`` (so Datasette's own
  ``/jixiao/sections?_search=`` keeps working: ``rowid in (select rowid from sections_fts …)``);
* 表格 a table row: its non-empty cells joined by `` | `` — ``rowid`` = 1<<56 | source_tables.rowid<<20 | row;
* 指标 an indicator: level3; level1 | level2 | target | actual | note | standard — 2<<56 | indicators.rowid;
* 发现 a finding: message | expected | actual — 3<<56 | findings.rowid.

No second copy of the text, no positions and no document lengths (``columnsize=0``: nothing here
ranks with FTS5's own functions; 4.9 MB at 2,000 synthetic reports): the index keeps which
documents hold each token (27 MB where single characters with positions took 91 MB), so a word
is the AND of its bigrams (:func:`to_match`: plain words are ANDed, ``A OR B``, ``-A`` excludes,
``"A B"`` a phrase). That finds every document holding the word and, rarely, one holding its
bigrams apart; the site's queries keep only documents whose text holds the words and rank them
(jixiao/search_rank.py ``score``, SQL ``search_score``: BM25's term frequency and length), for at most
:data:`CANDIDATES` hits (the first ones in index order, stopped early by LIMIT), never for every
hit of a common word (FTS5's bm25 needs positions). Snippets are made in Python from the
original rows, only for the hits shown (:func:`snippet`, SQL ``search_snippet``). Datasette's own
``?_search=`` on ``sections`` gets the index's answer as it is. The site's queries over the
index (/search, the stored queries ``search`` and ``search_hits``) are in jixiao/search_queries.py.

A full build computes each report's documents in its worker processes
(:func:`report_documents`, from the rows about to be written); the writer gives them their
rowids and inserts them as the reports come (:func:`begin_index`, :func:`add_documents`,
:func:`finish_index`). Without them (a report published without its documents),
:func:`create_index` builds the index from the tables after all rows are written. An
incremental build calls :func:`drop_reports` (before the old rows go) and
:func:`index_reports` (after the new rows are in). Removing from a contentless table needs the indexed text again, so it is
recomputed from the rows, which is why :func:`drop_reports` must run while they still exist.
"""
from __future__ import annotations

import functools
import json
import operator
import re
from dataclasses import dataclass, field
from pathlib import Path

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
HAN_RE = re.compile(f"([{_HAN}])")
_HAN_RUNS = re.compile(f"([{_HAN}]+)")
ZWSP = "\u200b"

FTS_TABLE = "sections_fts"
FTS_COLUMNS = ("heading_cjk", "body_cjk")
CELL_SEP = " | "  # between the cells of a row and the fields of an indicator or finding

KIND_SHIFT = 56
KINDS = ("section", "table", "indicator", "finding")  # the kind number is the index
KIND_LABELS = {"section": "正文", "table": "表格", "indicator": "指标", "finding": "发现"}
ROW_BITS = 20  # a table row's number within its table (< 1,048,576)
LOW_MASK = (1 << KIND_SHIFT) - 1

CANDIDATES = 1000  # hits ranked and counted per request at most (stated on the page)
MAX_TERMS = 12  # words in one query at most


# ---------------------------------------------------------------- text

@functools.lru_cache(maxsize=1)
def t2s_table() -> dict[int, str]:
    """OpenCC's Traditional → Simplified character table (first candidate), for str.translate.

    Character by character (not OpenCC's phrase segmentation) so that a folded text keeps its
    length: a snippet's positions in the folded text are positions in the original.
    """
    import opencc

    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        src, _, dst = line.partition("\t")
        dst = dst.split(" ")[0] if dst else ""
        if len(src) == 1 and len(dst) == 1 and src != dst:
            table[ord(src)] = dst
    return table


@functools.lru_cache(maxsize=1)
def _traditional() -> frozenset[str]:
    return frozenset(map(chr, t2s_table()))


def fold(text: str | None) -> str:
    """Traditional characters → Simplified, one character for one (the same length)."""
    text = text or ""
    # most text has no Traditional character: checking costs about half of translating
    return text if _traditional().isdisjoint(text) else text.translate(t2s_table())


def index_text(text: str | None) -> str:
    """The tokens a text is indexed by, space-separated: every Han run as its overlapping
    bigrams and its last character (法律援助 → 法律 律援 援助 助; a single 年 → 年), Traditional
    folded to Simplified; other text as it is (unicode61 splits it into words).

    Bigrams make a word of two or more characters a few exact tokens, which an index without
    positions (``detail=none``) can find; the last character makes every character the start
    of some token, so a one-character word is a prefix query (``"法"*``).
    """
    parts = iter(_HAN_RUNS.split(fold(text).replace(ZWSP, "")))
    out = []
    # split() with a group alternates: other text, a Han run, other text, … (other text last)
    for other in parts:
        if other:
            out.append(other)
        run = next(parts, None)
        if run is None:
            break
        out.extend(map(operator.add, run, run[1:]))  # the bigrams (13 % faster than slicing, measured)
        out.append(run[-1])
    return " ".join(out)


def join_fields(*values) -> str:
    """The non-empty values, each once, joined by `` | `` (a value may hold several, \\x1f-separated)."""
    seen: dict[str, None] = {}
    for v in values:
        for part in ("" if v is None else str(v)).split("\x1f"):
            if part:
                seen.setdefault(part, None)
    return CELL_SEP.join(seen)


# ---------------------------------------------------------------- queries

class QueryError(ValueError):
    """A query that cannot be searched; the message is for the visitor, in Chinese."""


class OnlyExcluded(QueryError):
    """Only ``-words``: nothing to look for (FTS5 cannot list everything but a word)."""


@dataclass
class Query:
    groups: list[list[str]] = field(default_factory=list)  # ANDed groups of ORed terms
    exclude: list[str] = field(default_factory=list)

    @property
    def terms(self) -> list[str]:
        return [t for g in self.groups for t in g]


# a "phrase" (also “…”), or a word; a word may start with - (exclude)
_TOKENS = re.compile(r'(-?)(?:["“”]([^"“”]*)["“”]?|([^\s"“”]+))')
WORD = re.compile(r"[^\W_]+")  # what unicode61 keeps of a term; the rest separates (search_rank.py uses it too)


def parse_query(q: str) -> Query:
    """``调解 法律援助`` both; ``调解 OR 普法`` either; ``-调解`` not; ``"人民 调解"`` a phrase.

    OR binds its neighbours (``A B OR C`` = A and (B or C)); an OR with nothing on one side
    is ignored; terms with nothing searchable in them (only punctuation) are dropped.
    """
    query, pending_or = Query(), False
    for minus, quoted, word in _TOKENS.findall((q or "").replace("－", "-")):
        text = word or quoted
        if word == "OR" and not minus:
            pending_or = bool(query.groups)
            continue
        if not WORD.search(fold(text)):
            continue
        if minus:
            query.exclude.append(text)
        elif pending_or:
            query.groups[-1].append(text)
        else:
            query.groups.append([text])
        pending_or = False
    return query


def check_query(query: Query) -> None:
    """Raise :class:`QueryError` (Chinese) for a query that cannot be searched as given."""
    if not query.groups and query.exclude:
        raise OnlyExcluded("只有排除的词（前面带“-”）：请再加上至少一个要查找的词，例如“法律援助 -调解”。")
    if not query.groups:
        raise QueryError("检索词里没有可以查找的文字或数字。")
    if len(query.terms) + len(query.exclude) > MAX_TERMS:
        raise QueryError(f"检索词太多：最多 {MAX_TERMS} 个，请删去一些。")


def term_tokens(term: str) -> list[str]:
    """One term → the FTS5 tokens a document holding it must have (see :func:`index_text`):
    法律援助 → "法律", "律援", "援助"; 法 → "法"* (a prefix); 2024年 → "2024", "年"*."""
    tokens: dict[str, None] = {}
    for i, p in enumerate(_HAN_RUNS.split(fold(term))):
        if i % 2:
            for t in ([f'"{p}"*'] if len(p) == 1 else [f'"{p[j:j + 2]}"' for j in range(len(p) - 1)]):
                tokens.setdefault(t, None)
        else:
            for w in WORD.findall(p):
                tokens.setdefault(f'"{w}"', None)
    return list(tokens)


def phrase(term: str) -> str:
    """One term → an FTS5 expression: its tokens ANDed (法律援助 → ("法律" AND "律援" AND "援助")).

    The index keeps no positions, so this finds every document with the term and, rarely, one
    with its bigrams apart; the site's queries then keep only documents whose text holds the
    term (jixiao/search_rank.py)."""
    tokens = term_tokens(term)
    return tokens[0] if len(tokens) == 1 else "(" + " AND ".join(tokens) + ")"


def to_match(query: Query) -> str:
    """The FTS5 MATCH expression of a parsed query; ``""`` (matches nothing) when it has no terms."""
    if not query.groups:
        return '""'
    expr = " AND ".join("(" + " OR ".join(phrase(t) for t in g) + ")" for g in query.groups)
    for t in query.exclude:
        expr = f"({expr}) NOT {phrase(t)}"
    return expr


def escape_fts_cjk(query: str) -> str:
    """A search box query → FTS5 MATCH (registered as Datasette's ``escape_fts``); never raises.

    ``法律援助`` → ``(("法律" AND "律援" AND "援助"))``; nothing to search → ``""`` (no rows).
    """
    try:
        parsed = parse_query(query or "")
        check_query(parsed)
    except QueryError:
        return '""'
    return to_match(parsed)


# ---------------------------------------------------------------- snippets

SNIPPET_BEFORE, SNIPPET_CHARS = 24, 96


def _pattern(term: str) -> re.Pattern:
    """The places a term's phrase matches in a folded text (separators between its tokens allowed)."""
    tokens = WORD.findall(HAN_RE.sub(r" \1 ", fold(term)))
    return re.compile(r"[\W_]*".join(map(re.escape, tokens)), re.IGNORECASE)


def snippet_parts(text: str | None, q: str) -> list[tuple[str, bool]]:
    """A window of ``text`` around its first match of the query's terms: (piece, is_hit) pairs."""
    text = re.sub(r"\s+", " ", text or "").strip()
    folded = fold(text)
    try:
        terms = parse_query(q).terms
    except QueryError:
        terms = []
    spans = sorted({m.span() for t in terms for m in _pattern(t).finditer(folded) if m.end() > m.start()})
    start = max(0, spans[0][0] - SNIPPET_BEFORE) if spans else 0
    end = min(len(text), start + SNIPPET_CHARS)
    parts: list[tuple[str, bool]] = [("…", False)] if start else []
    pos = start
    for a, b in spans:
        if a < pos or a >= end:
            continue
        b = min(b, end)
        parts += [(text[pos:a], False), (text[a:b], True)]
        pos = b
    parts.append((text[pos:end], False))
    if end < len(text):
        parts.append(("…", False))
    return [(p, hit) for p, hit in parts if p]


def snippet(text: str | None, q: str) -> str:
    """:func:`snippet_parts` as text with the hits in 【】 (a 【】 of the text itself becomes ［］)."""
    return "".join(f"【{p}】" if hit else p for p, hit in
                   ((p.replace("【", "［").replace("】", "］"), hit) for p, hit in snippet_parts(text, q)))


# ---------------------------------------------------------------- the index (build side)

CHUNK = 500  # reports read per round of queries (bounded memory; each query by report_id)


def _chunks(conn, report_ids):
    ids = ([r for (r,) in conn.execute("select report_id from reports order by report_id")]
           if report_ids is None else sorted(set(report_ids)))
    for i in range(0, len(ids), CHUNK):
        yield json.dumps(ids[i:i + CHUNK], ensure_ascii=False)


def documents(conn, report_ids=None):
    """(rowid, heading, body) of every document to index, for all reports or only ``report_ids``.

    A table row that became an indicator (its first cell is on the indicator's line) is indexed
    once, as the indicator, with the row's other cells (e.g. a 分值 cell saying 酌情扣分).
    Table cells are read only through the name ``table_cells`` (it may be a view, which reads its
    compressed grids with ``jixiao_text``: registered here, so any connection can be given).
    """
    from . import textstore

    textstore.ensure(conn)  # here, not in the generator: not while the caller's insert is running
    return (doc for chunk in _chunks(conn, report_ids) for doc in _chunk_documents(conn, chunk))


def _chunk_documents(conn, chunk: str):
    ids = "report_id in (select value from json_each(?))"
    for rowid, heading, body in conn.execute(f"select rowid, heading, body from sections where {ids}", [chunk]):
        yield rowid, index_text(heading), index_text(body)
    indicators = conn.execute("select rowid, report_id, line, level3, level1, level2, target, actual, note, "
                              f"standard from indicators where {ids}", [chunk]).fetchall()
    on_line = {(r[1], r[2]) for r in indicators if r[2] is not None}
    tables = {(r, n): rowid for rowid, r, n in
              conn.execute(f"select rowid, report_id, table_seq from source_tables where {ids}", [chunk])}
    absorbed: dict[tuple[str, int], list[str]] = {}  # (report_id, line) → cells of an indicator's row
    key, cells, first_line = None, [], None
    rows = conn.execute(f"select report_id, table_seq, row, line, text from table_cells where {ids} "
                        "order by report_id, table_seq, row, col", [chunk])
    for report_id, table_seq, row, line, text in [*rows, (None, None, None, None, None)]:
        if (report_id, table_seq, row) != key:
            table_rowid = tables.get(key[:2]) if key else None
            if key and (key[0], first_line) in on_line:
                absorbed[(key[0], first_line)] = cells
            elif cells and table_rowid is not None and key[2] < (1 << ROW_BITS):
                yield (1 << KIND_SHIFT) | (table_rowid << ROW_BITS) | key[2], "", index_text(join_fields(*cells))
            key, cells, first_line = (report_id, table_seq, row), [], line
        elif line is not None and (first_line is None or line < first_line):
            first_line = line
        if text:
            cells.append(text)
    for rowid, report_id, line, level3, *f in indicators:
        body = join_fields(*f, *absorbed.get((report_id, line), ()))
        yield (2 << KIND_SHIFT) | rowid, index_text(level3), index_text(body)
    for rowid, *f in conn.execute(f"select rowid, message, expected, actual from findings where {ids}", [chunk]):
        yield (3 << KIND_SHIFT) | rowid, "", index_text(join_fields(*f))


# ---------------------------------------------------------------- one report's documents (build workers)
# The same documents as :func:`documents`, computed from one report's rows before they are
# written (in the build's worker processes, jixiao.publish): the writer then only gives each its
# rowid (:func:`rowids`) and inserts it, instead of reading every row back and folding it in the
# one process that writes the database.

KIND_ROWS = ("sections", "source_tables", "indicators", "findings")  # the table whose rowid a kind's rowid holds
_NEEDS = {"sections": ("heading", "body"), "source_tables": ("table_seq",),
          "indicators": ("line", "level3", "level1", "level2", "target", "actual", "note", "standard"),
          "findings": ("message", "expected", "actual"), "table_cells": ("table_seq", "row", "col", "line", "text")}


def report_documents(sql: dict[str, list[tuple]], columns: dict[str, tuple[str, ...]]):
    """One report's search documents from its rows (``sql``: table → value tuples, ``columns``:
    table → column names in that order), as ``(kind number, n, row, heading, body)``: the document
    belongs to the report's ``n``-th row of ``KIND_ROWS[kind]`` (and, for a table row, to its
    row ``row``). None when the rows do not hold what the documents need (the build then
    indexes from the tables, :func:`create_index`). The same documents as :func:`documents`
    would read back for this report (tests/test_search.py says so)."""
    at = {}
    for name, needs in _NEEDS.items():
        cols = columns.get(name)
        if cols is None or name not in sql or not set(needs) <= set(cols):
            return None
        at[name] = [cols.index(c) for c in needs]
    out = []
    h, b = at["sections"]
    for n, r in enumerate(sql["sections"]):
        out.append((0, n, 0, index_text(r[h]), index_text(r[b])))
    ind = [tuple(r[i] for i in at["indicators"]) for r in sql["indicators"]]
    on_line = {r[0] for r in ind if r[0] is not None}
    (q,) = at["source_tables"]
    tables = {r[q]: n for n, r in enumerate(sql["source_tables"])}
    seq_i, row_i, col_i, line_i, text_i = at["table_cells"]
    grouped: dict[tuple, list] = {}
    for r in sorted(sql["table_cells"], key=lambda r: (r[seq_i], r[row_i], r[col_i])):
        grouped.setdefault((r[seq_i], r[row_i]), []).append(r)
    absorbed: dict[int, list[str]] = {}  # line → cells of an indicator's row
    for (table_seq, row), cells in grouped.items():
        lines = [c[line_i] for c in cells if c[line_i] is not None]
        first_line = min(lines) if lines else None
        texts = [c[text_i] for c in cells if c[text_i]]
        n = tables.get(table_seq)
        if first_line in on_line:
            absorbed[first_line] = texts
        elif texts and n is not None and row < (1 << ROW_BITS):
            out.append((1, n, row, "", index_text(join_fields(*texts))))
    for n, (line, level3, *f) in enumerate(ind):
        out.append((2, n, 0, index_text(level3), index_text(join_fields(*f, *absorbed.get(line, ())))))
    for n, r in enumerate(sql["findings"]):
        out.append((3, n, 0, "", index_text(join_fields(*(r[i] for i in at["findings"])))))
    return out


def rowid(kind: int, table_rowid: int, row: int = 0) -> int:
    """The index rowid of a document of this kind on the row ``table_rowid`` of ``KIND_ROWS[kind]``."""
    if kind == 0:
        return table_rowid
    if kind == 1:
        return (1 << KIND_SHIFT) | (table_rowid << ROW_BITS) | row
    return (kind << KIND_SHIFT) | table_rowid


def begin_index(conn) -> None:
    """Create the (empty) search index before the rows are written; :func:`add_documents` fills
    it as the build goes, :func:`finish_index` ends it."""
    conn.execute(f"create virtual table {FTS_TABLE} using fts5({', '.join(FTS_COLUMNS)}, content='', "
                 "tokenize='unicode61', detail=none, columnsize=0)")
    # No incremental merging during the load (~20 % of the insert time): one 'optimize' at the
    # end merges everything; then the default again, for the incremental updates that follow.
    conn.execute(f"insert into {FTS_TABLE}({FTS_TABLE}, rank) values ('automerge', 0)")


def add_documents(conn, docs) -> None:
    """Insert ``(rowid, heading, body)`` documents. FTS5 writes its pending terms out as a new
    segment whenever a rowid is lower than the one before, so they go in rowid order (the caller
    gathers several reports' documents: each report's sections come before its tables …)."""
    conn.executemany(_INSERT, sorted(docs, key=lambda d: d[0]))


def finish_index(conn) -> None:
    conn.execute(f"insert into {FTS_TABLE}({FTS_TABLE}) values ('optimize')")
    conn.execute(f"insert into {FTS_TABLE}({FTS_TABLE}, rank) values ('automerge', 4)")


_INSERT = f"insert into {FTS_TABLE}(rowid, {', '.join(FTS_COLUMNS)}) values (?, ?, ?)"


def create_index(conn) -> None:
    """Create and fill the search index in one pass over the published tables (a full build
    whose rows did not bring their documents, see :func:`report_documents`)."""
    begin_index(conn)
    conn.executemany(_INSERT, documents(conn))
    finish_index(conn)


def drop_reports(conn, report_ids) -> None:
    """Remove these reports' documents from the index; call while their rows are still in the tables."""
    conn.executemany(f"insert into {FTS_TABLE}({FTS_TABLE}, rowid, {', '.join(FTS_COLUMNS)}) "
                     "values ('delete', ?, ?, ?)", list(documents(conn, list(report_ids))))


def index_reports(conn, report_ids) -> None:
    """Add these reports' documents (their rows already written) to the index."""
    conn.executemany(_INSERT, documents(conn, list(report_ids)))


def indexed_documents(conn) -> int:
    """How many documents the index holds, as of its last committed transaction (FTS5 writes its
    totals out with the transaction). A contentless index without document lengths cannot be
    scanned (``count(*)`` is refused), so this reads FTS5's own total: the first varint of its
    averages record (row 1 of ``sections_fts_data``; SQLite's varint format)."""
    block = conn.execute(f"select block from {FTS_TABLE}_data where id = 1").fetchone()
    if block is None:
        return 0
    value = 0
    for i, byte in enumerate(block[0][:9]):
        if i == 8:
            return (value << 8) | byte
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value
    return value


def _snippet_sql(q, *fields) -> str:
    return snippet(join_fields(*fields), q)


def register_functions(conn) -> None:
    """The SQL functions the search queries use: ``escape_fts``, ``search_snippet(q, field…)``,
    ``search_score(q, field…)`` and ``jixiao_text`` (the compressed table grids, jixiao/textstore.py)."""
    from . import textstore
    from .search_rank import scorer  # it builds on this module

    textstore.ensure(conn)

    conn.create_function("escape_fts", 1, escape_fts_cjk, deterministic=True)
    # `cast(body as blob)` gives the text's bytes in the database's encoding (UTF-16 since the build
    # stores text that way, jixiao/database.py; UTF-8 in an older file)
    encoding = conn.execute("pragma encoding").fetchone()[0]
    conn.create_function("search_score", -1, scorer(encoding), deterministic=True)
    conn.create_function("search_snippet", -1, _snippet_sql, deterministic=True)
