"""Every row exactly once when a sorted table is read page by page.

Datasette 1.0a41 pages a table by its key (``_next`` = the last row's sort value and key), but
orders only the pages after the first by sort column *and* key: the first page is ``order by
fiscal_year desc`` alone, so within the year that the first page ends in, its rows come in
whatever order SQLite finds them, and the key in ``_next`` does not divide that year. The rows
of that year after the key on page 1 came again on page 2, and the rows before it never came.
Measured on /jixiao/reports (``sort_desc: fiscal_year``) at 10,000 reports: the streamed CSV had
10,860 rows for 10,000 reports in 5,000-row pages, and 10,002 rows holding 9,955 reports in
50-row pages (45 reports missing). The same held for any ``?_sort=`` on a column with repeated
values, and for the JSON stream and the .xlsx, which follow the pages.

Here the first page is ordered as the others are: the sort column, then the key. Datasette's
own ``_sort_order`` is wrapped (``datasette==1.0a41`` is pinned; the wrapper refuses to load on
a Datasette without it). Pages after the first then say the key twice, which SQLite ignores.
"""
from datasette.views import table as table_view

_original = table_view._sort_order


async def _sort_order_then_key(table_metadata, sortable_columns, request, order_by):
    # order_by arrives as the table's key order ("report_id", "rowid"; "" for a view)
    sort, sort_desc, ordered = await _original(table_metadata, sortable_columns, request, order_by)
    if (sort or sort_desc) and order_by and ordered != order_by:
        ordered = f"{ordered}, {order_by}"
    return sort, sort_desc, ordered


_sort_order_then_key.wraps_datasette = True
if not getattr(_original, "wraps_datasette", False):  # a second import of this file wraps nothing
    table_view._sort_order = _sort_order_then_key
