"""Parser-side hardening (issue 15): bounded .docx reading (3, 11, 17, 22) and Traditional
Chinese reports (16).

Every hostile input is generated here with bounded sizes (a few MB to ~20 MB of XML), so each
test runs in seconds; the same files are cases of the bad-input corpus
(tests/bad_inputs/make_corpus.py: ``docx_many_paragraphs`` …).
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from jixiao.errors import ReportError
from jixiao.parse import parse_docx_bytes, parse_text
from jixiao.parse import docx_package as dx
from jixiao.parse.docx import read_docx

from .bad_inputs.make_corpus import (
    docx_deep_nesting,
    docx_entity,
    docx_lying_sizes,
    docx_many_cells,
    docx_many_paragraphs,
    docx_many_relationships,
    docx_unpacks_big,
    s2t,
)
from .gold import compare, load_gold

ROOT = Path(__file__).resolve().parent.parent
SMALL = next((ROOT / "reports").glob("001_*.txt"))


def _refused(data: bytes, *words: str, seconds: float = 8.0) -> str:
    t = time.monotonic()
    with pytest.raises(ReportError) as ei:
        read_docx(data)
    assert time.monotonic() - t < seconds, f"took {time.monotonic() - t:.1f} s"
    msg = str(ei.value)
    for w in words:
        assert w in msg, msg
    return msg


# ---------------------------------------------------------------- 3: bounded unpacked size and counts


def test_docx_too_many_paragraphs_is_refused_quickly():
    data = docx_many_paragraphs(3_000_000)  # ~20 MB of <w:p/>, a few KB zipped
    assert len(data) < 200_000
    _refused(data, "word/document.xml", "200,000 paragraphs")


def test_docx_too_many_cells_is_refused():
    _refused(docx_many_cells(600_000), "word/document.xml", "500,000 table cells")


def test_docx_part_that_unpacks_too_big_is_refused_by_its_declared_size():
    _refused(docx_unpacks_big(40 * 2**20), "word/document.xml", "MB")


def test_docx_whose_declared_sizes_lie_is_refused_while_decompressing():
    # The zip says document.xml is 1 KB; it inflates to 40 MB. Never more than the bound is
    # decompressed, and the file is refused.
    msg = _refused(docx_lying_sizes(40 * 2**20), "word/document.xml")
    assert "corrupt" in msg or "MB" in msg


def test_docx_limits_leave_a_real_report_alone():
    from docx import Document
    import io

    d = Document()
    d.add_paragraph("2023年度某区司法局整体支出绩效自评报告")
    for i in range(2000):
        d.add_paragraph(f"第{i}段。")
    t = d.add_table(rows=200, cols=6)
    t.cell(0, 0).text = "一级指标"
    buf = io.BytesIO()
    d.save(buf)
    assert read_docx(buf.getvalue()).n_lines > 2000


# ---------------------------------------------------------------- 11: many relationships


def test_docx_with_many_relationships_is_refused_in_linear_time():
    data = docx_many_relationships(12_000)
    _refused(data, "word/_rels/document.xml.rels", "10,000 relationships", seconds=5)


# ---------------------------------------------------------------- 17: deep nesting


def test_docx_nested_too_deeply_says_so():
    msg = _refused(docx_deep_nesting(300), "nested", "256")
    assert "10 MB" not in msg


def test_docx_error_for_a_huge_text_node_still_says_10_mb():
    assert "10 MB" in dx._xml_error("x", Exception("xmlSAX2Characters: huge text node, use XML_PARSE_HUGE option"))
    assert "nested" in dx._xml_error("x", Exception("Excessive depth in document: 256, use XML_PARSE_HUGE option"))


# ---------------------------------------------------------------- 22: text after an unresolved entity


@pytest.mark.parametrize("dtd", ["external", "internal", "none_declared"])
def test_docx_text_after_an_entity_is_kept(dtd):
    blocks = read_docx(docx_entity(dtd))
    text = "\n".join(blocks.lines)
    assert "前文" in text and "后文" in text, blocks.lines
    assert "&foo;" in text  # the reference is shown as printed, never fetched nor dropped
    assert "下一段" in text


# ---------------------------------------------------------------- 16: Traditional Chinese


def _roundtrip(gold):
    """The gold as it comes back from Traditional: structured fields are published in
    Simplified (t2s of s2t is not an identity for every character, e.g. 於/于)."""
    from jixiao.parse.identity import to_simplified

    if isinstance(gold, str):
        return to_simplified(s2t(gold))
    if isinstance(gold, list):
        return [_roundtrip(g) for g in gold]
    if isinstance(gold, dict):
        return {k: _roundtrip(v) for k, v in gold.items()}
    return gold


def test_traditional_report_is_recognised():
    text = SMALL.read_text("utf-8")
    simp = parse_text(text, source="001.txt")
    trad_text = s2t(text)
    assert trad_text != text and "績效" in trad_text
    trad = parse_text(trad_text, source="001-traditional.txt")
    assert not trad.report_id.startswith(("未知", f"{trad.fiscal_year}-未知"))
    assert trad.unit_name == simp.unit_name
    assert trad.fiscal_year == simp.fiscal_year
    assert trad.county == simp.county
    assert [t.kind for t in trad.tables] == [t.kind for t in simp.tables]
    assert "unknown_table" not in {w.code for w in trad.warnings}
    assert "traditional_chinese" in {w.code for w in trad.warnings}
    # The printed text is kept: the cells and the source lines are in Traditional.
    assert "績效" in trad.source_text and "绩效" not in trad.source_text
    cells = [c for t in trad.tables for r in t.rows for c in r]
    assert any("績效" in c or "預算" in c for c in cells)
    gold = load_gold()
    name = SMALL.name
    if name in gold:
        tally = compare(_roundtrip(gold[name]), trad)
        assert tally.mismatches == [], "\n".join(tally.mismatches)


def test_simplified_report_is_not_converted():
    r = parse_text(SMALL.read_text("utf-8"), source="001.txt")
    assert "traditional_chinese" not in {w.code for w in r.warnings}


def test_traditional_docx_is_recognised():
    from .bad_inputs.make_corpus import minimal_docx

    r = parse_docx_bytes(minimal_docx([s2t("2023年度株洲市芦淞区司法局部门整体支出绩效自评报告"),
                                       s2t("一、部门基本情况"), s2t("本部门负责全区司法行政工作，绩效目标全部完成。")]))
    assert r.unit_name == "株洲市芦淞区司法局"
    assert r.fiscal_year == 2023
