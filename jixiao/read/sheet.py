"""Spreadsheets (.xlsx/.xlsm via openpyxl, .xls/.et via xlrd) → the canonical Tika layout.

Portals publish the 自评表 as workbooks: per sheet a title block (附件N, the form's title,
单位名称/金额单位 lines), the form as a ruled table, notes (填表人, 说明) under it. Each sheet is
read into one model (cell texts *as displayed*, merged ranges, which cells are ruled) and laid
out by one function, so both libraries give the same text.

Where the table is: cells with borders when the sheet has any (a form's cells are ruled, its
title and notes are not — the same line Word draws between a table and its paragraphs);
otherwise by content: one-cell rows above and below a block are paragraphs, empty rows split
blocks. Merged ranges keep their value in the top-left cell and resolve like Word merges.
"""
from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from ..errors import ReportError
from .layout import Grid, Para, Rendered, render, resolve_spans

MAX_UNPACKED = 200 * 1024 * 1024
MAX_CELLS = 1_000_000
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_OOXML = "EncryptedPackage".encode("utf-16-le")  # a password-protected .xlsx is an OLE file

_BLANK = " \t\r\n\u3000\xa0"
_DEFAULT_NAME = re.compile(r"^(sheet|工作表|表)\s*\d*$", re.I)
# "单位名称：XX" / "金额单位：万元" / "填表人：X": a label line, laid out in cells but not a table row.
_LABEL = re.compile(r"^[^：:]{1,15}[：:]")


@dataclass
class Sheet:
    name: str
    cells: dict = field(default_factory=dict)  # (row, col) → displayed text, non-empty only
    ruled: set = field(default_factory=set)  # (row, col) with a box border (two sides or more)
    merges: list = field(default_factory=list)  # (r1, c1, r2, c2), inclusive, 0-based


# ---------------------------------------------------------------- values as displayed

_SECTION = re.compile(r';(?=(?:[^"]*"[^"]*")*[^"]*$)')  # a ";" outside quotes


