"""The .docx reader gives the same model as the Tika text of the same document.

Each test writes a real .docx with python-docx from a sample's Tika text: body paragraphs
(empty ones included), tables whose cells hold the same paragraphs, Word's real merges —
vertical merges (w:vMerge) where Tika shows an empty continuation cell under 绩效指标 /
一级指标 / 二级指标 and the like, horizontal merges (w:gridSpan) where a row has fewer cells
than the table is wide (the 总分 row) — and bookmarks where Tika printed ``[bookmark: …]``.
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.table import _Cell

from jixiao.cli import cli
from jixiao.errors import ReportError
from jixiao.model import TableBlock
from jixiao.parse import parse_docx_bytes, parse_text
from jixiao.parse.docx import read_docx
from jixiao.parse.tika import read_tika

from .bad_inputs.make_corpus import zip_bytes

REPORTS = Path(__file__).resolve().parent.parent / "reports"
# 004 is left out: its text cannot come from Tika's .docx extractor, which always writes a
# blank line after a table's last row and another after the table; in 004 a table is followed
# at once by a paragraph (lines 463/464, 596/597), so no .docx renders to that text.
SAMPLES = [p for p in sorted(REPORTS.glob("*.txt")) if not p.name.startswith("004_")]
FORMAT_KEYS = ("source_sha256", "source_format", "encoding", "source_file", "parts")
_BOOKMARKS = re.compile(r"^((?:\[bookmark: [^\]]*\])+)(.*)$")


# ---------------------------------------------------------------- writing a .docx from Tika text


def _fill_paragraph(p, line: str, ids: list[int]) -> None:
    """Tika prints a paragraph's bookmarks first, then its text: write them back that way."""
    m = _BOOKMARKS.match(line)
    text = line
    if m:
        for name in re.findall(r"\[bookmark: ([^\]]*)\]", m.group(1)):
            ids[0] += 1
            start = OxmlElement("w:bookmarkStart")
            start.set(qn("w:id"), str(ids[0]))
            start.set(qn("w:name"), name)
            end = OxmlElement("w:bookmarkEnd")
            end.set(qn("w:id"), str(ids[0]))
            p._p.append(start)
            p._p.append(end)
        text = m.group(2)
    if text:
        p.add_run(text)


def _table_layout(tbk: TableBlock, lines: list[str]) -> list[list[list[str]]]:
    """Rows → cells → the cell's paragraphs, read back from the Tika lines.

    A cell runs from its TAB line to the line before the next cell; the last cell of a row
    ends before the blank line that closes the row (blank lines before that one are empty
    paragraphs of the cell, which is how Tika splits a row at an empty paragraph).
    """
    rows = tbk.rows
    out = []
    for r, row in enumerate(rows):
        cells = []
        for k, cell in enumerate(row.cells):
            if k + 1 < len(row.cells):
                end = row.cells[k + 1].line - 1
            elif r + 1 < len(rows):
                end = rows[r + 1].line - 2
                assert lines[end] == "", "a row ends with a blank line"
            else:
                end = cell.line_end
            paras = lines[cell.line - 1:end]
            assert paras[0].startswith("\t")
            cells.append([paras[0][1:], *paras[1:]])
        out.append(cells)
    return out


