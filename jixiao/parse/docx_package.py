"""Opening a .docx within bounds: the zip and its XML parts are checked on one streaming pass
(sizes, counts, depth) before python-docx builds a tree, and every way the file can be broken
becomes a :class:`ReportError` that says what is wrong (issue 15)."""
from __future__ import annotations

import io
import zipfile

from lxml import etree

from ..errors import ReportError

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PIC = "http://schemas.openxmlformats.org/drawingml/2006/picture"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
WPS = "http://schemas.microsoft.com/office/word/2010/wordprocessingShape"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
# Bounds on what a .docx may hold (issue 15). A real report is a few MB of XML with a few
# thousand paragraphs, cells and relationships; each bound is far above that and far below what
# takes a worker to gigabytes. They are checked on a streaming pass over the zip before
# python-docx builds a tree, so a hostile file costs at most one bounded read.
MAX_UNPACKED = 256 * 1024 * 1024  # all parts together, pictures included
MAX_XML_PART = 32 * 1024 * 1024  # one XML part (document.xml, a header, a .rels)
MAX_PARTS = 20_000  # entries in the zip
MAX_PARAGRAPHS = 200_000  # w:p in all XML parts
MAX_CELLS = 500_000  # w:tc in all XML parts
MAX_ELEMENTS = 5_000_000  # elements of any kind in all XML parts
MAX_RELATIONSHIPS = 10_000  # in all .rels parts: python-docx loads them in quadratic time
MAX_DEPTH = 256  # libxml2's own limit on nesting


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


_P, _TBL, _SDT, _TR, _TC = _w("p"), _w("tbl"), _w("sdt"), _w("tr"), _w("tc")
_SDT_CONTENT, _CUSTOM_XML = _w("sdtContent"), _w("customXml")


