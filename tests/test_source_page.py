"""Every line number on the site leads to that line of the report's canonical text."""
from __future__ import annotations

import re
import sqlite3
import urllib.parse


from jixiao.textstore import unpack

from .conftest import ROOT


async def test_source_page_anchors_every_line(ds, built):
    con = sqlite3.connect(built.db)
    rid, = con.execute("select report_id from reports order by report_id limit 1").fetchone()
    text = unpack(con.execute("select text from source_texts where report_id = ?", [rid]).fetchone()[0])
    src = (ROOT / "reports" / con.execute("select source_file from reports where report_id = ?", [rid]).fetchone()[0])
    original = src.read_text("utf-8")
    # A text input's canonical text is the file itself (ending in a newline).
    assert text == (original if original.endswith("\n") else original + "\n")
    r = await ds.client.get("/report/" + urllib.parse.quote(rid) + "/source")
    assert r.status_code == 200
    lines = text.split("\n")[:-1]
    assert r.text.count('class="source-line') == len(lines)
    # A figure's line on the page is that line of the text: the stated 三公 total, say.
    item, line = con.execute("select item, line from expense_controls where report_id = ? and line is not null "
                             "order by seq limit 1", [rid]).fetchone()
    assert item in lines[line - 1] or lines[line - 1].strip() in item
    anchor = re.search(rf'id="L{line}"><a class="ln" href="#L{line}">{line}</a><span class="t">([^<]*)</span>', r.text)
    assert anchor and anchor.group(1).strip() == lines[line - 1].strip()


async def test_report_page_links_lines_to_the_source(ds, built):
    con = sqlite3.connect(built.db)
    rid, line = con.execute("select report_id, line from findings where line is not null limit 1").fetchone()
    page = (await ds.client.get("/report/" + urllib.parse.quote(rid))).text
    assert f'/source#L{line}"' in page
    assert "逐行查看报告原文" in page


async def test_unknown_report_source_is_404(ds):
    assert (await ds.client.get("/report/" + urllib.parse.quote("1999-不存在") + "/source")).status_code == 404