def _add_table(document, layout: list[list[list[str]]], ids: list[int]):
    """A table with the layout's cells, merged the way Word merges them."""
    width = max(len(r) for r in layout)
    table = document.add_table(rows=len(layout), cols=width)
    spans: list[list[tuple[int, int]]] = []  # (first grid column, span) of each cell
    for r, cells in enumerate(layout):
        extra = width - len(cells)
        if extra:  # a row with fewer cells: its first cell spans the missing columns
            table.cell(r, 0).merge(table.cell(r, extra))
        pos, col = [], 0
        for k in range(len(cells)):
            span = 1 + extra if k == 0 else 1
            pos.append((col, span))
            col += span
        spans.append(pos)
    # Vertical merges: an empty single-paragraph cell in the first three grid columns, under a
    # cell with the same columns, continues that cell (绩效指标 / 一级指标 / 二级指标).
    continued: set[tuple[int, int]] = set()
    for k_col in range(3):
        r = 1
        while r < len(layout):
            def at(row: int):
                return next((k for k, (c, _) in enumerate(spans[row]) if c == k_col), None)
            k_up, k = at(r - 1), at(r)
            if (k is None or k_up is None or spans[r][k] != spans[r - 1][k_up]
                    or layout[r][k] != [""]):
                r += 1
                continue
            top, bottom = r - 1, r
            while bottom + 1 < len(layout):
                kb = at(bottom + 1)
                if kb is None or spans[bottom + 1][kb] != spans[r][k] or layout[bottom + 1][kb] != [""]:
                    break
                bottom += 1
            c0, span = spans[r][k]
            table.cell(top, c0).merge(table.cell(bottom, c0 + span - 1))
            for rr in range(top + 1, bottom + 1):
                continued.add((rr, at(rr)))
            r = bottom + 1
    for r, cells in enumerate(layout):
        tcs = table.rows[r]._tr.tc_lst
        assert len(tcs) == len(cells)
        for k, (tc, paras) in enumerate(zip(tcs, cells)):
            cell = _Cell(tc, table)
            if (r, k) in continued:
                assert paras == [""] and len(cell.paragraphs) == 1
                continue
            _fill_paragraph(cell.paragraphs[0], paras[0], ids)
            for line in paras[1:]:
                _fill_paragraph(cell.add_paragraph(), line, ids)
    return table, continued


