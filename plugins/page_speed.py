"""What keeps Datasette's own pages fast under this site (issue 16.3: every page's p95 ≤ 50 ms).

* The rows of table and query pages are written by :func:`table_rows` and :func:`query_rows`,
  Jinja globals that templates/_table.html and templates/query.html call: the same HTML as a
  template loop over the cells, in one Python pass. A table page shows 50 rows × up to ~40
  columns, ~2,000 cells, and Jinja's async rendering spent several steps on each (BENCHMARKS.md,
  "seventh pass").
* The immutable database is read through a memory map (``pragma mmap_size``): SQLite's own page
  cache is 2 MB a connection, so a query that seeks into thousands of rows (a common word's
  ``?_search=`` count, a facet) otherwise copied every page in from the OS with a system call; the
  map reads them in place and is shared by the threads and processes that serve the file. Only
  for immutable files: a file changed under a map (a live database's checkpoint) can fault.
* The facet counts of a table page without filters, on the immutable database, are counted
  once per process and kept (:class:`UnfilteredColumnFacet`), as Datasette itself keeps such a
  page's row count in the inspect file: they cannot change while the file is served. A facet
  counts every row of its table (5 facets over 230 k indicators at 10,000 reports), so the
  table's first page grew with the corpus. A page with any filter, search or ``_where`` counts
  its rows each time, as before.
* A page filtered by values of facet columns (``?verdict=未达成&lost_points=1``, clicks on
  facets) gets its row count and its facets' counts as sums over the facet counts the build
  writes (jixiao/facet_counts.py), when it kept them for that table and those columns; any other
  filter is counted as before (:class:`_CubeCounts`, :func:`count_rows_not_columns`).
* A filtered page's row count decodes no column: Datasette 1.0a41 counts ``select count(*) from (select *
  from t where … limit 10001)``, which decodes every column of up to 10,001 rows, bodies and grids
  included, though only their number is used. The count now runs over ``select 1`` of the same
  rows (:func:`count_rows_not_columns`), which SQLite answers from the filter's index alone:
  ``/jixiao/indicators?verdict=未达成`` at 10,000 reports 13.0 → 0.4 ms, ``?_search=调解`` on
  sections 20.7 → 10.8 ms. The same number (tests/test_page_speed.py). A sections search that
  walks the key's index for its page is counted by looking its hits up
  (jixiao/search_queries.py ``for_counting``).
* In a server process (``freeze_gc`` in the site's plugin configuration, which jixiao/serve.py
  sets for `jixiao serve` only), every object held after startup (Datasette, templates,
  vocabularies, schema) is moved out of the cycle collector's reach (``gc.freeze``): a full
  collection otherwise walked them all, and one page view in every few paid 30–60 ms for it,
  which set the p95. Not in tests and scripts, which start many Datasettes in one process: frozen
  objects in reference cycles are never freed.
"""
import dataclasses
import gc
import re
import weakref
from collections import OrderedDict
from functools import lru_cache

from datasette import hookimpl
from datasette.facets import ColumnFacet
from datasette.database import Database, QueryInterrupted
from datasette.utils import escape_sqlite, to_css_class
from datasette.views.table_extras import CountExtra
from markupsafe import Markup, escape

from jixiao import facet_counts
from jixiao.search_queries import for_counting
from jixiao.serve import site_config


@lru_cache(maxsize=4096)
def css_class(name) -> str:
    return to_css_class(str(name))


def _tr(attrs: str, cells: list[str]) -> str:
    return f"<tr{attrs}>{''.join(cells)}</tr>\n"


def table_rows(display_rows) -> Markup:
    """The <tr>s of a table page (Datasette's display rows: cells with column, value_type, value)."""
    out = []
    for row in display_rows:
        attrs = ""
        if row.pk_path is not None:
            attrs = f' data-row="{escape(row.row_path)}"'
            if row.row_label:
                attrs += f' data-row-label="{escape(row.row_label)}"'
        out.append(_tr(attrs, [f'<td class="col-{css_class(c["column"])} type-{c["value_type"]}">{escape(c["value"])}</td>'
                               for c in row]))
    return Markup("".join(out))


