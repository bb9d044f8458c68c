""".docx → the same :class:`~jixiao.parse.tika.Blocks` that the Tika text of the document gives.

The site's samples are Apache Tika's text rendering of .docx files (``tika --text``), and every
position the model stores is a line of that text. Reading a .docx directly we know the real
structure (which paragraph is in which cell, where a row ends), so the blocks are built from it,
while the line numbers are those Tika would print for the same document, computed as we walk:

* one line per paragraph (a line break inside a paragraph starts a new line, as in Tika);
  an empty paragraph is a blank line;
* a table cell: its first paragraph on a line that starts with TAB, the cell's further
  paragraphs on their own lines; a blank line after each row and one more after the table;
* Tika's extras are reproduced where they take lines or text: ``[bookmark: name]`` for the
  bookmarks that start in a paragraph (counted and stripped as artefacts, as for the text),
  ``[image: description]`` for described pictures, text-box paragraphs, the headers before and
  the footers after the body (and around a paragraph that ends a section), and content
  controls flattened to their text.

What Tika gives and this reader does not: list numbers that Word generates (``w:numPr``),
comments and footnote texts, and the text of embedded documents. ``Blocks.lines`` holds the
equivalent Tika lines, so the parser's line accounting works as for a text file.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

from lxml import etree

from ..errors import ReportError
from ..model import Cell, Paragraph, Row, TableBlock, clean_text
from .tika import Blocks, strip_artefacts

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
_RUN_CONTAINERS = {_w(t) for t in ("hyperlink", "fldSimple", "ins", "del", "moveFrom", "moveTo", "smartTag", "customXml")}
_HF_ORDER = ("first", "even", "default")  # Tika's order for headers and footers


# ---------------------------------------------------------------- opening


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


# ---------------------------------------------------------------- text as Tika writes it


def _attr(el, ns: str, name: str) -> str | None:
    return el.get(f"{{{ns}}}{name}")


@dataclass
class _Ctx:
    part: object  # the python-docx part whose relationships resolve r:id / r:embed

    def related(self, rid: str | None):
        if not rid:
            return None
        try:
            return self.part.related_parts[rid]
        except (KeyError, AttributeError):
            return None


def _t_text(t) -> str:
    """The text of a w:t. python-docx parses with ``resolve_entities=False``, so a reference to
    an entity the file declares itself (``&foo;``) stays a node, and the text after it is that
    node's tail: ``t.text`` alone would silently drop it (issue 15, 22). The reference is kept
    as printed (an external entity is never fetched) and the text after it is kept."""
    if len(t) == 0:
        return t.text or ""
    out = [t.text or ""]
    for node in t:
        if isinstance(node, etree._Entity):
            out.append(node.text or f"&{node.name};")
        out.append(node.tail or "")
    return "".join(out)


def _run_text(r, ctx: _Ctx) -> str:
    """POI's XWPFRun.text() and the pictures Tika writes after it."""
    out: list[str] = []
    for ch in r:
        tag = ch.tag
        if tag in (_w("t"), _w("delText")):
            out.append(_t_text(ch))
        elif tag in (_w("tab"), _w("ptab")):
            out.append("\t")
        elif tag in (_w("br"), _w("cr")):
            out.append("\n")
    # Text inside pictures and old-style drawings that are direct children of the run.
    pict = [_t_text(t) for ch in r if ch.tag in (_w("pict"), _w("drawing")) for t in ch.iter(_w("t"))]
    if pict:
        out.append("\n" + "\n".join(pict) + "\n")
    # [image: description] for a picture with a description whose data is in the package.
    for ch in r:
        if ch.tag != _w("drawing"):
            continue
        for pic in ch.iter(f"{{{PIC}}}pic"):
            cnv = pic.find(f"{{{PIC}}}nvPicPr/{{{PIC}}}cNvPr")
            blip = pic.find(f"{{{PIC}}}blipFill/{{{A}}}blip")
            descr = cnv.get("descr") if cnv is not None else None
            if descr is not None and blip is not None and ctx.related(_attr(blip, R, "embed")) is not None:
                out.append(f"[image: {descr}]")
    return "".join(out)


