"""Scores: each row's score within its weight, totals, weights, the funds score rule, and the
three scores of a report kept apart by who gave them (the unit's 自评表 总分, the score the
narrative states, a third party's score)."""
from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal

from ..model import Evaluation, Finding, Indicator, Report, Value, clean_text
from .base import CENT, DOUBT, ERROR, NUM, _f, _funds_total, _label, _n, _ne, _rows, aligned, fmt, sum_finding


_GROUP_WEIGHT = re.compile(r"[（(]\s*" + NUM + r"\s*分\s*[）)]")


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
            out.append(sum_finding("total_score_sum", ERROR,
                                   f"{_label(ev)}：指标得分合计{fmt(sum(scores, Decimal(0)))}{funds}={fmt(s)}，但总分为{fmt(total)}。",
                                   s, total, len(scores) + (fs is not None), [i.line for i in rows] + [ev.total_score.line]))
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


# Who gave a score. A report can carry three: the unit's own (自评表 总分, ``Report.total_score``),
# a third party's (合计 of its 评价指标表) and the one its narrative states, which is the score of
# whoever wrote the narrative: the evaluator in a third-party report, the unit otherwise.
SELF, THIRD_PARTY = "单位自评", "第三方"


def third_party_evaluation(report: Report) -> Evaluation | None:
    return next((e for e in report.evaluations if e.kind == "third_party"), None)


def third_party_score(report: Report) -> Value | None:
    """The third party's score (its indicator table's 合计), None when no third party scored."""
    tp = third_party_evaluation(report)
    return tp.total_score if tp is not None and _n(tp.total_score) is not None else None


def stated_score_by(report: Report) -> str | None:
    """Who gave the score the narrative states (None when it states none)."""
    if _n(report.stated_score) is None:
        return None
    return THIRD_PARTY if report.report_kind == "第三方评价报告" else SELF


def check_stated_score(report: Report) -> list[Finding]:
    """The narrative's score against the table of the same scorer (never the unit's against the
    third party's: that is :func:`check_scorers_disagree`)."""
    stated, by = _n(report.stated_score), stated_score_by(report)
    own = third_party_score(report) if by == THIRD_PARTY else report.total_score
    t = _n(own)
    if stated is None or t is None or not _ne(stated, t):
        return []
    if by == THIRD_PARTY:
        msg = f"报告正文（第三方评价机构撰写）称得分{fmt(stated)}分，第三方评价指标表合计为{fmt(t)}分。"
    else:
        msg = f"报告正文称得分{fmt(stated)}分，单位自评表总分为{fmt(t)}分（同为单位自评）。"
    return [_f("stated_score", DOUBT, msg, fmt(t), fmt(stated), [report.stated_score.line, own.line])]


def check_scorers_disagree(report: Report) -> list[Finding]:
    """The unit's self-score against the third party's (from its table, else as its narrative states it)."""
    own = report.total_score
    tp = third_party_score(report)
    where = "第三方评价指标表合计"
    if tp is None and stated_score_by(report) == THIRD_PARTY:
        tp, where = report.stated_score, "第三方评价报告正文所述"
    a, b = _n(own), _n(tp)
    if a is None or b is None or not _ne(a, b):
        return []
    return [_f("score_tables_disagree", DOUBT,
               f"两个评分方的分数不同：单位自评表总分{fmt(a)}分，第三方评价得分{fmt(b)}分（{where}）。",
               fmt(b), fmt(a), [own.line, tp.line])]


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
