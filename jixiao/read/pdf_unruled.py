"""Tables printed without ruling lines (a Word table with its borders off, a WPS or Excel export
without gridlines): found by their columns of white space, not by lines.

Without rulings, ``find_tables`` sees nothing and each row would become a line of text with its
cells run together (``三公经费33.724.7924.79``: the numbers glued). Here the characters the ruled
tables did not take are grouped into text lines, each line cut into segments wherever the gap
is wider than a character; a run of lines where several have two or more segments is a table.
Its columns are the x ranges that no multi-segment line prints in (white-space rivers), its rows
are told apart from text wrapped inside a cell by the line distance (rows sit further apart than
the lines of one cell) or, when every line is as far from the next, by text that ran to the
right edge of its column. The result is the same ``Table`` of cells a ruled table gives, so
joining across pages and the grid work unchanged.
"""
from __future__ import annotations

import re
from statistics import median
from typing import Callable

_NUMERIC = re.compile(r"^[-+—－]?[\d.,，%％]+$")
GAP = 0.6  # a gap wider than this many font sizes separates two cells of one line (padding ~5 pt a side)
MIN_ROWS = 3  # lines of two or more segments a table needs (two, when it has three columns or more)
MAX_BETWEEN = 3  # single-segment lines allowed between two multi-segment lines of one table
NEAR = 2.5  # lines of one table are at most this many font sizes apart (no ruled table between)
WIDE = 0.6  # a single segment wider than this share of the table is a paragraph, not a cell


class _Line:
    __slots__ = ("idx", "top", "bottom", "x0", "x1", "size", "segs")

    def __init__(self, idx: list[int], chars: list[dict]):
        self.idx = idx
        vis = [chars[i] for i in idx if not chars[i]["text"].isspace()]
        self.top = min(c["top"] for c in vis)
        self.bottom = max(c["bottom"] for c in vis)
        self.x0, self.x1 = vis[0]["x0"], vis[-1]["x1"]
        self.size = median(c["size"] for c in vis) or 10.0
        # segments: (x0, x1, char indexes), cut at gaps wider than GAP font sizes
        self.segs: list[tuple[float, float, list[int]]] = []
        cur: list[int] = []
        prev = None
        for i in idx:
            c = chars[i]
            if c["text"].isspace():
                continue
            if prev is not None and c["x0"] - prev["x1"] > GAP * self.size:
                self.segs.append((chars[cur[0]]["x0"], prev["x1"], cur))
                cur = []
            cur.append(i)
            prev = c
        if cur:
            self.segs.append((chars[cur[0]]["x0"], prev["x1"], cur))


def _text_lines(chars: list[dict], ids: list[int]) -> list[_Line]:
    rows: list[list[int]] = []
    for i in sorted(ids, key=lambda i: (round(chars[i]["top"]), chars[i]["x0"])):
        c = chars[i]
        mid = (c["top"] + c["bottom"]) / 2
        for row in reversed(rows[-3:]):
            r0 = chars[row[0]]
            if r0["top"] - 1 <= mid <= r0["bottom"] + 1:
                row.append(i)
                break
        else:
            if not c["text"].isspace():
                rows.append([i])
    out = []
    for row in rows:
        row.sort(key=lambda i: chars[i]["x0"])
        if any(not chars[i]["text"].isspace() for i in row):
            out.append(_Line(row, chars))
    out.sort(key=lambda ln: ln.top)
    return out


def _blocks(lines: list[_Line], body_width: float) -> list[list[_Line]]:
    """Runs of lines that form a table: multi-segment lines, with at most MAX_BETWEEN narrow
    single-segment lines between two of them (a label alone in its row, a wrapped cell)."""
    multi = [k for k, ln in enumerate(lines) if len(ln.segs) >= 2]
    blocks: list[list[int]] = []
    for k in multi:
        last = blocks[-1][-1] if blocks else None
        if last is not None and k - last - 1 <= MAX_BETWEEN and all(
                lines[j].x1 - lines[j].x0 < WIDE * body_width for j in range(last + 1, k)) and all(
                b.top - a.bottom <= NEAR * b.size for a, b in zip(lines[last:k], lines[last + 1:k + 1])):
            blocks[-1].append(k)
        else:
            blocks.append([k])
    out = []
    for b in blocks:
        cols = max(len(lines[k].segs) for k in b)
        if len(b) >= MIN_ROWS or (len(b) >= 2 and cols >= 3):
            out.append(lines[b[0]:b[-1] + 1])
    return out


