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
* In a server process (``freeze_gc`` in the site's plugin configuration, which jixiao/serve.py
  sets for `jixiao serve` only), every object held after startup (Datasette, templates,
  vocabularies, schema) is moved out of the cycle collector's reach (``gc.freeze``): a full
  collection otherwise walked them all, and one page view in every few paid 30–60 ms for it,
  which set the p95. Not in tests and scripts, which start many Datasettes in one process: frozen
  objects in reference cycles are never freed.
"""
import gc
from functools import lru_cache

from datasette import hookimpl
from datasette.utils import to_css_class
from markupsafe import Markup, escape


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
    return bool(((datasette.config or {}).get("plugins") or {}).get("jixiao", {}).get("freeze_gc"))


@hookimpl
def startup(datasette):
    if not freezes_gc(datasette):
        return None

    async def freeze():
        gc.collect()
        gc.freeze()

    return freeze
