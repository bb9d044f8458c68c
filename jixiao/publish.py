"""One parsed report → everything the build writes for it. Pure: no I/O.

The build runs :func:`publish` in its worker processes, so the expensive steps (checks,
row shaping) run in parallel and the main process only streams
the results into SQLite (the data packages are written from the finished database). A :class:`Published` is also what the build
cache stores, so an unchanged report costs one unpickle on the next build.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter

from .model import Report
from .package import package_name
from .rows import report_rows
from .ddl import sql_value
from .schema import TABLES
from .search import report_documents

PER_REPORT = [t for t in TABLES if t.per_report]


@dataclass(frozen=True)
class Built:
    """What the build keeps of a report once it is written (small: one per report in memory)."""

    report_id: str
    source_file: str
    source_sha256: str
    fiscal_year: int | None
    warnings: int
    unparsed: int
    source_url: str | None = None  # from sources.csv (the corpus package's sources)
    publisher: str | None = None
    published_date: str | None = None


@dataclass
class Published:
    built: Built
    sql: dict[str, list[tuple]]  # table → rows as SQLite values, in schema column order
    # the report's search documents (jixiao.search.report_documents), computed here in the
    # worker so that the process writing the database only inserts them; None: not computable
    search: list[tuple] | None = None

    @property
    def report_id(self) -> str:
        return self.built.report_id


_PLAIN = (str, int, float, type(None))  # stored as they are (bool is not among them: 1/0, true/false)


@lru_cache(maxsize=None)
def _plain_ok(t) -> tuple[bool, ...]:
    """Per column: may a plain Python value go to SQLite as it is? (not for JSON columns)"""
    return tuple(f.type not in ("array", "object", "boolean") for f in t.fields)


_PLAIN_TYPES = frozenset(_PLAIN)


@lru_cache(maxsize=None)
def _getter(t):
    """The row's values in column order, as a tuple (one C call)."""
    names = tuple(t.field_names)
    get = itemgetter(*names)
    return get if len(names) > 1 else (lambda row: (get(row),))


def sql_rows(t, rows: list[dict]) -> list[tuple]:
    fields, ok, get = t.fields, _plain_ok(t), _getter(t)
    every_plain = all(ok)
    out = []
    for row in rows:
        values = get(row)
        # most rows (table cells …) hold only plain values: the tuple as it is
        if not (every_plain and _PLAIN_TYPES.issuperset(map(type, values))):
            values = tuple(v if k and type(v) in _PLAIN else sql_value(f, v) for f, k, v in zip(fields, ok, values))
        out.append(values)
    return out


def publish(report: Report) -> Published:
    name = package_name(report)
    rows = report_rows(report, name)
    built = Built(report.report_id, report.source_file, report.source_sha256, report.fiscal_year,
                  len(report.warnings), len(report.unparsed), report.source_url, report.publisher,
                  report.published_date)
    sql = {t.name: sql_rows(t, rows[t.name]) for t in PER_REPORT}
    return Published(built=built, sql=sql, search=report_documents(sql, _COLUMNS))


_COLUMNS = {t.name: tuple(t.field_names) for t in PER_REPORT}
