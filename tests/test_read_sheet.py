"""Spreadsheets (.xlsx via openpyxl, .xls via xlrd): read into the canonical layout and
measured against gold on the tables (a workbook has no narrative).

The fixtures (tests/formats/make_sheets.py) hold each sample's tables as a portal's 自评表
workbook: one sheet per table under merged title rows, Word's merges as merged ranges,
numbers stored as numbers with 0.00 / 0.00% / #,##0.00 formats, a 填表说明 sheet; two are
LibreOffice's .xls of the same, two are laid out without borders.
"""
from __future__ import annotations

import io
import re
import time
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.styles import Border, Side

from jixiao.errors import ReportError
from jixiao.model import Paragraph, TableBlock
from jixiao.parse import parse_bytes
from jixiao.parse.tika import read_tika
from jixiao.read import sheet as sheet_reader
from jixiao.read.sheet import date_text, number_text, read_xls, read_xlsx

from .formats.goldcheck import measure, sample_of
from .formats.make_sheets import THOUSANDS

ROOT = Path(__file__).resolve().parent.parent
DIR = ROOT / "tests" / "fixtures" / "formats"
FIXTURES = sorted((DIR / "xlsx").glob("*.xlsx")) + sorted((DIR / "xls").glob("*.xls"))
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def _read(path: Path):
    data = path.read_bytes()
    return read_xls(data) if path.suffix == ".xls" else read_xlsx(data)


def _squash(s: str) -> str:
    return re.sub(r"[\s\u3000\xa0]+", "", s)


def _tables(text: str) -> list[list[list[str]]]:
    return [[[_squash(c.text) for c in r.cells] for r in b.rows] for b in read_tika(text).blocks
            if isinstance(b, TableBlock)]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_sheet_matches_gold(path: Path) -> None:
    report = parse_bytes(path.read_bytes(), source=path.name)
    tally = measure(report, sample_of(path.name), scope="tables")
    right = tally.checked - len(tally.mismatches)
    print(f"{path.name}: {right}/{tally.checked} gold fields ({100 * right / tally.checked:.1f} %)")
    assert report.source_format == path.suffix[1:]
    assert right / tally.checked >= 0.97, tally.mismatches
    assert tally.mismatches == []
    assert report.unit_name and report.fiscal_year


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_grids_are_the_tika_ones(path: Path) -> None:
    """Merged ranges resolve to the very grid Tika wrote for the .docx; numbers read back as
    the text they were (0.9338 under 0.00% is 93.38%). Without borders a table's trailing
    one-cell and empty rows are read as lines under it, as a reader of the sheet would."""
    stem = path.name.split(".")[0]
    got = _tables(_read(path).text)
    want = _tables((ROOT / "reports" / f"{stem}.txt").read_text("utf-8"))
    if stem == THOUSANDS:
        got = [[[c.replace(",", "") for c in r] for r in t] for t in got]
    if ".plain." in path.name:
        for t in want:
            while t and sum(1 for c in t[-1] if c) <= 1:
                t.pop()
    assert got == want


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_titles_notes_and_instructions_are_paragraphs(path: Path) -> None:
    r = _read(path)
    paras = [b.text for b in read_tika(r.text).blocks if isinstance(b, Paragraph)]
    assert paras[0].endswith("报告")  # the report's title, first row of the first sheet
    assert any(re.match(r"附件\s*\d", p) for p in paras) or path.name.startswith("004")
    assert paras[-4:] == ["填表说明", "1. 本表金额单位为万元，保留两位小数。",
                          "2. 绩效指标按一级指标、二级指标、三级指标逐项填列，各项分值合计100分。",
                          "3. 实际完成值与年度指标值有偏差的，应在偏差原因分析及改进措施栏说明原因。"]
    assert "模板数据" not in r.text  # the hidden sheet
    assert r.artefacts["hidden_sheet"] == (1 if path.name.startswith("000") else 0)


