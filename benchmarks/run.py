"""Benchmark harness (issue 7): build and serving figures on synthetic corpora (合成数据).

    .venv/bin/python benchmarks/run.py                       # default sizes (fits in a few minutes)
    .venv/bin/python benchmarks/run.py --sizes 1000,10000    # the figures in BENCHMARKS.md
    .venv/bin/python benchmarks/run.py --sizes 20 --requests 10   # smoke test
    .venv/bin/python benchmarks/run.py --db build/bench/site10k/jixiao.db --requests 100   # serving only, existing DB

For each size N it: generates N synthetic reports under build/bench/corpus-N (benchmarks/synth.py),
parses every one and checks it against the generator's manifest (parse throughput), runs the
real build (`jixiao build`, a cold build, a no-change rebuild and a rebuild after one report
changed) measuring wall/CPU time and peak RSS of the process tree, measures the floor (read the
same files + one executemany per table of the same rows into a fresh SQLite file), then serves
the database with `jixiao serve` on 127.0.0.1 and a free port and runs a bounded load (fixed
number of requests per endpoint, 8 concurrent clients) over the site's pages, then stock
`datasette` on the same database for the same plain table page, and compares our FTS search
with LIKE (latency and recall). Everything is printed; the figures are also written to
build/bench/results-N.json. All load goes to 127.0.0.1 and stops by itself.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import resource
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import synth  # noqa: E402

BENCH = ROOT / "build" / "bench"
VENV_BIN = Path(sys.executable).parent
JIXIAO = VENV_BIN / "jixiao"
DATASETTE = VENV_BIN / "datasette"
CONCURRENCY = 8
SEARCH_TERMS = ["调解", "普法", "法律援助", "社区矫正", "三公经费", "预算执行", "满意度", "信访", "合成数据", "绩效目标"]


def log(msg: str = "") -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------- machine


def machine() -> dict:
    mem = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    mem = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            m = re.search(r"model name\s*:\s*(.*)", fh.read())
            cpu = m.group(1) if m else cpu
    except OSError:
        pass
    try:
        import datasette

        dv = datasette.__version__
    except Exception:  # pragma: no cover
        dv = "?"
    return {
        "cores": os.cpu_count(), "memory_gib": mem, "cpu": cpu, "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version, "datasette": dv, "platform": platform.platform(),
    }


# --------------------------------------------------------------------------- process measurement


def _tree_rss(root_pid: int) -> int:
    """Sum of RSS (bytes) of root_pid and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                st = fh.read()
            with open(f"/proc/{d}/statm") as fh:
                rss[int(d)] = int(fh.read().split()[1]) * page
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d))
    total, stack = 0, [root_pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, ()))
    return total