def general(v: float | int) -> str:
    """Excel's General: integers whole, else 10 significant digits (float noise such as
    0.30000000000000004 is far below that), never an exponent."""
    if isinstance(v, int) or v != v or v in (float("inf"), float("-inf")):
        return str(v)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    s = format(Decimal(f"{v:.10g}"), "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


def number_text(v: float | int, fmt: str | None) -> str:
    """A number as Excel shows it under ``fmt``: decimals, thousands separators, percent,
    literal prefixes/suffixes (¥, "万元"); scientific and fraction formats fall back to General."""
    fmt = (fmt or "").strip()
    if not fmt or fmt.lower() == "general" or fmt == "@":
        return general(v)
    secs = _SECTION.split(fmt)
    sign = ""
    if v < 0 and len(secs) > 1 and secs[1].strip():
        sec, v = secs[1], -v  # the negative section writes its own sign or parentheses
    elif v == 0 and len(secs) > 2:
        sec = secs[2]
    else:
        sec, sign, v = secs[0], ("-" if v < 0 else ""), abs(v)
    sec = re.sub(r"\[[^\]]*\]", "", sec)  # colours, conditions, locale codes
    pre, pat, post, pct, i = "", "", "", 0, 0
    while i < len(sec):
        ch = sec[i]
        if ch == '"':
            j = sec.find('"', i + 1)
            j = len(sec) if j < 0 else j
            lit, i = sec[i + 1:j], j + 1
        elif ch == "\\" and i + 1 < len(sec):
            lit, i = sec[i + 1], i + 2
        elif ch in "_*":  # _x pads the width of x, *x repeats x: layout, not text
            lit, i = "", i + 2
        elif ch in "0#?.,":
            pat += ch
            i += 1
            continue
        elif ch in "Ee/" or ch in "@":
            return general(v if not sign else -v)
        else:
            pct += ch == "%"
            lit, i = ch, i + 1
        if pat:
            post += lit
        else:
            pre += lit
    if not re.search(r"[0#?]", pat):
        return pre + post if pre + post else general(v)
    ipat, _, dpat = pat.partition(".")
    scale = len(ipat) - len(ipat.rstrip(","))  # trailing commas divide by 1000 each
    ipat = ipat.rstrip(",")
    group = "," in ipat
    min_dec, max_dec = dpat.count("0"), sum(dpat.count(c) for c in "0#?")
    # repr() is the float's shortest faithful decimal: 0.9338 stays 0.9338, not 0.93379999…
    d = (Decimal(repr(v)) if isinstance(v, float) else Decimal(v)) * Decimal(100) ** pct / Decimal(1000) ** scale
    q = d.quantize(Decimal(1).scaleb(-max_dec), rounding=ROUND_HALF_UP)
    ip, _, dp = format(q, "f").partition(".")
    dp = dp.rstrip("0").ljust(min_dec, "0")
    ip = ("" if ip == "0" else ip).zfill(ipat.count("0"))
    ip = f"{int(ip):,}" if group and ip else ip
    num = ip + ("." + dp if dp else "")  # "0.##" on 12 shows "12." in Excel; the dot says nothing
    if not q:
        sign = ""
    return sign + pre + (num or "0") + post


def date_text(v, fmt: str | None) -> str:
    """A date as the form shows it: 年月日 formats as 年月日 text, others as ISO."""
    if isinstance(v, timedelta):
        return str(v)
    if isinstance(v, time):
        return v.strftime("%H:%M:%S" if v.second else "%H:%M")
    f = re.sub(r'\[[^\]]*\]|"', "", fmt or "").lower()
    if "年" in f or "月" in f:  # 2024年6月28日 / 2024年06月 / 6月28日, padded as the format says
        mm, dd = "mm" in f.split("年")[-1].split("月")[0], "dd" in f
        return ((f"{v.year}年" if "y" in f or "年" in f else "") + (f"{v.month:02d}月" if mm else f"{v.month}月")
                + ((f"{v.day:02d}日" if dd else f"{v.day}日") if "日" in f or "d" in f else ""))
    s = f"{v.year:04d}-{v.month:02d}-{v.day:02d}"
    if isinstance(v, datetime) and re.search(r"[hs]", f) and (v.hour or v.minute or v.second):
        s += v.strftime(" %H:%M:%S" if v.second else " %H:%M")
    return s


def cell_text(v, fmt: str | None) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float)):
        return number_text(v, fmt)
    if isinstance(v, (date, time, timedelta)):
        return date_text(v, fmt)
    return str(v)


# ---------------------------------------------------------------- layout of one sheet

