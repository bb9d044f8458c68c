"""Indicator rows against their own evidence: a score against the target and the actual value,
cost claims against the funds, copied rows."""
from __future__ import annotations

from collections import defaultdict

from .. import indicators as ind_mod
from .. import verdicts
from ..model import Finding, Indicator, Report, clean_text
from .base import CENT, DOUBT, NOTE, _f, _funds_total, _label, _n, _rows, _sig, aligned, fmt


def check_score_vs_evidence(report: Report) -> list[Finding]:
    out = []
    for ev in report.evaluations:
        for i in _rows(ev):
            tv, av, wv, sv, note = aligned(i)
            w, s = _n(wv), _n(sv)
            # Met or not is the published verdict's (one judgement for the page, the API and the
            # checks); the wording of the finding quotes the cells as aligned.
            v = verdicts.verdict(i, ev.kind)
            t, a, ratio, met = v.target, v.actual, v.ratio, v.met
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
