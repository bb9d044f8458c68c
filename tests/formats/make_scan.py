"""Regenerate the scanned-PDF fixtures: sample .docx → PDF (LibreOffice) → 200 dpi grey
pages (pdftoppm) → each page slightly rotated, blurred and noisy → JPEG pages in a PDF with
no text layer (Pillow), as a scanned, photocopied report arrives.

    .venv/bin/python -m tests.formats.make_scan
"""
from __future__ import annotations

import random
import subprocess
import tempfile
from pathlib import Path

import docx
import numpy as np
from PIL import Image, ImageFilter

ROOT = Path(__file__).resolve().parents[2]
DOCX = ROOT / "tests" / "fixtures" / "formats" / "docx"
OUT = ROOT / "tests" / "fixtures" / "formats" / "scan"
STEMS = ("000_b20a9b01b0d85700", "001_7a3827d77ccb6050", "004_44f1ae10bd884054")
DPI = 200


def scanned(page: Image.Image, rng: random.Random) -> Image.Image:
    """One page as a cheap scanner gives it: skewed by a fraction of a degree either way,
    a little soft, with sensor noise."""
    angle = rng.uniform(0.3, 1.2) * rng.choice((-1, 1))
    img = page.convert("L").rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=255)
    a = np.asarray(img, dtype=np.float32)
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 4, a.shape)
    img = Image.fromarray(np.clip(a * 0.95 + 6 + noise, 0, 255).astype(np.uint8))
    # Blurring after the noise softens it as optics do, and keeps the JPEGs small.
    return img.filter(ImageFilter.GaussianBlur(0.7))


def ruled(src: Path, dst: Path) -> Path:
    """The .docx with every table ruled ('Table Grid'): printed reports rule their tables, and
    the base fixtures' tables have no borders."""
    document = docx.Document(str(src))
    for table in document.tables:
        table.style = document.styles["Table Grid"]
    document.save(str(dst))
    return dst


def make(stem: str, tmp: Path) -> Path:
    src = ruled(DOCX / f"{stem}.docx", tmp / f"{stem}.docx")
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation={(tmp / 'lo').as_uri()}",
                    "--convert-to", "pdf", "--outdir", str(tmp), str(src)],
                   check=True, capture_output=True)
    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", "-png", str(tmp / f"{stem}.pdf"), str(tmp / stem)], check=True)
    rng = random.Random(stem)  # seeded per sample: regenerating gives the same pages
    pages = [scanned(Image.open(p), rng) for p in sorted(tmp.glob(f"{stem}-*.png"))]
    out = OUT / f"{stem}.pdf"
    pages[0].save(out, save_all=True, append_images=pages[1:], resolution=DPI, quality=50)
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for stem in STEMS:
            out = make(stem, Path(tmp))
            print(f"{out.relative_to(ROOT)}: {out.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
