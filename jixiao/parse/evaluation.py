"""The evaluation table (绩效自评表), whichever form it takes: its funds rows, its targets, its
indicators with their scores, and its total; recognised by header vocabulary, not by position.
"""
from __future__ import annotations

import re

from ..model import Cell, Evaluation, FundsRow, Indicator, Issue, NatureItem, Row, TableBlock, Value, clean_text
from . import vocab
from .identity import strip_code
from .tables import TableResult, money_unit_of
from .values import embedded_number, parse_value

_QIZHONG_COLON = re.compile(r"^其中[:：]\s*")
_FIGURE = re.compile(r"[\d.]+")
_TRAILING_NUMBER = re.compile(r"(\d+(?:\.\d+)?)$")


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
