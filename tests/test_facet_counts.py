"""jixiao/facet_counts.py and plugins/page_speed.py: the facet counts the build keeps are the
rows' counts, a page filtered by values of facet columns shows the same count and facets from them
as Datasette counts live, any other page is counted live, and a change in place keeps them exact.
No timings here (benchmarks/run.py measures the filtered pages)."""
from __future__ import annotations

import importlib.util
import shutil
import sqlite3
import urllib.parse

import pytest
import yaml
from datasette.tracer import capture_traces

from jixiao import facet_counts
from jixiao.build import build

from .conftest import ROOT, site_for
from .test_incremental import _change, corpus  # noqa: F401 (a fixture)

# the plugin as a module of its own (Datasette loads plugins/ by path), for its pure functions
_spec = importlib.util.spec_from_file_location("page_speed_plugin", ROOT / "plugins" / "page_speed.py")
page_speed = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(page_speed)


def recount(conn, table, cols) -> dict:
    names = ", ".join(f"[{c}]" for c in cols)
    return {row[:-1]: row[-1] for row in conn.execute(f"select {names}, count(*) from [{table}] group by {names}")}


def kept_counts(conn) -> dict:
    return {table: {row[:-1]: row[-1] for row in conn.execute(f"select * from [{facet_counts.cube_name(table)}]")}
            for table in facet_counts.kept(conn)}


def assert_exact(conn):
    kept = facet_counts.kept(conn)
    assert kept
    for table, cols in kept.items():
        assert kept_counts(conn)[table] == recount(conn, table, cols), table


@pytest.fixture
def every_table(monkeypatch):
    """Facet counts kept for every candidate table (the samples are too small for any to be worth it)."""
    monkeypatch.setattr(facet_counts, "MIN_ROWS", 1)
    monkeypatch.setattr(facet_counts, "MIN_SHARE", 1)


@pytest.fixture
def kept_db(built, tmp_path, every_table):
    path = tmp_path / "kept.db"
    shutil.copy(built.db, path)
    conn = sqlite3.connect(path)
    written = facet_counts.write(conn)
    conn.commit()
    conn.close()
    return path, written


def test_the_samples_are_too_small_to_keep_any(built):
    conn = sqlite3.connect(built.db)
    assert facet_counts.kept(conn) == {}
    assert not conn.execute("select name from sqlite_master where name like 'facet_counts%'").fetchall()


def test_every_kept_count_is_exact(kept_db):
    path, written = kept_db
    conn = sqlite3.connect(path)
    kept = facet_counts.kept(conn)
    assert set(written) == set(kept) and {"indicators", "findings", "reports"} <= set(kept)
    assert_exact(conn)
    for table, cols in kept.items():
        assert len(cols) >= 2
        for c in cols:  # a column of many values is left to the live count
            assert conn.execute(f"select count(distinct [{c}]) from [{table}]").fetchone()[0] <= facet_counts.MAX_VALUES
        # the columns keep the table's affinity: a filter compares here as it does on the table
        types = {r[1]: r[2] for r in conn.execute(f"pragma table_info([{table}])")}
        kept_types = {r[1]: r[2] for r in conn.execute(f"pragma table_info([{facet_counts.cube_name(table)}])")}
        for c in cols:
            assert kept_types[c][:3] == types[c][:3], (table, c)


def test_a_table_with_too_few_rows_a_combination_keeps_none(built, tmp_path, monkeypatch):
    monkeypatch.setattr(facet_counts, "MIN_ROWS", 1)  # MIN_SHARE as shipped: reports has 1 row a combination
    path = tmp_path / "share.db"
    shutil.copy(built.db, path)
    conn = sqlite3.connect(path)
    written = facet_counts.write(conn)
    assert "reports" not in written and "reports" not in facet_counts.kept(conn)
    for table, groups in written.items():
        assert groups * facet_counts.MIN_SHARE <= conn.execute(f"select count(*) from [{table}]").fetchone()[0]


def test_the_where_clauses_it_answers():
    eq = page_speed.equality_filters
    assert eq('"verdict" = :p0 and "lost_points" = :p1 ', {"p0": "未达成", "p1": "1"}) == ["verdict", "lost_points"]
    assert eq('"verdict" = :p0', {"p0": "x"}) == ["verdict"]
    assert eq('"verdict" != :p0', {"p0": "x"}) is None
    assert eq('"verdict" = :p0 and "score" > :p1', {"p0": "x", "p1": 1}) is None
    assert eq('"verdict" = :p0 and rowid in (select 1)', {"p0": "x"}) is None
    assert eq('"verdict" = :p0', {"p0": "x", "search": "y"}) is None  # a parameter of something else
    assert eq("", {}) is None
    where = page_speed.filtered_where
    assert where('select a, b from indicators where "verdict" = :p0 ', "indicators") == '"verdict" = :p0 '
    assert where('from indicators where "verdict" = :p0 ', "indicators") == '"verdict" = :p0 '
    assert where("select a from indicators ", "indicators") is None


