"""Chinese everywhere a visitor can land (issue 14, item 2).

Every kind of page a visitor can reach — table, row, database, query (free SQL and every stored
query), schema, list of queries, 404 (missing table, row, database, report, unit, region), 400 and
a forced 500 — shows none of Datasette's English chrome (its template strings and messages,
listed below from Datasette 1.0a41's templates, views and scripts). What is checked is what a
reader sees: text and the title / aria-label / placeholder / alt / button value attributes, not
markup (class names, URLs), not code (``<code>``, ``<pre>``, ``<textarea>``: table and column names,
SQL) and not text deliberately marked ``lang="en"``.

Codes stored in the data (rule codes, item keys, table kinds) are shown by their Chinese names
on HTML pages and stay codes in the JSON and CSV.
"""
from __future__ import annotations

import re
import sqlite3
import urllib.parse
from html.parser import HTMLParser

import pytest
import yaml
from datasette.utils import path_from_row_pks

from jixiao.labels import CODES, Labels
from tests.conftest import ROOT, connect

QUERIES = yaml.safe_load((ROOT / "datasette.yml").read_text(encoding="utf-8"))["databases"]["jixiao"]["queries"]
SEARCH_QUERIES = {"search", "search_hits"}  # need a word
# The stored queries of the site's comparisons and lists: Chinese titles and descriptions, notes for
# developers in ``api`` (the others' titles are shown through zh_text, which keeps their Chinese).
SITE_QUERIES = ("compare_units", "three_public", "execution_rate_ranking", "scores_vs_completion",
                "indicator_across_units", "unit_over_years", "findings_overview", "latest_reports")

# Datasette 1.0a41's English chrome: phrases of its templates (row.html, table.html, query.html,
# database.html, error.html, _footer.html, schema.html, query_list.html, index.html …), of its
# Python messages (NotFound, DatasetteError, filters' human descriptions) and of its scripts
# (table.js, column-chooser.js, mobile-column-actions.js).
PHRASES = [
    "This data as", "Links from other tables", "rows from", "row from", "Table not found", "Row not found",
    "Database not found", "Record not found", "Query not found", "Advanced export", "Download",
    "Powered by", "Data license", "Data source", "View and edit SQL", "Custom SQL query", "custom SQL",
    "hidden table", "Apply", "Run SQL", "Format SQL", "Save this query", "Edit SQL", "Show SQL", "hide",
    "Schema for", "No schema", "count all", "rows where", "sorted by", "Suggested facets", "Next page",
    "Internal Server Error", "Not Found", "Bad Request", "Forbidden", "Invalid SQL", "took too long",
    "Cannot sort", "Binary", "Sort ascending", "Sort descending", "Facet by this", "Hide this column",
    "Show all columns", "Choose columns", "Remove this filter", "Add another filter", "Column actions",
    "Read-only", "Trusted", "Not private", "Query filters", "returning", "more than", "Error ",
]
WORDS = re.compile(r"\b(rows?|where|sort|Query|Queries|Database|Tables?|Views?|Search|Home|home|Link|Filters?|"
                   r"Facets?|Owner|Flags|Mode|Visibility|Columns?|Expand|Cancel|Done|bytes|Error)\b")
