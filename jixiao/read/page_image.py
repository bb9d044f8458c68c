"""A scanned page image before OCR: straightened (the skew that maximises the contrast of the row
profile), its table rulings found with long morphological kernels, and each table's cell grid
built from the ruling positions (a cell with no ruling between two grid positions spans them).
Used by :mod:`jixiao.read.ocr`."""
from __future__ import annotations

import numpy as np

MAX_SIDE = 3000  # px on the long side: a 300 dpi A4 page is 3508; more adds time, not text
MAX_CELLS = 4000  # grid positions per table at most; more is noise taken for rulings


# ------------------------------------------------------------------ image → straight page

def to_grey(image) -> np.ndarray:
    """The page as 8-bit grey. A colour scan keeps its red channel: red stamps and signatures
    turn pale there while black (and blue) ink stays dark."""
    if image.mode in ("1", "L", "I;16", "I", "F"):
        a = np.asarray(image.convert("L"))
    else:
        a = np.asarray(image.convert("RGB"))[:, :, 0]
    return np.ascontiguousarray(a)


def ink_mask(grey: np.ndarray) -> np.ndarray:
    import cv2

    block = max(15, (min(grey.shape) // 60) | 1)
    return cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 12)


def skew(ink: np.ndarray) -> float:
    """Degrees to rotate the page by (cv2's sense) so its lines run level: the angle at which
    the row sums of the ink are most uneven (each text line and ruling a sharp peak)."""
    import cv2

    scale = 1000 / max(ink.shape)
    small = cv2.resize(ink, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else ink
    h, w = small.shape
    centre = (w / 2, h / 2)

    def sharpness(angle: float) -> float:
        m = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rows = cv2.warpAffine(small, m, (w, h), flags=cv2.INTER_NEAREST).sum(axis=1, dtype=np.float64)
        return float(np.square(np.diff(rows)).sum())

    best = max(np.arange(-3.0, 3.01, 0.25), key=sharpness)
    return float(max(np.arange(best - 0.25, best + 0.26, 0.05), key=sharpness))


def straighten(grey: np.ndarray) -> np.ndarray:
    import cv2

    long_side = max(grey.shape)
    if long_side > MAX_SIDE:
        f = MAX_SIDE / long_side
        grey = cv2.resize(grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    angle = skew(ink_mask(grey))
    if abs(angle) < 0.05:
        return grey
    h, w = grey.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(grey, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)


# ------------------------------------------------------------------ rulings → tables

def _runs(profile: np.ndarray, minimum: float, gap: int) -> list[int]:
    """Centres of the runs of profile ≥ minimum, runs closer than gap joined (a ruling is a
    few px thick, and a double ruling is one)."""
    idx = np.flatnonzero(profile >= minimum)
    if not len(idx):
        return []
    out, start, last = [], idx[0], idx[0]
    for i in idx[1:]:
        if i - last > gap:
            out.append((start + last) // 2)
            start = i
        last = i
    out.append((start + last) // 2)
    return out


class Table:
    def __init__(self, xs: list[int], ys: list[int], origin: list[list[tuple[int, int]]]):
        self.xs, self.ys, self.origin = xs, ys, origin

    def contains(self, x: float, y: float) -> bool:
        return self.xs[0] <= x <= self.xs[-1] and self.ys[0] <= y <= self.ys[-1]

    def cell(self, x: float, y: float) -> tuple[int, int]:
        c = min(max(int(np.searchsorted(self.xs, x)) - 1, 0), len(self.xs) - 2)
        r = min(max(int(np.searchsorted(self.ys, y)) - 1, 0), len(self.ys) - 2)
        return self.origin[r][c]


def tables(ink: np.ndarray) -> tuple[list[Table], np.ndarray]:
    """The ruled tables of a straight page, and the mask of their rulings (erased before OCR:
    a ruling through a text box reads as 一 or 丨)."""
    import cv2

    h, w = ink.shape
    unit = max(2, round(max(h, w) / 700))  # ~3 px at 200 dpi: a ruling's thickness, a tolerance
    horiz = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(40, w // 30), 1)))
    vert = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(40, h // 40))))
    # Bridge the gaps noise and JPEG leave in a thin ruling.
    horiz = cv2.dilate(horiz, cv2.getStructuringElement(cv2.MORPH_RECT, (4 * unit, unit)))
    vert = cv2.dilate(vert, cv2.getStructuringElement(cv2.MORPH_RECT, (unit, 4 * unit)))
    n, _, stats, _ = cv2.connectedComponentsWithStats(cv2.bitwise_or(horiz, vert), connectivity=8)
    found: list[Table] = []
    erase = np.zeros_like(ink)
    for k in range(1, n):
        x, y, bw, bh, _ = stats[k]
        if bw < w // 8 or bh < 2 * unit * 4:
            continue
        t = _grid(horiz[y:y + bh, x:x + bw] > 0, vert[y:y + bh, x:x + bw] > 0, unit)
        if t is not None:
            t.xs = [v + x for v in t.xs]
            t.ys = [v + y for v in t.ys]
            found.append(t)
            b = 3 * unit
            for gy in t.ys:
                erase[max(0, gy - b):gy + b + 1, x:x + bw] |= horiz[max(0, gy - b):gy + b + 1, x:x + bw]
            for gx in t.xs:
                erase[y:y + bh, max(0, gx - b):gx + b + 1] |= vert[y:y + bh, max(0, gx - b):gx + b + 1]
    return found, erase


def _grid(horiz: np.ndarray, vert: np.ndarray, unit: int) -> Table | None:
    h, w = horiz.shape
    ys = _runs(horiz.sum(axis=1), min(w * 0.05, 40 * unit), 2 * unit)
    xs = _runs(vert.sum(axis=0), min(h * 0.05, 40 * unit), 2 * unit)
    if len(ys) < 2 or len(xs) < 2 or (len(ys) - 1) * (len(xs) - 1) > MAX_CELLS:
        return None
    band = 2 * unit

    def h_ruled(y: int, x0: int, x1: int) -> bool:  # is there a ruling along y from x0 to x1?
        seg = horiz[max(0, y - band):y + band + 1, x0 + band:max(x0 + band + 1, x1 - band)]
        return seg.size > 0 and seg.any(axis=0).mean() > 0.6

    def v_ruled(x: int, y0: int, y1: int) -> bool:
        seg = vert[y0 + band:max(y0 + band + 1, y1 - band), max(0, x - band):x + band + 1]
        return seg.size > 0 and seg.any(axis=1).mean() > 0.6

    # A ruling is a grid line only where it bounds a whole cell: a dash (——) in a cell or an
    # underline makes a short run and no row.
    ys = [y for i, y in enumerate(ys) if i in (0, len(ys) - 1) or any(h_ruled(y, a, b) for a, b in zip(xs, xs[1:]))]
    xs = [x for i, x in enumerate(xs) if i in (0, len(xs) - 1) or any(v_ruled(x, a, b) for a, b in zip(ys, ys[1:]))]
    nr, nc = len(ys) - 1, len(xs) - 1
    parent = list(range(nr * nc))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r in range(nr):
        for c in range(nc):
            if c + 1 < nc and not v_ruled(xs[c + 1], ys[r], ys[r + 1]):
                parent[find(r * nc + c + 1)] = find(r * nc + c)
            if r + 1 < nr and not h_ruled(ys[r + 1], xs[c], xs[c + 1]):
                parent[find((r + 1) * nc + c)] = find(r * nc + c)
    top_left: dict[int, tuple[int, int]] = {}
    for i in range(nr * nc):
        r, c = divmod(i, nc)
        top_left.setdefault(find(i), (r, c))  # row-major: the first position seen is the top-left
    origin = [[top_left[find(r * nc + c)] for c in range(nc)] for r in range(nr)]
    return Table(xs, ys, origin)
