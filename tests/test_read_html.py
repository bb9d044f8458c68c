"""HTML pages saved from a portal: read into the canonical layout and measured against gold.

The fixtures (tests/formats/make_html.py) wrap each sample in portal chrome, lay the page
out with tables, and write the report's tables with real rowspan/colspan; one is GB18030
declaring gb2312, one is LibreOffice's own HTML export of a .docx.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from jixiao.errors import ReportError
from jixiao.model import Paragraph, TableBlock, clean_text
from jixiao.parse import parse_bytes
from jixiao.parse.tika import read_tika
from jixiao.read import html as html_reader
from jixiao.read.html import decode_html, read_html

from .formats.goldcheck import measure, sample_of
from .formats.make_html import GB_STEM, RARE

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "formats" / "html").glob("*.html"))
CHROME = re.compile(r"您现在的位置|版权所有|网站标识码|ICP备|打印本页|关闭窗口|字号|浏览次数|分享到|人民政府门户网站|信息公开目录|互动交流|机构职能")


def _squash(s: str) -> str:
    # Whitespace runs inside a line collapse in HTML, as a browser shows them.
    return re.sub(r"\s+", "", clean_text(s))


def _tables(text: str) -> list[list[list[str]]]:
    return [[[_squash(c.text) for c in r.cells] for r in b.rows] for b in read_tika(text).blocks
            if isinstance(b, TableBlock)]


def _page(body: str, head: str = '<meta charset="utf-8">') -> bytes:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>".encode("utf-8")


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_html_matches_gold(path: Path) -> None:
    report = parse_bytes(path.read_bytes(), source=path.name)
    tally = measure(report, sample_of(path.name))
    right = tally.checked - len(tally.mismatches)
    print(f"{path.name}: {right}/{tally.checked} gold fields ({100 * right / tally.checked:.1f} %)")
    assert report.source_format == "html"
    assert right / tally.checked >= 0.97, tally.mismatches
    assert tally.mismatches == []
    assert report.unparsed == []


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_tables_and_paragraphs_are_the_tika_ones(path: Path) -> None:
    """rowspan/colspan resolve to the very grid Tika wrote for the .docx; every narrative line
    is there; what is added is front matter and the page title, never chrome."""
    rendered = read_html(path.read_bytes())
    tika = (ROOT / "reports" / (path.name.split(".")[0] + ".txt")).read_text("utf-8")
    assert _tables(rendered.text) == _tables(tika)
    got = [_squash(b.text) for b in read_tika(rendered.text).blocks if isinstance(b, Paragraph)]
    want = [_squash(b.text) for b in read_tika(tika).blocks if isinstance(b, Paragraph)]
    start = got.index(want[0])
    assert got[start:] == want  # the document's lines, in order, nothing between them
    assert all(re.match(r"(索引号|发布机构|发布日期|文号)：", p) or p.endswith("报告") for p in got[:start]), got[:start]
    assert not CHROME.search(rendered.text)


@pytest.mark.parametrize("path", [p for p in FIXTURES if ".lo." not in p.name], ids=lambda p: p.name)
def test_portal_chrome_is_dropped_and_counted(path: Path) -> None:
    rendered = read_html(path.read_bytes())
    a = rendered.artefacts
    assert a["html_chrome"] >= 4 and a["html_script"] >= 1 and a["html_metadata_table"] == 1
    lines = rendered.text.split("\n")
    assert lines[:4] == [s for s in lines[:4] if re.match(r"(索引号|发布机构|发布日期|文号)：", s)]
    report = parse_bytes(path.read_bytes(), source=path.name)
    assert report.unit_name and not CHROME.search(report.unit_name)
    assert "索引号" not in (report.unit_name or "") and "财政局" not in report.unit_name


def test_gb2312_declared_page_with_gb18030_characters_decodes() -> None:
    data = next(p for p in FIXTURES if p.name.startswith(GB_STEM)).read_bytes()
    assert b'charset="gb2312"' in data
    with pytest.raises(UnicodeDecodeError):
        data.decode("gb2312")  # what the page declares cannot read it
    text, enc = decode_html(data)
    assert enc == "gb18030" and RARE in text and "\ufffd" not in text
    assert "株洲市芦淞区司法局" in read_html(data).text


@pytest.mark.parametrize("declared", ['<meta charset="utf-8">', '<meta http-equiv="Content-Type" '
                                      'content="text/html; charset=iso-8859-1">', ""])
def test_a_wrong_or_missing_charset_falls_back(declared: str) -> None:
    body = "<p>2023年度某县水利局部门整体支出绩效自评报告</p><p>一、基本情况</p>" * 3
    data = f"<html><head>{declared}</head><body>{body}</body></html>".encode("gbk")
    assert "某县水利局" in read_html(data).text


def test_boms_and_a_stale_gb2312_meta_on_utf8() -> None:
    body = "<p>绩效自评报告，基本情况说明</p>"
    assert "绩效自评报告" in read_html(b"\xef\xbb\xbf" + _page(body)).text
    assert "绩效自评报告" in read_html(("\ufeff" + _page(body).decode()).encode("utf-16-le")).text
    assert "绩效自评报告" in read_html(_page(body, '<meta charset="gb2312">')).text


def test_spans_give_word_merges() -> None:
    page = _page("""<table border=1>
      <tr><td rowspan=3>产出指标</td><td>数量指标</td><td>10</td></tr>
      <tr><td rowspan=2>质量指标</td><td>&nbsp;</td></tr>
      <tr><td>20<br>（分）</td></tr>
      <tr><td>总分</td><td colspan=2>100</td></tr>
    </table>""")
    text = read_html(page).text
    rows = [[c.text for c in r.cells] for b in read_tika(text).blocks if isinstance(b, TableBlock) for r in b.rows]
    assert rows == [["产出指标", "数量指标", "10"], ["", "质量指标", ""], ["", "", "20\n（分）"], ["总分", "100"]]


def test_layout_tables_are_descended_and_nested_data_is_flattened() -> None:
    page = _page("""<table><tr><td><h2>2023年度某局部门整体支出绩效自评报告</h2><p>一、基本情况</p>
      <table border=1><tr><td>指标</td><td>分值</td></tr>
      <tr><td>预算执行率</td><td><table><tr><td>10</td><td>分</td></tr></table></td></tr></table>
      </td></tr></table>""")
    blocks = read_tika(read_html(page).text).blocks
    assert [b.text for b in blocks if isinstance(b, Paragraph)] == ["2023年度某局部门整体支出绩效自评报告", "一、基本情况"]
    (table,) = [b for b in blocks if isinstance(b, TableBlock)]
    assert [[c.text for c in r.cells] for r in table.rows] == [["指标", "分值"], ["预算执行率", "10\n分"]]


def test_inline_elements_stay_on_one_line_and_br_splits() -> None:
    page = _page("<p>&nbsp;&nbsp;<span>一、</span><span>基本\n情况</span></p><div>第一行<br/>第二行</div>")
    assert read_html(page).text == "一、基本情况\n第一行\n第二行\n"


def test_a_script_in_a_cell_is_inert() -> None:
    page = _page("""<p>某局绩效自评报告</p><table border=1><tr><td>a<script>alert(1)</script></td>
      <td onclick="alert(2)">&lt;script&gt;alert(3)&lt;/script&gt;</td></tr>
      <tr><td><img src=x onerror="alert(4)">b</td><td><style>td{}</style>c</td></tr></table>""")
    text = read_html(page).text
    assert "alert(1)" not in text and "alert(2)" not in text and "alert(4)" not in text and "td{}" not in text
    assert "\t<script>alert(3)</script>" in text.split("\n")  # escaped text stays text, for the site to escape
    assert "\ta" in text.split("\n") and "\tb" in text.split("\n")


@pytest.mark.parametrize("body", ["", "<div class='header'>某市人民政府</div><nav>首页</nav><script>x()</script>",
                                  "<table><tr><td>&nbsp;</td></tr></table><!-- 评论 -->"])
def test_a_page_without_body_text_is_an_error(body: str) -> None:
    with pytest.raises(ReportError) as exc:
        read_html(_page(body))
    assert "no body text" in exc.value.reason or "empty" in exc.value.reason


def test_bounds(monkeypatch) -> None:
    monkeypatch.setattr(html_reader, "MAX_BYTES", 1000)
    with pytest.raises(ReportError, match="larger than"):
        read_html(_page("<p>x</p>" * 200))
    monkeypatch.setattr(html_reader, "MAX_BYTES", 50 * 1024 * 1024)
    monkeypatch.setattr(html_reader, "MAX_TAGS", 100)
    with pytest.raises(ReportError, match="tags"):
        read_html(_page("<p>x</p>" * 200))
    monkeypatch.setattr(html_reader, "MAX_TAGS", 1_000_000)
    with pytest.raises(ReportError, match="too large"):
        read_html(_page("<table><tr><td colspan=200 rowspan=1>a</td></tr>" + "<tr><td>b</td><td>c</td></tr>" * 3000
                        + "</table>"))
    # libxml2 stops nesting at 256 levels and would lose the rest silently: one clear error.
    with pytest.raises(ReportError, match="too deep"):
        read_html(_page("<p>绩效自评报告</p>" + "<div>" * 5000 + "一、基本情况" + "</div>" * 5000))
    assert "一、基本情况" in read_html(_page("<div>" * 200 + "一、基本情况" + "</div>" * 200)).text


def test_content_named_like_chrome_is_kept() -> None:
    page = _page("""<div class="article-header"><h1>2023年度某局部门整体支出绩效自评报告</h1></div>
      <div id="top-news"><p>正文第一段，绩效目标完成情况良好。</p></div>
      <div class="footer">版权所有</div>""")
    text = read_html(page).text
    assert "正文第一段，绩效目标完成情况良好。" in text
    assert "2023年度某局部门整体支出绩效自评报告" in text and "版权所有" not in text


def test_metadata_table_becomes_front_matter_lines() -> None:
    page = _page("""<table><tr><td>索引号：</td><td>000014349/2024-00001</td><td>主题分类：</td><td>财政</td></tr>
      <tr><td><b>发布机构：</b>某县财政局</td><td>文号：</td><td></td><td>时效性：</td></tr></table>
      <p>2023年度某县财政局部门整体支出绩效自评报告</p>""")
    lines = read_html(page).text.split("\n")
    assert lines[:6] == ["索引号：000014349/2024-00001", "主题分类：财政", "发布机构：某县财政局", "文号：", "时效性：",
                         "2023年度某县财政局部门整体支出绩效自评报告"]