def _rivers(block: list[_Line]) -> list[float]:
    """Column edges: the block's ends and the middle of each x range where (almost) no
    multi-segment line prints. A few lines may cross a river (a row whose cells split
    differently, a long label): in a block of five or more such lines, up to 15 % of them."""
    multi = [ln for ln in block if len(ln.segs) >= 2]
    allow = int(0.15 * len(multi)) if len(multi) >= 5 else 0
    xs = sorted({round(x, 1) for ln in multi for s in ln.segs for x in (s[0], s[1])})
    left, right = min(ln.x0 for ln in block), max(ln.x1 for ln in block)
    edges, start = [left], None
    for a, b in zip(xs, xs[1:]):
        mid = (a + b) / 2
        ink = sum(1 for ln in multi if any(s[0] < mid < s[1] for s in ln.segs))
        if ink <= allow and b - a > 0.5:
            start = a if start is None else start
            end = b
        elif start is not None:
            edges.append((start + end) / 2)
            start = None
    if start is not None and end < right:
        edges.append((start + end) / 2)
    edges.append(right)
    out = [edges[0]]
    for e in edges[1:]:  # the grid tells edges apart 2 pt or more
        if e > out[-1] + 3:
            out.append(e)
    return out


def _columnar(block: list[_Line], edges: list[float]) -> bool:
    """Cells of a row sit one to a column; letter-spaced text (``绩 效 自 评``, a spaced title)
    cut into segments does not: its segments crowd into the same columns."""
    multi = [ln for ln in block if len(ln.segs) >= 2]
    crowded = sum(1 for ln in multi if len({_col(s[0], edges) for s in ln.segs}) < len(ln.segs))
    return crowded <= 0.3 * len(multi)


def _col(x: float, edges: list[float]) -> int:
    for k in range(len(edges) - 2, -1, -1):
        if x >= edges[k] - 0.5:
            return k
    return 0


def _split_gap(gaps: list[float]) -> float | None:
    """The white height that parts rows from the lines of one cell: the middle of the largest
    jump (≥ 1.8 ×) among the gaps seen between lines of a column; None when there is none."""
    vals = sorted(g for g in gaps if g > 0.5)
    best, at = 1.8, None
    for a, b in zip(vals, vals[1:]):
        if b / a >= best:
            best, at = b / a, (a + b) / 2
    # one wide gap (before a note, a spanning row) among even lines is no second height
    if at is not None and sum(1 for g in vals if g > at) < max(2, 0.1 * len(vals)):
        return None
    return at


def _rows(block: list[_Line], edges: list[float]) -> list[list[_Line]]:
    """Lines → table rows, by horizontal white bands. Between two rows every column (but up to
    two, a label spanning rows and centred in its cell may sit across the band) has more white
    than between the lines of one cell. A table whose gaps are all alike (no padding, single
    spacing) starts a row at every line, except a line under text that ran to the right edge
    of its column (wrapped), in columns the line above filled."""
    ncol = len(edges) - 1
    segcols = [[(_col(s[0], edges), s) for s in ln.segs] for ln in block]
    # white between one line and the next: two heights (rows, and lines of one cell) or one
    # (gaps measured down a column would also span the empty cells between, and look like rows)
    thr = _split_gap([b.top - a.bottom for a, b in zip(block, block[1:])])
    allow = 0 if ncol <= 3 else 2
    rows: list[list[_Line]] = [[block[0]]]
    for k in range(1, len(block)):
        ln = block[k]
        if thr is not None:
            above: dict[int, float] = {}
            for j in range(k):
                for c, _ in segcols[j]:
                    above[c] = max(above.get(c, 0.0), block[j].bottom)
            below: dict[int, float] = {}
            for j in range(k, len(block)):
                for c, _ in segcols[j]:
                    below.setdefault(c, block[j].top)
            close = [c for c in above if c in below and below[c] - above[c] < thr]
            parted = [c for c in above if c in below and below[c] - above[c] >= thr]
            mine = {c for c, _ in segcols[k]}
            # a row starts with a line whose own cells have row-white above them, below every
            # line of the row above (bar a label spanning rows, centred across the band)
            new = (bool(parted) and len(close) <= allow and not mine & set(close)
                   and ln.top >= max(above[c] for c in parted) - 0.5)
        else:
            prev = block[k - 1]
            full = {c for c, s in segcols[k - 1] if s[1] >= edges[c + 1] - 1.5 * prev.size}
            new = not (full and all(c in full for c, _ in segcols[k]))
        if new and ln.top > rows[-1][0].top + 3:  # the grid tells edges apart 2 pt or more
            rows.append([ln])
        else:
            rows[-1].append(ln)
    return rows