def query_rows(columns, display_rows) -> Markup:
    """The <tr>s of a query page (display rows: one display value per column)."""
    classes = [css_class(c) for c in columns]
    return Markup("".join(_tr("", [f'<td class="col-{k}">{escape(v)}</td>' for k, v in zip(classes, row)])
                          for row in display_rows))


class _KeptCounts:
    """The Datasette a facet uses, with ``execute`` answering a query it has answered before from
    what it kept (the query of an unfiltered page's facet on an immutable file: a fixed result)."""

    LIMIT = 512  # results kept per process: tables × faceted columns × facet sizes asked for

    def __init__(self, datasette, kept: OrderedDict):
        self._datasette, self._kept = datasette, kept

    def __getattr__(self, name):
        return getattr(self._datasette, name)

    async def execute(self, database, sql, params=None, **kwargs):
        key = (database, sql)
        if key in self._kept:
            self._kept.move_to_end(key)
            return self._kept[key]
        results = await self._datasette.execute(database, sql, params, **kwargs)
        self._kept[key] = results
        while len(self._kept) > self.LIMIT:
            self._kept.popitem(last=False)
        return results


_KEPT: "weakref.WeakKeyDictionary[object, OrderedDict]" = weakref.WeakKeyDictionary()


def kept_counts(datasette) -> OrderedDict:
    """The counts kept for one running Datasette (gone with it)."""
    kept = _KEPT.get(datasette)
    if kept is None:
        kept = _KEPT[datasette] = OrderedDict()
    return kept


def whole_table(sql: str, table: str) -> bool:
    """``sql`` is ``select … from table``: no filter, search or _where."""
    sql = sql.strip()
    return sql.startswith("select ") and sql.endswith(f" from {escape_sqlite(table)}")


def unfiltered(facet) -> bool:
    """The facet is of a whole table of an immutable database: no filter, search or _where."""
    db = facet.ds.databases.get(facet.database)
    return (db is not None and not db.is_mutable and facet.table is not None and not facet.params
            and whole_table(facet.sql, facet.table))


# Datasette 1.0a41's facet query (datasette/facets.py ColumnFacet.facet_results), and the where
# clause of its exact filters (`"column" = :p0 and "other" = :p1`, datasette/filters.py)
_FACET_SQL = re.compile(r"\s*select (.+?) as value, count\(\*\) as count from \(\s*(.*?)\s*\)\s*"
                        r"where \1 is not null\s*group by \1 order by count desc, value limit (\d+)\s*", re.S)
_EQUALS = re.compile(r'"([^"]+)" = :(p\d+)')


def equality_filters(where: str, params) -> list[str] | None:
    """The columns of a where clause that is only ``"column" = :pN`` filters joined by ``and``,
    each parameter used once (a page reached by clicks on facet values), or None."""
    terms = where.strip().split(" and ")
    matches = [_EQUALS.fullmatch(t) for t in terms]
    if not where.strip() or not all(matches) or sorted(m.group(2) for m in matches) != sorted(params or {}):
        return None
    return [m.group(1) for m in matches]


def filtered_where(sql: str, table: str) -> str | None:
    """The where clause of ``select … from table where …`` (a facet's SQL) or of ``from table
    where …`` (a count's), or None."""
    head, sep, where = sql.rpartition(f"from {escape_sqlite(table)} where ")
    return where if sep and (not head.strip() or head.startswith("select ") and head.endswith(" ")) else None


_CUBES: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()


async def kept_cubes(datasette, database: str) -> dict:
    """{table: its counted columns} of the database's facet counts (jixiao/facet_counts.py), read
    once per process: a change in place moves counts, not tables or columns."""
    known = _CUBES.setdefault(datasette, {})
    if database not in known:
        db = datasette.databases.get(database)
        known[database] = await db.execute_fn(facet_counts.kept) if db is not None and not db.is_memory else {}
    return known[database]


