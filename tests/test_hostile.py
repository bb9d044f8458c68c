"""Hostile text (issue 8): a report whose text carries script tags, event handlers,
``javascript:`` links, markdown with raw HTML, SQL-like strings and very long tokens is built
into a temporary database and served; every page must show it as inert text.

In process (the app that jixiao/serve.py builds) for every kind of page, and in headless
Chromium (skipped with a message when /usr/bin/chromium is absent) to see that no script ran.
"""
from __future__ import annotations

import html.parser
import os
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from jixiao.serve import Site, make_datasette

from .conftest import connect, running_site

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "reports" / "001_7a3827d77ccb6050.txt"
MARK = "document.documentElement.setAttribute('data-pwned','{}')"

# Payloads placed in narrative paragraphs, headings, table cells and the unit name.
PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">点我</a>',
    "[点我](javascript:alert(1))",
    "![图](javascript:alert(1))",
    "**加粗** <b onmouseover=alert(1)>悬停</b> <iframe src=javascript:alert(1)></iframe>",
    "'; DROP TABLE reports; --",
    "\" OR 1=1 --",
    "{{ 7*7 }} {% raw %}",
    f"<script>{MARK.format('script')}</script>",
    f"<img src=x onerror=\"{MARK.format('img')}\">",
    f"<svg onload=\"{MARK.format('svg')}\"></svg>",
    f"</script><script>{MARK.format('break')}</script>",
    f"[调解](javascript:{MARK.format('link')})",
    "超长" + "Ａ" * 3000,
    "x" * 20000,
]
UNIT = "株洲市<b>芦淞区</b>司法局<!--<script>alert(1)</script>"


def hostile_text() -> str:
    text = SAMPLE.read_text(encoding="utf-8")
    lines = text.split("\n")
    # narrative: each payload as its own paragraph after the first heading's text, plus headings
    i = next(k for k, ln in enumerate(lines) if ln.startswith("（二）机构情况"))
    extra = [*PAYLOADS, "（四）<script>alert(1)</script>小标题", f"1.<img src=x onerror=\"{MARK.format('h')}\">"]
    lines[i + 1:i + 1] = extra
    text = "\n".join(lines)
    # table cells: an indicator name, a target and a note
    text = text.replace("\t法律援助案件\n", "\t法律援助案件<img src=x onerror=alert(1)><script>alert(1)</script>\n", 1)
    text = text.replace("\t400件\n", "\t'; DROP TABLE reports; --\n", 1)
    text = text.replace("\t因补贴未及时发放", f"\t[点我](javascript:alert(1)) <svg onload=\"{MARK.format('cell')}\">因补贴未及时发放", 1)
    return text


def hostile_unit_text() -> str:
    """A second report whose unit name (and so report_id and URLs) is hostile."""
    text = SAMPLE.read_text(encoding="utf-8").replace("株洲市芦淞区司法局", UNIT)
    return f"单位名称（盖章）：{UNIT}\n" + text


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory):
    from jixiao.build import build

    d = tmp_path_factory.mktemp("hostile")
    src = d / "reports"
    src.mkdir()
    (src / "hostile.txt").write_text(hostile_text(), encoding="utf-8")
    (src / "hostile_unit.txt").write_text(hostile_unit_text(), encoding="utf-8")
    (src / "000.txt").write_bytes((REPO / "reports" / "000_b20a9b01b0d85700.txt").read_bytes())
    db = d / "out" / "jixiao.db"
    build([src], out=db, packages=d / "out" / "datapackages", cache_dir=None, progress=False, workers=1)
    con = connect(db)
    ids = {r[0]: (r[1], r[2]) for r in con.execute("select source_file, report_id, unit_name from reports")}
    con.close()
    assert set(ids) == {"hostile.txt", "hostile_unit.txt", "000.txt"}, ids
    return db, ids


