"""Site-side hardening (issue 15: defects 1, 6, 7, 8, 9, 10, 15, 18, 19, 20).

Each test asserts a bounded outcome (a status, a size, that a stream stops, that a path is not
shown), never a duration; timeouts are only safety nets.
"""
from __future__ import annotations

import asyncio
import csv
import io
import shutil
import sqlite3
import threading
import urllib.request
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.conftest import ROOT, running_site, site_for


HYPERLINK = '=HYPERLINK("http://evil.example/","单位")'


def plugin(ds, name):
    from datasette.plugins import pm

    return pm.get_plugin(name)


@pytest.fixture(scope="module")
def tampered(built, tmp_path_factory) -> Path:
    """A copy of the sample database with formula-like text and a 200,000-row table_cells."""
    db = tmp_path_factory.mktemp("tampered") / "jixiao.db"
    shutil.copy(built.db, db)
    con = sqlite3.connect(db)
    rid = con.execute("select report_id from reports order by report_id limit 1").fetchone()[0]
    con.execute("update reports set unit_name = ? where report_id = ?", (HYPERLINK, rid))
    con.execute("""
        with recursive n(i) as (select 1 union all select i + 1 from n where i < 200000),
        v(i, text) as (select i, case i when 1 then '-3.5' when 2 then '+SUM(A1)' when 3 then '@cmd' when 4 then '-x'
                                        when 5 then char(9) || '=1' else printf('%080d', i) end from n)
        insert into table_grids (report_id, table_seq, table_kind, cells)  -- table_cells' storage: one grid a table
        select ?, 9000 + i / 1000, 'filler', json_group_array(json_array(json_array(text, null)))
        from v group by i / 1000""", (rid,))
    con.commit()
    con.close()
    return db


@pytest.fixture
async def tds(tampered):
    return await site_for(tampered)


# ---------------------------------------------------------------- 1: bounded SQL


@pytest.mark.parametrize("sql", [
    "select length(printf('%.*c', 2000000000, 'x'))",
    "select zeroblob(50000000)",
    "select zeroblob(5000000) as b from table_cells limit 10",
    "select printf('%.*c', 3000000, 'x') as s from table_cells limit 20",
])
async def test_huge_values_are_refused_not_built(ds, sql):
    r = await ds.client.get("/jixiao/-/query.json", params={"sql": sql})
    assert r.status_code == 400, (r.status_code, len(r.content))
    assert len(r.content) < 100_000


async def test_canned_queries_and_pages_are_time_limited(ds):
    # every statement of Datasette and of the plugins goes through Database.execute (time-limited)
    r = await ds.client.get("/jixiao/-/query.json", params={
        "sql": "with recursive n(i) as (select 1 union all select i + 1 from n) select count(*) from n"})
    assert r.status_code == 400 and "too long" in r.text


async def test_originals_still_download_under_the_limits(ds, built):
    row = sqlite3.connect(built.db).execute("select report_id, part, file_name, size from source_files "
                                            "order by size desc limit 1").fetchone()
    if row is None:
        pytest.skip("no originals in the sample build")
    import urllib.parse
    url = f"/report/{urllib.parse.quote(row[0], safe='')}/original/{row[1]}/{urllib.parse.quote(row[2], safe='')}"
    r = await ds.client.get(url)
    assert r.status_code == 200 and len(r.content) == row[3]


# ---------------------------------------------------------------- 6: off the event loop, cached


async def test_report_zips_are_built_from_the_database_off_the_event_loop(ds, built, monkeypatch):
    rid = sqlite3.connect(built.db).execute("select report_id from reports limit 1").fetchone()[0]
    machine = plugin(ds, "machine_pages.py")
    threads, report_zip = [], machine._report_zip

    def counting(*a, **k):
        threads.append(threading.current_thread() is threading.main_thread())
        return report_zip(*a, **k)

    monkeypatch.setattr(machine, "_report_zip", counting)
    import urllib.parse
    url = "/download/report/" + urllib.parse.quote(rid, safe="") + ".zip"
    first, second = await ds.client.get(url), await ds.client.get(url)
    assert first.status_code == second.status_code == 200 and first.content == second.content
    assert threads == [False, False]