def docx_from_tika(text: str) -> tuple[bytes, dict]:
    """A .docx whose Tika rendering is ``text``; also what merges it holds."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    tables = {b.line_start: b for b in read_tika(text).blocks if isinstance(b, TableBlock)}
    document = docx.Document()
    ids = [0]
    stats = {"vmerge": 0, "gridspan": 0, "tables": 0}
    i = 0
    while i < len(lines):
        tbk = tables.get(i + 1)
        if tbk is None:
            _fill_paragraph(document.add_paragraph(), lines[i], ids)
            i += 1
            continue
        layout = _table_layout(tbk, lines)
        table, continued = _add_table(document, layout, ids)
        stats["tables"] += 1
        stats["vmerge"] += len(continued)
        stats["gridspan"] += sum(1 for cells in layout if len(cells) < max(map(len, layout)))
        # </tr> and </table> each end a line after the last cell.
        i = tbk.line_end + 2
        assert lines[i - 2] == "" and lines[i - 1] == ""
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue(), stats


def _model(report) -> dict:
    d = report.to_dict()
    for k in FORMAT_KEYS:
        d.pop(k)
    return d


# ---------------------------------------------------------------- the same model


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_docx_gives_the_same_model_as_its_tika_text(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    data, stats = docx_from_tika(text)
    assert stats["tables"] >= 2 and stats["vmerge"] > 0 and stats["gridspan"] > 0

    # The .docx really holds Word's merges, as a reader of the XML sees them.
    body = docx.Document(io.BytesIO(data)).element.body
    assert body.findall(".//" + qn("w:vMerge")) and body.findall(".//" + qn("w:gridSpan"))

    blocks = read_docx(data)
    expected_lines = text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
    assert blocks.lines == expected_lines  # Tika's text of this .docx is the sample
    assert blocks.n_lines == len(expected_lines)

    tika = read_tika(text)
    assert blocks.artefacts == tika.artefacts
    assert blocks.artefact_lines == tika.artefact_lines

    got = parse_docx_bytes(data, source="report.docx")
    want = parse_text(text, source="report.txt")
    assert got.source_format == "docx" and want.source_format == "tika-text"
    assert _model(got) == _model(want)


def test_docx_knows_rows_that_tika_text_cannot_tell_apart() -> None:
    """An empty paragraph in a cell is a blank line in Tika text, like a row end; not in a .docx."""
    document = docx.Document()
    document.add_paragraph("表格")
    table = document.add_table(rows=2, cols=3)
    for k, t in enumerate(["项目", "金额", "说明"]):
        table.cell(0, k).text = t
    table.cell(1, 0).text = "甲"
    table.cell(1, 0).add_paragraph("")  # an empty paragraph inside the cell
    table.cell(1, 0).add_paragraph("")
    table.cell(1, 1).text = "12"
    table.cell(1, 2).text = "备注"
    table.cell(1, 2).add_paragraph("第二段")
    buf = io.BytesIO()
    document.save(buf)
    blocks = read_docx(buf.getvalue())
    assert blocks.lines == ["表格", "\t项目", "\t金额", "\t说明", "", "\t甲", "", "", "\t12", "\t备注", "第二段", "", ""]
    (tbk,) = [b for b in blocks.blocks if isinstance(b, TableBlock)]
    assert [[c.text for c in r.cells] for r in tbk.rows] == [["项目", "金额", "说明"], ["甲", "12", "备注\n第二段"]]
    assert [(c.line, c.line_end) for c in tbk.rows[1].cells] == [(6, 6), (9, 9), (10, 11)]
    assert (tbk.line_start, tbk.line_end) == (2, 11)


def test_merged_cells_and_nested_tables() -> None:
    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).text = "总分"
    table.cell(0, 0).merge(table.cell(0, 1))  # gridSpan: one cell
    table.cell(0, 2).text = "100"
    table.cell(1, 0).text = "产出指标"
    top = table.cell(1, 0)
    table.cell(2, 0).text = "stale text Word no longer shows"
    tc = table.rows[2]._tr.tc_lst[0]
    pr = tc.get_or_add_tcPr()
    vm = OxmlElement("w:vMerge")  # continuation, the way Word writes it (no w:val)
    pr.append(vm)
    top._tc.get_or_add_tcPr().append(OxmlElement("w:vMerge"))
    top._tc.tcPr[-1].set(qn("w:val"), "restart")
    table.cell(1, 1).text = "a"
    nested = table.cell(1, 2).add_table(rows=1, cols=2)
    nested.cell(0, 0).text = "内"
    nested.cell(0, 1).text = "表"
    buf = io.BytesIO()
    document.save(buf)
    blocks = read_docx(buf.getvalue())
    (tbk,) = blocks.blocks
    texts = [[c.text for c in r.cells] for r in tbk.rows]
    assert texts[0] == ["总分", "100"]
    assert texts[2][0] == ""  # the merged-away cell is empty, as Word shows it
    assert texts[1][2].split("\n")[-2:] == ["内", "表"]  # the nested table's text stays in its cell
    # Line layout as Tika writes it: nested cells on TAB lines, a blank line after each row.
    assert blocks.lines[:3] == ["\t总分", "\t100", ""]
    assert blocks.lines[3:11] == ["\t产出指标", "\ta", "\t", "\t内", "\t表", "", "", ""]
    assert (tbk.rows[1].cells[2].line, tbk.rows[1].cells[2].line_end) == (6, 8)
    assert blocks.n_lines == len(blocks.lines)


def test_cells_without_a_paragraph_share_a_line_as_in_tika() -> None:
    """A w:tc with no w:p (some generators write them): Tika writes its TAB and no newline."""
    document = docx.Document()
    table = document.add_table(rows=1, cols=4)
    tcs = table.rows[0]._tr.tc_lst
    for tc in tcs[:2]:
        for p in tc.findall(qn("w:p")):
            tc.remove(p)
    table.cell(0, 3).text = "项目"
    buf = io.BytesIO()
    document.save(buf)
    blocks = read_docx(buf.getvalue())
    assert blocks.lines == ["\t\t\t", "\t项目", "", ""]
    (tbk,) = blocks.blocks
    assert [(c.text, c.line) for c in tbk.rows[0].cells] == [("", 1), ("", 1), ("", 1), ("项目", 2)]


# ---------------------------------------------------------------- broken input




def _good_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("2023年度某区司法局整体支出绩效自评报告")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _as_spreadsheet(data: bytes) -> bytes:
    """The same package, but its main part declared as a spreadsheet (an .xlsx named .docx)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        ct = z.read("[Content_Types].xml")
    ct = ct.replace(b"wordprocessingml.document.main+xml", b"spreadsheetml.sheet.main+xml")
    return _without(data, "[Content_Types].xml", ct)


