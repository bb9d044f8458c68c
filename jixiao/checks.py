"""Checks on a report's content → :class:`Finding` rows, and disclosure completeness.

Every check is a pure function ``Report -> list[Finding]``: arithmetic inside the tables,
the tables against each other, the narrative (``Section.body``) against the tables, scores
against the evidence beside them. Severity: 错误 (the printed figures cannot all be right),
疑点 (a reader should ask), 提示 (worth knowing). Messages are Chinese with the numbers.
"""
from __future__ import annotations

import functools
import re
from collections import defaultdict
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Callable, Iterable, Iterator

from . import indicators as ind_mod
from .model import Evaluation, ExpenseControl, Finding, Indicator, Report, Value, clean_text
from .parse.values import normalise_digits, parse_value

ERROR, DOUBT, NOTE = "错误", "疑点", "提示"
CENT = Decimal("0.005")  # figures are printed to 0.01 at most
COLUMNS = (("prev_final", "上年决算数"), ("budget", "本年预算数"), ("final", "本年决算数"))
NUM = r"(\d+(?:\.\d+)?)"


_DECIMALS = re.compile(r"\.(\d+)")
_GROUP_WEIGHT = re.compile(r"[（(]\s*" + NUM + r"\s*分\s*[）)]")
_DIGIT = re.compile(r"\d")
_ATT_INTRO = re.compile(r"附件[^。]{0,4}[:：]\s*$")
_SCORE_WORDS = re.compile(r"总分|得分|满意度|分值")


# ---------------------------------------------------------------- helpers


def _n(v: Value | None) -> Decimal | None:
    """The number of a plain (or money / percent) figure, else None."""
    if v is None or v.kind != "number" or v.number is None:
        return None
    if v.op is not None:
        return None
    return v.number


