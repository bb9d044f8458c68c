"""The narrative (Section bodies) against the tables and against itself: staffing, expenditure
figures, opening budgets, project reconciliations, counts stated twice, breakdowns, claims."""
from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal, ROUND_DOWN, ROUND_HALF_UP

from .. import indicators as ind_mod
from ..model import Finding, Report, clean_text
from ..parse.values import normalise_digits
from .base import DOUBT, ERROR, NOTE, NUM, _col, _ec, _f, _finditer_near, _first, _funds_total, _n, _nature, _nature_line, _ne, _ne_printed, _rows, aligned, fmt, narrative, sum_finding


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


_STAFF_AUTH = re.compile(r"(?<![专项行政事业工勤])(?:人员)?编制(?:数)?(?:为|共|有)?" + NUM + r"(?:人|个|名)")


_STAFF_ACTUAL = re.compile(r"(?:实有(?:在职)?(?:人数|人员)?|在职(?:人数|人员)|在岗人数)(?:为|共|有)?" + NUM + r"(?:人|个|名)")


def check_narrative_staffing(report: Report) -> list[Finding]:
    """编制 and 实有/在职 as the narrative states them vs the 基础数据表."""
    out = []
    st = report.staffing
    if st is None:
        return out
    a, b = _n(st.authorized), _n(st.actual)
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
    return out


def check_narrative_basic_sum(report: Report) -> list[Finding]:
    """基本支出 = 人员经费 + 公用经费 inside one paragraph of the narrative."""
    out = []
    for text, line in narrative(report):
        for m in _BASIC_SPLIT.finditer(text):
            bv, pv, gv = (Decimal(m.group(k)) for k in (1, 2, 3))
            if _ne(bv, pv + gv):
                out.append(sum_finding("narrative_basic_sum", ERROR,
                                       f"正文：基本支出{fmt(bv)}万元，但人员经费{fmt(pv)}+公用经费{fmt(gv)}={fmt(pv + gv)}万元。",
                                       pv + gv, bv, 2, [line]))
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
                out.append(sum_finding("narrative_project_reconcile", ERROR,
                                       f"正文“{name}”：年初预算{fmt(a)}{'+' if m.group('dir') == '增' else '−'}调整{fmt(b)}={fmt(avail)}万元，但实际支出{fmt(c)}+结余结转{fmt(d)}={fmt(c + d)}万元。",
                                       avail, c + d, 4, [line]))
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
