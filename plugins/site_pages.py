"""The site's own pages: home, comparison, downloads, data dictionary and API.

Pages that show query results run the stored queries of ``datasette.yml`` (same SQL, same
parameters), so every chart has a ``/jixiao/<query>.json`` and ``.csv`` twin.
"""
import json
import numbers
import re
import urllib.parse

from datasette import hookimpl
from datasette.utils import named_parameters
from markupsafe import Markup, escape

from jixiao import charts, schema
from jixiao.views import SOURCE_TABLE_NAMES
from jixiao.pages import (  # noqa: F401
    DB, once_per_database, query_config, render, report_url, rows, run_stored, table_count, twin_urls)

COMPARISONS = (  # (query, heading) in page order
    ("compare_units", "关键指标并列对比"),
    ("three_public", "三公经费分项及同比增减"),
    ("execution_rate_ranking", "预算执行率排名"),
    ("scores_vs_completion", "自评得分与指标完成情况"),
    ("indicator_across_units", "同一指标跨单位对比"),
    ("unit_over_years", "单位历年变化"),
)
# Columns naming the source table a figure was read from: shown by the table's Chinese name.
# Columns that name a source table: shown by the table's name (their labels come from the schema).
SOURCE_COLUMNS = ("source", "three_public_source")
GAP_COLUMNS = ("score_gap",)  # differences sorted by size (static/sortable.js reads data-sort-value)
COMPARE_ROWS = 50  # rows of each comparison shown on /compare (the rest: the twins, paged by ?page=)
UNIT_CHOICES = 300  # units listed in the /compare selects; beyond that, type a name (suggested)
UNIT_SEPARATORS = re.compile("[,，、]")


# ---------------------------------------------------------------- charts (ECharts options: jixiao/charts.py)


def comparison_charts(name, data):
    """The charts of one comparison's rows (a list: figures of different units get their own chart)."""
    label = [f"{r['unit_name']} {r['fiscal_year']}" for r in data]
    if name == "compare_units":
        return [charts.horizontal_bars(label, [("全年预算数", [r["full_year_budget"] for r in data]),
                                               ("全年执行数", [r["executed"] for r in data])],
                                       "全年预算数与执行数", "万元")]
    if name == "three_public":
        units = list(dict.fromkeys(f"{r['unit_name']} {r['fiscal_year']}" for r in data))
        cats = [c for c in dict.fromkeys(r["category"] for r in data) if c != "三公经费合计"]
        by = {(f"{r['unit_name']} {r['fiscal_year']}", r["category"]): r for r in data}
        series = [(c, [(by.get((u, c)) or {}).get("final") for u in units]) for c in cats]
        return [charts.horizontal_bars(units, series, "三公经费分项：本年决算", "万元", stack=True)]
    if name == "execution_rate_ranking":
        return [charts.horizontal_bars(label, [("预算执行率", [r["execution_rate"] for r in data])],
                                       "预算执行率", "%")]
    if name == "scores_vs_completion":
        pts = [(f"{r['unit_name']} {r['fiscal_year']}", r["met_pct"], r["total_score"])
               for r in data if r["met_pct"] is not None and r["total_score"] is not None]
        if pts:
            return [charts.scatter(pts, "指标达标率（%）", "自评总分（分）", "自评总分与指标达标率")]
        return [charts.horizontal_bars(label, [("自评总分", [r["total_score"] for r in data]),
                                               ("正文所述得分", [r["stated_score"] for r in data])],
                                       "自评总分与正文所述得分", "分")]
    if name == "indicator_across_units":
        # Targets of different units (%, 件, 人次…) never share an axis: the most common unit is drawn.
        valued = [r for r in data if r["target_value"] is not None or r["actual_value"] is not None]
        units = [r["target_unit"] or "" for r in valued]
        if not units:
            return []
        unit = max(dict.fromkeys(units), key=units.count)
        rows_ = [r for r in valued if (r["target_unit"] or "") == unit]
        left = len(data) - len(rows_)
        names = [f"{r['unit_name']} {r['fiscal_year']}：{charts.short(r['level3'], 16)}" for r in rows_]
        return [charts.horizontal_bars(
            names, [("年度指标值", [r["target_value"] for r in rows_]), ("实际完成值", [r["actual_value"] for r in rows_])],
            "年度指标值与实际完成值", unit or "（无单位）", label_width=150,
            subtext=f"度量单位为“{unit or '无'}”的 {len(rows_)} 项" + (f"；其余 {left} 项见下表" if left else ""))]
    if name == "unit_over_years":
        return charts.unit_year_charts(data)
    return []


