#!/usr/bin/env python3
"""Bounded load on the site (issue 8): N concurrent clients for S seconds over the site's pages,
searches, table pages, JSON API and stored queries, on 127.0.0.1 only.

    python tests/load_check.py                       # start `jixiao serve` on build/jixiao.db
    python tests/load_check.py --db /tmp/x.db --clients 50 --seconds 60
    python tests/load_check.py --base http://127.0.0.1:8001 --seconds 5

Prints one JSON object: requests, errors (connection failures / timeouts), 5xx, status
counts, p50/p95/p99/max latency in ms, requests per second, and the slowest URLs (by their
worst and by their median latency). Exits 1 if
there was any error or 5xx. Every loop is bounded by the deadline; the script stops by itself.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def urls_for(db: Path) -> list[str]:
    """The URLs a visitor and an API client use, filled in from the database."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    reports = [r[0] for r in con.execute("select report_id from reports limit 20")]
    units = [r[0] for r in con.execute("select distinct unit_name from reports where unit_name is not null limit 10")]
    con.close()
    q = urllib.parse.quote
    enc = urllib.parse.urlencode
    out = ["/", "/search", "/compare", "/downloads", "/dictionary", "/api", "/jixiao", "/jixiao/reports",
           "/jixiao/reports.json", "/jixiao/indicators?_sort=score", "/jixiao/sections.json?_shape=array&_size=20",
           "/jixiao/findings", "/-/versions.json"]
    for word in ("调解", "普法", "法律援助", "三公经费", "满意度"):
        out += ["/search?" + enc({"q": word}), "/jixiao/sections?" + enc({"_search": word}),
                "/jixiao/search.json?" + enc({"q": word, "_shape": "array"})]
    for rid in reports:
        out += [f"/report/{q(rid, safe='')}", "/jixiao/indicators.json?" + enc({"report_id": rid, "_shape": "array"})]
    for u in units:
        out += [f"/unit/{q(u, safe='')}", "/compare?" + enc([("unit", u)] + [("unit", x) for x in units[:2]])]
    return out


async def fetch(host: str, port: int, path: str, timeout: float) -> tuple[int, float]:
    """One GET over a fresh connection; returns (status, seconds). Status 0 = failure."""
    t0 = time.perf_counter()
    writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
                     f"User-Agent: jixiao-load-check\r\nAccept-Encoding: identity\r\n\r\n".encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readline(), timeout)
        status = int(head.split()[1]) if head.startswith(b"HTTP/") else 0
        await asyncio.wait_for(reader.read(), timeout)  # the whole body, until the server closes
        return status, time.perf_counter() - t0
    except (OSError, asyncio.TimeoutError, ValueError, IndexError):
        return 0, time.perf_counter() - t0
    finally:
        if writer is not None:
            writer.close()


async def run_load(base: str, urls: list[str], clients: int, seconds: float, timeout: float = 30.0,
                   seed: int = 8) -> dict:
    parsed = urllib.parse.urlsplit(base)
    host, port = parsed.hostname, parsed.port or 80
    if host not in LOOPBACK:
        raise SystemExit(f"refusing to load {host}: only loopback addresses are allowed")
    deadline = time.monotonic() + seconds
    results: list[tuple[str, int, float]] = []

    async def client(k: int) -> None:
        rnd = random.Random(seed + k)
        while time.monotonic() < deadline:
            path = rnd.choice(urls)
            status, dt = await fetch(host, port, path, timeout)
            results.append((path, status, dt))

    t0 = time.monotonic()
    await asyncio.gather(*(client(k) for k in range(clients)))
    elapsed = time.monotonic() - t0
    return summarise(results, elapsed, clients)


def summarise(results, elapsed: float, clients: int) -> dict:
    lat = sorted(dt for _, s, dt in results)

    def pct(p: float) -> float:
        return round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))], 1) if lat else 0.0

    statuses: dict[str, int] = {}
    for _, s, _ in results:
        statuses[str(s)] = statuses.get(str(s), 0) + 1
    slow: dict[str, float] = {}
    per_url: dict[str, list[float]] = {}
    for path, _, dt in results:
        slow[path] = max(slow.get(path, 0), dt)
        per_url.setdefault(path, []).append(dt)
    median = {k: sorted(v)[len(v) // 2] for k, v in per_url.items()}
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(results),
        "rps": round(len(results) / elapsed, 1) if elapsed else 0,
        "errors": sum(1 for _, s, _ in results if s == 0),
        "5xx": sum(1 for _, s, _ in results if s >= 500),
        "4xx": sum(1 for _, s, _ in results if 400 <= s < 500),
        "status": statuses,
        "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
        "max_ms": round(1000 * lat[-1], 1) if lat else 0.0,
        "slowest": sorted(((round(v * 1000), k) for k, v in slow.items()), reverse=True)[:5],
        # the max of one URL is mostly queueing behind others; its median says what it costs
        "slowest_median": sorted(((round(v * 1000), k) for k, v in median.items()), reverse=True)[:5],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "jixiao.cli", "serve", "--db", str(db), "--port", str(port)],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=2)
            return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("jixiao serve exited")
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("jixiao serve did not start in 60 s")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, default=REPO / "build" / "jixiao.db")
    ap.add_argument("--base", help="an already running site on 127.0.0.1 (otherwise one is started)")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args(argv)
    if args.seconds > 600 or args.clients > 200:
        raise SystemExit("bounded load only: at most 200 clients for 600 s")
    proc = None
    base = args.base
    if not base:
        port = free_port()
        proc = start_server(args.db, port)
        base = f"http://127.0.0.1:{port}"
    try:
        report = asyncio.run(run_load(base, urls_for(args.db), args.clients, args.seconds))
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=10)
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0 if report["errors"] == 0 and report["5xx"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