def test_thousands_separators_as_displayed() -> None:
    text = _read(DIR / "xlsx" / f"{THOUSANDS}.xlsx").text
    assert "\t1,971.59\n" in text and "\t1,922.75\n" in text
    report = parse_bytes((DIR / "xlsx" / f"{THOUSANDS}.xlsx").read_bytes(), source=f"{THOUSANDS}.xlsx")
    assert report.unparsed == []


@pytest.mark.parametrize("value,fmt,shown", [
    (0.9338, "0.00%", "93.38%"), (0.9338, "0%", "93%"), (1, "0%", "100%"), (0.005, "0.0%", "0.5%"),
    (1234.5, "#,##0.00", "1,234.50"), (1234567, "#,##0", "1,234,567"), (-1234.5, "#,##0.00", "-1,234.50"),
    (-1234.5, "#,##0.00_);[Red](#,##0.00)", "(1,234.50)"), (12.0, None, "12"), (12.0, "General", "12"),
    (12.0, "0.00", "12.00"), (12, "0.000", "12.000"), (0.1 + 0.2, None, "0.3"), (0.1 + 0.2, "0.00", "0.30"),
    (1 / 3, None, "0.3333333333"), (2.675, "0.00", "2.68"), (12.5, '0.00"万元"', "12.50万元"),
    (1234.5, "¥#,##0.00", "¥1,234.50"), (0, '0.00;-0.00;"-"', "-"), (0.5, "#.##", ".5"), (3.0, "0.##", "3"),
    (1e-05, None, "0.00001"), (12345678901234.0, None, "12345678901234"), (1.5, "@", "1.5"),
    (-0.001, "0.00", "0.00"), (1234.5, "#,##0.00_ ", "1,234.50"),
])
def test_number_as_displayed(value, fmt, shown) -> None:
    assert number_text(value, fmt) == shown


def test_dates_as_displayed() -> None:
    d = datetime(2024, 6, 8)
    assert date_text(d, "yyyy-mm-dd") == "2024-06-08"
    assert date_text(d, "m/d/yy") == "2024-06-08"
    assert date_text(d, 'yyyy"年"m"月"d"日"') == "2024年6月8日"
    assert date_text(d, 'yyyy"年"mm"月"dd"日"') == "2024年06月08日"
    assert date_text(d, '[$-804]yyyy"年"m"月"') == "2024年6月"
    assert date_text(datetime(2024, 6, 8, 9, 30), "yyyy-mm-dd hh:mm") == "2024-06-08 09:30"


def _book() -> Workbook:
    """A small form: two title rows, a ruled table with merges and formats, a note under it,
    a second table after an empty row, a prose sheet, a hidden sheet and an empty one."""
    wb = Workbook()
    ws = wb.active
    ws.title = "附件3 项目支出绩效自评表"
    ws["A1"] = "2023年度项目支出绩效自评表"
    ws.merge_cells("A1:E1")
    ws["E2"] = "金额单位：万元"
    rows = [["一级指标", "二级指标", "三级指标", "指标值", "完成率"],
            ["产出指标", "数量指标", "办案数", 300, 0.9338],
            [None, None, "培训人次", 1234.5, 1],
            [None, "质量指标", "满意度", True, datetime(2024, 6, 28)],
            ["总分", None, None, None, 99]]
    for r, row in enumerate(rows, 3):
        for c, v in enumerate(row, 1):
            cell = ws.cell(r, c, v)
            cell.border = BOX
    ws["E4"].number_format = "0.00%"
    ws["E5"].number_format = "0%"
    ws["D5"].number_format = "#,##0.00"
    ws["E6"].number_format = 'yyyy"年"m"月"d"日"'
    ws.merge_cells("A4:A6")
    ws.merge_cells("B4:B5")
    ws.merge_cells("A7:D7")
    ws["A8"] = "填表人：张三"
    ws["A10"], ws["B10"] = "项目", "金额"
    ws["A11"], ws["B11"] = "合计", "=1+2"
    ws["A12"], ws["B12"] = "其中", "=3+4"
    for row in ws["A10:B12"]:
        for cell in row:
            cell.border = BOX
    notes = wb.create_sheet("填表说明")
    notes["A1"] = "填表说明"
    notes["A2"] = "1. 金额保留两位小数。"
    hidden = wb.create_sheet("模板")
    hidden["A1"] = "隐藏的模板"
    hidden.sheet_state = "hidden"
    wb.create_sheet("Sheet3")
    return wb