async def answerable(datasette, database: str, table: str, where: str | None, params) -> bool:
    """Can the build's facet counts answer for a page of ``table`` with this where clause: only
    equality filters, all on columns the table's facet counts hold?"""
    columns = equality_filters(where, params) if where is not None else None
    if not columns:
        return False
    kept = (await kept_cubes(datasette, database)).get(table)
    return bool(kept) and set(columns) <= set(kept)


class _CubeCounts:
    """The Datasette a facet uses on a page of a whole table or filtered by values of facet
    columns: its facet query answered from the build's facet counts (same rows, same order) when
    they hold its column. A whole table's page of a live (mutable) file, whose facets are not
    kept, then no longer counts every row on each view."""

    def __init__(self, datasette, table: str, sql: str):
        self._datasette, self._table, self._sql = datasette, table, sql.strip()
        self._where: dict = {}  # database → the page's where clause over the counts, or None

    def __getattr__(self, name):
        return getattr(self._datasette, name)

    async def _counted_where(self, database, params) -> str | None:
        """Worked out once for the page's facets (the same SQL and parameters for each)."""
        if database not in self._where:
            where = "1" if not params and whole_table(self._sql, self._table) else filtered_where(self._sql, self._table)
            if where != "1" and not await answerable(self._datasette, database, self._table, where, params):
                where = None
            self._where[database] = where
        return self._where[database]

    async def execute(self, database, sql, params=None, **kwargs):
        match = _FACET_SQL.fullmatch(sql)
        if match and match.group(2) == self._sql:
            where = await self._counted_where(database, params)
            column = next((c for c in (await kept_cubes(self._datasette, database)).get(self._table, ())
                           if escape_sqlite(c) == match.group(1)), None)
            if where is not None and column is not None:
                return await self._datasette.execute(
                    database, facet_counts.facet_sql(self._table, where, column, int(match.group(3))),
                    params, **kwargs)
        return await self._datasette.execute(database, sql, params, **kwargs)


_ROWS_SQL = re.compile(r"select (?P<columns>.+) from (?P<table>\S+) where (?P<where>.+?) "
                       r"order by (?P<order>[^()]+?) limit (?P<limit>\d+)", re.S)
_TABLE_ROWS: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()


async def dense_rows_hint(db, sql: str, params) -> str:
    """A table page's rows query, filtered by values of facet columns and in key order, with its
    filters marked as matching most rows (SQLite's ``likelihood``) when they match enough of them:
    SQLite then walks the key's index and stops at the page's last row, instead of fetching every
    matching row through a filter column's index and sorting them all by the key (``?verdict=
    未达成`` at 10,000 reports: 77 k rows, 9 ms → 0.3 ms; with ``&lost_points=1`` 45 → 0.5 ms).
    The planner cannot tell: without STAT4 it knows the average rows a value, not this value's.
    Enough: ``matches² ≥ rows × limit``, so the walk reads at most √(rows × limit) rows (3,400
    for 231 k indicators), where the sort would have read at least as many. Same rows, same
    order; any other query is returned as it is."""
    match = _ROWS_SQL.fullmatch(sql.strip())
    if not match or db.ds is None:
        return sql
    table = next((t for t in await kept_cubes(db.ds, db.name) if escape_sqlite(t) == match["table"]), None)
    if table is None or not await answerable(db.ds, db.name, table, match["where"], params):
        return sql
    if match["order"].strip() != ", ".join(escape_sqlite(pk) for pk in await db.primary_keys(table)):
        return sql
    known = _TABLE_ROWS.setdefault(db, {})
    if table not in known:
        known[table] = (await db.execute(f"select sum(count) from [{facet_counts.cube_name(table)}]")).first()[0] or 0
    rows = known[table]
    if not rows:
        return sql
    matches = (await db.execute(facet_counts.count_sql(table, match["where"], rows), params)).first()[0]
    if matches * matches < rows * int(match["limit"]):
        return sql
    hinted = " and ".join(f"likelihood({term}, 0.9)" for term in match["where"].strip().split(" and "))
    return f"select {match['columns']} from {match['table']} where {hinted} order by {match['order']} limit {match['limit']}"


