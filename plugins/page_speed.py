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
* A filtered page's row count reads no row: Datasette 1.0a41 counts ``select count(*) from (select *
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
import weakref
from collections import OrderedDict
from functools import lru_cache

from datasette import hookimpl
from datasette.facets import ColumnFacet
from datasette.utils import escape_sqlite, to_css_class
from datasette.views.table_extras import CountExtra
from markupsafe import Markup, escape

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


class UnfilteredColumnFacet(ColumnFacet):
    """Datasette's column facet; on an unfiltered page of an immutable file its counts are kept."""

    def __init__(self, ds, *args, **kwargs):
        super().__init__(ds, *args, **kwargs)
        if unfiltered(self):
            self.ds = _KeptCounts(ds, kept_counts(ds))


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
