"""Regenerate the base .docx fixtures: each sample's Tika text written back as a real .docx
(paragraphs, tables with Word's real merges) by ``tests.test_docx.docx_from_tika``. The
other formats' fixtures (PDF, scan, .doc, HTML, spreadsheets) are made from these or from
the samples by the scripts beside this one, with real tools (LibreOffice, pdftoppm).

    .venv/bin/python -m tests.formats.make_docx
"""
from __future__ import annotations

from pathlib import Path

from jixiao.model import TableBlock
from jixiao.parse.tika import read_tika
from tests.test_docx import docx_from_tika

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "formats" / "docx"


def _close_tables(text: str) -> str:
    lines = text.split("\n")
    ends = {b.line_end for b in read_tika(text).blocks if isinstance(b, TableBlock)}
    out: list[str] = []
    for n, line in enumerate(lines, 1):
        out.append(line)
        if n in ends:
            blanks = 0
            while blanks < 2 and n + blanks < len(lines) and lines[n + blanks] == "":
                blanks += 1
            if n + blanks >= len(lines) - 1:
                blanks = 0  # the file ends in the table: close it
            out.extend([""] * (2 - blanks))
    return "\n".join(out) + "\n\n\n"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "reports").glob("*.txt")):
        text = path.read_text("utf-8")
        try:
            data, _ = docx_from_tika(text)
        except AssertionError:
            # 004: two tables run straight into a paragraph, which no .docx renders to. The
            # .docx gets the blank lines Tika would print after those tables.
            data, _ = docx_from_tika(_close_tables(text))
        (OUT / (path.stem + ".docx")).write_bytes(data)
        print(f"{path.name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
