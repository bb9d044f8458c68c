"""Arithmetic and plausibility inside one table: the 基础数据表 (三公 parts, subtotals, 预算 vs
决算), the 自评表 funds block (by nature, execution rate, budget adjustments), procurement."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal, ROUND_DOWN, ROUND_HALF_UP

from ..model import ExpenseControl, Finding, Report
from .base import ROUNDING, CENT, COLUMNS, DOUBT, ERROR, NOTE, _child_index, _children, _col, _decimals, _ec, _f, _first, _funds_total, _money_rows, _n, _nature, _nature_line, _ne, _project_lines, fmt, sum_finding, within_rounding


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
                out.append(sum_finding("three_public_sum", ERROR,
                                       f"{where}{cname}：“三公”经费合计{fmt(t)}万元，但因公出国（境）、公务用车、公务接待三项相加为{fmt(s)}万元（差{fmt(t - s)}）。",
                                       s, t, len(used), [total.line] + [e.line for e in used]))
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
                out.append(sum_finding("vehicles_sum", ERROR,
                                       f"{cname}：公务用车购置和运行维护经费{fmt(v)}万元，但购置{fmt(_col(kids[0], col)) if kids else '—'}与运行维护相加为{fmt(s)}万元。",
                                       s, v, len(kv), [veh.line] + [e.line for e in kids]))
    return out


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
            out.append(sum_finding("project_lines_sum", ERROR,
                                   f"基础数据表{cname}：项目支出合计{fmt(t)}万元，但所列{len(vals)}个项目相加为{fmt(s)}万元（差{fmt(t - s)}）。",
                                   s, t, len(vals), [total.line] + [e.line for e, _ in vals]))
    return out


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
                sev = NOTE if within_rounding(s - t, len(vals)) else ERROR
                msg = f"基础数据表{cname}：{total.item}{fmt(t)}万元，但其下所列明细合计{fmt(s)}万元，超过总数{fmt(s - t)}万元。"
                if sev == NOTE:
                    msg = f"{ROUNDING}：{msg.rstrip('。')}，在{len(vals)}项明细四舍五入可能产生的差额以内。"
                out.append(_f("public_funds_parts", sev, msg,
                              f"≤{fmt(t)}", fmt(s), [total.line] + [e.line for e, _ in vals], s - t))
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
            out.append(sum_finding("basic_sum", ERROR,
                                   f"基础数据表{cname}：基本支出{fmt(b)}万元，但人员经费{fmt(p)}+公用经费{fmt(g)}={fmt(p + g)}万元（差{fmt(b - p - g)}）。",
                                   p + g, b, 2, [basic.line, pers.line, pub.line]))
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
            out.append(sum_finding("nature_sum", ERROR,
                                   f"自评表按支出性质：基本支出{fmt(basic)}+项目支出{fmt(proj)}={fmt(s)}万元，与全年执行数{fmt(executed)}万元不符（差{fmt(s - executed)}）{extra}。",
                                   executed, s, 2, [ft.line, _nature_line(ev, "basic_expenditure"), _nature_line(ev, "project_expenditure")]))
        inc_keys = ("general_public_budget", "government_fund", "special_account_nontax", "other_funds")
        inc = [x for k in inc_keys if (x := _nature(ev, k)) is not None]
        if executed is not None and inc:
            s = sum(inc, Decimal(0))
            if _ne(s, executed):
                extra = "，等于全年预算数：收入口径与支出口径不一" if budget is not None and not _ne(s, budget) else ""
                out.append(sum_finding("income_sum", DOUBT,
                                       f"自评表按收入性质合计{fmt(s)}万元，与全年执行数{fmt(executed)}万元不符{extra}。",
                                       executed, s, len(inc), [ft.line] + [_nature_line(ev, k) for k in inc_keys]))
    return out


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


def check_staffing(report: Report) -> list[Finding]:
    """基础数据表 staffing: 控制率 = 在职 / 编制, and 在职 within 编制."""
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
    return out


def check_deviation_column(report: Report) -> list[Finding]:
    """The 偏离预算数 column = 决算数 − 预算数 (in absolute value)."""
    out = []
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