def run_measured(cmd: list[str], cwd: Path, env: dict | None = None) -> dict:
    """Run cmd to completion: wall, CPU (user+sys of it and its children), peak RSS of the tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            try:
                peak[0] = max(peak[0], _tree_rss(proc.pid))
            except Exception:
                pass
            done.wait(0.05)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, _ = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    th.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{out[-3000:]}")
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 3),
        "peak_rss_tree_mb": round(peak[0] / 2**20, 1),
        "max_rss_one_process_mb": round(after.ru_maxrss / 1024, 1),  # max over all reaped children so far
        "output_tail": out.strip().splitlines()[-6:],
    }


# --------------------------------------------------------------------------- build


def build_cli_available() -> bool:
    try:
        out = subprocess.run([str(JIXIAO), "build", "--help"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and "--out" in out.stdout


def build_command(corpus: Path, work: Path, workers: int) -> list[str]:
    db, pk = work / "jixiao.db", work / "datapackages"
    if build_cli_available():
        return [str(JIXIAO), "build", str(corpus), "--out", str(db), "--packages", str(pk), "--workers", str(workers)]
    # Fallback while the CLI command is not there: the same library call.
    code = ("import sys; from jixiao.build import build, summary; "
            "r = build([sys.argv[1]], out=sys.argv[2], packages=sys.argv[3], workers=int(sys.argv[4]), "
            "cache_dir='build/cache', progress=False); print(summary(r))")
    return [sys.executable, "-c", code, str(corpus), str(db), str(pk), str(workers)]


def touch_one_report(corpus: Path) -> Path:
    """Change one report (a new narrative line after the marker): a different sha256, same identity."""
    f = sorted(corpus.glob(f"{synth.PREFIX}*.txt"))[0]
    lines = f.read_text(encoding="utf-8").split("\n")
    stamp = f"【合成数据】增量重建测试：修改于{time.time_ns()}。"
    if len(lines) > 1 and lines[1].startswith("【合成数据】增量重建测试"):
        lines[1] = stamp
    else:
        lines.insert(1, stamp)
    f.write_text("\n".join(lines), encoding="utf-8")
    return f


def bench_build(corpus: Path, work: Path, workers: int, n: int, rebuilds: bool = True) -> dict:
    """The cold build, a no-change rebuild, one report changed --in-place (and, with ``rebuilds``,
    one changed as a new version), in one process: benchmarks/build_phases.py."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, str(HERE / "build_phases.py"), str(corpus), str(work), str(workers)] + (
        ["--copy"] if rebuilds else [])
    res = {"command": "benchmarks/build_phases.py (jixiao.build.build, as `jixiao build`)"}
    log("  build: cold, no change, one changed in place" + (", one changed as a new version" if rebuilds else "") + " …")
    whole = run_measured(cmd, work, env)
    phases = json.loads(whole["output_tail"][-1])
    for name, ph in phases.items():
        res[name] = ph
    res["cold"]["peak_rss_tree_mb"] = whole["peak_rss_tree_mb"]  # of the whole run; the cold build's in practice
    res["cold"]["reports_per_s"] = round(n / res["cold"]["wall_s"], 1)
    for name, ph in phases.items():
        log(f"    {name:22s} {ph['wall_s']:>9} s wall {ph['cpu_s']:>9} s CPU  (parsed {ph['parsed']}, cached "
            f"{ph['cached']}) {' '.join(ph['log_tail'])}")
    log(f"    cold build: {res['cold']['reports_per_s']} reports/s, peak RSS {whole['peak_rss_tree_mb']} MB (tree)")
    db = work / "jixiao.db"
    wal = db.resolve().with_name(db.resolve().name + "-wal")
    res["db_mb"] = round((db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)) / 2**20, 1)
    res["input_mb"] = round(sum(f.stat().st_size for f in corpus.glob(f"{synth.PREFIX}*.txt")) / 2**20, 1)
    res["db_x_input"] = round(res["db_mb"] / res["input_mb"], 2)
    res["cpu_ms_per_report"] = round(res["cold"]["cpu_s"] / n * 1000, 1)
    res["packages_mb"] = round(sum(p.stat().st_size for p in (work / "datapackages").rglob("*") if p.is_file()) / 2**20, 1) \
        if (work / "datapackages").exists() else None
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    res["rows"] = {t: con.execute(f'select count(*) from "{t}"').fetchone()[0] for (t,) in con.execute(
        "select name from sqlite_master where type='table' and name not like 'sections_fts%' and name not like 'sqlite_%'")}
    con.close()
    return res


def bench_floor(corpus: Path, db: Path, work: Path) -> dict:
    """Read the same files + one executemany per table of the same rows (benchmarks/floor.py)."""
    import floor

    res = floor.floor(corpus, db, work, f"{synth.PREFIX}*.txt")
    res["bytes_read_mb"] = round(sum(f.stat().st_size for f in corpus.glob(f"{synth.PREFIX}*.txt")) / 2**20, 1)
    return res


# --------------------------------------------------------------------------- parse throughput + verification


def _verify_chunk(args):
    out, recs = args
    from jixiao.parse import parse_file

    bad = []
    for want in recs:
        bad += synth.check_report(parse_file(Path(out) / want["file"]), want)
    return bad


