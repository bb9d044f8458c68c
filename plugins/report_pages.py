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

from jixiao import charts, originals, schema
from jixiao.pages import not_found, original_url, report_url, unit_url
from jixiao.views import SOURCE_TABLE_NAMES

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


def _bare(text):
    """A cell's text as compared with a source line: no TABs, spaces or full-width spaces."""
    return "".join(str(text or "").split()).replace("\u3000", "")


def cell_line(lines, start, text, end=None, window=40):
    """The line (1-based) of the cell printing ``text`` in the row that starts at line ``start``.

    Rows keep the line they start on; each cell of a Tika-layout table is its own line below it.
    The figure links to the cell itself when it is found within the row (up to the blank line
    that ends it, at most ``window`` lines on), else to the row's first line.
    """
    if not start:
        return None
    return find_cell(lines, start, text, end, window) or start


def find_cell(lines, start, text, end=None, window=40, row_start=None):
    """The first line from ``start`` that prints ``text`` before the row (begun at ``row_start``)
    ends; None when there is none."""
    want = _bare(text)
    if not start or not want:
        return None
    row_start = row_start or start
    last = min(len(lines), end or start + window)
    for n in range(start, last + 1):
        raw = lines[n - 1]
        if n > row_start and not raw.rstrip("\r"):
            return None  # the row ended (an empty cell is a line holding a TAB; a row ends on an empty line)
        if _bare(raw) == want:
            return n
    return None


def cells_in_order(lines, row_start, texts):
    """The lines of a row's cells printing ``texts`` (left to right; None: an empty cell): each is
    searched after the previous one found, so equal figures in one row lead to their own cells.
    A figure not found links to the row's first line."""
    out, after = [], row_start
    for text in texts:
        found = find_cell(lines, after if after == row_start else after + 1, text, row_start=row_start) \
            if row_start and text else None
        if found is None and row_start and text and after != row_start:  # columns printed in another order
            found = find_cell(lines, row_start, text)
        after = found or after
        out.append(found or row_start)
    return out


def score_line(lines, start, end, text):
    """The line of an evaluation table's 总分 cell: the last 总分 label in the table, then its figure."""
    if not start:
        return None
    end = min(len(lines), end or start)
    want = _bare(text)
    # The total is printed last in its table (after 总分 / 合计): the last cell printing it.
    last = next((n for n in range(end, start - 1, -1) if want and _bare(lines[n - 1]) == want), None)
    if last is not None:
        return last
    label = next((n for n in range(end, start - 1, -1) if "总分" in lines[n - 1]), None)
    if label is None:
        return start
    for n in range(label, min(len(lines), label + 12) + 1):
        if _bare(lines[n - 1]) == _bare(text) and _bare(text):
            return n
    return label


def source_table_name(source):
    return SOURCE_TABLE_NAMES.get(source, source or "")



async def fetch(db, sql, params):
    return [dict(r) for r in (await db.execute(sql, params)).rows]


async def canonical_text(db, report_id) -> str:
    """The report's canonical text (stored compressed: jixiao/textstore.py), "" when there is none."""
    found = await fetch(db, "select jixiao_text(text) as text from source_texts where report_id = :id", {"id": report_id})
    return (found[0]["text"] if found else "") or ""


async def the_report(datasette, request):
    """(report_id, database, the reports row) for the URL's report, or a 404 response."""
    report_id = urllib.parse.unquote(request.url_vars["report_id"])
    db = datasette.get_database(DB)
    found = await fetch(db, "select * from reports where report_id = :id", {"id": report_id})
    if not found:
        return await not_found(datasette, request, f"没有编号为 {report_id} 的报告")
    return report_id, db, found[0]


