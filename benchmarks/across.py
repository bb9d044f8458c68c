"""Time jixiao.across.build (issue 17) on a built database, phase by phase; print the figures.

    python benchmarks/across.py /tmp/across/syn2000/jixiao.db

Works on a copy (the database is not changed). A database built before the across tables existed
gets them (and reports.department_kind) first, so an existing synthetic build can be measured.
"""
from __future__ import annotations

import argparse
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jixiao import across, schema  # noqa: E402
from jixiao.across import passages, peers, years  # noqa: E402


def prepare(conn: sqlite3.Connection) -> None:
    cols = {r[1] for r in conn.execute("pragma table_info(reports)")}
    if "department_kind" not in cols:
        conn.execute("alter table reports add column department_kind text")
        kinds = [(peers.department_kind(u), rid) for rid, u in conn.execute("select report_id, unit_name from reports")]
        conn.executemany("update reports set department_kind = ? where report_id = ?", kinds)
    import sqlite_utils

    db = sqlite_utils.Database(conn)
    for t in schema.ACROSS_TABLES:
        if not db[t.name].exists():
            db[t.name].create({f.name: schema.SQL_TYPES[f.type] for f in t.fields},
                              pk=t.primary_key[0] if len(t.primary_key) == 1 else t.primary_key)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("db", type=Path)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="across-bench-") as tmp:
        copy = Path(tmp) / "db.sqlite"
        shutil.copyfile(args.db.resolve(), copy)
        conn = sqlite3.connect(copy, isolation_level=None)
        conn.execute("pragma journal_mode = off")
        conn.execute("begin")
        prepare(conn)
        n = conn.execute("select count(*) from reports").fetchone()[0]
        t0 = time.perf_counter()
        docs = list(across._docs(conn))
        t1 = time.perf_counter()
        found, pairs = passages.find(docs)
        t2 = time.perf_counter()
        rows = across.compute(conn)  # everything again, as the build does it
        t3 = time.perf_counter()
        counts = across.write(conn, rows)
        t4 = time.perf_counter()
        conn.execute("commit")
        paragraphs = sum(1 for d in docs for _ in passages.paragraphs(d))
        print(f"reports {n}, candidate paragraphs {paragraphs}")
        print(f"read texts {t1 - t0:.1f} s; passages {t2 - t1:.1f} s "
              f"({len(found)} passages, {sum(p.is_template for p in found)} template, {len(pairs)} pairs)")
        print(f"compute all (passages + peers + years) {t3 - t2:.1f} s; write {t4 - t3:.1f} s")
        print("rows " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        print(f"year pairs {len(years.previous_pairs(across.summaries(conn)))}")
        print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        conn.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
