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

import csv
import io
import json
import os
import re
import shutil
import tempfile
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

from .model import Report
from .schema import LICENSE, SOURCE_TITLE, TABLES, Table, frictionless_schema

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


def folder_name(report: Report) -> str:
    name = _SAFE_FOLDER.sub("_", report.report_id).strip(". ")
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


def csv_text(t: Table, rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(t.field_names)
    for row in rows:
        w.writerow([csv_value(row[n]) for n in t.field_names])
    return buf.getvalue()


def resource(t: Table) -> dict[str, Any]:
    return {
        "name": t.name,
        "type": "table",
        "path": f"{t.name}.csv",
        "scheme": "file",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "title": f"{t.zh} {t.en}",
        "description": f"{t.zh_description}\n{t.en_description}",
        "schema": frictionless_schema(t),
    }


def descriptor(name: str, title: str, description: str, reports: list[Report], tables: list[Table]) -> dict:
    return {
        "name": name,
        "title": title,
        "description": description,
        "version": version(),
        "created": created([r.fiscal_year for r in reports]),
        "licenses": [LICENSE],
        "sources": [
            {"title": r.source_file, "path": r.source_file, "sha256": r.source_sha256, "report_id": r.report_id}
            for r in reports
        ],
        "keywords": ["绩效自评", "部门整体支出", "performance evaluation", "China", "budget"],
        "resources": [resource(t) for t in tables],
    }


def report_package(report: Report, rows: dict[str, list[dict]]) -> dict[str, str]:
    """Files (relative path → text) of one report's package."""
    tables = [t for t in TABLES if t.per_report]
    desc = descriptor(
        package_name(report),
        f"{report.title or report.report_id}",
        f"{report.unit_name or ''} {report.fiscal_year or ''} 年度绩效自评报告的结构化数据（{report.report_kind}）。"
        f"\nStructured data of one performance self-evaluation report. {SOURCE_TITLE}",
        [report], tables,
    )
    return _files(desc, tables, rows)


def corpus_package(reports: list[Report], rows: dict[str, list[dict]]) -> dict[str, str]:
    tables = list(TABLES)
    desc = descriptor(
        CORPUS,
        "绩效自评报告开放数据（全部报告） jixiao corpus",
        f"全部 {len(reports)} 份部门整体支出绩效自评报告的结构化数据。金额单位万元，比率为百分数。"
        "\nAll reports in one package. Money in 万元 (10,000 yuan), rates in percent.",
        reports, tables,
    )
    return _files(desc, tables, rows)


def _files(desc: dict, tables: list[Table], rows: dict[str, list[dict]]) -> dict[str, str]:
    files = {"datapackage.json": json.dumps(desc, ensure_ascii=False, indent=2) + "\n"}
    for t in tables:
        files[f"{t.name}.csv"] = csv_text(t, rows.get(t.name, []))
    return files


def write_tree(out: str | Path, tree: dict[str, dict[str, str]]) -> None:
    """Write ``{folder: {file: text}}`` under ``out``, replacing it only when complete."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    os.chmod(tmp, 0o755)
    try:
        for folder, files in sorted(tree.items()):
            d = tmp / folder
            d.mkdir(parents=True)
            for name, text in files.items():
                (d / name).write_text(text, encoding="utf-8", newline="")
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.replace(out, old / out.name)
        os.replace(tmp, out)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