def _runs_text(container, ctx: _Ctx) -> str:
    out: list[str] = []
    for ch in container:
        if ch.tag == _w("r"):
            out.append(_run_text(ch, ctx))
        elif ch.tag in _RUN_CONTAINERS:
            out.append(_runs_text(ch, ctx))
        elif ch.tag == _SDT:
            content = ch.find(_SDT_CONTENT)
            if content is not None:
                out.append(_runs_text(content, ctx))
    return "".join(out)


def _paragraph_text(p, ctx: _Ctx) -> str:
    """What Tika writes inside the paragraph's <p>: bookmarks, runs, text-box paragraphs."""
    out = [f"[bookmark: {b.get(_w('name'), '')}]" for b in p if b.tag == _w("bookmarkStart")]
    out.append(_runs_text(p, ctx))
    for box in p.iter(f"{{{WPS}}}txbx"):
        for content in box.findall(_w("txbxContent")):
            for inner in content.iter(_P):
                out.append(_paragraph_text_plain(inner, ctx) + "\n")
    return "".join(out)


def _paragraph_text_plain(p, ctx: _Ctx) -> str:
    return "".join(f"[bookmark: {b.get(_w('name'), '')}]" for b in p if b.tag == _w("bookmarkStart")) + _runs_text(p, ctx)


def _sdt_text(sdt, ctx: _Ctx) -> str:
    """POI's XWPFSDTContent.getText(): paragraphs joined with newlines, table rows tab-joined."""
    content = sdt.find(_SDT_CONTENT)
    if content is None:
        return ""
    parts: list[str] = []
    kids = [k for k in content if k.tag in (_P, _TBL, _SDT, _w("r"))]
    for i, k in enumerate(kids):
        if k.tag == _P:
            parts.append(_runs_text(k, ctx))
        elif k.tag == _TBL:
            for tr in k.iter(_TR):
                cells = ["\t".join(_runs_text(p, ctx) for p in tc.iter(_P)) for tc in tr.findall(_TC)]
                parts.append("\t".join(cells) + "\n")
        elif k.tag == _SDT:
            parts.append(_sdt_text(k, ctx))
        else:
            parts.append(_run_text(k, ctx))
        if k.tag != _w("r") and i < len(kids) - 1:
            parts.append("\n")
    return "".join(parts)


# ---------------------------------------------------------------- walking


