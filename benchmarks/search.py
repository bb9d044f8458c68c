"""Search at scale: index size, and /search latency for a common and a rare word (p50/p95),
ours against a plain ``LIKE`` baseline, in one run on the same database.

    .venv/bin/python benchmarks/search.py build/bench/work-2000/jixiao.db [more.db …] [--repeats 30]

Each database must carry the index of jixiao/search.py (a build with the current code, or
``--reindex``: a copy of the database with the index replaced, written next to it as
``search-index/jixiao.db``). Figures printed:

* index bytes (``dbstat`` of ``sections_fts*``) and the file size;
* ``ours sql``: the two queries /search runs (the bounded candidates, for the facets and the
  ranking, then the details and snippets of the page's 20 hits), on one connection;
* ``ours page``: GET /search?q= through the whole site in process (Datasette, templates);
* ``rank all``: FTS5 ``ORDER BY rank LIMIT 20`` over every hit (what the bound avoids);
* ``like``: the plain baseline — ``LIKE '%w%'`` over the same four kinds of text (sections,
  table cells, indicators, findings), counting the hits and fetching the first 20.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jixiao import search  # noqa: E402
from jixiao import search_queries  # noqa: E402

COMMON = "调解"
RARE_CANDIDATES = ("酌情扣分", "行政复议", "社区矫正", "公务接待", "资产管理", "政府采购", "法治宣传")
EMPTY = {k: "" for k in (*search_queries.FILTERS, "page")}

LIKE_SQL = {
    "sections": "select report_id, seq from sections where heading like :w or body like :w",
    "table_cells": "select report_id, table_seq, row from table_cells where text like :w",
    "indicators": "select rowid from indicators where level1 like :w or level2 like :w or level3 like :w "
                  "or target like :w or actual like :w or note like :w or standard like :w",
    "findings": "select rowid from findings where message like :w or expected like :w or actual like :w",
}


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))] * 1000


def timed(fn, repeats: int) -> dict:
    fn()  # warm the page cache
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return {"p50": round(pct(runs, 50), 2), "p95": round(pct(runs, 95), 2)}


def index_bytes(conn) -> int:
    return conn.execute("select coalesce(sum(pgsize), 0) from dbstat where name like 'sections_fts%'").fetchone()[0]


def is_ours(conn) -> bool:
    sql = conn.execute("select sql from sqlite_master where name = 'sections_fts'").fetchone()
    return bool(sql) and "content=''" in sql[0] and "detail=none" in sql[0]  # jixiao/search.py begin_index


def reindex(db: Path) -> Path:
    """A copy of ``db`` with the search index of jixiao/search.py (the old one dropped), vacuumed."""
    out = db.parent / "search-index" / "jixiao.db"  # the site serves /jixiao/… from a file of that name
    out.parent.mkdir(exist_ok=True)
    tmp = out.with_suffix(".tmp")
    shutil.copyfile(os.path.realpath(db), tmp)
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("pragma journal_mode = off")
    conn.execute("begin")
    conn.execute(f"drop table if exists {search.FTS_TABLE}")
    t0 = time.perf_counter()
    search.create_index(conn)
    conn.execute("commit")
    print(f"  create_index: {time.perf_counter() - t0:.1f} s", flush=True)
    out.unlink(missing_ok=True)
    conn.execute("vacuum into ?", [str(out)])
    conn.close()
    tmp.unlink()
    return out


def hit_count(conn, q: str) -> int:
    return conn.execute(f"select count(*) from {search.FTS_TABLE} where {search.FTS_TABLE} match ?",
                        [search.escape_fts_cjk(q)]).fetchone()[0]


async def page_timer(db: Path):
    """GET /search?q= through the whole site in process; None when the site cannot start here."""
    try:
        sys.path.insert(0, str(ROOT / "tests"))
        from conftest import site_for

        ds = await site_for(db)
    except Exception as e:  # noqa: BLE001 - the SQL figures are still printed
        print(f"  (page timings skipped: {type(e).__name__}: {e})")
        return None

    async def get(q):
        r = await ds.client.get("/search", params={"q": q})
        assert r.status_code == 200, r.status_code
    return get


def bench(db: Path, repeats: int) -> dict:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    search.register_functions(conn)
    res = {"db": str(db), "file_bytes": os.path.getsize(os.path.realpath(db)), "index_bytes": index_bytes(conn),
           "reports": conn.execute("select count(*) from reports").fetchone()[0]}
    # the rarest of a few words and unit names (a unit's name is printed in its own reports)
    units = [u for (u,) in conn.execute("select distinct unit_name from reports where unit_name not like '%合成副本%' "
                                        "order by unit_name limit 20")]
    counts = {q: hit_count(conn, q) for q in (*RARE_CANDIDATES, *units)}
    rare = min((q for q in counts if counts[q]), key=lambda q: counts[q])
    loop = asyncio.new_event_loop()
    get = loop.run_until_complete(page_timer(db))
    res["terms"] = {}
    for label, q in (("common", COMMON), ("rare", rare)):
        args = {"q": q, **EMPTY}

        def ours_sql():
            cands = conn.execute(search_queries.CANDIDATES_SQL, args).fetchall()
            conn.execute(search_queries.DETAILS_SQL, {"q": q, "top": search_queries.page_of(cands, 1)}).fetchall()

        def rank_all():
            conn.execute(f"select rowid from {search.FTS_TABLE} where {search.FTS_TABLE} match ? "
                         "order by rank limit 20", [search.escape_fts_cjk(q)]).fetchall()

        def like():
            for sql in LIKE_SQL.values():
                rows = conn.execute(sql, {"w": f"%{q}%"}).fetchall()
                rows[:20]

        t = {"hits": hit_count(conn, q), "ours_sql": timed(ours_sql, repeats), "rank_all": timed(rank_all, repeats),
             "like": timed(like, max(3, repeats // 6))}
        if get:
            t["ours_page"] = timed(lambda: loop.run_until_complete(get(q)), repeats)
        res["terms"][f"{label} {q}"] = t
    conn.close()
    return res


def show(res: dict) -> None:
    print(f"\n{res['db']}: {res['reports']:,} reports, file {res['file_bytes'] / 2**20:.0f} MB, "
          f"search index {res['index_bytes'] / 2**20:.1f} MB ({res['index_bytes']:,} bytes)")
    print(f"  {'term':14s} {'hits':>8s}  {'ours sql p50/p95':>18s}  {'ours page p50/p95':>18s}  "
          f"{'rank all p50/p95':>18s}  {'LIKE p50/p95':>18s}  LIKE/ours p50")
    for term, t in res["terms"].items():
        page = t.get("ours_page", {"p50": float("nan"), "p95": float("nan")})
        ratio = t["like"]["p50"] / t["ours_sql"]["p50"] if t["ours_sql"]["p50"] else float("nan")
        print(f"  {term:14s} {t['hits']:>8,}  {t['ours_sql']['p50']:>8.1f}/{t['ours_sql']['p95']:<8.1f} ms"
              f"  {page['p50']:>8.1f}/{page['p95']:<8.1f} ms  {t['rank_all']['p50']:>8.1f}/{t['rank_all']['p95']:<8.1f} ms"
              f"  {t['like']['p50']:>8.1f}/{t['like']['p95']:<8.1f} ms  {ratio:.0f}×")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("db", type=Path, nargs="+")
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--reindex", action="store_true", help="first replace the index (a copy, search-index/jixiao.db)")
    a = ap.parse_args(argv)
    print(f"sqlite {sqlite3.sqlite_version}; {os.cpu_count()} cores; candidates bound {search.CANDIDATES}")
    for db in a.db:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        ours = is_ours(conn)
        before = index_bytes(conn)
        conn.close()
        if a.reindex or not ours:
            if not a.reindex:
                raise SystemExit(f"{db}: not this search index (built by older code); use --reindex")
            print(f"{db}: index before {before / 2**20:.1f} MB ({before:,} bytes); reindexing …", flush=True)
            db = reindex(db)
        show(bench(db, a.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
