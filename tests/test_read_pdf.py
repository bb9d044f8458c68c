"""PDF with a text layer (LibreOffice export of the sample .docx files, ruled tables, page
numbers and a running header): read by jixiao.read.pdf and measured against gold."""
from __future__ import annotations

import io
import re
import sys
import time
import types
from pathlib import Path

import pdfplumber
import pytest
from PIL import Image, ImageDraw

from jixiao.errors import ReportError
from jixiao.model import Paragraph, TableBlock
from jixiao.parse import parse_bytes
from jixiao.parse.tika import read_tika
from jixiao.read import pdf as pdf_reader
from jixiao.read.layout import Para
from jixiao.read.pdf import fix_spaces, read_pdf

from .formats.goldcheck import measure, sample_of

HERE = Path(__file__).parent
DIR = HERE / "fixtures" / "formats" / "pdf"
FIXTURES = sorted(p for p in DIR.glob("*.pdf") if re.match(r"\d{3}_", p.name))
SAMPLES = HERE.parent / "reports"


def _n_pages(data: bytes) -> int:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return len(pdf.pages)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_pdf_matches_gold(path: Path) -> None:
    data = path.read_bytes()
    start = time.perf_counter()
    report = parse_bytes(data, source=path.name)
    secs = time.perf_counter() - start
    tally = measure(report, sample_of(path.name))
    matched = tally.checked - len(tally.mismatches)
    pages = _n_pages(data)
    print(f"{path.name}: {matched}/{tally.checked} gold fields ({100 * matched / tally.checked:.1f} %), "
          f"{pages} pages, {secs / pages:.3f} s/page")
    assert report.source_format == "pdf"
    assert matched >= 0.97 * tally.checked, tally.mismatches
    assert report.unparsed == []


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_line_pages_map_every_line_to_its_page(path: Path) -> None:
    data = path.read_bytes()
    report = parse_bytes(data, source=path.name)
    lines = report.source_text.split("\n")[:-1]
    assert len(report.line_pages) == len(lines)
    pages = [p for p in report.line_pages if p is not None]
    assert pages == sorted(pages) and pages[0] == 1
    assert pages[-1] == _n_pages(data) or pages[-1] == _n_pages(data) - 1  # a last page may hold only chrome
    # each paragraph line starts on the page it says
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        texts = [re.sub(r"\s", "", page.extract_text() or "") for page in pdf.pages]
    paragraphs = [(b.text, report.line_pages[b.line - 1]) for b in read_tika(report.source_text).blocks
                  if isinstance(b, Paragraph)]
    for s, p in paragraphs[:: max(1, len(paragraphs) // 25)]:
        assert re.sub(r"\s", "", s)[:8] in texts[p - 1], (s, p)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_same_tables_as_tika_and_chrome_dropped(path: Path) -> None:
    """Tables crossing pages come back as one table each: as many as Tika finds in the .docx."""
    data = path.read_bytes()
    r = read_pdf(data)
    tika = read_tika((SAMPLES / f"{path.stem}.txt").read_text("utf-8"))
    ours = read_tika(r.text)
    count = lambda b: sum(isinstance(x, TableBlock) for x in b.blocks)  # noqa: E731
    assert count(ours) == count(tika)
    pages = _n_pages(data)
    assert r.artefacts["page_number"] == pages
    assert r.artefacts["running_header"] == pages
    assert "公开版" not in r.text
    assert not re.search(r"^- ?\d+ ?-$", r.text, re.M)


def test_headings_and_title_stay_their_own_lines() -> None:
    text = read_pdf((DIR / "000_b20a9b01b0d85700.pdf").read_bytes()).text
    lines = text.split("\n")
    assert lines[:2] == ["2024年度岳阳市司法局部门整体支出", "绩效自评报告"]
    for heading in ("一、基本情况", "（一）部门基本情况", "1、专项资金安排落实、总投入等情况分析", "二、一般公共预算支出情况"):
        assert heading in lines
    # a wrapped paragraph is one line again
    assert any(s.startswith("岳阳市司法局主要工作职能") and s.endswith("人员编制88人、实有人数76人。") for s in lines)


def test_spaces_inside_chinese_text_are_removed() -> None:
    r = read_pdf((DIR / "spacing.pdf").read_bytes())
    assert r.text.split("\n")[:3] == ["2024年度部门整体支出绩效自评报告", "全年预算803.74万元，执行率93.38%。",
                                      "Hello World 2024 and GDP 5.2"]
    assert fix_spaces("绩 效 2024 年 803.74 万元 Hello World 1 2") == "绩效2024年803.74万元 Hello World 1 2"


def test_encrypted_pdf_is_one_clear_error() -> None:
    with pytest.raises(ReportError) as exc:
        parse_bytes((DIR / "encrypted.pdf").read_bytes(), source="locked.pdf")
    assert "encrypted" in exc.value.reason


@pytest.mark.parametrize("data", [b"%PDF-1.4\n" + b"\x00garbage" * 500,
                                  (DIR / "002_8bb91333aa9035c9.pdf").read_bytes()[:3000]], ids=["garbage", "truncated"])
def test_corrupt_pdf_is_one_clear_error(data: bytes) -> None:
    with pytest.raises(ReportError) as exc:
        parse_bytes(data, source="broken.pdf")
    assert any(why in exc.value.reason for why in ("not a readable PDF", "no pages", "page 1:", "no text"))


def test_zero_pages_and_too_many_pages(monkeypatch) -> None:
    empty = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
             b"trailer<</Root 1 0 R>>\n%%EOF\n")
    with pytest.raises(ReportError) as exc:
        read_pdf(empty)
    assert "no pages" in exc.value.reason or "not a readable PDF" in exc.value.reason
    monkeypatch.setattr(pdf_reader, "MAX_PAGES", 3)
    with pytest.raises(ReportError) as exc:
        read_pdf(FIXTURES[0].read_bytes())
    assert "at most 3" in exc.value.reason


def _image_pdf(n: int) -> bytes:
    pages = []
    for i in range(n):
        img = Image.new("L", (850, 1100), 255)
        ImageDraw.Draw(img).rectangle((100, 100 + 20 * i, 700, 300), outline=0, width=3)
        pages.append(img)
    out = io.BytesIO()
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=100)
    return out.getvalue()


