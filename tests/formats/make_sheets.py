"""Regenerate the spreadsheet fixtures: each sample's tables as the workbook a portal
publishes beside the report (附件 自评表.xlsx), and two of them as .xls via LibreOffice.

One sheet per table, named from its caption (附件1 …); above the table its caption lines as
merged, unruled title rows — on the first sheet the report's title (and 单位名称 line) first,
so the workbook says whose and which year it is; the table ruled with thin borders; Word's
merges as real merged ranges (a row shorter than the table spans its last cell to the right
edge; an empty cell under a cell of the same columns in the first three columns continues it
downwards); 填表人/说明 lines under it as unruled rows. A table with no caption of its own (a
continuation, or one inside the narrative) goes on the previous table's sheet after an empty
row. Numbers are numbers: "1234.56" a float shown with 0.00, "93.38%" 0.9338 with 0.00%,
and in one workbook (THOUSANDS) amounts of four digits and more with #,##0.00. A 填表说明 sheet
of prose ends each workbook; HIDDEN has a hidden template sheet too.

    .venv/bin/python -m tests.formats.make_sheets
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

from jixiao.model import Paragraph, TableBlock
from jixiao.parse.tika import read_tika

from .make_html import title_of

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "formats" / "xlsx"
OUT_XLS = ROOT / "tests" / "fixtures" / "formats" / "xls"
XLS_STEMS = ("000_b20a9b01b0d85700", "002_8bb91333aa9035c9")
THOUSANDS = "003_59381bf72cd59194"
HIDDEN = "000_b20a9b01b0d85700"
PLAIN = ("000_b20a9b01b0d85700", "001_7a3827d77ccb6050")  # also written without borders: <stem>.plain.xlsx
PAD = " \t\r\n\u3000\xa0"
NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?")
PERCENT = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?%")
TRAILING = re.compile(r"^(填表人|填报人|说明|注[:：]|备注|单位负责人)")
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
INSTRUCTIONS = [
    "填表说明",
    "1. 本表金额单位为万元，保留两位小数。",
    "2. 绩效指标按一级指标、二级指标、三级指标逐项填列，各项分值合计100分。",
    "3. 实际完成值与年度指标值有偏差的，应在偏差原因分析及改进措施栏说明原因。",
]


def caption_of(blocks: list, i: int, taken: set[int]) -> list[int]:
    """The title lines right above table ``i``: short lines, not prose, not another table's notes."""
    out: list[int] = []
    j = i - 1
    while j >= 0 and len(out) < 3 and isinstance(blocks[j], Paragraph) and j not in taken:
        t = blocks[j].text.strip(PAD)
        if not t or len(t) > 40 or t.endswith(("。", "；")) or TRAILING.match(t) \
                or t.endswith("：") and not t.startswith("附件"):
            break
        out.insert(0, j)
        if t.startswith("附件"):  # the caption starts at 附件N; above it is the narrative
            break
        j -= 1
    return out


def notes_of(blocks: list, i: int) -> list[int]:
    out, j = [], i + 1
    while j < len(blocks) and isinstance(blocks[j], Paragraph) and TRAILING.match(blocks[j].text.strip(PAD)):
        out.append(j)
        j += 1
    return out


def plan(text: str) -> list[dict]:
    """Sheets as {name, titles, parts: [(table, notes)]}."""
    blocks = read_tika(text).blocks
    sheets: list[dict] = []
    taken: set[int] = set()
    for i, b in enumerate(blocks):
        if not isinstance(b, TableBlock):
            continue
        cap = caption_of(blocks, i, taken)
        notes = notes_of(blocks, i)
        taken.update(notes)
        titles = [blocks[j].text.strip(PAD) for j in cap]
        if titles or not sheets:
            name = " ".join(titles[:2]) if titles else f"表{len(sheets) + 1}"
            sheets.append({"name": name, "titles": titles, "parts": []})
        sheets[-1]["parts"].append((b, [blocks[j].text.strip(PAD) for j in notes]))
    if sheets:  # whose report and which year: the report's title (and 单位名称 line) on top
        head = [title_of(text)]
        unit = next((p.text.strip(PAD) for p in blocks if isinstance(p, Paragraph)
                     and p.text.strip(PAD).startswith("单位名称")), None)
        sheets[0]["titles"] = head + ([unit] if unit else []) + sheets[0]["titles"]
    return sheets