@dataclass
class _Reader:
    document: object
    out: Blocks = field(default_factory=lambda: Blocks(blocks=[]))
    pending: str = ""  # text Tika has written on the current line without ending it

    # -- lines

    @property
    def next_line(self) -> int:
        return len(self.out.lines) + 1

    def emit(self, text: str) -> int:
        self.out.lines.append(self.pending + text)
        self.pending = ""
        return len(self.out.lines)

    # -- body level

    def body(self, children, ctx: _Ctx) -> None:
        for el in children:
            if el.tag == _P:
                self.paragraph(el, ctx)
            elif el.tag == _TBL:
                self.table(el, ctx)
            elif el.tag == _SDT:
                for line in (_sdt_text(el, ctx)).split("\n"):
                    self.body_line(line)
            elif el.tag == _CUSTOM_XML:
                self.body(el, ctx)

    def paragraph(self, p, ctx: _Ctx) -> None:
        sect = p.find(f"{_w('pPr')}/{_w('sectPr')}")
        if sect is not None:
            self.headers_footers(sect, "header")
        for line in _paragraph_text(p, ctx).split("\n"):
            self.body_line(line)
        if sect is not None:
            self.headers_footers(sect, "footer")

    def body_line(self, line: str) -> None:
        """One line of body text, read as read_tika reads a paragraph line."""
        n = self.emit(line)
        if clean_text(line) == "":
            return
        stripped = strip_artefacts(line, self.out.artefacts)
        if clean_text(stripped) == "":
            self.out.artefact_lines.add(n)
        else:
            self.out.blocks.append(Paragraph(stripped.strip(" \t\u3000\xa0"), n))

    def headers_footers(self, sect, kind: str) -> None:
        """Tika writes a section's headers before it and its footers after it."""
        refs: dict[str, str] = {}
        for ref in sect.findall(_w(f"{kind}Reference")):
            refs[ref.get(_w("type")) or "default"] = _attr(ref, R, "id")
        doc_ctx = _Ctx(self.document.part)
        for typ in _HF_ORDER:
            part = doc_ctx.related(refs.get(typ))
            if part is None or not hasattr(part, "element"):
                continue
            self.body(part.element, _Ctx(part))

    # -- tables

    def table(self, tbl, ctx: _Ctx) -> None:
        rows: list[Row] = []
        for tr in _rows(tbl):
            cells = [self.cell(tc, ctx) for tc in _cells(tr)]
            self.emit("")  # </tr>
            if cells:
                rows.append(Row(cells, cells[0].line))
        self.emit("")  # </table>
        if rows:
            start = rows[0].cells[0].line
            end = max(c.line_end for r in rows for c in r.cells)
            self.out.blocks.append(TableBlock(rows, start, end))

    def cell(self, tc, ctx: _Ctx) -> Cell:
        lines = self.cell_lines(tc, ctx)
        if not lines:
            # A cell without a paragraph: Tika writes its TAB and goes on on the same line.
            self.pending += "\t"
            return Cell("", self.next_line, self.next_line)
        if _is_vmerge_continuation(tc):
            # Word shows nothing in a merged-away cell, whatever text it still holds.
            lines = [("", "")] * len(lines)
        first = self.emit("\t" + lines[0][0])
        for tika_line, _ in lines[1:]:
            self.emit(tika_line)
        # Trailing empty paragraphs are blank lines after the cell, as read_tika takes them.
        keep = len(lines)
        while keep > 1 and lines[keep - 1][0] == "":
            keep -= 1
        text = "\n".join(strip_artefacts(content, self.out.artefacts) for _, content in lines[:keep])
        return Cell(text, first, first + keep - 1)

    def cell_lines(self, container, ctx: _Ctx) -> list[tuple[str, str]]:
        """The Tika lines of a cell's content, each with the text it adds to the cell.

        A nested table is flattened into the cell: its cells' text goes in as lines, its
        layout (TAB before each cell, blank line after each row) is kept for the line count.
        """
        out: list[tuple[str, str]] = []
        pending = ""  # TABs of nested cells without a paragraph, as in :meth:`cell`

        def add(tika_line: str, content: str) -> None:
            nonlocal pending
            out.append((pending + tika_line, content))
            pending = ""

        for el in container:
            if el.tag == _P:
                for s in _paragraph_text(el, ctx).split("\n"):
                    add(s, s)
            elif el.tag == _TBL:
                for tr in _rows(el):
                    for tc in _cells(tr):
                        inner = self.cell_lines(tc, ctx)
                        if not inner:
                            pending += "\t"
                            continue
                        if _is_vmerge_continuation(tc):
                            inner = [("", "")] * len(inner)
                        add("\t" + inner[0][0], inner[0][1])
                        for item in inner[1:]:
                            add(*item)
                    add("", "")
                add("", "")
            elif el.tag == _SDT:
                for s in _sdt_text(el, ctx).split("\n"):
                    add(s, s)
            elif el.tag == _CUSTOM_XML:
                for item in self.cell_lines(el, ctx):
                    add(*item)
        if pending:
            out.append((pending, ""))
        return out


def _children(el, tag):
    """``el``'s children with ``tag``, looking through content controls and custom XML."""
    for child in el:
        if child.tag == tag:
            yield child
        elif child.tag in (_SDT, _CUSTOM_XML):
            inner = child.find(_SDT_CONTENT) if child.tag == _SDT else child
            if inner is not None:
                yield from _children(inner, tag)


def _rows(tbl):
    return _children(tbl, _TR)


def _cells(tr):
    return _children(tr, _TC)


def _is_vmerge_continuation(tc) -> bool:
    vm = tc.find(f"{_w('tcPr')}/{_w('vMerge')}")
    return vm is not None and vm.get(_w("val"), "continue") != "restart"


# ---------------------------------------------------------------- entry point


def read_docx(data: bytes) -> Blocks:
    """Read a .docx into blocks with Tika's line numbers; a broken file raises ReportError."""
    document, body = _open(data)
    reader = _Reader(document)
    ctx = _Ctx(document.part)
    final_sect = body.find(_w("sectPr"))
    try:
        if final_sect is not None:
            reader.headers_footers(final_sect, "header")
        reader.body([el for el in body if el.tag != _w("sectPr")], ctx)
        if final_sect is not None:
            reader.headers_footers(final_sect, "footer")
    except RecursionError:
        raise ReportError("corrupt .docx: tables nested too deeply to read", 1) from None
    if reader.pending:
        reader.emit("")
    reader.out.n_lines = len(reader.out.lines)
    return reader.out
