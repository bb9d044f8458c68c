"""Chinese full-text search through a real in-process Datasette (research/chinese-search.md)."""
from __future__ import annotations

import sqlite3
import unicodedata

import pytest
import yaml
from datasette.app import Datasette

from jixiao.database import escape_fts_cjk, han_split

from .conftest import ROOT

QUERIES = ["法律援助", "调解", "社区矫正", "三公经费", "公务接待", "普法", "预算执行率", "满意度", "政府采购",
           "行政复议", "资产管理", "绩效目标", "专项资金", "法治宣传", "人民调解"]


@pytest.fixture
def ds(built):
    config = yaml.safe_load((ROOT / "datasette.yml").read_text(encoding="utf-8"))
    return Datasette([str(built.db)], config=config, plugins_dir=str(ROOT / "plugins"))


def like_keys(db_path, q, text=False):
    conn = sqlite3.connect(db_path)
    try:
        if text:  # the searchable text of one section
            return conn.execute("select heading || ' ' || body from sections where report_id = ? and seq = ?",
                                q).fetchone()[0]
        return {(r, s) for r, s in conn.execute(
            "select report_id, seq from sections where heading like ? or body like ?", [f"%{q}%"] * 2)}
    finally:
        conn.close()


def without_punctuation(text):
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def test_escape_and_split():
    assert escape_fts_cjk("法律援助") == '"法 律 援 助"'
    assert escape_fts_cjk("法律援助 2024") == '"法 律 援 助" "2024"'
    assert escape_fts_cjk('"法律 援助') == '"法 律 援 助"'
    assert escape_fts_cjk("") == '""'
    assert han_split("调解2048.44万元").replace("\u200b", "") == "调解2048.44万元"
    assert han_split("调解") == "调\u200b解"


async def test_table_search_equals_like(ds, built, capsys):
    total_like = total_hit = extra = 0
    for q in QUERIES:
        r = await ds.client.get("/jixiao/sections.json",
                                params={"_search": q, "_shape": "array", "_size": "max", "_nosuggest": "1"})
        assert r.status_code == 200, r.text
        hits = {(row["report_id"], row["seq"]) for row in r.json()}
        expected = like_keys(built.db, q)
        assert expected, q  # every query has ground truth in the samples
        assert expected <= hits, (q, sorted(expected - hits))  # recall: everything LIKE finds
        # An FTS phrase ignores punctuation between its characters: 三公经费 also finds 严控“三公”经费.
        # Any extra hit must be exactly that, never an unrelated section.
        for key in hits - expected:
            assert q in without_punctuation(like_keys(built.db, key, text=True)), (q, key)
        total_like += len(expected)
        total_hit += len(hits & expected)
        extra += len(hits - expected)
    with capsys.disabled():
        print(f"\nsearch recall on sections: {total_hit}/{total_like} = {total_hit / total_like:.3f}; "
              f"{extra} punctuation-spanning extra hit(s)")
    assert total_hit == total_like


async def test_canned_search_query_ranks_and_highlights(ds):
    r = await ds.client.get("/jixiao/search.json", params={"q": "调解", "_shape": "array"})
    assert r.status_code == 200, r.text
    rows = r.json()
    assert rows and all("【调解】" in row["snippet"] and "\u200b" not in row["snippet"] for row in rows)
    relevance = [row["relevance"] for row in rows]  # -bm25: 0 or more, most relevant first
    assert relevance == sorted(relevance, reverse=True) and min(relevance) >= 0


async def test_empty_search_is_not_an_error(ds):
    r = await ds.client.get("/jixiao/sections.json", params={"_search": "", "_shape": "array"})
    assert r.status_code == 200


# The search_hits formulation it replaced (issue 7): bm25, the section and the snippet of every hit,
# then the filters. The stored query must give exactly these rows, computing far less.
REFERENCE_SEARCH_HITS = """
with hits as (
  select s.report_id, s.seq, s.path, r.unit_name, r.fiscal_year, r.city,
         (select h.heading from sections h
           where h.report_id = s.report_id and h.level <= 1 and h.seq <= s.seq
           order by h.seq desc limit 1) as section,
         replace(snippet(sections_fts, -1, '【', '】', '…', 32), char(8203), '') as snippet,
         s.line_start, abs(round(bm25(sections_fts), 3)) as relevance
  from sections_fts
  join sections s on s.rowid = sections_fts.rowid
  join reports r on r.report_id = s.report_id
  where sections_fts match escape_fts(:q)
  order by rank, sections_fts.rowid
)
select * from hits
where (:unit = '' or unit_name = :unit)
  and (:year = '' or fiscal_year = cast(:year as integer))
  and (:city = '' or city = :city)
  and (:section = '' or section = :section)
limit 200
"""


def test_search_hits_query_equals_the_reference(built):
    from jixiao.database import escape_fts_cjk

    sql = yaml.safe_load((ROOT / "datasette.yml").read_text(encoding="utf-8"))[
        "databases"]["jixiao"]["queries"]["search_hits"]["sql"]
    conn = sqlite3.connect(built.db)
    conn.create_function("escape_fts", 1, escape_fts_cjk, deterministic=True)
    unit, year, city = conn.execute("select unit_name, fiscal_year, city from reports order by report_id").fetchone()
    sections = [h for (h,) in conn.execute("select distinct heading from sections where level = 1 limit 3")]
    checked = 0
    for q in QUERIES[:8] + ["不存在的词语组合", "法律援助 调解"]:
        for filters in ({}, {"unit": unit}, {"year": str(year)}, {"city": city}, {"year": str(year), "city": city},
                        *({"section": s} for s in sections), {"unit": "不存在"}):
            params = {"q": q, "unit": "", "year": "", "city": "", "section": "", **filters}
            expected = conn.execute(REFERENCE_SEARCH_HITS, params).fetchall()
            assert conn.execute(sql, params).fetchall() == expected, params
            checked += bool(expected)
    assert checked > 20