def sheet_items(sh: Sheet) -> list[Para | Grid]:
    """One sheet as paragraphs and grids in reading order (see the module docstring)."""
    cells, ruled = dict(sh.cells), set(sh.ruled)
    if not cells:
        return []
    # Merges clipped to what the sheet uses: a merge of whole columns must not cost 10⁹ cells.
    top = max(max(r for r, _ in cells), max((r for r, _ in ruled), default=0))
    right = max(max(c for _, c in cells), max((c for _, c in ruled), default=0))
    merges = [(r1, c1, min(r2, top), min(c2, right)) for r1, c1, r2, c2 in sh.merges if r1 <= top and c1 <= right]
    if sum((r2 - r1 + 1) * (c2 - c1 + 1) for r1, c1, r2, c2 in merges) > MAX_CELLS:
        raise ReportError(f"sheet {sh.name!r}: merged ranges cover more than {MAX_CELLS:,} cells", None)
    origin: dict = {}
    for r1, c1, r2, c2 in merges:
        area = [(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]
        box = any(k in ruled for k in area)
        for k in area:
            origin[k] = (r1, c1)
            ruled.update([k] if box else [])
            if k != (r1, c1):
                cells.pop(k, None)  # Excel shows a merge's top-left value only
    by_row: dict[int, list[int]] = {}
    for r, c in sorted(cells):
        by_row.setdefault(r, []).append(c)
    ruled_cols: dict[int, list[int]] = {}
    for r, c in ruled:
        ruled_cols.setdefault(r, []).append(c)
    cont = {r for (r, c), o in origin.items() if o[0] < r and o in cells}  # continues a filled merge
    span_end = {(r1, c1): c2 for r1, c1, _, c2 in merges}
    # Runs of rows: ruled rows together; unruled rows with something in them together.
    runs: list[tuple[bool | None, list[int]]] = []
    for r in range(min(min(by_row), min(ruled_cols, default=top)), top + 1):
        kind = True if r in ruled_cols else (False if r in by_row or r in cont else None)
        if kind is not None and runs and runs[-1][0] is kind:
            runs[-1][1].append(r)
        else:
            runs.append((kind, [r] if kind is not None else []))

    def texts(r: int) -> list[str]:
        return [cells[(r, c)] for c in by_row.get(r, [])]

    def para_row(r: int, boxed: bool, lo: int, hi: int) -> bool:
        t = texts(r)
        if boxed:  # inside the rules only a title merged across the whole table is not a row
            c = by_row.get(r, [lo])[0]
            return len(t) == 1 and c <= lo and span_end.get((r, c), c) >= hi > lo
        return len(t) <= 1 and r not in cont or len(t) <= 4 and all(_LABEL.match(s) for s in t)

    items: list[Para | Grid] = []
    for boxed, rows in runs:
        if not rows:
            continue
        ext = [c for r in rows for c in ruled_cols.get(r, [])] or [0]
        lo, hi = min(ext), max(ext)
        head, tail = 0, len(rows)
        while head < tail and para_row(rows[head], boxed, lo, hi):
            head += 1
        while not boxed and tail > head and para_row(rows[tail - 1], boxed, lo, hi):
            tail -= 1
        items += [Para(" ".join(texts(r))) for r in rows[:head]]
        if head < tail:
            if items and isinstance(items[-1], Grid):
                # Two tables with only empty rows between would read back as one table (blank
                # lines do not end a table in the Tika layout): the sheet's name parts them.
                items.append(Para(sh.name.strip()))
            cols = [c for r in rows[head:tail] for c in by_row.get(r, []) + (ruled_cols.get(r, []) if boxed else [])]
            cols += [span_end[(r, c)] for r in rows[head:tail] for c in by_row.get(r, []) if (r, c) in span_end]
            items.append(_grid(rows[head], rows[tail - 1], min(cols), max(cols), cells, origin))
        items += [Para(" ".join(texts(r))) for r in rows[tail:]]
    return items


def _grid(r0: int, r1: int, c0: int, c1: int, cells: dict, origin: dict) -> Grid:
    if (r1 - r0 + 1) * (c1 - c0 + 1) > MAX_CELLS:
        raise ReportError(f"a table of {r1 - r0 + 1} rows × {c1 - c0 + 1} columns is too large", None)
    texts = [[cells.get((r, c), "") for c in range(c0, c1 + 1)] for r in range(r0, r1 + 1)]
    # A merge reaching in from outside the table is clipped to it (its value stays outside).
    orig = [[(max(o[0], r0) - r0, max(o[1], c0) - c0) for c in range(c0, c1 + 1)
             for o in [origin.get((r, c), (r, c))]] for r in range(r0, r1 + 1)]
    return Grid(resolve_spans(texts, orig))


def _render(sheets: list[Sheet], artefacts: Counter) -> Rendered:
    items: list[Para | Grid] = []
    for sh in sheets:
        got = sheet_items(sh)
        if not got:
            artefacts["empty_sheet"] += 1
            continue
        # A sheet whose title block is missing still has its name (附件2 项目支出绩效自评表);
        # any name parts its table from a table ending the sheet before.
        if isinstance(got[0], Grid) and (not _DEFAULT_NAME.match(sh.name.strip())
                                         or items and isinstance(items[-1], Grid)):
            items.append(Para(sh.name.strip()))
        items += got
    if not items:
        raise ReportError("workbook has no cells with text in a visible sheet", None)
    return render(items, artefacts)


# ---------------------------------------------------------------- .xlsx / .xlsm

_CELL = re.compile(rb"<(?:\w+:)?c[\s>/](?:[^>]*/>|.*?</(?:\w+:)?c>)", re.S)
_MERGE = re.compile(rb"<(?:\w+:)?mergeCell\s[^>]*?ref=\"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?\"")
_CELL_START = re.compile(rb"<(?:\w+:)?c[\s>/]")
_HAS_F = re.compile(rb"<(?:\w+:)?f[\s>/]")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")  # OOXML's escape for \r and control characters
_HAS_V = re.compile(rb"<(?:\w+:)?v(?:\s[^>]*)?>[^<]")  # a value, not openpyxl's empty <v></v>


def _col(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n - 1


def _last_cell_start(buf: bytes) -> int:
    """Where the last (maybe unfinished) cell starts, so no cell is cut between two chunks."""
    m = None
    for m in _CELL_START.finditer(buf, max(0, len(buf) - (64 << 10))):
        pass
    if m is not None:
        return m.start()
    return buf.rfind(b"<") if len(buf) < (8 << 20) else len(buf)  # a cell longer than 64 KB: rare


def _scan(zf: zipfile.ZipFile, path: str, name: str, budget: int) -> tuple[list, int, int]:
    """Stream one sheet's XML once: its merged ranges, its number of cells (the bound is
    checked before openpyxl builds anything) and formulas saved without a cached value
    (openpyxl's data_only mode gives those as None, indistinguishable from empty)."""
    merges, n_cells, no_value, tail, size = [], 0, 0, b"", 0
    with zf.open(path) as fh:
        while True:
            chunk = fh.read(1 << 20)
            size += len(chunk)
            if size > MAX_UNPACKED:  # the zip's own size fields can lie
                raise ReportError(f"sheet {name!r} unpacks to more than {MAX_UNPACKED >> 20} MB", None)
            buf = tail + chunk
            cut = len(buf) if not chunk else _last_cell_start(buf)
            part, tail = buf[:cut], buf[cut:]
            n_cells += sum(1 for _ in _CELL_START.finditer(part))
            if _HAS_F.search(part):  # only then is it worth looking into each cell
                no_value += sum(1 for m in _CELL.finditer(part)
                                if _HAS_F.search(m.group(0)) and not _HAS_V.search(m.group(0)))
            for m in _MERGE.finditer(part):
                a, b = _col(m.group(1)), int(m.group(2)) - 1
                c, d = (_col(m.group(3)), int(m.group(4)) - 1) if m.group(3) else (a, b)
                merges.append((b, a, d, c))
            if n_cells > budget:
                raise ReportError(f"workbook has more than {MAX_CELLS:,} cells (in {name})", None)
            if not chunk:
                return merges, n_cells, no_value


def _boxed(border) -> bool:
    sides = (border.left, border.right, border.top, border.bottom) if border else ()
    return sum(1 for s in sides if s is not None and s.style) >= 2


def read_xlsx(data: bytes) -> Rendered:
    if data.startswith(OLE_MAGIC):  # a WPS .et or a misnamed .xls: BIFF inside
        return read_xls(data)
    import openpyxl

    artefacts: Counter = Counter()
    sheets, wb, where = [], None, ""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        if sum(i.file_size for i in zf.infolist()) > MAX_UNPACKED:
            raise ReportError(f"workbook unpacks to more than {MAX_UNPACKED >> 20} MB", None)
        if "xl/workbook.xml" not in zf.namelist():
            raise ReportError("not a workbook: xl/workbook.xml missing", None)
        # Every sheet is measured before openpyxl opens one (it parses a sheet lacking a
        # <dimension> in full just to size it): a bomb costs one streaming pass, no objects.
        scans, total = {}, 0
        for name in zf.namelist():
            if re.fullmatch(r"xl/worksheets/[^/]+\.xml", name):
                scans[name] = _scan(zf, name, name, MAX_CELLS - total)
                total += scans[name][1]
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        for ws in wb.worksheets:
            where = f" (sheet {ws.title!r})"
            if ws.sheet_state != "visible":
                artefacts["hidden_sheet"] += 1
                continue
            merges, _, no_value = scans.get((getattr(ws, "_worksheet_path", "") or "").lstrip("/"), ([], 0, 0))
            if no_value:
                artefacts["formula_without_value"] += no_value
            sh = Sheet(ws.title, merges=merges)
            ws.reset_dimensions()  # a wrong <dimension> would cut rows off in read-only mode
            for row in ws.iter_rows():
                for cell in row:
                    if not hasattr(cell, "row"):
                        continue  # EmptyCell padding
                    key = (cell.row - 1, cell.column - 1)
                    if cell.has_style and _boxed(cell.border):
                        sh.ruled.add(key)
                    v = cell.value
                    if v is None:
                        continue
                    if isinstance(v, str) and "_x" in v:  # read-only mode leaves inline strings escaped
                        v = _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), v)
                    t = cell_text(v, cell.number_format)
                    if t.strip(_BLANK):
                        sh.cells[key] = t
            sheets.append(sh)
    except ReportError:
        raise
    except Exception as exc:  # zipfile, XML and openpyxl errors all mean a corrupt workbook
        raise ReportError(f"corrupt workbook{where}: {type(exc).__name__}: {exc}", None) from None
    finally:
        if wb is not None:
            wb.close()
    return _render(sheets, artefacts)


