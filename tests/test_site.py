"""The site, in process (Datasette(...).client) on the real build of reports/.

Every page, every stored query (with and without parameters), every download format and the
JSON API shape. Values asserted are read from the built database, not typed in.
"""
from __future__ import annotations

import importlib.util
import io
import sqlite3
import urllib.parse
import xml.etree.ElementTree as ET
import zipfile

import pytest
from openpyxl import load_workbook

from jixiao.serve import Site, datasette_args, load_yaml, make_datasette

from .conftest import ROOT

CONFIG = load_yaml(ROOT / "datasette.yml")
QUERIES = CONFIG["databases"]["jixiao"]["queries"]
ATOM = "{http://www.w3.org/2005/Atom}"


def q(path, **params):
    return path + "?" + urllib.parse.urlencode(params)


def plugin(name):
    spec = importlib.util.spec_from_file_location(f"site_test_{name}", ROOT / "plugins" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- serving


def test_serve_arguments_match_the_site():
    args = datasette_args(Site(ROOT))
    for flag in ("-i", "--inspect-file", "-m", "-c", "--plugins-dir", "--template-dir", "--static", "--cors"):
        assert flag in args
    assert args[args.index("--port") + 1] == "8001" and args[args.index("--host") + 1] == "127.0.0.1"
    settings = CONFIG["settings"]
    assert settings["suggest_facets"] is False
    assert {"sql_time_limit_ms", "facet_time_limit_ms", "default_page_size", "max_returned_rows"} <= set(settings)


async def test_database_is_immutable_and_cors_on(ds):
    assert ds.get_database("jixiao").is_mutable is False
    r = await ds.client.get("/jixiao/reports.json")
    assert r.headers["access-control-allow-origin"] == "*"


# ---------------------------------------------------------------- pages a person sees


@pytest.mark.parametrize("path, texts", [
    ("/", ["绩效自评报告开放数据", "份报告", "个单位", "最新报告", "检索报告正文", "比较", "下载"]),
    ("/search", ["检索报告正文"]),
    ("/compare", ["比较各单位", "关键指标并列对比", "三公经费分项及同比增减", "预算执行率排名",
                  "自评得分与指标完成情况", "同一指标跨单位对比", "单位历年变化"]),
    ("/downloads", ["整个 SQLite 数据库", "Excel CSV", "Excel (.xlsx)", "数据包"]),
    ("/dictionary", ["数据字典", "Data dictionary", "单位名称", "unit_name", "万元"]),
    ("/api", ["JSON API", "_search=", "_extra=", "CORS"]),
    ("/jixiao", []),
    ("/jixiao/reports", ["绩效自评报告", "共 5 行", "下载本页数据", "Excel CSV", "年度"]),
    ("/jixiao/indicators", ["一级指标", "二级指标", "主题"]),
    ("/jixiao/findings", ["规则", "严重程度"]),
])
async def test_page(ds, path, texts):
    r = await ds.client.get(path)
    assert r.status_code == 200, r.text[:500]
    assert '<html lang="zh-CN">' in r.text
    for text in texts:
        assert text in r.text, text


async def test_home_counts_come_from_the_data(ds, db):
    r = await ds.client.get("/")
    reports, units = db.execute("select count(*), count(distinct unit_name) from reports").fetchone()
    assert f"<strong>{reports}</strong> 份报告" in r.text
    assert f"<strong>{units}</strong> 个单位" in r.text
    latest = db.execute("select unit_name from reports order by fiscal_year desc, unit_name limit 1").fetchone()[0]
    assert latest in r.text


async def test_report_page(ds, db):
    row = db.execute("select * from report_summary where three_public_final is not null "
                     "order by fiscal_year desc, report_id limit 1").fetchone()
    report = db.execute("select * from reports where report_id = ?", [row["report_id"]]).fetchone()
    r = await ds.client.get("/report/" + urllib.parse.quote(row["report_id"]))
    assert r.status_code == 200
    page = r.text
    num = plugin("zh_labels").num
    for value in (row["full_year_budget"], row["executed"], row["execution_rate"], row["three_public_final"],
                  row["three_public_prev_final"], report["total_score"]):
        assert num(value) in page, value
    assert report["source_sha256"] in page and report["source_file"] in page
    assert "三公经费" in page and "报告正文" in page and "数据包" in page
    # every section is anchored, every stored table is rendered
    n_sections, = db.execute("select count(*) from sections where report_id = ?", [row["report_id"]]).fetchone()
    assert page.count('id="s-') == n_sections
    n_tables, = db.execute("select count(*) from source_tables where report_id = ?", [row["report_id"]]).fetchone()
    assert page.count('class="source-table"') == n_tables
    assert 'data-chart-for="chart-three-public"' in page


async def test_unknown_report_is_404(ds):
    assert (await ds.client.get("/report/" + urllib.parse.quote("1999-不存在"))).status_code == 404


def test_narrative_escapes_source_html():
    html = plugin("report_pages").narrative_html([
        {"seq": 1, "level": 1, "number": "一、", "heading": "基本<b>情况</b>", "line_start": 1, "line_end": 3,
         "body": "<script>alert(1)</script>\n1. 不是列表\n# 不是标题"},
    ])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;情况" in html
    assert "<ol>" not in html and "<h1>" not in html
    assert html.count("<p>") == 3


async def test_unit_page(ds, db):
    unit, years = db.execute("select unit_name, count(*) from reports group by unit_name order by 2 desc, 1").fetchone()
    r = await ds.client.get("/unit/" + urllib.parse.quote(unit))
    assert r.status_code == 200
    assert unit in r.text and 'data-chart-for="chart-unit"' in r.text
    assert r.text.count("/report/") >= years


# ---------------------------------------------------------------- search


async def test_search_page_ranks_highlights_and_facets(ds, db):
    """Narrative hits (kind=section) are exactly the sections LIKE finds; each is highlighted and
    linked to its section; the facets are offered and a unit filter counts that unit's sections."""
    n, = db.execute("select count(*) from sections where heading like '%调解%' or body like '%调解%'").fetchone()
    r = await ds.client.get(q("/search", q="调解", kind="section"))
    assert r.status_code == 200
    assert f"共找到 <strong>{n}</strong> 处" in r.text
    assert "<mark>【调解】</mark>" in r.text
    assert r.text.count('class="hit"') == n
    assert "#s-" in r.text  # each hit links to its section
    for facet in ("按命中类型", "按年度", "按省", "按市"):
        assert facet in r.text
    unit, k = db.execute("select r.unit_name, count(*) from sections s join reports r using (report_id) "
                         "where s.body like '%调解%' or s.heading like '%调解%' group by 1 order by 2 desc, 1").fetchone()
    filtered = await ds.client.get(q("/search", q="调解", kind="section", unit=unit))
    assert f"共找到 <strong>{k}</strong> 处" in filtered.text


async def test_search_page_without_query_or_hits(ds):
    assert (await ds.client.get("/search")).status_code == 200
    r = await ds.client.get(q("/search", q="不存在的词语组合"))
    assert r.status_code == 200 and "共找到 <strong>0</strong>" in r.text


async def test_table_search_in_chinese(ds, db):
    n, = db.execute("select count(*) from sections where heading like '%普法%' or body like '%普法%'").fetchone()
    r = await ds.client.get(q("/jixiao/sections.json", _search="普法", _extra="count"))
    assert r.json()["count"] == n > 0


# ---------------------------------------------------------------- stored queries and comparison


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_stored_query_without_parameters(ds, name):
    html = await ds.client.get(f"/jixiao/{name}")
    assert html.status_code == 200 and "message-error" not in html.text
    data = await ds.client.get(f"/jixiao/{name}.json")
    assert data.status_code == 200 and data.json()["ok"] is True


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_stored_query_is_described(name):
    query = QUERIES[name]
    assert query.get("title") and query.get("description")


PARAMS = {
    "search": {"q": "调解"}, "search_hits": {"q": "调解", "year": "2024"},
    "compare_units": {"units": "岳阳市司法局,怀化市司法局", "year": "2024"},
    "three_public": {"units": "岳阳市司法局", "year": ""}, "execution_rate_ranking": {"year": "2024"},
    "scores_vs_completion": {"year": "2023"}, "indicator_across_units": {"topic": "满意度"},
    "unit_over_years": {"unit": "岳阳市司法局"}, "findings_overview": {"severity": "错误"},
}


async def test_stored_queries_with_parameters(ds, db):
    assert set(PARAMS) <= set(QUERIES)
    for name, params in PARAMS.items():
        r = await ds.client.get(q(f"/jixiao/{name}.json", _shape="array", **params))
        assert r.status_code == 200, (name, r.text[:300])
    units = (await ds.client.get(q("/jixiao/compare_units.json", _shape="array", **PARAMS["compare_units"]))).json()
    expected = db.execute("select unit_name from reports where fiscal_year = 2024 and unit_name in "
                          "('岳阳市司法局', '怀化市司法局') order by 1").fetchall()
    assert [u["unit_name"] for u in units] == [e[0] for e in expected]
    ranking = (await ds.client.get(q("/jixiao/execution_rate_ranking.json", _shape="array"))).json()
    rates = [r["execution_rate"] for r in ranking]
    assert rates == sorted(rates, reverse=True) and ranking[0]["rank"] == 1


async def test_compare_page_with_choices(ds, db):
    units = [r[0] for r in db.execute("select distinct unit_name from reports order by 1 limit 2")]
    year = db.execute("select max(fiscal_year) from reports").fetchone()[0]
    path = "/compare?" + urllib.parse.urlencode([("unit", u) for u in units] + [("year", "")])
    r = await ds.client.get(path)
    assert r.status_code == 200
    for u in units:
        assert f"<option selected>{u}</option>" in r.text
    assert f"<option>{year}</option>" in r.text
    assert r.text.count('data-chart-for="chart-') >= 5
    assert "compare_units.json?units=" in r.text and "_bom=1" in r.text  # the twins
    assert (await ds.client.get("/compare?unit=&year=&topic=&keyword=&one_unit=")).status_code == 200


# ---------------------------------------------------------------- downloads


async def test_excel_csv_has_bom_and_chinese(ds, db):
    r = await ds.client.get("/jixiao/reports.csv?_stream=1&_dl=1&_bom=1")
    assert r.status_code == 200
    assert r.content.startswith("\ufeff".encode())
    text = r.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("报告编号,单位名称")  # Excel's header row in Chinese
    assert len(text.strip().splitlines()) == 1 + db.execute("select count(*) from reports").fetchone()[0]
    plain = await ds.client.get("/jixiao/reports.csv")
    assert not plain.content.startswith(b"\xef\xbb\xbf")
    query = await ds.client.get("/jixiao/compare_units.csv?_bom=1")
    assert query.content.startswith(b"\xef\xbb\xbf")


async def test_xlsx_table_and_query(ds, db):
    r = await ds.client.get("/jixiao/reports.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["报告编号", "单位名称", "年度"]
    assert ws.max_row == 1 + db.execute("select count(*) from reports").fetchone()[0]
    assert wb["字段说明"]["B2"].value == "report_id"
    # a table longer than one page still comes out whole
    cells = await ds.client.get("/jixiao/table_cells.xlsx?_size=100")
    n, = db.execute("select count(*) from table_cells").fetchone()
    assert load_workbook(io.BytesIO(cells.content)).worksheets[0].max_row == n + 1
    query = await ds.client.get("/jixiao/compare_units.xlsx")
    qheader = [c.value for c in load_workbook(io.BytesIO(query.content)).worksheets[0][1]]
    assert "预算执行率" in qheader or "执行率" in qheader


async def test_sqlite_file_and_data_packages(ds, db):
    r = await ds.client.get("/jixiao.db")
    assert r.status_code == 200 and r.content[:16] == b"SQLite format 3\x00"
    corpus = await ds.client.get("/download/jixiao-datapackage.zip")
    assert corpus.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(corpus.content)).namelist()
    assert "jixiao/datapackage.json" in names and "jixiao/reports.csv" in names
    report_id = db.execute("select report_id from reports order by report_id limit 1").fetchone()[0]
    one = await ds.client.get("/download/report/" + urllib.parse.quote(report_id) + ".zip")
    assert one.status_code == 200
    assert any(n.endswith("/datapackage.json") for n in zipfile.ZipFile(io.BytesIO(one.content)).namelist())


# ---------------------------------------------------------------- for machines


async def test_json_api_shape(ds, db):
    r = (await ds.client.get("/jixiao/reports.json?_extra=count&_extra=facet_results&_facet=city")).json()
    assert r["ok"] is True and r["count"] == db.execute("select count(*) from reports").fetchone()[0]
    assert {"report_id", "unit_name", "fiscal_year", "source_sha256"} <= set(r["rows"][0])
    cities = {v["value"] for v in r["facet_results"]["results"]["city"]["results"]}
    assert cities == {row[0] for row in db.execute("select distinct city from reports")}
    arr = (await ds.client.get("/jixiao/reports.json?fiscal_year=2024&_shape=array")).json()
    assert {a["fiscal_year"] for a in arr} == {2024}


async def test_api_page_examples_work(ds):
    page = (await ds.client.get("/api")).text
    hrefs = {urllib.parse.unquote(h.replace("&amp;", "&")) for h in
             __import__("re").findall(r'href="(/jixiao[^"]*\.json[^"]*)"', page)}
    assert len(hrefs) >= 10
    for href in sorted(hrefs):
        r = await ds.client.get(href)
        assert r.status_code == 200, href


async def test_robots_sitemap_feed(ds, db):
    robots = await ds.client.get("/robots.txt")
    assert "Sitemap:" in robots.text
    sitemap = ET.fromstring((await ds.client.get("/sitemap.xml")).content)
    locs = [e.text for e in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    reports = [r[0] for r in db.execute("select report_id from reports")]
    for report_id in reports:
        assert any(loc.endswith("/report/" + urllib.parse.quote(report_id, safe="")) for loc in locs)
    feed = ET.fromstring((await ds.client.get("/feed.atom")).content)
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == len(reports)
    assert all(e.find(f"{ATOM}link").get("href").split("/report/")[1] for e in entries)


# ---------------------------------------------------------------- performance (issue 7): plans and equivalences
# No timings here: what is checked is that the fast formulations give the same rows as the simple
# ones and that SQLite plans them on the composite indexes (benchmarks/run.py measures the time).

# The formulations the paged stored queries replaced (no paging, no index tricks).
REFERENCE_SQL = {
    "execution_rate_ranking": """
        select rank() over (order by execution_rate desc) as rank,
               report_id, unit_name, fiscal_year, city, full_year_budget, executed, execution_rate
        from report_summary
        where execution_rate is not null and (:year = '' or fiscal_year = cast(:year as integer))
        order by execution_rate desc, report_id""",
    "findings_overview": """
        select f.report_id, r.unit_name, r.fiscal_year, f.severity, f.rule, f.message, f.expected, f.actual, f.line
        from findings f join reports r on r.report_id = f.report_id
        where (:severity = '' or f.severity = :severity)
        order by case f.severity when '错误' then 0 when '疑点' then 1 else 2 end, f.report_id, f.seq""",
    "latest_reports": """
        select report_id, unit_name, fiscal_year, city, county, report_kind, total_score, source_file
        from reports order by fiscal_year desc, unit_name""",
    "compare_units": """
        select report_id, unit_name, fiscal_year, city, county,
               initial_budget, full_year_budget, executed, execution_rate,
               three_public_prev_final, three_public_final, three_public_change, three_public_change_pct,
               three_public_source,
               staff_authorized, staff_actual, staff_control_rate,
               total_score, stated_score, score_gap, findings
        from report_summary s
        where (:units = '' or instr(',' || replace(replace(:units, '，', ','), '、', ',') || ',',
                                    ',' || s.unit_name || ',') > 0)
          and case when :year = ''
                then s.fiscal_year = (select max(fiscal_year) from reports r where r.unit_name = s.unit_name)
                else s.fiscal_year = cast(:year as integer) end
        order by s.unit_name, s.fiscal_year""",
}


def sqlite_with_escape_fts(path):
    from jixiao.search import escape_fts_cjk

    conn = sqlite3.connect(path)
    conn.create_function("escape_fts", 1, escape_fts_cjk, deterministic=True)
    return conn


@pytest.fixture
def materialised(built):
    """The build materialises report_summary and indicator_topics as tables."""
    return built.db


@pytest.fixture
def as_views(built, tmp_path):
    """A copy of the sample database with report_summary and indicator_topics as plain views."""
    import shutil

    from jixiao import views

    path = tmp_path / "views.db"
    shutil.copy(built.db, path)
    conn = sqlite3.connect(path)
    for name in (views.SUMMARY, views.TOPICS):
        conn.execute(f"drop table [{name}]")
        conn.execute(f"create view [{name}] as {views.VIEWS[name].strip()}")
    conn.commit()
    conn.close()
    return path


def test_materialised_summary_equals_the_view(as_views, materialised, tmp_path):
    import shutil

    from jixiao import views

    view = sqlite3.connect(as_views)
    shutil.copy(materialised, tmp_path / "again.db")
    table = sqlite3.connect(tmp_path / "again.db")
    for name in (views.SUMMARY, views.TOPICS):
        assert view.execute("select type from sqlite_master where name = ?", [name]).fetchone()[0] == "view"
        assert table.execute("select type from sqlite_master where name = ?", [name]).fetchone()[0] == "table"
        cols = [d[0] for d in view.execute(f"select * from {name} limit 0").description]
        assert cols == [d[0] for d in table.execute(f"select * from {name} limit 0").description]
        order = "report_id" if name == views.SUMMARY else "topic"
        assert (view.execute(f"select * from {name} order by {order}").fetchall()
                == table.execute(f"select * from {name} order by {order}").fetchall())
    views.materialise(table)  # idempotent
    assert table.execute(f"select count(*) from {views.SUMMARY}").fetchone()[0] == \
        view.execute("select count(*) from reports").fetchone()[0]


def test_summary_lookups_seek_per_report(as_views):
    """Per report, the summary seeks (report_id, kind / severity) and reads the report's 三公 rows
    by expense_controls' key (report_id, seq); never a scan of every report's overall evaluations,
    三公 rows or 错误 findings (O(N²) over the corpus)."""
    conn = sqlite3.connect(as_views)
    plan = " | ".join(r[3] for r in conn.execute(
        "explain query plan select * from report_summary where report_id = 'x'"))
    for index in ("idx_evaluations_report_id_kind_seq",  # a seek
                  "sqlite_autoindex_findings_1 (report_id=?)", "sqlite_autoindex_expense_controls_1 (report_id=?)"):
        assert index in plan, plan
    for bad in ("idx_evaluations_kind (", "idx_expense_controls_key (", "idx_expense_controls_source (",
                "idx_findings_severity ("):
        assert bad not in plan, plan


@pytest.mark.parametrize("which", ["view", "table"])
def test_paged_queries_equal_the_simple_ones(as_views, materialised, which):
    conn = sqlite_with_escape_fts(as_views if which == "view" else materialised)
    units = [u for (u,) in conn.execute("select distinct unit_name from reports order by 1")]
    years = [""] + [str(y) for (y,) in conn.execute("select distinct fiscal_year from reports")]
    cases = {
        "execution_rate_ranking": [{"year": y} for y in years],
        "findings_overview": [{"severity": s} for s in ("", "错误", "疑点", "提示", "其他")],
        "latest_reports": [{}],
        "compare_units": [{"units": u, "year": y} for y in years
                          for u in ("", units[0], "，".join(units[:2]), units[1] + "、" + units[2] + ",", "不存在")],
    }
    for name, param_sets in cases.items():
        for params in param_sets:
            expected = conn.execute(REFERENCE_SQL[name], params).fetchall()
            got = []
            for page in ("1", "2", "3"):
                rows = conn.execute(QUERIES[name]["sql"], {**params, "page": page}).fetchall()
                assert len(rows) <= 100
                got += rows
            assert got == expected[:300], (name, params)
            assert conn.execute(QUERIES[name]["sql"], {**params, "page": ""}).fetchall() == expected[:100]
    # the samples have more than one page of findings: page 2 is where the severities meet
    assert len(conn.execute(REFERENCE_SQL["findings_overview"], {"severity": ""}).fetchall()) > 100


async def test_site_on_the_materialised_database(materialised):
    ds = make_datasette(Site(ROOT, db_path=materialised))
    await ds.invoke_startup()
    conn = sqlite3.connect(materialised)
    report_id, unit = conn.execute("select report_id, unit_name from report_summary "
                                   "where three_public_final is not null limit 1").fetchone()
    for path in ("/", "/compare", "/jixiao/report_summary", "/jixiao/execution_rate_ranking",
                 "/jixiao/indicator_across_units", "/unit/" + urllib.parse.quote(unit),
                 "/report/" + urllib.parse.quote(report_id), q("/search", q="调解")):
        r = await ds.client.get(path)
        assert r.status_code == 200 and "message-error" not in r.text, path


def site_pages_module():
    from datasette.plugins import pm

    return next(p for p in pm.get_plugins() if hasattr(p, "COMPARE_ROWS") and hasattr(p, "compare"))


async def test_compare_page_bounds_rows_and_unit_lists(ds, db, monkeypatch):
    """Beyond UNIT_CHOICES units the form lists the most reported ones and the chosen ones (any
    other is typed); each comparison shows COMPARE_ROWS rows and says so."""
    module = site_pages_module()
    units = [r[0] for r in db.execute("select distinct unit_name from reports order by 1")]
    monkeypatch.setattr(module, "UNIT_CHOICES", 2)
    monkeypatch.setattr(module, "COMPARE_ROWS", 1)
    db_obj = ds.get_database("jixiao")
    db_obj.__dict__.pop("_jixiao_page_memo", None)  # the choices are remembered per database
    try:
        r = await ds.client.get("/compare?" + urllib.parse.urlencode([("unit", units[-1]), ("one_unit", units[-2])]))
        assert r.status_code == 200
        assert f"<option selected>{units[-1]}</option>" in r.text
        assert 'list="unit-names"' in r.text and f'value="{units[-2]}"' in r.text
        assert f"共 {len(units)} 个单位" in r.text
        assert "只显示前 1 行" in r.text
        assert r.text.count('data-chart-for="chart-') >= 5
    finally:
        db_obj.__dict__.pop("_jixiao_page_memo", None)


async def test_schema_lookups_are_remembered_for_immutable_databases_only(ds, tmp_path):
    from datasette.app import Datasette

    db = ds.get_database("jixiao")
    cols = await db.table_columns("reports")
    cols.append("not a column")  # callers get copies
    assert await db.table_columns("reports") == cols[:-1]
    mutable_path = tmp_path / "scratch.db"
    sqlite3.connect(mutable_path).execute("create table t (a)").connection.commit()
    scratch = Datasette([str(mutable_path)]).get_database("scratch")
    assert await scratch.table_columns("t") == ["a"]
    conn = sqlite3.connect(mutable_path)
    conn.execute("alter table t add column b")
    conn.commit()
    assert await scratch.table_columns("t") == ["a", "b"]


# ---------------------------------------------------------------- /compare: chosen units filter every panel (issue 14.3)


def panel_units(page: str) -> dict[str, list[str]]:
    """The unit names printed in each /compare panel's table (unit_name column), in order."""
    import html as html_lib
    import re

    out = {}
    for name, body in re.findall(r'(?s)<section class="comparison" id="(\w+)">(.*?)</section>', page):
        head = re.search(r"(?s)<thead>(.*?)</thead>", body)
        if not head:
            out[name] = []
            continue
        cols = re.findall(r'data-col="(\w+)"', head[1])
        assert "unit_name" in cols, (name, cols)
        i = cols.index("unit_name")
        rows = re.findall(r"(?s)<tr>(.*?)</tr>", body.split("<tbody>", 1)[1])
        out[name] = [html_lib.unescape(re.sub(r"<[^>]+>", "", re.findall(r"(?s)<td[^>]*>(.*?)</td>", r)[i]))
                     for r in rows]
    return out


async def test_chosen_units_filter_every_compare_panel(ds, db):
    everyone = {r[0] for r in db.execute("select distinct unit_name from reports")}
    chosen = [r[0] for r in db.execute(
        "select unit_name from report_summary where execution_rate is not null group by unit_name "
        "order by unit_name limit 2")]
    r = await ds.client.get("/compare?" + urllib.parse.urlencode([("unit", u) for u in chosen]))
    assert r.status_code == 200
    panels = panel_units(r.text)
    assert set(panels) == {"compare_units", "three_public", "execution_rate_ranking", "scores_vs_completion",
                           "indicator_across_units", "unit_over_years"}
    for name, units in panels.items():
        assert units and set(units) <= set(chosen), (name, units)
    assert set(panel_units((await ds.client.get("/compare")).text)["compare_units"]) == everyone
    # the ranking ranks the chosen units among themselves, as SQL on the build says
    want = [row[0] for row in db.execute(
        "select unit_name from report_summary where unit_name in (?, ?) and execution_rate is not null "
        "order by execution_rate desc, report_id", chosen)]
    assert panels["execution_rate_ranking"] == want
    section = r.text.split('id="execution_rate_ranking"', 1)[1].split("</section>", 1)[0]
    # its download links run the same restricted SQL
    import html as html_lib
    import re

    link = html_lib.unescape(re.search(r'href="(/jixiao/-/query\.json\?[^"]+)"', section)[1])
    rows = (await ds.client.get(link)).json()
    assert [row["unit_name"] for row in rows] == want and rows[0]["rank"] == 1
    # a unit chosen for 单位历年变化 is kept
    other = sorted(everyone - set(chosen))[0]
    r = await ds.client.get("/compare?" + urllib.parse.urlencode([("unit", chosen[0]), ("one_unit", other)]))
    assert set(panel_units(r.text)["unit_over_years"]) == {other}


# ---------------------------------------------------------------- charts readable at 390 and 1280 px (issue 14.3)


def test_chart_labels_stay_in_their_own_bars_and_axes_have_one_unit(db):
    from jixiao import charts

    rows = query_rows_of(db, "select * from report_summary order by unit_name, fiscal_year")
    stacked = charts.horizontal_bars([r["unit_name"] for r in rows], [("甲", [1] * len(rows)), ("乙", [2] * len(rows))],
                                     "t", "万元", stack=True)
    assert {s["label"]["position"] for s in stacked["series"]} == {"inside"}  # inside its own segment
    assert all(s["label"]["minShare"] > 0 for s in stacked["series"])  # too short a segment: no figure
    assert stacked["yAxis"]["type"] == "category" and stacked["xAxis"]["name"] == "万元"
    assert stacked["_height"] > 60 * len(rows) // 2  # a row per unit, never squeezed
    many = charts.horizontal_bars([str(i) for i in range(40)], [("x", list(range(40)))], "t", "%")
    assert len(many["yAxis"]["data"]) == charts.MAX_ROWS and "共 40 行见下表" in many["title"]["subtext"]
    # a long name wraps onto more lines: its row grows so labels never overlap
    long_names = charts.horizontal_bars(["丽水市人力资源和社会保障局（合成副本35） 2015"] * 4, [("x", [1] * 4)], "t", "%")
    short_names = charts.horizontal_bars(["甲"] * 4, [("x", [1] * 4)], "t", "%")
    assert long_names["_height"] - short_names["_height"] >= 4 * 14
    side = charts.horizontal_bars(["a"], [("x", [3])], "t", "%")
    assert side["series"][0]["label"]["position"] == "right" and side["grid"]["right"] >= 40
    # a unit's years: money, 三公 and rate/score apart; the rate and the score each on a named axis
    money, three_public, rates = charts.unit_year_charts(rows[:1])
    assert money["yAxis"]["name"] == three_public["yAxis"]["name"] == "万元"
    assert [a["name"] for a in rates["yAxis"]] == ["%", "分"]
    assert [s["yAxisIndex"] for s in rates["series"]] == [0, 1]
    # scatter labels face the middle of the plot, so the rightmost point's label is not cut
    pts = [("甲", 60, 90), ("乙", 100, 99)]
    data = charts.scatter(pts, "指标达标率（%）", "自评总分（分）", "t")["series"][0]["data"]
    assert [d["label"]["position"] for d in data] == ["right", "left"]


def query_rows_of(db, sql):
    return [dict(r) for r in db.execute(sql)]


async def test_compare_tables_show_codes_by_name(ds, db):
    if "zh_code" not in ds.get_jinja_environment().filters:
        pytest.skip("the zh_code filter (issue 14.2, plugins/zh_labels.py) is not there yet")
    r = await ds.client.get("/compare")
    assert '<td data-code="three_public_total">' in r.text
    assert ">three_public_total<" not in r.text
