"""Facet counts of the table pages filtered on one value of a facet column, written by the build.

A reader's usual step on a table page is a click on a facet value: ``/jixiao/indicators?verdict=
未达成``. That page's facets count the other columns over the filtered rows, and at 10,000
reports that is a third of 230 k indicators looked up one by one: 10–50 ms a facet
(BENCHMARKS.md, "eighth pass"). The counts cannot change between builds, so the build writes
them once, like Datasette's inspect file keeps the row counts of whole tables.

``facet_counts`` holds, for a table and two of its facet columns (jixiao/schema.py
``facet=True``): the filter column *a* and the counted column *b*, the number of rows for each
(a value, b value), NULLs left out as a facet leaves them out. Only pairs worth it: *a* has at
least :data:`MIN_ROWS` rows a value on average (a smaller page counts its facets in a few
milliseconds), *b* at most :data:`MAX_VALUES` values (a facet shows 30; past that the live
count over a page is what it was). So which pairs are kept depends on the corpus: at 2,000
reports ``verdict`` filters, ``level1`` does not.

plugins/page_speed.py answers such a page's facet from here (:func:`lookup_sql`); every other
page and facet is counted as before. A full or copied build writes the table anew
(:func:`write`); a change in place moves the counts by what the changed reports took away,
counted before their rows go, and what they brought (:func:`report_counts`, :func:`apply`), in
the same transaction, so the counts always agree with the rows.
"""
from __future__ import annotations

import json

from .schema import TABLES

TABLE = "facet_counts"
MIN_ROWS = 1000  # rows per value of the filter column, on average
MAX_VALUES = 1000  # values of the counted column at most

DDL = f"""create table if not exists [{TABLE}] (
  table_name text not null,
  filter_column text not null,
  filter_value not null,
  facet_column text not null,
  facet_value not null,
  count integer not null,
  primary key (table_name, filter_column, filter_value, facet_column, facet_value)
) without rowid"""

Pair = tuple[str, str, str]  # (table, filter column, counted column)


def plan(conn) -> list[Pair]:
    """The (table, a, b) pairs worth keeping in this database (see the module's docstring)."""
    pairs = []
    for t in TABLES:
        facets = t.facets
        if len(facets) < 2:
            continue
        rows = conn.execute(f"select count(*) from [{t.name}]").fetchone()[0]
        if rows < MIN_ROWS:
            continue
        values = {c: conn.execute(f"select count(distinct [{c}]) from [{t.name}]").fetchone()[0] for c in facets}
        pairs += [(t.name, a, b) for a in facets if values[a] and rows / values[a] >= MIN_ROWS
                  for b in facets if b != a and values[b] <= MAX_VALUES]
    return pairs


def kept_pairs(conn) -> list[Pair]:
    """The pairs this database keeps (an in-place change keeps the plan of the full build); none
    in a file built before this table. plugins/page_speed.py reads them too."""
    if not conn.execute("select 1 from sqlite_master where type = 'table' and name = ?", [TABLE]).fetchone():
        return []
    return [tuple(r) for r in conn.execute(
        f"select distinct table_name, filter_column, facet_column from [{TABLE}] order by 1, 2, 3")]


Counts = dict[tuple, int]  # (table, a, a value, b, b value) → rows


def _counts(conn, pairs: list[Pair], report_ids: list[str] | None = None) -> Counts:
    """Rows per (table, a, a value, b, b value) for the pairs: one ``group by`` of a table's
    columns in pairs (~10 k groups for indicators at 2,000 reports), summed pair by pair here,
    instead of one ``group by`` per pair (72 for indicators)."""
    by_table: dict[str, list[tuple[str, str]]] = {}
    for table, a, b in pairs:
        by_table.setdefault(table, []).append((a, b))
    only = " where report_id in (select value from json_each(?))" if report_ids is not None else ""
    params = [json.dumps(report_ids, ensure_ascii=False)] if report_ids is not None else []
    out: Counts = {}
    for table, ab in by_table.items():
        cols = list(dict.fromkeys(c for pair in ab for c in pair))
        at = {c: i for i, c in enumerate(cols)}
        names = ", ".join(f"[{c}]" for c in cols)
        for row in conn.execute(f"select {names}, count(*) from [{table}]{only} group by {names}", params):
            n = row[-1]
            for a, b in ab:
                av, bv = row[at[a]], row[at[b]]
                if av is not None and bv is not None:
                    key = (table, a, av, b, bv)
                    out[key] = out.get(key, 0) + n
    return out


def write(conn) -> int:
    """(Re)write the table for a complete database; returns its row count."""
    conn.execute(f"drop table if exists [{TABLE}]")
    conn.execute(DDL)
    counts = _counts(conn, plan(conn))
    # in key order: the WITHOUT ROWID table's pages fill up instead of splitting half-empty
    conn.executemany(f"insert into [{TABLE}] values (?, ?, ?, ?, ?, ?)", [(*key, n) for key, n in sorted(
        counts.items(), key=lambda kv: tuple((type(x).__name__, x) for x in kv[0]))])
    return len(counts)


def report_counts(conn, report_ids: list[str]) -> Counts:
    """What the rows of these reports count in the kept pairs (read before they go, and after
    the new ones are in)."""
    return _counts(conn, kept_pairs(conn), report_ids)


def apply(conn, removed: Counts, added: Counts) -> None:
    """Move the kept counts by a change in place: ``removed`` taken off, ``added`` put on."""
    delta: Counts = {}
    for sign, counts in ((-1, removed), (1, added)):
        for key, n in counts.items():
            delta[key] = delta.get(key, 0) + sign * n
    if not any(delta.values()):  # nothing moved (or a file built before this table: nothing kept)
        return
    for (table, a, av, b, bv), n in delta.items():
        if n:
            conn.execute(f"insert into [{TABLE}] values (?, ?, ?, ?, ?, ?) on conflict do update "
                         "set count = count + excluded.count", [table, a, av, b, bv, n])
    conn.execute(f"delete from [{TABLE}] where count <= 0")


def lookup_sql(table: str, a: str, limit: int) -> str:
    """A facet's rows (value, count) for the page ``select * from table where "a" = :p0``, in
    the order Datasette's facet query gives them; parameters ``p0`` and ``facet``. The filter
    value is the stored one that ``"a" = :p0`` matches (a text '2024' finds the integer 2024 as
    the page's filter does); a typed column holds one such value."""
    return (f"select facet_value as value, count from [{TABLE}] "
            f"where table_name = '{table}' and filter_column = '{a}' and facet_column = :facet "
            f"and filter_value = (select [{a}] from [{table}] where \"{a}\" = :p0 limit 1) "
            f"order by count desc, value limit {int(limit)}")