# ---------------------------------------------------------------- .xls / .et (BIFF)

def read_xls(data: bytes) -> Rendered:
    if data.startswith(b"PK\x03\x04"):  # a WPS .et saved as OOXML
        return read_xlsx(data)
    if _ENCRYPTED_OOXML in data[:1 << 20] or _ENCRYPTED_OOXML in data[-(1 << 20):]:
        raise ReportError("encrypted workbook (password-protected): cannot be read", None)
    if len(data) > MAX_UNPACKED:
        raise ReportError(f"workbook larger than {MAX_UNPACKED >> 20} MB", None)
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True)
    except Exception as exc:
        reason = "encrypted workbook (password-protected)" if "encrypt" in str(exc).lower() else "corrupt workbook"
        raise ReportError(f"{reason}: {exc}", None) from None
    artefacts: Counter = Counter()
    sheets, total, where = [], 0, ""
    try:
        for i in range(book.nsheets):
            where = f" (sheet {i + 1})"
            ws = book.sheet_by_index(i)
            where = f" (sheet {ws.name!r})"
            if ws.visibility:
                artefacts["hidden_sheet"] += 1
                book.unload_sheet(i)
                continue
            total += ws.nrows * ws.ncols
            if total > MAX_CELLS:
                raise ReportError(f"workbook has more than {MAX_CELLS:,} cells (at sheet {ws.name!r})", None)
            sh = Sheet(ws.name, merges=[(a, c, b - 1, d - 1) for a, b, c, d in ws.merged_cells])
            for r in range(ws.nrows):
                for c, cell in enumerate(ws.row(r)):
                    xf = book.xf_list[cell.xf_index] if cell.xf_index is not None else None
                    b = xf.border if xf is not None else None
                    if b and bool(b.left_line_style) + bool(b.right_line_style) + bool(b.top_line_style) \
                            + bool(b.bottom_line_style) >= 2:
                        sh.ruled.add((r, c))
                    t = _xls_text(book, cell, xf)
                    if t.strip(_BLANK):
                        sh.cells[(r, c)] = t
            sheets.append(sh)
            book.unload_sheet(i)
    except ReportError:
        raise
    except Exception as exc:
        raise ReportError(f"corrupt workbook{where}: {type(exc).__name__}: {exc}", None) from None
    finally:
        book.release_resources()
    return _render(sheets, artefacts)


def _xls_text(book, cell, xf) -> str:
    import xlrd

    kind, v = cell.ctype, cell.value
    fmt = book.format_map[xf.format_key].format_str if xf is not None and xf.format_key in book.format_map else None
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(v, "#ERR")
    if kind == xlrd.XL_CELL_DATE:
        try:
            dt = xlrd.xldate.xldate_as_datetime(v, book.datemode)
            v = dt.time() if v < 1 else dt
        except Exception:  # before 1900 or out of range: Excel shows it as the number
            pass
    return cell_text(bool(v) if kind == xlrd.XL_CELL_BOOLEAN else v if kind not in (0, 6) else None, fmt)
