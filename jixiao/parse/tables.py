"""Table recognisers: what a table is is decided by what its headers and rows say.

Each recogniser takes a :class:`TableBlock` and returns typed rows plus warnings. Every
table is also kept whole as cells (:class:`GenericTable`), so nothing is lost when a
recogniser does not understand a row. The evaluation table's recogniser is in
:mod:`jixiao.parse.evaluation`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..model import DetailRow, Evaluation, ExpenseControl, Issue, Row, Staffing, TableBlock, Value, clean_text
from . import vocab
from .values import parse_value

KINDS = ("basic_data", "evaluation", "third_party", "three_public", "detail", "generic")


_IN_YUAN = re.compile(r"[（(]元[）)]|单位[:：]元(?!万)|金额[（(]?元")
_FOUR_DIGITS = re.compile(r"(\d{4})")
_QIZHONG = re.compile(r"^\s*其中")
_CN_ORDINAL = re.compile(r"[一二三四五六七八九十]+")


@dataclass
class TableResult:
    kind: str
    staffing: Staffing | None = None
    expense_controls: list[ExpenseControl] = field(default_factory=list)
    details: list[DetailRow] = field(default_factory=list)
    evaluation: Evaluation | None = None
    warnings: list[Issue] = field(default_factory=list)
    money_unit: str = "万元"


def _keys(row: Row, section: str) -> list[str | None]:
    return [vocab.lookup(section, c.text) for c in row.cells]


def money_unit_of(table: TableBlock) -> str:
    """万元 unless a header or caption says the amounts are in 元."""
    head = " ".join(table.caption) + " " + " ".join(c.text for r in table.rows[:3] for c in r.cells)
    head = head.replace(" ", "")
    if _IN_YUAN.search(head) and "万元" not in head:
        return "元"
    return "万元"


def classify(table: TableBlock) -> str:
    """Recognise a table by its headers and row labels."""
    ind_hdr = fund_hdr = third = basic = staffing = detail = three = basic_header = False
    for row in table.rows:
        ik = set(_keys(row, "indicator_columns"))
        if "level1" in ik and ({"target", "actual"} & ik):
            ind_hdr = True
        if "level1" in ik and "standard" in ik and not ({"target", "actual"} & ik):
            third = True
        fk = _keys(row, "funds_columns")
        if sum(1 for k in fk if k in ("initial_budget", "full_year_budget", "executed")) >= 2:
            fund_hdr = True
        labels = [vocab.normalise_label(c.text) for c in row.cells]
        if any(l in ("经费控制情况",) for l in labels):
            basic = True
        if labels and labels[0] in ("财政供养人员情况",) or (labels and vocab.lookup("staffing_columns", row.cells[-1].text) == "control_rate"):
            staffing = True
        if labels[:1] == ["序号"] and any("金额" in l for l in labels):
            detail = True
        if labels and "三公" in labels[0] and any(vocab.lookup("three_public_columns", c.text) == "deviation" for c in row.cells):
            three = True
        bk = [vocab.lookup("basic_data_columns", c.text) for c in row.cells]
        if sum(1 for k in bk if k) >= 3:
            basic_header = True
    if basic_header and any(vocab.lookup("expense_items", r.cells[0].text) for r in table.rows):
        basic = True
    if third:
        return "third_party"
    if ind_hdr or fund_hdr:
        return "evaluation"
    if basic or staffing:
        return "basic_data"
    if three:
        return "three_public"
    if detail:
        return "detail"
    return "generic"


# ------------------------------------------------------------------ 基础数据表


def _resolve_basic_columns(header: Row) -> dict[int, str]:
    """Column index → prev_final / budget / final, resolving year-labelled columns."""
    cols: dict[int, str] = {}
    years: dict[int, int] = {}
    for i, c in enumerate(header.cells):
        k = vocab.lookup("basic_data_columns", c.text)
        if k == "final_by_year":
            m = _FOUR_DIGITS.search(c.clean)
            years[i] = int(m.group(1)) if m else 0
        elif k:
            cols[i] = k
    if years:
        latest = max(years.values())
        for i, y in years.items():
            cols[i] = "final" if y == latest else "prev_final"
    return cols


def parse_basic_data(table: TableBlock, start_seq: int = 0) -> TableResult:
    res = TableResult("basic_data", money_unit=money_unit_of(table))
    rows = table.rows
    cols: dict[int, str] = {}
    header_len = 0
    group: str | None = None
    parent: str | None = None
    group_parent: str | None = None
    seq = start_seq
    staff_vals: dict[str, Value] = {}
    staff_line = None
    stop = False
    i = 0
    while i < len(rows):
        row = rows[i]
        # Staffing block: a header row with 编制数 … 控制率 and the values in the next row.
        skeys = [vocab.lookup("staffing_columns", c.text) for c in row.cells]
        if "authorized" in skeys and ("actual" in skeys or "control_rate" in skeys) and i + 1 < len(rows):
            vals = rows[i + 1].cells
            offset = len(vals) - len(row.cells)
            for j, k in enumerate(skeys):
                if k and 0 <= j + offset < len(vals):
                    staff_vals[k] = parse_value(vals[j + offset].text, vals[j + offset].line)
            staff_line = rows[i + 1].line
            i += 2
            continue
        bcols = _resolve_basic_columns(row)
        if len(bcols) >= 3:
            cols, header_len = bcols, len(row.cells)
            i += 1
            continue
        if not cols or stop:
            i += 1
            continue
        label_cell = row.cells[0]
        key = vocab.lookup("expense_items", label_cell.text)
        if key in ("buildings", "frugality"):
            stop = True  # what follows has its own columns (规模, 投资) and stays as cells
            i += 1
            continue
        offset = len(row.cells) - header_len
        values: dict[str, Value] = {}
        for j, k in cols.items():
            jj = j + offset
            if 1 <= jj < len(row.cells):
                values[k] = parse_value(row.cells[jj].text, row.cells[jj].line)
        item = vocab.strip_numbering(label_cell.text)
        is_sub = bool(_QIZHONG.match(clean_text(label_cell.text))) or _indent(label_cell.text) >= 6
        if key in vocab.load()["expense_groups"]:
            group = vocab.load()["expense_groups"][key]
            parent = None
            group_parent = item
        placeholder = (item == "" or item in vocab.words("placeholder_rows")) and all(
            v.is_blank or v.kind == "dash" or v.number == 0 for v in values.values()
        )
        if key in vocab.load()["expense_groups"]:
            parent_item = None
        elif is_sub:  # 其中：… or indented under the row above
            parent_item = parent or group_parent
        else:
            parent_item = group_parent
            parent = item
        if key in ("authorized", "actual_staff"):
            staff_vals["authorized" if key == "authorized" else "actual"] = values.get("final") or values.get("budget") or Value("")
            staff_line = row.line
        seq += 1
        res.expense_controls.append(
            ExpenseControl(
                seq=seq,
                source="basic_data",
                label=clean_text(label_cell.text),
                item=item,
                key=key,
                group=group,
                parent_item=parent_item,
                prev_final=values.get("prev_final", Value("")),
                budget=values.get("budget", Value("")),
                final=values.get("final", Value("")),
                deviation=None,
                line=row.line,
                placeholder=placeholder,
            )
        )
        i += 1
    if staff_vals:
        res.staffing = Staffing(
            authorized=staff_vals.get("authorized", Value("")),
            actual=staff_vals.get("actual", Value("")),
            control_rate=staff_vals.get("control_rate", Value("")),
            line=staff_line or table.line_start,
        )
    return res


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" \u3000"))


# ------------------------------------------------------------------ 三公 table


def parse_three_public(table: TableBlock, start_seq: int = 0) -> TableResult:
    res = TableResult("three_public", money_unit=money_unit_of(table))
    header = table.rows[0]
    cols = {j: vocab.lookup("three_public_columns", c.text) for j, c in enumerate(header.cells)}
    seq = start_seq
    parent = None
    for row in table.rows[1:]:
        label = row.cells[0]
        key = vocab.lookup("expense_items", label.text)
        if key == "total":
            key = "three_public_total"
        values = {}
        for j, k in cols.items():
            if k and j < len(row.cells):
                values[k] = parse_value(row.cells[j].text, row.cells[j].line)
        item = vocab.strip_numbering(label.text)
        sub = clean_text(label.text).startswith("其中") or _indent(label.text) >= 4
        seq += 1
        res.expense_controls.append(
            ExpenseControl(
                seq=seq, source="three_public_table", label=clean_text(label.text), item=item, key=key,
                group="three_public", parent_item=parent if sub else None,
                prev_final=Value(""), budget=values.get("budget", Value("")), final=values.get("final", Value("")),
                deviation=values.get("deviation"), line=row.line,
            )
        )
        if not sub and key != "three_public_total":
            parent = item
    return res


# ------------------------------------------------------------------ detail tables


def parse_detail(table: TableBlock, table_seq: int) -> TableResult:
    res = TableResult("detail", money_unit=money_unit_of(table))
    parent = None
    for seq, row in enumerate(table.rows[1:], 1):
        cells = row.cells
        number = cells[0].clean if cells else ""
        item = cells[1].clean if len(cells) > 2 else ""
        amount = cells[-1]
        if _CN_ORDINAL.fullmatch(number):
            parent_item, parent = None, item
        elif number in ("合计", "总计"):
            item, parent_item = number, None
        else:
            parent_item = parent
        res.details.append(DetailRow(table_seq, seq, number, item, parent_item, parse_value(amount.text, amount.line), row.line))
    return res


# ------------------------------------------------------------------ 自评表 / 项目表 / 第三方