def pages(conn) -> list[tuple[str, list[tuple[str, object]]]]:
    """Each kept table's page, and pages filtered by one and by two values of its counted columns."""
    out = []
    for table, cols in sorted(facet_counts.kept(conn).items()):
        out.append((table, []))  # the whole table (its first view: the site keeps it after)
        for i, a in enumerate(cols):
            for (av,) in conn.execute(f"select distinct [{a}] from [{table}] where [{a}] is not null limit 2"):
                out.append((table, [(a, av)]))
            b = cols[(i + 1) % len(cols)]
            row = conn.execute(f"select [{a}], [{b}] from [{table}] where [{a}] is not null and [{b}] is not null "
                               "limit 1").fetchone()
            if row:
                out.append((table, [(a, row[0]), (b, row[1])]))
    return out


def without_counts(path, tmp_path):
    """A copy of the database without its facet counts: the same site counting live."""
    copy = tmp_path / "live.db"
    shutil.copy(path, copy)
    conn = sqlite3.connect(copy)
    for table in facet_counts.CANDIDATES:
        conn.execute(f"drop table if exists [{facet_counts.cube_name(table)}]")
    conn.commit()
    conn.close()
    return copy


async def test_filtered_pages_show_the_count_and_facets_counted_live(kept_db, tmp_path, monkeypatch):
    path, _ = kept_db
    kept, live = await site_for(path), await site_for(without_counts(path, tmp_path))
    answered = []
    for name in ("facet_sql", "count_sql"):
        original = getattr(facet_counts, name)
        monkeypatch.setattr(facet_counts, name, lambda *a, _o=original, _n=name: answered.append(_n) or _o(*a))
    conn = sqlite3.connect(path)
    kept_cols = facet_counts.kept(conn)
    checked = 0
    for table, filters in pages(conn):
        asked = kept_cols[table][:4]  # the site takes 10 facets a page at most, configured ones included
        query = urllib.parse.urlencode([*[(c, v) for c, v in filters], *[("_facet", c) for c in asked],
                                        ("_extra", "facet_results,count")])
        answered.clear()
        got = (await kept.client.get(f"/jixiao/{table}.json?{query}")).json()
        want = (await live.client.get(f"/jixiao/{table}.json?{query}")).json()
        assert got["facet_results"] == want["facet_results"], (table, filters)
        assert got["count"] == want["count"] > 0, (table, filters)
        assert got["rows"] == want["rows"], (table, filters)
        # configured facets of the table come on top of those asked for (the rows' hint may count
        # too); a whole table's row count is Datasette's (its inspect file), not a sum
        assert answered.count("count_sql") >= (1 if filters else 0) and answered.count("facet_sql") >= len(asked)
        if not filters:
            assert "count_sql" not in answered
        checked += 1
    assert checked > 40
    # another kind of filter, or a filter on a column not counted: counted live, the same figures
    for path_query in ["/jixiao/indicators.json?verdict__not=达成&_facet=verdict&_extra=facet_results,count",
                       "/jixiao/indicators.json?verdict=达成&_where=seq>1&_facet=verdict&_extra=facet_results,count",
                       "/jixiao/indicators.json?verdict=达成&seq=1&_facet=verdict&_extra=facet_results,count"]:
        answered.clear()
        got, want = (await kept.client.get(path_query)).json(), (await live.client.get(path_query)).json()
        assert (got["facet_results"], got["count"]) == (want["facet_results"], want["count"])
        assert answered == [], path_query
    # a facet of a column not counted, on a page that is: that facet alone is counted live
    assert "level3" not in kept_cols["indicators"]
    calls = []
    monkeypatch.setattr(facet_counts, "facet_sql", lambda *a, _o=facet_counts.facet_sql: calls.append(a) or _o(*a))
    path_query = "/jixiao/indicators.json?verdict=达成&_facet=level3&_extra=facet_results,count"
    got, want = (await kept.client.get(path_query)).json(), (await live.client.get(path_query)).json()
    assert (got["facet_results"], got["count"]) == (want["facet_results"], want["count"])
    assert calls and "level3" not in {a[2] for a in calls} and "level3" in got["facet_results"]["results"]
    # the HTML page a reader sees after two clicks
    r = await kept.client.get("/jixiao/indicators?" + urllib.parse.urlencode({"verdict": "未达成", "lost_points": "1"}))
    assert r.status_code == 200 and "未达成" in r.text