_execute = Database.execute


async def execute_rows_hinted(self, sql, params=None, truncate=False, **kwargs):
    """Datasette's ``Database.execute``; a table page's rows query (``truncate=True``) passes
    through :func:`dense_rows_hint` first."""
    if truncate and not self.is_memory:
        sql = await dense_rows_hint(self, sql, params)
    return await _execute(self, sql, params, truncate, **kwargs)


execute_rows_hinted.wraps_datasette = True
if not getattr(_execute, "wraps_datasette", False):  # a second import of this file wraps nothing
    Database.execute = execute_rows_hinted


class UnfilteredColumnFacet(ColumnFacet):
    """Datasette's column facet; on an unfiltered page of an immutable file its counts are kept;
    on a page of a whole table or filtered by values of facet columns they come from the build's
    facet counts where it kept them."""

    def __init__(self, ds, *args, **kwargs):
        super().__init__(ds, *args, **kwargs)
        if self.table is None:
            return
        counts = _CubeCounts(ds, self.table, self.sql)
        # a whole table's facet on the immutable file: counted once (from the build's counts where
        # it kept them, so the first view is as quick) and kept; any other from the counts or live
        self.ds = _KeptCounts(counts, kept_counts(ds)) if unfiltered(self) else counts


@hookimpl(hookwrapper=True)
def register_facet_classes():
    outcome = yield
    outcome.force_result([[UnfilteredColumnFacet if c is ColumnFacet else c for c in classes]
                          for classes in outcome.get_result()])


_count = CountExtra.resolve


async def count_rows_not_columns(self, context):
    """Datasette's row count (its inspect-file shortcut, ``_nocount``, time limit), of rows that
    carry no column: its SQL becomes ``select count(*) from (select * from (select 1 from t where …)
    limit 10001)``, which SQLite flattens to the inner select. A page filtered by values of facet
    columns is counted from the build's facet counts, up to the same limit."""
    if context.count_sql and not context.nocount:
        where = filtered_where(context.from_sql, context.table_name)
        if await answerable(context.datasette, context.database_name, context.table_name, where,
                            context.from_sql_params):
            sql = facet_counts.count_sql(context.table_name, where, context.db.count_limit + 1)
            try:
                return (await context.db.execute(sql, context.from_sql_params)).first()[0]
            except QueryInterrupted:
                return None
    from_sql = f"from (select 1 {for_counting(context.from_sql)})"
    return await _count(self, dataclasses.replace(context, from_sql=from_sql))


count_rows_not_columns.wraps_datasette = True
if not getattr(_count, "wraps_datasette", False):  # a second import of this file wraps nothing
    CountExtra.resolve = count_rows_not_columns


MMAP_BYTES = 1 << 40  # the whole file: SQLite caps it at its compile-time limit (2 GB by default)


@hookimpl
def prepare_connection(conn, database, datasette):
    db = datasette.databases.get(database)
    if db is not None and not db.is_mutable and not db.is_memory:
        conn.execute(f"pragma mmap_size = {MMAP_BYTES}")


def static_urls(static):
    """Datasette's template function ``static(path)``, remembered per path: it resolves the file's
    real path on every call (two ``Path.resolve()``, a ``stat`` a path component) to add the hash
    it has already cached, ~12 times per table page. Only where Datasette caches that hash
    (``cache_headers``: not under ``--reload``, where a static file may change)."""
    @lru_cache(maxsize=256)
    def remembered(path, plugin=None, mount=None):
        return static(path, plugin=plugin, mount=mount)
    return remembered


@hookimpl
def prepare_jinja2_environment(env, datasette):
    env.globals.update(table_rows=table_rows, query_rows=query_rows)
    if datasette.cache_headers and "static" in env.globals:
        env.globals["static"] = static_urls(env.globals["static"])


def freezes_gc(datasette) -> bool:
    return bool(site_config(datasette).get("freeze_gc"))


@hookimpl
def startup(datasette):
    if not freezes_gc(datasette):
        return None

    async def freeze():
        gc.collect()
        gc.freeze()

    return freeze
