"""The site's own pages: home, search, comparison, downloads, data dictionary and API.

Pages that show query results run the stored queries of ``datasette.yml`` (same SQL, same
parameters), so every chart has a ``/jixiao/<query>.json`` and ``.csv`` twin.
"""
import urllib.parse

from datasette import hookimpl
from datasette.utils import named_parameters
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from jixiao import schema

DB = schema.DATABASE
COMPARISONS = (  # (query, heading) in page order
    ("compare_units", "关键指标并列对比"),
    ("three_public", "三公经费分项及同比增减"),
    ("execution_rate_ranking", "预算执行率排名"),
    ("scores_vs_completion", "自评得分与指标完成情况"),
    ("indicator_across_units", "同一指标跨单位对比"),
    ("unit_over_years", "单位历年变化"),
)
SEARCH_FACETS = (("unit", "unit_name", "单位"), ("year", "fiscal_year", "年度"),
                 ("city", "city", "城市"), ("section", "section", "章节"))


def query_config(datasette, name):
    q = datasette.config["databases"][DB]["queries"][name]
    return q if isinstance(q, dict) else {"sql": q}


async def run_stored(datasette, name, params):
    """Rows of a stored query; missing parameters are empty strings, as on its own page."""
    sql = query_config(datasette, name)["sql"]
    args = {p: str(params.get(p) or "") for p in named_parameters(sql)}
    results = await datasette.get_database(DB).execute(sql, args)
    return [dict(r) for r in results.rows]


async def rows(datasette, sql, params=None):
    return [dict(r) for r in (await datasette.get_database(DB).execute(sql, params or {})).rows]


def twin_urls(datasette, name, params):
    """The .json / .csv / Excel links of a stored query with these parameters."""
    sql = query_config(datasette, name)["sql"]
    qs = urllib.parse.urlencode({p: params.get(p) or "" for p in named_parameters(sql)})
    base = datasette.urls.path(f"/{DB}/{name}")
    return {
        "page": f"{base}?{qs}",
        "json": f"{base}.json?{qs}&_shape=array",
        "csv": f"{base}.csv?{qs}",
        "excel_csv": f"{base}.csv?{qs}&_dl=1&_bom=1",
        "xlsx": f"{base}.xlsx?{qs}",
    }


def report_url(datasette, report_id):
    return datasette.urls.path("/report/" + urllib.parse.quote(report_id, safe=""))


def unit_url(datasette, unit_name):
    return datasette.urls.path("/unit/" + urllib.parse.quote(unit_name, safe=""))


async def render(datasette, request, template, context):
    html = await datasette.render_template([template], context, request=request)
    return Response.html(html)


# ---------------------------------------------------------------- charts (ECharts options)


def bar_chart(categories, series, title="", horizontal=False, unit=""):
    """An ECharts option: one bar series per (name, values)."""
    value_axis = {"type": "value", "name": unit}
    cat_axis = {"type": "category", "data": categories, "axisLabel": {"interval": 0, "width": 90, "overflow": "break"}}
    return {
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 24},
        "grid": {"top": 64, "left": 16, "right": 24, "bottom": 8, "containLabel": True},
        "xAxis": value_axis if horizontal else cat_axis,
        "yAxis": cat_axis if horizontal else value_axis,
        "series": [{"name": n, "type": "bar", "data": v, "label": {"show": len(v) <= 12, "position": "right" if horizontal else "top"}}
                   for n, v in series],
    }


def line_chart(categories, series, title="", unit=""):
    option = bar_chart(categories, series, title, unit=unit)
    for s in option["series"]:
        s["type"] = "line"
    return option


def scatter_chart(points, x_name, y_name, title=""):
    """points: (label, x, y)."""
    return {
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "item"},
        "grid": {"top": 48, "left": 16, "right": 40, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "value", "name": x_name, "scale": True},
        "yAxis": {"type": "value", "name": y_name, "scale": True},
        "series": [{"type": "scatter", "symbolSize": 14,
                    "data": [{"name": n, "value": [x, y]} for n, x, y in points],
                    "label": {"show": True, "formatter": "{b}", "position": "right"}}],
    }


