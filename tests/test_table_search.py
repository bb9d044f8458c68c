"""``?_search=`` on the sections table page (plugins/cjk_search.py, jixiao/search_queries.py):
both ways of reading the hits list the same sections in key order, pages give each once, the
count is theirs, and what Datasette's own search allowed still works. No timings here
(benchmarks/run.py measures the page)."""
from __future__ import annotations

import sqlite3
import urllib.parse

import pytest

from jixiao import search
from jixiao.search_queries import SECTIONS_END, for_counting, section_hits_sql, table_search_clause

from .test_search import QUERIES

KEY_ORDER = "order by report_id, seq"


def connect(path):
    conn = sqlite3.connect(path)
    search.register_functions(conn)
    return conn


def hit_keys(conn, q):
    """The sections the index proposes for q, in key order (what the page must list)."""
    return conn.execute(f"select report_id, seq from sections where rowid in "
                        f"(select rowid from {search.FTS_TABLE} where {search.FTS_TABLE} match escape_fts(?)) "
                        f"{KEY_ORDER}", [q]).fetchall()


def plan(conn, sql, params):
    return " / ".join(row[3] for row in conn.execute("explain query plan " + sql, params))


@pytest.mark.parametrize("q", QUERIES)
def test_both_plans_list_the_same_sections_in_key_order(built, q):
    conn = connect(built.db)
    expected = hit_keys(conn, q)
    assert expected, q  # every query has hits in the samples
    for common in (False, True):
        sql = f"select report_id, seq from sections where {table_search_clause('s', common)} {KEY_ORDER}"
        assert conn.execute(sql, {"s": q}).fetchall() == expected, (q, common)
    # the common one can only walk the key's index: no hit is looked up by rowid, none sorted
    # (which plan the other gets depends on the table's size: the samples' is small)
    walk = plan(conn, f"select * from sections where {table_search_clause('s', True)} {KEY_ORDER} limit 51",
                {"s": q})
    assert "sqlite_autoindex_sections_1" in walk and "INTEGER PRIMARY KEY" not in walk and "TEMP B-TREE" not in walk


def test_only_section_documents_are_read(built):
    conn = connect(built.db)
    everything = {r for (r,) in conn.execute(f"select rowid from {search.FTS_TABLE} where {search.FTS_TABLE} "
                                             "match escape_fts(?)", ["调解"])}
    sections = {r for (r,) in conn.execute(section_hits_sql("s"), {"s": "调解"})}
    assert sections == {r for r in everything if r < SECTIONS_END} and len(everything) > len(sections) > 0


def test_a_count_looks_the_hits_up():
    common = f"from sections where {table_search_clause('search', True)} and level = 1"
    assert for_counting(common) == f"from sections where {table_search_clause('search', False)} and level = 1"
    assert for_counting("from sections where +rowid in (select 1)") == "from sections where +rowid in (select 1)"


async def test_pages_give_every_hit_once_in_key_order(ds, built):
    conn = connect(built.db)
    for params in ({"_search": "调解"}, {"_search": "调解", "_sort": "seq"}, {"_search": "普法", "_sort_desc": "report_id"}):
        order = {"_sort": "seq, report_id", "_sort_desc": "report_id desc, seq"}  # then the key (plugins/stable_pages.py)
        sort = next((order[k] for k in order if k in params), "report_id, seq")
        expected = conn.execute(f"select report_id, seq from sections where rowid in ({section_hits_sql('s')}) "
                                f"order by {sort}", {"s": params["_search"]}).fetchall()
        seen, url, query = [], "/jixiao/sections.json", {**params, "_size": "4"}
        while url:
            r = await ds.client.get(url, params=query)
            assert r.status_code == 200, r.text
            data = r.json()
            seen += [(row["report_id"], row["seq"]) for row in data["rows"]]
            nxt = urllib.parse.urlsplit(data["next_url"] or "")
            url, query = (f"{nxt.path}?{nxt.query}", None) if data["next_url"] else (None, None)
        assert seen == expected and len(expected) > 4, params


@pytest.mark.parametrize("q", ["调解", "三公经费", "行政复议"])
async def test_the_count_is_the_number_of_hits(ds, built, q):
    n = len(hit_keys(connect(built.db), q))
    for extra in ({}, {"_sort": "seq"}):  # the walk of the key's index, and the lookups
        r = await ds.client.get("/jixiao/sections.json", params={"_search": q, "_extra": "count", **extra})
        assert r.json()["count"] == n > 0


async def test_an_empty_search_box_searches_nothing(ds, built):
    total = connect(built.db).execute("select count(*) from sections").fetchone()[0]
    r = await ds.client.get("/jixiao/sections.json", params={"_search": " ", "_extra": "count"})
    assert r.status_code == 200 and r.json()["count"] == total


async def test_a_column_search_is_refused_clearly(ds):
    # the index keeps no positions, so it cannot tell a heading's words from a body's
    for column in (*search.FTS_COLUMNS, "nope"):
        r = await ds.client.get("/jixiao/sections.json", params={f"_search_{column}": "绩效"})
        assert r.status_code == 400 and r.json()["error"] == "Cannot search by that column"
        r = await ds.client.get("/jixiao/sections", params={f"_search_{column}": "绩效"})
        assert r.status_code == 400 and "不能按这一列检索" in r.text


async def test_the_page_has_a_search_box_and_says_what_it_searched(ds):
    r = await ds.client.get("/jixiao/sections", params={"_search": "调解"})
    assert r.status_code == 200 and 'name="_search"' in r.text and 'value="调解"' in r.text
    assert "检索“调解”" in r.text
    other = await ds.client.get("/jixiao/indicators")
    assert 'name="_search"' not in other.text  # only the sections are searched this way
