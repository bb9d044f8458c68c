"""/search: words only in tables, OR, -exclusions, Traditional characters, facets, bounded
candidates, any input a page (never a 500); the index built and updated per report."""
from __future__ import annotations

import sqlite3

import pytest
import sqlite_utils

from jixiao import search, search_queries, search_rank
from jixiao.ddl import create_tables

from .conftest import site_for
from .test_search import EMPTY, connect, documents_by_kind


def candidates(db, q, **filters):
    conn = connect(db)
    try:
        return {r[0] for r in conn.execute(search_queries.CANDIDATES_SQL, {"q": q, **EMPTY, **filters})}
    finally:
        conn.close()


def doc_texts(db):
    conn = connect(db)
    try:
        return {r: search.fold(" ".join(f)) for by_id in documents_by_kind(conn).values() for r, f in by_id.items()}
    finally:
        conn.close()


async def hits_json(ds, **params):
    r = await ds.client.get("/jixiao/search_hits.json", params={**params, "_shape": "array"})
    assert r.status_code == 200, r.text
    return r.json()


async def test_words_only_in_tables_are_found_and_linked_to_their_source_line(ds, built):
    conn = connect(built.db)
    in_sections = conn.execute("select count(*) from sections where body like '%酌情扣分%'").fetchone()[0]
    cells = conn.execute("select count(*) from table_cells where text like '%酌情扣分%'").fetchone()[0]
    conn.close()
    assert in_sections == 0 and cells > 0  # a word printed only in tables
    r = await ds.client.get("/search", params={"q": "酌情扣分"})
    assert r.status_code == 200 and "<mark>【酌情扣分】</mark>" in r.text
    hits = await hits_json(ds, q="酌情扣分")
    assert hits and all("【酌情扣分】" in h["snippet"] for h in hits)
    # printed in 分值 cells of indicator rows: found as those indicators (a row is indexed once)
    rows = [h for h in hits if h["kind"] in ("table", "indicator")]
    assert rows and {h["kind"] for h in await hits_json(ds, q="酌情扣分", kind="indicator")} == {"indicator"}
    first = rows[0]
    from urllib.parse import quote
    assert f'/report/{quote(first["report_id"], safe="")}/source#L{first["line"]}' in r.text
    conn = connect(built.db)
    lines = {n for (n,) in conn.execute("select line from table_cells where report_id = ?", [first["report_id"]])}
    conn.close()
    assert first["line"] in lines  # the row's first cell


async def test_or_is_the_union_and_minus_excludes(ds, built):
    a, b = candidates(built.db, "调解"), candidates(built.db, "普法")
    either = candidates(built.db, "调解 OR 普法")
    assert a and b and a - b and b - a and either == a | b
    r = await ds.client.get("/search", params={"q": "调解 OR 普法"})
    assert r.status_code == 200 and f"共找到 <strong>{len(a | b)}</strong> 处" in r.text
    texts = doc_texts(built.db)
    legal = candidates(built.db, "法律援助")
    without = candidates(built.db, "法律援助 -调解")
    assert without and without == {i for i in legal if "调解" not in texts[i]} and without < legal
    r = await ds.client.get("/search", params={"q": "法律援助 -调解"})
    assert r.status_code == 200 and "【调解】" not in r.text


async def test_traditional_characters_find_simplified_text(ds, built):
    assert candidates(built.db, "調解") == candidates(built.db, "调解")
    r = await ds.client.get("/search", params={"q": "調解"})
    assert r.status_code == 200 and "<mark>【调解】</mark>" in r.text


async def test_facets_and_filters(ds, built):
    r = await ds.client.get("/search", params={"q": "调解"})
    for label in ("按命中类型", "正文", "表格", "指标", "发现", "按年度", "按省", "按市", "湖南省"):
        assert label in r.text, label
    for kind in search.KINDS:
        hits = await hits_json(ds, q="调解", kind=kind)
        assert hits and {h["kind"] for h in hits} == {kind}
    year_hits = await hits_json(ds, q="调解", year="2024")
    assert year_hits and {h["fiscal_year"] for h in year_hits} == {2024}
    assert len(candidates(built.db, "调解", year="2024")) < len(candidates(built.db, "调解"))


