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
* A page filtered by one value of a facet column (``?verdict=未达成``, a click on a facet) gets
  its facets' counts from ``facet_counts``, which the build writes (jixiao/facet_counts.py: the
  pairs worth it), when the build kept that pair; any other filter, or a pair not kept, is
  counted as before (:class:`_PairCounts`).
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


def unfiltered(facet) -> bool:
    """The facet is of a whole table of an immutable database: no filter, search or _where."""
    db = facet.ds.databases.get(facet.database)
    return (db is not None and not db.is_mutable and facet.table is not None and not facet.params
            and facet.sql.rstrip().endswith(f" from {escape_sqlite(facet.table)}"))


# Datasette 1.0a41's facet query (datasette/facets.py ColumnFacet.facet_results), and the where
# clause its exact filter writes (`"column" = :p0`)
_FACET_SQL = re.compile(r"\s*select (.+?) as value, count\(\*\) as count from \(\s*(.*?)\s*\)\s*"
                        r"where \1 is not null\s*group by \1 order by count desc, value limit (\d+)\s*", re.S)
_ONE_VALUE = re.compile(r'"([^"]+)" = :p0\s*')


def one_value_filter(facet) -> str | None:
    """The column of a page filtered by ``column = value`` and nothing else (no other filter,
    search or ``_where``), or None."""
    if facet.table is None or set(facet.params or {}) != {"p0"}:
        return None
    head, sep, where = facet.sql.rpartition(f" from {escape_sqlite(facet.table)} where ")
    match = _ONE_VALUE.fullmatch(where)
    return match.group(1) if sep and head.startswith("select ") and match else None


_PAIRS: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()


async def kept_pairs(datasette, database: str) -> set:
    """The (table, filter column, counted column) pairs the database's ``facet_counts`` holds
    (read once per process: a change in place moves counts, not pairs)."""
    known = _PAIRS.setdefault(datasette, {})
    if database not in known:
        known[database] = set(await datasette.get_database(database).execute_fn(facet_counts.kept_pairs))
    return known[database]


class _PairCounts:
    """The Datasette a facet uses on a page filtered by one value of ``column``: its facet query
    answered from ``facet_counts`` (same rows, same order) when the build kept that pair."""

    def __init__(self, datasette, table: str, sql: str, column: str):
        self._datasette, self._table, self._sql, self._column = datasette, table, sql.strip(), column

    def __getattr__(self, name):
        return getattr(self._datasette, name)

    async def execute(self, database, sql, params=None, **kwargs):
        match = _FACET_SQL.fullmatch(sql)
        if match and match.group(2) == self._sql:
            for t, a, counted in await kept_pairs(self._datasette, database):
                if (t, a) == (self._table, self._column) and escape_sqlite(counted) == match.group(1):
                    return await self._datasette.execute(
                        database, facet_counts.lookup_sql(t, a, int(match.group(3))),
                        {"p0": params["p0"], "facet": counted}, **kwargs)
        return await self._datasette.execute(database, sql, params, **kwargs)


class UnfilteredColumnFacet(ColumnFacet):
    """Datasette's column facet; on an unfiltered page of an immutable file its counts are kept,
    on a page filtered by one value they come from ``facet_counts`` where the build kept them."""

    def __init__(self, ds, *args, **kwargs):
        super().__init__(ds, *args, **kwargs)
        if unfiltered(self):
            self.ds = _KeptCounts(ds, kept_counts(ds))
        elif column := one_value_filter(self):
            self.ds = _PairCounts(ds, self.table, self.sql, column)


@hookimpl(hookwrapper=True)
def register_facet_classes():
    outcome = yield
    outcome.force_result([[UnfilteredColumnFacet if c is ColumnFacet else c for c in classes]
                          for classes in outcome.get_result()])


_count = CountExtra.resolve


async def count_rows_not_columns(self, context):
    """Datasette's row count (its inspect-file shortcut, ``_nocount``, time limit), of rows that
    carry no column: its SQL becomes ``select count(*) from (select * from (select 1 from t where …)
    limit 10001)``, which SQLite flattens to the inner select."""
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


@hookimpl
def prepare_jinja2_environment(env):
    env.globals.update(table_rows=table_rows, query_rows=query_rows)


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
