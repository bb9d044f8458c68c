"""Chinese full-text search: ``?_search=法律援助`` becomes ``("法律" AND "律援" AND "援助")``.

The index (``sections_fts``, jixiao/search.py) stores each Han run as its overlapping bigrams
(and its last character), without positions; Datasette's own ``escape_fts`` would send
``"法律援助"`` and find nothing. This plugin re-registers ``escape_fts`` on every connection (with
``A OR B``, ``-A`` and phrases, Traditional folded to Simplified), ``search_snippet`` and
``search_score`` that the stored search queries use (the index keeps no copy of the text, so
snippets and scores are made from the rows). ``trylast=True`` is required: a
plugins-dir plugin otherwise runs before Datasette's own hook and loses
(research/chinese-search.md).

It also answers ``?_search=`` on the ``sections`` table page in place of Datasette's
``fts_table`` (datasette.yml sets none for it):
Datasette's clause read every document of the index that matched, table rows, indicators and
findings included, and SQLite then fetched every hit and sorted them all for the first page
(163 ms at 10,000 reports for 调解). Here the index is read for sections only, and a common
query walks the key's index instead (jixiao/search_queries.py ``table_search_clause``). An empty
search box searches nothing (Datasette's matched no row). ``?_search_<column>=`` is refused: an
index without positions (``detail=none``) cannot tell the columns apart (Datasette's failed in SQL).
"""
from datasette import hookimpl
from datasette.filters import FilterArguments
from datasette.resources import TableResource
from datasette.utils.asgi import BadRequest

from jixiao.search import FTS_TABLE, register_functions
from jixiao.search_queries import COMMON_SHARE, common_sql, table_search_clause

SEARCHED = "sections"  # the table whose rowids are the index's section documents


@hookimpl(trylast=True)
def prepare_connection(conn):
    register_functions(conn)  # with jixiao_text: the compressed canonical texts and table grids in SQL


async def is_common(db, text: str) -> bool:
    """Does the query match at least one section in COMMON_SHARE? (max(rowid) stands for the count.)"""
    total = (await db.execute(f"select max(rowid) from {SEARCHED}")).rows[0][0] or 0
    return bool((await db.execute(common_sql("q", max(1, total // COMMON_SHARE)), {"q": text})).rows[0][0])


@hookimpl(trylast=True)  # after Datasette's search_filters, whose supports_search (False here) it replaces
def filters_from_request(request, database, table, datasette):
    if table != SEARCHED:
        return None

    async def inner():
        db = datasette.get_database(database)
        if not await db.table_exists(FTS_TABLE):
            return None
        context = {"supports_search": True}
        if any(key.startswith("_search_") for key in request.args):
            raise BadRequest("Cannot search by that column")
        text = request.args.get("_search") or ""
        if not text.strip():
            return FilterArguments([], extra_context=context)
        await datasette.ensure_permission(action="view-table", resource=TableResource(database=database, table=FTS_TABLE),
                                          actor=request.actor)
        in_key_order = not (request.args.get("_sort") or request.args.get("_sort_desc"))
        common = in_key_order and await is_common(db, text)
        return FilterArguments([table_search_clause("search", common)], {"search": text},
                               [f'search matches "{text}"'], {**context, "search": text})

    return inner
