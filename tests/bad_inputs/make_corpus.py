#!/usr/bin/env python3
"""Generate the bad-input corpus (issue 8) into a directory.

    python tests/bad_inputs/make_corpus.py OUTDIR [--samples reports/] [--no-big]

Most cases are derived from the real samples in ``reports/`` by mutating them (encodings,
line ends, cut-off tables, shifted cells, odd amounts …); a few are made from scratch
(binary junk, a PNG, a news article, a 决算公开 table, HTML, broken .docx files, a symlink
loop). Nothing is committed: the tests call :func:`make_corpus` into ``tmp_path``.

Every case is one :class:`Case` in ``OUTDIR/manifest.json``:

``kind``      the name of the case (one test each)
``file``      path relative to OUTDIR
``expect``    ``"error"`` (a ReportError with file, line, reason), ``"parse"`` (a model,
              maybe with warnings), or ``"either"`` (both are honest outcomes)
``lines``     how many source lines the reader should account for (``None`` if the
              test cannot know, e.g. a file that must be refused)
``same_as``   a sample whose parse this case must reproduce (re-encodings, line ends)
``warnings``  warning codes the parse should carry (at least one of them)
``note``      what the case is
"""
from __future__ import annotations

import argparse
import codecs
import io
import json
import os
import random
import re
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SAMPLES = REPO / "reports"

# Which sample each mutation starts from (by file-name prefix).
S_BASIC = "000"  # 岳阳市司法局 2024: three tables, shifted 分值 cells
S_SMALL = "001"  # 株洲市芦淞区司法局 2023: the smallest, clean
S_THIRD = "004"  # 北塔区 2022 third-party report


@dataclass
class Case:
    kind: str
    file: str
    expect: str  # error | parse | either
    lines: int | None = None
    same_as: str | None = None
    warnings: list[str] = field(default_factory=list)
    note: str = ""
    big: bool = False
    group: str = ""  # cases that belong together (duplicates)


