"""Chinese full-text search through a real in-process Datasette (research/chinese-search.md).

Recall is checked per kind of hit (正文, 表格, 指标, 发现) against a plain substring match (what
``LIKE '%w%'`` finds) for every 2-character Han word of the samples.
"""
from __future__ import annotations

import json
import re
import sqlite3
import unicodedata

import pytest
import yaml

from jixiao import search, search_queries
from jixiao.search import escape_fts_cjk, index_text

from .conftest import REPORTS, ROOT

QUERIES = ["法律援助", "调解", "社区矫正", "三公经费", "公务接待", "普法", "预算执行率", "满意度", "政府采购",
           "行政复议", "资产管理", "绩效目标", "专项资金", "法治宣传", "人民调解"]
EMPTY = {k: "" for k in (*search_queries.FILTERS, "page")}


def connect(path):
    conn = sqlite3.connect(path)
    search.register_functions(conn)
    return conn


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


def documents_by_kind(conn):
    """Every indexed document's original fields, by kind: {kind: {doc rowid: [field texts]}}."""
    docs = {k: {} for k in search.KINDS}
    for rowid, h, b in conn.execute("select rowid, heading, body from sections"):
        docs["section"][rowid] = [h or "", b or ""]
    indicators = {}  # (report_id, line) → indicator doc ids
    for rowid, report_id, line, *f in conn.execute("select rowid, report_id, line, level3, level1, level2, target, "
                                                   "actual, note, standard from indicators"):
        docs["indicator"][(2 << 56) | rowid] = [x or "" for x in f]
        indicators.setdefault((report_id, line), []).append((2 << 56) | rowid)
    # a table row whose first line is an indicator's line is that indicator's document
    for st, report_id, row, first, texts in conn.execute(
            "select t.rowid, c.report_id, c.row, min(c.line), json_group_array(coalesce(c.text, '')) "
            "from table_cells c join source_tables t on t.report_id = c.report_id and t.table_seq = c.table_seq "
            "group by t.rowid, c.row"):
        for doc in indicators.get((report_id, first), [(1 << 56) | (st << 20) | row]):
            docs["indicator" if doc >> 56 == 2 else "table"].setdefault(doc, []).extend(json.loads(texts))
    for rowid, *f in conn.execute("select rowid, message, expected, actual from findings"):
        docs["finding"][(3 << 56) | rowid] = [x or "" for x in f]
    return docs


def test_escape_and_split():
    law = '("法律" AND "律援" AND "援助")'
    assert escape_fts_cjk("法律援助") == f"({law})"
    assert escape_fts_cjk("法律援助 2024") == f'({law}) AND ("2024")'
    assert escape_fts_cjk('"法律援助') == f"({law})"
    assert escape_fts_cjk('"法律 援助"') == '(("法律" AND "援助"))'  # a phrase: its tokens; the text decides (score)
    assert escape_fts_cjk("调解 OR 普法") == '("调解" OR "普法")'
    assert escape_fts_cjk("法律援助 -调解") == f'(({law})) NOT "调解"'
    assert escape_fts_cjk("調解") == escape_fts_cjk("调解") == '("调解")'
    assert escape_fts_cjk("法") == '("法"*)' and escape_fts_cjk("2024年") == '(("2024" AND "年"*))'
    for nothing in ("", "-调解", '"', "！？", "OR"):
        assert escape_fts_cjk(nothing) == '""'
    # each Han run: its bigrams and its last character; other text as it is; Traditional folded
    assert index_text("调解2048.44万元") == "调解 解 2048.44 万元 元"
    assert index_text("法律援助，年") == "法律 律援 援助 助 ， 年"
    assert index_text("調解\u200b與") == "调解 解与 与"
    assert search.fold("調解與監督") == "调解与监督" and len(search.fold("體")) == 1


def test_parse_query():
    q = search.parse_query('人民调解 OR 普法 "法律 援助" -社区矫正 -"三公"')
    assert q.groups == [["人民调解", "普法"], ["法律 援助"]] and q.exclude == ["社区矫正", "三公"]
    assert search.parse_query("A B OR C").groups == [["A"], ["B", "C"]]
    with pytest.raises(search.OnlyExcluded):
        search.check_query(search.parse_query("-调解"))
    with pytest.raises(search.QueryError):
        search.check_query(search.parse_query(" ".join("调解" for _ in range(search.MAX_TERMS + 1))))


def test_snippet_marks_every_hit_near_the_first():
    text = "前言。" + "甲" * 100 + "本年人民調解成功率100%，【重点】普法宣传。调解员" + "乙" * 200
    s = search.snippet(text, "调解 OR 普法")
    assert s.startswith("…") and s.endswith("…") and len(s) <= search.SNIPPET_CHARS + 20
    assert "人民【調解】成功率" in s and "【普法】宣传" in s and "【调解】员" in s
    assert "［重点］" in s  # the text's own brackets are not taken for hits
    assert search.snippet("没有命中的文字", "调解") == "没有命中的文字"
    assert search.snippet("三公“经费”", "三公经费") == "【三公“经费】”"  # as FTS: punctuation between tokens


