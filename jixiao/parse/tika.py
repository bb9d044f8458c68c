"""Tika text → a stream of blocks (paragraphs and tables), with every line's fate recorded.

How Tika writes a .docx: one paragraph a line; a table cell is a line starting with TAB
(further paragraphs of the cell follow without TAB; an empty paragraph is a blank line);
a blank line ends a table row. Other layouts seen in the wild: Markdown-style ``| a | b |``
rows; and three that lose the row breaks, whose rows are inferred from the header vocabulary
and the cells' pattern (jixiao.parse.regrid): one cell per line ending in `` |`` (``|`` alone
or ``||||`` for empty cells); one cell per line with a blank line after each (a web page
copied as text, ``&nbsp;`` for empty cells); and one row per line with cells separated by
runs of spaces (empty cells vanish). The one ambiguity of Tika's layout, a blank line that
is an empty paragraph *inside* a cell rather than the end of a row, is settled afterwards
from the table's width (see :func:`merge_split_rows`).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ..model import INVISIBLE, Cell, Paragraph, Row, TableBlock, clean_text
from . import regrid

ARTEFACT = re.compile(r"\[bookmark: [^\]]*\]")
_PIPE_ONLY = re.compile(r"^\s*\|+\s*$")  # '|' or '||||': one empty cell per pipe
_PIPE_ROW = re.compile(r"^\s*\|(?P<inner>.*)\|\s*$")
# Possessive quantifiers: linear on '|---' + ' ' * N + '|x|' (the greedy form was quadratic).
_PIPE_RULE = re.compile(r"^\s*+\|?\s*+:?-{3,}+:?\s*+(?:\|\s*+:?-{3,}+:?\s*+)*+\|?\s*+$")
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


def _cells_of(line: str) -> list[str] | None:
    """The cell texts on the line if it is a table cell line in one of the known layouts."""
    if line.startswith("\t"):
        return [line[1:]]
    if "|" not in line:
        return None  # both pipe layouts need a "|"; most lines are narrative
    if _PIPE_ONLY.match(line):
        return [""] * line.count("|")
    # String tests, not a regex: 'text |' with any text (a long line must not backtrack).
    r = line.rstrip()
    if len(r) >= 2 and r[-1] == "|" and r[-2].isspace() and not _PIPE_ROW.match(line):
        return [r[:-2]]
    return None


def _cell_text(line: str) -> str | None:
    cells = _cells_of(line)
    return None if cells is None else cells[0]


def _short_continuation(line: str) -> bool:
    s = clean_text(line)
    return len(s) <= 12 and not _TITLE_LIKE.search(s)


def read_tika(text: str) -> Blocks:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    # Whitespace-only lines are blank for the reader, except directly inside a cell.
    out = Blocks(blocks=[], n_lines=len(lines), lines=lines)
    found = {**_web_tables(lines), **_spaced_tables(lines)}
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if i in found:
            block, i = found[i]
            out.blocks.append(block)
        elif "|" in line and _PIPE_ROW.match(line) and not _PIPE_ONLY.match(line):
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
    piped = False  # a cell line in the ' |' layout: its rows may have to be inferred
    start = i + 1

    def close_row() -> None:
        nonlocal row
        if row:
            raw.append(row)
        row = []

    head: tuple[str, int] | None = None  # the first lines of the next ' |' cell (经济效 / 益指标 |)
    while i < n:
        line = lines[i]
        texts = _cells_of(line)
        if texts is not None:
            for text in texts:
                cell = Cell(strip_artefacts(text, out.artefacts), i + 1, i + 1)
                if head is not None and text:
                    cell.text, cell.line, head = head[0] + "\n" + cell.text, head[1], None
                row.append(cell)
            piped = piped or not line.startswith("\t")
            i += 1
            continue
        if cell is not None and not _is_blank(line) and not lines[i - 1].startswith("\t") \
                and _cells_of(lines[i - 1]) is not None:
            # ' |' layout: the pipe closes its cell, so a line without one is the start of the
            # next cell (a label over two lines) or, when no cell follows, the text after the table.
            j = i
            while j < n and j - i < 3 and not _is_blank(lines[j]) and _cells_of(lines[j]) is None:
                j += 1
            nxt = _cells_of(lines[j]) if j < n else None
            if nxt is None or not nxt[0] or lines[j].startswith("\t") or _TABLE_BREAK.match(line):
                break
            head = ("\n".join(strip_artefacts(x, out.artefacts) for x in lines[i:j]), i + 1)
            i = j
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
    if piped:
        for table in _regrid_pipe(raw):
            rows = [Row(cells, cells[0].line) for cells in table]
            out.blocks.append(TableBlock(rows, rows[0].line, max(c.line_end for r in rows for c in r.cells)))
        return i
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


# ---------------------------------------------------------------- layouts without row breaks


def _regrid_pipe(raw: list[list[Cell]]) -> list[list[list[Cell]]]:
    """Tables of a ' |' table: rows inferred where none were closed (the whole table came as
    one row) or where a row is too long to be one; rows closed by blank lines are kept."""
    tables: list[list[list[Cell]]] = [[]]
    for row in raw:
        segs = regrid.stream_rows([clean_text(c.text) for c in row]) if len(raw) == 1 or len(row) > 12 else None
        if segs is None:
            tables[-1].append(row)
            continue
        for n, (_, rows) in enumerate(segs):
            if n and tables[-1]:
                tables.append([])  # another header family: another table
            tables[-1].extend([row[i] for i in r] for r in rows if r)
    return [t for t in tables if t]


_NBSP = re.compile(r"^(?:\s|&nbsp;?)*$")  # a web page's empty cell: '&nbsp;' or U+00A0 only
# A line that is never a cell of a copied web table: it starts the next attachment, a note
# under the table, or a table title.
_HARD_BREAK = re.compile(r"^\s*((附件|附表)\s*[0-9０-９一二三四五六七八九十]*\s*[：:]?\s*$|(说明|填表人|填报人|备注|注)\s*[：:])")
_TITLE_LINE = re.compile(r"表\s*[（(]?[^（(）)。]{0,10}[）)]?\s*$")


def _web_blank(line: str) -> bool:
    return line.strip(" \t\r") == "" and "\xa0" not in line


def _web_runs(lines: list[str]) -> list[list[tuple[int, int]]]:
    """Regions of blank-separated runs of lines (start, end index) that could be a web table."""
    regions: list[list[tuple[int, int]]] = []
    cur: list[tuple[int, int]] = []
    i, n = 0, len(lines)
    while i < n:
        if _web_blank(lines[i]):
            i += 1
            continue
        j = i
        while j < n and not _web_blank(lines[j]):
            j += 1
        run = lines[i:j]
        gap = (i - cur[-1][1]) if cur else 1
        bad = (j - i > 12 or any(x.startswith("\t") or _cells_of(x) is not None or len(x) > 400 for x in run)
               or _HARD_BREAK.match(run[0]) or (len(run[0]) <= 60 and _TITLE_LINE.search(run[0]) and "。" not in run[0]))
        if bad or gap > 2:
            if len(cur) >= 4:
                regions.append(cur)
            cur = []
        if not bad:
            cur.append((i, j))
        i = j
    if len(cur) >= 4:
        regions.append(cur)
    return regions


def _web_tables(lines: list[str]) -> dict[int, tuple[TableBlock, int]]:
    """Tables copied from a web page: one cell per run of lines, a blank line after each."""
    found: dict[int, tuple[TableBlock, int]] = {}
    for region in _web_runs(lines):
        texts = ["\n".join("" if _NBSP.match(x) else x for x in lines[a:b]) for a, b in region]
        segs = regrid.stream_rows([clean_text(t) for t in texts], open_end=True)
        for what, rows in segs or []:
            if what != "table":
                continue  # loose runs stay paragraphs (the main loop reads them)
            rws = [Row([Cell(texts[k], region[k][0] + 1, region[k][1]) for k in r], region[r[0]][0] + 1)
                   for r in rows if r]
            first = region[rows[0][0]][0]
            last = max(region[k][1] for r in rows for k in r)
            found[first] = (TableBlock(rws, first + 1, last), last)
    return found


# Runs of 2+ spaces (U+3000 counts as two): a string of spaces must not backtrack.
_GAP = re.compile(r"[ \t\xa0]{2,}")
_SCORE_NOTE = re.compile(r"^[（(]\s*\d+(?:\.\d+)?\s*分\s*[）)]$")  # '(40分)' under its 一级指标 label


def _fields(line: str) -> list[str]:
    s = line.replace("\u3000", "  ").strip(" \t\xa0")
    return [f for f in _GAP.split(s) if f] if s else []


def _spaced_tables(lines: list[str]) -> dict[int, tuple[TableBlock, int]]:
    """Tables printed one row a line, cells separated by runs of spaces, empty cells gone."""
    found: dict[int, tuple[TableBlock, int]] = {}
    n = len(lines)
    i = 0
    while i < n:
        line = lines[i]
        if line.startswith("\t") or "|" in line or ("  " not in line and "\u3000" not in line):
            i += 1
            continue
        hd = regrid.header_of_fields(_fields(line))
        if hd is None:
            i += 1
            continue
        start = i
        while start > 0 and start > i - 4 and _fields(lines[start - 1]) and any(
                regrid.identity_key(f) for f in _fields(lines[start - 1])):
            start -= 1  # 项目名称 / 主管部门 rows right above the first header
        rows, end = _spaced_rows(lines, start, i)
        found[start] = (TableBlock(rows, start + 1, end), end)
        i = end
    return found


def _row_like(line: str) -> bool:
    f = _fields(line)
    if not f or _HARD_BREAK.match(line) or line.startswith("\t") or "|" in line:
        return False
    if len(f) == 1:
        return len(f[0]) <= 30 and not re.search(r"[。；;]", f[0]) and not _TITLE_LINE.search(f[0])
    return True


def _spaced_rows(lines: list[str], start: int, first_header: int) -> tuple[list[Row], int]:
    rows: list[Row] = []
    lead, keys, lead_texts, family = 0, [], [], None
    i, n, end = start, len(lines), start
    while i < n:
        line = lines[i]
        if clean_text(line) == "":
            if i + 1 < n and _row_like(lines[i + 1]) and len(_fields(lines[i + 1])) > 1:
                i += 1
                continue  # a row whose cells were all empty
            break
        if i > first_header and not _row_like(line):
            break
        f = _fields(line)
        hd = regrid.header_of_fields(f)
        if hd is not None and (family is None or hd[0].family == family):
            h, lead = hd
            keys = h.keys + ["note"] * (len(f) - h.end)
            lead_texts, family = f[:lead], h.family
            cells = [Cell(x, i + 1, i + 1) for x in f]
        elif hd is not None:
            break  # another table's header
        elif len(f) == 1 and _SCORE_NOTE.match(f[0]) and rows:
            tgt = next((c for c in rows[-1].cells if c.clean and regrid.kind(c.clean) == "T"), rows[-1].cells[0])
            tgt.text += "\n" + f[0]
            tgt.line_end = i + 1
            end = i + 1
            i += 1
            continue
        else:
            cells = _place(f, i + 1, lead, keys, lead_texts)
        rows.append(Row(cells, i + 1))
        end = i + 1
        i += 1
    return rows, end


def _place(f: list[str], line: int, lead: int, keys: list[str], lead_texts: list[str]) -> list[Cell]:
    """Cells of a data row: its fields put under their columns (empty cells where they vanished)."""
    if not keys or len(f) == 1 and "level1" not in keys or (len(f) > 1 and all(regrid.kind(x) == "T" for x in f) and "level1" not in keys):
        return [Cell(x, line, line) for x in f]  # nothing to align with, or a row of labels only
    if "level1" in keys and regrid.is_total(f[0]):
        texts = regrid.place_total(f, keys)
    else:
        cols = regrid.place_fields(f, lead, keys, lead_texts)
        width = lead + len(keys)
        texts = [""] * width
        extra = []
        for x, c in zip(f, cols):
            if c is None or texts[c]:
                extra.append(x)
            else:
                texts[c] = x
        texts += extra
    return [Cell(x, line, line) for x in texts]