async def report_page(datasette, request):
    found = await the_report(datasette, request)
    if isinstance(found, Response):
        return found
    report_id, db, report = found
    p = {"id": report_id}
    summary = (await fetch(db, "select * from report_summary where report_id = :id", p) or [{}])[0]
    sections = await fetch(db, "select * from sections where report_id = :id order by seq", p)
    tables = await fetch(db, "select * from source_tables where report_id = :id order by table_seq", p)
    cells = await fetch(db, "select table_seq, row, col, text from table_cells where report_id = :id "
                            "order by table_seq, row, col", p)
    for t in tables:
        t["grid"] = table_grid([c for c in cells if c["table_seq"] == t["table_seq"]])
    three_public = await fetch(db, """
        select item, key, parent_item, source, prev_final, budget, final,
               prev_final_text, budget_text, final_text,
               round(final - prev_final, 4) as change,
               case when prev_final > 0 then round(100.0 * (final - prev_final) / prev_final, 2) end as change_pct,
               line
        from expense_controls where report_id = :id and item_group = 'three_public' order by seq""", p)
    evaluations = await fetch(db, "select * from evaluations where report_id = :id order by seq", p)
    text = await canonical_text(db, report_id)
    lines = (text or "").split("\n")
    # Each figure's own line: the cell that prints it (see cell_line), so a link shows that figure.
    funds_rows = await fetch(db, "select evaluation_id, key, seq, line from funds where report_id = :id "
                                 "order by evaluation_id, key = 'total' desc, seq", p)
    funds_line = {}
    for f in funds_rows:
        funds_line.setdefault(f["evaluation_id"], f["line"])
    for e in evaluations:
        row = funds_line.get(e["evaluation_id"])
        keys = ("initial_budget", "full_year_budget", "executed", "execution_rate")
        e["lines"] = dict(zip(keys, cells_in_order(lines, row, [e.get(f"{k}_text") for k in keys])))
        e["lines"]["total_score"] = score_line(lines, e["line_start"], e["line_end"], e.get("total_score_text"))
        e["lines"]["table"] = e["line_start"]
    for r in three_public:
        keys = ("prev_final", "budget", "final")
        r["lines"] = dict(zip(keys, cells_in_order(lines, r["line"], [r[f"{k}_text"] for k in keys])))
    # Figures of two source tables are never merged: one table (and chart) per source table; the
    # one comparisons use (report_summary.three_public_source, the rule of /dictionary) comes first.
    chosen = summary.get("three_public_source")
    three_public_tables = []
    for source in sorted(dict.fromkeys(r["source"] for r in three_public), key=lambda x: (x != chosen, x or "")):
        three_public_tables.append({"source": source, "name": source_table_name(source), "chosen": source == chosen,
                                    "rows": [r for r in three_public if r["source"] == source]})
    findings = await fetch(db, "select * from findings where report_id = :id order by seq", p)
    staffing = (await fetch(db, "select * from staffing where report_id = :id", p) or [None])[0]
    others = await fetch(db, "select report_id, fiscal_year from reports where unit_name = :u and report_id != :id "
                             "order by fiscal_year", {"u": report["unit_name"], "id": report_id})
    for o in others:
        o["url"] = report_url(datasette, o["report_id"])
    staff_rows = {r["key"]: r["line"] for r in await fetch(
        db, "select key, line from expense_controls where report_id = :id and key in ('authorized', 'actual_staff') "
            "and source = 'basic_data' order by seq desc", p)}
    figure_lines = figure_lines_of(summary, report, staffing, evaluations, three_public, chosen, lines, staff_rows)
    chart = None
    chart_rows = next((t["rows"] for t in three_public_tables if t["chosen"]),
                      three_public_tables[0]["rows"] if three_public_tables else [])
    if chart_rows:
        parts = [r for r in chart_rows if r["key"] != "three_public_total"][:8]
        chart = charts.horizontal_bars(
            [r["item"] for r in parts],
            [(n, [r[k] for r in parts]) for n, k in (("上年决算数", "prev_final"), ("本年预算数", "budget"),
                                                     ("本年决算数", "final"))],
            "三公经费分项", "万元", subtext=f"来源：{source_table_name(chart_rows[0]['source'])}")
    quoted = urllib.parse.quote(report_id, safe="")
    context = {
        "report": report, "summary": summary, "staffing": staffing, "three_public": three_public,
        "three_public_tables": three_public_tables, "figure_lines": figure_lines,
        "three_public_source_name": source_table_name(chosen) if chosen else "",
        "originals": await originals_of(datasette, db, report),
        "evaluations": evaluations, "findings": findings, "tables": tables, "others": others,
        "narrative": narrative_html(sections, report_url(datasette, report_id) + "/source"),
        "sections": sections, "chart": chart, "source_url": report_url(datasette, report_id) + "/source",
        "unit_url": unit_url(datasette, report["unit_name"] or ""),
        "zip_url": datasette.urls.path(f"/download/report/{quoted}.zip"),
        "data_links": [(schema.table(t).zh, datasette.urls.table(DB, t) + "?" + urllib.parse.urlencode({"report_id": report_id}))
                       for t in ("sections", "expense_controls", "evaluations", "indicators", "findings", "table_cells")],
        "json_url": datasette.urls.table(DB, "reports", format="json") + "?" + urllib.parse.urlencode(
            {"report_id": report_id, "_shape": "array"}),
    }
    return Response.html(await datasette.render_template(["report.html"], context, request=request))


def figure_lines_of(summary, report, staffing, evaluations, three_public, chosen, lines, staff_rows=None):
    """The source line of every figure of the key figures block (None: no line known)."""
    overall = next((e for e in evaluations if e["kind"] == "overall"), None)
    ev = overall["lines"] if overall else {}
    total = next((r for r in three_public if r["key"] == "three_public_total" and r["source"] == chosen), None)
    staff = {}
    if staffing:
        # A staffing figure read from a 基础数据表 row has that row's line; in a staffing table the
        # three cells follow one another in one row (equal figures: the next match after the last).
        rows_at = staff_rows or {}
        after = staffing["line"]
        for k, row_key in (("authorized", "authorized"), ("actual", "actual_staff"), ("control_rate", None)):
            text = staffing.get(f"{k}_text")
            if not text:
                continue
            if row_key in rows_at:
                staff[k] = cell_line(lines, rows_at[row_key], text)
            else:
                start = after if after == staffing["line"] else after + 1
                found = find_cell(lines, start, text, row_start=staffing["line"])
                after = found or after
                staff[k] = found or staffing["line"]
    out = {
        "initial_budget": ev.get("initial_budget"), "full_year_budget": ev.get("full_year_budget"),
        "executed": ev.get("executed"), "execution_rate": ev.get("execution_rate"),
        "three_public_final": total["lines"]["final"] if total else summary.get("three_public_line"),
        "three_public_prev_final": total["lines"]["prev_final"] if total else summary.get("three_public_line"),
        "staff_authorized": staff.get("authorized"), "staff_actual": staff.get("actual"),
        "staff_control_rate": staff.get("control_rate"),
        "total_score": ev.get("total_score"), "stated_score": report.get("stated_score_line"),
    }
    return out


