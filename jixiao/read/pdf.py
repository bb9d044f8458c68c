"""PDF with a text layer (Word / WPS / LibreOffice export) → the canonical layout.

pdfplumber gives characters with positions and the ruled tables (``find_tables``). Each page
becomes a stream of text lines and tables in vertical order; the lines are rejoined into
paragraphs (PDF wraps them), tables become grids with merged cells marked, a table that runs
on over a page break becomes one grid, and page chrome (page numbers, running headers and
footers) is dropped and counted. Pages with (almost) no text but an image are scans: they go
to OCR (jixiao.read.ocr). Pages are read one at a time and their caches flushed, so memory
stays bounded by the largest page.
"""
from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass, field
from statistics import median

from ..errors import ReportError
from .layout import Grid, Para, Rendered, render, resolve_spans
from .pdf_unruled import find_unruled

MAX_PAGES = 1000
MAX_OCR_PAGES = 120
SCAN_MAX_CHARS = 20  # fewer characters than this on a page with an image: a scanned page
TOL = 2.0  # points: ruling-line positions closer than this are the same column / row edge

_CJK = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u3000-\u303f\u2018\u2019\u201c\u201d\u2026\u2014\u00b7"
_NUMISH = "0-9%.．"
# A space between two CJK characters, or between CJK and a digit/%/. is an artefact of the
# PDF's glyph placement (or of Word's CJK/Latin auto-spacing), never of the author's text.
_SPACE_CJK = re.compile(rf"(?<=[{_CJK}]) +(?=[{_CJK}{_NUMISH}])|(?<=[{_CJK}{_NUMISH}]) +(?=[{_CJK}])|(?<=\d) +(?=%)")
_HEADING = re.compile(r"^\s*(?:[一二三四五六七八九十]+\s*[、．.]|[（(]\s*[一二三四五六七八九十\d]+\s*[）)]"
                      r"|\d{1,2}\s*[、．](?!\d)|\d{1,2}\.(?!\d)|[①-⑳]|第[一二三四五六七八九十]+[章节部分])")
_PAGE_NO = re.compile(r"^[-—–－_\s]*(?:第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|\d{1,4}(?:\s*/\s*\d{1,4})?"
                      r"|[Pp]age\s*\d+(?:\s*of\s*\d+)?)[-—–－_\s]*$")
_NUMBER = re.compile(r"^[\d.,%\s]+$")
# A cell that starts like this starts afresh (a numbered item, 任务1：), it does not go on.
_FRESH = re.compile(_HEADING.pattern + r"|^[\u4e00-\u9fff]{0,2}\d{1,2}\s*[：:、．]")
_WORD_START = re.compile(r"[A-Za-z0-9.,%\-/_:\[\]]+")
_NO_LINE_START = "，。、；：？！）》」』】〕”’%．,.;:?!)"  # kinsoku: these never begin a line
_OPENERS = "（《「『【〔(["  # ... nor end one
_QUOTES = "“‘"  # LibreOffice breaks neither before nor after these


@dataclass
class Line:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    page: int
    lead_w: float  # width of the first unbreakable unit: did it fit at the end of the line above?


@dataclass
class Cell:
    x0: float
    top: float
    x1: float
    bottom: float
    text: str
    page: int
    nlines: int  # these three tell a row split by a page break (_split_row)
    room: float  # white space under the last line of text
    size: float


@dataclass
class Table:
    cells: list[Cell]
    x0: float
    x1: float
    top: float
    bottom: float
    page: int
    pages: list[int] = field(default_factory=list)
    ruled: bool = True  # False: found by its white space (pdf_unruled), its right edge is the text's


def fix_spaces(text: str) -> str:
    return _SPACE_CJK.sub("", text)


def _lines(chars: list[dict], page: int) -> list[Line]:
    """Characters → text lines: grouped by vertical overlap, ordered left to right, with a space
    wherever a gap is wider than a third of the font size."""
    rows: list[list[dict]] = []
    for ch in sorted(chars, key=lambda c: (round(c["top"]), c["x0"])):
        if ch["text"].isspace() and not rows:
            continue
        for row in reversed(rows[-3:]):
            mid = (ch["top"] + ch["bottom"]) / 2
            if row[0]["top"] - 1 <= mid <= row[0]["bottom"] + 1:
                row.append(ch)
                break
        else:
            rows.append([ch])
    out = []
    for row in rows:
        row.sort(key=lambda c: c["x0"])
        size = median(c["size"] for c in row) or 10.0
        text, prev = "", None
        for ch in row:
            if prev is not None and ch["x0"] - prev["x1"] > size / 3 and not text.endswith(" "):
                text += " "
            text += ch["text"]
            prev = ch
        text = fix_spaces(re.sub(r"[ \xa0]+", " ", text)).strip(" ")
        visible = [c for c in row if not c["text"].isspace()]
        if not text.strip() or not visible:
            continue
        lead = sum(c["x1"] - c["x0"] for c in visible[:_lead_len(text)])
        out.append(Line(text, visible[0]["x0"], visible[-1]["x1"], min(c["top"] for c in visible),
                        max(c["bottom"] for c in visible), size, page, lead))
    return out


