"""Issue 13 item 4: each table stays itself.

北塔区 (reports/004_*) prints a 三公经费 table of its own and the 三公 rows of its 基础数据表, with
different figures (公务接待费 0.04 in one, 0.03 in the other). They are never merged: the report
page shows one table per source table, named; report_summary and /compare follow one rule (the
基础数据表 when it prints 三公 figures, else the separate table), written in the data dictionary.
"""
from __future__ import annotations

import re
import urllib.parse



from .conftest import query_rows

BEITA = "2022-邵阳市北塔区司法局-第三方"


def test_the_sample_has_two_tables_that_disagree(built):
    got = query_rows(built.db, "select source, final from expense_controls where report_id = ? and key = 'reception'", BEITA)
    assert {(r["source"], r["final"]) for r in got} == {("basic_data", 0.03), ("three_public_table", 0.04)}


async def test_report_page_keeps_each_table_apart(ds):
    page = (await ds.client.get("/report/" + urllib.parse.quote(BEITA))).text
    section = page[page.index('id="three-public"'):page.index('id="findings"')]
    tables = re.findall(r'<table class="plain numbers three-public" data-source="([a-z_]+)".*?</table>', section, re.S)
    assert sorted(tables) == ["basic_data", "three_public_table"]
    for source, expected in (("basic_data", "0.03"), ("three_public_table", "0.04")):
        body = re.search(rf'data-source="{source}".*?</table>', section, re.S).group(0)
        assert body.count("公务接待费") == 1  # never twice in one table
        reception = re.search(r"公务接待费</td>(.*?)</tr>", body, re.S).group(1)
        assert f">{expected}<" in reception
    assert "<caption>基础数据表" in section and "<caption>三公经费表" in section
    # The key figure says which table it is from.
    figures = page[page.index('id="figures"'):page.index('id="three-public"')]
    assert "来源：基础数据表" in figures


async def test_summary_and_compare_follow_one_rule(ds, built):
    summary = query_rows(built.db, "select * from report_summary where report_id = ?", BEITA)[0]
    assert summary["three_public_source"] == "basic_data"
    # Every report: the summary's 三公 total is a row of the table it names.
    for s in query_rows(built.db, "select * from report_summary where three_public_final is not null"):
        total = query_rows(built.db, "select final, prev_final from expense_controls where report_id = ? and source = ? "
                               "and key = 'three_public_total' order by seq limit 1",
                     s["report_id"], s["three_public_source"])
        assert total and total[0]["final"] == s["three_public_final"], s["report_id"]

    unit = "邵阳市北塔区司法局"
    q = urllib.parse.urlencode({"units": unit, "year": "", "page": "", "_shape": "array"})
    cats = (await ds.client.get(f"/jixiao/three_public.json?{q}")).json()
    key = (await ds.client.get(f"/jixiao/compare_units.json?{q}")).json()
    assert cats and key
    assert {c["source"] for c in cats} == {"basic_data"}  # one table for the whole report
    by = {c["key"]: c for c in cats}
    assert by["reception"]["final"] == 0.03
    # The two panels agree: the 三公 total of one is the 三公 figure of the other.
    assert by["three_public_total"]["final"] == key[0]["three_public_final"]
    assert by["three_public_total"]["prev_final"] == key[0]["three_public_prev_final"]
    assert key[0]["three_public_source"] == "basic_data"

    page = (await ds.client.get("/compare?" + urllib.parse.urlencode({"unit": unit}))).text
    assert "来源表" in page and 'data-source="basic_data">基础数据表' in page


async def test_the_rule_is_in_the_data_dictionary(ds):
    page = (await ds.client.get("/dictionary")).text
    assert 'id="comparison-rules"' in page
    assert "有基础数据表的三公数字时用基础数据表，否则用报告自带的三公经费表" in page