class Danger(html.parser.HTMLParser):
    """Collects everything in a page that would run script."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script: str | None = None
        self._script_type = ""

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            v = (value or "").strip().lower().replace("\t", "").replace("\n", "")
            if name.startswith("on") and ("alert" in v or "pwned" in v):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "src", "action", "formaction", "xlink:href", "data") and v.startswith(("javascript:", "data:text/html", "vbscript:")):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name == "data-pwned":
                self.found.append(f"<{tag} data-pwned={value!r}>")
        if tag == "script":
            self._script = ""
            self._script_type = dict(attrs).get("type") or ""
        if tag in ("iframe", "object", "embed"):
            self.found.append(f"<{tag}> element")

    def handle_data(self, data):
        if self._script is not None:
            self._script += data

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            body = self._script
            if ("alert(1)" in body or "pwned" in body) and "json" not in self._script_type:
                self.found.append(f"<script>{body[:80]}")
            # Inside a JSON data block '<!--' + '<script' (or '</script') would end or swallow
            # the block early and turn the rest of the page into script text.
            if "json" in self._script_type and ("<!--" in body or "</script" in body.lower()):
                self.found.append("a JSON script block holds a raw <!-- or </script")
            self._script = None


def dangers(page: str) -> list[str]:
    p = Danger()
    p.feed(page)
    p.close()
    return p.found


def pages(ids) -> list[str]:
    rid, _ = ids["hostile.txt"]
    urid, unit = ids["hostile_unit.txt"]
    q = urllib.parse.quote
    return [
        "/",
        f"/report/{q(rid, safe='')}",
        f"/report/{q(urid, safe='')}",
        f"/unit/{q(unit, safe='')}",
        "/search?" + urllib.parse.urlencode({"q": "调解"}),
        "/search?" + urllib.parse.urlencode({"q": "<script>alert(1)</script>"}),
        "/search?" + urllib.parse.urlencode({"q": "DROP TABLE"}),
        "/compare?" + urllib.parse.urlencode([("unit", unit), ("unit", "岳阳市司法局"), ("one_unit", unit)]),
        "/jixiao/sections?" + urllib.parse.urlencode({"_search": "点我"}),
        "/jixiao/sections?" + urllib.parse.urlencode({"report_id": rid}),
        "/jixiao/indicators?" + urllib.parse.urlencode({"report_id": rid}),
        "/jixiao/table_cells?" + urllib.parse.urlencode({"report_id": rid}),
        "/jixiao/reports",
        "/jixiao/reports?" + urllib.parse.urlencode({"_facet": "unit_name"}),
        "/jixiao/search?" + urllib.parse.urlencode({"q": "点我"}),
        "/jixiao/-/query?" + urllib.parse.urlencode({"sql": "select body from sections where body like '%script%'"}),
    ]


@pytest.fixture
async def ds(hostile_db):
    db, _ = hostile_db
    datasette = make_datasette(Site(REPO, db_path=db))
    await datasette.invoke_startup()
    return datasette


def test_payloads_reach_the_database(hostile_db):
    db, ids = hostile_db
    con = connect(db)
    bodies = "\n".join(r[0] or "" for r in con.execute("select body from sections"))
    cells = "\n".join(r[0] or "" for r in con.execute("select text from table_cells"))
    con.close()
    for p in ("<script>alert(1)</script>", "'; DROP TABLE reports; --", "[点我](javascript:alert(1))"):
        assert p in bodies
    assert "<img src=x onerror=alert(1)>" in cells
    assert ids["hostile_unit.txt"][1] and "<script>" in ids["hostile_unit.txt"][1]


async def test_every_page_renders_the_payloads_inert(ds, hostile_db):
    db, ids = hostile_db
    problems = {}
    rendered_escaped = False
    for url in pages(ids):
        r = await ds.client.get(url, follow_redirects=True)
        assert r.status_code == 200, (url, r.status_code, r.text[:300])
        assert "script-src 'self';" in r.headers["content-security-policy"], url  # second line of defence
        found = dangers(r.text)
        if found:
            problems[url] = found
        rendered_escaped |= "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert rendered_escaped, "the payloads were not shown on any page"
    assert not problems, "\n".join(f"{u}: {f[:4]}" for u, f in problems.items())
    # markdown syntax in the narrative is shown as written, not turned into links or images
    report = (await ds.client.get(pages(ids)[1])).text
    assert "<p>[点我](javascript:alert(1))</p>" in report and "<p>![图](javascript:alert(1))</p>" in report


async def test_json_api_returns_payloads_as_data(ds, hostile_db):
    db, ids = hostile_db
    rid, _ = ids["hostile.txt"]
    r = await ds.client.get("/jixiao/sections.json?" + urllib.parse.urlencode({"report_id": rid, "_shape": "array"}))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert any("<script>alert(1)</script>" in (row["body"] or "") for row in r.json())


async def test_sql_strings_are_only_text(ds, hostile_db):
    db, ids = hostile_db
    r = await ds.client.get("/jixiao/reports.json?_shape=array")
    assert len(r.json()) == 3  # the DROP TABLE text dropped nothing


# ----------------------------------------------------------------- a real browser


CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


@pytest.fixture(scope="module")
def server(hostile_db):
    db, _ = hostile_db
    with running_site(db) as base:
        yield base


def console_messages(stderr: str) -> list[str]:
    """The page's console messages from Chromium's log (--enable-logging=stderr --v=0)."""
    return [ln.split("] ", 1)[-1] for ln in stderr.splitlines() if ":CONSOLE" in ln]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make browser installs it): browser check skipped")
def test_no_script_runs_in_chromium(server, hostile_db, tmp_path):
    """H1/H2 in a real browser: no payload runs, the page's own scripts are not blocked by the
    Content-Security-Policy (no console message about it), and the charts on the hostile unit's
    page and on the comparison page are still drawn."""
    db, ids = hostile_db
    problems = {}
    charts = {}
    for url in pages(ids)[:9]:
        profile = tmp_path / f"profile{len(problems)}{abs(hash(url)) % 10000}"
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--enable-logging=stderr", "--v=0",
               f"--user-data-dir={profile}", "--virtual-time-budget=3000", "--dump-dom", server + url]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
        dom = proc.stdout
        assert "</html>" in dom, (url, proc.stderr[-500:])
        found = [f for f in dangers(dom) if "pwned" in f or "<script>" in f or "javascript:" in f or "iframe" in f]
        found += [m for m in console_messages(proc.stderr) if "Content Security Policy" in m or "Uncaught" in m]
        if found:
            problems[url] = found
        charts[url.split("?")[0]] = dom.count('data-rendered="1"')
    assert not problems, "\n".join(f"{u}: {f[:4]}" for u, f in problems.items())
    unit_page = next(u for u in charts if u.startswith("/unit/"))
    assert charts[unit_page] >= 1, charts
    assert charts["/compare"] >= 5, charts


def test_xlsx_keeps_formula_like_text_as_text():
    """A report cell such as ``=HYPERLINK(…)`` must not become a live formula in the .xlsx."""
    import io
    import sys

    from openpyxl import load_workbook

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "plugins"))
    try:
        from excel_downloads import workbook_bytes
    finally:
        sys.path.pop(0)
    rows = [{"text": '=HYPERLINK("http://example.invalid","点我")', "n": 1}, {"text": "=1+1", "n": 2},
            {"text": "普通文字", "n": 3}]
    wb = load_workbook(io.BytesIO(workbook_bytes("t", ["text", "n"], rows, ["文本", "数"])))
    ws = wb.active
    got = [(c.value, c.data_type) for c in ws["A"][1:]]
    assert got == [('=HYPERLINK("http://example.invalid","点我")', "s"), ("=1+1", "s"), ("普通文字", "s")]
    assert [c.value for c in ws["B"][1:]] == [1, 2, 3]
