"""The canonical text every reader renders to: the layout Tika writes for a .docx.

A reader for a new format (PDF, scan, HTML, spreadsheet) does not build blocks itself: it
returns a list of :class:`Para` and :class:`Grid` items in reading order, and
:func:`render` writes them in Tika's layout — one paragraph a line; a table cell on a line
starting with TAB (further lines of the cell follow without TAB); a blank line after each
row and one more after the table. That text is the report's canonical source: it is what
``read_tika`` reads into blocks, so every recogniser works unchanged on every format, and
its line numbers are the provenance the site links to (``/report/<id>/source#L<n>``).

Merged cells follow Word/Tika: a cell covered from the left (a column span) is no cell at
all (the row is shorter, as with ``w:gridSpan``); a cell covered from above (a row span)
is an empty cell (as with ``w:vMerge``). A reader marks covered cells with :data:`LEFT`
and :data:`UP` on a full rectangular grid and :func:`render` does the rest.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

LEFT = object()  # covered by the cell to its left (column span): dropped, as Tika drops it
UP = object()  # covered by the cell above (row span): an empty cell, as Tika prints it

_PAD = " \t\u3000\xa0"


@dataclass
class Para:
    text: str
    page: int | None = None  # 1-based page of a paged source (PDF), else None


@dataclass
class Grid:
    """A table: rows of cells; a cell is text (inner line breaks kept), LEFT or UP."""

    rows: list[list]
    page: int | None = None  # page of the first row
    row_pages: list[int] | None = None  # page of each row, when a table crosses pages


@dataclass
class Rendered:
    text: str  # the canonical Tika-layout text, ending in a newline
    line_pages: list[int | None] = field(default_factory=list)  # page of each line (1-based lines → index-1)
    artefacts: Counter = field(default_factory=Counter)  # what the reader dropped as chrome, by kind
    encoding: str = "utf-8"  # how the source's text was decoded, where it had to be (HTML pages)

    def page_of(self, line: int) -> int | None:
        return self.line_pages[line - 1] if 0 < line <= len(self.line_pages) else None


def _lines_of(text: str) -> list[str]:
    """A paragraph or cell as lines: no empty inner lines (in Tika text a blank line inside a
    cell is ambiguous with the end of a row), no padding at the ends of a line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0b", "\n")
    return [s.strip(_PAD) for s in text.split("\n") if s.strip(_PAD)]


def render(items: list[Para | Grid], artefacts: Counter | None = None, encoding: str = "utf-8") -> Rendered:
    out: list[str] = []
    pages: list[int | None] = []

    def emit(line: str, page: int | None) -> None:
        out.append(line)
        pages.append(page)

    for item in items:
        if isinstance(item, Para):
            for s in _lines_of(item.text):
                # A paragraph never starts with TAB nor ends in " |" in the canonical text:
                # either would make read_tika take it for a table cell.
                if s.endswith(" |"):
                    s = s[:-2].rstrip(_PAD) + "|"
                emit(s, item.page)
            continue
        rows = [r for r in item.rows if any(c is not LEFT for c in r)]
        if not rows:
            continue
        for r, row in enumerate(rows):
            page = item.row_pages[r] if item.row_pages and r < len(item.row_pages) else item.page
            for c in row:
                if c is LEFT:
                    continue
                lines = [] if c is UP or c is None else _lines_of(str(c))
                emit("\t" + (lines[0] if lines else ""), page)
                for s in lines[1:]:
                    emit(s, page)
            emit("", page)  # end of the row
        emit("", pages[-1])  # end of the table
    text = "\n".join(out) + "\n" if out else ""
    return Rendered(text, pages, Counter(artefacts or {}), encoding)


def resolve_spans(texts: list[list[str | None]], origin: list[list[tuple[int, int]]]) -> list[list]:
    """Mark covered cells of a full grid given, for each position, the (row, col) of the cell
    that covers it (its own position when it is not covered)."""
    out: list[list] = []
    for r, row in enumerate(texts):
        new = []
        for c, t in enumerate(row):
            orow, ocol = origin[r][c]
            if (orow, ocol) == (r, c):
                new.append(t or "")
            elif ocol == c:
                new.append(UP)  # below the spanning cell, in its first column
            elif orow == r or c > ocol:
                new.append(LEFT)
            else:
                new.append(UP)
        out.append(new)
    return out
