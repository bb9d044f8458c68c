"""Downloads people expect (issue 14.5), in process on the real build of reports/: streamed JSON
of a whole table or query, the Excel CSV's Chinese header, BOM inside the zips, the cut .xlsx's
说明 sheet, robots.txt's absolute Sitemap, and each report's own date in the sitemap and feed."""
from __future__ import annotations

import io
import json
import re
import shutil
import sqlite3
import urllib.parse
import xml.etree.ElementTree as ET
import zipfile

import pytest
from frictionless import Package
from openpyxl import load_workbook

from jixiao.pages import twin_urls

from .conftest import query_rows, site_for

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def plugin(name):
    from datasette.plugins import pm

    return pm.get_plugin(name)


# ---------------------------------------------------------------- streamed JSON


async def test_json_stream_gives_every_row_across_pages(ds, built):
    ds._settings["max_returned_rows"] = ds.max_returned_rows = 100  # table_cells: 2,151 rows → 22 pages
    page = (await ds.client.get("/jixiao/table_cells.json?_size=max")).json()
    assert len(page["rows"]) == 100 and page["next"]
    r = await ds.client.get("/jixiao/table_cells.json?_stream=1")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json; charset=utf-8"
    rows = json.loads(r.text)
    want = query_rows(built.db, "select report_id, table_seq, row, col, text from table_cells")
    assert len(rows) == len(want) == 2151
    assert {(x["report_id"], x["table_seq"], x["row"], x["col"], x["text"]) for x in rows} == \
        {tuple(w.values()) for w in want}
    # filters and sort of the page are kept; numbers stay numbers, null stays null
    r = await ds.client.get("/jixiao/indicators.json?" + urllib.parse.urlencode(
        {"report_id": "2024-岳阳市司法局", "_sort": "seq", "_stream": "1", "_dl": "1", "_shape": "array"}))
    rows = json.loads(r.text)
    assert r.headers["content-disposition"] == "attachment; filename*=UTF-8''indicators.json"
    assert len(rows) == 20 and {x["report_id"] for x in rows} == {"2024-岳阳市司法局"}
    assert any(isinstance(x["weight"], float) for x in rows) and any(x["note"] is None for x in rows)


async def test_json_stream_of_a_canned_query(ds, built):
    r = await ds.client.get("/jixiao/compare_units.json?_stream=1")
    rows = json.loads(r.text)
    page = (await ds.client.get("/jixiao/compare_units.json?_shape=array")).json()
    assert rows == page and len(rows) == 5 and "x-rows-truncated" not in r.headers
    ds._settings["max_returned_rows"] = ds.max_returned_rows = 2  # a query is cut at max_returned_rows, as its CSV: and says so
    r = await ds.client.get("/jixiao/compare_units.json?_stream=1")
    assert len(json.loads(r.text)) == 2 and r.headers["x-rows-truncated"] == "1"


async def test_json_stream_keeps_the_csv_stream_limits(ds):
    ds._settings["max_csv_mb"] = 0.05  # ~52 KB: table_cells is longer
    r = await ds.client.get("/jixiao/table_cells.json?_stream=1")
    assert r.status_code == 200 and len(r.content) <= 0.05 * 1024 * 1024
    with pytest.raises(ValueError):  # cut: left unclosed, so no parser takes it for the whole table
        json.loads(r.text)
    ds._settings["allow_csv_stream"] = False
    r = await ds.client.get("/jixiao/reports.json?_stream=1")
    assert r.status_code == 400 and "allow_csv_stream" in r.json()["error"]
    ds._settings["allow_csv_stream"] = True
    r = await ds.client.get("/jixiao/no_such_table.json?_stream=1")
    assert r.status_code == 404