def bench_parse(corpus: Path, workers: int) -> dict:
    recs = synth.read_manifest(corpus)
    chunk = max(20, len(recs) // (workers * 8) or 1)
    jobs = [(str(corpus), recs[i:i + chunk]) for i in range(0, len(recs), chunk)]
    t0 = time.perf_counter()
    bad = []
    with ProcessPoolExecutor(workers) as ex:
        for b in ex.map(_verify_chunk, jobs):
            bad += b
    wall = time.perf_counter() - t0
    return {"parsed": len(recs), "wall_s": round(wall, 3), "reports_per_s": round(len(recs) / wall, 1),
            "mismatches": len(bad), "examples": bad[:10]}


# --------------------------------------------------------------------------- serving


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, cmd: list[str], port: int, cwd: Path, name: str):
        self.cmd, self.port, self.cwd, self.name = cmd, port, cwd, name
        self.proc = None
        self.logfile = BENCH / f"{name}-{port}.log"

    def __enter__(self):
        self.fh = open(self.logfile, "w")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.cmd, cwd=self.cwd, stdout=self.fh, stderr=subprocess.STDOUT)
        deadline = time.time() + 600
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: see {self.logfile}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                c.request("GET", "/-/versions.json")
                if c.getresponse().status == 200:
                    c.close()
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"{self.name} did not start")
        self.startup_s = round(time.perf_counter() - t0, 2)
        return self

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.fh.close()


def load(port: int, paths: list[str], n_requests: int, concurrency: int = CONCURRENCY) -> dict:
    """n_requests GETs (cycling over paths) with `concurrency` keep-alive clients; stops by itself."""
    lat: list[float] = []
    errors: list[str] = []
    nbytes = [0]
    lock = threading.Lock()
    counter = iter(range(n_requests))

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            path = paths[i % len(paths)]
            t0 = time.perf_counter()
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                body = resp.read()
                dt = time.perf_counter() - t0
                with lock:
                    lat.append(dt)
                    nbytes[0] += len(body)
                    if resp.status != 200:
                        errors.append(f"{resp.status} {path}")
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                with lock:
                    errors.append(f"{type(exc).__name__} {path}")
        conn.close()

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as ex:
        for f in [ex.submit(client) for _ in range(concurrency)]:
            f.result()
    wall = time.perf_counter() - t0
    lat.sort()

    def pct(p):
        return round(lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))] * 1000, 1) if lat else None

    return {"requests": n_requests, "concurrency": concurrency, "p50_ms": pct(50), "p95_ms": pct(95),
            "p99_ms": pct(99), "req_per_s": round(len(lat) / wall, 1) if wall else None, "errors": len(errors),
            "error_examples": errors[:3], "kb_per_response": round(nbytes[0] / max(1, len(lat)) / 1024, 1)}


def q(path: str, **params) -> str:
    return path + ("?" + urllib.parse.urlencode(params) if params else "")


