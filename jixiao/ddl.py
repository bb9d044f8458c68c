"""The schema in SQLite: the tables, their indexes, and how rows are stored.

:func:`create_tables` writes every table of :data:`jixiao.schema.TABLES` (through sqlite-utils,
or as a WITHOUT ROWID table where one is declared clustered) and :func:`create_indexes` the
indexes the site's queries need, with the reason for each above it. A table declared
``stored_as`` (only table_cells) is kept as JSON grids, one row per source table, behind a
view with the schema's columns: ``GRID_DDL``, ``GRID_VIEW``, :func:`grid_rows` (cell rows →
grid rows) and :func:`storage_name` are that storage. :func:`sql_value` converts a row value
to what SQLite stores.
"""
from __future__ import annotations

from typing import Any

from .declarations import Field, Table
from .schema import TABLES

# Field types: the Frictionless names; SQLite affinity follows from them.
SQL_TYPES = {"string": str, "integer": int, "number": float, "boolean": int, "array": str, "object": str}

# ---------------------------------------------------------------- GRIDS: tables stored as grids
# table_cells is stored one row per source table, its cells a JSON grid: [[[text, line], …], …]
# (a row of cells; [text, line, page] in a paged source). The view of the schema's name gives
# back one row per cell with the schema's columns, so every query, page, API call and package
# reads table_cells as before. A per-report query (`where report_id = ?`) reads that report's
# grids through the key; json_each expands them.
GRID_DDL = """CREATE TABLE [{store}] (
   [report_id] TEXT NOT NULL REFERENCES [reports]([report_id]),
   [table_seq] INTEGER NOT NULL,
   [table_kind] TEXT,
   [cells] TEXT,
   PRIMARY KEY ([report_id], [table_seq])
) WITHOUT ROWID"""
GRID_VIEW = """CREATE VIEW [{name}] AS
SELECT g.report_id, g.table_seq, r.key + 1 AS [row], c.key + 1 AS col, g.table_kind,
       json_extract(c.value, '$[0]') AS [text], json_extract(c.value, '$[2]') AS page,
       json_extract(c.value, '$[1]') AS line
FROM [{store}] g, json_each(g.cells) r, json_each(r.value) c"""


def grid_rows(t: Table, rows: list[tuple]) -> list[tuple]:
    """A table's cell rows (value tuples in schema order, sorted by table, row, col as the
    extractor makes them) → its storage rows: (report_id, table_seq, table_kind, JSON grid)."""
    import json

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
        grid[r[row] - 1].append([r[text], r[line]] if r[page] is None else [r[text], r[line], r[page]])
    return [(k[0], k[1], kinds[k], json.dumps(g, ensure_ascii=False, separators=(",", ":")))
            for k, g in grids.items()]


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
            db.execute(GRID_DDL.format(store=t.stored_as))
            db.execute(GRID_VIEW.format(name=t.name, store=t.stored_as))
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
#   10,000 reports cannot be counted by kind inside facet_time_limit_ms either way).
# * composite `indexes` of a table: the lookup named next to each declaration.
def create_indexes(db: Any) -> None:
    """The indexes of every table (facet, join and lookup columns); a grid's key is its index."""
    for t in TABLES:
        if t.stored_as:
            continue
        for col in t.indexed:
            db[t.name].create_index([col], find_unique_name=True)
        for cols in t.indexes:
            db[t.name].create_index(list(cols), find_unique_name=True)


def sql_value(f: Field, value: Any) -> Any:
    """A row value as SQLite stores it (Decimal → float, lists/dicts → JSON)."""
    import json
    from decimal import Decimal

    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if f.type == "integer" else float(value)
    if f.type in ("array", "object"):
        return json.dumps(value, ensure_ascii=False)
    if f.type == "boolean":
        return int(bool(value))
    return value
