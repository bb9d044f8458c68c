"""Disclosure: what the report should hold and does not (the completeness score), attachments
named but absent, table fragments left behind."""
from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal, ROUND_HALF_UP

from .. import indicators as ind_mod
from ..model import Finding, Report, clean_text
from ..parse.values import normalise_digits
from .base import DOUBT, NOTE, _f, _first, _funds_total, _label, _n, _project_lines, _rows, aligned, narrative


_ATT_INTRO = re.compile(r"附件[^。]{0,4}[:：]\s*$")


_SCORE_WORDS = re.compile(r"总分|得分|满意度|分值")


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