def test_pages_without_text_go_to_ocr(monkeypatch) -> None:
    seen = []

    def read_page_image(image, page):
        seen.append((image.size, page))
        return [Para(f"一、第{page}页识别的文字", page)]

    def join_pages(pages):
        return [it for items in pages for it in items]

    monkeypatch.setitem(sys.modules, "jixiao.read.ocr",
                        types.SimpleNamespace(read_page_image=read_page_image, join_pages=join_pages))
    r = read_pdf(_image_pdf(2))
    assert [p for _, p in seen] == [1, 2] and seen[0][0][0] > 1000  # rendered at 200 dpi
    assert r.artefacts["ocr_pages"] == 2
    assert r.text == "一、第1页识别的文字\n一、第2页识别的文字\n" and r.line_pages == [1, 2]


def test_without_ocr_a_scanned_page_is_one_clear_error(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "jixiao.read.ocr", None)  # import raises ImportError
    with pytest.raises(ReportError) as exc:
        read_pdf(_image_pdf(1))
    assert exc.value.reason.startswith("page 1:")


UNRULED = sorted((DIR / "unruled").glob("0*.pdf"))  # the samples; the held-out forms below


@pytest.mark.parametrize("path", UNRULED, ids=lambda p: p.name)
def test_unruled_tables_are_read_by_their_white_space(path: Path) -> None:
    """Tables printed without ruling lines (the .docx with its borders off): pdfplumber finds no
    table, the columns come from the white space. Before the unruled reader every cell of a row
    ran together (``三公经费33.724.7924.79``) and no table field matched gold; now the 基础数据表
    (staffing, 三公经费) matches gold in full and no source line is lost."""
    data = path.read_bytes()
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert not any(page.find_tables() for page in pdf.pages)
    report = parse_bytes(data, source=path.name)
    tally = measure(report, sample_of(path.name))
    missed = [m for m in tally.mismatches if m.startswith(("staffing.", "three_public.", "unit_name", "fiscal_year"))]
    assert missed == []
    assert not report.unparsed


def test_letter_spaced_lines_are_not_a_table() -> None:
    """Wide glyph spacing (绩 效 自 评) cuts a line into segments, but they do not stand in columns."""
    r = read_pdf((DIR / "spacing.pdf").read_bytes())
    assert "\t" not in r.text


def test_unruled_held_out_form_matches_its_blind_gold() -> None:
    """A held-out form (written blind, another province) printed without rulings, evenly spaced
    rows: every field of its gold. (Its sibling gs_lintao_tyjr.pdf is the limit: a form whose
    funds rows and indicator rows split the columns differently comes out with unit, year and
    funds but no indicators — the columns are found for the whole table at once.)"""
    from .test_heldout_forms import measure as heldout

    t = heldout("js_shuyang_nyj.docx", DIR / "unruled" / "js_shuyang_nyj.pdf")
    assert t.checked >= 100 and t.mismatches == []