SKIP = {"script", "style", "code", "pre", "textarea", "template"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Visible(HTMLParser):
    """The text a reader sees: text nodes and reader-facing attributes, without code and scripts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped)

    @property
    def skipping(self):
        return any(s for _, s in self.stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        skip = tag in SKIP or a.get("lang") == "en" or "hidden" in a
        if not (self.skipping or skip):
            for name in ("title", "aria-label", "placeholder", "alt"):
                if a.get(name):
                    self.parts.append(a[name])
            if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
                self.parts.append(a["value"])
        if tag not in VOID:
            self.stack.append((tag, skip))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.parts.append(data)


def visible(html: str) -> str:
    p = Visible()
    p.feed(html)
    return " ".join(" ".join(p.parts).split())


def english_chrome(html: str) -> list[str]:
    text = visible(html)
    found = [p for p in PHRASES if p in text]
    found += sorted({m.group(0) for m in WORDS.finditer(text)})
    return found


def q(value) -> str:
    return urllib.parse.quote(str(value), safe="")


def visitor_tables(db) -> list[str]:
    """Tables and views a visitor can open (the hidden full-text index tables aside)."""
    return [r[0] for r in db.execute("select name from sqlite_master where type in ('table', 'view') "
                                      "and name not like 'sections_fts%' and name not like 'sqlite_%' order by name")]


def row_paths(db) -> dict[str, str]:
    """A row page of every table with a primary key (its first row)."""
    out = {}
    for t in visitor_tables(db):
        pks = [r["name"] for r in sorted(db.execute(f"pragma table_info([{t}])"), key=lambda r: r["pk"]) if r["pk"]]
        if not pks:
            continue
        row = db.execute(f"select * from [{t}] limit 1").fetchone()
        if row is not None:
            out[t] = f"/jixiao/{t}/{path_from_row_pks(row, pks, False)}"
    return out


def assert_chinese(path: str, r) -> None:
    assert '<html lang="zh-CN">' in r.text, path
    found = english_chrome(r.text)
    assert not found, f"{path}: {found}"


# ---------------------------------------------------------------- the checker itself


def test_the_checker_finds_datasette_chrome():
    stock = ('<p>This data as <a href="x.json">json</a></p><h2>Links from other tables</h2>'
             '<li><a href="#">3 rows</a> from report_id in by_nature</li>')
    assert {"This data as", "Links from other tables", "rows"} <= set(english_chrome(stock))
    assert "Table not found" in english_chrome('<div class="message-error">Table not found</div>')
    assert english_chrome('<input type="submit" value="Apply">') == ["Apply"]
    # code, scripts and text marked as English are not chrome; names in markup are not text
    assert english_chrome('<code>rows_count</code><pre>select * from t where x</pre><span lang="en">Query</span>'
                          '<table class="rows-and-columns"><tr><td class="col-rows">报告</td></tr></table>') == []


# ---------------------------------------------------------------- every kind of page


async def test_table_pages(ds, db):
    for t in visitor_tables(db):
        path = f"/jixiao/{t}"
        r = await ds.client.get(path)
        assert r.status_code == 200, path
        assert_chinese(path, r)
    # filtered, sorted, searched, faceted
    rule = db.execute("select rule from findings limit 1").fetchone()[0]
    for path in (f"/jixiao/findings?rule={q(rule)}&_sort_desc=difference", "/jixiao/reports?fiscal_year__gte=2023",
                 "/jixiao/sections?_search=%E8%B0%83%E8%A7%A3", "/jixiao/indicators?_facet=verdict&verdict__not=达成",
                 "/jixiao/findings?_facet_array=lines", "/jixiao/reports?_next=1"):
        r = await ds.client.get(path)
        assert r.status_code == 200, path
        assert_chinese(path, r)


async def test_row_pages(ds, db):
    paths = row_paths(db)
    # (table_cells is a view over its grids: it has no row pages)
    assert {"reports", "evaluations", "indicators", "findings", "sections", "source_tables"} <= set(paths)
    for table, path in paths.items():
        r = await ds.client.get(path)
        assert r.status_code == 200, path
        assert_chinese(path, r)


async def test_database_schema_and_query_list_pages(ds):
    for path in ("/jixiao", "/jixiao/-/schema", "/jixiao/reports/-/schema", "/-/schema", "/jixiao/-/queries",
                 "/-/queries", "/-/versions", "/-/settings"):
        r = await ds.client.get(path)
        assert r.status_code == 200, path
        assert_chinese(path, r)
    # Datasette's instance page (its stock English template): sent to the database page
    r = await ds.client.get("/-/")
    assert r.status_code == 302 and r.headers["location"].endswith("/jixiao")


async def test_query_pages(ds):
    for path in ("/jixiao/-/query?sql=select+report_id%2C+unit_name+from+reports",
                 "/jixiao/-/query?sql=select+rule%2C+severity+from+findings+limit+5",
                 "/jixiao/-/query?sql=select+*+from+no_such_table",
                 "/jixiao/-/query?sql=selec+1",
                 "/jixiao/-/query?sql=select+:x"):
        r = await ds.client.get(path)
        assert r.status_code in (200, 400), path
        assert_chinese(path, r)
    r = await ds.client.get("/jixiao/-/query?sql=select+*+from+no_such_table")
    assert "没有名为“no_such_table”的表" in r.text


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_stored_query_pages(ds, name):
    r = await ds.client.get(f"/jixiao/{name}" + ("?q=%E8%B0%83%E8%A7%A3" if name in SEARCH_QUERIES else ""))
    assert r.status_code == 200
    assert_chinese(name, r)
    page = r.text
    # the SQL is folded away: a closed <details>
    details = re.search(r"<details class=\"query-sql\"([^>]*)>", page)
    assert details and "open" not in details.group(1)
    assert page.index('class="query-sql"') < page.index("<pre id=\"sql-query\"")
    # no developer notes: no run of English words outside code
    text = visible(page)
    assert not re.search(r"\b[A-Za-z]{2,}\s+[A-Za-z]{2,}\s+[A-Za-z]{2,}\b", text), text[:400]


@pytest.mark.parametrize("name", SITE_QUERIES)
def test_stored_query_descriptions_are_for_readers_and_notes_for_developers(name):
    query = QUERIES[name]
    assert query["title"] and not re.search(r"[A-Za-z]", query["title"]), query["title"]
    assert not re.search(r"[A-Za-z]", query["description"]), query["description"]
    assert query.get("api"), f"{name}: its notes for developers (api) go on /api"


async def test_developer_notes_are_on_the_api_page(ds):
    page = (await ds.client.get("/api")).text
    for name, query in QUERIES.items():
        assert f'id="q-{name}"' in page
        if query.get("api"):
            assert " ".join(query["api"].split())[:30] in " ".join(visible(page).split())


async def test_missing_table_row_database_and_pages_are_404_in_chinese(ds):
    for path in ("/jixiao/no_such_table", "/jixiao/reports/no-such-report", "/jixiao/findings/x,99999",
                 "/no_such_database", "/no_such_database/t/r", "/report/" + q("1999-不存在"), "/unit/" + q("不存在的单位"),
                 "/region/" + q("不存在省"), "/jixiao/no_such_table/-/schema"):
        r = await ds.client.get(path)
        assert r.status_code == 404, path
        assert_chinese(path, r)
        assert "未找到" in r.text, path
    assert "没有这张表" in (await ds.client.get("/jixiao/no_such_table")).text
    assert "没有这一行数据" in (await ds.client.get("/jixiao/reports/no-such-report")).text


async def test_forbidden_pages_in_chinese(ds):
    """Datasette's forbidden() renders error.html with a title and no status."""
    for path in ("/-/permissions", "/-/rules", "/jixiao/latest_reports/-/edit"):
        r = await ds.client.get(path)
        assert r.status_code == 403, path
        assert_chinese(path, r)
        assert "无权访问" in r.text


async def test_bad_request_in_chinese(ds):
    r = await ds.client.get("/jixiao/reports?_sort=no_such_column")
    assert r.status_code == 400
    assert_chinese("sort", r)
    assert "不能按“no_such_column”排序" in r.text
    # the JSON keeps Datasette's message for programs
    j = await ds.client.get("/jixiao/reports.json?_sort=no_such_column")
    assert j.status_code == 400 and "Cannot sort" in j.text
    # the search index (contentless, no document sizes: jixiao/search.py) cannot be listed: its page says so
    r = await ds.client.get("/jixiao/sections_fts")
    assert r.status_code == 400
    assert_chinese("sections_fts", r)
    assert "sections_fts 是全文检索索引" in r.text and "/search" in r.text


async def test_a_500_from_a_broken_query_is_in_chinese_and_shows_no_internals(ds, monkeypatch):
    db = ds.get_database("jixiao")
    original = db.execute

    async def broken(sql, *args, **kwargs):
        if "broken_marker" in sql:
            raise RuntimeError("internal failure: secret path /srv/jixiao.db")
        return await original(sql, *args, **kwargs)

    monkeypatch.setattr(db, "execute", broken)
    r = await ds.client.get("/jixiao/-/query?sql=select+%27broken_marker%27")
    assert r.status_code == 500
    assert_chinese("500", r)
    assert "服务器出错" in r.text and "secret path" not in r.text and "RuntimeError" not in r.text
    # Datasette 1.0a41's own 500s: a facet on a missing column (its SQL fails), a bad ?_through=
    for path in ("/jixiao/reports?_facet=no_such_column", "/jixiao/reports?_through=x"):
        r = await ds.client.get(path)
        assert r.status_code == 500, path
        assert_chinese(path, r)
        assert "服务器出错" in r.text and "no such column" not in r.text


# ---------------------------------------------------------------- codes by their names


def test_every_rule_and_warning_code_has_a_chinese_name():
    src = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "jixiao" / "checks").glob("*.py"))
    rules = set(re.findall(r'(?:_f|sum_finding|Finding)\(\s*"([a-z_]+)"', src))
    rules |= set(re.findall(r'"([a-z_]+)",\s*(?:ERROR|DOUBT|NOTE)\b', src))
    assert len(rules) > 40
    assert not rules - set(CODES.columns["findings.rule"]), rules - set(CODES.columns["findings.rule"])
    parse = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "jixiao" / "parse").glob("*.py"))
    codes = set(re.findall(r'Issue\([^,]+,\s*"([a-z_]+)"', parse))
    assert codes and not codes - set(CODES.columns["warnings.code"]), codes - set(CODES.columns["warnings.code"])


