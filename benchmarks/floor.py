"""The build's floor (issue 16.2): read the text of every input file + insert the same rows.

    .venv/bin/python benchmarks/floor.py build/bench/corpus-2000 build/bench/work-2000/jixiao.db

The rows are the ones the build wrote (dumped from its database first, not timed); the timed part
is reading every input file and one executemany per table into a fresh SQLite file (no indexes,
no search index, default pragmas). Our build's wall time over this one is the "ratio to the
floor" of BENCHMARKS.md (benchmarks/run.py calls :func:`floor` after each build).
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path


def floor(corpus: Path, db: Path, work: Path, pattern: str = "*.txt") -> dict:
    src = sqlite3.connect(f"file:{Path(db).resolve()}?mode=ro", uri=True)
    tables = [t for (t,) in src.execute(
        "select name from sqlite_master where type='table' and name not like 'sqlite_%' "
        "and name not like 'sections_fts%' order by name")]
    dump = {}
    for t in tables:
        cur = src.execute(f'select * from "{t}"')
        dump[t] = ([d[0] for d in cur.description], cur.fetchall())
    src.close()
    files = sorted(Path(corpus).glob(pattern))
    out = Path(work) / "floor.db"
    out.unlink(missing_ok=True)
    t0 = time.perf_counter()
    nbytes = sum(len(f.read_text(encoding="utf-8", errors="replace")) for f in files)
    t_read = time.perf_counter() - t0
    t1 = time.perf_counter()
    con = sqlite3.connect(out)
    n_rows = 0
    with con:
        for t, (cols, rows) in dump.items():
            con.execute(f'create table "{t}" ({", ".join(chr(34) + c + chr(34) for c in cols)})')
            con.executemany(f'insert into "{t}" values ({", ".join("?" * len(cols))})', rows)
            n_rows += len(rows)
    con.close()
    t_insert = time.perf_counter() - t1
    out.unlink(missing_ok=True)
    return {"files": len(files), "read_s": round(t_read, 3), "insert_s": round(t_insert, 3),
            "floor_s": round(t_read + t_insert, 3), "rows": n_rows, "characters_read": nbytes}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("db", type=Path, help="a database the build wrote from that corpus")
    ap.add_argument("--work", type=Path, default=None, help="folder for the scratch file (default: the db's)")
    args = ap.parse_args(argv)
    print(json.dumps(floor(args.corpus, args.db, args.work or args.db.resolve().parent), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