def _joined(rows: list[list[_Line]], edges: list[float], chars: list[dict]) -> list[list[_Line]]:
    """Rows that are the rest of the row above: a cell's second paragraph (``(40分)`` under
    ``产出指标``, the end of a 偏差原因) can sit as far below as a new row does. Such a row fills
    only some of the columns the row above filled, not its first, and only under text that goes
    on (not under a number, not after a full stop), and it brings no number of its own."""
    def cells(row: list[_Line]) -> dict[int, str]:
        out: dict[int, str] = {}
        for ln in row:
            for x0, _, idx in ln.segs:
                c = _col(x0, edges)
                out[c] = out.get(c, "") + "".join(chars[i]["text"] for i in idx)
        return out

    out = [rows[0]]
    above = cells(rows[0])
    for row in rows[1:]:
        mine = cells(row)
        if (mine and set(mine) < set(above) and min(above) not in mine
                and all(not _NUMERIC.match(above[c]) and not _NUMERIC.match(t) and not above[c].endswith(("。", "."))
                        for c, t in mine.items())):
            out[-1] = out[-1] + row
            for c, t in mine.items():
                above[c] += t
        else:
            out.append(row)
            above = mine
    return out


def find_unruled(chars: list[dict], ids: list[int], body_width: float,
                 make_cell: Callable, make_table: Callable, page: int) -> tuple[list, set[int]]:
    """The tables among the characters ``ids`` (those no ruled table took): (tables, the char
    indexes they hold). ``make_cell(x0, top, x1, bottom, text, nlines, room, size)`` and
    ``make_table(cells, x0, x1, top, bottom)`` build the reader's own cell and table objects."""
    lines = _text_lines(chars, ids)
    tables, used = [], set()
    for block in _blocks(lines, body_width):
        edges = _rivers(block)
        if len(edges) < 3 or not _columnar(block, edges):
            continue
        rows = _joined(_rows(block, edges), edges, chars)
        tops = [r[0].top - 1 for r in rows] + [rows[-1][-1].bottom + 1]
        cells = []
        for r, row in enumerate(rows):
            bottom = tops[r + 1] - 0.5 if r + 1 < len(rows) else tops[-1]
            spans: dict[int, list] = {}
            for ln in row:
                for x0, x1, idx in ln.segs:
                    c0 = _col(x0, edges)
                    c1 = max(c0 + 1, _col(x1 - 0.5, edges) + 1)
                    spans.setdefault(c0, [c1, []])
                    spans[c0][0] = max(spans[c0][0], c1)
                    spans[c0][1].append((ln, "".join(chars[i]["text"] for i in idx)))
                    used.update(ln.idx)
            c = 0
            while c < len(edges) - 1:
                if c in spans:
                    c1, parts = spans[c]
                    texts: list[str] = []
                    for k, (ln, t) in enumerate(parts):
                        if k and parts[k - 1][0] is ln:
                            texts[-1] += " " + t
                        else:
                            texts.append(t)
                    last = parts[-1][0]
                    cells.append(make_cell(edges[c], tops[r], edges[c1], bottom, "\n".join(texts),
                                           len(texts), bottom - last.bottom, last.size))
                    c = c1
                else:
                    cells.append(make_cell(edges[c], tops[r], edges[c + 1], bottom, "", 0, bottom - tops[r], 0.0))
                    c += 1
        tables.append(make_table(cells, edges[0], edges[-1], tops[0], tops[-1]))
    return tables, used
