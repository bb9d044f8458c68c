"""One page per report (/report/<report_id>) and per unit (/unit/<unit_name>).

The narrative is rendered from the section tree as plain paragraphs: one ``<p>`` per source
line, HTML-escaped, with no markup language in between. (It used to go through ``markdown``,
which turned ``[x](javascript:…)``, ``![x](…)``, reference links and ``data:`` URLs in a report
into live links and images — stored XSS. Report text has no markup to keep.)

Chart options go into ``<script type="application/json">`` blocks through the ``chart_json``
filter, which escapes ``<``, ``>`` and ``&`` as JSON ``\\u003c`` … so no name in the data can
open a comment or a tag inside the block (what Django's ``json_script`` does).
"""
import html
import json
import urllib.parse

from datasette import hookimpl
from datasette.utils.asgi import Response

from jixiao import schema

DB = schema.DATABASE
# The JSON in a <script> block must not hold "<" (no "</script", no "<!--"), ">" or "&".
_JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def paragraph_html(line):
    """One source line as an inert paragraph: escaped text, no links, images or other markup."""
    return f"<p>{html.escape(line.strip())}</p>"


def chart_json(option):
    """An ECharts option as JSON that is safe inside <script type="application/json">."""
    return json.dumps(option, ensure_ascii=False).translate(_JSON_SCRIPT_ESCAPES)


def narrative_html(sections, source_url=""):
    """HTML of the narrative: one anchored heading per section, its body as paragraphs."""
    parts = []
    for s in sections:
        if s["level"] and (s["heading"] or s["number"]):
            level = min(6, 2 + s["level"])
            title = html.escape(f"{s['number'] or ''}{s['heading'] or ''}")
            parts.append(f'<h{level} id="s-{s["seq"]}" class="section-heading">{title}'
                         f' <a class="anchor" href="#s-{s["seq"]}" aria-label="本节链接">§</a>'
                         f' <a class="lines" href="{html.escape(source_url)}#L{s["line_start"]}">'
                         f'第 {s["line_start"]}–{s["line_end"]} 行</a></h{level}>')
        else:
            parts.append(f'<a id="s-{s["seq"]}"></a>')
        parts.extend(paragraph_html(ln) for ln in (s["body"] or "").split("\n") if ln.strip())
    return "\n".join(parts)


def table_grid(cells):
    """table_cells rows of one table → list of rows, each a list of cell texts."""
    grid = {}
    for c in cells:
        grid.setdefault(c["row"], {})[c["col"]] = c["text"] or ""
    width = max((max(r) for r in grid.values()), default=0)
    return [[grid[r].get(col, "") for col in range(1, width + 1)] for r in sorted(grid)]


def report_url(datasette, report_id):
    return datasette.urls.path("/report/" + urllib.parse.quote(report_id, safe=""))



async def not_found(datasette, request, message):
    """A 404 page in Chinese (raising NotFound would redirect %-encoded paths to ~-encoding)."""
    html = await datasette.render_template(["error.html"], {"title": "未找到", "error": message, "status": 404},
                                           request=request)
    return Response.html(html, status=404)

async def fetch(db, sql, params):
    return [dict(r) for r in (await db.execute(sql, params)).rows]


async def report_page(datasette, request):
    report_id = urllib.parse.unquote(request.url_vars["report_id"])
    db = datasette.get_database(DB)
    p = {"id": report_id}
    found = await fetch(db, "select * from reports where report_id = :id", p)
    if not found:
        return await not_found(datasette, request, f"没有编号为 {report_id} 的报告")
    report = found[0]
    summary = (await fetch(db, "select * from report_summary where report_id = :id", p) or [{}])[0]
    sections = await fetch(db, "select * from sections where report_id = :id order by seq", p)
    tables = await fetch(db, "select * from source_tables where report_id = :id order by table_seq", p)
    cells = await fetch(db, "select table_seq, row, col, text from table_cells where report_id = :id "
                            "order by table_seq, row, col", p)
    for t in tables:
        t["grid"] = table_grid([c for c in cells if c["table_seq"] == t["table_seq"]])
    three_public = await fetch(db, """
        select item, key, parent_item, prev_final, budget, final,
               round(final - prev_final, 4) as change,
               case when prev_final > 0 then round(100.0 * (final - prev_final) / prev_final, 2) end as change_pct,
               line
        from expense_controls where report_id = :id and item_group = 'three_public' order by seq""", p)
    evaluations = await fetch(db, "select * from evaluations where report_id = :id order by seq", p)
    findings = await fetch(db, "select * from findings where report_id = :id order by seq", p)
    staffing = (await fetch(db, "select * from staffing where report_id = :id", p) or [None])[0]
    others = await fetch(db, "select report_id, fiscal_year from reports where unit_name = :u and report_id != :id "
                             "order by fiscal_year", {"u": report["unit_name"], "id": report_id})
    for o in others:
        o["url"] = report_url(datasette, o["report_id"])
    chart = None
    if three_public:
        parts = [r for r in three_public if r["key"] != "three_public_total"][:8]
        chart = {
            "title": {"text": "三公经费：上年决算与本年决算（万元）", "left": "center", "textStyle": {"fontSize": 14}},
            "tooltip": {"trigger": "axis"}, "legend": {"top": 24},
            "grid": {"top": 64, "left": 16, "right": 24, "bottom": 8, "containLabel": True},
            "xAxis": {"type": "category", "data": [r["item"] for r in parts],
                      "axisLabel": {"interval": 0, "width": 80, "overflow": "break"}},
            "yAxis": {"type": "value", "name": "万元"},
            "series": [{"name": n, "type": "bar", "data": [r[k] for r in parts]}
                       for n, k in (("上年决算数", "prev_final"), ("本年预算数", "budget"), ("本年决算数", "final"))],
        }
    quoted = urllib.parse.quote(report_id, safe="")
    context = {
        "report": report, "summary": summary, "staffing": staffing, "three_public": three_public,
        "evaluations": evaluations, "findings": findings, "tables": tables, "others": others,
        "narrative": narrative_html(sections, report_url(datasette, report_id) + "/source"),
        "sections": sections, "chart": chart, "source_url": report_url(datasette, report_id) + "/source",
        "unit_url": datasette.urls.path("/unit/" + urllib.parse.quote(report["unit_name"] or "", safe="")),
        "zip_url": datasette.urls.path(f"/download/report/{quoted}.zip"),
        "data_links": [(schema.table(t).zh, datasette.urls.table(DB, t) + "?" + urllib.parse.urlencode({"report_id": report_id}))
                       for t in ("sections", "expense_controls", "evaluations", "indicators", "findings", "table_cells")],
        "json_url": datasette.urls.table(DB, "reports", format="json") + "?" + urllib.parse.urlencode(
            {"report_id": report_id, "_shape": "array"}),
    }
    return Response.html(await datasette.render_template(["report.html"], context, request=request))