def comparison_charts(name, data):
    """One chart for each comparison query's rows."""
    label = [f"{r['unit_name']} {r['fiscal_year']}" for r in data]
    if name == "compare_units":
        return bar_chart(label, [("全年预算数", [r["full_year_budget"] for r in data]),
                                 ("全年执行数", [r["executed"] for r in data]),
                                 ("三公经费本年决算", [r["three_public_final"] for r in data])],
                         "资金与三公经费（万元）", unit="万元")
    if name == "three_public":
        units = list(dict.fromkeys(f"{r['unit_name']} {r['fiscal_year']}" for r in data))
        cats = [c for c in dict.fromkeys(r["category"] for r in data) if c != "三公经费合计"]
        by = {(f"{r['unit_name']} {r['fiscal_year']}", r["category"]): r for r in data}
        series = [(c, [(by.get((u, c)) or {}).get("final") for u in units]) for c in cats]
        option = bar_chart(units, series, "三公经费分项：本年决算（万元）", unit="万元")
        for s in option["series"]:
            s["stack"] = "三公"
        return option
    if name == "execution_rate_ranking":
        return bar_chart(label[::-1], [("预算执行率", [r["execution_rate"] for r in data][::-1])],
                         "预算执行率（%）", horizontal=True, unit="%")
    if name == "scores_vs_completion":
        pts = [(r["unit_name"], r["met_pct"], r["total_score"]) for r in data if r["met_pct"] is not None]
        if pts:
            return scatter_chart(pts, "指标达标率（%）", "自评总分", "自评总分与指标达标率")
        return bar_chart(label, [("自评总分", [r["total_score"] for r in data]),
                                 ("正文所述得分", [r["stated_score"] for r in data])], "自评总分与正文所述得分", unit="分")
    if name == "indicator_across_units":
        names = [f"{r['unit_name']} {r['fiscal_year']}：{r['level3'] or ''}"[:40] for r in data]
        return bar_chart(names, [("年度指标值", [r["target_value"] for r in data]),
                                 ("实际完成值", [r["actual_value"] for r in data])],
                         "年度指标值与实际完成值", horizontal=True)
    if name == "unit_over_years":
        years = [str(r["fiscal_year"]) for r in data]
        return line_chart(years, [("全年执行数（万元）", [r["executed"] for r in data]),
                                  ("三公经费（万元）", [r["three_public_final"] for r in data]),
                                  ("预算执行率（%）", [r["execution_rate"] for r in data]),
                                  ("自评总分", [r["total_score"] for r in data])], "历年变化")
    return None


# ---------------------------------------------------------------- pages


async def home(datasette, request):
    counts = (await rows(datasette, """
        select count(*) as reports, count(distinct unit_name) as units, count(distinct fiscal_year) as years,
               count(distinct city) as cities, min(fiscal_year) as first_year, max(fiscal_year) as last_year,
               (select count(*) from sections) as sections, (select count(*) from indicators) as indicators,
               (select count(*) from findings) as findings
        from reports"""))[0]
    latest = await run_stored(datasette, "latest_reports", {})
    for r in latest:
        r["url"] = report_url(datasette, r["report_id"])
    return await render(datasette, request, "home.html", {
        "counts": counts, "latest": latest[:10], "comparisons": COMPARISONS,
        "cities": await rows(datasette, "select city, count(*) as n from reports group by city order by n desc, city"),
    })


async def search(datasette, request):
    params = {k: request.args.get(k, "").strip() for k in ("q", "unit", "year", "city", "section")}
    hits, facets = [], []
    if params["q"]:
        hits = await run_stored(datasette, "search_hits", params)
        for h in hits:
            h["url"] = report_url(datasette, h["report_id"]) + f"#s-{h['seq']}"
        # Facet counts over the hits, each ignoring its own filter (like Datasette's facets).
        for key, column, title in SEARCH_FACETS:
            counts = {}
            for h in await run_stored(datasette, "search_hits", {**params, key: ""}):
                counts[h[column]] = counts.get(h[column], 0) + 1
            values = [{"value": v, "count": n, "selected": str(v) == params[key],
                       "url": "?" + urllib.parse.urlencode({**params, key: "" if str(v) == params[key] else v})}
                      for v, n in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))]
            facets.append({"key": key, "title": title, "values": values})
    return await render(datasette, request, "search.html", {
        "params": params, "hits": hits, "facets": facets, "twins": twin_urls(datasette, "search_hits", params),
    })