def sheet_name(name: str, used: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", "", name).strip()[:31] or "表"
    base, n = name, 2
    while name in used:
        name = f"{base[:28]}({n})"
        n += 1
    used.add(name)
    return name


def value_of(text: str, thousands: bool):
    """A cell's text as a portal's workbook stores it: numbers as numbers with a format."""
    t = text.strip(PAD)
    if PERCENT.fullmatch(t):
        digits = t[:-1].partition(".")[2]
        return float(Decimal(t[:-1]) / 100), "0." + "0" * len(digits) + "%" if digits else "0%"
    if NUMBER.fullmatch(t):
        digits = t.partition(".")[2]
        if not digits:
            return int(t), "General"
        fmt = "0." + "0" * len(digits)
        if thousands and abs(float(t)) >= 1000 and len(digits) == 2:
            fmt = "#,##0.00"
        return float(t), fmt
    return text, None


def write_table(ws, top: int, tbk: TableBlock, width: int, thousands: bool, ruled: bool = True) -> int:
    rows = [[c.text for c in r.cells] for r in tbk.rows]
    pos = [[(k, 1 if k + 1 < len(r) else width - k) for k in range(len(r))] for r in rows]
    down: dict[tuple[int, int], int] = {}  # top cell → rows it spans
    anchor: dict[tuple[int, int], tuple[int, int]] = {}
    covered: set[tuple[int, int]] = set()
    for r in range(1, len(rows)):
        for k in range(min(3, len(rows[r]))):
            if rows[r][k].strip(PAD) or k >= len(rows[r - 1]) or pos[r][k] != pos[r - 1][k]:
                continue
            head = anchor.get((r - 1, k), (r - 1, k))
            down[head] = down.get(head, 1) + 1
            anchor[(r, k)] = head
            covered.add((r, k))
    for r, row in enumerate(rows):
        for k, text in enumerate(row):
            col, span = pos[r][k]
            if (r, k) not in covered:
                value, fmt = value_of(text, thousands)
                cell = ws.cell(top + r, col + 1, value if str(value).strip(PAD) else None)
                if fmt:
                    cell.number_format = fmt
                tall = down.get((r, k), 1)
                if span > 1 or tall > 1:
                    ws.merge_cells(start_row=top + r, start_column=col + 1,
                                   end_row=top + r + tall - 1, end_column=col + span)
    for r in range(len(rows)):
        for c in range(width):
            cell = ws.cell(top + r, c + 1)
            if ruled:
                cell.border = BOX
            cell.alignment = Alignment(wrap_text=True, vertical="center")
    return top + len(rows)


def line(ws, row: int, text: str, width: int, title: bool) -> None:
    cell = ws.cell(row, 1, text)
    if width > 1:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    cell.font = Font(bold=title, size=14 if title else 11)
    cell.alignment = Alignment(horizontal="center" if title else "left")


def workbook(stem: str, text: str, ruled: bool = True) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    for sheet in plan(text):
        ws = wb.create_sheet(sheet_name(sheet["name"], used))
        width = max(len(r.cells) for tbk, _ in sheet["parts"] for r in tbk.rows)
        row = 1
        for t in sheet["titles"]:
            line(ws, row, t, width, True)
            row += 1
        for n, (tbk, notes) in enumerate(sheet["parts"]):
            if n:
                row += 1  # an empty row between two tables of one sheet
            row = write_table(ws, row, tbk, width, stem == THOUSANDS, ruled)
            for t in notes:
                line(ws, row, t, width, False)
                row += 1
        for c in range(width):
            ws.column_dimensions[chr(65 + c)].width = 24 if c in (1, 3) else 14
    ws = wb.create_sheet("填表说明")
    for n, t in enumerate(INSTRUCTIONS, 1):
        ws.cell(n, 1, t)
    ws.column_dimensions["A"].width = 80
    if stem == HIDDEN:
        ws = wb.create_sheet("模板")
        ws.sheet_state = "hidden"
        ws["A1"], ws["B1"] = "模板数据", "请勿删除"
    return wb


def to_xls(path: Path) -> None:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        print("soffice not found: the .xls fixtures are not regenerated")
        return
    OUT_XLS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([exe, "--headless", f"-env:UserInstallation={Path(tmp, 'profile').as_uri()}",
                        "--convert-to", "xls", "--outdir", tmp, str(path)], check=True, capture_output=True)
        shutil.copyfile(Path(tmp) / (path.stem + ".xls"), OUT_XLS / (path.stem + ".xls"))
    print(f"{path.stem}.xls")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "reports").glob("*.txt")):
        out = OUT / f"{path.stem}.xlsx"
        wb = workbook(path.stem, path.read_text("utf-8"))
        wb.save(out)
        print(f"{out.name}: {', '.join(wb.sheetnames)}")
        if path.stem in XLS_STEMS:
            to_xls(out)
        if path.stem in PLAIN:  # a form laid out without cell borders: found by content alone
            workbook(path.stem, path.read_text("utf-8"), ruled=False).save(OUT / f"{path.stem}.plain.xlsx")


if __name__ == "__main__":
    main()