def table_body(datasette, data, columns, query=None):
    """The <tr> rows of a comparison table, as compare.html used to write them cell by cell.

    Built here in one pass: the same markup through Jinja costs a macro call per cell (~6,000
    cells on /compare), which was most of the page's time. Codes (item keys, 是/否 flags) are
    shown by their Chinese names (the zh_code filter of plugins/zh_labels.py), the code kept in
    data-code.
    """
    filters = datasette.get_jinja_environment().filters
    num, zh_code = filters["num"], filters.get("zh_code")
    na = '<span class="na">—</span>'
    coded = set()
    if zh_code and query and data:
        coded = {c for c in columns if c not in SOURCE_COLUMNS and c != "report_id"
                 and any(r[c] is not None and zh_code(r[c], query, c) != str(r[c]) for r in data)}
    out = []
    for r in data:
        cells = []
        for c in columns:
            v = r[c]
            if c in coded and v is not None and v != "":
                cells.append(f'<td data-code="{escape(v)}">{escape(zh_code(v, query, c))}</td>')
                continue
            if isinstance(v, numbers.Number):
                # digits, separators and signs only: nothing to escape
                inner = str(v) if c in ("fiscal_year", "rank", "line") else num(v)
                if c in GAP_COLUMNS:  # a gap sorts by its size: the largest disagreement first, either sign
                    cells.append(f'<td class="n" data-sort-value="{abs(v)}">{inner}</td>')
                else:
                    cells.append(f'<td class="n">{inner}</td>')
                continue
            if c == "report_id":
                inner = f'<a href="{escape(r.get("_url"))}">{escape(v)}</a>'
            elif c in SOURCE_COLUMNS and v:
                inner = f'<span class="source-table" data-source="{escape(v)}">{escape(SOURCE_TABLE_NAMES.get(v, v))}</span>'
            elif c in ("fiscal_year", "rank", "line"):
                inner = escape(v)
            elif v is None or v == "":
                inner = na
            else:
                inner = escape(num(v))
            cells.append(f"<td>{inner}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>\n")
    return Markup("".join(out))


# ---------------------------------------------------------------- pages


async def home(datasette, request):
    async def compute():
        # Every figure reads an index only; the big tables' row counts come from Datasette's cache.
        counts = (await rows(datasette, """
            select (select count(*) from reports) as reports,
                   (select count(*) from (select distinct unit_name from reports where unit_name is not null)) as units,
                   (select count(*) from (select distinct fiscal_year from reports where fiscal_year is not null)) as years,
                   (select count(*) from (select distinct city from reports where city is not null)) as cities,
                   (select min(fiscal_year) from reports) as first_year, (select max(fiscal_year) from reports) as last_year
            """))[0]
        for t in ("sections", "indicators", "findings"):
            counts[t] = await table_count(datasette, t)
        latest = await run_stored(datasette, "latest_reports", {}, limit=10)
        for r in latest:
            r["url"] = report_url(datasette, r["report_id"])
        cities = await rows(datasette, "select city, count(*) as n from reports group by city order by n desc, city")
        return {"counts": counts, "latest": latest, "cities": cities}

    # The same for every request: computed once per (immutable) database.
    return await render(datasette, request, "home.html", {
        **await once_per_database(datasette, "home", compute), "comparisons": COMPARISONS,
    })


