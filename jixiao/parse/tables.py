"""Table recognisers: what a table is is decided by what its headers and rows say.

Each recogniser takes a :class:`TableBlock` and returns typed rows plus warnings. Every
table is also kept whole as cells (:class:`GenericTable`), so nothing is lost when a
recogniser does not understand a row.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..model import (
    Cell,
    DetailRow,
    Evaluation,
    ExpenseControl,
    FundsRow,
    Indicator,
    Issue,
    NatureItem,
    Row,
    Staffing,
    TableBlock,
    Value,
    clean_text,
)
from . import vocab
from .identity import strip_code
from .values import embedded_number, parse_value

KINDS = ("basic_data", "evaluation", "third_party", "three_public", "detail", "generic")


_IN_YUAN = re.compile(r"[（(]元[）)]|单位[:：]元(?!万)|金额[（(]?元")
_FOUR_DIGITS = re.compile(r"(\d{4})")
_QIZHONG = re.compile(r"^\s*其中")
_QIZHONG_COLON = re.compile(r"^其中[:：]\s*")
_CN_ORDINAL = re.compile(r"[一二三四五六七八九十]+")
_FIGURE = re.compile(r"[\d.]+")
_TRAILING_NUMBER = re.compile(r"(\d+(?:\.\d+)?)$")


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
        labels = [vocab.normalise_label(c.text) for c in row.cells]
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


def _first_filled(cells: list[Cell]) -> tuple[int, Cell] | None:
    for j, c in enumerate(cells):
        if c.clean:
            return j, c
    return None


def _pairs(row: Row) -> list[tuple[str, str]]:
    """Label/value pairs in identity rows: [主管部门, '', 实施单位, X] → two pairs."""
    out, cells = [], row.cells
    j = 0
    while j < len(cells):
        key = vocab.lookup("evaluation_identity", cells[j].text)
        if key:
            k = j + 1
            val = ""
            while k < len(cells) and not vocab.lookup("evaluation_identity", cells[k].text):
                if cells[k].clean and not val:
                    val = cells[k].clean
                k += 1
            out.append((key, val))
            j = k
        else:
            j += 1
    return out


def is_total_row(row: Row) -> bool:
    """总分 / 合计 / 总计 rows (also '总分100', the weight in the label cell)."""
    first = _first_filled(row.cells)
    if not first:
        return False
    s = vocab.normalise_label(first[1].text)
    return any(s == w or (s.startswith(w) and _FIGURE.fullmatch(s[len(w):] or "x")) for w in vocab.words("total_rows"))


def is_closing_row(row: Row) -> bool:
    """A form's closing row below its 总分: 自评等级 | 优, 评价结论 | …"""
    first = _first_filled(row.cells)
    return bool(first) and vocab.normalise_label(first[1].text) in vocab.words("closing_rows")


