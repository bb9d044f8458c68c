"""Frictionless data packages: one per report and one for the whole corpus.

Layout::

    datapackages/<report_id>/datapackage.json + <table>.csv   (one per report; readable folder name)
    datapackages/jixiao/datapackage.json + <table>.csv         (the corpus, all reports)

Folder names keep the readable report_id (e.g. ``2024-岳阳市司法局``); the package ``name``
must be lowercase ASCII, so it is derived from the inputs: ``jixiao-<division code>-<year>-
<first 8 hex of the source sha256>`` (see :func:`package_name`).

Byte-identical rebuilds: rows are in schema order, JSON keys in a fixed order, numbers as
exact decimals, and ``created`` is derived from the inputs, never from the clock: it is
1 January of the year after the (latest) fiscal year covered, the earliest date such a report
can be published. The whole tree is written to a temporary folder beside the target and
swapped in only when complete.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from decimal import Decimal
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from .model import Report
from .schema import LICENSE, SOURCE_TITLE, TABLE_BY_NAME, TABLES, Table, frictionless_schema

CORPUS = "jixiao"
_SAFE_FOLDER = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def version() -> str:
    try:
        return metadata.version("jixiao")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a plain checkout
        return "0.0.0"


def package_name(report: Report) -> str:
    """A valid Frictionless name for the report's package (lowercase ASCII, stable)."""
    return f"jixiao-{report.division_code or 'unknown'}-{report.fiscal_year or 'unknown'}-{report.source_sha256[:8]}"


MAX_NAME_BYTES = 100  # a folder name, whatever the report says (file systems stop at 255 bytes)


def bounded_name(name: str, limit: int = MAX_NAME_BYTES) -> str:
    """``name`` if it fits in ``limit`` UTF-8 bytes; else its longest prefix that does, with
    ``-`` and 8 hex of the whole name's sha256 (so two long names stay apart)."""
    if len(name.encode("utf-8")) <= limit:
        return name
    import hashlib

    tail = "-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    head = name.encode("utf-8")[:limit - len(tail)].decode("utf-8", "ignore").rstrip(". ")
    return head + tail


def folder_name(report: Report) -> str:
    name = bounded_name(_SAFE_FOLDER.sub("_", report.report_id).strip(". "))
    return name if name and name != CORPUS else f"report-{report.source_sha256[:12]}"


def created(years: list[int | None]) -> str:
    known = [y for y in years if y]
    year = max(known) + 1 if known else 1970
    return f"{year:04d}-01-01T00:00:00Z"


def csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def resource(t: Table) -> dict[str, Any]:
    return {
        "name": t.name,
        "type": "table",
        "path": f"{t.name}.csv",
        "scheme": "file",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        # Stated, not sniffed: a column of source text full of TABs would be taken for the delimiter.
        "dialect": {"delimiter": ",", "quoteChar": "\"", "doubleQuote": True, "header": True},
        "title": f"{t.zh} {t.en}",
        "description": f"{t.zh_description}\n{t.en_description}",
        "schema": frictionless_schema(t),
    }


def source_entry(r) -> dict[str, Any]:
    """A report's entry in ``sources``: its file, and where it was published when sources.csv says."""
    entry = {"title": r.source_file, "path": r.source_file, "sha256": r.source_sha256, "report_id": r.report_id}
    for key, name in (("source_url", "url"), ("publisher", "publisher"), ("published_date", "published")):
        if getattr(r, key, None):
            entry[name] = getattr(r, key)
    return entry


def descriptor(name: str, title: str, description: str, reports: list[Report], tables: list[Table]) -> dict:
    return {
        "name": name,
        "title": title,
        "description": description,
        "version": version(),
        "created": created([r.fiscal_year for r in reports]),
        "licenses": [LICENSE],
        "sources": [source_entry(r) for r in reports],
        "keywords": ["绩效自评", "部门整体支出", "performance evaluation", "China", "budget"],
        "resources": [resource(t) for t in tables],
    }


def report_descriptor(report: Report) -> dict:
    """The datapackage.json of one report's package."""
    return descriptor(
        package_name(report),
        f"{report.title or report.report_id}",
        f"{report.unit_name or ''} {report.fiscal_year or ''} 年度绩效自评报告的结构化数据（{report.report_kind}）。"
        f"\nStructured data of one performance self-evaluation report. {SOURCE_TITLE}",
        [report], [t for t in TABLES if t.per_report],
    )


def corpus_descriptor(reports: list) -> dict:
    """The datapackage.json of the corpus package (``reports``: anything with the source fields)."""
    return descriptor(
        CORPUS,
        "绩效自评报告开放数据（全部报告） jixiao corpus",
        f"全部 {len(reports)} 份部门整体支出绩效自评报告的结构化数据。金额单位万元，比率为百分数。"
        "\nAll reports in one package. Money in 万元 (10,000 yuan), rates in percent.",
        reports, list(TABLES),
    )


_RESOURCES = "\u0000resources\u0000"


@lru_cache(maxsize=4)
def _resources_json(names: tuple[str, ...]) -> str:
    """The resources list as it sits in a descriptor (one nesting level deep)."""
    text = json.dumps([resource(TABLE_BY_NAME[n]) for n in names], ensure_ascii=False, indent=2)
    return text.replace("\n", "\n  ")


