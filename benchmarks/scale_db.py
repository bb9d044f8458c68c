"""Make a bigger SYNTHETIC database (合成数据) from a built one, for serving benchmarks only.

    .venv/bin/python benchmarks/scale_db.py build/bench/site10k/src.db build/bench/site10k/jixiao.db -k 10

Every row of every table of SRC is copied K times. Copy 0 is the original; in copy k ≥ 1 every
report-keyed value is rewritten so that the copies are distinct reports of distinct units:

* ``unit_name`` → ``<unit>（合成副本k）`` (so a unit still has its ~10 fiscal years, and there are
  K× as many units, as in a real corpus K× as large);
* ``report_id`` → ``<report_id>-合成k``, ``evaluation_id`` → ``<new report_id>-<seq>``;
  ``package_name``, ``source_file`` get the same suffix.

Everything else (fiscal years, cities, amounts, texts) is kept, so row counts, value
distributions and search hit counts are exactly K× those of SRC. The FTS table
(``sections_fts``, see jixiao/database.py ``build_search``) is refilled from SRC's own Han-split
text with the new section rowids, and the views (jixiao/views.py) are created afresh, so the
result has the same schema, indexes and views as a real build with the *current* code.

The output is labelled synthetic: a ``SYNTHETIC.md`` next to it, and every copied unit name says
合成副本. Never write it under reports/ (refused).
"""
from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jixiao import views  # noqa: E402
from jixiao.search import FTS_COLUMNS, FTS_TABLE  # noqa: E402
from jixiao.ddl import create_tables  # noqa: E402
from jixiao.schema import TABLES  # noqa: E402


def log(msg: str) -> None:
    print(msg, flush=True)


def suffix(k: int) -> str:
    return f"-合成{k}"