async def test_json_links_point_to_the_stream(ds):
    html = (await ds.client.get("/jixiao/indicators?report_id=2024-岳阳市司法局")).text
    href = re.search(r'<a class="json" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "_stream=1" in href and "report_id=" in href
    rows = json.loads((await ds.client.get(href)).text)
    assert len(rows) == 20
    twins = twin_urls(ds, "compare_units", {})
    assert twins["json"].endswith("&_stream=1")
    assert len(json.loads((await ds.client.get(twins["json"])).text)) == 5
    downloads = (await ds.client.get("/downloads")).text
    assert "/jixiao/table_cells.json?_stream=1" in downloads and "_shape=array" not in downloads


async def test_a_streamed_csv_reads_its_rows_in_full_batches(ds, built):
    mod = plugin("excel_downloads.py")  # the module the site runs
    assert mod.stream_in_full(b"_stream=1") == b"_stream=1&_size=1000&_nofacet=1&_nocount=1"
    assert mod.stream_in_full(b"_dl=1&_bom=1&_stream=on") == b"_dl=1&_bom=1&_stream=on&_size=1000&_nofacet=1&_nocount=1"
    assert mod.stream_in_full(b"_size=5&_stream=1") == b"_size=5&_stream=1&_nofacet=1&_nocount=1"  # its size kept
    for untouched in (b"", b"_stream=", b"report_id=x", b"_stream=1&_size=5&_nofacet=1&_nocount=1"):
        assert mod.stream_in_full(untouched) == untouched
    # the same rows, in the same order, as 50-row batches (_size=50) or one whole page
    streamed = (await ds.client.get("/jixiao/indicators.csv?_stream=1")).text
    in_fifties = (await ds.client.get("/jixiao/indicators.csv?_stream=1&_size=50")).text
    whole = (await ds.client.get("/jixiao/indicators.csv?_size=max")).text
    assert streamed == in_fifties == whole
    assert len(streamed.splitlines()) == 1 + sqlite3.connect(built.db).execute("select count(*) from indicators").fetchone()[0]
    # batches of 1,000 rows (jixiao.pages.STREAM_BATCH), never more than max_returned_rows (a larger _size is refused)
    saved = ds._settings["max_returned_rows"], ds.max_returned_rows
    ds._settings["max_returned_rows"] = ds.max_returned_rows = 50
    try:
        assert mod.stream_in_full(b"_stream=1", ds) == b"_stream=1&_size=50&_nofacet=1&_nocount=1"
        r = await ds.client.get("/jixiao/indicators.csv?_stream=1")
        assert r.status_code == 200 and r.text == whole and len(whole.splitlines()) > 2 * 50
    finally:
        ds._settings["max_returned_rows"], ds.max_returned_rows = saved


async def test_a_streamed_csv_is_sent_in_large_messages(ds):
    # Datasette writes one ASGI message per row; the plugin gathers them (Coalesced) into ~64 KB
    # messages, the body unchanged and the last message the only one without more_body
    mod = plugin("excel_downloads.py")  # the module the site runs
    sent = []

    async def send(message):
        sent.append(message)

    out = mod.Coalesced(send)
    rows = [f"{i},{'行' * (i % 50)}\n".encode() for i in range(20_000)]
    await out({"type": "http.response.start", "status": 200, "headers": []})
    for row in rows:
        await out({"type": "http.response.body", "body": row, "more_body": True})
    await out({"type": "http.response.body", "body": b"", "more_body": False})
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    assert sent[0]["type"] == "http.response.start"
    assert b"".join(m["body"] for m in bodies) == b"".join(rows)
    assert [m["more_body"] for m in bodies] == [True] * (len(bodies) - 1) + [False]
    assert len(bodies) <= len(b"".join(rows)) // mod.Coalesced.SIZE + 1  # 20,000 rows, 25 messages
    assert all(len(m["body"]) >= mod.Coalesced.SIZE for m in bodies[:-1])
    # through the site: the same CSV as a whole page, in a few messages
    r = await ds.client.get("/jixiao/indicators.csv?_stream=1")
    assert r.text == (await ds.client.get("/jixiao/indicators.csv?_size=max")).text



async def test_a_csv_cut_after_it_started_fails_instead_of_looking_whole(ds):
    # Datasette ends a started CSV whose next batch fails with the error's text, as if whole; the
    # site drops the connection instead (IncompleteCsv), without sending that text
    mod = plugin("excel_downloads.py")  # the module the site runs
    sent = []

    async def send(message):
        sent.append(message)

    out = mod.Coalesced(send, complete_rows=True)
    await out({"type": "http.response.start", "status": 200, "headers": []})
    await out({"type": "http.response.body", "body": b"a,b\r\n", "more_body": True})
    await out({"type": "http.response.body", "body": b"1,2\r\n", "more_body": True})
    await out({"type": "http.response.body", "body": b"QueryInterrupted: interrupted", "more_body": True})
    with pytest.raises(mod.IncompleteCsv):
        await out({"type": "http.response.body", "body": b"", "more_body": False})
    assert b"QueryInterrupted" not in b"".join(m.get("body", b"") for m in sent)
    for status, body, check in ((200, b"a,b\r\n1,2\r\n", True), (400, b'{"ok": false}', True),
                                (200, b"</textarea></body></html>", False)):  # whole; an error page; _trace
        sent.clear()
        out = mod.Coalesced(send, complete_rows=check)
        await out({"type": "http.response.start", "status": status, "headers": []})
        await out({"type": "http.response.body", "body": body, "more_body": True})
        await out({"type": "http.response.body", "body": b"", "more_body": False})
        assert b"".join(m["body"] for m in sent if m["type"] == "http.response.body") == body
    # through the site: a CSV over max_csv_mb (here ~10 KB) is cut by Datasette after its first rows
    whole = await ds.client.get("/jixiao/indicators.csv?_stream=1")
    assert whole.status_code == 200 and whole.text.endswith("\r\n") and len(whole.content) > 20_000
    saved = ds._settings["max_csv_mb"]
    ds._settings["max_csv_mb"] = 0.01
    try:
        for url in ("/jixiao/indicators.csv?_stream=1", "/jixiao/indicators.csv?_stream=1&_bom=1&_dl=1"):
            with pytest.raises(mod.IncompleteCsv):
                await ds.client.get(url)
    finally:
        ds._settings["max_csv_mb"] = saved


# ---------------------------------------------------------------- Excel CSV, zips, .xlsx


async def test_excel_csv_has_a_chinese_header_and_the_plain_csv_english(ds):
    excel = (await ds.client.get("/jixiao/indicators.csv?_dl=1&_bom=1&_stream=1")).content.decode("utf-8")
    header = excel.splitlines()[0]
    assert header.startswith("\ufeff评价表编号,报告编号,序号,一级指标,二级指标,三级指标")
    assert ",分值,分值（原文）,得分," in header and "evaluation_id" not in header
    assert len(excel.splitlines()) == 1 + 119
    plain = (await ds.client.get("/jixiao/indicators.csv?_stream=1")).text
    assert plain.startswith("evaluation_id,report_id,seq,level1,")
    query = (await ds.client.get("/jixiao/compare_units.csv?_bom=1")).content.decode("utf-8")
    assert query.startswith("\ufeff报告编号,单位名称,年度,")


async def test_csvs_inside_the_zips_have_a_bom(ds, built, tmp_path):
    one = zipfile.ZipFile(io.BytesIO((await ds.client.get(
        "/download/report/" + urllib.parse.quote("2024-岳阳市司法局") + ".zip")).content))
    csvs = [n for n in one.namelist() if n.endswith(".csv")]
    assert csvs and all(one.read(n).startswith(b"\xef\xbb\xbf") for n in csvs)
    r = await ds.client.get("/download/jixiao-datapackage.zip")
    corpus = zipfile.ZipFile(io.BytesIO(r.content))
    csvs = [n for n in corpus.namelist() if n.endswith(".csv")]
    assert len(csvs) == len([n for n in corpus.namelist() if n.endswith(".parquet")]) > 15
    assert all(corpus.read(n).startswith(b"\xef\xbb\xbf") for n in csvs)
    assert corpus.read("jixiao/reports.csv").startswith("\ufeffreport_id,unit_name,".encode())
    corpus.extractall(tmp_path)  # the zipped package (CSV unpacked, with BOM) is valid Frictionless too
    report = Package(str(tmp_path / "jixiao" / "datapackage.json")).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldNumber", "type", "message"])
    f = await ds.client.get("/download/jixiao/indicators.parquet")
    assert f.status_code == 200 and f.content == (built.packages / "jixiao" / "indicators.parquet").read_bytes()
    assert (await ds.client.get("/download/jixiao/..%2Fjixiao.db")).status_code == 404


async def test_a_cut_workbook_opens_on_a_note(ds, monkeypatch):
    excel = plugin("excel_downloads.py")
    monkeypatch.setattr(excel, "MAX_XLSX_ROWS", 50)
    r = await ds.client.get("/jixiao/indicators.xlsx")
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["说明", "indicators", "字段说明"] and r.headers["x-rows-truncated"] == "50"
    assert "只含前 50 行" in wb["说明"]["A1"].value
    assert wb["indicators"].max_row == 51
    whole = load_workbook(io.BytesIO((await ds.client.get("/jixiao/reports.xlsx")).content))
    assert whole.sheetnames == ["reports", "字段说明"]


# ---------------------------------------------------------------- robots, sitemap, feed


async def test_robots_gives_an_absolute_sitemap(ds, built):
    r = await ds.client.get("/robots.txt", headers={"host": "evil.example"})
    assert "Sitemap: http://127.0.0.1:8001/sitemap.xml\n" in r.text  # the configured (default) site URL
    machine = plugin("machine_pages.py")
    ds.config["plugins"]["jixiao"]["site_url"] = "https://jixiao.example.cn/"
    assert "Sitemap: https://jixiao.example.cn/sitemap.xml\n" in (await ds.client.get("/robots.txt")).text
    ds.config["plugins"]["jixiao"]["site_url"] = "http://0.0.0.0:8001"  # bound to every address: not a URL
    r = await ds.client.get("/robots.txt", headers={"host": "data.example.org:8443"})
    assert "Sitemap: http://data.example.org:8443/sitemap.xml\n" in r.text
    r = await ds.client.get("/robots.txt", headers={"host": "bad host\r\nx"})
    assert "Sitemap: http://127.0.0.1:8001/sitemap.xml\n" in r.text
    assert machine.robots_base


async def test_sitemap_and_feed_carry_each_reports_date(built, tmp_path):
    db = tmp_path / "jixiao.db"
    shutil.copy(built.db, db)
    ids = [r["report_id"] for r in query_rows(db, "select report_id from report_builds order by report_id")]
    dates = {rid: f"202{i}-0{i + 1}-1{i}T08:00:00Z" for i, rid in enumerate(ids)}
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany("update report_builds set first_built = ? where report_id = ?",
                         [(d, rid) for rid, d in dates.items()])
    conn.close()
    ds = await site_for(db)
    feed = ET.fromstring((await ds.client.get("/feed.atom")).content)
    entries = {urllib.parse.unquote(e.find(f"{ATOM}id").text.split("/report/")[1]): e.find(f"{ATOM}updated").text
               for e in feed.findall(f"{ATOM}entry")}
    assert entries == dates
    assert feed.find(f"{ATOM}updated").text == max(dates.values())
    assert [urllib.parse.unquote(e.find(f"{ATOM}id").text.split("/report/")[1])
            for e in feed.findall(f"{ATOM}entry")] == sorted(dates, key=dates.get, reverse=True)  # newest first
    sitemap = ET.fromstring((await ds.client.get("/sitemap.xml")).content)
    lastmod = {u.find(f"{SITEMAP}loc").text: u.find(f"{SITEMAP}lastmod").text for u in sitemap}
    for rid, d in dates.items():
        assert lastmod["http://127.0.0.1:8001/report/" + urllib.parse.quote(rid, safe="")] == d
    assert lastmod["http://127.0.0.1:8001/"] == max(dates.values())


async def test_every_download_link_on_the_downloads_page_works(ds):
    page = (await ds.client.get("/downloads")).text
    links = sorted({h.replace("&amp;", "&") for h in re.findall(r'href="(/download/[^"]+)"', page)})
    assert "/download/jixiao/indicators.parquet" in links and "/download/jixiao/indicators.csv.gz" in links
    assert len([h for h in links if h.startswith("/download/report/")]) == 5
    for href in links:
        assert (await ds.client.get(href)).status_code == 200, href