def _lead_len(text: str) -> int:
    """Length of the unit a line break cannot fall inside at the start of ``text`` (a number or
    Latin word, a CJK character with the punctuation glued to it: 作》2024, 市“打, 元，2022)."""
    m = _WORD_START.match(text)
    i = m.end() if m else 1
    while i < len(text):
        ch, prev = text[i], text[i - 1]
        if ch in _NO_LINE_START or ch in _QUOTES or prev in _OPENERS or prev in _QUOTES:
            i += 1
        elif prev in _NO_LINE_START and (m := _WORD_START.match(text, i)):
            i = m.end()
        else:
            break
    return i


def _cluster(values: list[float]) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > TOL:
            out.append(v)
    return out


def _snap(v: float, edges: list[float]) -> int:
    return min(range(len(edges)), key=lambda i: abs(edges[i] - v))


def _grid(t: Table) -> Grid:
    """Cells (bboxes with text) → a full grid with LEFT/UP where a cell spans several positions."""
    xs = _cluster([c.x0 for c in t.cells] + [c.x1 for c in t.cells])
    ys = _cluster([c.top for c in t.cells] + [c.bottom for c in t.cells])
    nr, nc = max(len(ys) - 1, 1), max(len(xs) - 1, 1)
    texts: list[list[str | None]] = [[None] * nc for _ in range(nr)]
    origin = [[(r, c) for c in range(nc)] for r in range(nr)]
    pages = [t.page] * nr
    for cell in t.cells:
        c0, c1 = _snap(cell.x0, xs), max(_snap(cell.x1, xs), _snap(cell.x0, xs) + 1)
        r0, r1 = _snap(cell.top, ys), max(_snap(cell.bottom, ys), _snap(cell.top, ys) + 1)
        texts[r0][c0] = cell.text
        pages[r0] = cell.page
        for r in range(r0, min(r1, nr)):
            for c in range(c0, min(c1, nc)):
                origin[r][c] = (r0, c0)
    rows = resolve_spans(texts, origin)
    keep = [i for i in range(nr) if any(x is not None for x in texts[i]) or any(o != (i, j) for j, o in enumerate(origin[i]))]
    rows, pages = [rows[i] for i in keep], [pages[i] for i in keep]
    return Grid(rows, page=pages[0] if pages else t.page, row_pages=pages)


def _drop_repeated_header(g: Grid) -> None:
    """A header row repeated at the top of a continuation page goes, if identical to row one."""
    first = g.rows[0] if g.rows else None
    for i in range(len(g.rows) - 1, 0, -1):
        if g.row_pages[i] != g.row_pages[i - 1] and g.rows[i] == first:
            del g.rows[i], g.row_pages[i]


def _read_page(page, number: int) -> tuple[list[Line | Table], bool]:
    """One page → its lines (outside tables) and tables, top to bottom; and whether it is a scan."""
    chars, seen = [], set()
    for c in page.chars:  # Word's "fake bold" draws each glyph twice, a hair apart
        k = (c["text"], round(c["x0"]), round(c["top"]))
        if c.get("upright", True) and k not in seen:
            seen.add(k)
            chars.append(c)
    if len([c for c in chars if not c["text"].isspace()]) < SCAN_MAX_CHARS and page.images:
        return [], True
    centre = [((c["x0"] + c["x1"]) / 2, (c["top"] + c["bottom"]) / 2) for c in chars]
    tables: list[Table] = []
    in_cell: set[int] = set()
    for ft in page.find_tables():
        cells = []
        for (x0, top, x1, bottom) in ft.cells:
            inside = [i for i, (x, y) in enumerate(centre) if x0 - 0.5 <= x <= x1 + 0.5
                      and top - 0.5 <= y <= bottom + 0.5 and i not in in_cell]
            in_cell.update(inside)
            lines = _lines([chars[i] for i in inside], number)
            cells.append(Cell(x0, top, x1, bottom, "\n".join(ln.text for ln in lines), number, len(lines),
                              bottom - lines[-1].bottom if lines else bottom - top, lines[-1].size if lines else 0.0))
        x0, top, x1, bottom = ft.bbox
        tables.append(Table(cells, x0, x1, top, bottom, number, pages=[number]))
    # text inside a table's frame but in no cell (between ruled cells) is not a paragraph either
    free = [i for i in range(len(chars)) if i not in in_cell and not any(
        t.x0 <= centre[i][0] <= t.x1 and t.top <= centre[i][1] <= t.bottom for t in tables)]
    unruled, used = find_unruled(
        chars, free, 0.7 * float(page.width),
        lambda x0, top, x1, bottom, text, nlines, room, size: Cell(x0, top, x1, bottom, text, number, nlines, room, size),
        lambda cells, x0, x1, top, bottom: Table(cells, x0, x1, top, bottom, number, pages=[number], ruled=False),
        number)
    items: list[Line | Table] = [*_lines([chars[i] for i in free if i not in used], number), *tables, *unruled]
    items.sort(key=lambda it: it.top)
    return items, False


