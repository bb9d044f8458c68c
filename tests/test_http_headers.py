"""HTTP headers for the CDN and the browser (issue 8; plugins/http_headers.py, docs/deploy.md).

In process on the real build of reports/: Cache-Control, X-Content-Type-Options,
Referrer-Policy and Content-Security-Policy on pages, JSON, CSV and downloads; no Set-Cookie on
any anonymous GET; short or no caching of errors; no inline script in any page the CSP would
block. In headless Chromium (skipped when it is absent): Datasette's own scripts (table menus,
the SQL editor) still run under the CSP and the console shows no CSP violation.
"""
from __future__ import annotations

import html.parser
import importlib.util
import json
import re
import shutil
import sqlite3
import subprocess
import tempfile
import urllib.parse
from pathlib import Path

import pytest

from datasette.utils import tilde_encode

from jixiao.serve import Site, ensure_inspect, make_datasette

from .conftest import ROOT, running_site

PAGE = "public, max-age=300, s-maxage=86400"
DOWNLOAD = "public, max-age=3600, s-maxage=86400"


def plugin(name):
    spec = importlib.util.spec_from_file_location(f"headers_test_{name}", ROOT / "plugins" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def ds(built):
    datasette = make_datasette(Site(ROOT, db_path=built.db))
    await datasette.invoke_startup()
    return datasette


@pytest.fixture(scope="module")
def sample(built):
    con = sqlite3.connect(built.db)
    # a report with 三公经费 rows, so its page has a chart
    report_id, unit = con.execute("select report_id, unit_name from reports where report_id in "
                                  "(select report_id from expense_controls where item_group = 'three_public') "
                                  "order by report_id limit 1").fetchone()
    con.close()
    return report_id, unit


def q(s: str) -> str:
    return urllib.parse.quote(s, safe="")


def directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def anonymous_urls(report_id: str, unit: str) -> list[str]:
    return [
        "/", "/search", "/search?" + urllib.parse.urlencode({"q": "调解"}), "/compare", "/downloads", "/dictionary",
        "/api", f"/report/{q(report_id)}", f"/unit/{q(unit)}", "/jixiao", "/jixiao.json", "/jixiao/reports",
        "/jixiao/reports.json", "/jixiao/reports.csv?_dl=1&_bom=1", "/jixiao/reports.xlsx",
        "/jixiao/sections?" + urllib.parse.urlencode({"_search": "调解"}), f"/jixiao/reports/{tilde_encode(report_id)}",
        "/jixiao/search?" + urllib.parse.urlencode({"q": "调解"}), "/jixiao/-/query?sql=select+1",
        "/jixiao/-/queries", "/jixiao.db", f"/download/report/{q(report_id)}.zip", "/robots.txt",
        "/jixiao/reports.json?_stream=1", "/download/jixiao/reports.parquet",
        "/sitemap.xml", "/feed.atom", "/-/versions.json", "/report/no-such-report",
    ]


# ----------------------------------------------------------------- in process


async def test_cache_and_security_headers_on_pages_json_csv_and_downloads(ds, sample):
    report_id, _ = sample
    expected = {
        "/": PAGE,
        f"/report/{q(report_id)}": PAGE,
        "/jixiao/reports": PAGE,
        "/jixiao/reports.json?_shape=array": PAGE,
        "/jixiao/table_cells.json?_stream=1": PAGE,  # streamed JSON (plugins/json_stream.py)
        "/jixiao/table_cells.json?_stream=1&_dl=1": DOWNLOAD,
        "/download/jixiao/reports.parquet": DOWNLOAD,
        "/jixiao/reports.csv": PAGE,
        "/jixiao/reports.csv?_dl=1&_bom=1": DOWNLOAD,
        "/jixiao/reports.xlsx": DOWNLOAD,
        "/jixiao.db": DOWNLOAD,
        f"/download/report/{q(report_id)}.zip": DOWNLOAD,
    }
    for url, cache in expected.items():
        r = await ds.client.get(url)
        assert r.status_code == 200, (url, r.status_code)
        assert r.headers["cache-control"] == cache, (url, r.headers.get("cache-control"))
        assert r.headers["x-content-type-options"] == "nosniff", url
        assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin", url
        csp = directives(r.headers["content-security-policy"])
        assert csp["script-src"] == ["'self'"], (url, csp)
        assert csp["object-src"] == ["'none'"] and csp["default-src"] == ["'self'"]
        assert "set-cookie" not in r.headers, url
    # the CSV download is still Excel's (BOM) and the JSON still has CORS for API clients
    r = await ds.client.get("/jixiao/reports.csv?_dl=1&_bom=1")
    assert r.content.startswith("\ufeff".encode())
    for url in ("/jixiao/reports.json", "/jixiao/reports.json?_stream=1"):
        r = await ds.client.get(url)
        assert r.headers["access-control-allow-origin"] == "*", url


async def test_no_cookie_on_any_anonymous_get(ds, sample):
    for url in anonymous_urls(*sample):
        r = await ds.client.get(url)
        assert r.status_code in (200, 404), (url, r.status_code)
        assert "set-cookie" not in r.headers, (url, r.headers.get("set-cookie"))
        assert "private" not in r.headers.get("cache-control", ""), url
        assert "content-security-policy" in r.headers, url


async def test_errors_are_not_cached_long_and_personal_requests_not_at_all(ds):
    r = await ds.client.get("/report/no-such-report")
    assert r.status_code == 404 and r.headers["cache-control"] == "public, max-age=60"
    r = await ds.client.get("/jixiao/table_cells.json?_size=999999")
    assert r.status_code == 400 and r.headers["cache-control"] == "no-store"
    # (a query stopped by the time limit is a 400 with no-store too: tests/test_load.py)
    r = await ds.client.post("/jixiao/-/query", data={"sql": "select 1"})
    assert r.status_code == 405 and r.headers["cache-control"] == "no-store"
    # a request with a cookie is answered privately (Datasette's rule, kept)
    r = await ds.client.get("/jixiao/reports", cookies={"session": "x"})
    assert r.headers["cache-control"] == "private, no-store"
    # Datasette's developer tools are live state, not data
    r = await ds.client.get("/-/versions.json")
    assert r.headers["cache-control"] == "no-store"
    # static files: hashed URLs keep Datasette's one-year immutable, plain ones an hour
    page = (await ds.client.get("/")).text
    hashed = next(u for u in page.split('"') if u.startswith("/static/site.css?_hash="))
    r = await ds.client.get(hashed)
    assert r.status_code == 200 and "immutable" in r.headers["cache-control"]
    r = await ds.client.get("/static/site.css")
    assert r.headers["cache-control"] == "public, max-age=3600, s-maxage=86400"


class Scripts(html.parser.HTMLParser):
    """What the CSP would block: inline <script> code, on* attributes, javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and not a.get("src") and "json" not in (a.get("type") or ""):
            self.found.append(f"inline <script> at line {self.getpos()[0]}")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value}>")


async def test_no_page_needs_inline_script(ds, sample):
    """script-src 'self' must not break any page: no inline code, no handlers in the HTML."""
    report_id, unit = sample
    urls = [u for u in anonymous_urls(report_id, unit) if not u.endswith((".json", ".csv", ".xlsx", ".db", ".zip",
                                                                            ".txt", ".xml", ".atom", "_bom=1"))]
    urls += ["/jixiao?_show_hidden=1", "/jixiao/reports?_facet=unit_name", "/jixiao/-/schema", "/nonexistent",
             "/jixiao/-/query?sql=select+no_such_column", "/jixiao/indicators/1"]
    problems = {}
    for url in urls:
        r = await ds.client.get(url)
        if "text/html" not in r.headers.get("content-type", ""):
            continue
        p = Scripts()
        p.feed(r.text)
        if p.found:
            problems[url] = p.found
    assert not problems, problems
    # the data Datasette's scripts need is still on the page, as JSON blocks
    page = (await ds.client.get("/jixiao/reports")).text
    assert 'data-window="_datasetteTableData"' in page and "page-data.js" in page
    page = (await ds.client.get("/jixiao")).text
    assert 'id="sql-schema"' in page and "sql-editor.js" in page


def test_templates_have_no_inline_script():
    """Every template, including branches the five samples do not reach (e.g. the unit-name
    suggestions on /compare when there are many units), loads script only from files."""
    problems = []
    for f in sorted((ROOT / "templates").rglob("*.html")):
        text = f.read_text(encoding="utf-8")
        for m in re.finditer(r"<script\b([^>]*)>", text):
            if "src=" not in m.group(1) and "application/json" not in m.group(1):
                problems.append(f"{f.name}:{text[:m.start()].count(chr(10)) + 1} {m.group(0)}")
        problems += [f"{f.name}: {m.group(0)}" for m in re.finditer(r"\son[a-z]+\s*=", text)]
    assert not problems, problems


def test_chart_json_cannot_leave_its_script_block():
    chart_json = plugin("report_pages").chart_json
    option = {"title": {"text": "株洲市<b>芦淞区</b>司法局<!--<script>alert(1)</script> & </script>"}}
    out = chart_json(option)
    assert "<" not in out and ">" not in out and "&" not in out
    assert json.loads(out) == option


def test_narrative_makes_no_links_or_images():
    narrative_html = plugin("report_pages").narrative_html
    body = "\n".join(["[点我](javascript:alert(1))", "![图](javascript:alert(1))", "[y][x]", "[x]: javascript:alert(1)",
                      "[d](data:text/html,<script>alert(1)</script>)", "<https://example.org>", "**加粗**"])
    out = narrative_html([{"seq": 1, "level": 1, "number": "一、", "heading": "h", "line_start": 1, "line_end": 7,
                           "body": body}])
    assert "<a href=\"javascript" not in out and "<img" not in out and "<script" not in out
    # Only the section's own links: its § anchor and its line range in the source text.
    assert out.count("<a ") == 2 and 'class="lines" href="#L1"' in out
    assert "[点我](javascript:alert(1))" in out and "**加粗**" in out  # shown as written


# ----------------------------------------------------------------- a real browser


CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


@pytest.fixture(scope="module")
def server(built):
    site = Site(ROOT, db_path=built.db)
    ensure_inspect(site.db, site.inspect_file)
    with running_site(built.db) as base:
        yield base


def browse(url: str) -> tuple[str, list[str]]:
    """The DOM after scripts ran, and the console messages."""
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                               "--disable-background-networking", "--disable-component-update", "--disable-sync",
                               "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}",
                               "--virtual-time-budget=4000", "--dump-dom", url],
                              capture_output=True, text=True, timeout=90)
    console = [ln.split("] ", 1)[-1] for ln in done.stderr.splitlines() if ":CONSOLE" in ln]
    return done.stdout, console


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium not found (/usr/bin/chromium): browser check skipped")
def test_datasette_scripts_run_under_the_csp(server, sample):
    report_id, _ = sample
    checks = {
        "/jixiao/reports": "dropdown-menu-icon",  # table.js added the column menus
        "/jixiao": "cm-editor",  # the SQL editor (CodeMirror) was set up
        "/jixiao/-/query?sql=select+1": "cm-editor",
        f"/report/{q(report_id)}": 'data-rendered="1"',  # ECharts drew the chart
    }
    problems = {}
    for path, mark in checks.items():
        dom, console = browse(server + path)
        assert "</html>" in dom, path
        blocked = [m for m in console if "Content Security Policy" in m or "Uncaught" in m]
        if blocked or mark not in dom:
            problems[path] = (blocked[:3], f"{mark!r} in DOM: {mark in dom}")
    assert not problems, problems
