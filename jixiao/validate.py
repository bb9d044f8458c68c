"""``jixiao validate``: Frictionless validation of every package plus our own checks.

Our checks, on the built database and the packages:

* every ``report_id`` in every table exists in ``reports`` (and every ``evaluation_id``
  in ``evaluations``);
* the counts the model gave at build time (``reports.sections_count``, ``indicators_count``,
  ``findings_count``, ``warnings_count``, ``unparsed_count``) equal the rows in the tables;
* the corpus package holds every table of the schema, as CSV (gzip) and as Parquet, each with
  exactly the database's rows, and the Parquet files the schema's columns;
* every table and column of the schema exists in the database, and the search index has
  one row per section.
"""
from __future__ import annotations

import csv
import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from . import search, textstore
from .schema import TABLES

MODEL_COUNTS = {
    "sections_count": "sections",
    "indicators_count": "indicators",
    "findings_count": "findings",
    "warnings_count": "warnings",
    "unparsed_count": "unparsed",
}


@dataclass
class Validation:
    packages: dict[str, list[str]] = field(default_factory=dict)  # package folder → problems
    checks: list[str] = field(default_factory=list)  # problems found by our own checks
    checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.checks and not any(self.packages.values())

    def text(self) -> str:
        out = []
        for name, problems in sorted(self.packages.items()):
            out.append(f"{'ok  ' if not problems else 'FAIL'} package {name}")
            out.extend(f"       {p}" for p in problems[:20])
            if len(problems) > 20:
                out.append(f"       … {len(problems) - 20} more")
        out.append(f"{'ok  ' if not self.checks else 'FAIL'} database and referential checks ({self.checked} checks)")
        out.extend(f"       {p}" for p in self.checks)
        out.append("valid" if self.ok else "INVALID")
        return "\n".join(out)


def frictionless_problems(descriptor: Path) -> list[str]:
    from frictionless import Package

    report = Package(str(descriptor)).validate()
    if report.valid:
        return []
    problems = [f"{e.type}: {e.message}" for e in report.errors]
    for task in report.tasks:
        problems += [f"{task.name}: {e.type}: {e.message}" for e in task.errors]
    return problems


def csv_rows(path: Path) -> int:
    """Data rows of a CSV file (gzip when its name ends in .gz)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def parquet_shape(path: Path) -> tuple[int, list[str]]:
    """Rows and column names of a Parquet file (from its footer)."""
    import pyarrow.parquet as pq

    f = pq.ParquetFile(path)
    return f.metadata.num_rows, f.schema_arrow.names


def validate(packages: str | Path = "datapackages", db_path: str | Path = "build/jixiao.db",
             frictionless: bool = True) -> Validation:
    packages, db_path = Path(packages), Path(db_path)
    v = Validation()
    descriptors = sorted(packages.glob("*/datapackage.json"))
    if not descriptors:
        v.checks.append(f"no data packages under {packages}")
    for d in descriptors:
        v.packages[d.parent.name] = frictionless_problems(d) if frictionless else []
    if not db_path.exists():
        v.checks.append(f"no database at {db_path}")
        return v
    db = sqlite_utils.Database(db_path)
    textstore.register(db.conn)  # table_cells reads its compressed grids with it
    try:
        _database_checks(db, v)
        _package_checks(db, descriptors, v)
    finally:
        db.conn.close()
    return v


def _check(v: Validation, ok: bool, problem: str) -> None:
    v.checked += 1
    if not ok:
        v.checks.append(problem)


def _database_checks(db: sqlite_utils.Database, v: Validation) -> None:
    names = set(db.table_names()) | set(db.view_names())  # table_cells is a view over its grids (jixiao/ddl.py: GRIDS)
    for t in TABLES:
        _check(v, t.name in names, f"table {t.name} missing from the database")
        if t.name in names:
            cols = [c.name for c in db[t.name].columns]
            _check(v, cols == t.field_names, f"{t.name}: columns {cols} differ from the schema")
    for t in TABLES:
        for fk in t.foreign_keys:
            orphans = db.execute(
                f"select count(*) from [{t.name}] where [{fk.column}] not in (select [{fk.other_column}] from [{fk.table}])"
            ).fetchone()[0]
            _check(v, orphans == 0, f"{t.name}: {orphans} row(s) whose {fk.column} is not in {fk.table}")
    for col, tname in MODEL_COUNTS.items():
        bad = db.execute(
            f"select r.report_id, r.{col}, (select count(*) from [{tname}] x where x.report_id = r.report_id) as n "
            f"from reports r where r.{col} != n"
        ).fetchall()
        for rid, expected, n in bad:
            v.checks.append(f"{rid}: the model has {expected} {tname}, the database {n}")
        v.checked += 1
    # the search index holds one document for each the tables give (jixiao/search.py: sections,
    # table rows, indicators, findings); it keeps no per-document record to list them by
    n_docs = sum(1 for _ in search.documents(db.conn))
    n_fts = search.indexed_documents(db.conn)
    _check(v, n_fts == n_docs, f"sections_fts has {n_fts} documents, the tables give {n_docs}")


def _package_checks(db: sqlite_utils.Database, descriptors: list[Path], v: Validation) -> None:
    corpus = [d for d in descriptors if d.parent.name == "jixiao"]
    _check(v, bool(corpus), "no corpus package (jixiao/datapackage.json)")
    for d in corpus:
        desc = json.loads(d.read_text(encoding="utf-8"))
        resources = {r["name"]: d.parent / r["path"] for r in desc["resources"]}
        for t in TABLES:
            n = db[t.name].count
            got = csv_rows(resources[t.name]) if t.name in resources else -1
            _check(v, got == n, f"corpus package {t.name}: {got} rows, database {n}")
            pq = resources.get(f"{t.name}-parquet")
            rows, cols = parquet_shape(pq) if pq else (-1, [])
            _check(v, rows == n, f"corpus package {t.name}.parquet: {rows} rows, database {n}")
            _check(v, cols == t.field_names, f"corpus package {t.name}.parquet: columns {cols} differ from the schema")
        ids = [r["report_id"] for r in desc.get("sources", [])]
        _check(v, ids == [r[0] for r in db.execute("select report_id from reports order by report_id")],
               "corpus package: its sources are not the database's reports")
