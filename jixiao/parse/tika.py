"""Tika text → a stream of blocks (paragraphs and tables), with every line's fate recorded.

How Tika writes a .docx: one paragraph a line; a table cell is a line starting with TAB
(further paragraphs of the cell follow without TAB; an empty paragraph is a blank line);
a blank line ends a table row. Other layouts seen in the wild: one cell per line ending in
`` |``, and Markdown-style ``| a | b |`` rows. The one ambiguity, a blank line that is an
empty paragraph *inside* a cell rather than the end of a row, is settled afterwards from
the table's width (see :func:`merge_split_rows`).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ..model import INVISIBLE, Cell, Paragraph, Row, TableBlock, clean_text

ARTEFACT = re.compile(r"\[bookmark: [^\]]*\]")
_PIPE_CELL = re.compile(r"^(?P<text>.*?)\s\|\s*$")
_PIPE_ROW = re.compile(r"^\s*\|(?P<inner>.*)\|\s*$")
_PIPE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
# A paragraph that can never be the inside of a cell: it starts the next attachment.
_TABLE_BREAK = re.compile(r"^\s*(附件|附表)\s*[0-9０-９一二三四五六七八九十]*\s*[：:]?\s*$")
_TITLE_LIKE = re.compile(r"(附件|附表|表\s*$|填表|说明|备注|单位：|单位:)")


@dataclass
class Blocks:
    blocks: list[Paragraph | TableBlock]
    artefacts: Counter = field(default_factory=Counter)
    artefact_lines: set[int] = field(default_factory=set)  # lines that held only artefacts
    n_lines: int = 0
    lines: list[str] = field(default_factory=list)  # the source lines, for accounting


def strip_artefacts(text: str, counter: Counter) -> str:
    if "[bookmark: " not in text:
        return text  # called on every line; the substring test is cheaper than findall
    found = ARTEFACT.findall(text)
    if found:
        counter["bookmark"] += len(found)
        text = ARTEFACT.sub("", text)
    return text


def _is_blank(line: str) -> bool:
    return line == "" or (not line.startswith("\t") and INVISIBLE.sub("", line) == "")


def _cell_text(line: str) -> str | None:
    """The cell text if the line is a table cell in one of the known layouts."""
    if line.startswith("\t"):
        return line[1:]
    if "|" not in line:
        return None  # both pipe layouts need a "|"; most lines are narrative
    m = _PIPE_CELL.match(line)
    if m and not _PIPE_ROW.match(line):
        return m.group("text")
    return None


def _short_continuation(line: str) -> bool:
    s = clean_text(line)
    return len(s) <= 12 and not _TITLE_LIKE.search(s)


def read_tika(text: str) -> Blocks:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    # Whitespace-only lines are blank for the reader, except directly inside a cell.
    out = Blocks(blocks=[], n_lines=len(lines), lines=lines)
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if "|" in line and _PIPE_ROW.match(line):
            i = _read_pipe_table(lines, i, out)
        elif _cell_text(line) is not None:
            i = _read_table(lines, i, out)
        elif clean_text(line) == "":
            i += 1
        else:
            stripped = strip_artefacts(line, out.artefacts)
            if clean_text(stripped) == "":
                out.artefact_lines.add(i + 1)
            else:
                out.blocks.append(Paragraph(stripped.strip(" \t\u3000\xa0"), i + 1))
            i += 1
    return out


def _read_table(lines: list[str], i: int, out: Blocks) -> int:
    n = len(lines)
    raw: list[list[Cell]] = []
    row: list[Cell] = []
    cell: Cell | None = None
    start = i + 1

    def close_row() -> None:
        nonlocal row
        if row:
            raw.append(row)
        row = []

    while i < n:
        line = lines[i]
        text = _cell_text(line)
        if text is not None:
            cell = Cell(strip_artefacts(text, out.artefacts), i + 1, i + 1)
            row.append(cell)
            i += 1
            continue
        if _is_blank(line):
            j = i
            while j < n and _is_blank(lines[j]):
                j += 1
            if j >= n:
                break
            if _cell_text(lines[j]) is not None:
                close_row()
                i = j
                continue
            k = j
            while k < n and not _is_blank(lines[k]) and _cell_text(lines[k]) is None:
                k += 1
            run = lines[j:k]
            if (
                cell is not None
                and k < n
                and _cell_text(lines[k]) is not None
                and j - i == 1
                and len(run) <= 2
                and all(_short_continuation(x) for x in run)
            ):
                # Empty paragraph + a short note inside the same cell, e.g. 产出指标 / (40分).
                cell.text += "\n\n" + "\n".join(strip_artefacts(x, out.artefacts) for x in run)
                cell.line_end = k
                i = k
                continue
            break
        # A non-blank line right after a cell: the cell goes on, unless it starts an attachment.
        if _TABLE_BREAK.match(line) or cell is None:
            break
        cell.text += "\n" + strip_artefacts(line, out.artefacts)
        cell.line_end = i + 1
        i += 1
    close_row()
    rows = [Row(cells, cells[0].line) for cells in merge_split_rows(raw)]
    end = max(c.line_end for r in rows for c in r.cells)
    out.blocks.append(TableBlock(rows, start, end))
    return i


def merge_split_rows(raw: list[list[Cell]]) -> list[list[Cell]]:
    """Join a row that Tika split at an empty paragraph inside a cell.

    A blank line is either the end of a row or an empty paragraph in a cell. The second kind
    leaves a row fragment that starts with a filled cell (a vertically merged cell would
    give an empty one) and that, together with the fragment before it, has exactly the
    table's full width; both fragments are shorter than it. The fragment before it is a
    lone label cell (绩效指标) or starts in a merged column (empty first cell): a complete
    label/value row such as [预算部门名称, X] is never the first half of a row.
    """
    if not raw:
        return raw
    width = max(len(r) for r in raw)
    merged: list[list[Cell]] = []
    k = 0
    while k < len(raw):
        cur = raw[k]
        nxt = raw[k + 1] if k + 1 < len(raw) else None
        if (
            nxt is not None
            and len(cur) < width
            and len(nxt) < width
            and len(cur) + len(nxt) == width
            and clean_text(nxt[0].text) != ""
            and (len(cur) == 1 or clean_text(cur[0].text) == "")
        ):
            merged.append(cur + nxt)
            k += 2
        else:
            merged.append(cur)
            k += 1
    return merged


def _read_pipe_table(lines: list[str], i: int, out: Blocks) -> int:
    rows: list[Row] = []
    start = i + 1
    while i < len(lines) and _PIPE_ROW.match(lines[i]):
        line = strip_artefacts(lines[i], out.artefacts)
        if _PIPE_RULE.match(line):
            out.artefacts["table_rule"] += 1
            out.artefact_lines.add(i + 1)
        else:
            inner = _PIPE_ROW.match(line).group("inner")
            rows.append(Row([Cell(t, i + 1, i + 1) for t in inner.split("|")], i + 1))
        i += 1
    if rows:
        out.blocks.append(TableBlock(rows, start, i))
    return i