def dumps(desc: dict) -> str:
    """The descriptor as JSON (2-space indent). The resources (all the table schemas, ~100 KB,
    the same in every package) are serialised once and spliced in: the indenting encoder is
    pure Python and was the slowest step of publishing a report."""
    names = tuple(r["name"] for r in desc["resources"])
    if [resource(TABLE_BY_NAME[n]) for n in names[:1]] != desc["resources"][:1]:
        return json.dumps(desc, ensure_ascii=False, indent=2) + "\n"  # not the standard resources
    text = json.dumps({**desc, "resources": _RESOURCES}, ensure_ascii=False, indent=2)
    return text.replace(json.dumps(_RESOURCES), _resources_json(names), 1) + "\n"


def write_folder(d: Path, files: dict[str, str], reuse_from: Path | None = None) -> bool:
    """Create folder ``d`` with ``files``, or hard-link them from ``reuse_from`` (an identical
    folder of the previous tree). True when linked. Files are never modified in place, only
    replaced with the whole tree, so sharing inodes with the previous tree is safe."""
    d.mkdir()
    if reuse_from is not None and reuse_from.is_dir():
        try:
            for name in files:
                os.link(reuse_from / name, d / name)
            return True
        except OSError:  # a file missing, another file system, links not allowed: write instead
            shutil.rmtree(d)
            d.mkdir()
    for name, text in files.items():
        with open(d / name, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    return False


def remove_later(path: Path) -> None:
    """Delete a folder in a detached process: unlinking a big old tree takes seconds and is not
    needed to finish the build (the name is unique and hidden; a leftover is swept next time)."""
    import subprocess

    try:
        subprocess.Popen(["rm", "-rf", "--", str(path)], start_new_session=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        shutil.rmtree(path, ignore_errors=True)


class TreeWriter:
    """Writes the package tree into a temporary folder beside ``out``; :meth:`commit` swaps it in.

    Report folders are made by the build's workers under :attr:`parts` (see :func:`write_folder`)
    and moved to their final name with :meth:`place`, or written here with :meth:`add_report`.
    Their CSV rows are appended to the corpus package's CSVs as they come
    (:meth:`append_corpus`), so nothing is held in memory.
    """

    def __init__(self, out: str | Path):
        self.out = Path(out)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.keys: dict[str, str] = {}  # folder → cache key of what was written there
        self.folders: set[str] = set()
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.", suffix=".tmp", dir=self.out.parent))
        self.parts = self.tmp / ".parts"
        self.corpus = {}
        self._previous = {}  # table → the previous corpus CSV, opened when rows are copied from it
        try:
            os.chmod(self.tmp, 0o755)
            for stale in self.out.parent.glob(f".{self.out.name}.*.old"):  # left by an interrupted removal
                remove_later(stale)
            self.parts.mkdir()
            (self.tmp / CORPUS).mkdir()
            for t in TABLES:
                # binary, so the byte range of each report's rows is known (see :meth:`copy_corpus`)
                self.corpus[t.name] = open(self.tmp / CORPUS / f"{t.name}.csv", "wb")
                self.corpus[t.name].write((",".join(t.field_names) + "\n").encode())
        except BaseException:
            self.abort()
            raise

    def unique_folder(self, folder: str, fallback: str) -> str:
        return fallback if folder in self.folders or folder == CORPUS else folder

    def place(self, part: str, folder: str, key: str | None = None) -> None:
        """Move the folder a worker made under :attr:`parts` to its name in the tree."""
        os.rename(self.parts / part, self.tmp / folder)
        self.folders.add(folder)
        if key:
            self.keys[folder] = key

    def add_report(self, folder: str, files: dict[str, str]) -> None:
        write_folder(self.tmp / folder, files)
        self.folders.add(folder)

    def append_corpus(self, csv_rows: dict[str, str]) -> dict[str, tuple[int, int]]:
        """Append one report's rows to the corpus CSVs; returns each table's byte range."""
        ranges = {}
        for name, text in csv_rows.items():
            fh = self.corpus[name]
            start = fh.tell()
            fh.write(text.encode())
            ranges[name] = (start, fh.tell())
        return ranges

    def link_folder(self, old: str, folder: str, key: str) -> None:
        """Take a report folder unchanged from the previous tree (hard links)."""
        d = self.tmp / folder
        d.mkdir()
        for f in os.scandir(self.out / old):
            os.link(f.path, d / f.name)
        self.folders.add(folder)
        self.keys[folder] = key

    def copy_corpus(self, ranges: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
        """Append a report's rows copied from the previous tree's corpus CSVs (byte ranges)."""
        out = {}
        for name, (start, end) in ranges.items():
            src = self._previous.get(name)
            if src is None:
                src = self._previous[name] = open(self.out / CORPUS / f"{name}.csv", "rb")
            src.seek(start)
            fh = self.corpus[name]
            new_start = fh.tell()
            fh.write(src.read(end - start))
            out[name] = (new_start, fh.tell())
        return out

    def close(self, corpus_descriptor_text: str, extra_rows: dict[str, str]) -> None:
        """The corpus package's last rows and descriptor: the tree is complete, not yet in place."""
        try:
            self.append_corpus(extra_rows)
            for fh in [*self.corpus.values(), *self._previous.values()]:
                fh.close()
            (self.tmp / CORPUS / "datapackage.json").write_text(corpus_descriptor_text, encoding="utf-8")
            shutil.rmtree(self.parts)  # empty unless a worker's folder was not used
        except BaseException:
            self.abort()
            raise

    def commit(self) -> None:
        """Swap the new tree in (two renames); the old tree is removed in the background."""
        old = None
        if self.out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.", suffix=".old", dir=self.out.parent))
            os.replace(self.out, old / self.out.name)
        os.replace(self.tmp, self.out)
        if old:
            remove_later(old)

    def abort(self) -> None:
        for fh in [*self.corpus.values(), *self._previous.values()]:
            fh.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
