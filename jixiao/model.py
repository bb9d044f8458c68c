"""The typed model of one report: what the parser returns and every output is built from.

Plain dataclasses. Numbers are ``Decimal`` and always travel with the cell text they came
from and the source line, so any figure on the site can be traced back to the file.
"""
from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# ---------------------------------------------------------------- source blocks


@dataclass
class Cell:
    text: str  # raw text, continuation lines joined with "\n"
    line: int  # first source line
    line_end: int

    @property
    def clean(self) -> str:
        return clean_text(self.text)


@dataclass
class Row:
    cells: list[Cell]
    line: int

    @property
    def texts(self) -> list[str]:
        return [c.clean for c in self.cells]


@dataclass
class TableBlock:
    rows: list[Row]
    line_start: int
    line_end: int
    caption: list[str] = field(default_factory=list)  # 附件N / title paragraphs before it


@dataclass
class Paragraph:
    text: str
    line: int


# Zero-width and direction marks, BOM, and C0 controls: invisible, so never part of a value.
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\x00-\x08\x0b-\x0c\x0e-\x1f\x7f\u2028\u2029]")


_PAD = " \t\u3000\xa0"


# Cached: the parser and the checks ask for the clean form of the same cell and paragraph
# texts many times over (cell.clean, labels, blank-line tests); the answer depends on the
# string alone. Bounded by entries, so it holds at most the last 16,384 texts (a few dozen
# reports' worth; about twice their size), never every text of a long build.
@functools.lru_cache(maxsize=16384)
def clean_text(text: str) -> str:
    """Cell text as a reader sees it: no line breaks, no padding (incl. U+3000), no invisible marks."""
    text = INVISIBLE.sub("", text)
    if "\n" not in text:  # the common case: one line, nothing to join
        return text.strip(_PAD)
    return "".join(part.strip(_PAD) for part in text.split("\n")).strip(_PAD)


# ---------------------------------------------------------------- values


@dataclass
class Value:
    """One parsed cell or figure. ``text`` is always the original text."""

    text: str
    kind: str = "empty"  # empty | none (无) | dash (——) | number | text
    number: Decimal | None = None
    unit: str | None = None  # 万元, 元, %, 件, 人次, 个, 人 …
    op: str | None = None  # ≥ ≤ > < =
    qualifier: str | None = None  # 余 / 近 / 以上 / 以内 …
    line: int | None = None

    @property
    def clean(self) -> str:
        return clean_text(self.text)

    @property
    def is_plain_number(self) -> bool:
        return self.kind == "number" and self.unit is None and self.op is None and self.qualifier is None

    @property
    def is_blank(self) -> bool:
        return self.kind == "empty"


# ---------------------------------------------------------------- report parts


@dataclass
class Section:
    seq: int
    level: int  # 0 = preamble, 1 = 一、, 2 = （一）, 3 = 1、/1., 4 = ①
    number: str
    heading: str
    path: str
    body: str
    line_start: int
    line_end: int
    parent_seq: int | None = None


@dataclass
class Staffing:
    authorized: Value
    actual: Value
    control_rate: Value
    line: int


@dataclass
class ExpenseControl:
    """A row of the 基础数据表 经费控制 block, or of a separate 三公 table."""

    seq: int
    source: str  # basic_data | three_public_table
    label: str  # the cell as printed
    item: str  # without numbering / 其中：
    key: str | None  # vocabulary key (three_public_total, vehicles, project_total …)
    group: str | None  # three_public | project | public_funds | basic | personnel | staffing | other
    parent_item: str | None
    prev_final: Value
    budget: Value
    final: Value
    deviation: Value | None
    line: int
    placeholder: bool = False
    money_unit: str = "万元"  # as printed; outputs convert 元 → 万元


@dataclass
class DetailRow:
    """Expense detail tables (序号 / 支出项目 / 金额)."""

    table_seq: int
    seq: int
    number: str
    item: str
    parent_item: str | None
    amount: Value
    line: int
    money_unit: str = "万元"


@dataclass
class FundsRow:
    label: str
    key: str | None  # total | current_appropriation | carryover | other
    initial_budget: Value
    full_year_budget: Value
    executed: Value
    weight: Value
    execution_rate: Value
    score: Value
    line: int


@dataclass
class NatureItem:
    key: str  # general_public_budget | basic_expenditure | …
    label: str
    value: Value
    line: int


@dataclass
class Indicator:
    seq: int
    level1: str
    level2: str
    level3: str
    target: Value
    actual: Value
    weight: Value
    score: Value
    note: str
    line: int
    standard: str = ""  # 评价标准 (third-party tables)
    extra: dict[str, str] = field(default_factory=dict)  # 指标性质, 度量单位 …
    placeholder: bool = False  # nothing in target/actual/weight/score


@dataclass
class Evaluation:
    seq: int
    kind: str  # overall | project | third_party
    title: str
    project_name: str | None
    unit_cell: str | None  # 预算部门名称 / 单位名称 cell
    department: str | None  # 主管部门
    implementer: str | None  # 实施单位
    funds: list[FundsRow]
    by_nature: list[NatureItem]
    goal_expected: str
    goal_actual: str
    indicators: list[Indicator]
    total_weight: Value
    total_score: Value
    line_start: int
    line_end: int
    money_unit: str = "万元"  # of the funds block and by_nature items

    @property
    def funds_total(self) -> FundsRow | None:
        return next((f for f in self.funds if f.key == "total"), self.funds[0] if self.funds else None)