def test_a_units_hits_are_looked_up_in_its_own_documents(built):
    # The unit branch of CANDIDATES_SQL seeks inside each of the unit's reports' rowid ranges;
    # it must find exactly the hits that filtering every hit by unit finds.
    conn = connect(built.db)
    try:
        units = [u for (u,) in conn.execute("select distinct unit_name from reports order by 1")]
        report_unit = dict(conn.execute("select report_id, unit_name from reports"))
        checked = 0
        for q in ("调解", "预算", "万元", "酌情扣分"):
            every = conn.execute(search_queries.CANDIDATES_SQL, {"q": q, **EMPTY}).fetchall()
            assert len(every) < search.CANDIDATES  # all hits, so the filtered ones are a subset
            for unit in units:
                for kind in ("", *search.KINDS):
                    want = sorted(r for r in every if report_unit[r[3]] == unit
                                  and (not kind or search.KINDS[r[2]] == kind))
                    got = conn.execute(search_queries.CANDIDATES_SQL, {"q": q, **EMPTY, "unit": unit, "kind": kind}).fetchall()
                    assert sorted(got) == want, (q, unit, kind)
                    assert [r[0] for r in got] == sorted(r[0] for r in got)  # index order, as without a unit
                    checked += bool(want)
        assert checked > 20
        # the unit's ranges drive the FTS5 scan (inner loop, rowid bounds from each range)
        plan = [r[-1] for r in conn.execute("explain query plan " + search_queries.CANDIDATES_SQL,
                                            {"q": "调解", **EMPTY, "unit": units[0]})]
        ranges = plan.index("SCAN u")
        assert any("SCAN f VIRTUAL TABLE" in step and "><" in step for step in plan[ranges + 1:]), plan
    finally:
        conn.close()


@pytest.mark.parametrize("q", ["-调解", '"', "OR", "AND NOT (", "调解*", "^调解", "NEAR(调解 普法)", "'", "\\", "%",
                               "_", "🙂", "调解 OR OR 普法", "---调解", '调解"普法"', "a\x00b", "调解" * 60,
                               " ".join(["调解"] * 13), "调解 -调解", "(调解)", "{调解}", ":", "col:调解"])
async def test_any_input_gives_a_page(ds, q):
    r = await ds.client.get("/search", params={"q": q, "page": "-3", "year": "abc"})
    assert r.status_code in (200, 400), (q, r.status_code)
    assert "<h1>检索报告内容</h1>" in r.text
    if r.status_code == 400:
        assert 'role="alert"' in r.text
    r = await ds.client.get("/jixiao/sections.json", params={"_search": q, "_shape": "array"})
    assert r.status_code == 200, (q, r.text)


async def test_long_query_is_refused_in_chinese(ds):
    r = await ds.client.get("/search", params={"q": "调" * 101})
    assert r.status_code == 400 and "检索词太长" in r.text


# ---------------------------------------------------------------- a small index of our own


def tiny_db(path, sections):
    """A database with the schema, one report (Traditional title) and ``sections`` bodies."""
    conn = sqlite3.connect(path)
    create_tables(sqlite_utils.Database(conn), indexes=True)
    conn.execute("insert into reports (report_id, unit_name, fiscal_year, province, city, source_file, "
                 "source_sha256) values ('r1', '某司法局', 2024, '湖南省', '长沙市', 'a.txt', 'x')")
    conn.executemany("insert into sections (rowid, report_id, seq, heading, body) values (?, 'r1', ?, '', ?)",
                     [(i + 1, i + 1, b) for i, b in enumerate(sections)])
    conn.execute("insert into source_tables (report_id, table_seq, kind) values ('r1', 1, 'generic')")
    # table_cells is stored one grid per table (jixiao/ddl.py: GRIDS): rows of [text, line] cells
    conn.execute("insert into table_grids values ('r1', 1, 'generic', ?)",
                 ['[[["人民調解",10],["酌情扣分",11]],[["其他",13]]]'])
    conn.commit()
    return conn


def test_index_is_contentless_and_updated_per_report(tmp_path):
    conn = tiny_db(tmp_path / "t.db", ["本年開展調解工作", "普法宣传"])
    search.create_index(conn)
    search.register_functions(conn)
    sql = conn.execute("select sql from sqlite_master where name = 'sections_fts'").fetchone()[0]
    assert "content=''" in sql
    assert not conn.execute("select count(*) from sqlite_master where name = 'sections_fts_content'").fetchone()[0]

    def hits(q):
        return sorted(r for (r,) in conn.execute("select rowid from sections_fts where sections_fts match "
                                                 "escape_fts(?)", [q]))
    table_row = (1 << 56) | (1 << 20) | 1
    assert hits("调解") == [1, table_row] and hits("酌情扣分") == [table_row] and hits("普法") == [2]
    search.drop_reports(conn, ["r1"])
    assert hits("调解") == hits("普法") == [] and search.indexed_documents(conn) == 0
    conn.execute("update sections set body = '调解' where seq = 2")
    search.index_reports(conn, ["r1"])
    conn.commit()  # FTS5 writes its totals out with the transaction
    assert hits("调解") == [1, 2, table_row]
    assert search.indexed_documents(conn) == sum(1 for _ in search.documents(conn)) == 4  # 2 sections, 2 table rows
    conn.execute("insert into sections_fts(sections_fts) values ('integrity-check')")  # raises when corrupt
    conn.close()


