"""Time jixiao.across.build (issue 17) on a built database, phase by phase; print the figures.

    python benchmarks/across.py /tmp/across/syn2000/jixiao.db
    python benchmarks/across.py --texts build/bench/across-10000   # passages only, on the files

``--texts``: the shared-passage search alone (the part that grows with the narratives) on a
synthetic corpus folder (benchmarks/synth.py: its manifest.jsonl gives each file's report_id and
unit), without building a database first; section headings are not known there, so every line
is a candidate paragraph.

Works on a copy of the tables it reads (the database is not changed; the copy's time is not counted).
A database built before the across tables existed gets them (and reports.department_kind) first, so
an existing synthetic build can be measured. Prints wall and CPU seconds (the machine is shared).
"""
from __future__ import annotations

import argparse
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jixiao import across, across_tables, ddl  # noqa: E402
from jixiao.across import passages, peers, years  # noqa: E402


READ = ("reports", "source_texts", "sections", "evaluations", "funds", "expense_controls", "staffing", "findings",
        "indicators")


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def prepare(conn: sqlite3.Connection) -> None:
    cols = {r[1] for r in conn.execute("pragma table_info(reports)")}
    if "department_kind" not in cols:
        conn.execute("alter table reports add column department_kind text")
        kinds = [(peers.department_kind(u), rid) for rid, u in conn.execute("select report_id, unit_name from reports")]
        conn.executemany("update reports set department_kind = ? where report_id = ?", kinds)
    import sqlite_utils

    db = sqlite_utils.Database(conn)
    for t in across_tables.ACROSS_TABLES:
        if t.stored_as:  # shared_passages: its storage (passage_pairs) and the view, as the build makes them
            if not db[t.stored_as].exists():
                ddl.create_storage(db, t)
        elif not db[t.name].exists():
            db[t.name].create({f.name: ddl.SQL_TYPES[f.type] for f in t.fields},
                              pk=t.primary_key[0] if len(t.primary_key) == 1 else t.primary_key)


def texts_only(folder: Path) -> int:
    import json

    import datasketch  # noqa: F401 - imported once (scipy: ~1 s), not counted below

    manifest = [json.loads(line) for line in (folder / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    docs = [passages.Doc(m["report_id"], m["unit_name"], (folder / m["file"]).read_text(encoding="utf-8"))
            for m in manifest]
    t0, c0 = time.perf_counter(), cpu()
    found, pairs = passages.find(docs)
    t1, c1 = time.perf_counter(), cpu()
    paragraphs = sum(1 for d in docs for _ in passages.paragraphs(d))
    distinct = len({passages.key(p) for d in docs for _, _, p in passages.paragraphs(d)})
    print(f"reports {len(docs)}, candidate paragraphs {paragraphs}, distinct (figures masked) {distinct}")
    print(f"passages: {t1 - t0:.1f} s wall, {c1 - c0:.1f} s CPU ({len(found)} passages, "
          f"{sum(p.is_template for p in found)} template, {sum(len(p.place_list) for p in found)} places, "
          f"{len(pairs)} pairs)")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("db", type=Path, nargs="?")
    ap.add_argument("--texts", type=Path, help="a synthetic corpus folder: time the passage search alone")
    args = ap.parse_args(argv)
    if args.texts:
        return texts_only(args.texts)
    with tempfile.TemporaryDirectory(prefix="across-bench-") as tmp:
        copy = Path(tmp) / "db.sqlite"
        conn = sqlite3.connect(copy, isolation_level=None)
        conn.execute("pragma journal_mode = off")
        src = sqlite3.connect(f"file:{args.db.resolve()}?mode=ro", uri=True)
        conn.execute(f"pragma encoding = '{src.execute('pragma encoding').fetchone()[0]}'")  # attach needs the same
        src.close()
        conn.execute("attach ? as src", [f"file:{args.db.resolve()}?mode=ro"])
        conn.execute("begin")
        for t in READ:
            conn.execute(f"create table main.[{t}] as select * from src.[{t}]")
        conn.execute("commit")
        conn.execute("detach src")
        conn.execute("begin")
        prepare(conn)
        n = conn.execute("select count(*) from reports").fetchone()[0]
        import datasketch  # noqa: F401 - imported once (scipy: ~1 s), not counted below

        t0, c0 = time.perf_counter(), cpu()
        rows = across.compute(conn)  # everything, as the build does it
        t1, c1 = time.perf_counter(), cpu()
        counts = across.write(conn, rows)
        t2, c2 = time.perf_counter(), cpu()
        conn.execute("commit")
        docs = list(across._docs(conn))
        t3, c3 = time.perf_counter(), cpu()
        found, pairs = passages.find(docs)
        t4, c4 = time.perf_counter(), cpu()
        paragraphs = sum(1 for d in docs for _ in passages.paragraphs(d))
        distinct = len({passages.key(p) for d in docs for _, _, p in passages.paragraphs(d)})
        print(f"reports {n}, candidate paragraphs {paragraphs}, distinct (figures masked) {distinct}")
        print(f"compute all (passages + peers + years): {t1 - t0:.1f} s wall, {c1 - c0:.1f} s CPU; "
              f"write {t2 - t1:.1f} s wall")
        print(f"of which passages alone: {t4 - t3:.1f} s wall, {c4 - c3:.1f} s CPU "
              f"({len(found)} passages, {sum(p.is_template for p in found)} template, {len(pairs)} pairs)")
        print("rows " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        print(f"year pairs {len(years.previous_pairs(across.summaries(conn)))}")
        print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        conn.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