async def test_zips_and_workbooks_are_built_off_the_event_loop(ds, monkeypatch, tmp_path):
    machine = plugin(ds, "machine_pages.py")
    monkeypatch.setattr(machine, "ZIP_CACHE", tmp_path)
    excel = plugin(ds, "excel_downloads.py")
    threads = []
    corpus_zip, workbook_bytes = machine.package.corpus_zip, excel.workbook_bytes

    def zf(*a, **k):
        threads.append(("zip", threading.current_thread() is threading.main_thread()))
        return corpus_zip(*a, **k)

    def wb(*a, **k):
        threads.append(("xlsx", threading.current_thread() is threading.main_thread()))
        return workbook_bytes(*a, **k)

    monkeypatch.setattr(machine.package, "corpus_zip", zf)
    monkeypatch.setattr(excel, "workbook_bytes", wb)
    first = await ds.client.get("/download/jixiao-datapackage.zip")
    assert first.status_code == 200
    second = await ds.client.get("/download/jixiao-datapackage.zip")
    assert second.status_code == 200 and second.content == first.content
    zipfile.ZipFile(io.BytesIO(second.content)).testzip()
    assert (await ds.client.get("/jixiao/reports.xlsx")).status_code == 200
    assert ("zip", False) in threads and ("xlsx", False) in threads
    assert ("zip", True) not in threads and ("xlsx", True) not in threads
    assert sum(1 for kind, _ in threads if kind == "zip") == 1  # the corpus zip is built once


# ---------------------------------------------------------------- 7: abandoned streams stop


async def test_abandoned_csv_stream_stops(tds):
    app = tds.app()
    chunks = []
    gone = asyncio.Event()
    scope = {"type": "http", "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/jixiao/table_cells.csv", "raw_path": b"/jixiao/table_cells.csv",
             "query_string": b"_stream=1", "root_path": "",
             "headers": [(b"host", b"localhost")], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    received = 0

    async def receive():
        nonlocal received
        received += 1
        if received == 1:
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message):  # like uvicorn: sending after a disconnect is silently dropped
        if message["type"] == "http.response.body" and message.get("body"):
            chunks.append(len(message["body"]))
            gone.set()  # the client hangs up after the first chunk

    await asyncio.wait_for(app(scope, receive, send), timeout=120)
    # 200,000 rows (~20 MB of CSV, 40 pages of 5,000); an abandoned stream stops within a page
    assert sum(chunks) < 2_000_000, (len(chunks), sum(chunks))


# ---------------------------------------------------------------- 8: search never 500


@pytest.mark.parametrize("q", ["的 " * 400, '"', "*", "NEAR(", "a OR", "^", "\x00", "x" * 5000, "(((", "调解"])
async def test_search_never_500(ds, q):
    r = await ds.client.get("/search", params={"q": q})
    assert r.status_code in (200, 400), r.status_code
    if r.status_code == 400:
        assert "检索" in r.text


async def test_long_search_is_a_400_in_chinese(ds):
    r = await ds.client.get("/search", params={"q": "的 " * 400})
    assert r.status_code == 400 and "检索" in r.text


# ---------------------------------------------------------------- 9: no live formula in Excel CSV


def csv_cells(text):
    return [c for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) for c in row]


@pytest.mark.parametrize("stream", [False, True])
async def test_excel_csv_neutralises_formulas(tds, stream):
    qs = "_dl=1&_bom=1&_size=max&table_seq__gte=9000&table_seq__lt=9001" + ("&_stream=1" if stream else "")
    r = await tds.client.get(f"/jixiao/table_cells.csv?{qs}")
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    cells = csv_cells(r.content.decode("utf-8"))
    assert "-3.5" in cells  # a negative number stays a number
    for bad in ("+SUM(A1)", "@cmd", "-x", "\t=1"):
        assert bad not in cells and "'" + bad in cells
    r = await tds.client.get("/jixiao/reports.csv?_dl=1&_bom=1")
    cells = csv_cells(r.content.decode("utf-8"))
    assert HYPERLINK not in cells and "'" + HYPERLINK in cells
    # the plain CSV stays exact
    r = await tds.client.get("/jixiao/reports.csv")
    assert HYPERLINK in csv_cells(r.text)


async def test_downloads_page_documents_the_excel_csv(ds):
    for page in ("/downloads", "/api"):
        text = (await ds.client.get(page)).text
        assert "公式" in text, page


# ---------------------------------------------------------------- 10: truncated workbooks say so


async def test_truncated_xlsx_says_so(tds, monkeypatch):
    excel = plugin(tds, "excel_downloads.py")
    monkeypatch.setattr(excel, "MAX_XLSX_ROWS", 12)
    r = await tds.client.get("/jixiao/table_cells.xlsx?_size=5")
    assert r.status_code == 200
    assert r.headers.get("x-rows-truncated") == "12"
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.worksheets[0].title == "说明" and wb.worksheets[1].max_row == 13  # titles + 12 rows
    note = wb["说明"]
    text = " ".join(str(c.value) for row in note.iter_rows() for c in row if c.value)
    assert "12" in text and "截断" in text
    # a query cut at max_returned_rows says so too
    r = await tds.client.get("/jixiao/-/query.xlsx", params={"sql": "select report_id, text from table_cells"})
    assert r.status_code == 200 and r.headers.get("x-rows-truncated")
    assert "说明" in load_workbook(io.BytesIO(r.content)).sheetnames
    # a complete one has no note
    r = await tds.client.get("/jixiao/reports.xlsx")
    assert "x-rows-truncated" not in r.headers and "说明" not in load_workbook(io.BytesIO(r.content)).sheetnames