def _chrome(pages: list[list[Line | Table]], heights: list[float], artefacts: Counter) -> None:
    """Drop page numbers and running headers/footers (in place): lines in the top or bottom
    margin band that are page numbers, or whose text (digits aside) recurs on most pages in a
    font no larger than the body's (a form title repeated on each page is larger: it stays)."""
    def band(ln: Line, h: float) -> bool:
        return ln.top < 0.12 * h or ln.bottom > 0.88 * h

    def key(ln: Line) -> str:
        return re.sub(r"\d+", "#", ln.text.replace(" ", ""))

    seen = Counter()
    for items, h in zip(pages, heights):
        seen.update({key(it) for it in items if isinstance(it, Line) and band(it, h)})
    n = sum(1 for items in pages if items)
    sizes = [it.size for items in pages for it in items if isinstance(it, Line)]
    body = median(sizes) if sizes else 0.0
    running = {k for k, c in seen.items() if n >= 3 and c >= max(3, 0.5 * n)}
    for items, h in zip(pages, heights):
        for it in list(items):
            if not isinstance(it, Line) or not band(it, h):
                continue
            if _PAGE_NO.match(it.text):
                items.remove(it)
                artefacts["page_number"] += 1
            elif key(it) in running and it.size <= body + 0.5:
                items.remove(it)
                artefacts["running_header" if it.top < 0.5 * h else "running_footer"] += 1


def _continues(a: Table, b: Table) -> bool:
    """b (first thing on its page) goes on with a (last thing on the page before): same left and
    right edges, and its column edges are column edges of a (a's last rows may have more)."""
    if b.page != a.pages[-1] + 1 or a.ruled != b.ruled:
        return False
    if abs(a.x0 - b.x0) > TOL and (a.ruled or b.x0 < a.x0 - TOL):  # unruled: may start in a later column
        return False
    if a.ruled and abs(a.x1 - b.x1) > TOL:  # an unruled table ends where its widest text does
        return False
    xa = _cluster([c.x0 for c in a.cells])
    xb = _cluster([c.x0 for c in b.cells])
    if not a.ruled:  # column edges are the middles of white-space rivers, which move with the text
        return all(xa[0] - TOL <= x <= a.x1 for x in xb)
    common = sum(1 for x in xb if any(abs(x - y) <= TOL for y in xa))
    return common >= 0.8 * len(xb)


def _snap_columns(a: Table, b: Table) -> None:
    """Unruled b goes on with a: its cells take a's column edges (the columns each mostly
    covers), so the joined grid keeps a's columns."""
    xa = _cluster([c.x0 for c in a.cells] + [c.x1 for c in a.cells])
    for c in b.cells:
        over = [min(c.x1, xa[k + 1]) - max(c.x0, xa[k]) for k in range(len(xa) - 1)]
        cols = [k for k, o in enumerate(over) if o > 0.5 * min(c.x1 - c.x0, xa[k + 1] - xa[k])]
        if not cols:
            cols = [max(range(len(over)), key=over.__getitem__)]
        c.x0, c.x1 = xa[min(cols)], xa[max(cols) + 1]