def endpoints(db: Path) -> dict[str, list[str]]:
    """Paths per endpoint, with parameter values taken from the database."""
    import yaml

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    ids = [r for (r,) in con.execute("select report_id from reports order by random() limit 50")]
    units = [u for (u,) in con.execute("select unit_name from reports where unit_name is not null order by random() limit 30")]
    year = con.execute("select fiscal_year from reports group by 1 order by count(*) desc limit 1").fetchone()[0]

    def commonest(table, column, where=""):
        return con.execute(f"select [{column}] from [{table}] where [{column}] is not null {where} "
                           "group by 1 order by count(*) desc limit 1").fetchone()[0]

    two_filters = [q("/jixiao/indicators", verdict="未达成", lost_points="1"),
                   q("/jixiao/indicators", level1=commonest("indicators", "level1"), verdict="未达成"),
                   q("/jixiao/findings", severity="疑点", rule=commonest("findings", "rule", "and severity = '疑点'")),
                   q("/jixiao/reports", fiscal_year=str(year), admin_level=commonest("reports", "admin_level"))]
    con.close()
    cfg = yaml.safe_load((ROOT / "datasette.yml").read_text(encoding="utf-8"))
    queries = cfg.get("databases", {}).get("jixiao", {}).get("queries", {})
    values = {"q": "调解", "units": ",".join(units[:3]), "year": str(year), "unit": units[0], "keyword": "满意度",
              "topic": "", "severity": "", "city": "", "section": ""}
    rare = rare_term(db)
    eps = {
        "home": ["/"],
        "table_facets": ["/jixiao/reports"],
        "table_plain": ["/jixiao/reports?_nofacet=1"],
        "indicators_faceted": ["/jixiao/indicators"],
        # filtered: their facets are counted on each view (an unfiltered page's are kept once counted)
        "facets_filtered": [q("/jixiao/indicators", verdict="未达成"), q("/jixiao/reports", fiscal_year=str(year)),
                            q("/jixiao/findings", severity="错误")],
        # two clicks on facet values
        "facets_two_filters": two_filters,
        "report_page": [q(f"/report/{urllib.parse.quote(i, safe='')}") for i in ids],
        "unit_page": [q(f"/unit/{urllib.parse.quote(u, safe='')}") for u in units[:10]],
        "fts_search": ["/jixiao/sections?" + urllib.parse.urlencode({"_search": t}) for t in SEARCH_TERMS[:5]],
        "ranked_search": ["/search?" + urllib.parse.urlencode({"q": t}) for t in SEARCH_TERMS[:5]],
        "search_common": ["/search?" + urllib.parse.urlencode({"q": "调解"})],
        "search_rare": ["/search?" + urllib.parse.urlencode({"q": rare})],
    }
    for name, qd in queries.items():
        params = sorted(set(re.findall(r"(?<!:):(\w+)", qd.get("sql", ""))))
        if name == "search":
            eps["query:search"] = [q("/jixiao/search", q=t) for t in SEARCH_TERMS[:5]]
        elif name == "unit_over_years":
            eps["query:" + name] = [q(f"/jixiao/{name}", unit=u) for u in units[:10]]
        else:
            eps["query:" + name] = [q(f"/jixiao/{name}", **{p: values.get(p, "") for p in params})]
    # The same stored queries through the JSON API (what an app or the /compare charts' twins fetch).
    for name in [k for k in eps if k.startswith("query:")]:
        eps["json:" + name[len("query:"):]] = [p.replace(f"/jixiao/{name[6:]}", f"/jixiao/{name[6:]}.json", 1)
                                               + ("&" if "?" in p else "?") + "_shape=array" for p in eps[name]]
    eps["compare_page"] = [q("/compare", unit=units[0]) + "&" + urllib.parse.urlencode([("unit", u) for u in units[1:3]])
                           + f"&year={year}"]
    eps["csv_download"] = ["/jixiao/reports.csv?_stream=on"]
    return eps


