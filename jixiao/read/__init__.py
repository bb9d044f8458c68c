"""Readers: one per published format, each giving the same block stream.

``read_source(data, name)`` picks the reader by the file's content (magic bytes) and, where
the content does not tell, by its suffix. Text and .docx are read into blocks directly (their
line numbers are Tika's); every other format renders to the canonical Tika-layout text
(:mod:`jixiao.read.layout`), which is then read like a text file — so a new format is a new
reader and nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ReportError
from ..parse.tika import Blocks, read_tika
from .layout import Rendered

DOCX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc, .xls, .et, .wps (Compound File)
PDF_MAGIC = b"%PDF-"

# Suffixes the build picks up in a folder (anything else there gets a build_errors row, bar
# obvious non-reports such as README files).
SUFFIXES = {".txt", ".docx", ".pdf", ".html", ".htm", ".shtml", ".xhtml", ".xlsx", ".xlsm", ".xls", ".et",
            ".doc", ".wps", ".png", ".jpg", ".jpeg", ".tif", ".tiff"}


@dataclass
class Source:
    blocks: Blocks
    source_format: str  # tika-text | docx | pdf | pdf-scan | html | xlsx | xls | doc | image
    encoding: str
    text: str | None = None  # the canonical text (None when the input is that text already)
    line_pages: list[int | None] = field(default_factory=list)


def _from_rendered(r: Rendered, fmt: str) -> Source:
    blocks = read_tika(r.text)
    blocks.artefacts.update(r.artefacts)
    return Source(blocks, fmt, r.encoding, r.text, r.line_pages)


def _zip_names(data: bytes) -> list[str]:
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return z.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return []


def sniff(data: bytes, name: str) -> str:
    """The format of ``data``: by magic bytes first, the suffix only where bytes cannot tell."""
    suffix = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    head = data[:4096].lstrip()
    if data.startswith(PDF_MAGIC) or (b"%PDF-" in data[:1024] and suffix == ".pdf"):
        return "pdf"
    if data.startswith(DOCX_MAGIC):
        names = _zip_names(data)
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
        if any(n.startswith("word/") for n in names):
            return "docx"
        return "xlsx" if suffix in (".xlsx", ".xlsm", ".et") else "docx"  # the reader says what is wrong
    if data.startswith(OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data[:1 << 20]:
            return "encrypted"  # an .xlsx/.docx saved with a password: an OLE box around the encrypted zip
        if suffix in (".xls", ".et"):
            return "xls"
        if suffix in (".doc", ".wps"):
            return "doc"
        return "xls" if b"W\x00o\x00r\x00k\x00b\x00o\x00o\x00k" in data or b"Workbook" in data else "doc"
    if data[:8] == b"\x89PNG\r\n\x1a\n" or data[:3] == b"\xff\xd8\xff" or data[:4] in (b"II*\x00", b"MM\x00*"):
        return "image"
    low = head.removeprefix(b"\xef\xbb\xbf").lstrip()[:4096].lower()
    if suffix in (".html", ".htm", ".shtml", ".xhtml") or low.startswith(b"<") and (
            b"<html" in low or b"<!doctype html" in low):
        return "html"
    return "text"


def read_source(data: bytes, name: str = "<input>") -> Source:
    """Read one file's bytes into blocks. Raises ReportError (file, line or page, reason)."""
    fmt = sniff(data, name)
    if fmt == "text":
        from ..parse.decode import decode

        text, encoding = decode(data)
        return Source(read_tika(text), "tika-text", encoding)
    if fmt == "docx":
        from ..parse.docx import read_docx

        return Source(read_docx(data), "docx", "docx")
    if fmt == "doc":
        from ..parse.docx import read_docx
        from .doc import doc_to_docx

        return Source(read_docx(doc_to_docx(data, name)), "doc", "doc")
    if fmt == "pdf":
        from .pdf import read_pdf

        r = read_pdf(data)
        scanned = r.artefacts.get("ocr_pages", 0) > 0
        return _from_rendered(r, "pdf-scan" if scanned else "pdf")
    if fmt == "html":
        from .html import read_html

        return _from_rendered(read_html(data), "html")
    if fmt == "xlsx":
        from .sheet import read_xlsx

        return _from_rendered(read_xlsx(data), "xlsx")
    if fmt == "xls":
        from .sheet import read_xls

        return _from_rendered(read_xls(data), "xls")
    if fmt == "image":
        from .ocr import read_image

        kind = "PNG" if data[:4] == b"\x89PNG" else "JPEG" if data[:3] == b"\xff\xd8\xff" else "TIFF"
        try:
            return _from_rendered(read_image(data), "image")
        except ReportError as exc:
            # Line 1: an image has no lines; the error is about the file from its start.
            raise ReportError(f"{kind} image: {exc.reason}", exc.line or 1) from None
    if fmt == "encrypted":
        raise ReportError("password-protected (encrypted) Office file: it cannot be read without the password; "
                          "ask the publisher for an open copy", None)
    raise ReportError(f"unsupported format: {fmt}", None)