async def compare(datasette, request):
    units = [u for u in request.args.getlist("unit") if u]
    params = {
        "units": ",".join(units), "year": request.args.get("year", ""),
        "topic": request.args.get("topic", ""), "keyword": request.args.get("keyword", ""),
        "unit": request.args.get("one_unit", ""),
    }
    sections = []
    for name, heading in COMPARISONS:
        data = await run_stored(datasette, name, params)
        for r in data:
            if "report_id" in r:
                r["_url"] = report_url(datasette, r["report_id"])
        cfg = query_config(datasette, name)
        sections.append({
            "name": name, "heading": heading, "description": cfg.get("description", ""),
            "rows": data, "columns": [c for c in (data[0] if data else {}) if not c.startswith("_")],
            "chart": comparison_charts(name, data) if data else None, "twins": twin_urls(datasette, name, params),
        })
    choices = {
        "units": [r["unit_name"] for r in await rows(datasette, "select distinct unit_name from reports order by 1")],
        "years": [r["fiscal_year"] for r in await rows(datasette, "select distinct fiscal_year from reports order by 1 desc")],
        "topics": await rows(datasette, """select topic, count(distinct report_id) as n from indicators
                                            where topic is not null and topic != '' group by topic order by n desc, topic"""),
    }
    return await render(datasette, request, "compare.html", {
        "sections": sections, "choices": choices, "selected": {**params, "units": units},
        "permalink": request.path + ("?" + request.query_string if request.query_string else ""),
    })


async def downloads(datasette, request):
    db = datasette.get_database(DB)
    tables = []
    for t in schema.TABLES:
        n = (await db.execute(f"select count(*) from [{t.name}]")).single_value()
        tables.append({"name": t.name, "zh": t.zh, "en": t.en, "count": n})
    tables.append({"name": "report_summary", "zh": "报告要点（视图）", "en": "Report summary (view)",
                   "count": (await db.execute("select count(*) from report_summary")).single_value()})
    queries = [{"name": n, "title": (c if isinstance(c, dict) else {}).get("title", n)}
               for n, c in datasette.config["databases"][DB]["queries"].items()]
    reports = await rows(datasette, "select report_id, unit_name, fiscal_year from reports order by fiscal_year desc, unit_name")
    for r in reports:
        r["url"] = report_url(datasette, r["report_id"])
        r["zip"] = datasette.urls.path("/download/report/" + urllib.parse.quote(r["report_id"], safe="") + ".zip")
    return await render(datasette, request, "downloads.html", {"tables": tables, "queries": queries, "reports": reports})


async def dictionary(datasette, request):
    return await render(datasette, request, "dictionary.html", {"tables": schema.TABLES, "license": schema.LICENSE})


async def api(datasette, request):
    report_id = (await rows(datasette, "select report_id from reports order by fiscal_year desc, report_id limit 1"))
    example = report_id[0]["report_id"] if report_id else ""
    return await render(datasette, request, "api.html", {
        "example_report": example, "example_report_q": urllib.parse.quote(example),
        "queries": list(datasette.config["databases"][DB]["queries"]),
    })


@hookimpl
def register_routes():
    return [
        (r"^/$", home),
        (r"^/search$", search),
        (r"^/compare$", compare),
        (r"^/downloads$", downloads),
        (r"^/dictionary$", dictionary),
        (r"^/api$", api),
    ]


def highlight(snippet):
    """Escape a search snippet, then mark the 【hits】 (the brackets stay visible)."""
    text = str(escape(snippet or ""))
    return Markup(text.replace("【", "<mark>【").replace("】", "】</mark>"))


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["highlight"] = highlight