def parse_evaluation(table: TableBlock, seq: int, third_party: bool = False) -> TableResult:
    res = TableResult("third_party" if third_party else "evaluation", money_unit=money_unit_of(table))
    ev = Evaluation(
        seq=seq, kind="third_party" if third_party else "overall", title=" ".join(table.caption),
        project_name=None, unit_cell=None, department=None, implementer=None, funds=[], by_nature=[],
        goal_expected="", goal_actual="", indicators=[], total_weight=Value(""), total_score=Value(""),
        line_start=table.line_start, line_end=table.line_end,
    )
    res.evaluation = ev
    funds_cols: dict[int, str] | None = None
    funds_len = 0
    ind_cols: dict[int, str] | None = None
    ind_len = 0
    state = "start"
    last1 = last2 = ""
    ind_seq = 0
    for row in table.rows:
        texts = row.texts
        if not any(texts):
            continue
        # A form exported whole from a spreadsheet: its title and （2023年度） rows.
        if state == "start" and _is_form_title_row(row):
            ev.title = " ".join(x for x in (ev.title, *texts) if x)
            continue
        # Identity rows (a code printed before a name is dropped; the cell keeps it).
        pairs = [(k, strip_code(v)[0] or "") for k, v in _pairs(row)]
        if pairs and state in ("start", "identity", "funds", "nature") and not any(k == "goals" for k, _ in pairs):
            for k, v in pairs:
                if k == "unit":
                    ev.unit_cell = v
                elif k == "project_name":
                    ev.project_name = v
                elif k == "department":
                    ev.department = v or None
                elif k == "implementer":
                    ev.implementer = v or None
            state = "identity"
            continue
        fk = {j: vocab.lookup("funds_columns", c.text) for j, c in enumerate(row.cells)}
        if sum(1 for k in fk.values() if k in ("initial_budget", "full_year_budget", "executed")) >= 2:
            funds_cols = {j: k for j, k in fk.items() if k}
            funds_len = len(row.cells)
            state = "funds"
            continue
        ik = {j: vocab.lookup("indicator_columns", c.text) for j, c in enumerate(row.cells)}
        if "level1" in ik.values() and ({"target", "actual", "standard", "weight"} & set(ik.values())):
            if ind_cols is None:
                ind_cols = {j: k for j, k in ik.items() if k}
                ind_len = len(row.cells)
            state = "indicators"
            continue
        if pairs and pairs[0][0] == "goals":
            state = "goals"
            continue
        if state == "goals":
            filled = [c for c in row.cells if c.clean]
            if len(row.cells) >= 3:
                ev.goal_expected = _multiline(row.cells[-2].text)
                ev.goal_actual = _multiline(row.cells[-1].text)
            elif filled:
                ev.goal_expected = _multiline(filled[0].text)
            state = "after_goals"  # the indicator header comes next; anything else is not understood
            continue
        if state in ("funds", "nature") and funds_cols is not None:
            first = _first_filled(row.cells)
            label = first[1].text if first else ""
            fkey = vocab.lookup("funds_rows", label)
            nature = _nature_items(row)
            if nature and all(n.value.is_blank for n in nature) and _has_amounts(row, funds_cols, funds_len, first):
                nature = []  # '其中：基本支出 | 1263.28 | 1301.60 | …': a funds row, not label：value pairs
            if nature and (state == "nature" or not fkey or "：" in clean_text(label)[:-1]):
                ev.by_nature.extend(nature)
                state = "nature"
                continue
            if state == "funds":
                offset = len(row.cells) - funds_len
                vals = {}
                for j, k in funds_cols.items():
                    jj = j + offset
                    if 0 <= jj < len(row.cells) and (first is None or jj > first[0]):
                        vals[k] = parse_value(row.cells[jj].text, row.cells[jj].line)
                ev.funds.append(FundsRow(
                    label=vocab.strip_numbering(label), key=fkey,
                    initial_budget=vals.get("initial_budget", Value("")),
                    full_year_budget=vals.get("full_year_budget", Value("")),
                    executed=vals.get("executed", Value("")), weight=vals.get("weight", Value("")),
                    execution_rate=vals.get("execution_rate", Value("")), score=vals.get("score", Value("")),
                    line=row.line,
                ))
                continue
        if state == "indicators" and ind_cols is not None:
            if is_total_row(row):
                _total(row, ind_cols, ind_len, ev)
                continue
            if _repeats_header(row) or is_closing_row(row):
                continue
            ind_seq += 1
            ind = _indicator(row, ind_cols, ind_len, ind_seq, res.warnings)
            # Fill merged cells down: 一级 always, 二级 only within the same 一级 group.
            if ind.level1:
                if ind.level1 != last1:
                    last2 = ""
                last1 = ind.level1
            else:
                ind.level1 = last1
            if ind.level2:
                last2 = ind.level2
            else:
                ind.level2 = last2
            ev.indicators.append(ind)
            continue
        res.warnings.append(Issue(row.line, "row_not_understood", f"表格行未识别，保留为单元格：{' | '.join(texts)[:80]}"))
    if ind_cols is None and not third_party:
        res.warnings.append(Issue(table.line_start, "no_indicator_header",
                                  "自评表中没有找到绩效指标表头（一级指标/年度指标值…），指标行未能按列读取"))
    if ev.project_name is not None or "项目支出" in ev.title:
        ev.kind = "project" if not third_party else ev.kind
    return res


def _is_form_title_row(row: Row) -> bool:
    filled = [c for c in row.cells if c.clean]
    if len(filled) != 1:
        return False
    s = vocab.normalise_label(filled[0].text)
    return any(re.search(str(w)[1:-1], s) for w in vocab.words("form_title_rows"))


def _multiline(text: str) -> str:
    lines = [l.strip(" \t\u3000") for l in text.split("\n")]
    return "\n".join(l for l in lines if l)


def _repeats_header(row: Row) -> bool:
    texts = [vocab.normalise_label(c.text) for c in row.cells if c.clean]
    return texts in (["绩效指标"], ["绩效", "指标"])


def _has_amounts(row: Row, funds_cols: dict[int, str], funds_len: int, first) -> bool:
    """Whether a funds-block row holds figures in the funds columns (right of its label)."""
    offset = len(row.cells) - funds_len
    for j in funds_cols:
        jj = j + offset
        if 0 <= jj < len(row.cells) and (first is None or jj > first[0]):
            if parse_value(row.cells[jj].text, row.cells[jj].line).kind == "number":
                return True
    return False


def _nature_items(row: Row) -> list[NatureItem]:
    out = []
    for c in row.cells:
        s = clean_text(c.text)
        if not s or ("：" not in s and ":" not in s):
            continue
        s = _QIZHONG_COLON.sub("", s.replace(" ", ""))
        label, _, rest = s.partition("：") if "：" in s else s.partition(":")
        key = vocab.lookup("by_nature", label)
        if not key:
            continue
        num = embedded_number(rest, c.line) if rest else None
        out.append(NatureItem(key, label, num or parse_value(rest, c.line), c.line))
    return out


