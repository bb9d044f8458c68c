"""Regenerate the .doc fixtures: two sample .docx files saved as Word 97 by LibreOffice.

    .venv/bin/python -m tests.formats.make_doc
"""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCX = ROOT / "tests" / "fixtures" / "formats" / "docx"
OUT = ROOT / "tests" / "fixtures" / "formats" / "doc"
STEMS = ("001_7a3827d77ccb6050", "004_44f1ae10bd884054")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for stem in STEMS:
            subprocess.run(["soffice", "--headless", f"-env:UserInstallation={Path(tmp).as_uri()}",
                            "--convert-to", "doc", "--outdir", str(OUT), str(DOCX / f"{stem}.docx")], check=True)


if __name__ == "__main__":
    main()
