"""jixiao/facet_counts.py and plugins/page_speed.py: the facet counts the build keeps are the
rows' counts, a page filtered by one value shows the same facets from them as Datasette counts
live, and a change in place keeps them exact. No timings here (benchmarks/run.py measures the
filtered pages)."""
from __future__ import annotations

import shutil
import sqlite3
import urllib.parse

import pytest

from jixiao import facet_counts
from jixiao.build import build

from .conftest import site_for
from .test_incremental import _change, corpus  # noqa: F401 (a fixture)


def recount(conn, table, a, b) -> dict:
    return {(av, bv): n for av, bv, n in conn.execute(
        f"select [{a}], [{b}], count(*) from [{table}] where [{a}] is not null and [{b}] is not null "
        f"group by [{a}], [{b}]")}


def kept_by_pair(conn) -> dict:
    out: dict = {}
    for table, a, av, b, bv, n in conn.execute(f"select * from {facet_counts.TABLE}"):
        out.setdefault((table, a, b), {})[(av, bv)] = n
    return out


def assert_exact(conn):
    kept = kept_by_pair(conn)
    assert kept
    for (table, a, b), counts in kept.items():
        assert counts == recount(conn, table, a, b), (table, a, b)


@pytest.fixture
def every_pair(built, tmp_path, monkeypatch):
    """The sample database with every pair kept (the samples are too small for any to be worth it)."""
    monkeypatch.setattr(facet_counts, "MIN_ROWS", 1)
    path = tmp_path / "kept.db"
    shutil.copy(built.db, path)
    conn = sqlite3.connect(path)
    n = facet_counts.write(conn)
    conn.commit()
    conn.close()
    return path, n


def test_the_samples_are_too_small_to_keep_a_pair(built):
    conn = sqlite3.connect(built.db)
    assert facet_counts.plan(conn) == [] and conn.execute(f"select count(*) from {facet_counts.TABLE}").fetchone() == (0,)


def test_every_kept_pair_is_exact(every_pair):
    path, n = every_pair
    conn = sqlite3.connect(path)
    assert n > 100 and len(kept_by_pair(conn)) > 20
    assert_exact(conn)
    # every counted column has at most MAX_VALUES values; no pair of a column with itself
    for table, a, b in facet_counts.kept_pairs(conn):
        assert a != b
        assert conn.execute(f"select count(distinct [{b}]) from [{table}]").fetchone()[0] <= facet_counts.MAX_VALUES


async def test_a_page_filtered_by_one_value_shows_the_facets_counted_live(every_pair, tmp_path, monkeypatch):
    path, _ = every_pair
    live_path = tmp_path / "live.db"
    shutil.copy(path, live_path)
    conn = sqlite3.connect(live_path)
    conn.execute(f"drop table {facet_counts.TABLE}")
    conn.commit()
    kept, live = await site_for(path), await site_for(live_path)
    looked_up = []
    original = facet_counts.lookup_sql
    monkeypatch.setattr(facet_counts, "lookup_sql", lambda *a: looked_up.append(a) or original(*a))
    conn = sqlite3.connect(path)
    pages = 0
    for table, a in sorted({(t, a) for t, a, _ in facet_counts.kept_pairs(conn)}):
        counted = sorted(b for t, x, b in facet_counts.kept_pairs(conn) if (t, x) == (table, a))
        for (value,) in conn.execute(f"select distinct [{a}] from [{table}] where [{a}] is not null limit 2"):
            query = urllib.parse.urlencode([(a, value), *[("_facet", b) for b in counted], ("_extra", "facet_results")])
            got = (await kept.client.get(f"/jixiao/{table}.json?{query}")).json()
            want = (await live.client.get(f"/jixiao/{table}.json?{query}")).json()
            assert got["facet_results"] == want["facet_results"], (table, a, value)
            assert {b for b in counted} <= set(got["facet_results"]["results"])
            pages += 1
    assert pages > 20 and len(looked_up) >= pages  # and they came from the kept counts
    # a page with two filters, or a search, is counted live
    looked_up.clear()
    r = await kept.client.get("/jixiao/indicators.json?verdict=达成&lost_points=0&_extra=facet_results")
    assert r.status_code == 200 and not looked_up


@pytest.fixture
def every_pair_kept(monkeypatch):
    monkeypatch.setattr(facet_counts, "MIN_ROWS", 1)


def test_a_change_in_place_keeps_the_counts_exact(every_pair_kept, corpus):
    src, kw = corpus  # built with every pair kept (the fixture before it patched MIN_ROWS)
    db = kw["out"].resolve()
    before = kept_by_pair(sqlite3.connect(db))
    assert before
    _change(src)  # one report changed, one added
    build([src], in_place=True, **kw)
    conn = sqlite3.connect(db)
    assert kept_by_pair(conn) != before  # the counts moved
    assert_exact(conn)
    assert conn.execute(f"select count(*) from {facet_counts.TABLE} where count <= 0").fetchone() == (0,)
