"""Seconds per page of the OCR reader (jixiao.read.ocr) on the scanned fixtures, split into
straightening + rulings (OpenCV) and OCR, and the peak memory of the process (RSS high-water
mark: the models, one page image and its OCR working set).

    .venv/bin/python benchmarks/read_ocr.py [--pages 4] [--dpi 200]
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pypdfium2 as pdfium  # noqa: E402

from jixiao.read import ocr, page_image  # noqa: E402

FIXTURES = sorted((ROOT / "tests" / "fixtures" / "formats" / "scan").glob("*.pdf"))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=4, help="pages read from each fixture (0: all)")
    ap.add_argument("--dpi", type=int, default=200)
    args = ap.parse_args()
    start = time.perf_counter()
    ocr.engine()
    print(f"engine loaded in {time.perf_counter() - start:.1f} s, process at {peak_mb():.0f} MB")
    n = secs = cv_secs = 0.0
    for path in FIXTURES:
        doc = pdfium.PdfDocument(path.read_bytes())
        count = len(doc) if not args.pages else min(args.pages, len(doc))
        for i in range(count):
            image = doc[i].render(scale=args.dpi / 72).to_pil()
            t0 = time.perf_counter()
            grey = page_image.straighten(page_image.to_grey(image))
            page_image.tables(page_image.ink_mask(grey))
            t1 = time.perf_counter()
            ocr.read_page_image(image, i + 1)  # the whole page again, OCR included
            t2 = time.perf_counter()
            n += 1
            secs += t2 - t1
            cv_secs += t1 - t0
            print(f"{path.name} p{i + 1}: {t2 - t1:.2f} s (straighten + rulings {t1 - t0:.2f} s)")
    print(f"{n:.0f} pages: {secs / n:.2f} s a page (of which straighten + rulings {cv_secs / n:.2f} s); "
          f"peak RSS {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