async def source_page(datasette, request):
    """The report's canonical text, every line anchored ``#L<n>`` (what line numbers refer to)."""
    report_id = urllib.parse.unquote(request.url_vars["report_id"])
    db = datasette.get_database(DB)
    p = {"id": report_id}
    found = await fetch(db, "select * from reports where report_id = :id", p)
    if not found:
        return await not_found(datasette, request, f"没有编号为 {report_id} 的报告")
    text = (await fetch(db, "select text from source_texts where report_id = :id", p) or [{"text": ""}])[0]["text"]
    parts = await fetch(db, "select * from source_parts where report_id = :id order by part", p)
    pages = await fetch(db, "select * from source_pages where report_id = :id order by line_start", p)
    page_at = {pg["line_start"]: pg["page"] for pg in pages}
    file_at = {pt["line_start"]: pt["source_file"] for pt in parts} if len(parts) > 1 else {}
    lines = [{"n": n, "text": t.lstrip("\t"), "cell": t.startswith("\t"), "page": page_at.get(n), "file": file_at.get(n)}
             for n, t in enumerate((text or "").split("\n")[:-1] if text and text.endswith("\n") else
                                   (text or "").split("\n") if text else [], 1)]
    context = {"report": found[0], "lines": lines, "parts": parts, "paged": bool(pages),
               "report_url": report_url(datasette, report_id)}
    return Response.html(await datasette.render_template(["source.html"], context, request=request))


async def unit_page(datasette, request):
    unit = urllib.parse.unquote(request.url_vars["unit"])
    db = datasette.get_database(DB)
    years = await fetch(db, "select * from report_summary where unit_name = :u order by fiscal_year", {"u": unit})
    if not years:
        return await not_found(datasette, request, f"没有单位 {unit} 的报告")
    for y in years:
        y["url"] = report_url(datasette, y["report_id"])
    labels = [str(y["fiscal_year"]) for y in years]
    series = [("全年预算数（万元）", "full_year_budget"), ("全年执行数（万元）", "executed"),
              ("三公经费（万元）", "three_public_final")]
    chart = {
        "title": {"text": f"{unit} 历年资金与三公经费", "left": "center", "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"}, "legend": {"top": 24},
        "grid": {"top": 64, "left": 16, "right": 48, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": [{"type": "value", "name": "万元"}, {"type": "value", "name": "% / 分", "max": 100}],
        "series": [{"name": n, "type": "bar", "data": [y[k] for y in years]} for n, k in series]
        + [{"name": n, "type": "line", "yAxisIndex": 1, "data": [y[k] for y in years]}
           for n, k in (("预算执行率（%）", "execution_rate"), ("自评总分", "total_score"))],
    }
    q = urllib.parse.urlencode({"unit": unit})
    context = {
        "unit": unit, "years": years, "chart": chart,
        "twin_json": datasette.urls.path(f"/{DB}/unit_over_years.json?{q}&_shape=array"),
        "twin_csv": datasette.urls.path(f"/{DB}/unit_over_years.csv?{q}&_dl=1&_bom=1"),
        "compare_url": datasette.urls.path("/compare?" + urllib.parse.urlencode({"one_unit": unit, "unit": unit})),
    }
    return Response.html(await datasette.render_template(["unit.html"], context, request=request))


@hookimpl
def register_routes():
    return [
        (r"^/report/(?P<report_id>[^/]+)$", report_page),
        (r"^/report/(?P<report_id>[^/]+)/source$", source_page),
        (r"^/unit/(?P<unit>[^/]+)$", unit_page),
    ]


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["chart_json"] = chart_json
