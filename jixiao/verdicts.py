"""Whether an indicator met its target: 达成, 未达成, or 无法判断 with the reason, from the
measures of :mod:`jixiao.indicators` and the wording of ``jixiao/vocab/directions.yml``."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal

from .indicators import Measure, canon_unit, compare, directed, directions, is_target_like, levels, measure, rank
from .model import Indicator, clean_text

MET, NOT_MET, CANNOT_JUDGE = "达成", "未达成", "无法判断"
VERDICTS = (MET, NOT_MET, CANNOT_JUDGE)


@dataclass
class Verdict:
    verdict: str  # 达成 | 未达成 | 无法判断
    reason: str  # why, in Chinese (always set)
    target: Measure
    actual: Measure
    ratio: Decimal | None  # actual / target where both are comparable figures
    lost_points: bool | None  # 得分 < 分值 (None: either is missing or not a number)

    @property
    def met(self) -> bool | None:
        return {MET: True, NOT_MET: False}.get(self.verdict)


@functools.lru_cache(maxsize=None)
def _text_words(key: str) -> tuple[tuple[str, str | re.Pattern], ...]:
    out = []
    for w in (directions().get("text") or {}).get(key) or ():
        w = str(w)
        out.append((w, re.compile(w[1:-1])) if len(w) > 2 and w.startswith("/") and w.endswith("/") else (w, w))
    return tuple(out)


def _says(key: str, text: str) -> str | None:
    """The first word of directions.yml ``text.<key>`` found in ``text`` (the matched text)."""
    for _, kw in _text_words(key):
        if isinstance(kw, re.Pattern):
            if m := kw.search(text):
                return m.group(0)
        elif kw in text:
            return kw
    return None


def _number(v) -> Decimal | None:
    return v.number if v is not None and v.kind == "number" else None


def _aligned(ind: Indicator) -> tuple[str, str, str, object, object, str | None]:
    """(name, target text, actual text, weight, score, how the row was realigned) with a row
    shifted by one cell put back:

    * left (the 三级指标 is missing): a text 得分 after a numeric 分值 and a numeric 实际完成值
      (``效果显著 | 达到一定效果 | 10 | 9 | 按90%折算计分``) — the same rule as the checks;
    * right (the 二级指标 is missing): the 实际完成值 is a scoring rule (``酌情扣分``) and the
      三级指标 holds a figure (``服务对象满意度达到95%以上 | 受援人满意率100% | 100% | 酌情扣分``).
    """
    if (ind.score.kind == "text" and _number(ind.weight) is not None and _number(ind.actual) is not None
            and not clean_text(ind.note)):
        return "", ind.level3, ind.target.text, ind.actual, ind.weight, "左移"
    if (_says("scoring", clean_text(ind.actual.text)) and not ind.target.is_blank
            and measure(ind.level3).numeric and not _says("scoring", clean_text(ind.level3))):
        return ind.level2, ind.level3, ind.target.text, ind.weight, ind.score, "右移"
    return ind.level3, ind.target.text, ind.actual.text, ind.weight, ind.score, None


def _plain(d: Decimal) -> str:
    s = format(d, "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


def _show(m: Measure) -> str:
    if m.value is None:
        return m.text
    if m.unit == "年月":
        y, mo = divmod(int(m.value), 100)
        return f"{y}年{mo}月"
    return f"{_plain(m.value)}{m.unit or ''}"


def _scale_listed(text: str) -> bool:
    """A cell naming several levels of one scale (优秀，良好，合格，不合格): a scale, not a value."""
    s = clean_text(text)
    for scale in levels():
        rest, n = s, 0
        for word in sorted(scale, key=len, reverse=True):
            if word in rest:
                n += 1
                rest = rest.replace(word, "")
        if n >= 2:
            return True
    return False


def verdict(ind: Indicator, kind: str | None = None) -> Verdict:
    """Whether an indicator met its target (达成 / 未达成), or why that cannot be judged (无法判断).

    Figures are compared in the target's direction (≥ by default; ≤ for 不超过/以内/控制在…,
    for names saying 投诉/差错/事故… and for 成本 caps); words by the ordinal scales of
    topics.yml ``levels`` and the wording of directions.yml ``text``. ``kind`` is the
    evaluation's kind (third_party tables have no target/actual columns).
    """
    name, ttext, atext, weight, score, shift = _aligned(ind)
    w, sc = _number(weight), _number(score)
    lost = None if w is None or sc is None else sc < w
    t, a, why = directed(ind.level1, ind.level2, name, ttext, atext)
    tx, ax = clean_text(ttext), clean_text(atext)

    def out(v: str, reason: str, ratio: Decimal | None = None) -> Verdict:
        if shift:
            reason = f"单元格错位（整行{shift}一格），按原位还原后比较：{reason}"
        return Verdict(v, reason, t, a, ratio, lost)

    if ind.placeholder:
        return Verdict(CANNOT_JUDGE, "空行：未填写指标内容", t, a, None, lost)
    if not tx and not ax:
        return out(CANNOT_JUDGE, "年度指标值和实际完成值均缺失"
                   + ("（第三方评价表只有分值、得分和扣分原因）" if kind == "third_party" else ""))
    if not tx:
        return out(CANNOT_JUDGE, "年度指标值缺失")
    if not ax:
        return out(CANNOT_JUDGE, "实际完成值缺失")
    if _says("scoring", ax):
        return out(CANNOT_JUDGE, f"实际完成值栏填的是评分说明（“{ax}”），单元格错位")
    if is_target_like(a):
        return out(CANNOT_JUDGE, f"实际完成值写成目标的写法（“{ax}”），不是实际测得的值")

    if t.value is not None and a.value is not None:
        tu, au = canon_unit(t.unit), canon_unit(a.unit)
        if tu and au and tu != au:
            return out(CANNOT_JUDGE, f"单位不一致：年度指标值“{tx}”（{t.unit}），实际完成值“{ax}”（{a.unit}）")
        ratio, met = compare(t, a)
        op = t.op or ("≤" if t.value == 0 else "≥")
        how = why or ("目标为0，越少越好" if t.value == 0 and not t.op else "未写明比较方向，按达到或超过目标计")
        shown_t = f"{op}{_show(t)}" if t.unit != "年月" else f"{_show(t)}{'前' if op == '≤' else ''}"
        verb = "满足" if met else "未满足"
        return out(MET if met else NOT_MET, f"实际{_show(a)}{verb}目标{shown_t}（{how}）", ratio)

    if t.value is None and a.value is not None:
        # a text target with a figure for the actual: 完成政策要求 → 100%
        if a.unit == "%" and (word := _says("met", tx)):
            met = a.value >= 100
            return out(MET if met else NOT_MET,
                       f"目标为{word}（“{tx}”），实际完成值{_show(a)}" + ("" if met else "，未全部完成"))
        return out(CANNOT_JUDGE, f"年度指标值为文字（“{tx}”），实际完成值为数值（“{ax}”），单位不一致，无法比较")

    # the actual is words (the target may be a figure: 2022年度 → 按规定时间完成工作)
    if t.value is None and _scale_listed(tx):
        return out(CANNOT_JUDGE, f"年度指标值列出的是评分等级（“{tx}”），没有给出目标等级")
    if t.value is None:
        rt, ra = rank(tx), rank(ax)
        if rt and ra:
            if rt[0] != ra[0]:
                return out(CANNOT_JUDGE, f"年度指标值“{tx}”与实际完成值“{ax}”是不同的等级表述，无法比较")
            met = ra[1] >= rt[1]
            return out(MET if met else NOT_MET,
                       f"等级：实际“{ax}”{'不低于' if met else '低于'}目标“{tx}”")
        if tx == ax:
            return out(MET, f"实际完成值与年度指标值表述相同（“{ax}”），按单位自述为达到")
        if tx in {str(x) for x in directions()["text"].get("none_target") or ()} and (word := _says("none_actual", ax)):
            return out(MET, f"目标为“{tx}”，实际完成值“{ax}”，达到")
    if word := _says("met_negated", ax):
        return out(MET, f"实际完成值“{ax}”表示{word}，达到目标“{tx}”")
    if word := _says("not_met", ax):
        return out(NOT_MET, f"实际完成值“{ax}”表示{word}，未达到目标“{tx}”")
    if word := _says("partial", ax):
        return out(CANNOT_JUDGE, f"实际完成值“{ax}”只说{word}达到，无法判定是否达到目标“{tx}”")
    if word := _says("met", ax):
        return out(MET, f"实际完成值“{ax}”表示{word}，按单位自述为达到目标“{tx}”")
    if t.value is not None:
        return out(CANNOT_JUDGE, f"年度指标值为数值（“{tx}”），实际完成值为文字（“{ax}”），无法比较")
    return out(CANNOT_JUDGE, f"年度指标值“{tx}”与实际完成值“{ax}”均为文字，表述无法直接比较")