def _bytes(wb: Workbook, cached: dict[str, str] | None = None) -> bytes:
    """The workbook's bytes; ``cached`` gives formula cells the value Excel would have saved."""
    buf = io.BytesIO()
    wb.save(buf)
    if not cached:
        return buf.getvalue()
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                for ref, v in cached.items():
                    data = re.sub(rf'(<c r="{ref}"[^>]*>\s*<f>[^<]*</f>)(<v\s*/>|<v></v>)?'.encode(),
                                  lambda m: m.group(1) + f"<v>{v}</v>".encode(), data)
            dst.writestr(info, data)
    return out.getvalue()


def test_small_form_reads_as_a_portal_shows_it() -> None:
    r = read_xlsx(_bytes(_book(), {"B11": "3"}))
    assert r.text == (
        "2023年度项目支出绩效自评表\n金额单位：万元\n"
        "\t一级指标\n\t二级指标\n\t三级指标\n\t指标值\n\t完成率\n\n"
        "\t产出指标\n\t数量指标\n\t办案数\n\t300\n\t93.38%\n\n"
        "\t\n\t\n\t培训人次\n\t1,234.50\n\t100%\n\n"
        "\t\n\t质量指标\n\t满意度\n\tTRUE\n\t2024年6月28日\n\n"
        "\t总分\n\t99\n\n\n"
        "填表人：张三\n"
        "\t项目\n\t金额\n\n\t合计\n\t3\n\n\t其中\n\t\n\n\n"
        "填表说明\n1. 金额保留两位小数。\n")
    assert r.artefacts["formula_without_value"] == 1  # B12: saved without a value; never "=3+4"
    assert r.artefacts["hidden_sheet"] == 1 and r.artefacts["empty_sheet"] == 1


def test_tables_split_by_an_empty_row_stay_two_tables() -> None:
    wb = _book()
    del wb["附件3 项目支出绩效自评表"]["A8"]  # no note between the tables: only an empty row
    tables = [b for b in read_tika(read_xlsx(_bytes(wb)).text).blocks if isinstance(b, TableBlock)]
    assert [len(t.rows) for t in tables] == [5, 3]


def test_a_sheet_without_borders_is_read_by_content() -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["2023年度部门整体支出绩效自评表"])
    ws.append(["单位名称：某局", None, None, "金额单位：万元"])
    ws.append(["项目", "预算数", "执行数", "执行率"])
    ws.append(["合计", 100, 93.38, 0.9338])
    ws["D4"].number_format = "0.00%"
    ws.append(["说明：本表据决算填列。"])
    r = read_xlsx(_bytes(wb))
    assert r.text == ("2023年度部门整体支出绩效自评表\n单位名称：某局 金额单位：万元\n"
                      "\t项目\n\t预算数\n\t执行数\n\t执行率\n\n\t合计\n\t100\n\t93.38\n\t93.38%\n\n\n"
                      "说明：本表据决算填列。\n")


def test_an_instructions_sheet_is_prose() -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "填表说明"
    for t in ["填表说明", "一、本表由预算单位填报。", "二、金额单位为万元。"]:
        ws.append([t])
    r = read_xlsx(_bytes(wb))
    assert r.text == "填表说明\n一、本表由预算单位填报。\n二、金额单位为万元。\n"


