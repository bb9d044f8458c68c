"""What the site's page plugins share: running the stored queries of ``datasette.yml``, the
links to a report or unit page and to a query's downloads, and rendering a template.

(Plugins in ``plugins/`` are loaded by path and cannot import one another; this module can be.)
"""
import urllib.parse

from datasette.utils import named_parameters
from datasette.utils.asgi import Response

from jixiao import schema

DB = schema.DATABASE

# The arguments of a table page fetched only for its rows (the JSON and CSV streams, the .xlsx
# following the pages): 1,000 rows a batch, no facets, no count. Not a whole page (5,000,
# max_returned_rows): with 8 downloads of the reports CSV at once at 10,000 reports, 3 of 32
# batches of 5,000 ran past sql_time_limit_ms, and Datasette then ends a CSV that has started
# with the error's text (two answered 200 with 5,001 of 10,001 lines) or answers 400. In batches
# of 1,000: 0 of 32, and p50 12.4 / 13.4 s against 14.2 / 14.8 s (BENCHMARKS.md, twelfth pass).
STREAM_BATCH = 1000


def rows_only(datasette=None) -> tuple[tuple[str, str], ...]:
    """Those arguments; the batch no larger than the site's ``max_returned_rows`` (a larger
    ``_size`` is refused)."""
    cap = datasette.setting("max_returned_rows") if datasette is not None else None
    size = min(STREAM_BATCH, cap) if cap else STREAM_BATCH
    return (("_size", str(size)), ("_nofacet", "1"), ("_nocount", "1"))


def query_config(datasette, name):
    q = datasette.config["databases"][DB]["queries"][name]
    return q if isinstance(q, dict) else {"sql": q}


async def run_stored(datasette, name, params, limit=None):
    """Rows of a stored query; missing parameters are empty strings, as on its own page.

    ``limit``: only the first rows (the query is wrapped, so SQLite stops early and no more
    rows than shown are fetched and rendered).
    """
    sql = query_config(datasette, name)["sql"]
    args = {p: str(params.get(p) or "") for p in named_parameters(sql)}
    if limit is not None:
        sql = f"select * from (\n{sql}\n) limit {int(limit)}"
    results = await datasette.get_database(DB).execute(sql, args)
    return [dict(r) for r in results.rows]


async def once_per_database(datasette, key, compute):
    """compute() once for the immutable database (its result cannot change while it is served);
    every time for a mutable one. Callers get a copy. (One memo for every page plugin: the keys
    are the plugins' own names for what they remember.)"""
    import copy

    db = datasette.get_database(DB)
    if db.is_mutable:
        return await compute()
    memo = db.__dict__.setdefault("_jixiao_page_memo", {})
    if key not in memo:
        memo[key] = await compute()
    return copy.deepcopy(memo[key])


async def table_count(datasette, table):
    """Row count of a table: Datasette's cached counts (from the inspect file for the immutable
    database), counted once when there is none."""
    db = datasette.get_database(DB)
    counts = await db.table_counts(limit=1000)
    n = counts.get(table)
    if n is None:
        n = (await db.execute(f"select count(*) from [{table}]")).single_value()
    return n


async def rows(datasette, sql, params=None):
    return [dict(r) for r in (await datasette.get_database(DB).execute(sql, params or {})).rows]


def twin_urls(datasette, name, params):
    """The .json / .csv / Excel links of a stored query with these parameters."""
    sql = query_config(datasette, name)["sql"]
    qs = urllib.parse.urlencode({p: params.get(p) or "" for p in named_parameters(sql)})
    base = datasette.urls.path(f"/{DB}/{name}")
    return {
        "page": f"{base}?{qs}",
        "json": f"{base}.json?{qs}&_stream=1",  # every row, streamed (plugins/json_stream.py)
        "csv": f"{base}.csv?{qs}",
        "excel_csv": f"{base}.csv?{qs}&_dl=1&_bom=1",
        "xlsx": f"{base}.xlsx?{qs}",
    }


def report_url(datasette, report_id):
    return datasette.urls.path("/report/" + urllib.parse.quote(report_id, safe=""))


def original_url(datasette, report_id, part, file_name):
    """/report/<id>/original/<part>/<name>: one original file of a report, as the build stored it."""
    return report_url(datasette, report_id) + f"/original/{int(part)}/" + urllib.parse.quote(str(file_name), safe="")


def unit_url(datasette, unit_name):
    return datasette.urls.path("/unit/" + urllib.parse.quote(unit_name, safe=""))


async def not_found(datasette, request, message):
    """A 404 page in Chinese (raising NotFound would redirect %-encoded paths to ~-encoding)."""
    html = await datasette.render_template(["error.html"], {"title": "未找到", "error": message, "status": 404},
                                           request=request)
    return Response.html(html, status=404)


async def render(datasette, request, template, context):
    html = await datasette.render_template([template], context, request=request)
    return Response.html(html)


UNKNOWN = "不详"  # a region part that is NULL in the data, in URLs and on pages


def part(value):
    return UNKNOWN if value is None else value


def region_url(datasette, *parts):
    """/region/<省>[/<市>[/<县>]]; a NULL part is 不详."""
    return datasette.urls.path("/region/" + "/".join(urllib.parse.quote(part(p), safe="") for p in parts))


def region_links(datasette, province, city=None, county=None):
    """[(name, url)] of a report's or unit's region, from the province down."""
    out = []
    if province is None and city is None:
        return out
    out.append((part(province), region_url(datasette, province)))
    if city is not None:
        out.append((city, region_url(datasette, province, city)))
        if county is not None:
            out.append((county, region_url(datasette, province, city, county)))
    return out
