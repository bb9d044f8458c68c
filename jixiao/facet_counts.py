"""Facet counts of filtered table pages, written by the build: one small table per large table.

A reader's usual steps on a table page are clicks on facet values: ``/jixiao/indicators?verdict=
未达成``, then ``&lost_points=1``. Each such page counts its rows and each facet column over the
filtered rows, and at 10,000 reports that is tens of thousands of indicators looked up one by one
per facet: ~50 ms a facet, 420 ms for the two-filter page (BENCHMARKS.md, "ninth pass"). The
counts cannot change between builds, so the build writes them once, as Datasette's inspect file
keeps the row counts of whole tables.

``facet_counts_<table>`` holds the rows of ``<table>`` grouped by its facet columns
(jixiao/schema.py ``facet=True``) of at most :data:`MAX_VALUES` values, with their ``count``:
every combination that occurs, NULLs included. Its columns have the table's names and types, so
any page filtered by ``column = value`` on some of them (Datasette's own where clause, reused as
it is) has its row count and its facets' counts as sums over this table: ``select verdict,
sum(count) … where "lost_points" = :p0 group by verdict``. For indicators at 10,000 reports that
is 2,402 rows for 231,592 (0.2–0.4 ms a facet). A table gets one only when it is worth it: at
least :data:`MIN_ROWS` rows, and at least :data:`MIN_SHARE` rows for each combination (reports,
with nearly one combination per report, gets none; the samples get none).

plugins/page_speed.py reads them; any other page (another kind of filter, a search, a facet of
a column not here) is counted live as before. A full or copied build writes them anew
(:func:`write`); a change in place moves the counts by what the changed reports took away,
counted before their rows go, and what they brought (:func:`report_counts`, :func:`apply`), in
the same transaction, so the counts always agree with the rows.
"""
from __future__ import annotations

import json

from .schema import TABLE_BY_NAME, TABLES

PREFIX = "facet_counts_"
MAX_VALUES = 1000  # values of a facet column at most (a facet shows 30; past that, count live)
MIN_ROWS = 10_000  # rows of the table at least (a smaller table's page counts in a few ms)
MIN_SHARE = 10  # rows of the table per combination at least


def cube_name(table: str) -> str:
    return PREFIX + table


# the tables that can have facet counts: two facet columns or more (a page filtered on one
# counts the other), and rows that belong to one report each, which a change in place moves
# report by report (the tables across reports are recomputed whole: their pages count live);
# datasette.yml hides each of these names
CANDIDATES = tuple(t.name for t in TABLES if t.per_report and len(t.facets) >= 2)


def plan(conn) -> dict[str, list[str]]:
    """{table: the columns to count} for the tables large enough, before the share is known."""
    out = {}
    for name in CANDIDATES:
        rows = conn.execute(f"select count(*) from [{name}]").fetchone()[0]
        if rows < MIN_ROWS:
            continue
        cols = [c for c in TABLE_BY_NAME[name].facets
                if conn.execute(f"select count(distinct [{c}]) from [{name}]").fetchone()[0] <= MAX_VALUES]
        if len(cols) >= 2:
            out[name] = cols
    return out


def write(conn) -> dict[str, int]:
    """(Re)write the tables for a complete database; returns {table: rows of its counts} of those
    kept (a table with fewer than MIN_SHARE rows per combination keeps none)."""
    for name in CANDIDATES:
        conn.execute(f"drop table if exists [{cube_name(name)}]")
    out = {}
    for name, cols in plan(conn).items():
        names = ", ".join(f"[{c}]" for c in cols)
        # create … as select: each column takes the affinity of the table's, so Datasette's where
        # clause compares a filter value here exactly as it does on the table
        conn.execute(f"create table [{cube_name(name)}] as select {names}, count(*) as count "
                     f"from [{name}] group by {names}")
        groups, rows = conn.execute(f"select count(*), sum(count) from [{cube_name(name)}]").fetchone()
        if groups * MIN_SHARE <= rows:
            out[name] = groups
        else:
            conn.execute(f"drop table [{cube_name(name)}]")
    return out


def kept(conn) -> dict[str, tuple[str, ...]]:
    """{table: its counted columns} for the facet counts this database holds (an in-place change
    keeps those of the full build). plugins/page_speed.py reads them too."""
    out = {}
    for name in CANDIDATES:
        cols = [r[1] for r in conn.execute(f"pragma table_info([{cube_name(name)}])")]
        if cols:
            out[name] = tuple(c for c in cols if c != "count")
    return out


Counts = dict[tuple, int]  # (table, values of its counted columns) → rows


def report_counts(conn, report_ids: list[str]) -> Counts:
    """What the rows of these reports count in the kept tables (read before they go, and after the
    new ones are in)."""
    ids = json.dumps(report_ids, ensure_ascii=False)
    out: Counts = {}
    for name, cols in kept(conn).items():
        names = ", ".join(f"[{c}]" for c in cols)
        for row in conn.execute(f"select {names}, count(*) from [{name}] "
                                f"where report_id in (select value from json_each(?)) group by {names}", [ids]):
            out[(name, row[:-1])] = row[-1]
    return out


def apply(conn, removed: Counts, added: Counts) -> None:
    """Move the kept counts by a change in place: ``removed`` taken off, ``added`` put on."""
    delta: Counts = {}
    for sign, counts in ((-1, removed), (1, added)):
        for key, n in counts.items():
            delta[key] = delta.get(key, 0) + sign * n
    cols = kept(conn)
    touched = set()
    for (name, values), n in delta.items():
        if not n:
            continue
        touched.add(name)
        cube = cube_name(name)
        # `is`, not `=`: a combination may hold NULLs
        match = " and ".join(f"[{c}] is ?" for c in cols[name])
        if not conn.execute(f"update [{cube}] set count = count + ? where {match}", [n, *values]).rowcount:
            conn.execute(f"insert into [{cube}] values ({', '.join('?' * (len(values) + 1))})", [*values, n])
    for name in touched:
        conn.execute(f"delete from [{cube_name(name)}] where count <= 0")


def facet_sql(table: str, where: str, column: str, limit: int) -> str:
    """The rows (value, count) of a facet of ``column`` on the page ``select * from table where
    {where}`` (Datasette's where clause over counted columns), in the order of Datasette's facet
    query."""
    return (f"select [{column}] as value, sum(count) as count from [{cube_name(table)}] "
            f"where ({where}) and [{column}] is not null group by [{column}] "
            f"order by count desc, value limit {int(limit)}")


def count_sql(table: str, where: str, limit: int) -> str:
    """The page's row count as Datasette counts it: the number of rows, ``limit`` at most."""
    return f"select min(coalesce(sum(count), 0), {int(limit)}) from [{cube_name(table)}] where {where}"
