"""plugins/page_speed.py: the rows of table and query pages written in Python give the HTML the
template loops gave; the garbage collector is frozen in a server process only. No timings here
(benchmarks/run.py measures the pages)."""
from __future__ import annotations

import importlib.util
import re
import sqlite3

import jinja2
from datasette.utils import to_css_class
from datasette.views.table import Row
from markupsafe import Markup, escape

from jixiao.serve import Site, datasette_args, load_yaml, make_datasette

from .conftest import ROOT, connect

spec = importlib.util.spec_from_file_location("page_speed_test", ROOT / "plugins" / "page_speed.py")
page_speed = importlib.util.module_from_spec(spec)
spec.loader.exec_module(page_speed)
CONFIG_FACETS = {t: c.get("facets") for t, c in load_yaml(ROOT / "datasette.yml")["databases"]["jixiao"]["tables"].items()}

# The loops templates/_table.html and templates/query.html had before the rows moved to Python.
TABLE_LOOP = """{% for row in display_rows %}
    <tr{% if row.pk_path is not none %} data-row="{{ row.row_path }}"{% if row.row_label %} data-row-label="{{ row.row_label }}"{% endif %}{% endif %}>
    {% for cell in row %}<td class="col-{{ cell.column|to_css_class }} type-{{ cell.value_type }}">{{ cell.value }}</td>{% endfor %}
    </tr>
  {% endfor %}"""
QUERY_LOOP = """{% for row in display_rows %}<tr>{% for column, td in zip(columns, row) %}<td class="col-{{ column|to_css_class }}">{{ td }}</td>{% endfor %}</tr>
  {% endfor %}"""


def render(loop: str, **context) -> str:
    env = jinja2.Environment(autoescape=True)
    env.filters["to_css_class"] = to_css_class
    env.globals["zip"] = zip
    return env.from_string(loop).render(**context)


def tight(html: str) -> str:
    return re.sub(r">\s+<", "><", html).strip()


def cells(*triples):
    return [{"column": c, "value": v, "value_type": t, "raw": v} for c, v, t in triples]


ROWS = [
    Row(cells(("Link", Markup('<a href="/jixiao/findings/2024-岳阳市司法局,1">2024-岳阳市司法局,1</a>'), "pk"),
              ("message", "合计 < 分项 & \"差额\" 'x'", "str"), ("difference", "1458.66", "float"),
              ("rule", Markup('<span class="code-name" data-code="nature_sum">按性质合计</span>'), "str"),
              ("lines", Markup("&nbsp;"), "none"), ("值 列", "带空格的列名", "str")),
        pk_path="2024-岳阳市司法局,1", row_path="2024-~E5~B2~B3,1", row_label='标签 "引号" <b>'),
    Row(cells(("Link", Markup("<a>2</a>"), "pk"), ("message", "", "str")), pk_path="2", row_path="2", row_label=None),
    Row(cells(("message", "视图的行没有主键", "str"))),  # a view: no pk_path, no data-row
]


def test_table_rows_give_the_template_loops_html():
    assert tight(str(page_speed.table_rows(ROWS))) == tight(render(TABLE_LOOP, display_rows=ROWS))
    assert 'data-row-label="标签 &#34;引号&#34; &lt;b&gt;"' in page_speed.table_rows(ROWS)
    assert str(page_speed.table_rows([])) == ""


def test_query_rows_give_the_template_loops_html():
    columns = ["report_id", "金额 (万元)", "message"]
    rows = [["2024-岳阳市司法局", Markup("<b>1,234</b>"), "a < b & c"], ["x", "y", "z"]]
    assert tight(str(page_speed.query_rows(columns, rows))) == tight(
        render(QUERY_LOOP, columns=columns, display_rows=rows))


async def test_a_table_page_shows_its_rows(ds):
    r = await ds.client.get("/jixiao/findings?_size=5&_sort=report_id")
    assert r.status_code == 200
    body = r.text[r.text.index("<tbody>"):r.text.index("</tbody>")]
    assert body.count("<tr data-row=") == 5
    first = (await ds.client.get("/jixiao/findings.json?_size=1&_sort=report_id&_shape=array")).json()[0]
    assert str(escape(first["message"])) in body