@dataclass
class Issue:
    """A warning from the parser (not a finding about the report's content)."""

    line: int
    code: str
    message: str


@dataclass
class Finding:
    """A check on the report's content (arithmetic, claims, disclosure). See jixiao.checks."""

    rule: str
    severity: str  # 错误 | 疑点 | 提示
    message: str  # Chinese, for readers
    expected: str | None
    actual: str | None
    line: int | None
    lines: list[int] = field(default_factory=list)
    # actual − expected when both are figures (in their unit: 万元, 分, 件, %…), else None;
    # findings of one severity are ranked by its size.
    difference: Decimal | None = None


@dataclass
class Unparsed:
    line: int
    text: str
    reason: str


@dataclass
class OtherLine:
    """A source paragraph that is neither narrative nor table: title, 单位名称 line, table
    caption or note (说明/填表人), portal front matter, cover-page date."""

    line: int
    role: str
    text: str


@dataclass
class GenericTable:
    seq: int
    caption: str
    rows: list[list[str]]
    lines: list[list[int]]
    line_start: int
    line_end: int
    kind: str = "generic"  # what the recogniser made of it (basic_data, evaluation, …)
    money_unit: str = "万元"


@dataclass
class SourcePart:
    """One file of a bundle: lines ``line_start``..``line_end`` of the canonical text."""

    file: str
    sha256: str
    source_format: str
    line_start: int
    line_end: int


@dataclass
class Report:
    report_id: str
    source_file: str
    source_sha256: str
    source_format: str  # tika-text | docx | doc | pdf | pdf-scan | html | xlsx | xls | image | bundle
    encoding: str
    title: str
    unit_name: str | None
    fiscal_year: int | None
    province: str | None
    city: str | None
    county: str | None
    division_code: str | None
    admin_level: str | None
    report_kind: str  # 自评报告 | 第三方评价报告 | 项目支出绩效自评表 | 部门整体支出绩效自评表 (standalone forms)
    evaluator: str | None
    stated_score: Value
    sections: list[Section]
    staffing: Staffing | None
    expense_controls: list[ExpenseControl]
    details: list[DetailRow]
    evaluations: list[Evaluation]
    tables: list[GenericTable]
    warnings: list[Issue]
    unparsed: list[Unparsed]
    artefacts: dict[str, int]
    line_counts: dict[str, int]  # how every non-blank source line was accounted for
    identity_lines: dict[str, int] = field(default_factory=dict)
    other_lines: list[OtherLine] = field(default_factory=list)
    # Provenance beyond the line: the canonical Tika-layout text a non-text input was rendered
    # to (line numbers refer to it; empty when the input is that text), the page of each line
    # of a paged source (PDF), and for a bundle the file each line range came from.
    source_text: str = ""
    line_pages: list[int | None] = field(default_factory=list)
    parts: list[SourcePart] = field(default_factory=list)
    # Where the report was published (from the build's optional sources.csv; never parsed).
    source_url: str | None = None
    publisher: str | None = None
    published_date: str | None = None  # ISO date

    @property
    def overall(self) -> Evaluation | None:
        return next((e for e in self.evaluations if e.kind == "overall"), None)

    @property
    def total_score(self) -> Value | None:
        """The 自评表 总分: the overall table's; for a standalone project form, that form's."""
        ev = self.overall
        if ev is None and self.report_kind == "项目支出绩效自评表":
            projects = [e for e in self.evaluations if e.kind == "project"]
            ev = projects[0] if len(projects) == 1 else None
        return ev.total_score if ev else None

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)


def to_jsonable(obj: Any) -> Any:
    """Dataclasses → dicts, Decimals → strings (exact), keeping key order."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, dict):
        return {k: to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    return obj


def from_jsonable(cls: Any, data: Any) -> Any:
    """The inverse of :func:`to_jsonable` for the model's own classes (used by the cache)."""
    if data is None:
        return None
    if dataclasses.is_dataclass(cls):
        kwargs = {}
        for name, tp in _field_types(cls):
            if name in data:
                kwargs[name] = _convert(tp, data[name])
        return cls(**kwargs)
    return data


@functools.lru_cache(maxsize=None)
def _field_types(cls: type) -> tuple[tuple[str, Any], ...]:
    """(field name, resolved type) of a model class. Resolving the string annotations
    (``from __future__ import annotations``) is slow, and the cache loads thousands of
    objects of a dozen classes, so it is done once per class."""
    import typing

    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))


def _convert(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    how, arg = _plan(tp)
    if how == "list":
        return [_convert(arg, v) for v in value]
    if how == "dict":
        return {k: _convert(arg, v) for k, v in value.items()}
    if how == "decimal":
        return Decimal(value)
    if how == "dataclass":
        return from_jsonable(arg, value)
    return value


@functools.lru_cache(maxsize=None)
def _plan(tp: Any) -> tuple[str, Any]:
    """How to rebuild a value of annotation ``tp``: decided once per annotation, since
    taking ``X | None`` / ``list[X]`` apart with typing.get_origin is slow per value."""
    import types
    import typing

    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        return _plan(non_none[0]) if non_none else ("as_is", None)
    if origin is list:
        return "list", args[0]
    if origin is dict:
        return "dict", args[1]
    if tp is Decimal:
        return "decimal", None
    if dataclasses.is_dataclass(tp):
        return "dataclass", tp
    return "as_is", None
