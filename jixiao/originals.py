"""The original files a report was read from, and the optional ``sources.csv`` of an input folder.

**Original files** go into the database itself, table ``source_files`` (one row per file: the
report's file, or each file of a bundle folder, with its bytes as a BLOB). Why the database:
the published site is one immutable SQLite file (copied to replicas and into the image), so the
originals travel with the figures that cite them and can never drift from them; serving from
``reports/`` would need that folder on every server and would serve whatever the file holds
*now*, not what was built. A file is stored only when the sha256 of the bytes read equals the
hash the report was built from (``reports.source_sha256`` for a file, ``source_parts.
source_sha256`` for each file of a bundle); otherwise it is left out and the build says so.
The table is not part of the Frictionless packages (CSV cannot carry the bytes; the packages
cite the file by name and sha256).

A file whose bytes are exactly its report's canonical text in UTF-8 (a Tika ``.txt``, the
common case) is not stored twice: its ``content`` is NULL and the download serves the first
``size`` bytes of ``source_texts.text`` (the reader may add a final newline; the sha256 is the
file's, checked here before it is left out). That was
one whole copy of the input in the database (issue 16: 95 MB of 675 at 2,000 reports).

**sources.csv** (optional, at the top of an input folder): one row per report file with its
source URL, publisher and publication date. The build joins it to each report by file name
(the path relative to that folder, or the bare name); parsing never sees it.
"""
from __future__ import annotations

import csv
import hashlib
import io
import mimetypes
import re
from pathlib import Path

TABLE = "source_files"
DDL = f"""create table if not exists [{TABLE}] (
   [report_id] TEXT NOT NULL REFERENCES [reports]([report_id]),
   [part] INTEGER NOT NULL,
   [file_name] TEXT NOT NULL,
   [sha256] TEXT NOT NULL,
   [size] INTEGER NOT NULL,
   [media_type] TEXT,
   [content] BLOB, -- NULL: the file is the first [size] bytes of source_texts.text (UTF-8)
   PRIMARY KEY ([report_id], [part])
)"""

MEDIA_TYPES = {
    ".txt": "text/plain; charset=utf-8", ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".doc": "application/msword", ".pdf": "application/pdf", ".html": "text/html", ".htm": "text/html",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xls": "application/vnd.ms-excel",
}

SOURCES_CSV = "sources.csv"
# Header variants → field (compared without case, spaces, underscores or hyphens).
_HEADERS = {
    "file": "file", "filename": "file", "sourcefile": "file", "文件": "file", "文件名": "file",
    "sourceurl": "source_url", "url": "source_url", "link": "source_url", "来源网址": "source_url", "网址": "source_url",
    "来源": "source_url", "publisher": "publisher", "发布机构": "publisher", "发布单位": "publisher",
    "publicationdate": "published_date", "publisheddate": "published_date", "published": "published_date",
    "date": "published_date", "发布日期": "published_date", "日期": "published_date",
}
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def media_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return MEDIA_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def create(conn) -> None:
    conn.execute(DDL)


def store(conn, path: str | Path, report_id: str, sha256: str, parts: list[tuple] | None = None) -> list[str]:
    """Store the original file(s) of one report; returns problems (files not stored), for the log.

    ``parts``: for a bundle folder, its (file name, sha256) in part order (source_parts)."""
    path = Path(path)
    create(conn)
    conn.execute(f"delete from [{TABLE}] where report_id = ?", [report_id])
    files = ([(path / name, want) for name, want in parts] if path.is_dir()
             else [(path, sha256)])
    problems = []
    text = _canonical_bytes(conn, report_id) if len(files) == 1 and _content_nullable(conn) else None
    for n, (fp, want) in enumerate(files, 1):
        try:
            data = fp.read_bytes()
        except OSError as exc:
            problems.append(f"{fp}: original not stored: {exc.strerror or exc}")
            continue
        got = hashlib.sha256(data).hexdigest()
        if want and got != want:
            problems.append(f"{fp}: original not stored: it changed since it was read (sha256 {got[:12]}…)")
            continue
        conn.execute(f"insert into [{TABLE}] values (?, ?, ?, ?, ?, ?, ?)",
                     [report_id, n, fp.name, got, len(data), media_type(fp.name), None if _is_text(data, text) else data])
    return problems