def rare_term(db: Path) -> str:
    """A word few sections hold: the county (or city) name of one report, as the search's rare case."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = con.execute("select coalesce(county, city) from reports where coalesce(county, city) is not null "
                          "group by 1 order by count(*), 1 limit 1").fetchone()
    finally:
        con.close()
    return (row[0] if row else "芦淞区").rstrip("市区县") or "芦淞"


def _print(name: str, r1: dict | None, r8: dict, stock: dict | None = None) -> None:
    ratio = f"  ×stock {r8['p95_ms'] / stock['p95_ms']:.2f}" if stock and stock.get("p95_ms") else ""
    one = f"1 client p95 {r1['p95_ms']:>7} ms | " if r1 else ""
    log(f"    {name:32s} {one}8 clients p50 {r8['p50_ms']:>7} ms  p95 {r8['p95_ms']:>7} ms  "
        f"{r8['req_per_s']:>7} req/s  errors {r8['errors']}{ratio}")


def bench_serve(db: Path, n_requests: int, only: list[str] | None = None, stock: bool = True,
                live: bool = False, workers: int = 1) -> dict:
    """Stock Datasette's plain table page first, then `jixiao serve` on the same database: each
    endpoint with 1 client and with 8, and its p95 over the stock page's p95 (one run, one machine).
    `only`: endpoint names (or prefixes) to run; `live`: `jixiao serve --live` (mutable database)."""
    res = {"endpoints": {}, "live": live, "workers": workers}
    eps = endpoints(db)
    if only:
        eps = {k: v for k, v in eps.items() if any(k == o or k.startswith(o) for o in only)}
    ref = None
    if stock:
        ref = res["stock_table_plain"] = bench_stock(db, n_requests)
    port = free_port()
    cmd = [str(JIXIAO), "serve", "--db", str(db), "--port", str(port), "--workers", str(workers)] + (
        ["--live"] if live else [])
    with Server(cmd, port, ROOT, "jixiao-serve") as srv:
        res["startup_s"] = srv.startup_s
        for name, paths in eps.items():
            # warm up once per path (templates, page cache), not measured
            load(port, paths, len(paths), 1)
            n = max(8, n_requests // 5) if name in ("csv_download", "home", "compare_page") else n_requests
            r1 = load(port, paths, max(8, n // 4), 1) if name != "csv_download" else None
            r = load(port, paths, n)
            res["endpoints"][name] = {**r, "path": paths[0], "one_client": r1,
                                      "p95_vs_stock": round(r["p95_ms"] / ref["p95_ms"], 2) if ref else None}
            _print(name, r1, r, ref)
    if ref and "table_plain" in res["endpoints"]:
        ours = res["endpoints"]["table_plain"]["req_per_s"]
        res["throughput_ratio_vs_stock"] = round(ours / ref["req_per_s"], 2) if ref["req_per_s"] else None
    return res


def bench_stock(db: Path, n_requests: int) -> dict:
    """Stock Datasette (no plugins, metadata or templates), immutable, on the same database: the
    plain table page every page of ours is compared with."""
    port2 = free_port()
    inspect = db.parent / "inspect-data.json"
    cmd2 = [str(DATASETTE), "serve", "-i", str(db), "--host", "127.0.0.1", "--port", str(port2)]
    if inspect.exists():
        cmd2 += ["--inspect-file", str(inspect)]
    with Server(cmd2, port2, BENCH, "stock-datasette") as srv:
        path = "/jixiao/reports?_nofacet=1"
        load(port2, [path], 8, 1)
        r1 = load(port2, [path], max(8, n_requests // 4), 1)
        r = load(port2, [path], n_requests)
        _print("stock datasette table_plain", r1, r)
        return {**r, "path": path, "one_client": r1}


LIVE_PAGES = ["table_plain", "indicators_faceted", "report_page", "unit_page", "search_common", "search_rare",
              "compare_page", "query:"]


def table_sizes(db: Path) -> dict[str, float]:
    """MB per table and index (dbstat), largest first."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute("select name, sum(pgsize) from dbstat group by name order by 2 desc").fetchall()
    except sqlite3.Error:
        rows = []
    finally:
        con.close()
    return {n: round(b / 2**20, 1) for n, b in rows}


# --------------------------------------------------------------------------- search


def bench_search(db: Path, repeats: int = 5) -> dict:
    sys.path.insert(0, str(ROOT))
    from jixiao.search import FTS_TABLE, escape_fts_cjk

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    out = {}

    def timed(sql, params):
        best = []
        rows = None
        for _ in range(repeats):
            t0 = time.perf_counter()
            rows = con.execute(sql, params).fetchall()
            best.append(time.perf_counter() - t0)
        return statistics.median(best), rows

    for term in SEARCH_TERMS:
        t_fts, fts = timed(f"select rowid from {FTS_TABLE} where {FTS_TABLE} match ?", [escape_fts_cjk(term)])
        t_rank, _ = timed(f"select rowid from {FTS_TABLE} where {FTS_TABLE} match ? order by rank limit 50",
                          [escape_fts_cjk(term)])
        t_like, like = timed("select rowid from sections where heading like ? or body like ?", [f"%{term}%"] * 2)
        fset, lset = {r[0] for r in fts}, {r[0] for r in like}
        out[term] = {
            "like_hits": len(lset), "fts_hits": len(fset),
            "fts_recall": round(len(fset & lset) / len(lset), 4) if lset else 1.0,
            "like_recall": 1.0,
            "fts_ms": round(t_fts * 1000, 2), "fts_ranked_top50_ms": round(t_rank * 1000, 2),
            "like_ms": round(t_like * 1000, 2), "speedup": round(t_like / t_fts, 1) if t_fts else None,
        }
    con.close()
    speed = [v["speedup"] for v in out.values() if v["speedup"]]
    return {"terms": out, "median_speedup": round(statistics.median(speed), 1) if speed else None,
            "min_recall": min(v["fts_recall"] for v in out.values())}