def test_et_is_read_by_content() -> None:
    xls = (DIR / "xls" / "000_b20a9b01b0d85700.xls").read_bytes()
    xlsx = (DIR / "xlsx" / "000_b20a9b01b0d85700.xlsx").read_bytes()
    assert read_xlsx(xls).text == read_xls(xls).text  # BIFF behind an OOXML name
    assert read_xls(xlsx).text == read_xlsx(xlsx).text  # a WPS .et saved as OOXML
    assert parse_bytes(xls, source="附件.et").source_format == "xls"
    assert parse_bytes(xlsx, source="附件.et").source_format == "xlsx"


@pytest.mark.parametrize("data,why", [
    ((DIR / "xlsx" / "000_b20a9b01b0d85700.xlsx").read_bytes()[:5000], "corrupt workbook"),
    (b"PK\x03\x04" + b"\x00" * 200, "corrupt workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "corrupt workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 600, "encrypted"),
])
def test_bad_workbooks_raise(data: bytes, why: str) -> None:
    reader = read_xls if data.startswith(b"\xd0") else read_xlsx
    with pytest.raises(ReportError) as err:
        reader(data)
    assert why in err.value.reason and err.value.line is None


def test_bad_workbook_through_the_parser() -> None:
    data = (DIR / "xlsx" / "000_b20a9b01b0d85700.xlsx").read_bytes()[:5000]
    with pytest.raises(ReportError):
        parse_bytes(data, source="附件1.xlsx")


def test_zip_without_a_workbook_and_empty_workbooks_raise() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    with pytest.raises(ReportError, match="xl/workbook.xml"):
        read_xlsx(buf.getvalue())
    with pytest.raises(ReportError, match="no cells"):
        read_xlsx(_bytes(Workbook()))


def test_too_many_cells_is_refused_before_reading(monkeypatch) -> None:
    monkeypatch.setattr(sheet_reader, "MAX_CELLS", 20)
    with pytest.raises(ReportError, match="more than 20 cells"):
        read_xlsx(_bytes(_book()))
    monkeypatch.setattr(sheet_reader, "MAX_CELLS", 10)
    with pytest.raises(ReportError, match="more than 10 cells"):
        read_xls((DIR / "xls" / "002_8bb91333aa9035c9.xls").read_bytes())


def test_unpacked_size_is_bounded(monkeypatch) -> None:
    monkeypatch.setattr(sheet_reader, "MAX_UNPACKED", 1000)
    with pytest.raises(ReportError, match="unpacks to more than"):
        read_xlsx(_bytes(_book()))


def test_escaped_carriage_returns_are_line_breaks() -> None:
    """Excel and WPS write a cell's CR as _x000D_; it is a line break, not text."""
    wb = Workbook()
    wb.active["A1"], wb.active["B1"] = "项目支\r\n出名称", "x"
    src = zipfile.ZipFile(io.BytesIO(_bytes(wb)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename).replace(b"&#13;", b"_x000D_"))
    assert read_xlsx(out.getvalue()).text == "\t项目支\n出名称\n\tx\n\n\n"


def test_a_merge_of_whole_columns_costs_only_the_used_range() -> None:
    """Excel writes such a merge as one <mergeCell> element; it is clipped to the used range."""
    wb = Workbook()
    ws = wb.active
    ws["A1"], ws["B1"], ws["B2"], ws["D2"] = "标题", "项目", "金额", "远处"
    ws.merge_cells("A1:A2")
    src = zipfile.ZipFile(io.BytesIO(_bytes(wb)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename).replace(b'ref="A1:A2"', b'ref="A1:A1048576"'))
    start = time.perf_counter()
    r = read_xlsx(out.getvalue())
    assert time.perf_counter() - start < 2
    assert r.text == "\t标题\n\t项目\n\t\n\t\n\n\t\n\t金额\n\t\n\t远处\n\n\n"