async def compare_choices(datasette):
    """The choices of the /compare form (the same for every request: computed once per database)."""

    async def compute():
        n_units = (await rows(datasette, "select count(*) as n from (select distinct unit_name from reports "
                                         "where unit_name is not null)"))[0]["n"]
        # Every unit while there are few; beyond UNIT_CHOICES, the units with the most reports (any
        # other unit can be typed; the datalist suggests names).
        if n_units <= UNIT_CHOICES:
            units = [r["unit_name"] for r in await rows(datasette, "select distinct unit_name from reports "
                                                                   "where unit_name is not null order by 1")]
        else:
            units = sorted(r["unit_name"] for r in await rows(
                datasette, "select unit_name from reports where unit_name is not null group by unit_name "
                           "order by count(*) desc, unit_name limit :n", {"n": UNIT_CHOICES}))
        return {
            "units": units, "all_units": n_units <= UNIT_CHOICES, "n_units": n_units,
            "years": [r["fiscal_year"] for r in await rows(datasette, "select distinct fiscal_year from reports "
                                                                      "where fiscal_year is not null order by 1 desc")],
            # indicator_topics: one row per topic (a small table, or a view; jixiao/views.py)
            "topics": await rows(datasette, "select topic, reports as n from indicator_topics order by n desc, topic"),
        }

    return await once_per_database(datasette, "compare_choices", compute)


async def compare(datasette, request):
    units = [u.strip() for v in request.args.getlist("unit") for u in UNIT_SEPARATORS.split(v) if u.strip()]
    units = list(dict.fromkeys(units))
    params = {
        "units": ",".join(units), "year": request.args.get("year", ""),
        "topic": request.args.get("topic", ""), "keyword": request.args.get("keyword", ""),
        "unit": request.args.get("one_unit", ""),
    }
    sections = []
    for name, heading in COMPARISONS:
        # The first COMPARE_ROWS rows of each comparison; the rest are one click away (the twins).
        sql, args, twins = panel_query(datasette, name, params, units)
        data = [dict(r) for r in (await datasette.get_database(DB).execute(
            f"select * from (\n{sql}\n) limit {COMPARE_ROWS + 1}", args)).rows]
        more = len(data) > COMPARE_ROWS
        data = data[:COMPARE_ROWS]
        for r in data:
            if "report_id" in r:
                r["_url"] = report_url(datasette, r["report_id"])
        cfg = query_config(datasette, name)
        columns = [c for c in (data[0] if data else {}) if not c.startswith("_")]
        sections.append({
            "name": name, "heading": heading, "description": cfg.get("description", ""),
            "rows": data, "columns": columns, "body": table_body(datasette, data, columns, name),
            "more": more, "shown": len(data),
            "charts": comparison_charts(name, data) if data else [], "twins": twins,
        })
    base = await compare_choices(datasette)
    unit_choices = base["units"]
    if not base["all_units"]:
        unit_choices = sorted(set(unit_choices) | set(units) | ({params["unit"]} - {""}))
    choices = {**base, "units": unit_choices}
    return await render(datasette, request, "compare.html", {
        "sections": sections, "choices": choices, "selected": {**params, "units": units},
        "permalink": request.path + ("?" + request.query_string if request.query_string else ""),
        "units_json": datasette.urls.table(DB, "reports", format="json"),
    })


def restricted_to_units(sql):
    """A stored query's SQL over the chosen units only (:chosen_units, a JSON array of names).

    The comparisons that take no units of their own (rankings, scores, indicators) read
    ``report_summary`` and ``reports``; CTEs of those names, holding only the chosen units' rows
    (found through the unit_name indexes), shadow the tables inside the unchanged stored SQL. A
    rank is then the rank among the chosen units.
    """
    return ("with report_summary as (select * from main.report_summary\n"
            "  where unit_name in (select value from json_each(:chosen_units))),\n"
            "reports as (select * from main.reports where unit_name in (select value from json_each(:chosen_units)))\n"
            f"select * from (\n{sql}\n)")