def _cell_for(row: Row, header_len: int, j: int) -> Cell | None:
    if len(row.cells) == header_len:
        return row.cells[j] if j < len(row.cells) else None
    # A short row lost merged cells at its start: align it to the right.
    jj = j + (len(row.cells) - header_len)
    return row.cells[jj] if 0 <= jj < len(row.cells) else None


def _indicator(row: Row, cols: dict[int, str], header_len: int, seq: int, warnings: list[Issue]) -> Indicator:
    if len(row.cells) != header_len:
        warnings.append(Issue(row.line, "row_width", f"指标行有 {len(row.cells)} 个单元格，表头有 {header_len} 个：按右对齐读取"))
    got: dict[str, Cell | None] = {k: _cell_for(row, header_len, j) for j, k in cols.items()}

    def text(k: str) -> str:
        c = got.get(k)
        return c.clean if c else ""

    def val(k: str) -> Value:
        c = got.get(k)
        return parse_value(c.text, c.line) if c else Value("")

    ind = Indicator(
        seq=seq, level1=text("level1"), level2=text("level2"), level3=text("level3"),
        target=val("target"), actual=val("actual"), weight=val("weight"), score=val("score"),
        note=text("note"), line=row.line, standard=text("standard"),
        extra={k: text(k) for k in ("nature", "measure_unit") if k in got},
    )
    # Forms with 指标性质 (≥ / ≤ / =) and 度量单位 columns (Sichuan): the target reads as
    # operator + value + unit (≥ | 95 | % → ≥95%), the actual as value + unit; the cells stay in extra.
    op = _NATURE_OPS.get(ind.extra.get("nature", "").strip())
    unit = ind.extra.get("measure_unit", "").strip() or None
    if op or unit:
        ind.target = _with_op_unit(ind.target, op, unit)
        ind.actual = _with_op_unit(ind.actual, None, unit)
    ind.placeholder = all(v.is_blank for v in (ind.target, ind.actual, ind.weight, ind.score))
    if not ind.placeholder:
        shifted = [k for k in ("weight", "score") if getattr(ind, k).kind == "text"]
        if shifted:
            warnings.append(Issue(row.line, "shifted_cells",
                                  "单元格错位：" + "、".join(f"{'分值' if k == 'weight' else '得分'}为“{getattr(ind, k).clean}”" for k in shifted)))
    return ind


_NATURE_OPS = {"≥": "≥", ">=": "≥", "≤": "≤", "<=": "≤", "=": "=", "＝": "=", ">": ">", "<": "<", "＞": ">", "＜": "<"}


def _with_op_unit(v: Value, op: str | None, unit: str | None) -> Value:
    """A bare figure completed by the 指标性质 and 度量单位 cells of its row."""
    if v.kind != "number" or v.op is not None or v.unit is not None:
        return v
    text = f"{op or ''}{v.clean}{unit or ''}"
    nv = parse_value(text, v.line)
    if nv.kind != "number":  # a unit outside the value vocabulary (元/生·年): keep the text, the figure
        nv = Value(text, "number", v.number, unit, op, v.qualifier, v.line)
    return nv


def _total(row: Row, cols: dict[int, str], header_len: int, ev: Evaluation) -> None:
    """总分 / 合计: the cells after the label fill the header's columns from 分值 on."""
    first = _first_filled(row.cells)
    assert first is not None
    j0, label = first
    after = row.cells[j0 + 1:]
    wcol = next((j for j, k in sorted(cols.items()) if k == "weight"), None)
    if wcol is None:
        return
    names = [cols.get(j) for j in range(wcol, header_len)]
    if len(row.cells) == header_len:  # not merged: the cells stand under their headers
        names, after = [cols.get(j) for j in range(j0 + 1, header_len)], row.cells[j0 + 1:]
    elif "score" in names and names.index("score") > 1 and len(after) < len(names):
        # Merged, and columns sit between 分值 and 得分 (分值 before 年度指标值): the figures
        # are 分值 then 得分, in that order.
        figures = [c for c in after if c.clean]
        names, after = ["weight", "score"][:len(figures)], figures
    for name, cell in zip(names, after):
        if name == "weight":
            ev.total_weight = parse_value(cell.text, cell.line)
        elif name == "score":
            ev.total_score = parse_value(cell.text, cell.line)
    lab = vocab.normalise_label(label.text)
    m = _TRAILING_NUMBER.search(lab)
    if m and ev.total_weight.is_blank:  # '总分100' carries the weight in the label cell
        ev.total_weight = parse_value(m.group(1), label.line)
