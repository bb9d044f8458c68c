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

from dataclasses import dataclass, field

from lxml import etree

from ..errors import ReportError
from ..model import Cell, Paragraph, Row, TableBlock, clean_text
from .docx_package import _CUSTOM_XML, _P, _SDT, _SDT_CONTENT, _TBL, _TC, _TR, A, PIC, R, WPS, _open, _w
from .tika import Blocks, strip_artefacts

_RUN_CONTAINERS = {_w(t) for t in ("hyperlink", "fldSimple", "ins", "del", "moveFrom", "moveTo", "smartTag", "customXml")}
_HF_ORDER = ("first", "even", "default")  # Tika's order for headers and footers


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