def panel_query(datasette, name, params, units):
    """(sql, parameters, download links) of one /compare panel.

    Chosen units filter every panel: a stored query with a :units parameter takes them itself;
    the others run restricted to them (restricted_to_units). 单位历年变化 keeps the unit chosen
    for it (one_unit); without one it shows the chosen unit with the most reports.
    """
    sql = query_config(datasette, name)["sql"]
    names = named_parameters(sql)
    args = {p: str(params.get(p) or "") for p in names}
    if not units or "units" in names or (name == "unit_over_years" and params.get("unit")):
        return sql, args, twin_urls(datasette, name, params)
    sql = restricted_to_units(sql)
    args["chosen_units"] = json.dumps(units, ensure_ascii=False)
    return sql, args, sql_twin_urls(datasette, sql, args)


def sql_twin_urls(datasette, sql, args):
    """The query page, .json, .csv and Excel links of an ad-hoc SQL query with these parameters."""
    qs = urllib.parse.urlencode({"sql": sql, **args})
    base = datasette.urls.path(f"/{DB}/-/query")
    return {"page": f"{base}?{qs}", "json": f"{base}.json?{qs}&_shape=array", "csv": f"{base}.csv?{qs}",
            "excel_csv": f"{base}.csv?{qs}&_dl=1&_bom=1", "xlsx": f"{base}.xlsx?{qs}"}


async def downloads(datasette, request):
    tables = []
    for t in schema.TABLES:
        tables.append({"name": t.name, "zh": t.zh, "en": t.en, "count": await table_count(datasette, t.name)})
    # report_summary: a view, or the same rows materialised as a table (jixiao/views.py); one row per report
    tables.append({"name": "report_summary", "zh": "报告要点（视图）", "en": "Report summary (view)",
                   "count": await table_count(datasette, "reports")})
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


# ---------------------------------------------------------------- schema lookups of the immutable database


def memoise_schema_lookups():
    """Remember Datasette's schema introspection for immutable databases.

    Datasette 1.0a41 asks SQLite for every table's columns, primary keys, FTS table and foreign
    keys on every request of a query page (the sidebar and SQL editor) and on table pages: ~70
    round trips through the SQL thread pool, more than half the time of a canned query page. The
    site's database is opened immutable, so the answers cannot change while it is served; they
    are kept per Database object (mutable databases are untouched). Callers get copies.
    """
    import copy

    from datasette.database import Database

    if getattr(Database, "_jixiao_memoised", False):
        return

    def fresh(value):
        """A copy the caller may change: lists of strings and tuples (most answers) cheaply."""
        if value is None or isinstance(value, (str, int, bool, tuple)):
            return value
        if isinstance(value, list) and all(isinstance(v, (str, tuple)) for v in value):
            return list(value)
        return copy.deepcopy(value)

    for name in ("table_names", "view_names", "table_columns", "table_column_details", "primary_keys",
                 "fts_table", "label_column_for_table", "foreign_keys_for_table", "hidden_table_names",
                 "get_all_foreign_keys", "get_table_definition", "get_view_definition"):
        original = getattr(Database, name, None)
        if original is None:
            continue

        def make(original, name):
            async def memoised(self, *args, **kwargs):
                if self.is_mutable:
                    return await original(self, *args, **kwargs)
                memo = self.__dict__.setdefault("_jixiao_schema_memo", {})
                key = (name, args, tuple(sorted(kwargs.items())))
                if key not in memo:
                    memo[key] = await original(self, *args, **kwargs)
                return fresh(memo[key])

            memoised.__name__ = name
            memoised.__doc__ = original.__doc__
            return memoised

        setattr(Database, name, make(original, name))
    Database._jixiao_memoised = True


memoise_schema_lookups()


@hookimpl
def register_routes():
    return [
        (r"^/$", home),
        (r"^/compare$", compare),
        (r"^/downloads$", downloads),
        (r"^/dictionary$", dictionary),
        (r"^/api$", api),
    ]