def test_names_come_from_where_they_are_declared():
    from jixiao.views import SOURCE_TABLE_NAMES

    headers = yaml.safe_load((ROOT / "jixiao" / "vocab" / "headers.yml").read_text(encoding="utf-8"))
    labels = Labels(QUERIES)
    assert labels.code("three_public_total", "expense_controls", "key") == headers["expense_items"]["three_public_total"][0]
    assert labels.code("total", "funds", "key") == headers["funds_rows"]["total"][0]
    assert labels.code("basic_expenditure", "by_nature", "key") == headers["by_nature"]["basic_expenditure"][0]
    assert labels.code("basic_data", "expense_controls", "source") == SOURCE_TABLE_NAMES["basic_data"]
    assert labels.code("basic_data", "table_cells", "table_kind") == SOURCE_TABLE_NAMES["basic_data"]  # same_as
    assert labels.code("three_public_table", "report_summary", "three_public_source") == SOURCE_TABLE_NAMES["three_public_table"]
    # a stored query's column, by what it holds
    assert labels.code("overseas", "three_public", "key") == headers["expense_items"]["overseas"][0]
    assert labels.code("subtotal_blank", "findings_overview", "rule") == CODES.columns["findings.rule"]["subtotal_blank"]
    # free SQL: a name that holds codes in one place only
    assert labels.code("subtotal_blank", None, "rule") == CODES.columns["findings.rule"]["subtotal_blank"]
    assert labels.code("total", None, "key") == "total"  # funds.key or by_nature.key …: ambiguous, left as it is
    assert labels.code("no_such_code", "findings", "rule") == "no_such_code"


