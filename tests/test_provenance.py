"""Issue 13 item 7: provenance a person can follow.

Every figure on the report page links to the line of the canonical text that prints it (and
that line is highlighted there); the original file is downloadable from the report page,
byte for byte (its sha256 is reports.source_sha256), each file of a bundle too; an optional
reports/sources.csv adds where and when a report was published to the reports table, the
report page, its data package and the Atom feed.
"""
from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import sqlite3
import urllib.parse

import pytest
from datasette.utils import tilde_encode

from jixiao.build import build

from .conftest import ROOT, query_rows, site_for

SAMPLE = ROOT / "reports" / "000_b20a9b01b0d85700.txt"
FIG = re.compile(r'<a class="fig" href="([^"]*)/source#L(\d+)"[^>]*>(.*?)</a>', re.S)


def numbers_in(text):
    """The numbers a figure or a source line prints (1,234.5 / 93.38% / 　94 / 评价得分99分 …)."""
    return [float(m.replace(",", "")) for m in re.findall(r"\d[\d,]*(?:\.\d+)?",
                                                          re.sub(r"<[^>]+>", "", html.unescape(text)))]


async def test_every_figure_links_to_the_line_that_prints_it(built):
    ds = await site_for(built.db)
    checked = 0
    for r in query_rows(built.db, "select r.report_id, jixiao_text(t.text) as text from reports r join source_texts t using (report_id)"):
        lines = r["text"].split("\n")
        page = (await ds.client.get("/report/" + urllib.parse.quote(r["report_id"]))).text
        figures = page[page.index('id="figures"'):page.index('id="findings"')]
        found = FIG.findall(figures)
        # The key figures block: budget, execution, rate, 三公, staff and both scores are all linked.
        block = figures[:figures.index("</div>\n</div>")] if "</div>\n</div>" in figures else figures
        assert len(FIG.findall(block)) >= 8, r["report_id"]
        for _, n, shown in found:
            line = lines[int(n) - 1]
            assert numbers_in(shown)[0] in numbers_in(line), (r["report_id"], n, line, shown)
            checked += 1
    assert checked > 60


async def test_evaluation_figures_are_linked(built):
    ds = await site_for(built.db)
    rid = "2024-岳阳市司法局"
    page = (await ds.client.get("/report/" + urllib.parse.quote(rid))).text
    section = page[page.index('id="evaluations"'):page.index('id="findings"')]
    assert len(FIG.findall(section)) >= 5 * 2  # five figures of each table at least twice over


async def test_the_linked_line_is_highlighted():
    css = (ROOT / "static" / "site.css").read_text("utf-8")
    assert ".source-line:target" in css


async def test_original_file_downloads_byte_for_byte(built):
    ds = await site_for(built.db)
    for r in query_rows(built.db, "select report_id, source_file, source_sha256 from reports"):
        page = (await ds.client.get("/report/" + urllib.parse.quote(r["report_id"]))).text
        links = re.findall(r'<a class="original" href="([^"]+)"', page)
        assert len(links) == 1, r["report_id"]
        got = await ds.client.get(html.unescape(links[0]))
        assert got.status_code == 200
        assert hashlib.sha256(got.content).hexdigest() == r["source_sha256"]
        assert got.content == (ROOT / "reports" / r["source_file"]).read_bytes()
        assert "attachment" in got.headers["content-disposition"]
        assert urllib.parse.quote(r["source_file"]) in got.headers["content-disposition"]
    assert (await ds.client.get("/report/" + urllib.parse.quote("1999-不存在") + "/original/1")).status_code == 404


def test_a_text_original_is_not_stored_twice(built, tmp_path):
    # The samples are Tika .txt files, byte for byte their canonical text: one copy (source_texts).
    from jixiao.textstore import unpack

    rows = query_rows(built.db, "select f.file_name, f.content is null as shared, f.size, t.text "
                                "from source_files f join source_texts t on t.report_id = f.report_id")
    # (its UTF-8 bytes counted in Python: SQL's cast to blob gives the file's encoding, UTF-16)
    assert len(rows) == 5 and all(r["shared"] and len(unpack(r["text"]).encode()) - r["size"] in (0, 1) for r in rows)
    # A file that is not its canonical text (here: a BOM in front) keeps its own bytes.
    from jixiao import originals

    con = sqlite3.connect(":memory:")
    con.execute("create table source_texts (report_id text, text text)")
    con.execute("insert into source_texts values ('r', '甲\n')")
    for data, stored in ((b"\xef\xbb\xbf" + "甲\n".encode(), True), ("甲\n".encode(), False), ("甲".encode(), False),
                         ("甲\n\n".encode(), True)):
        f = tmp_path / "a.txt"
        f.write_bytes(data)
        assert originals.store(con, f, "r", hashlib.sha256(data).hexdigest()) == []
        content = con.execute("select content from source_files where report_id = 'r'").fetchone()[0]
        assert (content == data) if stored else content is None


def test_originals_are_not_stored_when_the_file_changed(tmp_path):
    from jixiao import originals

    f = tmp_path / "a.txt"
    f.write_bytes(b"new")
    con = sqlite3.connect(":memory:")
    con.execute("create table reports (report_id text primary key)")
    problems = originals.store(con, f, "r", hashlib.sha256(b"old").hexdigest())
    assert problems and "changed" in problems[0]
    assert con.execute("select count(*) from source_files").fetchone()[0] == 0


