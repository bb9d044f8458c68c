"""One table against another: the 三公 table vs the 基础数据表, expense detail vs the 基础数据表,
project forms vs the project lines, indicator tables against each other, the third party's table
against the project forms."""
from __future__ import annotations

import functools
import re
from decimal import Decimal

from .. import indicators as ind_mod
from ..model import ExpenseControl, Finding, Report, clean_text
from .base import (COLUMNS, DOUBT, NOTE, _col, _ec, _f, _first, _funds_total, _label, _n, _nature, _nature_line, _ne, _ne_printed,
                   _project_lines, _rows, _sig, fmt)


_DIGIT = re.compile(r"\d")


def check_three_public_sources(report: Report) -> list[Finding]:
    """三公 figures of the 三公 table vs the 基础数据表."""
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


def check_project_tables(report: Report) -> list[Finding]:
    """项目支出 in the 自评表 (by nature) vs the 基础数据表 (total, or its project lines)."""
    out = []
    ov = report.overall
    if ov is None:
        return out
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
