"""The search page, /search: ranked hits with facets (year, region, kind of hit)."""
import sqlite3
import urllib.parse

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from jixiao.pages import render, report_url, run_stored, twin_urls

SEARCH_FACET_SIZE = 20  # values listed per facet on /search
SEARCH_FACETS = (("unit", "unit_name", "单位"), ("year", "fiscal_year", "年度"),
                 ("city", "city", "城市"), ("section", "section", "章节"))


MAX_QUERY_CHARS = 100  # longer search words are refused (a 400 in Chinese), never run


async def search(datasette, request):
    """The search page; any input gives a page: a 400 with a Chinese message for a query too
    long, malformed or too slow (SQL time limit), never a 500."""
    params = {k: request.args.get(k, "").replace("\x00", "").strip()[:1000]
              for k in ("q", "unit", "year", "city", "section")}
    error = None
    if len(params["q"]) > MAX_QUERY_CHARS:
        error = f"检索词太长：最多 {MAX_QUERY_CHARS} 个字符，请缩短后再检索。"
    else:
        try:
            return await search_page(datasette, request, params)
        except QueryInterrupted:
            error = "检索用时过长，已停止：请换用更具体的检索词或加上筛选条件。"
        except (sqlite3.Error, ValueError):
            error = "无法执行这个检索：请去掉特殊符号后再试。"
    html = await datasette.render_template(["search.html"], {
        "params": params, "hits": [], "facets": [], "error": error,
        "twins": twin_urls(datasette, "search_hits", params)}, request=request)
    return Response.html(html, status=400)


async def search_page(datasette, request, params):
    hits, facets = [], []
    if params["q"]:
        runs = {}  # the stored query once per distinct set of parameters

        async def hits_for(p):
            key = tuple(sorted(p.items()))
            if key not in runs:
                runs[key] = await run_stored(datasette, "search_hits", p)
            return runs[key]

        hits = [dict(h) for h in await hits_for(params)]
        for h in hits:
            h["url"] = report_url(datasette, h["report_id"]) + f"#s-{h['seq']}"
        # Facet counts over the hits, each ignoring its own filter (like Datasette's facets). With no
        # filter (or only one) most of these are the hits query itself, which runs only once.
        for key, column, title in SEARCH_FACETS:
            counts = {}
            for h in await hits_for({**params, key: ""}):
                counts[h[column]] = counts.get(h[column], 0) + 1
            ranked = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
            # The SEARCH_FACET_SIZE most frequent values (like Datasette's default_facet_size), and
            # the selected one wherever it ranks.
            shown = [kv for i, kv in enumerate(ranked) if i < SEARCH_FACET_SIZE or str(kv[0]) == params[key]]
            values = [{"value": v, "count": n, "selected": str(v) == params[key],
                       "url": "?" + urllib.parse.urlencode({**params, key: "" if str(v) == params[key] else v})}
                      for v, n in shown]
            facets.append({"key": key, "title": title, "values": values, "more": len(ranked) - len(shown)})
    return await render(datasette, request, "search.html", {
        "params": params, "hits": hits, "facets": facets, "twins": twin_urls(datasette, "search_hits", params),
    })


@hookimpl
def register_routes():
    return [(r"^/search$", search)]


def highlight(snippet):
    """Escape a search snippet, then mark the 【hits】 (the brackets stay visible)."""
    text = str(escape(snippet or ""))
    return Markup(text.replace("【", "<mark>【").replace("】", "】</mark>"))


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["highlight"] = highlight