async def test_a_bundle_offers_each_file(tmp_path):
    from .test_bundle import split_sample

    folder = tmp_path / "reports" / "岳阳市司法局2024"
    folder.mkdir(parents=True)
    split_sample(folder)
    db = tmp_path / "out" / "jixiao.db"
    result = build([tmp_path / "reports"], out=db, packages=tmp_path / "out" / "dp", cache_dir=None,
                   progress=False, workers=1)
    assert len(result.reports) == 1 and not result.errors
    parts = query_rows(db, "select part, source_file, source_sha256 from source_parts order by part")
    stored = query_rows(db, "select part, file_name, sha256 from source_files order by part")
    assert [(p["part"], p["source_file"], p["source_sha256"]) for p in parts] == \
        [(s["part"], s["file_name"], s["sha256"]) for s in stored]
    ds = await site_for(db)
    rid = query_rows(db, "select report_id from reports")[0]["report_id"]
    page = (await ds.client.get("/report/" + urllib.parse.quote(rid))).text
    links = re.findall(r'<a class="original" href="([^"]+)"', page)
    assert len(links) == len(parts) >= 3
    for link, p in zip(links, parts):
        got = await ds.client.get(html.unescape(link))
        assert hashlib.sha256(got.content).hexdigest() == p["source_sha256"]
        assert got.content == (folder / p["source_file"]).read_bytes()


@pytest.fixture(scope="module")
def with_sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("sources")
    reports = root / "reports"
    reports.mkdir()
    shutil.copy(SAMPLE, reports / SAMPLE.name)
    shutil.copy(ROOT / "reports" / "001_7a3827d77ccb6050.txt", reports / "001_7a3827d77ccb6050.txt")
    (reports / "sources.csv").write_text(
        "file,source URL,publisher,publication date\n"
        f"{SAMPLE.name},https://www.yueyang.gov.cn/sfj/a.html?x=1&y=2,岳阳市司法局,2025/3/7\n", "utf-8")
    db = root / "out" / "jixiao.db"
    result = build([reports], out=db, packages=root / "out" / "dp", cache_dir=root / "cache", progress=False,
                   workers=1)
    return root, db, result


def test_sources_csv_is_metadata_not_a_report(with_sources):
    root, db, result = with_sources
    assert len(result.reports) == 2 and not result.errors
    got = query_rows(db, "select source_file, source_url, publisher, published_date from reports order by source_file")
    assert got[0] == {"source_file": SAMPLE.name, "source_url": "https://www.yueyang.gov.cn/sfj/a.html?x=1&y=2",
                      "publisher": "岳阳市司法局", "published_date": "2025-03-07"}
    assert got[1]["source_url"] is None  # no row in sources.csv: nothing made up
    # The data package says where the report came from.
    desc = json.loads(next((root / "out" / "dp").rglob("*/datapackage.json")).read_text("utf-8"))
    pkgs = [json.loads(p.read_text("utf-8")) for p in (root / "out" / "dp").rglob("datapackage.json")]
    sources = [s for p in pkgs for s in p["sources"] if s["path"] == SAMPLE.name]
    assert sources and all(s.get("url") == "https://www.yueyang.gov.cn/sfj/a.html?x=1&y=2" and
                           s.get("published") == "2025-03-07" for s in sources)
    assert desc["sources"]


def test_a_changed_sources_csv_rebuilds_the_report(with_sources, tmp_path):
    root, db, _ = with_sources
    reports = root / "reports"
    csv_path = reports / "sources.csv"
    before = csv_path.read_text("utf-8")
    try:
        csv_path.write_text(before.replace("2025/3/7", "2025-03-08"), "utf-8")
        build([reports], out=db, packages=root / "out" / "dp", cache_dir=root / "cache", progress=False, workers=1)
        assert query_rows(db, "select published_date from reports where source_file = ?",
                     SAMPLE.name)[0]["published_date"] == "2025-03-08"
    finally:
        csv_path.write_text(before, "utf-8")
        build([reports], out=db, packages=root / "out" / "dp", cache_dir=root / "cache", progress=False, workers=1)


async def test_source_url_on_the_page_and_in_the_feed(with_sources):
    _, db, _ = with_sources
    ds = await site_for(db)
    rid = query_rows(db, "select report_id from reports where source_url is not null")[0]["report_id"]
    page = (await ds.client.get("/report/" + urllib.parse.quote(rid))).text
    assert 'href="https://www.yueyang.gov.cn/sfj/a.html?x=1&amp;y=2"' in page
    assert "2025-03-07" in page and "岳阳市司法局" in page
    feed = (await ds.client.get("/feed.atom")).text
    assert '<link rel="via" href="https://www.yueyang.gov.cn/sfj/a.html?x=1&amp;y=2"/>' in feed
    assert "<published>2025-03-07T00:00:00Z</published>" in feed


async def test_the_canonical_text_is_stored_compressed(built):
    # One copy of the text, zlib-compressed (jixiao/textstore.py); SQL reads it with jixiao_text().
    rows = query_rows(built.db, "select report_id, typeof(text) as kind, length(text) as stored, lines_count, "
                                "jixiao_text(text) as text from source_texts")
    assert len(rows) == 5
    for r in rows:
        assert r["kind"] == "blob" and r["stored"] < len(r["text"].encode("utf-8")) / 2
        assert r["text"].count("\n") == r["lines_count"]
    ds = await site_for(built.db)
    rid = rows[0]["report_id"]
    got = await ds.client.get("/jixiao/-/query.json", params={"sql": "select jixiao_text(text) as t from source_texts "
                                                             "where report_id = :id", "id": rid, "_shape": "array"})
    assert got.status_code == 200 and got.json()[0]["t"] == rows[0]["text"]
    for url in ("/jixiao/source_texts/" + tilde_encode(rid), "/jixiao/source_texts?report_id=" + urllib.parse.quote(rid)):
        page = (await ds.client.get(url)).text
        assert "规范文本（压缩存储" in page and 'href="/report/' + urllib.parse.quote(rid, safe="") + '/source"' in page