def _without(data: bytes, name: str, replace: bytes | None = None) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        files = {n: z.read(n) for n in z.namelist() if n != name}
    if replace is not None:
        files[name] = replace
    return zip_bytes(files)


@pytest.mark.parametrize("data, reason", [
    (b"", "empty"),
    ("一、部门基本情况".encode(), "not a zip"),
    (_good_docx()[:1500], "zip archive cannot be read"),
    (zip_bytes({"readme.txt": "不是Word文档".encode(), "pic.png": b"\x89PNG\r\n"}), "[Content_Types].xml"),
    (_without(_good_docx(), "word/document.xml"), "word/document.xml"),
    (_without(_good_docx(), "word/document.xml", b"<w:document"), "XML parts cannot be read"),
    (_as_spreadsheet(_good_docx()), "not a Word file"),
], ids=["empty", "text", "truncated", "zip_of_other", "no_document_xml", "broken_xml", "spreadsheet"])
def test_corrupt_docx_raises_report_error(data: bytes, reason: str) -> None:
    with pytest.raises(ReportError) as err:
        parse_docx_bytes(data)
    assert reason in err.value.reason
    assert err.value.line in (None, 1)


def test_bit_flipped_docx_raises_report_error() -> None:
    good = bytearray(_good_docx())
    for k in range(200, len(good) - 200, 97):
        good[k] ^= 0x5A
    with pytest.raises(ReportError):
        parse_docx_bytes(bytes(good))


# ---------------------------------------------------------------- the command line


def test_cli_parses_a_docx(tmp_path: Path) -> None:
    text = (REPORTS / "000_b20a9b01b0d85700.txt").read_text(encoding="utf-8")
    data, _ = docx_from_tika(text)
    path = tmp_path / "岳阳市司法局 自评报告.docx"
    path.write_bytes(data)
    runner = CliRunner()
    res = runner.invoke(cli, ["parse", str(path), "--json"])
    assert res.exit_code == 0, res.output
    import json

    out = json.loads(res.stdout)
    want = parse_text(text).to_dict()
    assert out["source_format"] == "docx" and out["encoding"] == "docx"
    assert out["source_file"] == path.name
    assert {k: v for k, v in out.items() if k not in FORMAT_KEYS} == {
        k: v for k, v in want.items() if k not in FORMAT_KEYS}
    res = runner.invoke(cli, ["parse", str(path)])
    assert res.exit_code == 0 and "2024-岳阳市司法局" in res.stdout


def test_cli_reports_a_corrupt_docx(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(zip_bytes({"readme.txt": b"hello"}))
    res = CliRunner().invoke(cli, ["parse", str(path)])
    assert res.exit_code == 1
    assert "error:" in res.stderr and "broken.docx" in res.stderr and "Traceback" not in res.output


def test_headers_and_footers_where_tika_writes_them() -> None:
    """Tika writes the section's header before the body and its footer after it."""
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "岳阳市司法局"
    document.sections[0].footer.paragraphs[0].text = "- 1 -"
    document.add_paragraph("正文")
    buf = io.BytesIO()
    document.save(buf)
    blocks = read_docx(buf.getvalue())
    assert blocks.lines == ["岳阳市司法局", "正文", "- 1 -"]
    assert [(b.text, b.line) for b in blocks.blocks] == [("岳阳市司法局", 1), ("正文", 2), ("- 1 -", 3)]