def _split_row(last: list[Cell], first: list[Cell], others: list[Cell]) -> dict[int, Cell] | None:
    """When the page break fell inside the row at the foot of the page, the cell above each
    cell of the first row on the next page (else None). Geometry cannot tell a split row from a
    new one, the text can: each cell with text on the new page sits under a cell with text that
    reaches (nearly) to its bottom; a new row would start a number (分值, 得分) somewhere, or
    start each cell afresh (a numbered item, or under a label ending in ：); and
    either a cell above is filled to its bottom with several lines, or a cell above holds text
    while the cell under it is empty (finished before the break), or the row above is lower than
    any whole row of text in the table (the break cut it short)."""
    pairs: dict[int, Cell] = {}
    several = finished = False
    fresh: list[bool] = []  # per continued cell: does it look like a new start?
    row_bottom = min((f.bottom for f in first), default=0.0)
    for k, f in enumerate(first):
        above = next((c for c in last if abs(c.x0 - f.x0) <= TOL and abs(c.x1 - f.x1) <= TOL), None)
        if above is None:
            continue
        pairs[k] = above
        if not f.text:
            finished = finished or (bool(above.text) and abs(f.bottom - row_bottom) <= TOL)
            continue
        if not above.nlines or _NUMBER.match(f.text) or above.room > 2.6 * above.size:
            return None
        fresh.append(bool(_FRESH.match(f.text.replace("\n", ""))) or above.text.endswith(("：", ":")))
        several = several or (above.nlines >= 2 and above.room <= 1.2 * above.size)
    if not any(f.text for f in first):
        return pairs  # the break left nothing of the row but its padding
    if any(f.text for k, f in enumerate(first) if k not in pairs) or all(fresh):
        return None
    texts = [c.bottom - c.top for c in others if c.nlines]
    short = bool(texts) and min(c.bottom - c.top for c in last) < 0.8 * min(texts)
    return pairs if several or finished or short else None


def _label_goes_on(last: list[Cell], first: list[Cell]) -> dict[int, Cell]:
    """A new row on the next page, but a vertical label (绩/效/指/标, one or two characters a
    line) in a merged cell cut by the break goes on in the tall cell under it: join those two."""
    row_bottom = min((f.bottom for f in first), default=0.0)
    pairs = {}
    for k, f in enumerate(first):
        above = next((c for c in last if abs(c.x0 - f.x0) <= TOL and abs(c.x1 - f.x1) <= TOL), None)
        if (above is not None and f.text and above.nlines >= 2 and f.bottom > row_bottom + TOL
                and above.room <= 1.2 * above.size
                and all(len(x) <= 2 for x in (above.text + "\n" + f.text).split("\n"))):
            pairs[k] = above
    return pairs


def _join(a: Table, b: Table) -> None:
    """Stack table b (next page) under a; a row split by the page break becomes one row again."""
    if not a.ruled:
        _snap_columns(a, b)
    shift = a.bottom - b.top
    last = [c for c in a.cells if abs(c.bottom - a.bottom) <= TOL]
    first = [c for c in b.cells if abs(c.top - b.top) <= TOL]
    ends = {id(c) for c in last + first}
    head = sorted((c for c in a.cells if abs(c.top - a.top) <= TOL), key=lambda c: c.x0)
    if [c.text for c in head] == [c.text for c in sorted(first, key=lambda c: c.x0)]:
        last = []  # a header row repeated on the new page: never part of a split row
    pairs = _split_row(last, first, [c for c in a.cells + b.cells if id(c) not in ends])
    if pairs is None:
        pairs = _label_goes_on(last, first)
    for k, f in enumerate(first):
        if k in pairs:
            up = pairs[k]
            up.bottom = f.bottom + shift
            up.text = "\n".join(s for s in (up.text, f.text) if s)
            up.nlines, up.room, up.size = up.nlines + f.nlines, f.room, f.size or up.size
    joined = {id(f) for k, f in enumerate(first) if k in pairs}
    for c in b.cells:
        if id(c) not in joined:
            c.top, c.bottom = c.top + shift, c.bottom + shift
            a.cells.append(c)
    a.bottom = b.bottom + shift
    a.pages.append(b.page)


def _paragraphs(lines: list[Line], left: float, right: float, gap: float) -> list[Para]:
    """Rejoin wrapped lines: a line continues the one above when that one ran to the right
    margin (its next word would not have fit), this one is not indented, does not start a
    numbered heading, and sits at the usual line distance."""
    out: list[Para] = []
    prev: Line | None = None
    for ln in lines:
        joined = (prev is not None and ln.x0 <= left + 0.8 * ln.size and prev.x0 <= left + 4 * prev.size
                  and prev.x1 + ln.lead_w + 0.5 * ln.size >= right and not _HEADING.match(ln.text)
                  and (ln.page != prev.page or ln.top - prev.bottom <= gap + 0.5 * ln.size))
        if joined:
            sep = " " if re.search(r"[A-Za-z]$", prev.text) and re.match(r"[A-Za-z]", ln.text) else ""
            out[-1].text = fix_spaces(out[-1].text + sep + ln.text)
        else:
            out.append(Para(ln.text, ln.page))
        prev = ln
    return out