async def test_static_urls_are_datasettes_remembered(ds):
    calls = []

    def static(path, plugin=None, mount=None):
        calls.append(path)
        return ds.static(path, plugin=plugin, mount=mount)

    remembered = page_speed.static_urls(static)
    assert remembered("app.css") == remembered("app.css") == ds.static("app.css")
    assert remembered("site.css", mount="static") == ds.static("site.css", mount="static")
    assert calls == ["app.css", "site.css"]  # once per path
    page = (await ds.client.get("/jixiao/reports")).text  # the page's links are Datasette's own
    assert f'href="{ds.static("app.css")}"' in page and ds._jinja_env.globals["static"] != ds.static


def served_plugin():
    """The module Datasette loaded from plugins/ (its own copy, with its own kept counts)."""
    from datasette.plugins import pm

    return next(p for p in pm.get_plugins() if str(getattr(p, "__file__", "")).endswith("page_speed.py"))


def test_the_collector_is_frozen_in_a_server_process_only():
    served = datasette_args(Site(ROOT))
    assert served[served.index("plugins.jixiao.freeze_gc") + 1] == "1"
    in_process = make_datasette(Site(ROOT))
    assert not page_speed.freezes_gc(in_process) and page_speed.startup(in_process) is None
    assert page_speed.freezes_gc(make_datasette(Site(ROOT), serving=True))


async def test_the_immutable_database_is_read_through_a_map(ds):
    (mapped,), = (await ds.get_database("jixiao").execute("pragma mmap_size")).rows
    assert mapped > 0
    (internal,), = (await ds.get_internal_database().execute("pragma mmap_size")).rows
    assert internal == 0  # Datasette's own in-memory database is left as it is


async def test_an_unfiltered_pages_facet_counts_are_counted_once(ds, built):
    import sqlite3

    kept = served_plugin().kept_counts(ds)
    kept.clear()
    first = (await ds.client.get("/jixiao/indicators.json?_extra=facet_results")).json()["facet_results"]
    n = len(kept)
    assert n == len(CONFIG_FACETS["indicators"])  # one kept result per configured facet
    again = (await ds.client.get("/jixiao/indicators.json?_extra=facet_results")).json()["facet_results"]
    assert again == first and len(kept) == n
    # the counts are the table's own
    con = connect(built.db)
    verdicts = dict(con.execute("select verdict, count(*) from indicators where verdict is not null group by verdict"))
    assert {r["value"]: r["count"] for r in first["results"]["verdict"]["results"]} == verdicts
    # a filtered page counts its own rows each time, and keeps nothing
    value = next(iter(verdicts))
    filtered = (await ds.client.get("/jixiao/indicators.json", params={"verdict": value, "_extra": "facet_results"})).json()
    assert filtered["facet_results"]["results"]["verdict"]["results"] == [
        {**filtered["facet_results"]["results"]["verdict"]["results"][0], "value": value, "count": verdicts[value]}]
    assert len(kept) == n
    for params in ({"_search": "调解"}, {"_where": "seq = 1"}):
        r = await ds.client.get("/jixiao/indicators.json", params={**params, "_extra": "facet_results"})
        assert r.status_code in (200, 400) and len(kept) == n


async def test_a_live_databases_facets_are_always_counted(built):
    live = make_datasette(Site(ROOT, db_path=built.db, live=True))
    await live.invoke_startup()
    r = await live.client.get("/jixiao/indicators.json?_extra=facet_results")
    assert r.status_code == 200 and r.json()["facet_results"]["results"]
    assert len(served_plugin().kept_counts(live)) == 0


async def test_a_filtered_pages_count_is_its_number_of_rows(ds, built):
    # the count runs over `select 1` of the filtered rows (count_rows_not_columns): the same number
    from datasette.views.table_extras import CountExtra

    assert getattr(CountExtra.resolve, "wraps_datasette", False)
    con = connect(built.db)
    checks = [("indicators", {"verdict": "未达成"}, "verdict = '未达成'"),
              ("findings", {"severity": "错误"}, "severity = '错误'"),
              ("reports", {"fiscal_year": "2024"}, "fiscal_year = 2024"),
              ("table_cells", {"table_kind__not": "budget"}, "table_kind <> 'budget'"),  # a view
              ("sections", {"level__gte": "2", "body__contains": "调解"}, "level >= 2 and body like '%调解%'")]
    for table, params, where in checks:
        n, = con.execute(f"select count(*) from {table} where {where}").fetchone()
        r = await ds.client.get(f"/jixiao/{table}.json", params={**params, "_extra": "count,count_sql"})
        data = r.json()
        assert r.status_code == 200 and data["count"] == n > 0, (table, data.get("count"), n)
        assert data["count_sql"].startswith(f"select count(*) from {table} where ")  # what the API says it counts
    con.close()
