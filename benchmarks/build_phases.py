"""A cold build and the rebuilds after it, in ONE process (benchmarks/run.py runs it).

    .venv/bin/python benchmarks/build_phases.py CORPUS WORK_DIR WORKERS [--copy]

Why one process: the build cache is keyed by a hash of jixiao's source (``code_version``), and
six engineers edit that source while benchmarks run; separate ``jixiao build`` commands would see
different versions and rebuild everything. Here the version is computed once, by the cold build
(into an empty work folder), which records the state the rebuilds start from. Then: a rebuild
with nothing changed; one report changed and applied ``--in-place`` (the live path); with
``--copy`` one more report changed and written as a new version (the copy path). Prints JSON.
"""
from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def _cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def main(argv=None) -> int:
    from jixiao.build import build

    from run import touch_one_report

    args = argv or sys.argv[1:]
    corpus, work, workers, copy = Path(args[0]), Path(args[1]), int(args[2]), "--copy" in args
    kw = dict(out=work / "jixiao.db", packages=work / "datapackages", cache_dir=work / "cache", workers=workers,
              progress=False)
    out: dict = {}

    def timed(name, **extra):
        t0, c0 = time.perf_counter(), _cpu()
        r = build([corpus], **kw, **extra)
        out[name] = {"wall_s": round(time.perf_counter() - t0, 3), "cpu_s": round(_cpu() - c0, 3),
                     "parsed": r.parsed, "cached": r.cached,
                     "log_tail": [line for line in r.log if line.startswith(("across", "incremental", "in place"))][-3:]}

    timed("cold")
    timed("nochange")
    touch_one_report(corpus)
    timed("one_changed_in_place", in_place=True)
    if copy:
        touch_one_report(corpus)
        timed("one_changed")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