def read_pdf(data: bytes) -> Rendered:
    try:
        import pdfplumber
    except ImportError:  # pragma: no cover - a dependency of the package
        raise ReportError("pdfplumber is needed to read PDF files and is not installed", None) from None
    artefacts: Counter = Counter()
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        n = len(pdf.pages)
    except Exception as exc:  # pdfminer raises many kinds for broken or locked files
        name = f"{type(exc).__name__} {exc!r}".lower()
        if "password" in name or "encrypt" in name:
            raise ReportError("the PDF is encrypted (password-protected): cannot read its text", None) from None
        raise ReportError(f"not a readable PDF (corrupt or truncated?): {type(exc).__name__}", None) from None
    with pdf:
        if n == 0:
            raise ReportError("the PDF has no pages", None)
        if n > MAX_PAGES:
            raise ReportError(f"the PDF has {n} pages; at most {MAX_PAGES} are read", None)
        pages: list[list] = []
        heights: list[float] = []
        widths: list[float] = []
        ocr: dict[int, list] = {}
        for number, page in enumerate(pdf.pages, 1):
            try:
                items, scan = _read_page(page, number)
                if scan:
                    if len(ocr) >= MAX_OCR_PAGES:  # ~5 s a page on one core: bound the file's time
                        raise ReportError(f"page {number}: more than {MAX_OCR_PAGES} scanned pages; a scan is "
                                          f"read up to {MAX_OCR_PAGES} pages (split the file)", None)
                    ocr[number] = _ocr(page, number)
                    artefacts["ocr_pages"] += 1
                elif not items:
                    artefacts["blank_page"] += 1
            except ReportError:
                raise
            except Exception as exc:
                raise ReportError(f"page {number}: cannot read this page ({type(exc).__name__}: {exc})", None) from None
            finally:
                page.close()
            pages.append(items)
            heights.append(float(page.height))
            widths.append(float(page.width))
    _chrome(pages, heights, artefacts)
    return render(_assemble(pages, widths[0], ocr), artefacts)


def _ocr(page, number: int) -> list:
    try:
        from .ocr import read_page_image
    except ImportError:
        raise ReportError(f"page {number}: scanned page (no text layer) and OCR is not available", None) from None
    image = page.to_image(resolution=200).original
    return list(read_page_image(image, number))


def _assemble(pages: list[list], width: float, ocr: dict[int, list]) -> list[Para | Grid]:
    """Pages of lines and tables → paragraphs and grids, tables continued over pages joined."""
    body = [it for items in pages for it in items if isinstance(it, Line)]
    if body:
        sizes = Counter(round(ln.size) for ln in body)
        left = Counter(round(ln.x0) for ln in body).most_common(1)[0][0]
        right = sorted(ln.x1 for ln in body)[int(0.95 * (len(body) - 1))]
        if len(body) < 20:  # too few lines to know the text width: assume margins alike left and right
            right = max(right, width - left)
        gaps = [b.top - a.bottom for a, b in zip(body, body[1:]) if a.page == b.page and 0 < b.top - a.bottom < 3 * a.size]
        gap = median(gaps) if gaps else sizes.most_common(1)[0][0] * 0.5
    else:
        left, right, gap = 0.0, 0.0, 0.0
    out: list[Para | Grid] = []
    run: list[Line] = []
    open_table: Table | None = None

    def flush_lines() -> None:
        out.extend(_paragraphs(run, left, right, gap))
        run.clear()

    def flush_table() -> None:
        nonlocal open_table
        if open_table is not None:
            g = _grid(open_table)
            _drop_repeated_header(g)
            out.append(g)
            open_table = None

    scanned: list[list] = []  # a run of OCR'd pages: joined by the OCR reader (tables across pages)

    def flush_scanned() -> None:
        if scanned:
            from .ocr import join_pages

            out.extend(join_pages(scanned))
            scanned.clear()

    for number, items in enumerate(pages, 1):
        if number in ocr:
            flush_lines()
            flush_table()
            scanned.append(ocr[number])
            continue
        flush_scanned()
        for k, it in enumerate(items):
            if isinstance(it, Table):
                flush_lines()
                if open_table is not None and k == 0 and _continues(open_table, it):
                    _join(open_table, it)
                else:
                    flush_table()
                    open_table = it
                continue
            if open_table is not None:
                flush_table()
            run.append(it)
        # a table still open at the foot of a page may go on at the top of the next one
        if items and not isinstance(items[-1], Table):
            flush_table()
    flush_scanned()
    flush_lines()
    flush_table()
    return out