def _is_text(data: bytes, text: bytes | None) -> bool:
    """The file is its canonical text, give or take the final newline the reader adds (the
    download serves the text's first ``size`` bytes)."""
    return text is not None and text[:len(data)] == data and text[len(data):] in (b"", b"\n")


def file_bytes(content: bytes | None, size: int, text) -> bytes | None:
    """An original file's bytes from its row: ``content``, or where it is NULL the first ``size``
    bytes of its canonical text (``source_texts.text``, compressed) in UTF-8."""
    from .textstore import unpack

    return content if content is not None or text is None else unpack(text).encode("utf-8")[:size]


def _canonical_bytes(conn, report_id: str) -> bytes | None:
    import sqlite3

    try:
        row = conn.execute("select text from source_texts where report_id = ?", [report_id]).fetchone()
    except sqlite3.OperationalError:  # no canonical texts in this database: store the bytes
        return None
    from .textstore import unpack

    return unpack(row[0]).encode("utf-8") if row and row[0] else None


def _content_nullable(conn) -> bool:
    """False for a database made before originals could share the canonical text (content NOT
    NULL): a build changing it in place keeps storing the bytes."""
    return not any(c[1] == "content" and c[3] for c in conn.execute(f"pragma table_info([{TABLE}])"))


def prune(conn) -> None:
    """Drop the originals of reports no longer in the database (an incremental build)."""
    create(conn)
    conn.execute(f"delete from [{TABLE}] where report_id not in (select report_id from reports)")


# ---------------------------------------------------------------- sources.csv


def normalise_date(text: str) -> str | None:
    m = _DATE.search(text or "")
    if not m:
        return (text or "").strip() or None
    y, mo, d = (int(g) for g in m.groups())
    return f"{y:04d}-{mo:02d}-{d:02d}"


def parse_sources(text: str) -> dict[str, dict[str, str | None]]:
    """sources.csv text → {file name: {source_url, publisher, published_date}}. Rows without a
    file are ignored; unknown columns too."""
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        return {}
    fields = [_HEADERS.get(re.sub(r"[\s_\-]", "", h).lower()) for h in header]
    out = {}
    for row in reader:
        rec = {f: v.strip() for f, v in zip(fields, row) if f}
        name = rec.get("file", "").strip()
        if not name:
            continue
        out[name.replace("\\", "/").strip("/")] = {
            "source_url": rec.get("source_url") or None,
            "publisher": rec.get("publisher") or None,
            "published_date": normalise_date(rec.get("published_date") or ""),
        }
    return out


def load_sources(inputs) -> dict[Path, dict]:
    """The rows of every input folder's sources.csv, keyed by the resolved path they name."""
    found: dict[Path, dict] = {}
    for inp in inputs:
        folder = Path(inp)
        csv_path = folder / SOURCES_CSV
        if not folder.is_dir() or not csv_path.is_file():
            continue
        rows = parse_sources(csv_path.read_text("utf-8-sig"))
        by_name = {}
        for name, rec in rows.items():
            by_name.setdefault(Path(name).name, rec)
            found[(folder / name).resolve()] = rec
        # A bare file name also matches a file of that name deeper in the folder.
        for fp in folder.rglob("*"):
            if fp.name in by_name and fp.resolve() not in found:
                found[fp.resolve()] = by_name[fp.name]
    return found


def source_of(sources: dict[Path, dict], path: str | Path) -> dict | None:
    return sources.get(Path(path).resolve()) if sources else None