async def test_a_live_sites_whole_table_facets_come_from_the_counts(kept_db, tmp_path, monkeypatch):
    """`jixiao serve --live` (a mutable file) keeps no facet counts of its own between views."""
    from jixiao.serve import Site, make_datasette

    path, _ = kept_db
    mutable = make_datasette(Site(ROOT, db_path=path, live=True))
    await mutable.invoke_startup()
    counted = await site_for(without_counts(path, tmp_path))
    calls = []
    monkeypatch.setattr(facet_counts, "facet_sql", lambda *a, _o=facet_counts.facet_sql: calls.append(a) or _o(*a))
    for _ in range(2):  # each view, not only the first
        calls.clear()
        query = "/jixiao/findings.json?_facet=rule&_facet=severity&_extra=facet_results,count"
        got, want = (await mutable.client.get(query)).json(), (await counted.client.get(query)).json()
        assert (got["facet_results"], got["count"]) == (want["facet_results"], want["count"])
        assert {a[2] for a in calls} >= {"rule", "severity"} and {a[1] for a in calls} == {"1"}


async def test_dense_filters_walk_the_key_for_the_same_rows(kept_db):
    path, _ = kept_db
    ds = await site_for(path)
    db = ds.get_database("jixiao")
    conn = sqlite3.connect(path)
    rows = conn.execute("select count(*) from indicators").fetchone()[0]
    (dense, n_dense), = conn.execute("select verdict, count(*) from indicators group by 1 order by 2 desc limit 1")
    (sparse, n_sparse), = conn.execute("select topic, count(*) from indicators where topic is not null "
                                       "group by 1 order by 2 limit 1")
    assert n_dense * n_dense >= rows * 11 > n_sparse * n_sparse  # the samples hold both kinds (pages of 10)
    columns = ", ".join(r[1] for r in conn.execute("pragma table_info(indicators)"))
    base = f"select {columns} from indicators where {{}} order by evaluation_id, seq limit 11"
    sql = base.format('"verdict" = :p0')
    hinted = await page_speed.dense_rows_hint(db, sql, {"p0": dense})
    assert hinted == base.format('likelihood("verdict" = :p0, 0.9)')
    assert "sqlite_autoindex_indicators_1" in plan(conn, hinted, p0=dense)  # walks the key
    assert conn.execute(hinted, {"p0": dense}).fetchall() == conn.execute(sql, {"p0": dense}).fetchall()
    # few matches, another order, another filter: left as they are
    assert await page_speed.dense_rows_hint(db, base.format('"topic" = :p0'), {"p0": sparse}) == base.format('"topic" = :p0')
    by_level1 = sql.replace("order by evaluation_id, seq", "order by level1, evaluation_id, seq")
    assert await page_speed.dense_rows_hint(db, by_level1, {"p0": dense}) == by_level1
    other = base.format('"verdict" != :p0')
    assert await page_speed.dense_rows_hint(db, other, {"p0": dense}) == other
    # through the site: the page's rows query is the hinted one, its rows the table's first ten
    traces = []
    with capture_traces(traces):
        page = (await ds.client.get("/jixiao/indicators.json?" + urllib.parse.urlencode(
            {"verdict": dense, "_size": "10", "_shape": "array"}))).json()
    assert any("likelihood(" in (t.get("sql") or "") for t in traces)
    assert [(r["evaluation_id"], r["seq"]) for r in page] == conn.execute(
        "select evaluation_id, seq from indicators where verdict = ? order by evaluation_id, seq limit 10",
        [dense]).fetchall()


def plan(conn, sql, **params) -> str:
    return " | ".join(r[3] for r in conn.execute("explain query plan " + sql, params))


def test_every_possible_table_is_hidden():
    tables = yaml.safe_load((ROOT / "datasette.yml").read_text(encoding="utf-8"))["databases"]["jixiao"]["tables"]
    assert {facet_counts.cube_name(t) for t in facet_counts.CANDIDATES} <= {t for t, c in tables.items() if c.get("hidden")}


def test_a_change_in_place_keeps_the_counts_exact(every_table, corpus):
    src, kw = corpus  # built with every table kept (the fixture before it patched the limits)
    db = kw["out"].resolve()
    before = kept_counts(sqlite3.connect(db))
    assert before
    _change(src)  # one report changed, one added
    build([src], in_place=True, **kw)
    conn = sqlite3.connect(db)
    assert kept_counts(conn) != before  # the counts moved
    assert_exact(conn)
    for table in facet_counts.kept(conn):
        assert conn.execute(f"select count(*) from [{facet_counts.cube_name(table)}] where count <= 0").fetchone() == (0,)