def scale(src: Path, dst: Path, k: int, analyze: bool = True, materialise: bool = True) -> dict[str, int]:
    if (ROOT / "reports").resolve() in dst.resolve().parents:
        raise SystemExit("refusing to write synthetic data under reports/")
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp")
    tmp.unlink(missing_ok=True)

    import sqlite_utils

    db = sqlite_utils.Database(str(tmp))
    con = db.conn
    con.execute("pragma journal_mode = off")
    con.execute("pragma synchronous = off")
    con.execute("pragma cache_size = -400000")
    create_tables(db)  # the current schema: tables and the indexes declared in jixiao/schema.py
    index_sql = [s for (s,) in con.execute(
        "select sql from sqlite_master where type = 'index' and sql is not null")]
    for (name,) in con.execute("select name from sqlite_master where type = 'index' and sql is not null").fetchall():
        con.execute(f"drop index [{name}]")  # recreated after the bulk insert
    con.execute("attach database ? as src", (f"file:{src}?mode=ro",))

    counts = {}
    t0 = time.perf_counter()
    con.execute("begin")
    for t in TABLES:
        src_cols = {r[1] for r in con.execute(f"pragma src.table_info([{t.name}])")}
        cols = [f.name for f in t.fields if f.name in src_cols]
        missing = [f.name for f in t.fields if f.name not in src_cols]
        if missing:
            log(f"  {t.name}: not in {src.name}, left null: {', '.join(missing)}")
        n = 0
        for c in range(k):
            if not t.per_report:
                if c == 0:
                    con.execute(f"insert into main.[{t.name}] ({', '.join(cols)}) "
                                f"select {', '.join(cols)} from src.[{t.name}]")
                continue
            sel = []
            for col in cols:
                if c == 0:
                    sel.append(col)
                elif col == "report_id":
                    sel.append(f"report_id || '{suffix(c)}'")
                elif col == "evaluation_id":
                    # report_id + '-' + seq: keep the part after the report id
                    sel.append(f"report_id || '{suffix(c)}' || substr(evaluation_id, length(report_id) + 1)")
                elif col == "unit_name" and t.name == "reports":
                    sel.append(f"unit_name || '（合成副本{c}）'")
                elif col in ("package_name", "source_file") and t.name == "reports":
                    sel.append(f"{col} || '{suffix(c)}'")
                else:
                    sel.append(col)
            order = "rowid"
            cur = con.execute(f"insert into main.[{t.name}] ({', '.join(cols)}) "
                              f"select {', '.join(sel)} from src.[{t.name}] order by {order}")
            n += cur.rowcount
        counts[t.name] = n or con.execute(f"select count(*) from main.[{t.name}]").fetchone()[0]
        log(f"  {t.name:18s} {counts[t.name]:>10,} rows  ({time.perf_counter() - t0:.1f} s)")

    # Full-text search: same Han-split text as the source build, new section rowids.
    fts_cols = ", ".join(FTS_COLUMNS)
    con.execute(f"create virtual table main.{FTS_TABLE} using fts5({fts_cols}, tokenize='unicode61')")
    n_src = con.execute("select count(*) from src.sections").fetchone()[0]
    # Copy c of the i-th source section (in rowid order) is the (c * n_src + i)-th row of main.sections,
    # because both were inserted in rowid order.
    src_rowids = [r for (r,) in con.execute("select rowid from src.sections order by rowid")]
    dst_rowids = [r for (r,) in con.execute("select rowid from main.sections order by rowid")]
    assert len(dst_rowids) == k * len(src_rowids) == k * n_src
    con.execute("create temp table rowmap (src integer primary key, pos integer)")
    con.executemany("insert into temp.rowmap values (?, ?)", ((r, i) for i, r in enumerate(src_rowids)))
    con.execute("create temp table dstmap (pos integer primary key, dst integer)")
    con.executemany("insert into temp.dstmap values (?, ?)", enumerate(dst_rowids))
    for c in range(k):
        con.execute(f"""
            insert into main.{FTS_TABLE}(rowid, {fts_cols})
            select d.dst, f.{FTS_COLUMNS[0]}, f.{FTS_COLUMNS[1]}
            from src.{FTS_TABLE} f
            join temp.rowmap m on m.src = f.rowid
            join temp.dstmap d on d.pos = m.pos + {c * n_src}""")
        log(f"  {FTS_TABLE} copy {c + 1}/{k} ({time.perf_counter() - t0:.1f} s)")
    con.execute("commit")
    con.execute("detach database src")
    log(f"  indexes … ({time.perf_counter() - t0:.1f} s)")
    for sql in index_sql:
        con.execute(sql)
    for name, sql in views.VIEWS.items():
        con.execute(f"create view [{name}] as {sql.strip()}")
    if materialise and hasattr(views, "materialise"):
        views.materialise(db)
    con.execute(f"insert into {FTS_TABLE}({FTS_TABLE}) values ('optimize')")
    if analyze:  # as the build does (jixiao/database.py)
        con.execute("pragma analysis_limit = 1000")
        con.execute("analyze")
    con.commit()
    db.close()
    os.replace(tmp, dst)
    (dst.parent / "SYNTHETIC.md").write_text(
        f"# 合成数据 SYNTHETIC\n\n`{dst.name}` is synthetic: benchmarks/scale_db.py copied every row of "
        f"`{src.name}` (itself built from the synthetic corpus of benchmarks/synth.py) {k} times with "
        "rewritten report ids and unit names (合成副本k). For benchmarks only; never publish.\n",
        encoding="utf-8")
    log(f"done: {dst} ({dst.stat().st_size / 2**20:.0f} MB, {time.perf_counter() - t0:.1f} s)")
    return counts


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", type=Path, help="a database written by `jixiao build` (of a synthetic corpus)")
    ap.add_argument("dst", type=Path)
    ap.add_argument("-k", "--copies", type=int, default=10, help="copies of every row (default 10)")
    ap.add_argument("--no-analyze", action="store_true", help="no ANALYZE at the end (the build runs it)")
    ap.add_argument("--no-materialise", action="store_true",
                    help="keep report_summary a view (default: jixiao.views.materialise, as the build should)")
    args = ap.parse_args(argv)
    scale(args.src, args.dst, args.copies, not args.no_analyze, not args.no_materialise)
    return 0


if __name__ == "__main__":
    sys.exit(main())