# --------------------------------------------------------------------------- main


def run_db(db: Path, args) -> dict:
    """Serving (+ search) on an existing database, e.g. one built from a benchmarks/synth.py corpus."""
    db = db.resolve()  # the stock server runs in another folder
    log(f"\n=== serving {db} ===")
    if not db.exists():
        raise SystemExit(f"--db: {db} does not exist")
    if db.stem != "jixiao":  # Datasette names the database after the file; the site serves /jixiao/…
        raise SystemExit(f"--db: the file must be named jixiao.db (got {db.name}); put it in its own folder")
    res: dict = {"db": str(db), "db_mb": round(db.stat().st_size / 2**20, 1)}
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    res["reports"] = con.execute("select count(*) from reports").fetchone()[0]
    con.close()
    only = [o for o in (args.only or "").split(",") if o]
    res["serve"] = bench_serve(db, args.requests, only, stock=not args.no_stock)
    if "throughput_ratio_vs_stock" in res["serve"]:
        log(f"  our throughput / stock on the plain table page: {res['serve']['throughput_ratio_vs_stock']}")
    if not only:
        res["search"] = bench_search(db)
        log(f"  search: FTS vs LIKE median speed-up {res['search']['median_speedup']}×, "
            f"min FTS recall {res['search']['min_recall']}")
    return res


