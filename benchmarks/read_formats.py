"""Reading every published format, end to end (sniff → reader → parser), on the committed
fixtures: seconds per file and per page, and the peak memory of a process that reads one
format (each format in its own child process, so one's peak does not hide another's).

    .venv/bin/python benchmarks/read_formats.py [--ocr-pages 0]   # 0: every scanned page

The plain baseline in the same run is the Tika text of the same reports (what the samples
are): every other format's cost is printed as a multiple of it.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FIX = ROOT / "tests" / "fixtures" / "formats"
FORMATS = {
    "tika-text": sorted((ROOT / "reports").glob("*.txt")),
    "docx": sorted((FIX / "docx").glob("*.docx")),
    "doc": sorted((FIX / "doc").glob("*.doc")),
    "pdf": sorted((FIX / "pdf").glob("[0-9][0-9][0-9]_*.pdf")),
    "pdf-scan": sorted((FIX / "scan").glob("*.pdf")),
    "html": sorted((FIX / "html").glob("*.html")),
    "xlsx": sorted((FIX / "xlsx").glob("*.xlsx")),
    "xls": sorted((FIX / "xls").glob("*.xls")),
    "flat text": sorted((FIX / "flat").glob("*.txt")),
}


def pages_of(path: Path) -> int | None:
    if path.suffix != ".pdf":
        return None
    import pypdfium2 as pdfium

    return len(pdfium.PdfDocument(path.read_bytes()))


def run(fmt: str, files: list[str], queue) -> None:
    from jixiao.parse import parse_bytes

    secs = pages = 0.0
    for f in files:
        p = Path(f)
        data = p.read_bytes()
        t = time.perf_counter()
        parse_bytes(data, source=p.name)
        secs += time.perf_counter() - t
        pages += pages_of(p) or 0
    queue.put({"format": fmt, "files": len(files), "seconds": secs, "pages": pages,
               "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--formats", default=",".join(FORMATS))
    args = ap.parse_args()
    ctx = mp.get_context("spawn")
    results = []
    for fmt in args.formats.split(","):
        files = [str(f) for f in FORMATS[fmt]]
        if not files:
            continue
        q = ctx.Queue()
        proc = ctx.Process(target=run, args=(fmt, files, q))
        proc.start()
        results.append(q.get())
        proc.join()
    base = next((r["seconds"] / r["files"] for r in results if r["format"] == "tika-text"), None)
    print(f"{'format':10} {'files':>5} {'s/file':>8} {'s/page':>8} {'× text':>8} {'peak MB':>8}")
    for r in results:
        per_file = r["seconds"] / r["files"]
        per_page = f"{r['seconds'] / r['pages']:.3f}" if r["pages"] else "—"
        times = f"{per_file / base:.0f}" if base else "—"
        print(f"{r['format']:10} {r['files']:>5} {per_file:>8.3f} {per_page:>8} {times:>8} {r['peak_mb']:>8.0f}")
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
