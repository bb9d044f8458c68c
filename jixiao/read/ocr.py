"""Scanned pages (images only) → the canonical layout, with the PP-OCR models of RapidOCR.

A page is straightened (the skew that maximises the contrast of the row profile: text lines
and ruling lines are horizontal then), its table rulings are found with long morphological
kernels, each table's cell grid is built from the ruling positions (a cell with no ruling
between two grid positions spans them; :mod:`jixiao.read.page_image`), and every OCR text box goes to the cell holding its
centre. Boxes outside tables are grouped into lines by vertical overlap and the lines into
paragraphs the way the page wrapped them. Everything is local to one page, so a document is
as slow as its pages and never holds more than one page image; :func:`join_pages` then joins
a table that a page break cut in two.
"""
from __future__ import annotations

import io
import re
import threading
from statistics import median

import numpy as np

from ..errors import ReportError
from .layout import LEFT, Grid, Para, Rendered, render, resolve_spans
from .page_image import Table, ink_mask, straighten, tables, to_grey

MAX_PAGES = 300
MAX_BOXES = 1500  # text boxes read per page at most (a dense form page has ~400)
MIN_SCORE = 0.5  # OCR confidence below which a box is dropped (specks, stamp fragments)
DET_SIDE = 1600  # px on the long side of the copy text detection runs on

_engine = None
_engine_lock = threading.Lock()


def engine():
    """The one OCR engine of the process: loading the models takes a second and ~200 MB."""
    global _engine
    with _engine_lock:
        if _engine is None:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError:  # pragma: no cover - a dependency of the package
                raise ReportError("OCR needs rapidocr-onnxruntime, which is not installed", None) from None
            # One text line at a time: batching pads every line to the widest of its batch,
            # and a page of long narrative lines then takes 2–3 times as long.
            _engine = RapidOCR(rec_batch_num=1)
    return _engine


# ------------------------------------------------------------------ text clean-up

_CJK = r"\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
_SPACE_CJK = re.compile(rf"(?<=[{_CJK}])[ \t]+(?=[{_CJK}0-9A-Za-z%.])|(?<=[{_CJK}0-9%.])[ \t]+(?=[{_CJK}])")
_NUMERIC = re.compile(r"(?<![A-Za-z])[0-9OolI][0-9OolI.,，．]*[0-9OolI%]%?(?![A-Za-z])")
_PAGE_NUMBER = re.compile(r"^\s*(?:[-—–－·•]\s*\d{1,3}\s*[-—–－·•]|第\s*\d{1,3}\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|\d{1,3}\s*/\s*\d{1,3}|\d{1,3})\s*$")
_HEADING = re.compile(r"^\s*(?:[一二三四五六七八九十]+\s*[、.．]|[（(]\s*[一二三四五六七八九十\d]+\s*[)）]"
                      r"|\d{1,2}\s*[、．]|\d{1,2}\.(?!\d)|[①-⑳]|附件|附表)")
# 。 read as · or ° after a word or a figure, where a sentence ends.
_FULL_STOP = re.compile(rf"(?<=[{_CJK}0-9%])[·°](?=[{_CJK}“\"]|$)")
_BRACKETS = re.compile(r"[（(]([^（()）]{0,40})[)）]")
# The small 、 after an item number is often not read at all: '4实际在职人员' was '4、实际在职人员'
# (not before a measure word: '3个', '5人', '2023年' are quantities).
_ENUMERATOR = re.compile(r"^(\d{1,2})(?=[\u4e00-\u9fff])(?![年月日个人万元件次分项天名户家所条台辆座份篇期批场栋套亿千百十只])")
_SENTENCE_END = re.compile(r"[。；;！!？?：:]\s*$")


