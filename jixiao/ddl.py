"""The schema in SQLite: the tables, their indexes, and how rows are stored.

:func:`create_tables` writes every table of :data:`jixiao.schema.TABLES` (through sqlite-utils,
or as a WITHOUT ROWID table where one is declared clustered) and :func:`create_indexes` the
indexes the site's queries need, with the reason for each above it. A table declared
``stored_as`` is kept in a compact table behind a view with the schema's columns (``STORAGE``):
table_cells as JSON grids (compressed), one row per source table (``GRID_DDL``, ``GRID_VIEW``, :func:`grid_rows`:
cell rows → grid rows), shared_passages as pairs of place ids (``PAIRS_DDL``, ``PAIRS_VIEW``,
:func:`pair_rows`), passage_places as spans of the sections' bodies (``SPANS_DDL``, ``SPANS_VIEW``,
:func:`span_rows`); :func:`storage_name` names the table that holds a table's rows.
:func:`sql_value` converts a row value to what SQLite stores.
"""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Iterable, Iterator, NamedTuple

from . import textstore
from .declarations import Field, Table
from .schema import TABLES

# Field types: the Frictionless names; SQLite affinity follows from them.
SQL_TYPES = {"string": str, "integer": int, "number": float, "boolean": int, "array": str, "object": str}

# ---------------------------------------------------------------- GRIDS: tables stored as grids
# table_cells is stored one row per source table, its cells a JSON grid, a list of rows. A row whose
# cells sit on consecutive source lines (most: a text reader gives each cell its own line) is
# compact, its first cell's line then the cells' texts: [72, "编制数", "6", …]; any other row lists
# its cells, [[text, line], …] ([text, line, page] in a paged source). Compact rows took the grids
# from 25.1 to 19.3 MB at 2,000 reports (measured; 3 of 4 rows are compact). The view of the
# schema's name gives back one row per cell with the schema's columns, so every query, page, API
# call and package reads table_cells as before; json_each tells the forms apart by the type of a
# row's elements (an integer starts a compact row, an array is a listed cell). A per-report query
# (`where report_id = ?`) reads that report's grids through the key; json_each expands them. A
# rowid table, not WITHOUT ROWID: a grid (~3 KB) is larger than a WITHOUT ROWID row keeps on its
# page (~1 KB), and the rest went to part-filled overflow pages (30.4 → 25.9 MB with the key's
# index at 2,000 reports). The JSON is stored zlib-compressed like the canonical texts
# (jixiao/textstore.py; the view reads it with jixiao_text, which the site, the build and
# search.register_functions register): 24.9 → 9.9 MB at 2,000 reports. A plain JSON string
# (a database built before) is read as it is.
GRID_DDL = """CREATE TABLE [{store}] (
   [report_id] TEXT NOT NULL REFERENCES [reports]([report_id]),
   [table_seq] INTEGER NOT NULL,
   [table_kind] TEXT,
   [cells] TEXT,
   PRIMARY KEY ([report_id], [table_seq])
)"""
# json_extract rather than ->>, CASE rather than iif: the view runs on older SQLite (3.9+ with JSON1)
GRID_VIEW = """CREATE VIEW [{name}] AS
SELECT g.report_id, g.table_seq, r.key + 1 AS [row], c.key + (c.type = 'array') AS col, g.table_kind,
       CASE c.type WHEN 'array' THEN json_extract(c.value, '$[0]') ELSE c.value END AS [text],
       CASE c.type WHEN 'array' THEN json_extract(c.value, '$[2]') END AS page,
       CASE c.type WHEN 'array' THEN json_extract(c.value, '$[1]') ELSE json_extract(r.value, '$[0]') + c.key - 1 END AS line
FROM [{store}] g, json_each(jixiao_text(g.cells)) r, json_each(r.value) c
WHERE c.type <> 'integer'"""


def grid_row(cells: list[tuple]) -> list:
    """One row's cells, (text, line, page) each → its JSON form: compact when its cells sit on
    consecutive lines and no page is given, else the list of its cells."""
    first = cells[0][1] if cells else None
    if type(first) is int and all(c[2] is None and c[1] == first + i for i, c in enumerate(cells)):
        return [first, *(c[0] for c in cells)]
    return [[t, ln] if pg is None else [t, ln, pg] for t, ln, pg in cells]