# ---------------------------------------------------------------- 15: any database file name


async def test_any_database_name_and_packages_folder(built, tmp_path):
    from jixiao.serve import Site, make_datasette

    other = tmp_path / "other-name.db"
    shutil.copy(built.db, other)
    rid = sqlite3.connect(other).execute("select report_id from reports limit 1").fetchone()[0]
    import urllib.parse
    zip_url = "/download/report/" + urllib.parse.quote(rid, safe="") + ".zip"
    ds = make_datasette(Site(ROOT, db_path=other, packages_path=built.packages))
    await ds.invoke_startup()
    for url in ("/", "/search?q=调解", "/compare", "/downloads", "/api", "/jixiao/reports", zip_url,
                "/download/jixiao-datapackage.zip", "/sitemap.xml"):
        r = await ds.client.get(url)
        assert r.status_code == 200, (url, r.status_code)
    empty = tmp_path / "no-packages"
    empty.mkdir()
    ds = make_datasette(Site(ROOT, db_path=other, packages_path=empty))
    await ds.invoke_startup()
    assert (await ds.client.get(zip_url)).status_code == 200  # a report's package comes from the database
    assert (await ds.client.get("/download/jixiao-datapackage.zip")).status_code == 404


def test_jixiao_serve_any_db_name(built, tmp_path):
    other = tmp_path / "served.db"
    shutil.copy(built.db, other)
    with running_site(other) as base:
        for path in ("/", "/downloads", "/search?q=%E8%B0%83"):
            with urllib.request.urlopen(base + path, timeout=60) as r:
                assert r.status == 200, path


# ---------------------------------------------------------------- 18: no Host header in cached URLs


async def test_sitemap_and_feed_ignore_the_host_header(ds):
    for path in ("/sitemap.xml", "/feed.atom", "/robots.txt"):
        r = await ds.client.get(path, headers={"host": "evil.example"})
        assert r.status_code == 200 and "evil.example" not in r.text, path
    r = await ds.client.get("/sitemap.xml")
    assert "<loc>http://127.0.0.1:8001/report/" in r.text


# ---------------------------------------------------------------- 19: methods, cookies, tracebacks


async def test_unsafe_methods_are_405_without_cookies(ds):
    r = await ds.client.post("/-/messages", data={"message": "x", "message_type": "bad"})
    assert r.status_code == 405 and "set-cookie" not in r.headers and "Traceback" not in r.text
    for method in ("PUT", "TRACE", "DELETE", "PATCH", "POST"):
        for path in ("/", "/jixiao/reports", "/search", "/report/x"):
            r = await ds.client.request(method, path)
            assert r.status_code == 405, (method, path, r.status_code)
            assert "GET" in r.headers["allow"] and "set-cookie" not in r.headers
    for path in ("/", "/jixiao/-/query?sql=select+1", "/-/messages", "/jixiao/reports", "/search?q=调解"):
        r = await ds.client.get(path)
        assert "set-cookie" not in r.headers, path


# ---------------------------------------------------------------- 20: no file paths


@pytest.mark.parametrize("sql", ["select * from pragma_database_list",
                                 "select file from pragma_database_list()",
                                 "select group_concat(file) from pragma_database_list"])
async def test_database_path_is_not_disclosed(ds, built, sql):
    r = await ds.client.get("/jixiao/-/query.json", params={"sql": sql})
    assert str(built.db.parent) not in r.text and str(built.db.name) not in r.text
    assert r.status_code in (200, 400, 403)


def test_serve_cli_passes_packages_and_site_url(monkeypatch, tmp_path):
    """`jixiao serve --packages DIR --site-url URL` reaches the site's configuration (15, 18)."""
    from click.testing import CliRunner

    import jixiao.serve
    from jixiao.cli import cli

    seen = {}
    monkeypatch.setattr(jixiao.serve, "serve", lambda site, host, port, **options: seen.update(site=site))
    res = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "x.db"), "--packages", str(tmp_path),
                                   "--site-url", "https://jixiao.example.org"])
    assert res.exit_code == 0, res.output
    config = seen["site"].plugin_config()
    assert config["packages"] == str(tmp_path.resolve()) and config["site_url"] == "https://jixiao.example.org"