def _fix_number(m: re.Match) -> str:
    tok = m.group(0)
    if sum(ch.isdigit() for ch in tok) < max(1, (len(tok) + 1) // 2):
        return tok  # mostly letters: a word (or a code), not a number OCR misread
    tok = tok.replace("O", "0").replace("o", "0").replace("l", "1").replace("I", "1").replace("．", ".")
    # A comma before the last one or two digits is the decimal point (93，50 → 93.50); before
    # three it is a thousands separator and stays.
    return re.sub(r"(?<=\d)[，,](?=\d{1,2}%?$)", ".", tok)


def _pair(m: re.Match) -> str:
    # The recogniser reads full-width brackets as ASCII ones more often than not (and cannot
    # tell the two apart reliably); Chinese text prints them full-width (in the samples 25–74
    # full-width pairs to 0–6 ASCII ones), so a pair in or beside CJK text is full-width.
    before = m.string[max(0, m.start() - 1):m.start()]
    return "（" + m.group(1) + "）" if re.search(f"[{_CJK}]", m.group(0) + before) else m.group(0)


def clean(text: str) -> str:
    """OCR text as the document printed it: no spaces between CJK characters (the recogniser
    puts them where glyphs sit apart), numbers without letter look-alikes, the full stop and
    enumeration comma the recogniser takes for look-alikes given back."""
    text = text.replace("\u3000", " ").strip()
    text = _SPACE_CJK.sub("", _SPACE_CJK.sub("", text))
    text = _NUMERIC.sub(_fix_number, text)
    text = _FULL_STOP.sub("。", text.replace("丶", "、"))
    text = _BRACKETS.sub(_pair, text)
    # The fixtures' bookmarks are printed as text: give them back the form Tika writes, so the
    # canonical reader counts them as artefacts rather than prose.
    return re.sub(r"\[\s*bookmark\s*[:：]\s*", "[bookmark: ", text)


# ------------------------------------------------------------------ boxes → lines → items

class _Box:
    def __init__(self, quad, text: str):
        xs, ys = [p[0] for p in quad], [p[1] for p in quad]
        self.x0, self.x1, self.y0, self.y1 = min(xs), max(xs), min(ys), max(ys)
        self.cx, self.cy, self.text = (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2, text


def _lines(boxes: list[_Box]) -> list[list[_Box]]:
    """Boxes on one text line together (each line left to right), lines top to bottom: a box
    joins a line when it overlaps the line's height by more than half its own."""
    lines: list[list[_Box]] = []
    for b in sorted(boxes, key=lambda b: b.cy):
        for ln in reversed(lines[-4:]):
            top, bottom = max(x.y0 for x in ln), min(x.y1 for x in ln)
            if min(bottom, b.y1) - max(top, b.y0) > 0.5 * (b.y1 - b.y0):
                ln.append(b)
                break
        else:
            lines.append([b])
    for ln in lines:
        ln.sort(key=lambda b: b.x0)
    return lines


def _line_text(ln: list[_Box]) -> str:
    return clean(" ".join(b.text for b in ln))


def _join(a: str, b: str) -> str:
    """Two pieces of one wrapped paragraph: CJK text joins without a space."""
    return a + (" " if re.search(r"[A-Za-z]$", a) and re.match(r"[A-Za-z]", b) else "") + b


def _paragraphs(lines: list[list[_Box]], page: int, right: float) -> list[tuple[float, Para]]:
    """Rejoin wrapped lines: a line goes on with the one above when that one ran to the
    right margin, this one is not indented, does not start a numbered heading, and sits at
    the usual line distance."""
    if not lines:
        return []
    height = median(b.y1 - b.y0 for ln in lines for b in ln)
    left = min(ln[0].x0 for ln in lines)
    pitch = [b[0].y0 - a[0].y0 for a, b in zip(lines, lines[1:])]
    usual = median(pitch) if pitch else height
    usual = min(usual, 2 * height)
    out: list[tuple[float, Para]] = []
    prev = None
    for ln in lines:
        text = _line_text(ln)
        if not text:
            continue
        go_on = (prev is not None and prev[-1].x1 >= right - 1.5 * height and ln[0].x0 <= left + 0.8 * height
                 and not _HEADING.match(text) and ln[0].y0 - prev[0].y0 <= usual + 0.4 * height)
        if go_on:
            out[-1][1].text = _join(out[-1][1].text, text)
        else:
            out.append((ln[0].y0, Para(_ENUMERATOR.sub(r"\1、", text), page)))
        prev = ln
    return out


def _cell_text(boxes: list[_Box]) -> str:
    text = "\n".join(t for t in (_line_text(ln) for ln in _lines(boxes)) if t)
    return _ENUMERATOR.sub(r"\1、", _BRACKETS.sub(_pair, text))  # a pair broken over the cell's lines


def _split(quad: np.ndarray, found: list[Table]) -> list[np.ndarray]:
    """A detected box cut at the column edges it runs across: with the rulings erased, the
    detector may take the text of two neighbouring cells for one line."""
    x0, y0 = quad.min(axis=0)
    x1, y1 = quad.max(axis=0)
    h = y1 - y0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    t = next((t for t in found if t.contains(cx, cy)), None)
    if t is None:
        return [quad]
    r = min(max(int(np.searchsorted(t.ys, cy)) - 1, 0), len(t.ys) - 2)
    # Only edges ruled in this row: a cell spanning columns holds text across the others.
    cuts = [x for j, x in enumerate(t.xs[1:-1], 1)
            if x0 + 0.6 * h < x < x1 - 0.6 * h and t.origin[r][j - 1] != t.origin[r][j]]
    if not cuts:
        return [quad]
    edges = [x0, *cuts, x1]
    return [np.array([[a, y0], [b, y0], [b, y1], [a, y1]], dtype=np.float32) for a, b in zip(edges, edges[1:])]


def recognise(grey: np.ndarray, found: list[Table]) -> list[_Box]:
    """The text boxes of a straight page. Detection runs on a copy at most DET_SIDE px long
    (text lines stay 20 px tall or more: plenty for the detector, and 2–4 times faster),
    recognition on crops of the full-resolution page."""
    import cv2

    eng = engine()
    bgr = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    f = min(1.0, DET_SIDE / max(grey.shape))
    small = cv2.resize(bgr, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else bgr
    quads, _ = eng.text_det(small)
    if quads is None or not len(quads):
        return []
    quads = [p for q in eng.sorted_boxes(quads)[:MAX_BOXES] for p in _split(np.asarray(q, dtype=np.float32) / f, found)]
    texts, _ = eng.text_rec(eng.get_crop_img_list(bgr, quads))
    return [_Box(q, t) for q, (t, score, *_) in zip(quads, texts) if float(score) >= MIN_SCORE]


def _missed(clear: np.ndarray, t: Table, cells: dict) -> None:
    """Read the cells with ink but no detected text: the detector misses a lone short figure
    (a score of 2) in a roomy cell, the recogniser reads it from the ink's bounding box."""
    import cv2

    ends: dict[tuple[int, int], tuple[int, int]] = {}
    for r, row in enumerate(t.origin):
        for c, o in enumerate(row):
            ends[o] = (max(r, ends.get(o, (r, c))[0]), max(c, ends.get(o, (r, c))[1]))
    pad = max(3, (t.ys[-1] - t.ys[0]) // 400 + 4)
    crops, where = [], []
    for (r, c), (r2, c2) in ends.items():
        if (r, c) in cells:
            continue
        y0, y1, x0, x1 = t.ys[r] + pad, t.ys[r2 + 1] - pad, t.xs[c] + pad, t.xs[c2 + 1] - pad
        if y1 - y0 < 8 or x1 - x0 < 8:
            continue
        ink = clear[y0:y1, x0:x1] < 128
        if ink.sum() < 15:
            continue
        ys, xs = np.nonzero(ink)
        a, b, e, f = max(0, ys.min() - pad), ys.max() + pad + 1, max(0, xs.min() - pad), xs.max() + pad + 1
        crops.append(cv2.cvtColor(np.ascontiguousarray(clear[y0:y1, x0:x1][a:b, e:f]), cv2.COLOR_GRAY2BGR))
        where.append(((r, c), [[x0 + e, y0 + a], [x0 + f, y0 + a], [x0 + f, y0 + b], [x0 + e, y0 + b]]))
    if crops:
        texts, _ = engine().text_rec(crops)
        for (pos, quad), (text, score, *_) in zip(where, texts):
            if text.strip() and float(score) >= MIN_SCORE:
                cells[pos] = [_Box(quad, text)]


def read_page_image(image, page: int) -> list[Para | Grid]:
    """One scanned page (a PIL image, any mode, ideally 150–300 dpi) as layout items in
    reading order."""
    import cv2

    grey = straighten(to_grey(image))
    ink = ink_mask(grey)
    found, rulings = tables(ink)
    clear = grey.copy()
    clear[cv2.dilate(rulings, np.ones((3, 3), np.uint8)) > 0] = 255
    boxes = [b for b in recognise(clear, found) if b.text.strip()]

    h = grey.shape[0]
    loose: list[_Box] = []
    cells: dict[int, dict[tuple[int, int], list[_Box]]] = {i: {} for i in range(len(found))}
    for b in boxes:
        k = next((i for i, t in enumerate(found) if t.contains(b.cx, b.cy)), None)
        if k is None:
            loose.append(b)
        else:
            cells[k].setdefault(found[k].cell(b.cx, b.cy), []).append(b)

    items: list[tuple[float, Para | Grid]] = []
    for k, t in enumerate(found):
        _missed(clear, t, cells[k])
        texts = [[_cell_text(cells[k].get((r, c), [])) for c in range(len(t.xs) - 1)] for r in range(len(t.ys) - 1)]
        rows = resolve_spans(texts, t.origin)
        # A row all of whose positions belong to cells above is no row of the table.
        rows = [row for r, row in enumerate(rows) if any(o == (r, c) for c, o in enumerate(t.origin[r]))]
        if cells[k] or len(rows) > 1:
            g = Grid(rows, page=page, row_pages=[page] * len(rows))
            # Column edges as fractions of the page width: join_pages lays a table's next
            # page onto them (the Grid's cells alone cannot tell a span from a new layout).
            g.xs = [x / grey.shape[1] for x in t.xs]
            items.append((t.ys[0], g))

    lines = _lines(loose)
    # A page number is alone on its line in the top or bottom margin band.
    lines = [ln for ln in lines if not (_PAGE_NUMBER.match(_line_text(ln))
                                        and (ln[0].y1 < 0.1 * h or ln[0].y0 > 0.85 * h))]
    # Paragraphs never run across a table: a table ends the lines above it.
    tops = sorted(t.ys[0] for t in found)
    groups: dict[int, list[list[_Box]]] = {}
    for ln in lines:
        groups.setdefault(int(np.searchsorted(tops, ln[0].cy)), []).append(ln)
    # The right margin: where most full lines end, or a table's right edge (tables fill the
    # text width); on a page of a few short lines, as far from the right as the text is
    # from the left.
    ends = sorted(ln[-1].x1 for ln in lines)
    right = max([ends[int(0.9 * (len(ends) - 1))] if ends else 0] + [t.xs[-1] for t in found])
    if len(lines) < 6 and not found and lines:
        right = max(right, grey.shape[1] - min(ln[0].x0 for ln in lines))
    for g in groups.values():
        items.extend(_paragraphs(g, page, right))
    items.sort(key=lambda it: it[0])
    return [it for _, it in items]


# ------------------------------------------------------------------ pages → document

def _text(c) -> str:
    return c.strip() if isinstance(c, str) else ""


def _n_lines(c) -> int:
    return len(_text(c).split("\n")) if _text(c) else 0


def _cut_row(last: list, first: list) -> bool:
    """Is ``first`` (the top row of a page) the rest of ``last`` (the bottom row of the page
    before), cut by the page break? Only the cells that ran to the foot of the page go on,
    and those are the tallest cells of the row; a new row has text in its short cells too
    (its name, its figures)."""
    tallest = max(map(_n_lines, last), default=0)
    went_on = [k for k, c in enumerate(first) if _text(c)]
    if tallest < 3 or not went_on or any(re.fullmatch(r"[\d.,%\s]+", _text(first[k])) for k in went_on):
        return False  # figures are a new row's, not the tail of a cut cell
    return all(_n_lines(last[k]) >= tallest - 1 for k in went_on)


def _onto(xs_old: list[float], xs_new: list[float]) -> list[int] | None:
    """Where each column edge of a table's continuation falls among the edges of the part on
    the page before, or None when the two are not one table: the outer edges must agree and
    every inner edge of the continuation must be an edge above (a page of the table may
    lack some rulings — rows that span those columns — never add new ones)."""
    tol = 0.015
    out = []
    for x in xs_new:
        k = min(range(len(xs_old)), key=lambda i: abs(xs_old[i] - x))
        if abs(xs_old[k] - x) > tol:
            return None
        out.append(k)
    if out[0] != 0 or out[-1] != len(xs_old) - 1 or out != sorted(set(out)):
        return None
    return out


def _remap(row: list, edges: list[int], width: int) -> list:
    out: list = [LEFT] * width
    for j, c in enumerate(row):
        out[edges[j]] = c
    return out


def join_pages(pages: list[list[Para | Grid]]) -> list[Para | Grid]:
    """The pages' items as one document: a table that ends a page and a table that starts the
    next on the same column edges is one table cut by the page break (its row cut in two, if
    it was, joined again); a paragraph cut mid-sentence by the page break goes on."""
    out: list[Para | Grid] = []
    for items in pages:
        for n, it in enumerate(items):
            prev = out[-1] if out and n == 0 else None
            edges = None
            if isinstance(it, Grid) and isinstance(prev, Grid) and it.rows and prev.rows:
                edges = _onto(getattr(prev, "xs", []), getattr(it, "xs", [])) if hasattr(it, "xs") else None
            if edges is not None:
                width = len(prev.xs) - 1
                rows = [_remap(r, edges, width) for r in it.rows]
                pages_of = list(it.row_pages or [it.page] * len(it.rows))
                if _cut_row(prev.rows[-1], rows[0]):
                    prev.rows[-1] = [a if not _text(b) else b if not _text(a) else a + "\n" + b
                                     for a, b in zip(prev.rows[-1], rows.pop(0))]
                    pages_of.pop(0)
                prev.row_pages = (prev.row_pages or [prev.page] * len(prev.rows)) + pages_of
                prev.rows.extend(rows)
                continue
            if isinstance(it, Para) and isinstance(prev, Para) and not _SENTENCE_END.search(prev.text) \
                    and not _HEADING.match(it.text) and len(prev.text) > 30:
                prev.text = _join(prev.text, it.text)
                continue
            out.append(it)
    return out


def read_image(data: bytes) -> Rendered:
    """A standalone image file (.png, .jpg, .tif; each frame of a multi-page TIFF a page)."""
    from collections import Counter

    from PIL import Image, ImageSequence, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = 200_000_000  # a 600 dpi A3 page; beyond that is a decompression bomb
    try:
        img = Image.open(io.BytesIO(data))
        pages = []
        for n, frame in enumerate(ImageSequence.Iterator(img), 1):
            if n > MAX_PAGES:
                raise ReportError(f"the image has more than {MAX_PAGES} pages", None)
            pages.append(read_page_image(frame.copy(), n))
    except ReportError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ReportError(f"not a readable image ({type(exc).__name__}: {exc})", None) from None
    items = join_pages(pages)
    if not items:
        raise ReportError("no text found in the image (blank, or not a scan of a document)", None)
    return render(items, Counter(ocr_pages=len(pages)))