def grid_rows(t: Table, rows: list[tuple]) -> list[tuple]:
    """A table's cell rows (value tuples in schema order, sorted by table, row, col as the
    extractor makes them) → its storage rows: (report_id, table_seq, table_kind, JSON grid)."""
    at = {n: i for i, n in enumerate(t.field_names)}
    rid, seq, row, kind, text, page, line = (at[n] for n in ("report_id", "table_seq", "row", "table_kind", "text",
                                                             "page", "line"))
    grids: dict[tuple, list[list]] = {}
    kinds = {}
    for r in rows:
        key = (r[rid], r[seq])
        grid = grids.setdefault(key, [])
        kinds[key] = r[kind]
        while len(grid) < r[row]:
            grid.append([])
        grid[r[row] - 1].append((r[text], r[line], r[page]))
    return [(k[0], k[1], kinds[k], textstore.pack(json.dumps([grid_row(cells) for cells in g], ensure_ascii=False,
                                                             separators=(",", ":"))))
            for k, g in grids.items()]


def grid_cells(t: Table, report_id: str, table_seq: int, table_kind: str | None, cells: bytes | str) -> list[tuple]:
    """The inverse of :func:`grid_rows`: one storage row → its cell rows (value tuples in schema
    order, by row and col), the rows the view gives, without SQLite's json_each and its sort
    (the package writer reads 850,000 cells at 2,000 reports this way in 0.75 s, 2.5 through the view)."""
    at = {n: i for i, n in enumerate(t.field_names)}
    out = []
    for i, row in enumerate(json.loads(textstore.unpack(cells)), 1):
        if row and type(row[0]) is int:  # compact: the first cell's line, then the texts
            listed = [(text, row[0] + j, None) for j, text in enumerate(row[1:])]
        else:
            listed = [(c[0], c[1], c[2] if len(c) > 2 else None) for c in row]
        for j, (text, line, page) in enumerate(listed, 1):
            values = [None] * len(at)
            values[at["report_id"]], values[at["table_seq"]], values[at["table_kind"]] = report_id, table_seq, table_kind
            values[at["row"]], values[at["col"]], values[at["text"]], values[at["line"]] = i, j, text, line
            values[at["page"]] = page
            out.append(tuple(values))
    return out


# ---------------------------------------------------------------- PAIRS: shared_passages as place ids
# shared_passages is stored as pairs of places (passage_places.place_id, numbered in report_id, line
# order), clustered on the pair; the view of the schema's name joins both places back. Ordering by
# place ids is ordering by (report_id, line), so the pages' "most similar first, then by place"
# reads straight from idx_passage_pairs_ranked. Queries that filter by report go through
# the places' (report_id, line) index (passage_spans: SPANS) to the place ids, then the key or the
# other_place_id index.
PAIRS_DDL = """CREATE TABLE [{store}] (
   [place_id] INTEGER NOT NULL REFERENCES [passage_spans]([place_id]),
   [other_place_id] INTEGER NOT NULL REFERENCES [passage_spans]([place_id]),
   [similarity] FLOAT,
   [same_unit] INTEGER,
   [is_template] INTEGER,
   PRIMARY KEY ([place_id], [other_place_id])
) WITHOUT ROWID;
CREATE INDEX [idx_{store}_other_place_id] ON [{store}] ([other_place_id]);
CREATE INDEX [idx_{store}_ranked] ON [{store}] ([is_template], [same_unit], [similarity] DESC)"""
PAIRS_VIEW = """CREATE VIEW [{name}] AS
SELECT a.passage_id, a.report_id, a.line, b.report_id AS other_report_id, b.line AS other_line,
       p.similarity, p.same_unit, p.is_template
FROM [{store}] p JOIN passage_spans a ON a.place_id = p.place_id JOIN passage_spans b ON b.place_id = p.other_place_id"""

# ---------------------------------------------------------------- SPANS: passage_places as spans of sections
# A shared paragraph's text at each of its places (passage_places.text) is a paragraph of that
# report's narrative, which its section's body already holds: 95 % of the places at 2,000 synthetic
# reports (8.4 MB of text, 11.4 MB with its pages). Such a place is stored as the section (its seq)
# and the characters of the body it spans; the view gives the text back with substr(), plain SQL
# that any SQLite reads (substr counts characters, as Python's str does). A place that no body
# holds (a paragraph read outside the sections, e.g. after a bookmark) keeps its text (kept_text).
SPANS_DDL = """CREATE TABLE [{store}] (
   [place_id] INTEGER PRIMARY KEY NOT NULL,
   [passage_id] INTEGER NOT NULL REFERENCES [passages]([passage_id]),
   [report_id] TEXT NOT NULL REFERENCES [reports]([report_id]),
   [line] INTEGER,
   [section_seq] INTEGER,
   [start] INTEGER,
   [length] INTEGER,
   [kept_text] TEXT
);
CREATE INDEX [idx_{store}_passage_id] ON [{store}] ([passage_id]);
CREATE INDEX [idx_{store}_report_id_line] ON [{store}] ([report_id], [line])"""
# The text as a subquery on the sections' key, run only where a query reads the text (a LEFT JOIN
# stayed in the plans of aggregates that do not: /copied's count of reports 386 ms at 10,000).
SPANS_VIEW = """CREATE VIEW [{name}] AS
SELECT p.place_id, p.passage_id, p.report_id, p.line,
       coalesce(p.kept_text, (SELECT substr(s.body, p.start, p.length) FROM sections s
                              WHERE s.report_id = p.report_id AND s.seq = p.section_seq)) AS [text]
FROM [{store}] p"""


