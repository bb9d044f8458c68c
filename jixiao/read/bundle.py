"""A report published as several files (the narrative as PDF, the 自评表 as .xls, each
project form as another attachment), kept in one folder: read as one report.

Each file is read by its own reader; their canonical texts are joined into one (the narrative
first, then the attachments in name order), so the parser sees one report, and each file's
line range is kept as a :class:`~jixiao.model.SourcePart`: any table, cell or paragraph can
be traced to the file (and page) it came from.
"""
from __future__ import annotations

import hashlib

from ..errors import ReportError
from ..model import Cell, Paragraph, Row, SourcePart, TableBlock
from ..parse.tika import Blocks
from . import Source, read_source

MAX_FILES = 50


def canonical_text(src: Source) -> str:
    if src.text is not None:
        return src.text
    return "\n".join(src.blocks.lines) + "\n" if src.blocks.lines else ""


def _narrative_weight(src: Source) -> int:
    """How much running text a file holds: the narrative report comes first in the bundle."""
    return sum(len(b.text) for b in src.blocks.blocks if isinstance(b, Paragraph) and len(b.text) > 40)


def bundle_sha256(files: list[tuple[str, bytes]]) -> str:
    h = hashlib.sha256()
    for name, data in files:
        h.update(name.encode("utf-8") + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


def read_bundle(files: list[tuple[str, bytes]]) -> tuple[Source, list[SourcePart]]:
    """Read ``(name, bytes)`` files as one report. A file that cannot be read fails the bundle
    with its name in the reason (the whole report would otherwise be silently incomplete)."""
    if not files:
        raise ReportError("empty folder: no report files in it", None)
    if len(files) > MAX_FILES:
        raise ReportError(f"a report bundle holds at most {MAX_FILES} files; this folder holds {len(files)}", None)
    read: list[tuple[str, bytes, Source]] = []
    for name, data in files:
        try:
            read.append((name, data, read_source(data, name)))
        except ReportError as exc:
            where = f"{name}:{exc.line}" if exc.line else name
            raise ReportError(f"{where}: {exc.reason}", None) from None
    order = sorted(range(len(read)), key=lambda i: (-_narrative_weight(read[i][2]), read[i][0]))
    main = order[0] if _narrative_weight(read[order[0]][2]) > 0 else None
    order = ([main] if main is not None else []) + sorted((i for i in order if i != main), key=lambda i: read[i][0])
    texts: list[str] = []
    pages: list[int | None] = []
    parts: list[SourcePart] = []
    out = Blocks(blocks=[])
    line = 0
    for i in order:
        name, data, src = read[i]
        text = canonical_text(src)
        if text and not text.endswith("\n"):
            text += "\n"
        n = text.count("\n")
        # Each file keeps its own blocks (two tables of two files never run together), shifted
        # to where the file's text starts in the joined text; a blank line separates files.
        _shift_into(out, src.blocks, line)
        texts.append(text + "\n")
        own_pages = list(src.line_pages) + [None] * (n - len(src.line_pages))
        pages.extend(own_pages[:n] + [None])
        parts.append(SourcePart(name, hashlib.sha256(data).hexdigest(), src.source_format, line + 1, line + n))
        line += n + 1
    text = "".join(texts)
    out.lines = text.split("\n")[:-1]
    out.n_lines = len(out.lines)
    return Source(out, "bundle", "utf-8", text, pages if any(p is not None for p in pages) else []), parts


def _shift_into(out: Blocks, blocks: Blocks, offset: int) -> None:
    for b in blocks.blocks:
        if isinstance(b, Paragraph):
            out.blocks.append(Paragraph(b.text, b.line + offset))
            continue
        rows = [Row([Cell(c.text, c.line + offset, c.line_end + offset) for c in r.cells], r.line + offset)
                for r in b.rows]
        out.blocks.append(TableBlock(rows, b.line_start + offset, b.line_end + offset, list(b.caption)))
    out.artefacts.update(blocks.artefacts)
    out.artefact_lines.update(n + offset for n in blocks.artefact_lines)
