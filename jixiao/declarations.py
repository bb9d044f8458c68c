"""The classes the schema is declared with, and the fields many tables share.

:class:`Field`, :class:`ForeignKey` and :class:`Table` describe a published table once: names,
types, Chinese and English titles, keys, facets and indexes. The helpers (``report_id``,
``line``, ``seq``, ``money``, ``number``, ``REPORT_FK``) build the fields nearly every table
has, so each is worded the same everywhere. The tables themselves are declared in
:mod:`jixiao.schema` (per report) and :mod:`jixiao.across_tables` (across reports); what is
generated from them is in :mod:`jixiao.ddl` (SQLite) and :mod:`jixiao.metadata` (Frictionless,
Datasette).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # string | integer | number | boolean | array | object
    zh: str  # Chinese title
    en: str  # English description
    zh_description: str = ""  # longer Chinese description, when the title is not enough
    unit: str | None = None  # 万元 | % | 人 | 件 | 分
    required: bool = False
    enum: tuple[str, ...] | None = None
    minimum: float | None = None
    phase: str | None = None  # fiscal phase of a money figure: 上年决算 / 年初预算 / 全年预算 / 执行 / 决算
    index: bool = False  # an SQLite index (facets and join columns)
    facet: bool = False  # a useful Datasette facet (implies an index, unless unindexed)
    # A facet without an index of its own: a few values, each common (findings.severity), so its
    # counts come from facet_counts_<table> (jixiao/facet_counts.py) and a page filtered on it
    # walks the key and finds its rows at once; the index only cost space (~4 MB at 2,000 reports).
    unindexed: bool = False
    # "table.column" this field copies (same meaning, same label; plugins/zh_labels.py, tests/test_labels.py).
    # Fields of several tables with the same name and zh title are one meaning; a zh title names one meaning.
    same_as: str | None = None
    # Stored zlib-compressed in SQLite (jixiao/textstore.py); plain text in the data packages.
    compressed: bool = False

    @property
    def is_money(self) -> bool:
        return self.unit == "万元"

    @property
    def description_zh(self) -> str:
        text = self.zh_description or self.zh
        return f"{text}（{self.unit}）" if self.unit else text


@dataclass(frozen=True)
class ForeignKey:
    column: str
    table: str
    other_column: str


@dataclass(frozen=True)
class Table:
    name: str
    zh: str  # Chinese title
    en: str  # English title
    zh_description: str
    en_description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    fts: tuple[str, ...] = ()  # columns indexed by the Chinese full-text search (see database.py)
    per_report: bool = True  # False: corpus-level only (build_errors)
    label_column: str | None = None
    # Composite indexes (column lists, in order) for the lookups the site does per report; see
    # jixiao/views.py. Without them SQLite seeks on a one-column facet index (kind, key, severity)
    # and scans every report's rows for each report.
    indexes: tuple[tuple[str, ...], ...] = ()
    # A clustered table (WITHOUT ROWID): the rows live in the primary-key B-tree itself, so there
    # is no rowid and no second copy of the key in a separate primary-key index.
    without_rowid: bool = False
    # Stored in a compact form in this table, and read through a view of the schema's name with
    # the schema's columns (jixiao/ddl.py STORAGE): table_cells as one JSON grid per source table,
    # shared_passages as pairs of place ids.
    stored_as: str | None = None

    @cached_property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name}.{name} is not in the schema")

    @property
    def indexed(self) -> list[str]:
        """Columns to index: facets, index=True and every foreign-key column not leading the pk."""
        cols = [f.name for f in self.fields if f.index or (f.facet and not f.unindexed)]
        cols += [fk.column for fk in self.foreign_keys]
        # a column that leads the key or a composite index is indexed by it already
        lead = {self.primary_key[0]} if self.primary_key else set()
        lead |= {cols[0] for cols in self.indexes}
        return [c for c in dict.fromkeys(cols) if c not in lead]

    @property
    def facets(self) -> list[str]:
        return [f.name for f in self.fields if f.facet]


# ---------------------------------------------------------------- field helpers


def report_id(fk: bool = True) -> Field:
    return Field("report_id", "string", "报告编号", "Stable readable id of the report: year-unit[-suffix].",
                 "报告编号：年度-单位名称（必要时加后缀）", required=True, index=True)


def line(en: str = "Source line (1-based) the row was read from.") -> Field:
    return Field("line", "integer", "原文行号", en, "本行数据在原文件中的行号（从 1 开始）", minimum=1)


def seq(en: str = "Order within the report, from 1.") -> Field:
    return Field("seq", "integer", "序号", en, required=True, minimum=1)


def money(name: str, zh: str, en: str, phase: str | None = None) -> tuple[Field, Field]:
    """A money figure in 万元 and the cell text it was read from."""
    return (
        Field(name, "number", zh, f"{en} In 万元 (10,000 yuan); converted when the report prints 元.",
              unit="万元", phase=phase),
        Field(f"{name}_text", "string", f"{zh}（原文）", f"{zh} exactly as printed in the report."),
    )


def number(name: str, zh: str, en: str, unit: str | None = None, minimum: float | None = None) -> tuple[Field, Field]:
    """A non-money figure (score, rate, count) and the cell text it was read from."""
    return (
        Field(name, "number", zh, en, unit=unit, minimum=minimum),
        Field(f"{name}_text", "string", f"{zh}（原文）", f"{zh} exactly as printed in the report."),
    )


REPORT_FK = ForeignKey("report_id", "reports", "report_id")