async def originals_of(datasette, db, report):
    """The original files of a report that the build stored (table source_files): name, size, URL."""
    if "source_files" not in await db.table_names():
        return []
    rows = await fetch(db, "select part, file_name, sha256, size, media_type from source_files "
                           "where report_id = :id order by part", {"id": report["report_id"]})
    for r in rows:
        r["url"] = original_url(datasette, report["report_id"], r["part"], r["file_name"])
    return rows


def original_row(conn, report_id, part):
    """The original file's row, read with the length limit of plugins/sql_limits.py lifted for
    this one fixed statement (an original may be larger than any value a query may make)."""
    import sqlite3

    limit = conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 2_000_000_000)
    try:
        cursor = conn.cursor()
        cursor.row_factory = None
        # content NULL: the file is its canonical text's UTF-8 bytes (originals.file_bytes), cut in
        # Python: SQL's cast to blob gives the database's encoding (UTF-16)
        cursor.execute("select f.file_name, f.sha256, f.media_type, f.content, f.size, t.text "
                       "from source_files f left join source_texts t on t.report_id = f.report_id "
                       "where f.report_id = :id and f.part = :part", {"id": report_id, "part": part})
        return [{"file_name": name, "sha256": sha, "media_type": media, "content": originals.file_bytes(content, size, text)}
                for name, sha, media, content, size, text in cursor.fetchall()]
    finally:
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, limit)


async def original_file(datasette, request):
    """One original file of a report, byte for byte as the build read it (sha256 checked there)."""
    report_id = urllib.parse.unquote(request.url_vars["report_id"])
    part = int(request.url_vars["part"])
    db = datasette.get_database(DB)
    if "source_files" not in await db.table_names():
        return await not_found(datasette, request, "这个数据库没有保存原始文件")
    found = await db.execute_fn(lambda conn: original_row(conn, report_id, part))
    if not found:
        return await not_found(datasette, request, f"报告 {report_id} 没有第 {part} 个原始文件")
    f = found[0]
    name = f["file_name"]
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name)
    return Response(f["content"], content_type=f["media_type"] or "application/octet-stream", headers={
        "content-disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''"
                               + urllib.parse.quote(name, safe=""),
        "etag": f'"{f["sha256"]}"', "x-content-sha256": f["sha256"],
        "cache-control": "public, max-age=31536000, immutable",
    })


async def source_page(datasette, request):
    """The report's canonical text, every line anchored ``#L<n>`` (what line numbers refer to)."""
    found = await the_report(datasette, request)
    if isinstance(found, Response):
        return found
    report_id, db, report = found
    p = {"id": report_id}
    text = await canonical_text(db, report_id)
    parts = await fetch(db, "select * from source_parts where report_id = :id order by part", p)
    pages = await fetch(db, "select * from source_pages where report_id = :id order by line_start", p)
    page_at = {pg["line_start"]: pg["page"] for pg in pages}
    file_at = {pt["line_start"]: pt["source_file"] for pt in parts} if len(parts) > 1 else {}
    lines = [{"n": n, "text": t.lstrip("\t"), "cell": t.startswith("\t"), "page": page_at.get(n), "file": file_at.get(n)}
             for n, t in enumerate((text or "").split("\n")[:-1] if text and text.endswith("\n") else
                                   (text or "").split("\n") if text else [], 1)]
    context = {"report": report, "lines": lines, "parts": parts, "paged": bool(pages),
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
    q = urllib.parse.urlencode({"unit": unit})
    context = {
        "unit": unit, "years": years, "charts": charts.unit_year_charts(years),
        "twin_json": datasette.urls.path(f"/{DB}/unit_over_years.json?{q}&_shape=array&_stream=1"),
        "twin_csv": datasette.urls.path(f"/{DB}/unit_over_years.csv?{q}&_dl=1&_bom=1"),
        "compare_url": datasette.urls.path("/compare?" + urllib.parse.urlencode({"one_unit": unit, "unit": unit})),
    }
    return Response.html(await datasette.render_template(["unit.html"], context, request=request))


@hookimpl
def register_routes():
    return [
        (r"^/report/(?P<report_id>[^/]+)$", report_page),
        (r"^/report/(?P<report_id>[^/]+)/source$", source_page),
        (r"^/report/(?P<report_id>[^/]+)/original/(?P<part>[0-9]{1,4})(?:/[^/]*)?$", original_file),
        (r"^/unit/(?P<unit>[^/]+)$", unit_page),
    ]


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["chart_json"] = chart_json