def run_size(n: int, args) -> dict:
    log(f"\n=== {n} synthetic reports (合成数据) ===")
    corpus = BENCH / f"corpus-{n}"
    work = BENCH / f"work-{n}"
    res: dict = {"n": n}
    db = work / "jixiao.db"
    if args.serve_only:
        if not db.exists():
            raise SystemExit(f"--serve-only: {db} does not exist (run the build first)")
        res["serve"] = bench_serve(db, args.requests)
        log(f"  our throughput / stock on the plain table page: {res['serve']['throughput_ratio_vs_stock']}")
        res["search"] = bench_search(db)
        log(f"  search: FTS vs LIKE median speed-up {res['search']['median_speedup']}×, "
            f"min FTS recall {res['search']['min_recall']}")
        return res
    t0 = time.perf_counter()
    synth.generate(n, corpus, args.seed, args.workers)
    res["generate_s"] = round(time.perf_counter() - t0, 2)
    log(f"  generated in {res['generate_s']} s → {corpus}")
    if args.skip_parse:
        res["parse"] = {"skipped": True}
    else:
        res["parse"] = bench_parse(corpus, args.workers)
    if not args.skip_parse:
        log(f"  parse + check against the manifest: {res['parse']['reports_per_s']} reports/s with {args.workers} "
            f"workers; mismatches {res['parse']['mismatches']}")
        for b in res["parse"]["examples"]:
            log("    " + b)
    if args.skip_build:
        return res
    res["build"] = bench_build(corpus, work, args.workers, n, rebuilds=n <= args.max_rebuild)
    res["floor"] = bench_floor(corpus, work / "jixiao.db", work)
    res["build"]["ratio_to_floor"] = round(res["build"]["cold"]["wall_s"] / res["floor"]["floor_s"], 1)
    log(f"  floor (read {res['floor']['bytes_read_mb']} MB + executemany {res['floor']['rows']} rows): "
        f"{res['floor']['floor_s']} s → build is {res['build']['ratio_to_floor']}× the floor")
    log(f"  database {res['build']['db_mb']} MB = {res['build']['db_x_input']}× the input "
        f"({res['build']['input_mb']} MB), packages {res['build']['packages_mb']} MB; "
        f"{res['build']['cpu_ms_per_report']} ms CPU per report")
    res["sizes"] = table_sizes(work / "jixiao.db")
    for name, mb in list(res["sizes"].items())[:12]:
        log(f"    {name:40s} {mb:>8} MB")
    db = work / "jixiao.db"
    if not args.skip_serve and n <= args.max_serve:
        log("  serving (8 concurrent clients) …")
        res["serve"] = bench_serve(db, args.requests)
        log(f"  our throughput / stock on the plain table page: {res['serve']['throughput_ratio_vs_stock']}")
        log("  the same pages served --live (mutable database, what --in-place needs) …")
        res["serve_live"] = bench_serve(db, args.requests, LIVE_PAGES, stock=False, live=True)
        log("  the same pages with two Datasette processes (jixiao serve --workers 2) …")
        res["serve_workers"] = bench_serve(db, args.requests, LIVE_PAGES, stock=False, workers=2)
    res["search"] = bench_search(db)
    log(f"  search: FTS vs LIKE median speed-up {res['search']['median_speedup']}×, "
        f"min FTS recall {res['search']['min_recall']}")
    for term, v in res["search"]["terms"].items():
        log(f"    {term:6s} LIKE {v['like_hits']:>6} hits {v['like_ms']:>8} ms | FTS {v['fts_hits']:>6} hits "
            f"{v['fts_ms']:>7} ms (top50 ranked {v['fts_ranked_top50_ms']} ms) recall {v['fts_recall']}")
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="jixiao benchmarks (synthetic corpora; 127.0.0.1 only)")
    ap.add_argument("--sizes", default="200", help="comma-separated corpus sizes (default 200: a few minutes)")
    ap.add_argument("--requests", type=int, default=200, help="requests per endpoint (default 200)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="build/parse workers")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--max-serve", type=int, default=10_000, help="largest size to run the serving load on")
    ap.add_argument("--max-rebuild", type=int, default=10_000, help="largest size to time the two rebuilds on")
    ap.add_argument("--serve-only", action="store_true", help="serving + search on build/bench/work-N/jixiao.db")
    ap.add_argument("--skip-build", action="store_true", help="only generate + parse")
    ap.add_argument("--skip-parse", action="store_true", help="no separate parse + manifest check")
    ap.add_argument("--skip-serve", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep corpora and databases under build/bench")
    ap.add_argument("--db", type=Path, help="serving (+ search) only, on this existing database (no build)")
    ap.add_argument("--only", help="with --db: comma-separated endpoint names or prefixes (e.g. query:,report_page)")
    ap.add_argument("--no-stock", action="store_true", help="with --db: skip the stock Datasette comparison")
    ap.add_argument("--out", type=Path, help="with --db: write the results here (default build/bench/results-db-<name>.json)")
    args = ap.parse_args(argv)
    if args.db:
        BENCH.mkdir(parents=True, exist_ok=True)
        info = machine()
        log("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
        res = {"machine": info, "argv": sys.argv[1:], **run_db(args.db, args)}
        out = args.out or BENCH / f"results-db-{args.db.parent.name}.json"
        out.write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
        log(f"\nresults: {out}")
        return 0
    sizes = [int(s.replace("_", "").replace("k", "000")) for s in args.sizes.split(",") if s]
    BENCH.mkdir(parents=True, exist_ok=True)
    info = machine()
    log("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    results = {"machine": info, "argv": sys.argv[1:], "sizes": {}}
    for n in sizes:
        results["sizes"][n] = run_size(n, args)
        tag = "-serve" if args.serve_only else ""
        (BENCH / f"results-{n}{tag}.json").write_text(json.dumps({"machine": info, **results["sizes"][n]},
                                                            ensure_ascii=False, indent=1), encoding="utf-8")
        if not args.keep and n >= 10_000 and not args.serve_only:
            shutil.rmtree(BENCH / f"work-{n}" / "datapackages", ignore_errors=True)
    (BENCH / ("results-serve.json" if args.serve_only else "results.json")).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    if len(sizes) > 1 and all("build" in results["sizes"][n] for n in sizes):
        log("\ngrowth (cold build):")
        base = results["sizes"][sizes[0]]["build"]["cold"]
        for n in sizes:
            b = results["sizes"][n]["build"]["cold"]
            log(f"  {n:>7} reports: {b['wall_s']:>8} s ({b['wall_s'] / base['wall_s'] * sizes[0] / n:.2f}× linear), "
                f"peak RSS {b['peak_rss_tree_mb']} MB")
    log(f"\nresults: {BENCH / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