def span_rows(bodies: Any, rows: list[tuple]) -> list[tuple]:
    """passage_places' rows (value tuples: place_id, passage_id, report_id, line, text) → its
    storage rows (place_id, passage_id, report_id, line, section_seq, start, length, kept_text):
    the text as the span of the first section (by seq) whose lines hold the place and whose
    body holds the text, else the text itself. ``bodies(report_id)`` gives that report's sections
    as (seq, line_start, line_end, body)."""
    out = []
    sections: list[tuple] = []
    last = None
    # by report (each one's sections read once), in place_id order within it: the key's order
    for place_id, passage_id, report_id, line, text in sorted(rows, key=lambda r: (r[2], r[0])):
        if report_id != last:
            sections, last = bodies(report_id), report_id
        span = None
        if text and line is not None:
            for seq, start, end, body in sections:
                if body and start is not None and start <= line <= (end if end is not None else start):
                    at = body.find(text)
                    if at >= 0:
                        span = (seq, at + 1, len(text))
                        break
        out.append((place_id, passage_id, report_id, line, *(span or (None, None, None)), None if span else text))
    return out


def span_texts(bodies: Any, rows: Iterable[tuple]) -> Iterator[tuple]:
    """The inverse of :func:`span_rows`: storage rows → passage_places' rows (place_id,
    passage_id, report_id, line, text), each report's sections read once (the package writer:
    through the view, one lookup of a whole body per place, 0.6 s at 2,000 reports)."""
    last, by_seq = None, {}
    for place_id, passage_id, report_id, line, section_seq, start, length, kept_text in rows:
        if kept_text is None and section_seq is not None:
            if report_id != last:
                by_seq, last = {seq: body for seq, _, _, body in bodies(report_id)}, report_id
            body = by_seq.get(section_seq)
            kept_text = body[start - 1:start - 1 + length] if body is not None else None
        yield place_id, passage_id, report_id, line, kept_text


def section_bodies(conn: Any):
    """:func:`span_rows`'s ``bodies`` on a sqlite3 connection."""
    def bodies(report_id: str) -> list[tuple]:
        return conn.execute("select seq, line_start, line_end, body from sections where report_id = ? order by seq",
                            (report_id,)).fetchall()
    return bodies


class Storage(NamedTuple):
    """A compact storage: its DDL (table and indexes), the view giving the schema's rows, and the
    number of columns of a storage row."""
    ddl: str
    view: str
    width: int


STORAGE = {"table_grids": Storage(GRID_DDL, GRID_VIEW, 4), "passage_pairs": Storage(PAIRS_DDL, PAIRS_VIEW, 5),
           "passage_spans": Storage(SPANS_DDL, SPANS_VIEW, 8)}


def pair_rows(places: dict[tuple[str, int], int], rows: list[tuple]) -> list[tuple]:
    """shared_passages' rows (value tuples in schema order) → its storage rows: (place_id,
    other_place_id, similarity, same_unit, is_template), the places given by (report_id, line)."""
    return [(places[(r[1], r[2])], places[(r[3], r[4])], r[5], r[6], r[7]) for r in rows]


def create_storage(db: Any, t: Table) -> None:
    """The storage table of ``t`` (with its indexes) and the view of ``t``'s name over it."""
    storage = STORAGE[t.stored_as]
    for statement in storage.ddl.format(store=t.stored_as).split(";"):
        db.execute(statement)
    db.execute(storage.view.format(name=t.name, store=t.stored_as))


def insert_sql(t: Table) -> str:
    """INSERT of one storage row of ``t`` (a plain table: its fields in schema order)."""
    if t.stored_as:
        return f"insert into [{t.stored_as}] values ({', '.join('?' * STORAGE[t.stored_as].width)})"
    return (f"insert into [{t.name}] ({', '.join(f'[{n}]' for n in t.field_names)}) "
            f"values ({', '.join('?' * len(t.fields))})")


