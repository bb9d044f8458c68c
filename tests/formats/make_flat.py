"""Regenerate the flattened-text fixtures: each sample with its tables written in the three
text layouts that lose Tika's row breaks (narrative paragraphs unchanged):

* ``<stem>.pipe.txt``   one cell per line ending in `` |``; ``|`` for an empty cell, ``||||``
  for a run of empty cells at the end of a row; no blank lines between rows.
* ``<stem>.web.txt``    one cell per line with a blank line after each (a web page copied as
  text): labels such as 一级指标 broken into 一级 / 指标, empty cells as U+00A0 or ``&nbsp;``.
* ``<stem>.spaced.txt`` one row per line, cells joined by runs of spaces or U+3000, empty cells
  gone, rows indented, a 一级指标's ``(40分)`` on the line below its row.

    .venv/bin/python -m tests.formats.make_flat
"""
from __future__ import annotations

import re
from pathlib import Path

from jixiao.model import TableBlock, clean_text
from jixiao.parse.tika import read_tika

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "formats" / "flat"
_PAD = " \t\u3000\xa0"
_SPLIT = re.compile(r"^([^\d\s]{2,4})(指标)$")  # 一级指标 → 一级 / 指标, 经济效益指标 → 经济效益 / 指标
_SCORE = re.compile(r"^[（(]\d+(?:\.\d+)?分[）)]$")


def _parts(text: str) -> list[str]:
    return [p.strip(_PAD) for p in text.split("\n") if p.strip(_PAD)]


def _one_line(text: str) -> str:
    """A cell's paragraphs on one line (what a converter that writes one cell a line gives)."""
    lines = text.split("\n")
    return (lines[0].rstrip(_PAD) + "".join(p.strip(_PAD) for p in lines[1:])).rstrip(_PAD)


def pipe(table: TableBlock) -> list[str]:
    out: list[str] = []
    for r in table.rows:
        cells = [c.text for c in r.cells]
        k = len(cells)
        while k > 0 and clean_text(cells[k - 1]) == "":
            k -= 1
        for n, t in enumerate(cells[:k]):
            if clean_text(t) == "":
                out.append("|" if n % 2 else "\u3000 |")  # both spellings of an empty cell
            else:
                out.append(_one_line(t) + " |")
        if k < len(cells):
            out.append("|" * (len(cells) - k))  # merged empties at the row's end: one '||||' line
    return out


def web(table: TableBlock) -> list[str]:
    out: list[str] = []
    empties = 0
    for r in table.rows:
        for c in r.cells:
            parts = _parts(c.text)
            if not parts:
                empties += 1
                parts = ["&nbsp;" if empties % 3 == 0 else "\xa0"]
            elif len(parts) == 1 and (m := _SPLIT.match(parts[0])):
                parts = [m.group(1), m.group(2)]
            out.extend(parts)
            out.append("")
    return out


def spaced(table: TableBlock) -> list[str]:
    out: list[str] = []
    for n, r in enumerate(table.rows):
        fields, notes = [], []
        for c in r.cells:
            parts = _parts(c.text)
            if len(parts) > 1 and _SCORE.match(parts[-1]):
                notes.append(parts.pop())
            text = re.sub(r"[ \u3000]+", " ", "".join(parts)).strip()
            if text:
                fields.append(text)
        sep = ("  ", "\u3000", "    ")[n % 3]
        out.append(("  " * (n % 2)) + sep.join(fields) if fields else "")
        out.extend("      " + x for x in notes)
    return out


LAYOUTS = {"pipe": pipe, "web": web, "spaced": spaced}


def flatten(text: str, layout: str) -> str:
    lines = text.split("\n")
    tables = [b for b in read_tika(text).blocks if isinstance(b, TableBlock)]
    out: list[str] = []
    at = 0
    for t in tables:
        out.extend(lines[at:t.line_start - 1])
        if layout == "web" and out and out[-1].strip() != "":
            out.append("")  # a web table is a block of its own
        out.extend(LAYOUTS[layout](t))
        at = t.line_end
        if layout != "web" and at < len(lines) and lines[at].strip() != "":
            out.append("")  # the next paragraph is no continuation of the last cell/row
    out.extend(lines[at:])
    return "\n".join(out)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "reports").glob("*.txt")):
        text = path.read_text("utf-8")
        for layout in LAYOUTS:
            dest = OUT / f"{path.stem}.{layout}.txt"
            dest.write_text(flatten(text, layout), "utf-8")
            print(dest.relative_to(ROOT))


if __name__ == "__main__":
    main()