def fmt(d: Decimal | None) -> str:
    if d is None:
        return "—"
    q = d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if d.as_tuple().exponent < -2 else d
    s = format(q, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def _ne(a: Decimal, b: Decimal, tol: Decimal = CENT) -> bool:
    return abs(a - b) > tol


def _ne_printed(a: Decimal, b: Decimal) -> bool:
    """Different even allowing for the coarser figure being rounded as printed (524 vs 524.1)."""
    exp = max(a.as_tuple().exponent, b.as_tuple().exponent)
    tol = max(CENT, Decimal(5).scaleb(exp - 1)) if isinstance(exp, int) else CENT
    return abs(a - b) > tol


def _f(rule: str, sev: str, msg: str, expected, actual, lines: Iterable[int | None]) -> Finding:
    ls = sorted({x for x in lines if x})
    return Finding(rule, sev, msg, None if expected is None else str(expected),
                   None if actual is None else str(actual), ls[0] if ls else None, ls)


def _vline(v: Value | None, fallback: int | None) -> int | None:
    return (v.line if v is not None and v.line else None) or fallback


def narrative(report: Report) -> list[tuple[str, int]]:
    """(paragraph text, line) of the narrative, one entry per source paragraph."""
    out: list[tuple[str, int]] = []
    for s in report.sections:
        out.extend(_section_narrative(s.heading, s.body, s.line_start))
    return out


# A dozen checks read the narrative; cleaning and normalising every paragraph each time was
# half the time of run_checks. Keyed on the section's own strings (their hashes are cached
# by Python after the first call), so a changed section is simply a new entry.
@functools.lru_cache(maxsize=4096)
def _section_narrative(heading: str, body: str, line_start: int) -> tuple[tuple[str, int], ...]:
    out: list[tuple[str, int]] = []
    if heading:
        out.append((clean_text(heading), line_start))
    for i, para in enumerate(body.split("\n")):
        p = clean_text(para)
        if p:
            out.append((normalise_digits(p), line_start + 1 + i))
    return tuple(out)


def _finditer_near(rx: re.Pattern, core: re.Pattern, text: str, back: int) -> Iterator[re.Match]:
    """The matches of ``rx.finditer(text)``, found faster for patterns that open with a run
    of Han characters (tried, and failed, at nearly every position of a paragraph).

    ``core`` must match wherever a match of ``rx`` has its figure, at most ``back``
    characters after the start of that match. Then the next match of ``rx`` at or after
    ``pos`` cannot start before (first ``core`` at or after ``pos``) − ``back``, so the
    search starts there; the matches found are the same, in the same order. ``rx`` must not
    match the empty string or use ``^``.
    """
    pos = 0
    while True:
        hint = core.search(text, pos)
        if hint is None:
            return
        m = rx.search(text, max(pos, hint.start() - back))
        if m is None:
            return
        yield m
        pos = m.end()


def _ec(report: Report, key: str, source: str = "basic_data") -> list[ExpenseControl]:
    return [e for e in report.expense_controls if e.key == key and e.source == source]


def _first(report: Report, key: str, source: str = "basic_data") -> ExpenseControl | None:
    rows = _ec(report, key, source)
    return rows[0] if rows else None


def _col(e: ExpenseControl | None, col: str) -> Decimal | None:
    return None if e is None else _n(getattr(e, col))


def _money_rows(report: Report) -> list[ExpenseControl]:
    return [e for e in report.expense_controls if e.group in ("three_public", "project", "public_funds", "basic", "personnel")]


def _funds_total(ev: Evaluation):
    return ev.funds_total


def _nature(ev: Evaluation, key: str) -> Decimal | None:
    for n in ev.by_nature:
        if n.key == key:
            return _n(n.value)
    return None


def _nature_line(ev: Evaluation, key: str) -> int | None:
    return next((n.line for n in ev.by_nature if n.key == key), None)


# ---------------------------------------------------------------- 基础数据表 arithmetic


def _three_public_parts(report: Report, source: str, col: str):
    """(total row, parts sum, parts used) for one source and column."""
    total = _first(report, "three_public_total", source)
    if total is None:
        return None
    veh = _first(report, "vehicles", source)
    vval = _col(veh, col)
    used: list[ExpenseControl] = []
    if vval is None:
        kids = [e for k in ("vehicle_purchase", "vehicle_operation") if (e := _first(report, k, source))]
        kv = [_col(e, col) for e in kids]
        if any(x is not None for x in kv):
            vval = sum((x for x in kv if x is not None), Decimal(0))
            used += [e for e, x in zip(kids, kv) if x is not None]
    elif veh:
        used.append(veh)
    parts = []
    for k in ("overseas", "reception"):
        e = _first(report, k, source)
        if _col(e, col) is not None:
            parts.append(_col(e, col))
            used.append(e)
    if vval is not None:
        parts.append(vval)
    if not parts:
        return total, None, used
    return total, sum(parts, Decimal(0)), used


def check_three_public_sum(report: Report) -> list[Finding]:
    out = []
    for source in ("basic_data", "three_public_table"):
        for col, cname in COLUMNS:
            got = _three_public_parts(report, source, col)
            if not got:
                continue
            total, s, used = got
            t = _col(total, col)
            if t is None or s is None:
                continue
            if _ne(t, s):
                where = "基础数据表" if source == "basic_data" else "三公经费表"
                out.append(_f("three_public_sum", ERROR,
                              f"{where}{cname}：“三公”经费合计{fmt(t)}万元，但因公出国（境）、公务用车、公务接待三项相加为{fmt(s)}万元（差{fmt(t - s)}）。",
                              fmt(s), fmt(t), [total.line] + [e.line for e in used]))
    return out


def check_vehicles_sum(report: Report) -> list[Finding]:
    out = []
    for source in ("basic_data", "three_public_table"):
        veh = _first(report, "vehicles", source)
        if veh is None:
            continue
        kids = [e for k in ("vehicle_purchase", "vehicle_operation") if (e := _first(report, k, source))]
        for col, cname in COLUMNS:
            v = _col(veh, col)
            kv = [_col(e, col) for e in kids if _col(e, col) is not None]
            if v is None or not kv:
                continue
            s = sum(kv, Decimal(0))
            if _ne(v, s):
                out.append(_f("vehicles_sum", ERROR,
                              f"{cname}：公务用车购置和运行维护经费{fmt(v)}万元，但购置{fmt(_col(kids[0], col)) if kids else '—'}与运行维护相加为{fmt(s)}万元。",
                              fmt(s), fmt(v), [veh.line] + [e.line for e in kids]))
    return out


def _project_lines(report: Report) -> list[ExpenseControl]:
    return [e for e in report.expense_controls if e.source == "basic_data" and e.group == "project" and e.key != "project_total"]


def check_project_lines_sum(report: Report) -> list[Finding]:
    out = []
    total = _first(report, "project_total")
    lines = _project_lines(report)
    if total is None or not lines:
        return out
    for col, cname in COLUMNS:
        t = _col(total, col)
        vals = [(e, _col(e, col)) for e in lines if _col(e, col) is not None]
        if t is None or not vals:
            continue
        s = sum((x for _, x in vals), Decimal(0))
        if _ne(t, s):
            out.append(_f("project_lines_sum", ERROR,
                          f"基础数据表{cname}：项目支出合计{fmt(t)}万元，但所列{len(vals)}个项目相加为{fmt(s)}万元（差{fmt(t - s)}）。",
                          fmt(s), fmt(t), [total.line] + [e.line for e, _ in vals]))
    return out


_ChildIndex = dict[tuple[str, "str | None", "str | None"], list[ExpenseControl]]


def _child_index(report: Report) -> _ChildIndex:
    """(source, group, parent_item) → the rows in that place, in table order."""
    index: _ChildIndex = defaultdict(list)
    for e in report.expense_controls:
        index[(e.source, e.group, e.parent_item)].append(e)
    return index


def _children(report: Report, parent: ExpenseControl, index: _ChildIndex | None = None) -> list[ExpenseControl]:
    """The rows under ``parent`` (same source and group), at any depth, in seq order.

    Walks down through an index of parent_item names instead of rescanning every row until
    nothing changes: that was cubic in the rows, and a file holding a report 340 times
    (8,000 rows) took hours. Rows are told apart by identity (seq is unique in a report).
    """
    if index is None:
        index = _child_index(report)
    out: list[ExpenseControl] = []
    seen = {id(parent)}
    names, done = [parent.item], set()
    while names:
        name = names.pop()
        if name in done:
            continue
        done.add(name)
        for e in index.get((parent.source, parent.group, name), ()):
            if id(e) not in seen:
                seen.add(id(e))
                out.append(e)
                names.append(e.item)
    return sorted(out, key=lambda e: e.seq)


def check_public_funds_parts(report: Report) -> list[Finding]:
    out = []
    index = _child_index(report)
    for total in _ec(report, "public_funds_total"):
        kids = _children(report, total, index)
        for col, cname in COLUMNS:
            t = _col(total, col)
            vals = [(e, _col(e, col)) for e in kids if _col(e, col) is not None]
            if t is None or not vals:
                continue
            s = sum((x for _, x in vals), Decimal(0))
            if s - t > CENT:
                out.append(_f("public_funds_parts", ERROR,
                              f"基础数据表{cname}：{total.item}{fmt(t)}万元，但其下所列明细合计{fmt(s)}万元，超过总数{fmt(s - t)}万元。",
                              f"≤{fmt(t)}", fmt(s), [total.line] + [e.line for e, _ in vals]))
    return out


def check_basic_sum(report: Report) -> list[Finding]:
    out = []
    basic = _first(report, "basic_total")
    pers = _first(report, "personnel")
    pubs = _ec(report, "public_funds_total")
    pub = next((e for e in pubs if "公用" in e.item), pubs[0] if pubs else None)
    if not (basic and pers and pub):
        return out
    for col, cname in COLUMNS:
        b, p, g = _col(basic, col), _col(pers, col), _col(pub, col)
        if None in (b, p, g):
            continue
        if _ne(b, p + g):
            out.append(_f("basic_sum", ERROR,
                          f"基础数据表{cname}：基本支出{fmt(b)}万元，但人员经费{fmt(p)}+公用经费{fmt(g)}={fmt(p + g)}万元（差{fmt(b - p - g)}）。",
                          fmt(p + g), fmt(b), [basic.line, pers.line, pub.line]))
    return out


_SUBTOTALS = ("three_public_total", "vehicles", "project_total", "public_funds_total", "basic_total")


def check_subtotal_blank(report: Report) -> list[Finding]:
    """A total row left blank while the rows under it carry figures."""
    out = []
    # Rows by (source, group) and the child index, built once: per total row they made the
    # check quadratic (or worse) in the rows of a file holding many reports.
    by_group: dict[tuple[str, str | None], list[ExpenseControl]] = defaultdict(list)
    for k in report.expense_controls:
        by_group[(k.source, k.group)].append(k)
    index = _child_index(report)
    for e in report.expense_controls:
        if e.key not in _SUBTOTALS:
            continue
        if e.key == "three_public_total":
            kids = [k for k in by_group[(e.source, "three_public")] if k is not e]
        elif e.key == "project_total":
            kids = [k for k in by_group[(e.source, "project")] if k is not e]
        else:
            kids = _children(report, e, index)
        for col, cname in COLUMNS:
            if getattr(e, col).kind not in ("empty",):
                continue
            vals = [(k, _col(k, col)) for k in kids if _col(k, col) is not None]
            if e.key == "vehicles":
                vals = [(k, x) for k, x in vals if k.key in ("vehicle_purchase", "vehicle_operation")]
            if e.key == "three_public_total":
                vals = [(k, x) for k, x in vals if k.key in ("overseas", "reception", "vehicles")] or [
                    (k, x) for k, x in vals if k.key in ("vehicle_purchase", "vehicle_operation")]
            if not vals or all(x == 0 for _, x in vals):
                continue
            s = sum((x for _, x in vals), Decimal(0))
            out.append(_f("subtotal_blank", DOUBT,
                          f"基础数据表{cname}：“{e.item}”合计行空白，但其下{len(vals)}行填有金额，合计{fmt(s)}万元。",
                          fmt(s), "（空白）", [e.line] + [k.line for k, _ in vals]))
    return out


def check_three_public_column_blank(report: Report) -> list[Finding]:
    out = []
    rows = [e for e in report.expense_controls if e.source == "basic_data" and e.group == "three_public"]
    if not rows:
        return out
    filled = {col: [e for e in rows if _col(e, col) is not None] for col, _ in COLUMNS}
    for col, cname in COLUMNS:
        if not filled[col] and any(filled[c] for c, _ in COLUMNS if c != col):
            other = next(c for c, _ in COLUMNS if c != col and filled[c])
            out.append(_f("three_public_column_blank", NOTE,
                          f"基础数据表“三公”经费的{cname}整列空白，而{dict(COLUMNS)[other]}已填写。",
                          "填写金额", "（空白）", [rows[0].line]))
    return out


def check_budget_equals_final(report: Report) -> list[Finding]:
    """Every filled row of a block shows 预算数 = 决算数: implausible."""
    out = []
    groups: dict[str, list[ExpenseControl]] = defaultdict(list)
    for e in report.expense_controls:
        if e.source == "basic_data" and e.group in ("three_public", "project", "public_funds", "basic", "personnel"):
            b, f = _col(e, "budget"), _col(e, "final")
            if b is not None and f is not None and (b != 0 or f != 0):
                groups[e.group].append(e)
    names = {"three_public": "“三公”经费", "project": "项目支出", "public_funds": "公用经费", "basic": "基本支出", "personnel": "人员经费"}
    for g, rows in groups.items():
        if len(rows) >= 3 and all(_col(e, "budget") == _col(e, "final") for e in rows):
            out.append(_f("budget_equals_final", DOUBT,
                          f"基础数据表{names[g]}：{len(rows)}行全部“本年预算数=本年决算数”（如{rows[0].item} {fmt(_col(rows[0], 'budget'))}/{fmt(_col(rows[0], 'final'))}），预算与执行分毫不差，不太可信。",
                          "预算数与决算数各自填写", "全部相等", [e.line for e in rows]))
    return out


def check_final_exceeds_budget(report: Report) -> list[Finding]:
    out = []
    for e in _money_rows(report):
        if e.source != "basic_data" or e.placeholder:
            continue
        b, f = _col(e, "budget"), _col(e, "final")
        if f is None or f < 1:
            continue
        if b is None or b == 0:
            if e.budget.kind == "empty" and e.key not in _SUBTOTALS:
                out.append(_f("final_exceeds_budget", DOUBT,
                              f"基础数据表“{e.item}”本年预算数空白，决算数却为{fmt(f)}万元。",
                              "有预算", fmt(f), [e.line]))
            continue
        if f > b * Decimal("1.2") and f - b >= 1:
            out.append(_f("final_exceeds_budget", DOUBT,
                          f"基础数据表“{e.item}”本年决算数{fmt(f)}万元，是预算数{fmt(b)}万元的{fmt(f / b * 100)}%。",
                          f"≤{fmt(b)}", fmt(f), [e.line]))
    return out


def check_overseas_new(report: Report) -> list[Finding]:
    out = []
    for e in _ec(report, "overseas"):
        f, p = _col(e, "final"), _col(e, "prev_final")
        if f and f > 0 and not p and e.prev_final.kind in ("empty", "number", "dash", "none"):
            if e.source == "three_public_table" and e.prev_final.kind == "empty":
                continue  # that table has no 上年 column
            out.append(_f("overseas_new", NOTE,
                          f"因公出国（境）经费本年决算{fmt(f)}万元，上年为{fmt(p) if p is not None else '空白'}：新增出国支出，报告未作说明则值得追问。",
                          fmt(p) if p is not None else "0", fmt(f), [e.line]))
    return out


def check_three_public_repeat(report: Report) -> list[Finding]:
    out = []
    t = _first(report, "three_public_total")
    if not t:
        return out
    f, p = _col(t, "final"), _col(t, "prev_final")
    if f and p and f == p:
        changed = [e for e in report.expense_controls if e.source == "basic_data" and e.group == "three_public" and e is not t
                   and _col(e, "final") is not None and _col(e, "prev_final") is not None and _col(e, "final") != _col(e, "prev_final")]
        if changed:
            out.append(_f("three_public_repeat", NOTE,
                          f"“三公”经费本年决算数{fmt(f)}万元与上年决算数完全相同，而其分项（如{changed[0].item} {fmt(_col(changed[0], 'prev_final'))}→{fmt(_col(changed[0], 'final'))}）已变化，合计可能沿用了上年数。",
                          "本年分项之和", fmt(f), [t.line] + [e.line for e in changed]))
    return out


def check_three_public_sources(report: Report) -> list[Finding]:
    """三公 figures of the 三公 table vs the 基础数据表, and the 偏离预算数 column."""
    out = []
    for key, name in (("three_public_total", "“三公”经费合计"), ("overseas", "因公出国（境）费"), ("vehicles", "公务用车购置及运行维护费"),
                      ("vehicle_purchase", "公务用车购置费"), ("vehicle_operation", "公务用车运行维护费"), ("reception", "公务接待费")):
        a, b = _first(report, key, "three_public_table"), _first(report, key, "basic_data")
        if not (a and b):
            continue
        for col, cname in COLUMNS[1:]:
            x, y = _col(a, col), _col(b, col)
            if x is not None and y is not None and _ne(x, y):
                out.append(_f("three_public_sources", DOUBT,
                              f"{name}{cname}：“三公”经费表为{fmt(x)}万元，基础数据表为{fmt(y)}万元。",
                              fmt(x), fmt(y), [a.line, b.line]))
    for e in report.expense_controls:
        if e.deviation is None or _n(e.deviation) is None:
            continue
        b, f, d = _col(e, "budget"), _col(e, "final"), _n(e.deviation)
        if b is None or f is None:
            continue
        if _ne(abs(d), abs(f - b)):
            out.append(_f("deviation_column", DOUBT,
                          f"“{e.item}”偏离预算数填{fmt(d)}，但预算数{fmt(b)}与决算数{fmt(f)}相差{fmt(f - b)}万元。",
                          fmt(f - b), fmt(d), [e.line]))
    return out


_ITEM_NOISE = re.compile(r"[（(].*?[）)]|费用$|经费$|费$|支出$")


@functools.lru_cache(maxsize=4096)  # compared detail row × expense row: the same items recur
def _norm_item(s: str) -> str:
    return _ITEM_NOISE.sub("", clean_text(s))


def check_detail_vs_basic(report: Report) -> list[Finding]:
    """Narrative expense detail tables vs the 基础数据表 / 三公 table rows of the same name."""
    out = []
    if not report.details:
        return out
    for d in report.details:
        a = _n(d.amount)
        if a is None:
            continue
        cands: list[ExpenseControl] = []
        name = clean_text(d.item)
        if name in ("合计", "总计", "小计"):
            continue
        if name == "人员经费":
            cands = _ec(report, "personnel")
        elif name == "公用经费":
            cands = [e for e in _ec(report, "public_funds_total") if "公用" in e.item]
        else:
            cands = [e for e in report.expense_controls if e.group in ("public_funds", "three_public", "basic", "personnel")
                     and _norm_item(e.item) == _norm_item(name)]
        for e in cands:
            f = _col(e, "final")
            if f is not None and _ne(a, f):
                where = "“三公”经费表" if e.source == "three_public_table" else "基础数据表"
                out.append(_f("detail_vs_basic", DOUBT,
                              f"“{name}”：支出明细表为{fmt(a)}万元，{where}“{e.item}”本年决算数为{fmt(f)}万元。",
                              fmt(f), fmt(a), [d.line, e.line]))
    return out


# ---------------------------------------------------------------- 自评表 funds


def check_nature_sums(report: Report) -> list[Finding]:
    out = []
    for ev in report.evaluations:
        ft = _funds_total(ev)
        if ft is None or not ev.by_nature:
            continue
        executed, budget = _n(ft.executed), _n(ft.full_year_budget)
        basic, proj = _nature(ev, "basic_expenditure"), _nature(ev, "project_expenditure")
        if executed is not None and basic is not None and proj is not None and _ne(basic + proj, executed):
            s = basic + proj
            extra = "，恰等于全年预算数" if budget is not None and not _ne(s, budget) else ""
            out.append(_f("nature_sum", ERROR,
                          f"自评表按支出性质：基本支出{fmt(basic)}+项目支出{fmt(proj)}={fmt(s)}万元，与全年执行数{fmt(executed)}万元不符（差{fmt(s - executed)}）{extra}。",
                          fmt(executed), fmt(s), [ft.line, _nature_line(ev, "basic_expenditure"), _nature_line(ev, "project_expenditure")]))
        inc_keys = ("general_public_budget", "government_fund", "special_account_nontax", "other_funds")
        inc = [x for k in inc_keys if (x := _nature(ev, k)) is not None]
        if executed is not None and inc:
            s = sum(inc, Decimal(0))
            if _ne(s, executed):
                extra = "，等于全年预算数：收入口径与支出口径不一" if budget is not None and not _ne(s, budget) else ""
                out.append(_f("income_sum", DOUBT,
                              f"自评表按收入性质合计{fmt(s)}万元，与全年执行数{fmt(executed)}万元不符{extra}。",
                              fmt(executed), fmt(s), [ft.line] + [_nature_line(ev, k) for k in inc_keys]))
    return out


def _decimals(v: Value) -> int:
    m = _DECIMALS.search(normalise_digits(v.clean))
    return len(m.group(1)) if m else 0


def check_execution_rate(report: Report) -> list[Finding]:
    out = []
    for ev in report.evaluations:
        for fr in ev.funds:
            b, x, r = _n(fr.full_year_budget), _n(fr.executed), _n(fr.execution_rate)
            if b is None or x is None or r is None or b == 0:
                continue
            exact = x / b * 100
            if fr.execution_rate.unit is None and r <= Decimal("1.0") and exact > 5:
                r = r * 100  # written as a fraction
            q = Decimal(1).scaleb(-_decimals(fr.execution_rate))
            rounded = exact.quantize(q, rounding=ROUND_HALF_UP)
            if r == rounded:
                continue
            truncated = exact.quantize(q, rounding=ROUND_DOWN)
            if r == truncated:
                out.append(_f("execution_rate", NOTE,
                              f"{ev.title or '自评表'}：执行率{fmt(x)}/{fmt(b)}={exact:.3f}%，四舍五入应为{rounded}%，表中写{fr.execution_rate.clean}（截断而非四舍五入）。",
                              f"{rounded}%", fr.execution_rate.clean, [fr.line]))
            else:
                sev = ERROR if abs(r - exact) > Decimal("0.1") else DOUBT
                out.append(_f("execution_rate", sev,
                              f"{ev.title or '自评表'}：执行率应为{fmt(x)}/{fmt(b)}={exact:.2f}%，表中写{fr.execution_rate.clean}。",
                              f"{rounded}%", fr.execution_rate.clean, [fr.line]))
    return out


def check_funds_score(report: Report) -> list[Finding]:
    """资金 得分 = 分值 × 执行率 (the rule the standard 自评表 states)."""
    out = []
    for ev in report.evaluations:
        fr = _funds_total(ev)
        if fr is None:
            continue
        w, s = _n(fr.weight), _n(fr.score)
        b, x = _n(fr.full_year_budget), _n(fr.executed)
        r = _n(fr.execution_rate)
        if w is None or s is None:
            continue
        if b and x is not None:
            rate = min(x / b, Decimal(1))
        elif r is not None:
            rate = min(r / 100, Decimal(1))
        else:
            continue
        exp = w * rate
        if abs(exp - s) > Decimal("0.05"):
            out.append(_f("funds_score", DOUBT,
                          f"{ev.title or '自评表'}：资金执行率{fmt(rate * 100)}%、分值{fmt(w)}，按“分值×执行率”得分应为{fmt(exp)}，表中为{fmt(s)}。",
                          fmt(exp), fmt(s), [fr.line]))
    return out


def check_budget_adjustment(report: Report) -> list[Finding]:
    out = []
    for ev in report.evaluations:
        fr = _funds_total(ev)
        if fr is None:
            continue
        i, b, x = _n(fr.initial_budget), _n(fr.full_year_budget), _n(fr.executed)
        if i and b is not None and abs(b - i) / i > Decimal("0.2"):
            out.append(_f("budget_adjusted", NOTE,
                          f"{ev.title or '自评表'}：全年预算数{fmt(b)}万元较年初预算数{fmt(i)}万元{'增加' if b > i else '减少'}{fmt(abs(b - i))}万元（{fmt((b - i) / i * 100)}%）。",
                          fmt(i), fmt(b), [fr.line]))
        if i is not None and b is not None and x is not None and b == x and i != b:
            out.append(_f("budget_equals_executed", NOTE,
                          f"{ev.title or '自评表'}：全年预算数与全年执行数同为{fmt(b)}万元（年初预算数{fmt(i)}万元），像是按支出倒填预算，执行率因此为100%。",
                          "全年预算数独立于执行数", fmt(x), [fr.line]))
        if b is not None and x is not None and x - b > CENT:
            out.append(_f("executed_over_budget", ERROR,
                          f"{ev.title or '自评表'}：全年执行数{fmt(x)}万元超过全年预算数{fmt(b)}万元。",
                          f"≤{fmt(b)}", fmt(x), [fr.line]))
    return out


# ---------------------------------------------------------------- indicators


def aligned(i: Indicator) -> tuple[Value, Value, Value, Value, str]:
    """(target, actual, weight, score, note) with a row shifted one column left put back:
    a text 得分 after a numeric 分值 and a numeric 实际完成值 (``10 | 9 | 按90%折算计分``)."""
    if (i.score.kind == "text" and _n(i.weight) is not None and _n(i.actual) is not None
            and not i.note):
        return parse_value(i.level3), i.target, i.actual, i.weight, i.score.clean
    return i.target, i.actual, i.weight, i.score, i.note


def _rows(ev: Evaluation) -> list[Indicator]:
    return [i for i in ev.indicators if not i.placeholder]


def _label(ev: Evaluation) -> str:
    if ev.kind == "project":
        return f"项目支出绩效自评表（{ev.project_name or ''}）"
    if ev.kind == "third_party":
        return "第三方评价指标表"
    return "整体支出绩效自评表"


def check_score_over_weight(report: Report) -> list[Finding]:
    out = []
    for ev in report.evaluations:
        for i in _rows(ev):
            _, _, w, s, _ = aligned(i)
            if _n(w) is not None and _n(s) is not None and _n(s) - _n(w) > CENT:
                out.append(_f("score_over_weight", ERROR,
                              f"{_label(ev)}“{i.level2}/{i.level3}”得分{fmt(_n(s))}超过其分值{fmt(_n(w))}。",
                              f"≤{fmt(_n(w))}", fmt(_n(s)), [i.line]))
    return out


def check_total_score(report: Report) -> list[Finding]:
    out = []
    for ev in report.evaluations:
        rows = _rows(ev)
        total = _n(ev.total_score)
        if total is None or not rows:
            continue
        scores = [_n(aligned(i)[3]) for i in rows]
        if any(x is None for x in scores):
            continue
        fr = _funds_total(ev) if ev.kind != "third_party" else None
        fs = _n(fr.score) if fr else None
        s = sum(scores, Decimal(0)) + (fs or 0)
        if _ne(s, total, Decimal("0.015")):
            funds = f"+资金得分{fmt(fs)}" if fs is not None else ""
            out.append(_f("total_score_sum", ERROR,
                          f"{_label(ev)}：指标得分合计{fmt(sum(scores, Decimal(0)))}{funds}={fmt(s)}，但总分为{fmt(total)}。",
                          fmt(s), fmt(total), [i.line for i in rows] + [ev.total_score.line]))
    return out


def check_weights_sum(report: Report) -> list[Finding]:
    out = []
    for ev in report.evaluations:
        rows = _rows(ev)
        tw = _n(ev.total_weight)
        if tw is None or not rows:
            continue
        ws = [_n(aligned(i)[2]) for i in rows]
        if any(x is None for x in ws):
            continue
        fr = _funds_total(ev) if ev.kind != "third_party" else None
        fw = _n(fr.weight) if fr else None
        s = sum(ws, Decimal(0)) + (fw or 0)
        if _ne(s, tw):
            funds = f"+资金分值{fmt(fw)}" if fw is not None else ""
            out.append(_f("weights_sum", ERROR,
                          f"{_label(ev)}：指标分值合计{fmt(sum(ws, Decimal(0)))}{funds}={fmt(s)}，但总分的分值为{fmt(tw)}。",
                          fmt(tw), fmt(s), [i.line for i in rows] + [ev.total_weight.line]))
        # group labels: 产出指标(50分)
        groups: dict[str, list[Decimal]] = defaultdict(list)
        glines: dict[str, list[int]] = defaultdict(list)
        for i, w in zip(rows, ws):
            for lab in (i.level1, i.level2):
                groups[clean_text(lab)].append(w)
                glines[clean_text(lab)].append(i.line)
        for lab, wl in groups.items():
            m = _GROUP_WEIGHT.search(lab)
            if not m:
                continue
            stated, s = Decimal(m.group(1)), sum(wl, Decimal(0))
            # empty (omitted) rows of the group may carry the missing weight
            if _ne(stated, s) and not any(i.placeholder and clean_text(i.level1) == lab for i in ev.indicators):
                out.append(_f("group_weight_label", DOUBT,
                              f"{_label(ev)}：“{lab}”标明{fmt(stated)}分，其下指标分值合计{fmt(s)}。",
                              fmt(stated), fmt(s), glines[lab]))
    return out


def check_stated_score(report: Report) -> list[Finding]:
    out = []
    stated = _n(report.stated_score)
    tp = next((e for e in report.evaluations if e.kind == "third_party"), None)
    ov = report.overall
    ref = tp if report.report_kind == "第三方评价报告" and tp else ov
    if stated is not None and ref is not None and _n(ref.total_score) is not None:
        t = _n(ref.total_score)
        if _ne(stated, t):
            out.append(_f("stated_score", DOUBT,
                          f"报告正文称得分{fmt(stated)}分，{_label(ref)}总分为{fmt(t)}分。",
                          fmt(t), fmt(stated), [report.stated_score.line, ref.total_score.line]))
    if tp and ov and _n(tp.total_score) is not None and _n(ov.total_score) is not None and _ne(_n(tp.total_score), _n(ov.total_score)):
        out.append(_f("score_tables_disagree", DOUBT,
                      f"单位自评表总分{fmt(_n(ov.total_score))}分，第三方评价指标表合计{fmt(_n(tp.total_score))}分。",
                      fmt(_n(tp.total_score)), fmt(_n(ov.total_score)), [ov.total_score.line, tp.total_score.line]))
    return out


_SCORING_WORDS = re.compile(r"酌情扣分|扣\d*(?:\.\d+)?分|计\d+(?:\.\d+)?分|折算计分|扣完为止")


def check_shifted_cells(report: Report) -> list[Finding]:
    out = []
    for ev in report.evaluations:
        buckets: dict[str, list[Indicator]] = defaultdict(list)
        for i in _rows(ev):
            if i.weight.kind == "text":
                buckets[f"分值栏填的是文字（如“{i.weight.clean}”）而非分数"].append(i)
            if i.score.kind == "text":
                buckets[f"得分栏填的是文字（如“{i.score.clean}”）"].append(i)
            if i.actual.kind == "text" and _SCORING_WORDS.search(i.actual.clean):
                buckets[f"实际完成值栏填的是评分规则“{i.actual.clean}”，整行错位"].append(i)
            if _SCORING_WORDS.search(i.target.clean):
                buckets[f"年度指标值栏填的是评分规则“{i.target.clean[:30]}”"].append(i)
        n = len(_rows(ev))
        for what, rows in buckets.items():
            out.append(_f("shifted_cells", DOUBT,
                          f"{_label(ev)}：{len(rows)}/{n}行{what}，单元格错位或表格不规范。",
                          "数字分值/得分", rows[0].weight.clean if "分值" in what else rows[0].score.clean if "得分栏" in what else
                          rows[0].actual.clean if "实际" in what else rows[0].target.clean,
                          [i.line for i in rows]))
    return out


def check_score_vs_evidence(report: Report) -> list[Finding]:
    out = []
    for ev in report.evaluations:
        for i in _rows(ev):
            tv, av, wv, sv, note = aligned(i)
            w, s = _n(wv), _n(sv)
            t, a = ind_mod.measure(tv.text), ind_mod.measure(av.text)
            if tv is i.target:
                t, a = ind_mod.indicator_measures(i)
            ratio, met = ind_mod.compare(t, a)
            full = s is not None and (w is None and wv.kind == "text" or w is not None and s >= w)
            name = f"{_label(ev)}“{i.level3 or i.level2}”"
            if met is False and full:
                out.append(_f("score_vs_evidence", DOUBT,
                              f"{name}：年度指标值{t.text}，实际完成值{a.text}，未达标却得满分{fmt(s)}"
                              + (f"（完成率{fmt(ratio * 100)}%）。" if ratio is not None else "。"),
                              f"<{fmt(w) if w is not None else fmt(s)}", fmt(s), [i.line]))
            elif met is True and w is not None and s is not None and s < w and ev.kind != "third_party":
                out.append(_f("deduction_despite_met", DOUBT,
                              f"{name}：实际完成值“{a.text}”已达到年度指标值“{t.text}”，却扣分（{fmt(s)}/{fmt(w)}）{'，未说明原因' if not note else '：' + note}。",
                              fmt(w), fmt(s), [i.line]))
            if w is not None and s is not None and s < w and not clean_text(note):
                out.append(_f("no_deviation_reason", NOTE,
                              f"{name}得分{fmt(s)}低于分值{fmt(w)}，未填写偏差原因/扣分原因。",
                              "偏差原因", "（空白）", [i.line]))
            if ind_mod.is_target_like(a) and not ind_mod.is_target_like(t) is False or (
                    ind_mod.is_target_like(a) and a.text == t.text):
                out.append(_f("actual_is_target", DOUBT,
                              f"{name}：实际完成值写成“{a.text}”，是目标的写法而不是实际测得的数。",
                              "实际数值", a.text, [i.line]))
    return out


def check_cost_claim(report: Report) -> list[Finding]:
    """Cost indicators that claim 未超预算 with full marks while 执行数 > 年初预算数."""
    out = []
    for ev in report.evaluations:
        fr = _funds_total(ev)
        if fr is None:
            continue
        i0, x = _n(fr.initial_budget), _n(fr.executed)
        if i0 is None or x is None or x - i0 <= CENT:
            continue
        rows = []
        for i in _rows(ev):
            tv, av, wv, sv, _ = aligned(i)
            text = clean_text(i.level3) + tv.clean + av.clean
            if not ind_mod.is_cost(i) or "预算" not in text:
                continue
            w, s = _n(wv), _n(sv)
            if s is not None and (w is None or s >= w):
                rows.append(i)
        if rows:
            out.append(_f("cost_claim_vs_budget", DOUBT,
                          f"{_label(ev)}：{len(rows)}个成本指标称“{clean_text(rows[0].level3)}/{rows[0].actual.clean}”并得满分，但全年执行数{fmt(x)}万元超过年初预算数{fmt(i0)}万元{fmt(x - i0)}万元。",
                          f"≤{fmt(i0)}", fmt(x), [i.line for i in rows] + [fr.line]))
    return out


def _sig(i: Indicator) -> tuple[str, str, str]:
    return clean_text(i.level3), i.target.clean, i.actual.clean


def check_duplicate_indicators(report: Report) -> list[Finding]:
    out = []
    for ev in report.evaluations:
        seen: dict[tuple, list[Indicator]] = defaultdict(list)
        for i in _rows(ev):
            if i.target.clean or i.actual.clean:
                seen[_sig(i)].append(i)
        for sig, rows in seen.items():
            if len({clean_text(i.level2) for i in rows}) >= 2:
                out.append(_f("duplicate_indicators", NOTE,
                              f"{_label(ev)}：{'、'.join(clean_text(i.level2) for i in rows)}{len(rows)}行内容完全相同（{sig[0]}/{sig[1]}/{sig[2]}），疑为复制粘贴。",
                              "各指标内容不同", f"{len(rows)}行相同", [i.line for i in rows]))
    return out


def check_indicator_swapped(report: Report) -> list[Finding]:
    out = []
    evs = [e for e in report.evaluations if e.kind in ("overall", "project")]
    for a_i, ea in enumerate(evs):
        for eb in evs[a_i + 1:]:
            ma = {clean_text(i.level2): _sig(i) for i in _rows(ea)}
            mb = {clean_text(i.level2): _sig(i) for i in _rows(eb)}
            done = set()
            for x in ma:
                for y in ma:
                    if x < y and x in mb and y in mb and (x, y) not in done and ma[x] != ma[y]:
                        if ma[x] == mb[y] and ma[y] == mb[x]:
                            done.add((x, y))
                            out.append(_f("indicator_swapped", NOTE,
                                          f"{_label(ea)}与{_label(eb)}的“{x}”和“{y}”两行内容互换（{ma[x][0]} / {ma[y][0]}）。",
                                          f"{x}：{ma[x][0]}", f"{x}：{mb[x][0]}", []))
    return out


def check_indicator_reuse(report: Report) -> list[Finding]:
    out = []
    ov = report.overall
    if ov is None:
        return out
    sigs = {(clean_text(i.level3), i.actual.clean) for i in _rows(ov) if i.actual.kind == "number" or
            _DIGIT.search(i.actual.clean)}
    for ev in report.evaluations:
        if ev.kind != "project":
            continue
        same = [i for i in _rows(ev) if (clean_text(i.level3), i.actual.clean) in sigs]
        if len(same) >= 2:
            out.append(_f("indicator_reuse", NOTE,
                          f"{_label(ev)}的{len(same)}个指标与整体支出自评表的实际完成值完全相同（如“{clean_text(same[0].level3)} {same[0].actual.clean}”），项目的产出可能照搬了全单位的数字。",
                          "项目自身的产出数", f"{len(same)}个相同", [i.line for i in same]))
    return out


_NEAR_MORE = re.compile(r"近\s*(\d+(?:\.\d+)?)\s*余\s*(万元|人次|次|件|场|人|个|万)?")


def check_contradictory_qualifier(report: Report) -> list[Finding]:
    out = []
    texts: list[tuple[str, int]] = list(narrative(report))
    for ev in report.evaluations:
        texts.append((normalise_digits(clean_text(ev.goal_actual)), ev.line_start))
        for i in _rows(ev):
            texts.append((normalise_digits(i.actual.clean), i.line))
            texts.append((normalise_digits(i.target.clean), i.line))
    seen = set()
    for t, line in texts:
        for m in _NEAR_MORE.finditer(t):
            k = (m.group(0), line)
            if k in seen:
                continue
            seen.add(k)
            out.append(_f("contradictory_qualifier", NOTE,
                          f"“{m.group(0)}”同时用“近”（不足）和“余”（超过），数字含义自相矛盾。",
                          f"{m.group(1)}{m.group(2) or ''}", m.group(0), [line]))
    return out


# ---------------------------------------------------------------- narrative vs tables

_STAFF_AUTH = re.compile(r"(?<![专项行政事业工勤])(?:人员)?编制(?:数)?(?:为|共|有)?" + NUM + r"(?:人|个|名)")
_STAFF_ACTUAL = re.compile(r"(?:实有(?:在职)?(?:人数|人员)?|在职(?:人数|人员)|在岗人数)(?:为|共|有)?" + NUM + r"(?:人|个|名)")


def check_staffing(report: Report) -> list[Finding]:
    out = []
    st = report.staffing
    if st is None:
        return out
    a, b, r = _n(st.authorized), _n(st.actual), _n(st.control_rate)
    if a and b is not None:
        if r is not None:
            exp = (b / a * 100)
            if abs(exp - r) > Decimal("0.01"):
                out.append(_f("staffing_rate", ERROR,
                              f"基础数据表：在职{fmt(b)}人/编制{fmt(a)}人={fmt(exp)}%，表中控制率为{st.control_rate.clean}。",
                              f"{fmt(exp)}%", st.control_rate.clean, [st.line, st.control_rate.line]))
        if b > a:
            out.append(_f("staffing_over", DOUBT,
                          f"基础数据表：实际在职{fmt(b)}人超过编制{fmt(a)}人。", f"≤{fmt(a)}", fmt(b), [st.line]))
    auth_n = act_n = None
    for text, line in narrative(report):
        # The literal checks are necessary conditions of the patterns, and much cheaper.
        if auth_n is None and "编制" in text and (m := _STAFF_AUTH.search(text)):
            auth_n = (Decimal(m.group(1)), line)
        if act_n is None and ("实有" in text or "在职" in text or "在岗" in text) and (m := _STAFF_ACTUAL.search(text)):
            act_n = (Decimal(m.group(1)), line)
    if auth_n and a is not None and auth_n[0] != a:
        out.append(_f("narrative_staffing", DOUBT,
                      f"正文称编制{fmt(auth_n[0])}人，基础数据表编制数为{fmt(a)}人"
                      + (f"（按正文编制，控制率应为{fmt(b / auth_n[0] * 100)}%）" if b is not None and auth_n[0] else "") + "。",
                      fmt(a), fmt(auth_n[0]), [auth_n[1], st.authorized.line or st.line]))
    if act_n and b is not None and act_n[0] != b:
        extra = f"（按正文人数，在职人员控制率为{fmt(act_n[0] / a * 100)}%）" if a else ""
        out.append(_f("narrative_staffing", DOUBT,
                      f"正文称实有/在职{fmt(act_n[0])}人，基础数据表为{fmt(b)}人{extra}。",
                      fmt(b), fmt(act_n[0]), [act_n[1], st.actual.line or st.line]))
    return out


_LEAD = r"(?:^|(?<=[，。；：、（(\s]|中|其))"
_FIG_PATTERNS = {
    "basic": re.compile(r"基本支出(?:合计|共计|总额|为|共)?" + NUM + r"万元"),
    "project": re.compile(r"(?<![费项金）)])项目支出(?:合计|共计|总额|为|共)?" + NUM + r"万元"),
    "personnel": re.compile(r"人员经费(?:支出)?(?:合计|为|共)?" + NUM + r"万元"),
    "public": re.compile(r"(?:日常)?公用(?:经费|支出)(?:支出)?(?:合计|为|共)?" + NUM + r"万元"),
    "total": re.compile(r"(?<!其中)(?<!其中一般公共预算)(?:整体支出|财政拨款支出|支出总额|总支出|共计支出|支出共计)(?:合计|为|共|总额)?" + NUM + r"万元"),
}


# A word every match of each _FIG_PATTERNS pattern holds: tested before the pattern.
_FIG_WORDS = {"basic": "基本支出", "project": "项目支出", "personnel": "人员经费", "public": "公用", "total": "支出"}


_BASIC_SPLIT = re.compile(r"基本支出(?:合计|共计|为|共)?" + NUM + r"万元[，,]?其中[：:]?\s*人员经费(?:支出)?" + NUM
                          + r"万元[^。；;]{0,40}?公用(?:经费|支出)(?:支出)?" + NUM + r"万元")


def _narrative_figures(report: Report) -> dict[str, list[tuple[Decimal, int, str]]]:
    out: dict[str, list[tuple[Decimal, int, str]]] = defaultdict(list)
    for text, line in narrative(report):
        if "万元" not in text:
            continue  # every pattern ends in 万元
        for key, pat in _FIG_PATTERNS.items():
            if _FIG_WORDS[key] not in text:
                continue
            for m in pat.finditer(text):
                out[key].append((Decimal(m.group(1)), line, text))
    return out


def check_narrative_figures(report: Report) -> list[Finding]:
    out = []
    figs = _narrative_figures(report)
    ov = report.overall
    names = {"basic": "基本支出", "project": "项目支出", "personnel": "人员经费", "public": "公用经费", "total": "支出总额"}
    tables: dict[str, list[tuple[str, Decimal, int]]] = defaultdict(list)
    if ov is not None:
        for k, nk in (("basic", "basic_expenditure"), ("project", "project_expenditure")):
            v = _nature(ov, nk)
            if v is not None:
                tables[k].append(("自评表", v, _nature_line(ov, nk)))
        ft = _funds_total(ov)
        if ft and _n(ft.executed) is not None:
            tables["total"].append(("自评表全年执行数", _n(ft.executed), ft.line))
    for k, key in (("basic", "basic_total"), ("project", "project_total"), ("personnel", "personnel")):
        e = _first(report, key)
        if e and _col(e, "final") is not None:
            tables[k].append(("基础数据表", _col(e, "final"), e.line))
    pub = next((e for e in _ec(report, "public_funds_total") if "公用" in e.item), None)
    if pub and _col(pub, "final") is not None:
        tables["public"].append(("基础数据表", _col(pub, "final"), pub.line))
    for k, found in figs.items():
        vals = sorted({v for v, _, _ in found})
        if len(vals) > 1 and k in ("basic", "personnel", "public"):
            out.append(_f("narrative_conflict", DOUBT,
                          f"正文中{names[k]}前后不一：{'、'.join(fmt(v) + '万元' for v in vals)}。",
                          fmt(vals[0]), fmt(vals[-1]), [l for _, l, _ in found]))
        first = found[0]
        for where, tv, tl in tables.get(k, []):
            if all(_ne_printed(v, tv) for v, _, _ in found):
                out.append(_f("narrative_vs_table", DOUBT,
                              f"正文称{names[k]}{fmt(first[0])}万元，{where}为{fmt(tv)}万元（差{fmt(first[0] - tv)}）。",
                              fmt(tv), fmt(first[0]), [first[1], tl]))
    # 基本支出 = 人员经费 + 公用经费 inside one paragraph of the narrative
    for text, line in narrative(report):
        for m in _BASIC_SPLIT.finditer(text):
            bv, pv, gv = (Decimal(m.group(k)) for k in (1, 2, 3))
            if _ne(bv, pv + gv):
                out.append(_f("narrative_basic_sum", ERROR,
                              f"正文：基本支出{fmt(bv)}万元，但人员经费{fmt(pv)}+公用经费{fmt(gv)}={fmt(pv + gv)}万元。",
                              fmt(pv + gv), fmt(bv), [line]))
    # project expenditure in the two tables
    if ov is not None:
        pe = _nature(ov, "project_expenditure")
        pt = _first(report, "project_total")
        if pe is not None and pt is not None:
            f = _col(pt, "final")
            if f is not None and _ne_printed(f, pe):
                out.append(_f("project_tables", DOUBT,
                              f"项目支出：自评表按支出性质为{fmt(pe)}万元，基础数据表本年决算数为{fmt(f)}万元。",
                              fmt(f), fmt(pe), [_nature_line(ov, "project_expenditure"), pt.line]))
            elif f is None:
                vals = [(e, _col(e, "final")) for e in _project_lines(report) if _col(e, "final") is not None]
                if vals:
                    s = sum((x for _, x in vals), Decimal(0))
                    if _ne(s, pe):
                        out.append(_f("project_tables", DOUBT,
                                      f"项目支出：自评表为{fmt(pe)}万元，基础数据表所列项目合计仅{fmt(s)}万元，{fmt(pe - s)}万元（{fmt((pe - s) / pe * 100)}%）未列明细。",
                                      fmt(pe), fmt(s), [_nature_line(ov, "project_expenditure")] + [e.line for e, _ in vals]))
    return out


_INIT_TOTAL = re.compile(r"\d{4}年(?:度)?(?:年初预算|年初预算资金|年初预算数)(?:为|共)?" + NUM + r"万元")
_INIT_BASIC = re.compile(r"基本支出年初预算(?:数|资金)?(?:为)?" + NUM + r"万元")
_INIT_PROJ = re.compile(r"(?:年初预算安排项目资金|项目(?:支出)?年初预算(?:数|资金)?)(?:为)?" + NUM + r"万元")


def check_narrative_initial_budget(report: Report) -> list[Finding]:
    out = []
    ov = report.overall
    ft = _funds_total(ov) if ov else None
    i0 = _n(ft.initial_budget) if ft else None
    if i0 is None:
        return out
    basic = proj = None
    for text, line in narrative(report):
        if "年初预算" not in text:
            continue  # all three patterns name 年初预算
        if (m := _INIT_TOTAL.search(text)) and "专项" not in text[: m.start()][-6:]:
            v = Decimal(m.group(1))
            if _ne(v, i0):
                out.append(_f("narrative_initial_budget", DOUBT,
                              f"正文称年初预算{fmt(v)}万元，自评表年初预算数为{fmt(i0)}万元。", fmt(i0), fmt(v), [line, ft.line]))
        if basic is None and (m := _INIT_BASIC.search(text)):
            basic = (Decimal(m.group(1)), line)
        if proj is None and (m := _INIT_PROJ.search(text)):
            proj = (Decimal(m.group(1)), line)
    if basic and proj and _ne(basic[0] + proj[0], i0):
        s = basic[0] + proj[0]
        out.append(_f("narrative_initial_budget", DOUBT,
                      f"正文：基本支出年初预算{fmt(basic[0])}+项目年初预算{fmt(proj[0])}={fmt(s)}万元，自评表年初预算数为{fmt(i0)}万元（差{fmt(i0 - s)}）。",
                      fmt(i0), fmt(s), [basic[1], proj[1], ft.line]))
    return out


_PROJ_RECON = re.compile(r"(?P<name>[\u4e00-\u9fff]{2,20}?)[，,]?年初预算(?:资金)?" + NUM.replace("(", "(?P<a>", 1)
                         + r"万元[，,]年中(?:执行)?调(?P<dir>增|减)" + NUM.replace("(", "(?P<b>", 1)
                         + r"万元[，,](?:实际支出" + NUM.replace("(", "(?P<c>", 1) + r"万元|本年无发生额)[，,]结余结转"
                         + NUM.replace("(", "(?P<d>", 1) + r"万元")
_PROJ_SPENT = re.compile(r"^(?:\d+[.、．])?(?P<name>[\u4e00-\u9fff]{2,20}?)(?:[（(][^）)]*[）)])?项目支出" + NUM + r"万元")


def check_narrative_projects(report: Report) -> list[Finding]:
    """年初预算 ± 调整 = 实际支出 + 结余结转, and one project's spending stated twice."""
    out = []
    spent: dict[str, list[tuple[Decimal, int]]] = defaultdict(list)
    for text, line in narrative(report):
        # _PROJ_RECON needs 年初预算 … 结余结转 and _PROJ_SPENT 项目支出: test the words first,
        # as a pattern that opens with a run of Han characters is tried at every position.
        recon = "结余结转" in text and "年初预算" in text
        for m in (_PROJ_RECON.finditer(text) if recon else ()):
            name = re.sub(r"^(?:[一二三四五六七八九十]+是|另外)", "", m.group("name"))
            a, b = Decimal(m.group("a")), Decimal(m.group("b"))
            c = Decimal(m.group("c")) if m.group("c") else Decimal(0)
            d = Decimal(m.group("d"))
            avail = a + b if m.group("dir") == "增" else a - b
            if _ne(avail, c + d):
                out.append(_f("narrative_project_reconcile", ERROR,
                              f"正文“{name}”：年初预算{fmt(a)}{'+' if m.group('dir') == '增' else '−'}调整{fmt(b)}={fmt(avail)}万元，但实际支出{fmt(c)}+结余结转{fmt(d)}={fmt(c + d)}万元。",
                              fmt(avail), fmt(c + d), [line]))
            if m.group("c"):
                spent[name].append((c, line))
        if "项目支出" in text and (m := _PROJ_SPENT.search(text)):
            spent[m.group("name")].append((Decimal(m.group(2)), line))
    for name, vals in spent.items():
        vs = sorted({v for v, _ in vals})
        if len(vs) > 1:
            out.append(_f("narrative_conflict", DOUBT,
                          f"正文中“{name}”的支出前后不一：{'、'.join(fmt(v) + '万元' for v in vs)}。",
                          fmt(vs[0]), fmt(vs[-1]), [l for _, l in vals]))
    return out


_COUNT_UNITS = "件|人次|人|场|次|小时|名|户|起"
_FACT = re.compile(r"(?P<key>[\u4e00-\u9fff]{2,12}?)(?:为|达|共|约|近)?(?P<num>\d+(?:\.\d+)?)(?P<q>余)?(?P<unit>" + _COUNT_UNITS + r")")
_YEAR_BEFORE = re.compile(r"\d{4}年")
# The figure and unit of a _FACT match, which start at most 13 characters (key and 为/达…)
# after the match does: see _finditer_near.
# (\d\d* rather than \d+: a pattern that opens with a character class is scanned in C.)
_FACT_CORE = re.compile(r"\d\d*(?:\.\d+)?余?(?:" + _COUNT_UNITS + ")")
_KEY_STRIP = re.compile(r"^(?:今年以来|目前|累计|全年|全区|全市|市本级|区本级|本级|共|其中|已|另外|一是|二是|三是|四是|五是)+")


def check_narrative_counts(report: Report) -> list[Finding]:
    """The same count stated twice in the narrative with different numbers."""
    out = []
    facts: dict[tuple[str, str], list[tuple[Decimal, str, int]]] = defaultdict(list)
    for text, line in narrative(report):
        for m in _finditer_near(_FACT, _FACT_CORE, text, 13):
            key = _KEY_STRIP.sub("", m.group("key"))
            if len(key) < 2:
                continue
            key = key[-6:]
            if _YEAR_BEFORE.search(text[max(0, m.start() - 5):m.start()]) and len(key) < 3:
                continue
            after = text[m.end():m.end() + 2]
            tail = "，" if not after or after[0] in "，,。；;、）)" else after
            if len(key) >= 4:
                tail = ""
            facts[(key, m.group("unit"), tail)].append((Decimal(m.group("num")), m.group(0), line))
    for (key, unit, _tail), vals in facts.items():
        lines = {l for _, _, l in vals}
        nums = {v for v, _, _ in vals}
        if len(nums) > 1 and len(lines) > 1 and len(nums) <= 3:
            shown = "、".join(dict.fromkeys(t for _, t, _ in vals))
            out.append(_f("narrative_conflict", DOUBT,
                          f"正文中“{key}”前后数字不一：{shown}。",
                          fmt(min(nums)), fmt(max(nums)), sorted(lines)))
    return out


_BREAKDOWN = re.compile(r"(?P<tk>[\u4e00-\u9fff]{1,8}?)(?P<total>\d+)(?P<unit>件|人|个|名)[，,]?[（(]?其中[：:，,]?(?P<parts>[^。；;）)]*)")
_BREAKDOWN_CORE = re.compile(r"\d\d*(?:件|人|个|名)[，,]?[（(]?其中")  # ≤ 8 characters in (tk)
_PART = re.compile(r"[\u4e00-\u9fff]{1,12}?(\d+)(件|人|个|名)")
_DONE_REST = re.compile(r"(?P<total>\d+)件[，,](?P<a>\d+)件已[^，。]*[，,]另外?(?P<b>\d+)件")
_RATIO = re.compile(r"(?P<n>\d+)件[，、](?P<k>[\u4e00-\u9fff]{1,4}?)(?P<m>\d+)件[，、](?P=k)率(?:为|达)?(?P<r>\d+(?:\.\d+)?)%")


def check_narrative_arithmetic(report: Report) -> list[Finding]:
    out = []
    for text, line in narrative(report):
        # Each pattern needs a word the text may lack (其中 / 件已…另 / 率…%): test that first.
        for m in (_finditer_near(_BREAKDOWN, _BREAKDOWN_CORE, text, 8) if "其中" in text else ()):
            total = Decimal(m.group("total"))
            parts = [(Decimal(p.group(1)), p.group(2)) for p in _PART.finditer(m.group("parts"))]
            parts = [v for v, u in parts if u == m.group("unit")]
            if len(parts) < 2:
                continue
            s = sum(parts, Decimal(0))
            if s != total:
                out.append(_f("narrative_breakdown", ERROR if s > total else DOUBT,
                              f"正文“{m.group('tk')}{m.group('total')}{m.group('unit')}”，其中各项相加为{fmt(s)}{m.group('unit')}（差{fmt(total - s)}）。",
                              fmt(total), fmt(s), [line]))
        for m in (_DONE_REST.finditer(text) if "件已" in text and "另" in text else ()):
            t, a, b = (Decimal(m.group(k)) for k in ("total", "a", "b"))
            if a + b > t:
                out.append(_f("narrative_breakdown", ERROR,
                              f"正文“{m.group(0)}”：{fmt(a)}+{fmt(b)}={fmt(a + b)}件，多于总数{fmt(t)}件。",
                              fmt(t), fmt(a + b), [line]))
        for m in (_RATIO.finditer(text) if "率" in text and "%" in text else ()):
            n, k, r = Decimal(m.group("n")), Decimal(m.group("m")), Decimal(m.group("r"))
            if n == 0:
                continue
            exact = k / n * 100
            q = Decimal(1).scaleb(-len(m.group("r").partition(".")[2]))
            rounded = exact.quantize(q, rounding=ROUND_HALF_UP)
            if r != rounded:
                trunc = r == exact.quantize(q, rounding=ROUND_DOWN)
                out.append(_f("narrative_rate", NOTE if trunc else DOUBT,
                              f"正文：{fmt(k)}/{fmt(n)}={exact:.2f}%，应写{rounded}%，正文写{m.group('r')}%{'（截断）' if trunc else ''}。",
                              f"{rounded}%", f"{m.group('r')}%", [line]))
    return out


_ALL_MET = re.compile(r"(?:绩效)?指标(?:全部|均已?|全面)(?:圆满)?(?:完成|达[成标到])|全部指标(?:均已?)?(?:圆满)?(?:完成|达[成标到])")
_OVER = re.compile(r"(?P<what>[\u4e00-\u9fff]{2,12}?)超(?:年度|全年)?(?:任务|目标|计划)(?:数)?(?P<p>\d+(?:\.\d+)?)%")


def check_narrative_claims(report: Report) -> list[Finding]:
    out = []
    ev = report.overall
    if ev is None:
        return out
    short = []
    for i in _rows(ev):
        _, _, w, s, _ = aligned(i)
        if _n(w) is not None and _n(s) is not None and _n(s) < _n(w):
            short.append(i)
    for text, line in narrative(report):
        if short and "指标" in text and (m := _ALL_MET.search(text)):
            i = short[0]
            out.append(_f("claim_all_met", DOUBT,
                          f"正文称“{m.group(0)}”，但自评表中{len(short)}个指标未得满分（如“{clean_text(i.level3)}”{fmt(_n(aligned(i)[3]))}/{fmt(_n(aligned(i)[2]))}）。",
                          "全部满分", f"{len(short)}个扣分", [line] + [x.line for x in short]))
        for m in (_OVER.finditer(text) if "超" in text and "%" in text else ()):
            tkey = ind_mod.topic_of_text(m.group("what"))
            if not tkey:
                continue
            for i in _rows(ev):
                if ind_mod.topic(i) != tkey:
                    continue
                t, a = ind_mod.indicator_measures(i)
                ratio, _ = ind_mod.compare(t, a)
                if ratio is None:
                    continue
                over = (ratio - 1) * 100
                claimed = Decimal(m.group("p"))
                if abs(over - claimed) > Decimal("1"):
                    out.append(_f("narrative_overachievement", DOUBT,
                                  f"正文称“{m.group(0)}”，自评表“{clean_text(i.level3)}”目标{t.text}、完成{a.text}，实为超出{fmt(over)}%。",
                                  f"{fmt(over)}%", f"{fmt(claimed)}%", [line, i.line]))
    return out


_ATT_REF = re.compile(r"附件\s*(\d+)")
_ATT_LIST = re.compile(r"^(?:附件[:：]\s*)?(\d+)\s*[.、．]\s*(.+?表)")
_KINDS = (("项目支出绩效自评表", "project"), ("基础数据表", "basic_data"), ("自评表", "evaluation"), ("评价指标表", "third_party"))


def _kind_of(title: str) -> str | None:
    for word, kind in _KINDS:
        if word in title:
            return kind
    return None


def check_attachments(report: Report) -> list[Finding]:
    out = []
    present: dict[int, str] = {}
    kinds_present: dict[str, list[int]] = defaultdict(list)
    for t in report.tables:
        cap = normalise_digits(t.caption if isinstance(t.caption, str) else " ".join(t.caption))
        m = _ATT_REF.search(cap)
        title = cap + " " + t.kind
        k = _kind_of(cap) or {"basic_data": "basic_data", "evaluation": "evaluation", "third_party": "third_party"}.get(t.kind)
        if "项目支出" in cap:
            k = "project"
        if m:
            present[int(m.group(1))] = title
            if k:
                kinds_present[k].append(int(m.group(1)))
    listed_any = False
    for text, line in narrative(report):
        for m in _ATT_REF.finditer(text):
            n = int(m.group(1))
            rest = text[m.end():m.end() + 40]
            lm = _ATT_LIST.match(text)
            if present and n not in present and not lm:
                out.append(_f("attachment_refs", NOTE,
                              f"正文提到“附件{n}”（{text[max(0, m.start() - 6):m.end() + 20]}），但报告中没有附件{n}。",
                              f"附件{n}", "（无）", [line]))
        lm = _ATT_LIST.match(text)
        if not lm:
            listed_any = bool(_ATT_INTRO.search(text))
            continue
        if "附件" in text:
            listed_any = True
        if listed_any:
            n, title = int(lm.group(1)), lm.group(2)
            kind = _kind_of(title)
            if kind is None:
                out.append(_f("attachment_refs", NOTE,
                              f"正文附件清单列有“{n}.{title}”，报告中未见该表。", title, "（无）", [line]))
                continue
            nums = kinds_present.get(kind, [])
            if not nums and kind == "evaluation":
                nums = kinds_present.get("project", [])
            if not nums:
                out.append(_f("attachment_refs", NOTE,
                              f"正文附件清单列有“{n}.{title}”，报告中未见该表。", title, "（无）", [line]))
            elif n not in nums:
                out.append(_f("attachment_refs", NOTE,
                              f"正文附件清单称“附件{n}：{title}”，而该表在报告中标为附件{'、'.join(map(str, nums))}。",
                              f"附件{n}", f"附件{'、'.join(map(str, nums))}", [line]))
    for ev in report.evaluations:
        for m in _ATT_REF.finditer(normalise_digits(clean_text(ev.goal_actual))):
            n = int(m.group(1))
            if present and n not in present:
                out.append(_f("attachment_refs", NOTE,
                              f"{_label(ev)}年度总体目标实际完成情况写“见附件{n}”，但报告中没有附件{n}。",
                              f"附件{n}", "（无）", [ev.line_start]))
    return out


def check_orphan_tables(report: Report) -> list[Finding]:
    out = []
    for t in report.tables:
        if t.kind not in ("generic", "unknown"):
            continue
        flat = [clean_text(c) for row in t.rows for c in row]
        if any(_SCORE_WORDS.search(c) for c in flat):
            lines = [l for row in t.lines for l in row]
            out.append(_f("orphan_table", DOUBT,
                          f"第{t.line_start}行起有一段无标题、无项目名的评分表残片（{' | '.join(c for c in flat if c)[:60]}），与正式自评表内容不一致或重复，疑为删除表格的残留。",
                          "（无）", " | ".join(c for c in flat if c)[:80], lines or [t.line_start]))
    return out


def check_project_names(report: Report) -> list[Finding]:
    out = []
    lines = [e for e in _project_lines(report) if clean_text(e.item) and not e.placeholder]
    total = _first(report, "project_total")
    if not lines and total is None:
        return out  # no 基础数据表 project rows to compare with (a form published on its own)
    for ev in report.evaluations:
        if ev.kind != "project" or not ev.project_name:
            continue
        name = clean_text(ev.project_name)
        if any(name in clean_text(e.item) or clean_text(e.item) in name for e in lines if len(clean_text(e.item)) >= 2):
            continue
        fr = _funds_total(ev)
        amounts = {x for x in (_n(fr.full_year_budget), _n(fr.executed)) if x is not None} if fr else set()
        same = [e for e in lines if amounts & {x for x in (_col(e, "budget"), _col(e, "final")) if x is not None}]
        if same:
            msg = f"项目支出绩效自评表“{name}”未见于基础数据表的项目清单；金额相同的一行叫“{same[0].item}”。"
            out.append(_f("project_not_in_basic_data", NOTE, msg, name, same[0].item, [ev.line_start, same[0].line]))
        else:
            tb = _col(total, "budget") if total else None
            extra = f"；基础数据表项目支出本年预算数{fmt(tb)}万元，而该项目全年预算{fmt(_n(fr.full_year_budget)) if fr else '—'}万元" if tb is not None else ""
            out.append(_f("project_not_in_basic_data", NOTE,
                          f"项目支出绩效自评表“{name}”在基础数据表中找不到名称或金额对应的项目行{extra}。",
                          name, "（无）", [ev.line_start] + ([total.line] if total else [])))
    return out


def check_third_party_progress(report: Report) -> list[Finding]:
    out = []
    tp = next((e for e in report.evaluations if e.kind == "third_party"), None)
    if tp is None:
        return out
    low = []
    for ev in report.evaluations:
        if ev.kind == "project" and (fr := _funds_total(ev)):
            b, x = _n(fr.full_year_budget), _n(fr.executed)
            if b and x is not None and x / b < Decimal("0.9"):
                low.append((ev, x / b * 100))
    if not low:
        return out
    for i in _rows(tp):
        if ind_mod.topic(i) == "预算执行率" and _n(i.score) is not None and _n(i.weight) is not None and _n(i.score) >= _n(i.weight):
            ev, r = low[0]
            out.append(_f("progress_full_marks", DOUBT,
                          f"第三方评价表“{clean_text(i.level3)}”得满分{fmt(_n(i.score))}，但项目“{ev.project_name}”执行率仅{fmt(r)}%。",
                          f"<{fmt(_n(i.weight))}", fmt(_n(i.score)), [i.line, _funds_total(ev).line]))
    return out


_CTX_CORE = re.compile(r"\d\d*余?(?:人次|件|个|次|场|人)")  # at most 4 characters in: see _finditer_near
_CTX_FIG = re.compile(r"(?P<key>[\u4e00-\u9fff]{2,4})(?P<num>\d+)(?P<q>余)?(?P<unit>人次|件|个|次|场|人)")


def check_unit_mismatch(report: Report) -> list[Finding]:
    """The same figure for the same thing counted in different units (93个 vs 93件, 一万余次 vs 一万余人次)."""
    out = []
    table_texts: list[tuple[str, int]] = []
    for ev in report.evaluations:
        table_texts.append((ev.goal_actual, ev.line_start))
        for i in _rows(ev):
            table_texts.append((i.actual.text, i.line))
    def facts(texts):
        got: dict[tuple[str, str], set[tuple[str, int]]] = defaultdict(set)
        for t, line in texts:
            norm = ind_mod._normalise(t)
            for m in _finditer_near(_CTX_FIG, _CTX_CORE, norm, 4):
                got[(m.group("key").rstrip("近约"), m.group("num"))].add((m.group("unit"), line))
        return got
    tf, nf = facts(table_texts), facts(narrative(report))
    for k, units in tf.items():
        if k not in nf:
            continue
        tu, nu = {u for u, _ in units}, {u for u, _ in nf[k]}
        if tu and nu and not (tu & nu):
            out.append(_f("unit_mismatch", NOTE,
                          f"“{k[0]}{k[1]}”在表中以“{'/'.join(sorted(tu))}”计，正文中以“{'/'.join(sorted(nu))}”计，同一数字单位不一。",
                          "/".join(sorted(tu)), "/".join(sorted(nu)), [l for _, l in units] + [l for _, l in nf[k]]))
    return out


_BIG_AMOUNT = re.compile(r"(?:预算资金|建设资金|支持资金|项目资金|投入资金|争取资金)(?:共|达|为)?(?P<near>近|约)?" + NUM + r"(?:余|多)?万元")


def check_narrative_amounts(report: Report) -> list[Finding]:
    """A narrative amount larger than the department's whole project spending."""
    out = []
    ov = report.overall
    pe = _nature(ov, "project_expenditure") if ov else None
    if not pe:
        return out
    for text, line in narrative(report):
        if "资金" not in text or "万元" not in text:
            continue  # _BIG_AMOUNT needs both
        for m in _BIG_AMOUNT.finditer(text):
            v = Decimal(m.group(2))
            if "年初" in text[max(0, m.start() - 4):m.start() + 2]:
                continue  # the year's opening budget, not a project amount
            if v > pe:
                out.append(_f("narrative_amount_exceeds", DOUBT,
                              f"正文“{text[max(0, m.start() - 12):m.end()]}”：{fmt(v)}万元超过本部门全年项目支出{fmt(pe)}万元，资金来源或口径需说明。",
                              f"≤{fmt(pe)}", fmt(v), [line]))
    return out


def check_procurement(report: Report) -> list[Finding]:
    out = []
    procurement = _ec(report, "procurement")
    # (source, column) → figure → rows with that figure, in table order: looked up per
    # procurement row instead of scanning every row (quadratic in a many-report file).
    by_figure: dict[tuple[str, str], dict[Decimal, list[ExpenseControl]]] = defaultdict(lambda: defaultdict(list))
    if procurement:
        for o in report.expense_controls:
            for col, _ in COLUMNS:
                x = _col(o, col)
                if x is not None:
                    by_figure[(o.source, col)][x].append(o)
    for e in procurement:
        b, f = _col(e, "budget"), _col(e, "final")
        if b and b > 0 and f == 0:
            out.append(_f("procurement_zero", DOUBT,
                          f"政府采购金额本年预算{fmt(b)}万元，实际为0。", f"≈{fmt(b)}", "0", [e.line]))
        for col, cname in COLUMNS:
            v = _col(e, col)
            if not v or v < 10:
                continue
            same = [o for o in by_figure[(e.source, col)].get(v, ()) if o is not e]
            if same:
                out.append(_f("copied_figure", NOTE,
                              f"政府采购金额{cname}{fmt(v)}万元与“{same[0].item}”{cname}完全相同，疑为照抄。",
                              "独立填写", fmt(v), [e.line, same[0].line]))
    return out


# ---------------------------------------------------------------- entry points

CHECKS: tuple[Callable[[Report], list[Finding]], ...] = (
    check_three_public_sum,
    check_vehicles_sum,
    check_project_lines_sum,
    check_public_funds_parts,
    check_basic_sum,
    check_subtotal_blank,
    check_three_public_column_blank,
    check_budget_equals_final,
    check_final_exceeds_budget,
    check_overseas_new,
    check_three_public_repeat,
    check_three_public_sources,
    check_detail_vs_basic,
    check_nature_sums,
    check_execution_rate,
    check_funds_score,
    check_budget_adjustment,
    check_score_over_weight,
    check_total_score,
    check_weights_sum,
    check_stated_score,
    check_shifted_cells,
    check_score_vs_evidence,
    check_cost_claim,
    check_duplicate_indicators,
    check_indicator_swapped,
    check_indicator_reuse,
    check_contradictory_qualifier,
    check_staffing,
    check_narrative_figures,
    check_narrative_initial_budget,
    check_narrative_projects,
    check_narrative_counts,
    check_narrative_arithmetic,
    check_narrative_claims,
    check_attachments,
    check_orphan_tables,
    check_project_names,
    check_third_party_progress,
    check_unit_mismatch,
    check_narrative_amounts,
    check_procurement,
)


def run_checks(report: Report) -> list[Finding]:
    """All findings for one report, in check order. A failing check never stops the others."""
    out: list[Finding] = []
    for check in CHECKS:
        try:
            out.extend(check(report))
        except Exception as exc:  # noqa: BLE001 - bad input must not stop the build
            out.append(Finding("check_failed", NOTE, f"检查{check.__name__}未能完成：{exc!r}", None, None, None, []))
    return out


# ---------------------------------------------------------------- disclosure

DISCLOSURE_PARTS: tuple[tuple[str, int], ...] = (
    ("基础数据表", 10),
    ("人员编制数据", 5),
    ("三公经费数据", 10),
    ("整体支出绩效自评表", 10),
    ("年度资金情况", 10),
    ("年度总体目标", 10),
    ("绩效指标", 10),
    ("项目支出绩效自评表", 15),
    ("量化指标值", 10),
    ("偏差原因说明", 5),
    ("公开情况说明", 5),
)


# A form published on its own is judged on what a form holds (the parts' weights rescaled).
_FORM_PARTS = {"项目支出绩效自评表": ("年度资金情况", "年度总体目标", "绩效指标", "量化指标值", "偏差原因说明"),
               "部门整体支出绩效自评表": ("整体支出绩效自评表", "年度资金情况", "年度总体目标", "绩效指标", "量化指标值", "偏差原因说明")}


def disclosure(report: Report) -> tuple[int, list[str]]:
    """Completeness score (0–100) and the missing parts (Chinese names, with detail)."""
    parts = DISCLOSURE_PARTS
    if report.report_kind in _FORM_PARTS:
        parts = tuple((n, w) for n, w in DISCLOSURE_PARTS if n in _FORM_PARTS[report.report_kind])
    got: dict[str, Decimal] = {}
    missing: list[str] = []
    basic_rows = [e for e in report.expense_controls if e.source == "basic_data"]
    got["基础数据表"] = Decimal(1) if any(_n(e.final) is not None or _n(e.budget) is not None for e in basic_rows) else Decimal(0)
    st = report.staffing
    got["人员编制数据"] = Decimal(1) if st and _n(st.authorized) is not None and _n(st.actual) is not None else Decimal(0)
    tp = [e for e in report.expense_controls if e.key == "three_public_total"]
    got["三公经费数据"] = Decimal(1) if any(_n(e.final) is not None for e in tp) else Decimal(0)
    ov = report.overall
    if ov is None and report.report_kind == "项目支出绩效自评表":
        ov = next((e for e in report.evaluations if e.kind == "project"), None)  # the form itself
    got["整体支出绩效自评表"] = Decimal(1) if ov else Decimal(0)
    ft = _funds_total(ov) if ov else None
    got["年度资金情况"] = Decimal(1) if ft and _n(ft.full_year_budget) is not None and _n(ft.executed) is not None else Decimal(0)
    got["年度总体目标"] = Decimal(1) if ov and clean_text(ov.goal_expected) and clean_text(ov.goal_actual) else Decimal(0)
    rows = _rows(ov) if ov else []
    scored = [i for i in rows if _n(aligned(i)[2]) is not None and _n(aligned(i)[3]) is not None]
    got["绩效指标"] = Decimal(1) if rows and len(scored) == len(rows) else (Decimal(len(scored)) / len(rows) if rows else Decimal(0))
    lines = [e for e in _project_lines(report) if not e.placeholder and (_n(e.final) or _n(e.budget))]
    n_proj = len([e for e in report.evaluations if e.kind == "project"])
    if lines:
        got["项目支出绩效自评表"] = min(Decimal(1), Decimal(n_proj) / len(lines))
    else:
        pt = _first(report, "project_total")
        has_proj = pt is not None and bool(_n(pt.final))
        got["项目支出绩效自评表"] = Decimal(1) if n_proj or (not has_proj and report.evaluations) else Decimal(0)
    all_rows = [i for ev in report.evaluations if ev.kind != "third_party" for i in _rows(ev)]
    numeric = [i for i in all_rows if ind_mod.measure(aligned(i)[0].text).value is not None]
    got["量化指标值"] = min(Decimal(1), Decimal(len(numeric)) / len(all_rows) / Decimal("0.5")) if all_rows else Decimal(0)
    short = [i for ev in report.evaluations for i in _rows(ev)
             if _n(aligned(i)[2]) is not None and _n(aligned(i)[3]) is not None and _n(aligned(i)[3]) < _n(aligned(i)[2])]
    explained = [i for i in short if clean_text(aligned(i)[4])]
    got["偏差原因说明"] = (Decimal(1) if not short else Decimal(len(explained)) / len(short)) if report.evaluations else Decimal(0)
    got["公开情况说明"] = Decimal(1) if any("公开" in t for t, _ in narrative(report)) else Decimal(0)
    score = Decimal(0)
    detail = {
        "项目支出绩效自评表": f"（{len(lines)}个项目仅{n_proj}张表）" if lines else "",
        "量化指标值": f"（{len(numeric)}/{len(all_rows)}个指标有数值目标）",
        "偏差原因说明": f"（{len(short) - len(explained)}/{len(short)}个扣分指标未说明原因）",
        "绩效指标": f"（{len(rows) - len(scored)}/{len(rows)}个指标缺数字分值或得分）" if rows else "",
    }
    for name, weight in parts:
        share = got.get(name, Decimal(0))
        score += share * weight * 100 / sum(w for _, w in parts)
        if share < 1:
            missing.append(name + (detail.get(name, "") if share > 0 else ""))
    return int(score.quantize(Decimal(1), rounding=ROUND_HALF_UP)), missing