def delete_reports_sql(t: Table) -> str:
    """DELETE of the rows of the reports given as a JSON array (parameter 1) from ``t``'s storage."""
    doomed = "report_id in (select value from json_each(?1))"
    if t.stored_as == "passage_pairs":  # a pair goes with either of its places
        places = f"(select place_id from passage_spans where {doomed})"
        return f"delete from [{t.stored_as}] where place_id in {places} or other_place_id in {places}"
    return f"delete from [{storage_name(t)}] where {doomed}"


def storage_name(t: Table) -> str:
    """The table that holds ``t``'s rows in SQLite."""
    return t.stored_as or t.name


def create_tables(db: Any, indexes: bool = True) -> None:
    """Create every table of the schema in a sqlite_utils.Database (which must be empty).

    ``indexes=False`` leaves the indexes to :func:`create_indexes`: the build creates them
    after the rows are in, which is several times faster than maintaining them per insert.
    """
    for t in TABLES:
        if t.stored_as:
            create_storage(db, t)
            continue
        if t.without_rowid:
            db.execute(without_rowid_ddl(t))
            continue
        db[t.name].create(
            {f.name: SQL_TYPES[f.type] for f in t.fields},
            pk=t.primary_key[0] if len(t.primary_key) == 1 else t.primary_key,
            not_null={f.name for f in t.fields if f.required or f.name in t.primary_key},
            foreign_keys=[(fk.column, fk.table, fk.other_column) for fk in t.foreign_keys],
        )
    if indexes:
        create_indexes(db)


_AFFINITY = {str: "TEXT", int: "INTEGER", float: "FLOAT"}  # as sqlite-utils names them


def without_rowid_ddl(t: Table) -> str:
    """CREATE TABLE for a clustered table: the same columns, types, NOT NULLs and references as
    sqlite-utils would write (it cannot write WITHOUT ROWID), the key as the table's B-tree."""
    refs = {fk.column: fk for fk in t.foreign_keys}
    cols = []
    for f in t.fields:
        col = f"[{f.name}] {_AFFINITY[SQL_TYPES[f.type]]}"
        if f.required or f.name in t.primary_key:
            col += " NOT NULL"
        if f.name in refs:
            col += f" REFERENCES [{refs[f.name].table}]([{refs[f.name].other_column}])"
        cols.append(col)
    cols.append(f"PRIMARY KEY ({', '.join(f'[{c}]' for c in t.primary_key)})")
    return f"CREATE TABLE [{t.name}] (\n   " + ",\n   ".join(cols) + "\n) WITHOUT ROWID"


# Why each index exists (issue 16.1: an index is there only when a query needs it; the queries are
# checked against the query plan in tests/test_indexes.py):
# * primary keys: row pages and Datasette's keyset pagination (`where pk > :p order by pk`), and
#   every per-report lookup of the report page (`where report_id = :id`) when report_id leads
#   the key. table_cells is stored one row per table (GRIDS): its key is the only index.
# * foreign-key columns not leading the key (e.g. indicators.report_id, funds.report_id): the
#   report page's `where report_id = :id` on tables keyed by evaluation_id.
# * facet columns (Field.facet / index): Datasette's facet query `select col, count(*) from t
#   group by col` reads the one-column index instead of the table (table_cells.table_kind at
#   2,000 reports: 146 ms with, 507 ms without — and it is not faceted any more: 5 M cells at
#   10,000 reports cannot be counted by kind inside facet_time_limit_ms either way). A facet
#   declared ``unindexed`` (findings.severity: three common values) has none: its counts come
#   from the build's facet counts (jixiao/facet_counts.py).
# * composite `indexes` of a table: the lookup named next to each declaration.
def create_indexes(db: Any) -> None:
    """The indexes of every table (facet, join and lookup columns); a compact storage's are in its DDL."""
    for t in TABLES:
        if t.stored_as:
            continue
        for col in t.indexed:
            db[t.name].create_index([col], find_unique_name=True)
        for cols in t.indexes:
            db[t.name].create_index(list(cols), find_unique_name=True)


def sql_value(f: Field, value: Any) -> Any:
    """A row value as SQLite stores it (Decimal → float, lists/dicts → JSON). Called for every value
    of the tables across reports (1.3 M at 2,000 reports): its imports are the module's, since an
    import inside it cost 2.5 µs a call, 20× the rest."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if f.type == "integer" else float(value)
    if f.type in ("array", "object"):
        return json.dumps(value, ensure_ascii=False)
    if f.type == "boolean":
        return int(bool(value))
    return value
