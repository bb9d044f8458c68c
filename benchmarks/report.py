"""Markdown tables for BENCHMARKS.md from benchmarks/run.py's results (one run per size).

    .venv/bin/python benchmarks/report.py build/bench/results-2000.json build/bench/results-10000.json
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

PAGES = ["table_plain", "table_facets", "indicators_faceted", "report_page", "unit_page", "search_common",
         "search_rare", "ranked_search", "fts_search", "compare_page", "home", "csv_download"]


def _fmt(v, unit=""):
    return "–" if v is None else f"{v}{unit}"


def build_table(runs: dict[int, dict]) -> str:
    out = ["| | " + " | ".join(f"{n:,} reports" for n in runs) + " |", "|---|" + "---|" * len(runs)]

    def row(label, get):
        vals = []
        for r in runs.values():
            try:
                vals.append(_fmt(get(r)))
            except (KeyError, TypeError, ZeroDivisionError):
                vals.append("–")
        out.append(f"| {label} | " + " | ".join(vals) + " |")

    row("cold build, wall (s)", lambda r: r["build"]["cold"]["wall_s"])
    row("build rate (reports/s)", lambda r: r["build"]["cold"]["reports_per_s"])
    row("CPU per report (ms, all processes)", lambda r: r["build"]["cpu_ms_per_report"])
    row("floor: read + insert the same rows (s)", lambda r: r["floor"]["floor_s"])
    row("build / floor", lambda r: r["build"]["ratio_to_floor"])
    row("no-change rebuild (s)", lambda r: r["build"]["nochange"]["wall_s"])
    row("one report changed, new version (s)", lambda r: r["build"]["one_changed"]["wall_s"])
    row("one report changed, --in-place (s)", lambda r: r["build"]["one_changed_in_place"]["wall_s"])
    row("input text (MB)", lambda r: r["build"]["input_mb"])
    row("database (MB)", lambda r: r["build"]["db_mb"])
    row("database / input", lambda r: r["build"]["db_x_input"])
    row("data packages (MB)", lambda r: r["build"]["packages_mb"])
    return "\n".join(out)


def pages_table(r: dict, key: str = "serve") -> str:
    serve = r.get(key) or {}
    eps = serve.get("endpoints", {})
    stock = (r.get("serve") or {}).get("stock_table_plain") or {}
    out = ["| page | 1 client p95 (ms) | 8 clients p50 (ms) | 8 clients p95 (ms) | p95 / stock plain page (8 clients) |",
           "|---|---|---|---|---|"]
    if stock:
        out.append(f"| **stock Datasette** `/jixiao/reports?_nofacet=1` | {_fmt((stock.get('one_client') or {}).get('p95_ms'))} "
                   f"| {stock['p50_ms']} | {stock['p95_ms']} | 1 |")
    names = [n for n in PAGES if n in eps] + sorted(n for n in eps if n not in PAGES)
    for n in names:
        e = eps[n]
        ratio = round(e["p95_ms"] / stock["p95_ms"], 2) if stock.get("p95_ms") else None
        out.append(f"| {n} `{e['path'][:60]}` | {_fmt((e.get('one_client') or {}).get('p95_ms'))} | {e['p50_ms']} "
                   f"| {e['p95_ms']} | {_fmt(ratio)} |")
    return "\n".join(out)


def main(argv=None) -> int:
    paths = [Path(p) for p in (argv or sys.argv[1:])]
    runs = {}
    for p in paths:
        r = json.loads(p.read_text(encoding="utf-8"))
        runs[r.get("n") or len(runs)] = r
    m = next(iter(runs.values())).get("machine", {})
    print("machine: " + ", ".join(f"{k} {v}" for k, v in m.items()) + "\n")
    print(build_table(runs) + "\n")
    for n, r in runs.items():
        if r.get("serve"):
            print(f"#### Pages at {n:,} reports (immutable, `jixiao serve`)\n\n" + pages_table(r) + "\n")
        if r.get("serve_workers"):
            print(f"#### Pages at {n:,} reports, `jixiao serve --workers 2`\n\n" + pages_table(r, "serve_workers") + "\n")
        if r.get("serve_live"):
            print(f"#### Pages at {n:,} reports, `jixiao serve --live` (mutable)\n\n" + pages_table(r, "serve_live") + "\n")
        sizes = (r.get("sizes") or {})
        if sizes:
            print(f"#### Largest tables and indexes at {n:,} reports (MB)\n")
            print("| name | MB |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in list(sizes.items())[:12]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