def test_recall_equals_substring_match_for_every_kind(built, capsys):
    """Every 2-character Han word of the samples: the index finds every document whose text
    contains it (per kind), and nothing beyond a phrase spanning punctuation or a field border."""
    conn = connect(built.db)
    docs = documents_by_kind(conn)
    words = set()
    for path in sorted(REPORTS.glob("*.txt")):
        for run in re.findall(r"[\u4e00-\u9fff]+", path.read_text(encoding="utf-8")):
            words.update(run[i:i + 2] for i in range(len(run) - 1))
    words = sorted(words)
    # the ground truth is a substring match; on a few words it is checked to equal LIKE itself
    for w in words[::400]:
        like = {r for (r,) in conn.execute("select rowid from sections where heading like ? or body like ?",
                                           [f"%{w}%"] * 2)}
        assert like == {r for r, f in docs["section"].items() if any(w in x for x in f)}, w
    found = {k: 0 for k in search.KINDS}
    for w in words:
        hits = {r for (r,) in conn.execute("select rowid from sections_fts where sections_fts match ?",
                                           [escape_fts_cjk(w)])}
        for kind, by_id in docs.items():
            expected = {r for r, f in by_id.items() if any(w in x for x in f)}
            assert expected <= hits, (w, kind, sorted(expected - hits)[:3])
            found[kind] += len(expected)
            for r in hits & by_id.keys() - expected:  # extra: only across punctuation or a field border
                fields = [without_punctuation(x) for x in by_id[r] if without_punctuation(x)]
                assert any(w in x for x in fields) or (any(x.endswith(w[0]) for x in fields)
                                                       and any(x.startswith(w[1]) for x in fields)), (w, kind, r)
    conn.close()
    with capsys.disabled():
        print(f"\nsearch recall: {len(words)} two-character words, every (word, document) pair LIKE finds is "
              f"found: {found}")
    assert all(found.values())


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
    assert {row["kind"] for row in rows} == set(search.KINDS)
    assert rows and all("【调解】" in row["snippet"] and "\u200b" not in row["snippet"] for row in rows)
    relevance = [row["relevance"] for row in rows]  # 0 or more, most relevant first
    assert relevance == sorted(relevance, reverse=True) and min(relevance) >= 0


async def test_empty_search_is_not_an_error(ds):
    r = await ds.client.get("/jixiao/sections.json", params={"_search": "", "_shape": "array"})
    assert r.status_code == 200


def test_stored_queries_are_the_ones_search_py_runs():
    queries = yaml.safe_load((ROOT / "datasette.yml").read_text(encoding="utf-8"))["databases"]["jixiao"]["queries"]
    assert queries["search"]["sql"] == search_queries.SEARCH_SQL
    assert queries["search_hits"]["sql"] == search_queries.SEARCH_HITS_SQL


def test_search_hits_are_the_best_candidates_in_rank_order(built):
    conn = connect(built.db)
    for q in ["调解", "调解 OR 普法", "酌情扣分", "法律援助 -调解"]:
        cands = conn.execute(search_queries.CANDIDATES_SQL, {"q": q, **EMPTY}).fetchall()
        ranked = sorted(cands, key=lambda r: (r[1], r[0]))
        pages = []
        for page in range(1, len(ranked) // search_queries.PAGE_SIZE + 2):
            rows = conn.execute(search_queries.SEARCH_HITS_SQL, {"q": q, **EMPTY, "page": str(page)}).fetchall()
            # what /search shows: the same rows from the candidates it already has
            assert conn.execute(search_queries.DETAILS_SQL, {"q": q, "top": search_queries.page_of(cands, page)}).fetchall() == rows
            pages += rows
        assert len(pages) == len(ranked) > 0, q
        assert [round(-r[1], 3) for r in ranked] == [row[-1] for row in pages], q
    conn.close()


def test_site_hits_are_exactly_the_documents_holding_the_word(built, capsys):
    """The site's candidates (what /search and search_hits rank): every document whose text holds
    the word, and no other, for every 10th two-character and every 20th three- and four-character
    Han word of the samples. The index alone proposes more for the longer ones (bigrams apart);
    the text decides. The one allowed miss: an indicator whose word stands only in a cell of its
    table row that none of its own columns holds."""
    conn = connect(built.db)
    docs = {r: f for by_id in documents_by_kind(conn).values() for r, f in by_id.items()}
    own = {}  # what the site's queries pass to search_score for an indicator
    for rowid, *f in conn.execute("select rowid, level3, level1, level2, target, actual, note, standard, "
                                  "level1_text, level2_text, weight_text, score_text, extra from indicators"):
        own[(2 << 56) | rowid] = [str(x) for x in f if x is not None]
    words = {2: set(), 3: set(), 4: set()}
    for path in sorted(REPORTS.glob("*.txt")):
        for run in re.findall(r"[\u4e00-\u9fff]+", path.read_text(encoding="utf-8")):
            for n, found in words.items():
                found.update(run[i:i + n] for i in range(len(run) - n + 1))
    sample = sorted(words[2])[::10] + sorted(words[3])[::20] + sorted(words[4])[::20]
    checked = missed = proposed = 0
    for w in sample:
        proposed += conn.execute("select count(*) from sections_fts where sections_fts match escape_fts(?)",
                                 [w]).fetchone()[0]
        hits = {r[0] for r in conn.execute(search_queries.CANDIDATES_SQL, {"q": w, **EMPTY})}
        assert len(hits) < search.CANDIDATES, w  # not cut by the bound: the whole answer
        holding = {r for r, f in docs.items() if any(w in search.fold(x) for x in f)}
        assert hits <= holding, (w, sorted(hits - holding)[:3])
        for r in holding - hits:
            assert r >> 56 == 2 and not any(w in search.fold(x) for x in own[r]), (w, r)
            missed += 1
        checked += len(holding)
    conn.close()
    with capsys.disabled():
        print(f"\nsite search: {len(sample)} words, {checked} (word, document) pairs hold them, the index proposed "
              f"{proposed}; {missed} missed (a word only in an indicator row's other cell)")
    assert checked > 1000 and proposed > checked  # the longer words did bring bigrams apart