async def test_candidates_are_bounded_and_the_cap_is_stated(tmp_path):
    conn = tiny_db(tmp_path / "jixiao.db", [f"第{i}次调解" for i in range(search.CANDIDATES + 200)])
    search.create_index(conn)
    conn.commit()
    conn.close()
    ds = await site_for(tmp_path / "jixiao.db")
    r = await ds.client.get("/search", params={"q": "调解"})
    assert r.status_code == 200
    assert f"前 {search.CANDIDATES} 条" in r.text and "下一页" in r.text
    r = await ds.client.get("/search", params={"q": "调解", "page": "999"})
    assert r.status_code == 200 and f"第 {search.CANDIDATES // search_queries.PAGE_SIZE} / " in r.text


def test_the_text_decides_what_the_bigrams_propose(tmp_path):
    """The index keeps no positions: 三公经费 is 三公 AND 公经 AND 经费, which a section saying
    三公 and 办公经费 apart also holds. The index proposes it; the site's queries drop it, keep
    the section that says the word (in Traditional too) and rank more mentions first."""
    conn = tiny_db(tmp_path / "t.db", ["压减三公支出，办公经费从严", "三公经费下降", "三公經費、三公经费、三公经费",
                                       "三公经费" + "甲" * 300])
    search.create_index(conn)
    search.register_functions(conn)
    conn.commit()
    proposed = {r for (r,) in conn.execute("select rowid from sections_fts where sections_fts match escape_fts(?)",
                                           ["三公经费"])}
    assert proposed == {1, 2, 3, 4}
    conn.close()
    rows = connect(tmp_path / "t.db").execute(search_queries.CANDIDATES_SQL, {"q": "三公经费", **EMPTY}).fetchall()
    assert [r[0] for r in sorted(rows, key=lambda r: (r[1], r[0]))] == [3, 2, 4]  # 3 mentions; short; long
    assert search_rank.score("三公经费", "", "压减三公支出，办公经费从严") is None
    assert search_rank.score("调解 OR 普法", "", "普法") < 0 and search_rank.score("调解 普法", "", "普法") is None
    # a body given as bytes (the site's queries cast it) scores as the text does: UTF-16, what the
    # cast gives in the built database (jixiao/database.py), or UTF-8 in an older file
    for text in ["三公經費、三公经费", "三公经费" + "甲" * 300, "压减三公支出，办公经费从严", "ABC abc"]:
        for q in ["三公经费", "abc", "三公经费 OR abc"]:
            for enc, codec in (("UTF-8", "utf-8"), ("UTF-16be", "utf-16-be"), ("UTF-16le", "utf-16-le")):
                got = search_rank.scorer(enc)(q, "", text.encode(codec))
                assert got == search_rank.score(q, "", text), (enc, q, text)


def test_the_database_stores_text_as_utf16_in_code_point_order(built):
    """Text is stored as UTF-16BE (2 bytes a Chinese character, not 3), whose bytes sort as the
    code points do: ORDER BY and the keys give the order a UTF-8 file gave."""
    conn = connect(built.db)
    assert conn.execute("pragma encoding").fetchone()[0] == "UTF-16be"
    for sql in ("select report_id from reports order by report_id",
                "select distinct heading from sections where heading is not null order by heading",
                "select distinct text from table_cells where text != '' order by text"):
        got = [r[0] for r in conn.execute(sql)]
        assert len(got) > 4 and got == sorted(got), sql
    # the site's ranked search reads the UTF-16 bytes: the same hits as the text itself holds
    hits = {r[0] for r in conn.execute(search_queries.CANDIDATES_SQL, {"q": "调解", **EMPTY}) if r[0] < 1 << 56}
    holding = {rowid for rowid, heading, body in conn.execute("select rowid, heading, body from sections")
               if "调解" in (heading or "") + (body or "")}
    assert len(holding) > 3 and hits == holding
