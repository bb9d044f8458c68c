"""The search page, /search: ranked hits in narratives, table rows, indicators and findings.

One bounded candidate set (at most search.CANDIDATES hits, stated on the page when reached) gives
the facets (kind of hit, year, province, city, unit) and the page of hits, whose details are
jixiao/search_queries.py DETAILS_SQL: the same rows as the stored query ``search_hits`` (the page's
.json/.csv twins), without computing the candidates a second time.
"""
import math
import sqlite3
import urllib.parse

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from jixiao import search as idx
from jixiao import search_queries as queries
from jixiao.pages import DB, render, report_url, twin_urls

SEARCH_FACET_SIZE = 10  # values listed per facet on /search (short lists: on a phone the facets come first)
SEARCH_FACETS = (("kind", "命中类型"), ("year", "年度"), ("province", "省"), ("city", "市"), ("unit", "单位"))
PARAMS = ("q", *queries.FILTERS, "page")
MAX_QUERY_CHARS = 100  # longer search words are refused (a 400 in Chinese), never run


async def search(datasette, request):
    """The search page; any input gives a page: a 400 with a Chinese message for a query too
    long, malformed or too slow (SQL time limit), never a 500."""
    params = {k: request.args.get(k, "").replace("\x00", "").strip()[:1000] for k in PARAMS}
    error, status = None, 400
    if len(params["q"]) > MAX_QUERY_CHARS:
        error = f"检索词太长：最多 {MAX_QUERY_CHARS} 个字符，请缩短后再检索。"
    else:
        try:
            if params["q"]:
                idx.check_query(idx.parse_query(params["q"]))
            return await search_page(datasette, request, params)
        except idx.QueryError as e:
            error = str(e)
            status = 200 if isinstance(e, idx.OnlyExcluded) else 400  # a fair question, not a malformed one
        except QueryInterrupted:
            error = "检索用时过长，已停止：请换用更具体的检索词或加上筛选条件。"
        except (sqlite3.Error, ValueError, OverflowError):
            error = "无法执行这个检索：请去掉特殊符号后再试。"
    html = await datasette.render_template(["search.html"], {
        "params": params, "hits": [], "facets": [], "error": error, "kind_labels": idx.KIND_LABELS,
        "filters": SEARCH_FACETS,
        "twins": twin_urls(datasette, "search_hits", params)}, request=request)
    return Response.html(html, status=status)


def _url(params, **change):
    merged = {**params, **change}
    return "?" + urllib.parse.urlencode({k: v for k, v in merged.items() if v})


async def search_page(datasette, request, params):
    hits, facets, total, pages, page = [], [], 0, 1, 1
    if params["q"]:
        args = {p: params.get(p, "") for p in ("q", *queries.FILTERS)}
        candidates = (await datasette.get_database(DB).execute(queries.CANDIDATES_SQL, args)).rows
        total = len(candidates)
        pages = max(1, math.ceil(total / queries.PAGE_SIZE))
        digits = params["page"].isascii() and params["page"].isdigit()
        page = min(max(int(params["page"]) if digits else 1, 1), pages)
        params = {**params, "page": str(page) if page > 1 else ""}
        # the rows search_hits gives (a test says so), from the candidates already fetched
        top = queries.page_of(candidates, page)
        hits = [dict(r) for r in (await datasette.get_database(DB).execute(
            queries.DETAILS_SQL, {"q": params["q"], "top": top})).rows]
        for h in hits:
            report = report_url(datasette, h["report_id"])
            h["report_url"] = report
            h["report_page_url"] = f"{report}#s-{h['seq']}" if h["kind"] == "section" else report
            h["url"] = (f"{report}#s-{h['seq']}" if h["kind"] == "section" or h["line"] is None
                        else f"{report}/source#L{h['line']}")
            h["kind_label"] = idx.KIND_LABELS[h["kind"]]
        counts = queries.facet_counts(candidates)
        for key, title in SEARCH_FACETS:
            ranked = counts[key]
            # The SEARCH_FACET_SIZE most frequent values, and the selected one wherever it ranks.
            shown = [kv for i, kv in enumerate(ranked) if i < SEARCH_FACET_SIZE or kv[0] == params[key]]
            values = [{"value": v, "label": idx.KIND_LABELS.get(v, v) if key == "kind" else v, "count": n,
                       "selected": v == params[key],
                       "url": _url(params, page="", **{key: "" if v == params[key] else v})}
                      for v, n in shown]
            if params[key] and not any(v["selected"] for v in values):  # selected, but no hit has it
                values.append({"value": params[key], "label": idx.KIND_LABELS.get(params[key], params[key]),
                               "count": 0, "selected": True, "url": _url(params, page="", **{key: ""})})
            facets.append({"key": key, "title": title, "values": values, "more": len(ranked) - len(shown)})
    return await render(datasette, request, "search.html", {
        "params": params, "hits": hits, "facets": facets, "total": total, "capped": total >= idx.CANDIDATES,
        "cap": idx.CANDIDATES, "page": page, "pages": pages, "page_size": queries.PAGE_SIZE,
        "prev_url": _url(params, page=str(page - 1)) if page > 1 else None,
        "next_url": _url(params, page=str(page + 1)) if page < pages else None,
        "kind_labels": idx.KIND_LABELS, "filters": [(k, t) for k, t in SEARCH_FACETS],
        "twins": twin_urls(datasette, "search_hits", params),
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