def _open(data: bytes):
    """The python-docx Document, or a ReportError that says what is wrong with the file."""
    if not data:
        raise ReportError("not a .docx file: the file is empty", 1)
    if not data.startswith(b"PK"):
        raise ReportError("not a .docx file: not a zip archive (a .docx is a zip of XML parts)", 1)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            names = {i.filename for i in infos}
            _check_declared(infos)
            # Every part is inflated once, in chunks, never past its declared size or the bound
            # (zipfile checks each CRC at the end); the XML parts are counted on the way.
            counter = _Counter()
            for info in infos:
                _read_part(z, info, counter)
            content_types = z.read("[Content_Types].xml") if "[Content_Types].xml" in names else None
    except ReportError:
        raise
    except zipfile.BadZipFile as exc:
        if "CRC" in str(exc):
            raise ReportError(f"corrupt .docx: a part is damaged ({exc})", 1) from None
        raise ReportError(f"corrupt .docx: the zip archive cannot be read ({exc})", 1) from None
    except (zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise ReportError(f"corrupt .docx: the zip archive cannot be read ({exc})", 1) from None
    except Exception as exc:  # zlib errors and the like
        raise ReportError(f"corrupt .docx: the zip archive cannot be read ({type(exc).__name__}: {exc})", 1) from None
    if "[Content_Types].xml" not in names:
        raise ReportError("not a .docx file: a zip archive without [Content_Types].xml "
                          f"(it holds {', '.join(sorted(names)[:5]) or 'nothing'})", 1)
    _check_content_types(content_types)
    import docx  # python-docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except KeyError as exc:
        what = str(exc).strip("\"'")
        if "relationship" in what:
            raise ReportError("not a .docx file: the package has no main document (word/document.xml)", 1) from None
        raise ReportError(f"corrupt .docx: a part is missing ({what})", 1) from None
    except ValueError as exc:  # python-docx: "file '…' is not a Word file, content type is …"
        raise ReportError(f"not a .docx file: {exc}", 1) from None
    except PackageNotFoundError as exc:
        raise ReportError(f"not a .docx file: {exc}", 1) from None
    except Exception as exc:  # lxml.etree.XMLSyntaxError and whatever a broken part raises
        if isinstance(exc, etree.XMLSyntaxError):
            raise ReportError(_xml_error("its XML parts", exc), 1) from None
        # Anything else comes from inside python-docx (an AttributeError on a part with the
        # wrong elements): its text means nothing to the reader, so it is not repeated.
        raise ReportError("corrupt .docx: its XML parts cannot be read (they are not laid out as in a Word "
                          "document)", 1) from None
    body = document.element.find(_w("body"))
    if body is None:
        raise ReportError("corrupt .docx: word/document.xml has no w:body", 1)
    return document, body


def _check_declared(infos) -> None:
    """The sizes the zip declares, before anything is inflated."""
    if len(infos) > MAX_PARTS:
        raise ReportError(f"not a usable .docx: the zip holds {len(infos):,} parts, more than the "
                          f"{MAX_PARTS:,} a report can have (a damaged or hostile file)", 1)
    if sum(i.file_size for i in infos) > MAX_UNPACKED:
        raise ReportError("not a usable .docx: its parts unpack to more than "
                          f"{MAX_UNPACKED // 2**20} MB (a zip bomb?)", 1)
    for i in infos:
        if _is_xml(i.filename) and i.file_size > MAX_XML_PART:
            raise ReportError(f"not a usable .docx: the part {i.filename} unpacks to {i.file_size / 2**20:.0f} MB, "
                              f"more than the {MAX_XML_PART // 2**20} MB an XML part of a report can be "
                              "(a zip bomb?)", 1)


def _is_xml(name: str) -> bool:
    return name.lower().endswith((".xml", ".rels"))


class _Bound(Exception):
    """Raised from inside the counting parser when a bound is passed."""


class _Counter:
    """A parser target that keeps no tree: counts paragraphs, cells, relationships, elements
    and depth over all XML parts, and stops at the first bound passed."""

    def __init__(self) -> None:
        self.part = ""
        self.paragraphs = self.cells = self.rels = self.elements = 0
        self.depth = 0

    def start(self, tag, attrib, nsmap=None):
        self.elements += 1
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Bound(f"its elements are nested more than {MAX_DEPTH} levels deep, more than the XML reader "
                         "accepts")
        if tag == _P:
            self.paragraphs += 1
            if self.paragraphs > MAX_PARAGRAPHS:
                raise _Bound(f"the .docx holds more than {MAX_PARAGRAPHS:,} paragraphs, more than a report can have")
        elif tag == _TC:
            self.cells += 1
            if self.cells > MAX_CELLS:
                raise _Bound(f"the .docx holds more than {MAX_CELLS:,} table cells, more than a report can have")
        elif tag == _REL:
            self.rels += 1
            if self.rels > MAX_RELATIONSHIPS:
                raise _Bound(f"the .docx has more than {MAX_RELATIONSHIPS:,} relationships (links to its parts), "
                             "more than a report can have")
        if self.elements > MAX_ELEMENTS:
            raise _Bound(f"the .docx holds more than {MAX_ELEMENTS:,} XML elements, more than a report can have")

    def end(self, tag):
        self.depth -= 1

    def data(self, data):
        pass

    def close(self):
        return None


_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_CHUNK = 1 << 20


def _read_part(z: zipfile.ZipFile, info: zipfile.ZipInfo, counter: _Counter) -> None:
    """Inflate one part in chunks (bounded whatever its header says) and count its XML."""
    xml = _is_xml(info.filename)
    limit = min(info.file_size, MAX_XML_PART if xml else MAX_UNPACKED)
    parser = etree.XMLParser(target=counter, resolve_entities=False, no_network=True, load_dtd=False) if xml else None
    counter.part, counter.depth = info.filename, 0
    seen = 0
    with z.open(info) as f:
        while chunk := f.read(_CHUNK):
            seen += len(chunk)
            if seen > limit:  # zipfile stops at the declared size; this is the belt to its braces
                raise ReportError(f"not a usable .docx: the part {info.filename} unpacks to more than its "
                                  f"declared {limit / 2**20:.1f} MB (a zip bomb?)", 1)
            if parser is not None:
                try:
                    parser.feed(chunk)
                except _Bound as exc:
                    raise ReportError(f"not a usable .docx: {info.filename}: {exc} (a damaged or hostile file)", 1) from None
                except etree.XMLSyntaxError:
                    parser = None  # python-docx parses it again and says what is wrong (or the part is unused)
    if parser is not None:
        try:
            parser.close()
        except _Bound as exc:
            raise ReportError(f"not a usable .docx: {info.filename}: {exc} (a damaged or hostile file)", 1) from None
        except etree.XMLSyntaxError:
            pass


def _xml_error(what: str, exc: Exception) -> str:
    """The reason for an XML part lxml cannot parse."""
    msg = str(exc).strip()
    if "Excessive depth" in msg:
        return (f"not a usable .docx: elements in {what} are nested more than {MAX_DEPTH} levels deep, more than "
                "the XML reader accepts (a damaged or hostile file)")
    if "limit exceeded" in msg or "XML_PARSE_HUGE" in msg:
        # libxml2 refuses a single tag or text node over 10 MB; no report holds one, and its
        # advice ("try XML_PARSE_HUGE") is for programmers, not for whoever sent the file.
        return (f"not a usable .docx: a tag or text in {what} is longer than 10 MB, more than the XML reader "
                "accepts (a damaged or hostile file)")
    return f"corrupt .docx: {what} cannot be read ({msg})"  # lxml names the line and column


def _check_content_types(data: bytes | None) -> None:
    """[Content_Types].xml must be an OPC content-types list; python-docx fails on anything
    else with an AttributeError from deep inside (e.g. a bare ``<Types/>`` without its
    namespace), so say what is wrong first."""
    if data is None:
        return
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise ReportError(_xml_error("[Content_Types].xml", exc), 1) from None
    if root.tag != f"{{{CT}}}Types":
        raise ReportError("not a .docx file: [Content_Types].xml is not a list of content types "
                          f"(its root element is <{etree.QName(root).localname}>"
                          f"{' without the OPC namespace' if etree.QName(root).localname == 'Types' else ''})", 1)
