"""Seconds per page of the PDF reader (jixiao.read.pdf) on the text-layer fixtures, and the
peak memory of reading the longest one several times over (a bounded reader does not grow).

    .venv/bin/python benchmarks/read_pdf.py [--repeat 3]
"""
from __future__ import annotations

import argparse
import io
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pdfplumber  # noqa: E402

from jixiao.read.pdf import read_pdf  # noqa: E402

FIXTURES = sorted((ROOT / "tests" / "fixtures" / "formats" / "pdf").glob("[0-9][0-9][0-9]_*.pdf"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    total_pages = total_secs = 0.0
    for path in FIXTURES:
        data = path.read_bytes()
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            r = read_pdf(data)
            best = min(best, time.perf_counter() - start)
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = len(pdf.pages)
        total_pages += pages
        total_secs += best
        print(f"{path.name}: {pages} pages, {best:.2f} s, {best / pages:.3f} s/page, {len(r.text)} chars")
    print(f"all: {total_secs / total_pages:.3f} s/page (best of {args.repeat})")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
