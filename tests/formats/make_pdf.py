"""Regenerate the text-layer PDF fixtures: each sample .docx exported to PDF by LibreOffice
headless, as most units publish their report (Word → PDF).

The base .docx files have borderless tables and no header or footer; published reports have
ruled tables, a page number in the footer and often a running header. Before converting, a
copy of each .docx gets single borders on every table, a "- N -" footer and a running header,
so the reader meets ruling lines, tables crossing page breaks and page chrome.

Two unruled fixtures (``unruled/``: 000 and 001 with the tables' borders off, as they are in the
base .docx). Two small extra fixtures: ``spacing.pdf`` (the spaces PDF text puts inside Chinese text and
between Chinese and numbers) and ``encrypted.pdf`` (needs a password to open).

    .venv/bin/python -m tests.formats.make_pdf
"""
from __future__ import annotations

import re
import subprocess
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCX = ROOT / "tests" / "fixtures" / "formats" / "docx"
OUT = ROOT / "tests" / "fixtures" / "formats" / "pdf"
UNRULED = OUT / "unruled"
HELDOUT = ROOT / "tests" / "fixtures" / "heldout"
HELDOUT_FORMS = ("js_shuyang_nyj.docx", "gs_lintao_tyjr.docx")
NIL_BORDERS = "<w:tblBorders>" + "".join(f'<w:{side} w:val="nil"/>' for side in (
    "top", "left", "bottom", "right", "insideH", "insideV")) + "</w:tblBorders>"
HEADER_TEXT = "部门整体支出绩效自评报告（公开版）"

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
BORDERS = "<w:tblBorders>" + "".join(
    f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
    for side in ("top", "left", "bottom", "right", "insideH", "insideV")) + "</w:tblBorders>"
FOOTER = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:ftr {W}><w:p><w:pPr><w:jc w:val="center"/>'
          '</w:pPr><w:r><w:t xml:space="preserve">- </w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
          '<w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/>'
          '</w:r><w:r><w:t>1</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>'
          '<w:r><w:t xml:space="preserve"> -</w:t></w:r></w:p></w:ftr>')
HEADER = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:hdr {W}><w:p><w:pPr><w:jc w:val="right"/>'
          f'</w:pPr><w:r><w:t>{HEADER_TEXT}</w:t></w:r></w:p></w:hdr>')
REL = '<Relationship Id="{id}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/{kind}" Target="{kind}1.xml"/>'
CT = '<Override PartName="/word/{kind}1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.{kind}+xml"/>'


def dressed(docx: bytes) -> bytes:
    """The .docx with ruled tables, a page-number footer and a running header."""
    src = zipfile.ZipFile(__import__("io").BytesIO(docx))
    out = __import__("io").BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":
                xml = data.decode("utf-8")
                xml = re.sub(r"(<w:tblPr>(?:(?!</w:tblPr>).)*?)(<w:tblLook|</w:tblPr>)", lambda m: m[1] + BORDERS + m[2], xml)
                refs = '<w:headerReference w:type="default" r:id="rIdHdr1"/><w:footerReference w:type="default" r:id="rIdFtr1"/>'
                xml = re.sub(r"(<w:sectPr[^>]*>)", lambda m: m[1] + refs, xml)
                if "xmlns:r=" not in xml[:2000]:
                    xml = xml.replace("<w:document ", '<w:document xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" ', 1)
                data = xml.encode("utf-8")
            elif item.filename == "word/_rels/document.xml.rels":
                data = data.replace(b"</Relationships>", (REL.format(id="rIdHdr1", kind="header")
                                                          + REL.format(id="rIdFtr1", kind="footer") + "</Relationships>").encode())
            elif item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", (CT.format(kind="header") + CT.format(kind="footer") + "</Types>").encode())
            dst.writestr(item, data)
        dst.writestr("word/header1.xml", HEADER)
        dst.writestr("word/footer1.xml", FOOTER)
    return out.getvalue()


def unbordered(docx: bytes) -> bytes:
    """The .docx with every table and cell border removed (a table printed without rulings)."""
    import io

    src = zipfile.ZipFile(io.BytesIO(docx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename in ("word/document.xml", "word/styles.xml"):
                xml = re.sub(r"<w:(tbl|tc)Borders>.*?</w:(tbl|tc)Borders>", "", data.decode("utf-8"), flags=re.S)
                if item.filename == "word/document.xml":
                    xml = xml.replace("<w:tblPr>", "<w:tblPr>" + NIL_BORDERS)
                data = xml.encode("utf-8")
            dst.writestr(item, data)
    return out.getvalue()


SPACING_TEXT = "2024 年度 部门 整体 支出 绩 效 自评 报告\n全年 预算 803.74 万元 ， 执行率 93.38 % 。\nHello World 2024 and GDP 5.2\n"
ENCRYPT = ('pdf:writer_pdf_Export:{"EncryptFile":{"type":"boolean","value":"true"},'
           '"DocumentOpenPassword":{"type":"string","value":"secret"}}')


def _convert(src: Path, tmp: Path, target: str = "pdf", *extra: str, out: Path = OUT) -> None:
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation={(tmp / 'profile').as_uri()}", *extra,
                    "--convert-to", target, "--outdir", str(out), str(src)], check=True, capture_output=True)
    print(out / f"{src.stem}.pdf")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-") as tmp:
        work_dir = Path(tmp)
        for src in sorted(DOCX.glob("*.docx")):
            work = work_dir / src.name
            work.write_bytes(dressed(src.read_bytes()))
            _convert(work, work_dir)
        # Tables without ruling lines (the base .docx as it is: borders off), as a Word table with
        # its borders removed or a sheet printed without gridlines comes out.
        for src in sorted(DOCX.glob("00[01]_*.docx")):
            _convert(src, work_dir, out=UNRULED)
        for name in HELDOUT_FORMS:  # two blind held-out forms, their table borders set to nil
            work = work_dir / name
            work.write_bytes(unbordered((HELDOUT / name).read_bytes()))
            _convert(work, work_dir, out=UNRULED)
        (work_dir / "spacing.txt").write_text(SPACING_TEXT, "utf-8")
        _convert(work_dir / "spacing.txt", work_dir, "pdf", "--infilter=Text (encoded):UTF8")
        (work_dir / "encrypted.txt").write_text("加密的报告\n", "utf-8")
        _convert(work_dir / "encrypted.txt", work_dir, ENCRYPT, "--infilter=Text (encoded):UTF8")


if __name__ == "__main__":
    main()