def count_lines(text: str) -> int:
    """Lines as the reader counts them: CRLF/CR are line ends; a final newline ends the last line."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return len(lines)


def load_samples(samples: Path) -> dict[str, tuple[str, str]]:
    out = {}
    for p in sorted(samples.glob("*.txt")):
        out[p.name[:3]] = (p.name, p.read_text(encoding="utf-8"))
    if not {S_BASIC, S_SMALL, S_THIRD} <= set(out):
        raise SystemExit(f"the samples {S_BASIC}, {S_SMALL}, {S_THIRD} are needed in {samples}")
    return out


# ----------------------------------------------------------------- table surgery


def table_rows(lines: list[str], header_word: str) -> tuple[int, int]:
    """(first, last+1) line index of the table whose header row holds ``header_word``.

    The table is found the way Tika writes it: TAB-cell lines, their continuation lines and
    the blank lines between rows, up to the first paragraph after a blank line.
    """
    hit = next(i for i, ln in enumerate(lines) if ln.startswith("\t") and header_word in ln)
    start = hit
    while start > 0 and (lines[start - 1].startswith("\t") or lines[start - 1] == ""):
        start -= 1
    while not lines[start].startswith("\t"):
        start += 1
    end = hit
    while end < len(lines):
        ln = lines[end]
        if ln.startswith("\t") or ln == "":
            end += 1
            continue
        # a non-cell line: a continuation if a cell line comes before the next blank line
        # run ends, otherwise the paragraph after the table
        prev = end - 1
        while prev > start and lines[prev] == "":
            prev -= 1
        nxt = end
        while nxt < len(lines) and lines[nxt] != "" and not lines[nxt].startswith("\t"):
            nxt += 1
        while nxt < len(lines) and lines[nxt] == "":
            nxt += 1
        if nxt < len(lines) and lines[nxt].startswith("\t") and nxt - end <= 4 and len(ln) <= 12:
            end += 1
            continue
        break
    while end > start and not lines[end - 1].startswith("\t"):
        end -= 1
    return start, end


def rows_of(block: list[str]) -> list[list[list[str]]]:
    """A table block → rows → cells → the cell's lines (first one starts with TAB).

    A blank line ends a row unless the next line is not a cell (then it is an empty
    paragraph inside the cell: 产出指标 / (40分)).
    """
    rows: list[list[list[str]]] = []
    row: list[list[str]] = []
    for k, ln in enumerate(block):
        if ln == "":
            nxt = block[k + 1] if k + 1 < len(block) else "\t"
            if nxt != "" and not nxt.startswith("\t") and row:
                row[-1].append(ln)
                continue
            if row:
                rows.append(row)
            row = []
        elif ln.startswith("\t"):
            row.append([ln])
        elif row:
            row[-1].append(ln)
        else:
            row.append([ln])
    if row:
        rows.append(row)
    return rows


def unrows(rows: list[list[list[str]]]) -> list[str]:
    out: list[str] = []
    for k, row in enumerate(rows):
        if k:
            out.append("")
        for cell in row:
            out.extend(cell)
    return out


def mutate_table(text: str, header_word: str, fn) -> str:
    lines = text.split("\n")
    a, b = table_rows(lines, header_word)
    rows = rows_of(lines[a:b])
    new = fn(rows)
    return "\n".join(lines[:a] + unrows(new) + lines[b:])


def indicator_rows(rows):
    """Indices of the indicator rows (the wide ones after the 一级指标 header)."""
    h = next(i for i, r in enumerate(rows) if any("一级指标" in c[0] for c in r))
    width = len(rows[h])
    return h, [i for i in range(h + 1, len(rows)) if len(rows[i]) >= width - 1]


# ----------------------------------------------------------------- binary helpers


def png_bytes() -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes([x * 16 % 256, 80, 160]) * 16 for x in range(16))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def minimal_docx(paragraphs: list[str]) -> bytes:
    """A small but valid .docx (what python-docx and Word accept)."""
    from xml.sax.saxutils import escape

    body = "".join(f"<w:p><w:r><w:t xml:space=\"preserve\">{escape(p)}</w:t></w:r></w:p>" for p in paragraphs)
    doc = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           f"<w:body>{body}</w:body></w:document>")
    ct = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/word/document.xml" '
          'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
          "</Types>")
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="word/document.xml"/></Relationships>')
    return zip_bytes({"[Content_Types].xml": ct.encode(), "_rels/.rels": rels.encode(),
                      "word/document.xml": doc.encode()})


# ----------------------------------------------------------------- hostile .docx (issue 15)

_W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_TITLE_P = "<w:p><w:r><w:t>2023年度某区司法局整体支出绩效自评报告</w:t></w:r></w:p>"


def _docx_parts(document: bytes | None = None, **extra: bytes) -> dict[str, bytes]:
    """The parts of :func:`minimal_docx` with document.xml (and any other part) replaced."""
    with zipfile.ZipFile(io.BytesIO(minimal_docx(["x"]))) as z:
        files = {n: z.read(n) for n in z.namelist()}
    if document is not None:
        files["word/document.xml"] = document
    files.update({k.replace("__", "/").replace("_DOT_", "."): v for k, v in extra.items()})
    return files


def _document(body: str, doctype: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{doctype}'
            f"<w:document {_W_NS}><w:body>{body}</w:body></w:document>").encode()


def docx_many_paragraphs(n: int = 3_000_000) -> bytes:
    """A title and ``n`` empty paragraphs: 7 bytes each unpacked, a few KB zipped."""
    return zip_bytes(_docx_parts(_document(_TITLE_P + "<w:p/>" * n)))


def docx_many_cells(n: int = 600_000) -> bytes:
    """One table of ``n`` empty cells (rows of 10)."""
    row = "<w:tr>" + "<w:tc/>" * 10 + "</w:tr>"
    return zip_bytes(_docx_parts(_document(_TITLE_P + "<w:tbl>" + row * (n // 10) + "</w:tbl>")))


def docx_unpacks_big(size: int = 40 * 2**20) -> bytes:
    """A document.xml of ``size`` bytes (a comment of spaces): the zip declares its size."""
    pad = size - 200
    return zip_bytes(_docx_parts(_document(_TITLE_P + "<!--" + " " * pad + "-->")))


def docx_lying_sizes(size: int = 40 * 2**20) -> bytes:
    """:func:`docx_unpacks_big` with document.xml's declared size (local header and central
    directory) rewritten to 1 KB: what the zip says is not what it inflates to."""
    data = bytearray(docx_unpacks_big(size))
    name = b"word/document.xml"
    real = struct.pack("<I", len(_document(_TITLE_P + "<!--" + " " * (size - 200) + "-->")))
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        k = 0
        while (k := data.find(sig, k)) != -1:
            name_at = k + (30 if sig == b"PK\x03\x04" else 46)
            if data[name_at:name_at + len(name)] == name and data[k + off:k + off + 4] == real:
                data[k + off:k + off + 4] = struct.pack("<I", 1024)
            k += 4
    return bytes(data)


def docx_many_relationships(n: int = 12_000) -> bytes:
    """document.xml.rels with ``n`` image relationships, each to a part of its own."""
    rels = "".join(f'<Relationship Id="rId{i + 10}" Target="media/i{i}.png" '
                   'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"/>'
                   for i in range(n))
    files = _docx_parts(_document(_TITLE_P))
    files["[Content_Types].xml"] = files["[Content_Types].xml"].replace(
        b"</Types>", b'<Default Extension="png" ContentType="image/png"/></Types>')
    files["word/_rels/document.xml.rels"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>'
    ).encode()
    files.update({f"word/media/i{i}.png": b"x" for i in range(n)})
    return zip_bytes(files)


def docx_deep_nesting(depth: int = 300) -> bytes:
    """A title, then ``depth`` nested w:customXml elements (libxml2 stops at 256)."""
    return zip_bytes(_docx_parts(_document(_TITLE_P + "<w:customXml>" * depth + "</w:customXml>" * depth)))


def docx_entity(dtd: str = "external") -> bytes:
    """A paragraph '前文&foo;后文' whose entity is external, internal, or declared nowhere
    (a DOCTYPE with an external DTD), then another paragraph."""
    doctype = {
        "external": '<!DOCTYPE w:document [<!ENTITY foo SYSTEM "http://example.invalid/x">]>',
        "internal": '<!DOCTYPE w:document [<!ENTITY foo "内部">]>',
        "none_declared": '<!DOCTYPE w:document SYSTEM "http://example.invalid/x.dtd">',
    }[dtd]
    body = _TITLE_P + "<w:p><w:r><w:t>前文&foo;后文</w:t></w:r></w:p><w:p><w:r><w:t>下一段</w:t></w:r></w:p>"
    # Not standalone: a standalone document that uses an undeclared entity is refused by the XML
    # reader with a message, which is honest; the silent loss was in the other cases.
    return zip_bytes(_docx_parts(_document(body, doctype).replace(b' standalone="yes"', b"")))


def s2t(text: str) -> str:
    """Simplified → Traditional (OpenCC's s2t), for the Traditional-Chinese cases."""
    from opencc import OpenCC

    return OpenCC("s2t").convert(text)


# ----------------------------------------------------------------- the cases


NEWS = """市司法局召开2024年第一季度工作推进会

发布时间：2024-04-02 10:15　来源：市司法局办公室　浏览次数：1234

4月1日下午，市司法局召开2024年第一季度工作推进会，总结一季度工作，部署下一阶段重点任务。局党组书记、局长出席会议并讲话。

会议指出，一季度全局上下围绕中心、服务大局，各项工作开局良好。会议强调，要坚持稳中求进工作总基调，扎实推进法治政府建设。

会上，各科室负责人汇报了一季度工作完成情况及下一步工作打算。

【打印本页】【关闭窗口】
"""

JUESUAN = """2023年度收入支出决算总表
公开01表
部门：某市司法局\t金额单位：万元
\t收入
\t
\t支出
\t

\t项目
\t决算数
\t项目
\t决算数

\t一、一般公共预算财政拨款收入
\t1,024.56
\t一、一般公共服务支出
\t12.30

\t二、政府性基金预算财政拨款收入
\t
\t二、公共安全支出
\t987.65

\t本年收入合计
\t1,024.56
\t本年支出合计
\t999.95

注：本表反映部门本年度的总收支和年末结转结余情况。
"""

HTML = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>2023年度某区司法局整体支出绩效自评报告</title>
<style>p{margin:0}</style><script>var _hmt=_hmt||[];</script></head>
<body>
<div class="title"><h1>2023年度某区司法局整体支出绩效自评报告</h1></div>
<p>一、部门基本情况</p>
<p>（一）部门职能职责</p>
<p>负责全区法治宣传教育、人民调解、社区矫正等工作。</p>
<table><tr><td>编制数</td><td>实有人数</td></tr><tr><td>30</td><td>28</td></tr></table>
<p>二、绩效自评结论</p><p>经自评，本部门整体支出绩效自评得分为95分。</p>
</body></html>
"""


def build_cases(samples: dict[str, tuple[str, str]], big: bool = True):
    """Yield (Case, bytes | callable(path)) pairs."""
    basic = samples[S_BASIC][1]
    small = samples[S_SMALL][1]
    third = samples[S_THIRD][1]
    small_name = samples[S_SMALL][0]
    rnd = random.Random(8)

    def txt(kind, text, expect="parse", name=None, **kw):
        return Case(kind, name or f"{kind}.txt", expect, lines=count_lines(text), **kw), text.encode("utf-8")

    # --- empty and near-empty
    yield Case("empty", "empty.txt", "error", note="zero bytes"), b""
    yield Case("whitespace_only", "whitespace_only.txt", "error", note="spaces, tabs, newlines"), b" \t\n\n  \r\n\t\t\n"
    ws = "\u3000\u3000\n\xa0\n\u3000\t\u3000\n"
    yield Case("unicode_whitespace_only", "unicode_whitespace_only.txt", "error",
               note="full-width spaces and NBSP only"), ws.encode("utf-8")
    yield Case("bookmarks_only", "bookmarks_only.txt", "error", note="only Tika [bookmark: …] artefacts"), \
        b"[bookmark: _Toc1]\n[bookmark: _GoBack]\n\n"
    tabs = "\t\n\t\n\n\t\n\t\n"
    yield Case("empty_cells_only", "empty_cells_only.txt", "either", lines=count_lines(tabs),
               note="a table of empty cells and nothing else"), tabs.encode()

    # --- not text
    yield Case("binary_junk", "binary_junk.txt", "error", note="64 KiB of random bytes"), \
        bytes(rnd.getrandbits(8) for _ in range(65536))
    yield Case("png_renamed", "png_renamed.txt", "error", note="a PNG image renamed .txt"), png_bytes()
    yield Case("pdf_renamed", "pdf_renamed.txt", "error", note="a PDF renamed .txt"), \
        b"%PDF-1.7\n1 0 obj<</Type/Catalog>>endobj\n" + bytes(range(128, 256)) * 8
    yield Case("doc_ole_renamed", "doc_ole_renamed.txt", "error", note="an old binary Word file"), \
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + bytes(range(256)) * 4
    nul = small[:2000] + "\x00\x00\x00" + small[2000:4000]
    yield Case("nul_bytes", "nul_bytes.txt", "error", note="NUL bytes inside otherwise good text"), nul.encode()

    # --- encodings
    yield Case("gbk", "gbk.txt", "parse", lines=count_lines(small), same_as=small_name,
               note="the sample saved as GBK"), small.encode("gbk")
    rare = small.replace("司法局", "司法局𠀀", 1)  # a character outside GBK (GB18030 four-byte)
    yield Case("gb18030", "gb18030.txt", "parse", lines=count_lines(rare),
               note="GB18030 with a four-byte character"), rare.encode("gb18030")
    yield Case("utf16_le_bom", "utf16_le_bom.txt", "parse", lines=count_lines(small), same_as=small_name,
               note="UTF-16 LE with BOM (Windows 'Unicode')"), codecs.BOM_UTF16_LE + small.encode("utf-16-le")
    yield Case("utf16_be_bom", "utf16_be_bom.txt", "parse", lines=count_lines(small), same_as=small_name,
               note="UTF-16 BE with BOM"), codecs.BOM_UTF16_BE + small.encode("utf-16-be")
    yield Case("utf16_le_no_bom", "utf16_le_no_bom.txt", "either", lines=count_lines(small), same_as=small_name,
               note="UTF-16 LE without BOM: either decoded right or refused, never mojibake"), small.encode("utf-16-le")
    yield Case("utf8_bom", "utf8_bom.txt", "parse", lines=count_lines(small), same_as=small_name,
               note="UTF-8 with BOM"), codecs.BOM_UTF8 + small.encode()
    mixed = small.split("\n")
    cut = len(mixed) // 2
    mixed_bytes = "\n".join(mixed[:cut]).encode() + b"\n" + "\n".join(mixed[cut:]).encode("gbk")
    yield Case("mixed_utf8_gbk", "mixed_utf8_gbk.txt", "either", lines=count_lines(small),
               note="first half UTF-8, second half GBK (two files pasted together)"), mixed_bytes
    bad_utf8 = small.encode()
    bad_utf8 = bad_utf8[:3001] + b"\xff\xfe\xed\xa0\x80" + bad_utf8[3001:]
    yield Case("invalid_utf8_bytes", "invalid_utf8_bytes.txt", "either",
               note="UTF-8 with a few invalid bytes (incl. an encoded surrogate)"), bad_utf8

    # --- line ends
    yield Case("crlf", "crlf.txt", "parse", lines=count_lines(small), same_as=small_name,
               note="Windows line ends"), small.replace("\n", "\r\n").encode()
    yield Case("lone_cr", "lone_cr.txt", "parse", lines=count_lines(small), same_as=small_name,
               note="old Mac line ends (CR only)"), small.replace("\n", "\r").encode()
    mixed_eol = "".join(ln + ("\r\n", "\n", "\r")[k % 3] for k, ln in enumerate(small.split("\n")))
    yield Case("mixed_line_ends", "mixed_line_ends.txt", "parse", lines=count_lines(mixed_eol), same_as=small_name,
               note="CRLF, LF and CR mixed"), mixed_eol.encode()
    basic_name = samples[S_BASIC][0]
    yield txt("no_final_newline", basic.rstrip("\n"), same_as=basic_name, note="no newline at the end")

    # --- tables
    lines = small.split("\n")
    a, b = table_rows(lines, "一级指标")
    cut_at = a + (b - a) // 2
    while not lines[cut_at].startswith("\t") or lines[cut_at + 1] == "":
        cut_at += 1
    trunc = "\n".join(lines[: cut_at + 1])
    yield txt("truncated_mid_table", trunc, warnings=["truncated_table"], note="the file stops inside an indicator row")

    def drop_col(rows, col=4):
        h, ind = indicator_rows(rows)
        for i in [h, *ind]:
            off = len(rows[i]) - len(rows[h])  # data rows carry the merged 绩效指标 cell
            del rows[i][col + off]
        return rows

    yield txt("table_missing_column", mutate_table(small, "一级指标", drop_col),
              note="the indicator table lost its 实际完成值 column (header and rows)")

    def add_col(rows):
        h, ind = indicator_rows(rows)
        rows[h].insert(3, ["\t指标性质"])
        for i in ind:
            rows[i].insert(4, ["\t定量"])
        return rows

    yield txt("table_extra_column", mutate_table(small, "一级指标", add_col),
              note="an extra 指标性质 column in the indicator table")

    def add_junk_col(rows):
        h, ind = indicator_rows(rows)
        rows[h].append(["\t备注"])
        for i in ind:
            rows[i].append(["\t" + rnd.choice(["", "无", "见说明", "——"])])
        return rows

    yield txt("table_extra_unknown_column", mutate_table(small, "一级指标", add_junk_col),
              note="an unknown trailing column (备注)")

    def shift(rows):
        _, ind = indicator_rows(rows)
        for i in ind[1::3]:
            del rows[i][0]  # every third row starts one cell early
        return rows

    yield txt("shifted_cells", mutate_table(small, "一级指标", shift), warnings=[],
              note="every third indicator row lost its first cell: cells shifted left")

    def shift_right(rows):
        _, ind = indicator_rows(rows)
        for i in ind[::4]:
            rows[i].insert(2, ["\t"])
        return rows

    yield txt("shifted_cells_right", mutate_table(small, "一级指标", shift_right),
              note="some indicator rows have an extra empty cell in the middle")

    def no_header(rows):
        h, _ = indicator_rows(rows)
        del rows[h]
        return rows

    yield txt("table_no_header", mutate_table(small, "一级指标", no_header),
              note="the indicator table without its header row")

    def merged(rows):
        _, ind = indicator_rows(rows)
        for i in ind[1:]:
            for c in range(min(3, len(rows[i]))):
                rows[i][c] = ["\t"]
            if i % 2:
                rows[i][-1] = ["\t"]
                rows[i][-2] = ["\t"]
        return rows

    yield txt("merged_cells_everywhere", mutate_table(small, "一级指标", merged),
              note="level columns, scores and notes left empty as merged cells")

    def repeat_header(rows):
        h, ind = indicator_rows(rows)
        hdr = [list(c) for c in rows[h]]
        for k, i in enumerate(sorted(ind[2::4], reverse=True)):
            rows.insert(i, [list(c) for c in hdr])
        return rows

    yield txt("header_repeated", mutate_table(small, "一级指标", repeat_header),
              note="the header row repeated inside the table (page breaks)")

    wide = "附件1\n宽表\n" + "\n".join(f"\t列{k}" for k in range(5000)) + "\n\n" + "\n".join(f"\t{k}" for k in range(5000)) + "\n"
    yield txt("table_5000_columns", text=wide, expect="either", note="one table 5,000 cells wide")

    pipe = "\n".join(re.sub(r"^\t(.*)$", r"\1 |", ln) for ln in small.split("\n"))
    yield txt("pipe_cell_layout", pipe, note="the other Tika layout: one cell a line ending in ' |'")

    md_rows = ["2023年度某区司法局整体支出绩效自评报告", "", "一、部门基本情况", "", "附件1", "2023年度部门整体支出绩效评价基础数据表",
               "| 编制数 | 2023年实际在职人数 | 控制率 |", "| --- | --- | --- |", "| 30 | 28 | 93.33% |", ""]
    yield txt("markdown_table", "\n".join(md_rows), note="a Markdown | a | b | table")

    yield txt("tables_only", small[small.index("\n附件2\n") + 1:], note="the tables with their captions, no narrative")
    narrative_only = "\n".join(ln for ln in small.split("\n") if not ln.startswith("\t"))
    yield txt("narrative_only", narrative_only, note="the narrative and captions, all table cells removed")

    # --- whole reports
    two = basic + "\n\n" + small
    yield txt("two_reports_one_file", two, note="two different reports pasted into one file")
    yield txt("duplicate_same_bytes_a", small, name="dup_same_bytes_a.txt", group="same_sha",
              note="byte-identical copy of a sample (same sha256)")
    yield txt("duplicate_same_bytes_b", small, name="dup_same_bytes_b.txt", group="same_sha",
              note="byte-identical copy of a sample (same sha256)")
    edited = small.replace("无。", "无此类支出。", 1)
    assert edited != small
    yield txt("duplicate_same_identity", edited, name="dup_same_identity.txt", group="same_identity",
              note="the same unit+year+kind as a sample, one sentence edited (different sha256)")

    # --- identity
    no_year = re.sub(r"(?:19|20)\d{2}(?=\s*年)", "本", small)
    yield txt("no_year", no_year, warnings=["no_year"], note="every 20xx年 replaced by 本年")
    cn_year = re.sub(r"2023(?=\s*年)", "二〇二三", small)
    yield txt("year_chinese_numerals", cn_year, note="二〇二三年度 instead of 2023年度")
    ph_year = re.sub(r"20\d{2}(?=\s*年)", "20XX", small)
    yield txt("year_placeholder", ph_year, note="20XX年度 (a template never filled in)")
    far_year = re.sub(r"2023(?=\s*年)", "2099", small)
    yield txt("year_far_future", far_year, note="2099年度 (a typo)")
    yield txt("no_unit", re.sub(r"株洲市芦淞区司法局|芦淞区司法局|司法局|区司法局", "", small),
              note="every mention of the unit removed")

    # --- amounts
    def numeric_cells(text, fn):
        return "\n".join(
            ("\t" + fn(ln[1:])) if ln.startswith("\t") and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", ln[1:]) else ln
            for ln in text.split("\n"))

    def thousands(s):
        s = s.strip()
        n = float(s) * 10000
        return f"{n:,.2f}"

    yuan = numeric_cells(basic, thousands).replace("（万元）", "（元）").replace("(万元)", "(元)")
    yield txt("amounts_thousands_separators", yuan,
              note="the basic-data table in 元 with thousands separators (12,345,678.00)")
    fw = numeric_cells(small, lambda s: s.strip().translate(str.maketrans("0123456789.", "０１２３４５６７８９．")))
    yield txt("amounts_fullwidth_digits", fw, note="every numeric cell in full-width digits (６３４．８３)")
    neg = numeric_cells(small, lambda s: ("-" if rnd.random() < 0.5 else "－") + s.strip())
    yield txt("amounts_negative", neg, note="every numeric cell negative (ASCII and full-width minus)")
    cn_nums = ["六百三十四点八三", "一百", "十", "九十九点九八", "二十万元", "叁佰肆拾元整"]
    cn = numeric_cells(small, lambda s: rnd.choice(cn_nums))
    yield txt("amounts_chinese_numerals", cn, note="numeric cells written in Chinese numerals (一百, 叁佰肆拾元整)")
    weird = numeric_cells(small, lambda s: rnd.choice(["1e308", "NaN", "Infinity", "9" * 400, "0x1F", "1.2.3", "½", "1/3", "١٢٣"]))
    yield txt("amounts_weird_numbers", weird, note="1e308, NaN, Infinity, a 400-digit number, 0x1F, Arabic-Indic digits")

    # --- size
    if big:
        para = ("（一）本年度绩效目标完成情况较好。"
                + "全年共办理法律援助案件六百七十一件，人民调解组织调解成功率达到百分之九十六点八，" * 12 + "\n")
        n = 50 * 1024 * 1024 // len(para.encode()) + 1
        huge = small.replace("附件2\n", para * n + "附件2\n", 1)
        yield Case("huge_50mb", "huge_50mb.txt", "either", lines=count_lines(huge), big=True,
                   note="a 50 MB report: the sample with 35,000 long narrative paragraphs"), huge.encode()
        rep = (basic + "\n") * 340
        yield Case("many_copies_5mb", "many_copies_5mb.txt", "either", lines=count_lines(rep), big=True,
                   note="one 5 MB file holding the same report 340 times (6,800 indicator rows)"), rep.encode()
        head = "附件1\n2023年度项目支出明细表\n\t序号\n\t项目\n\t金额（万元）\n"
        body = "".join(f"\n\t{k}\n\t项目{k}\n\t{k % 997}.{k % 100:02d}\n" for k in range(1, 25001))
        t100k = small + "\n" + head + body
        yield Case("table_100k_lines", "table_100k_lines.txt", "parse", lines=count_lines(t100k), big=True,
                   note="a sample followed by a 100,000-line table"), t100k.encode()
        longline = small.replace("无。", "无。" + "很长的一行" * 70000, 1)
        yield Case("line_1mb", "line_1mb.txt", "parse", lines=count_lines(longline), big=True,
                   note="one paragraph of about 1 MB"), longline.encode()
        longcell = small.replace("\t法律援助案件", "\t法律援助案件" + "超长单元格" * 70000, 1)
        yield Case("cell_1mb", "cell_1mb.txt", "parse", lines=count_lines(longcell), big=True,
                   note="one table cell of about 1 MB"), longcell.encode()
        many_headings = "2023年度某区司法局整体支出绩效自评报告\n" + "".join(
            f"{'一二三四五六七八九'[k % 9]}、标题{k}\n（一）小标题{k}\n1.条目{k}\n内容。\n" for k in range(20000))
        yield Case("many_headings", "many_headings.txt", "parse", lines=count_lines(many_headings), big=True,
                   note="80,000 lines of numbered headings"), many_headings.encode()

    # --- hostile to the build (issue 15): backtracking patterns, long names, NFD, newline names
    padded = small.replace("\t法律援助案件", "\t1" + "\u3000" * 2400 + "x\n\t法律援助案件", 1)
    yield txt("padded_number_cell", padded, expect="either",
              note="a cell '1' + 2,400 full-width spaces + 'x' (the number pattern backtracked cubically)")
    rule = small.replace("无。", "无。\n|---" + " " * 20000 + "|x|", 1)
    yield txt("pipe_rule_spaces", rule, expect="either",
              note="a line '|---' + 20,000 spaces + '|x|' (the table-rule pattern was quadratic)")
    yield txt("long_unit_name", small.replace("株洲市芦淞区司法局", "株洲市芦淞区" + "司法局" * 30),
              note="a unit name of 96 characters: the package folder name is shortened with a hash")
    cafe = small.replace("株洲市芦淞区司法局", "株洲市芦淞区Café司法局")
    yield txt("unit_name_nfc", cafe, group="nfc_nfd", note="a unit name with é precomposed (NFC)")
    yield txt("unit_name_nfd", unicodedata.normalize("NFD", cafe), group="nfc_nfd",
              note="the same unit name decomposed (NFD): one id, the second file gets -2")
    yield txt("newline_in_file_name", small + "\n", name="newline\nreports   999 built.txt",
              note="a file name with a newline: build.log escapes it (no forged line)")

    # --- control characters
    ctl_chars = ["\x07", "\x1b[31m", "\x0b", "\x0c", "\x7f", "\u2028", "\u2029", "\x85", "\u200b", "\ufeff", "\u202e", "\x1c"]
    ctl_lines = small.split("\n")
    for k in range(0, len(ctl_lines), 7):
        ctl_lines[k] = ctl_lines[k][:3] + ctl_chars[k % len(ctl_chars)] + ctl_lines[k][3:]
    ctl = "\n".join(ctl_lines)
    yield txt("control_characters", ctl, note="BEL, ESC, VT, FF, DEL, U+2028/2029, NEL, ZWSP, BOM, RLO inside lines")
    yield txt("emoji_and_astral", small.replace("司法局", "司法局🏛️", 3).replace("调解", "调解😀𝒜"), note="emoji and astral-plane characters")

    # --- other genres and markup
    yield txt("genre_juesuan_table", expect="either", text=JUESUAN, note="a 决算公开 收入支出决算总表, not a performance report")
    yield txt("genre_news_article", expect="either", text=NEWS, note="a news article from a government portal")
    # Read by content with the HTML reader: its line count is that of the rendered text, not the file's.
    yield Case("html_text", "html_text.txt", "either", lines=None, note="an HTML page saved as .txt"), HTML.encode()
    yield txt("english_lorem", expect="either", text="Lorem ipsum dolor sit amet.\n" * 200, note="English filler text")
    portal = ("索引号：430600-2024-00123\n发布机构：市司法局\n发布日期：2024-08-30\n【字体：大 中 小】\n\n" + small)
    yield txt("portal_front_matter", portal, note="web-portal front matter before the title")

    # --- .docx that are not
    yield Case("docx_zip_of_other", "docx_zip_of_other.docx", "error",
               note="a zip of a text file and an image, named .docx"), \
        zip_bytes({"readme.txt": "不是Word文档".encode(), "pic.png": png_bytes()})
    good = minimal_docx(["2023年度某区司法局整体支出绩效自评报告", "一、部门基本情况", "本部门负责全区司法行政工作。"])
    yield Case("docx_corrupt_truncated", "docx_corrupt_truncated.docx", "error",
               note="a .docx cut in half"), good[: len(good) // 2]
    flipped = bytearray(good)
    for k in range(200, len(flipped) - 200, 97):
        flipped[k] ^= 0x5A
    yield Case("docx_corrupt_bitflips", "docx_corrupt_bitflips.docx", "error",
               note="a .docx with bytes flipped inside the compressed parts"), bytes(flipped)
    yield Case("docx_text_inside", "docx_text_inside.docx", "report",
               note="plain text with a .docx extension: read by its content, as text"), small.replace("无。", "无此款。", 1).encode()
    yield Case("docx_empty", "docx_empty.docx", "error", note="a zero-byte .docx"), b""
    bomb = zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document " + b" " * (20 * 1024 * 1024) + b"/>"})
    yield Case("docx_zip_bomb_ish", "docx_zip_bomb_ish.docx", "error",
               note="a 20 MB document.xml compressed to a few KB, not a valid document"), bomb
    yield Case("docx_minimal_valid", "docx_minimal_valid.docx", "either",
               note="a tiny but valid .docx with a title and one section"), good
    # --- hostile .docx (issue 15: 3, 11, 17, 22) and a Traditional-Chinese report (16)
    yield Case("docx_many_paragraphs", "docx_many_paragraphs.docx", "error",
               note="3,000,000 empty paragraphs (20 MB of document.xml in a few KB): over the 200,000-paragraph bound"), \
        docx_many_paragraphs()
    yield Case("docx_many_cells", "docx_many_cells.docx", "error",
               note="one table of 600,000 empty cells: over the 500,000-cell bound"), docx_many_cells()
    yield Case("docx_unpacks_big", "docx_unpacks_big.docx", "error",
               note="a document.xml declared (truly) as 40 MB unpacked: over the 32 MB bound for an XML part"), \
        docx_unpacks_big()
    yield Case("docx_lying_sizes", "docx_lying_sizes.docx", "error",
               note="document.xml declared as 1 KB, inflating to 40 MB: decompression stops at the declared size"), \
        docx_lying_sizes()
    yield Case("docx_many_relationships", "docx_many_relationships.docx", "error",
               note="12,000 image relationships in document.xml.rels: over the 10,000-relationship bound"), \
        docx_many_relationships()
    yield Case("docx_deep_nesting", "docx_deep_nesting.docx", "error",
               note="elements nested 300 deep: refused for its nesting, not as 'a tag longer than 10 MB'"), \
        docx_deep_nesting()
    yield Case("docx_entity_external", "docx_entity_external.docx", "parse",
               note="'前文&foo;后文' with an external entity: never fetched, the text after it kept"), \
        docx_entity("external")
    yield Case("traditional_chinese", "traditional_chinese.txt", "parse", lines=count_lines(small),
               note="the smallest sample converted to Traditional Chinese (OpenCC s2t): recognised as the Simplified one"), \
        s2t(small).encode("utf-8")

    # --- names and the file system
    yield txt("name_spaces_chinese", small, name="岳阳 市司法局 2023年 自评报告 (副本)#1.txt",
              group="same_sha", note="a file name with spaces, Chinese, parentheses and #")
    yield txt("name_leading_dash", small.replace("无。", "无此项。", 1), name="-rf 报告.txt",
              note="a file name that starts with '-'")

    def symlink_loop(d: Path, case: Case):
        (d / "loop_a.txt").symlink_to("loop_b.txt")
        (d / "loop_b.txt").symlink_to("loop_a.txt")
        (d / "loop_dir").symlink_to(".", target_is_directory=True)

    yield Case("symlink_loop", "loop_a.txt", "error",
               note="loop_a.txt -> loop_b.txt -> loop_a.txt, and loop_dir -> . (a directory loop)"), symlink_loop

    def symlink_outside(d: Path, case: Case):
        outside = d.parent / f"{d.name}-outside"
        outside.mkdir(exist_ok=True)
        (outside / "secret.txt").write_text(small.replace("无。", "无。（输入文件夹之外的文件）", 1), encoding="utf-8")
        (d / case.file).symlink_to((outside / "secret.txt").resolve())

    yield Case("symlink_outside", "symlink_outside.txt", "either",
               note="a symlink to a file outside the input folder: refused by the build (a build error) "
                    "unless --follow-symlinks; `jixiao parse` names it explicitly and reads it"), symlink_outside

    def dangling(d: Path, case: Case):
        (d / "dangling.txt").symlink_to("does-not-exist.txt")

    yield Case("dangling_symlink", "dangling.txt", "error", note="a symlink to nothing"), dangling

    def directory(d: Path, case: Case):
        (d / "a_directory.txt").mkdir()

    yield Case("directory_named_txt", "a_directory.txt", "error", note="a directory whose name ends in .txt"), directory

    def fifo(d: Path, case: Case):
        os.mkfifo(d / "a_fifo.txt")

    yield Case("fifo", "a_fifo.txt", "error",
               note="a named pipe called .txt: reading it would block forever"), fifo


def make_corpus(out: Path, samples: Path = SAMPLES, big: bool = True) -> list[Case]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cases = []
    for case, data in build_cases(load_samples(samples), big=big):
        if callable(data):
            data(out, case)
        else:
            (out / case.file).write_bytes(data)
        cases.append(case)
    kinds = [c.kind for c in cases]
    assert len(kinds) == len(set(kinds)), "duplicate kinds"
    (out / "manifest.json").write_text(json.dumps([asdict(c) for c in cases], ensure_ascii=False, indent=1),
                                       encoding="utf-8")
    return cases


def kinds(big: bool = True) -> list[str]:
    """The case names, without writing anything (for pytest parametrisation)."""
    return [c.kind for c, _ in build_cases(load_samples(SAMPLES), big=big)]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--samples", type=Path, default=SAMPLES)
    ap.add_argument("--no-big", action="store_true", help="leave out the 50 MB and 100k-line cases")
    args = ap.parse_args(argv)
    cases = make_corpus(args.out, args.samples, big=not args.no_big)
    print(f"{len(cases)} cases written to {args.out}")


if __name__ == "__main__":
    main()