async def test_codes_are_shown_by_their_names_on_html_pages_and_kept_in_json(ds, db):
    rules = [r[0] for r in db.execute("select distinct rule from findings")]
    page = (await ds.client.get("/jixiao/findings?_size=max")).text
    text = visible(page)
    for rule in rules:
        assert CODES.columns["findings.rule"][rule] in text, rule
        assert not re.search(rf"(?<![\w/]){rule}(?![\w])", text), rule
    # the facet of the rule column too
    assert 'data-column="rule"' in page
    rows = (await ds.client.get("/jixiao/findings.json?_shape=array&_size=max")).json()
    assert {r["rule"] for r in rows} == set(rules)
    csv = (await ds.client.get("/jixiao/findings.csv?_size=max")).text
    assert rules[0] in csv
    for path, table, column in (("/jixiao/expense_controls?_size=max", "expense_controls", "key"),
                                ("/jixiao/source_tables", "source_tables", "kind"),
                                ("/jixiao/evaluations", "evaluations", "kind"),
                                ("/jixiao/funds", "funds", "key")):
        text = visible((await ds.client.get(path)).text)
        for (code,) in db.execute(f"select distinct [{column}] from [{table}] where [{column}] is not null"):
            name = CODES.name(f"{table}.{column}", code)
            assert name and name in text, (table, code)
    # a stored query's page shows names for its codes
    text = visible((await ds.client.get("/jixiao/findings_overview?severity=%E9%94%99%E8%AF%AF")).text)
    for (rule,) in db.execute("select distinct rule from findings where severity = '错误'"):
        assert CODES.columns["findings.rule"][rule] in text


def test_zh_code_filter_for_templates():
    from jinja2 import Environment

    from tests.test_site import plugin

    env = Environment()
    plugin("zh_labels").prepare_jinja2_environment(env, None)
    t = env.from_string('{{ r|zh_code("findings", "rule") }}|{{ k|zh_code("source_tables", "kind") }}|{{ x|zh_code }}')
    assert t.render(r="subtotal_blank", k="basic_data", x="as is") == (
        f'{CODES.columns["findings.rule"]["subtotal_blank"]}|基础数据表|as is')


# ---------------------------------------------------------------- in a real browser (last: Playwright's
# sync API holds an event loop while its module-scoped browser is open)


def inner_text_chrome(text: str) -> list[str]:
    found = [p for p in PHRASES if p in text]
    return found + sorted({m.group(0) for m in WORDS.finditer(text)})


def test_in_a_browser_the_words_scripts_write_are_chinese(site_url, chromium_browser, built):
    """What Datasette's scripts add (column menus, filter-row buttons) is translated by
    static/zh-chrome.js; row and error pages read in Chinese as rendered."""
    con = connect(built.db)
    con.row_factory = sqlite3.Row
    rows = row_paths(con)
    con.close()
    page = chromium_browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(site_url + "/jixiao/reports?fiscal_year__gte=2023")
        page.wait_for_selector("th[data-column='unit_name'] .dropdown-menu-icon")
        titles = page.evaluate("Array.from(document.querySelectorAll('.filter-row-icon')).map(e => e.title)")
        assert titles and all(re.search(r"[\u4e00-\u9fff]", t) for t in titles), titles
        page.click("th[data-column='unit_name'] .dropdown-menu-icon")
        menu = page.inner_text(".dropdown-menu")
        assert "升序排列" in menu and not inner_text_chrome(menu) and "Sort" not in menu, menu
        for path in (rows["reports"], rows["findings"], rows["indicators"], "/jixiao/no_such_table",
                     "/jixiao/reports/no-such-report"):
            page.goto(site_url + path)
            text = page.inner_text("body")
            assert not inner_text_chrome(text), (path, inner_text_chrome(text))
    finally:
        page.close()
