"""Comparable indicators.

``measure`` turns a 年度指标值 / 实际完成值 cell into operator, value, unit and qualifier
(``≥95%``, ``400件``, ``3600余人次``, ``接到申请3个工作日内``, ``脱管漏管0``,
``2024年12月之前完成``, ``≤预算控制数`` …), keeping the text when nothing is numeric.
``compare`` gives the completion ratio and whether the target is met, respecting the
operator's direction. ``topic`` files an indicator under a topic key from the keyword table
``jixiao/vocab/topics.yml`` (data, not code).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources

import yaml

from .model import Indicator, clean_text
from .parse.values import normalise_digits


@dataclass
class Measure:
    op: str | None  # ≥ ≤ > < = (None: a plain figure)
    value: Decimal | None
    unit: str | None
    qualifier: str | None  # 余 / 近 / 以上 / 以内 / 近…余 …
    text: str

    @property
    def numeric(self) -> bool:
        return self.value is not None


# ---------------------------------------------------------------- vocabulary


@functools.lru_cache(maxsize=1)
def _vocab() -> dict:
    return yaml.safe_load(resources.files("jixiao.vocab").joinpath("topics.yml").read_text("utf-8")) or {}


@functools.lru_cache(maxsize=1)
def _topic_matchers() -> tuple[tuple[str, str | re.Pattern], ...]:
    out: list[tuple[str, str | re.Pattern]] = []
    for key, words in (_vocab().get("topics") or {}).items():
        for w in words:
            w = str(w)
            if len(w) > 2 and w.startswith("/") and w.endswith("/"):
                out.append((key, re.compile(w[1:-1])))
            else:
                out.append((key, w))
    return tuple(out)


@functools.lru_cache(maxsize=1)
def _unit_map() -> dict[str, str]:
    out: dict[str, str] = {}
    for canon, spellings in (_vocab().get("units") or {}).items():
        for s in spellings:
            out[str(s)] = str(canon)
    return out


def _levels() -> list[list[str]]:
    return [[str(w) for w in scale] for scale in (_vocab().get("levels") or [])]


def topic_of_text(text: str) -> str | None:
    """The topic key of a free text (an indicator name, a narrative phrase)."""
    return _topic_of_clean(clean_text(text or "").replace(" ", ""))


@functools.lru_cache(maxsize=8192)  # indicator names repeat across a worker's reports
def _topic_of_clean(s: str) -> str | None:
    if not s:
        return None
    for key, kw in _topic_matchers():
        if isinstance(kw, re.Pattern):
            if kw.search(s):
                return key
        elif kw in s:
            return key
    return None


def topic(indicator: Indicator) -> str | None:
    """Topic key for an indicator: its 三级指标 first, then 年度指标值, then 二级指标."""
    for text in (indicator.level3, indicator.target.text, indicator.level2):
        key = topic_of_text(text)
        if key:
            return key
    return None


# ---------------------------------------------------------------- measure

@functools.lru_cache(maxsize=1)
def _directions() -> dict:
    return yaml.safe_load(resources.files("jixiao.vocab").joinpath("directions.yml").read_text("utf-8")) or {}


def _longest_first(mapping: dict) -> tuple[tuple[str, str], ...]:
    pairs = [(str(w), str(op)) for op, words in (mapping or {}).items() for w in words]
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


@functools.lru_cache(maxsize=1)
def _ops() -> tuple[tuple[str, str], ...]:
    """(word, operator) of jixiao/vocab/directions.yml ``operators``, longest word first
    (不低于 before 低于, 不超过 before 超过)."""
    return _longest_first(_directions().get("operators"))


@functools.lru_cache(maxsize=1)
def _after_ops() -> dict[str, str]:
    return dict(_longest_first(_directions().get("after")))


_UNITS = (
    "万人次|万元|亿元|千元|元|个工作日|工作日|人次|户次|件次|%|‰|件|个月|个|人|次|场|册|份|天|日|小时|月|年|起|户|项|家|所|篇|期|条|台|辆|分|名|批|宗|课时|单|处|面"
)
_NUM = r"(?P<num>\d+(?:\.\d+)?)"
_FIG = re.compile(
    rf"(?P<approx>近|约|超)?\s*{_NUM}\s*(?P<mult>万|千)?\s*(?P<q1>余|多)?\s*(?P<unit>{_UNITS})?\s*"
    r"(?P<q2>以上|以下|以内|之内|内|左右|之前|以前|前|余)?"
)
_PERCENT = re.compile(r"\d+(?:\.\d+)?\s*%")
_BEFORE = re.compile(r"之前|以前|前完成|内完成")
_AT_LEAST = re.compile(r"达到|以上|不低于|至少")
_DATE = re.compile(r"(?P<y>\d{4})\s*年(?:\s*(?P<m>\d{1,2})\s*月)?(?:\s*(?P<d>\d{1,2})\s*日)?\s*(?P<q>之前|以前|前|底前|底|内)?")
_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_HAS_CN_NUMERAL = re.compile("[一二两三四五六七八九十]")
# ([…][…]* rather than […]+: the same matches, but a pattern that opens with a character
# class is scanned in C.)
_CN_NUM = re.compile(r"(?P<cn>[一二两三四五六七八九十][一二两三四五六七八九十]*[十百千万]?[一二三四五六七八九]?)(?=[万千百十]?\s*(?:余|多)?\s*(?:" + _UNITS + "))")


def _cn_to_int(s: str) -> int | None:
    total, cur = 0, 0
    for ch in s:
        if ch in _CN_DIGITS:
            cur = _CN_DIGITS[ch]
        elif ch == "十":
            total += (cur or 1) * 10
            cur = 0
        elif ch == "百":
            total += (cur or 1) * 100
            cur = 0
        elif ch == "千":
            total += (cur or 1) * 1000
            cur = 0
        elif ch == "万":
            total = (total + cur) * 10000
            cur = 0
        else:
            return None
    return total + cur


def _cn_repl(m: re.Match) -> str:
    n = _cn_to_int(m.group("cn"))
    return str(n) if n is not None else m.group(0)


# Cached: the checks normalise the same indicator cells and narrative paragraphs several
# times per report (measure, unit checks); pure str → str.
@functools.lru_cache(maxsize=16384)
def _normalise(text: str) -> str:
    s = normalise_digits(clean_text(text or "")).replace(" ", "")
    # Chinese numerals before a unit: 一万余次 → 10000余次
    if not _HAS_CN_NUMERAL.search(s):
        return s  # nothing _CN_NUM could match
    return _CN_NUM.sub(_cn_repl, s)


def _op_in(prefix: str) -> str | None:
    for word, op in _ops():
        if word in prefix:
            return op
    return None


def measure(text: str) -> Measure:
    """Parse a target / actual cell. Never raises; text stays when nothing is numeric."""
    # A new Measure each call (indicator_measures sets .op/.unit on it); the reading of the
    # text is cached, as the same cells are measured by several checks.
    return Measure(*_measure(text or ""))


@functools.lru_cache(maxsize=16384)
def _measure(text: str) -> tuple[str | None, Decimal | None, str | None, str | None, str]:
    raw = clean_text(text)
    s = _normalise(raw)
    if not s:
        return None, None, None, None, raw
    # dates: 2024年12月之前完成, 2022年度
    d = _DATE.search(s)
    if d and not _PERCENT.search(s):
        y, m = int(d.group("y")), int(d.group("m") or 12)
        op = "≤" if d.group("q") or _BEFORE.search(s) else None
        return op, Decimal(y * 100 + m), "年月", None, raw
    best = None
    for mm in _FIG.finditer(s):
        if mm.group("unit") or best is None:
            best = mm
            if mm.group("unit"):
                break
    if best is None:
        return _op_in(s), None, None, None, raw
    try:
        value = Decimal(best.group("num"))
    except InvalidOperation:  # pragma: no cover - the regex admits decimals only
        return None, None, None, None, raw
    if best.group("mult") == "万":
        value *= 10000
    elif best.group("mult") == "千":
        value *= 1000
    unit = best.group("unit")
    prefix = s[: best.start()]
    op = _op_in(prefix)
    q2 = best.group("q2")
    quals = [q for q in (best.group("approx"), best.group("q1"), q2 if q2 in ("余", "左右") else None) if q]
    if q2 and not op:
        op = _after_ops().get(q2)
    if best.group("approx") == "超" and not op:
        op = ">"
    if not op and _AT_LEAST.search(s[best.end():][:4] + prefix[-3:]):
        op = "≥"
    if q2 in ("以上", "以下", "以内", "之内", "内"):
        quals.append(q2)
    qualifier = "".join(dict.fromkeys(quals)) or None
    return op, value, unit, qualifier, raw


def _canon_unit(unit: str | None) -> str | None:
    if unit is None:
        return None
    return _unit_map().get(unit, unit)


@functools.lru_cache(maxsize=4096)
def _rank(text: str) -> tuple[int, int] | None:
    s = clean_text(text or "")
    for i, scale in enumerate(_levels()):
        # longest word first so 基本满意 is not read as 满意; a cell naming several
        # levels of the scale (优秀，良好，合格，不合格) is a scale, not a value
        found = []
        rest = s
        for word in sorted(scale, key=len, reverse=True):
            if word in rest:
                found.append(scale.index(word))
                rest = rest.replace(word, "")
        if len(found) == 1:
            return i, found[0]
        if found:
            return None
    return None


def compare(target: Measure, actual: Measure) -> tuple[Decimal | None, bool | None]:
    """(completion ratio actual/target, target met) — None where not comparable.

    The operator of the target decides the direction: ≥/>/plain targets are met by
    reaching them, ≤/< targets by staying at or under them, 0-targets (脱管漏管0) only by 0.
    """
    if target.value is None or actual.value is None:
        rt, ra = _rank(target.text), _rank(actual.text)
        if rt and ra and rt[0] == ra[0] and target.value is None and actual.value is None:
            return None, ra[1] >= rt[1]
        return None, None
    tu, au = _canon_unit(target.unit), _canon_unit(actual.unit)
    if tu and au and tu != au:
        return None, None
    if is_target_like(actual):
        return None, None  # the actual is itself a target (≥95%), not a measurement
    t, a = target.value, actual.value
    ratio = (a / t) if t != 0 and tu != "年月" else None
    op = target.op
    if t == 0 and op in (None, "="):
        op = "≤"
    op = op or "≥"
    met = {
        "≥": a >= t,
        ">": a > t,
        "≤": a <= t,
        "<": a < t,
        "=": a == t,
    }[op]
    return ratio, met


_UNIT_RE = re.compile(_UNITS)
_HINT = re.compile(r"[（(]\s*(?P<op>[≥≤><]|大于|小于)?\s*[，,]?\s*(?P<unit>[^（）()，,]{0,4})\s*[）)]\s*[:：]?$")


def indicator_measures(ind: Indicator) -> tuple[Measure, Measure]:
    """Target and actual of an indicator, with hints from its name: ``案件数量（≥，件）``
    gives the operator and unit; names saying 投诉/差错/发生率/事故/超支 … (directions.yml
    ``lower_is_better``) and cost indicators (成本) without an operator are ceilings."""
    t, a, _ = _directed(ind.level1, ind.level2, ind.level3, ind.target.text, ind.actual.text)
    return t, a


def _directed(level1: str, level2: str, level3: str, target: str, actual: str) -> tuple[Measure, Measure, str | None]:
    """(target, actual, why the target has its direction) — the reason is ``None`` when the
    direction is the default (a plain figure is reached by meeting or exceeding it)."""
    t, a = measure(target), measure(actual)
    why = f"年度指标值写明“{t.op}”" if t.op and t.value is not None else None
    name = clean_text(level3)
    m = _HINT.search(name)
    if m:
        op = {"大于": ">", "小于": "<"}.get(m.group("op") or "", m.group("op"))
        unit = m.group("unit") or None
        if op and t.op is None and t.value is not None:
            t.op = op
            why = f"指标名称注明“{op}”"
        if unit and t.value is not None and t.unit is None and _UNIT_RE.fullmatch(unit):
            t.unit = unit
        if unit and a.value is not None and a.unit is None and _UNIT_RE.fullmatch(unit):
            a.unit = unit
    if t.op is None and t.value is not None and t.unit != "年月" and t.value != 0:
        word = lower_is_better(name)
        if word:
            t.op = "≤"
            why = f"指标名称含“{word}”，越低越好"
        elif _is_cost_group(level1, level2) and t.unit != "%":
            t.op = "≤"
            why = "成本指标，年度指标值是上限"
    return t, a, why


def lower_is_better(name: str) -> str | None:
    """The word of an indicator name saying that less is better (投诉, 差错, 事故 …), unless
    another word says more is better (节约率, 成功率 …)."""
    d = _directions()
    s = clean_text(name or "").replace(" ", "")
    if any(str(w) in s for w in d.get("higher_is_better") or ()):
        return None
    return next((str(w) for w in d.get("lower_is_better") or () if str(w) in s), None)


def _is_cost_group(level1: str, level2: str) -> bool:
    groups = f"{clean_text(level1 or '')} {clean_text(level2 or '')}"
    return any(str(w) in groups for w in _directions().get("cost_groups") or ())


_TARGET_LIKE = re.compile(r"^\s*(?:[≥≤＞＜><]|大于|小于|不低于|不少于|不超过|不高于)")


def is_target_like(m: Measure) -> bool:
    """An 实际完成值 written as a target (``≥95%``): an operator sign before the figure."""
    return bool(_TARGET_LIKE.match(m.text))


def is_cost(ind: Indicator) -> bool:
    return _is_cost_group(ind.level1, ind.level2)


# ---------------------------------------------------------------- verdicts

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
    for w in (_directions().get("text") or {}).get(key) or ():
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
    for scale in _levels():
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
    t, a, why = _directed(ind.level1, ind.level2, name, ttext, atext)
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
        tu, au = _canon_unit(t.unit), _canon_unit(a.unit)
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
        rt, ra = _rank(tx), _rank(ax)
        if rt and ra:
            if rt[0] != ra[0]:
                return out(CANNOT_JUDGE, f"年度指标值“{tx}”与实际完成值“{ax}”是不同的等级表述，无法比较")
            met = ra[1] >= rt[1]
            return out(MET if met else NOT_MET,
                       f"等级：实际“{ax}”{'不低于' if met else '低于'}目标“{tx}”")
        if tx == ax:
            return out(MET, f"实际完成值与年度指标值表述相同（“{ax}”），按单位自述为达到")
        if tx in {str(x) for x in _directions()["text"].get("none_target") or ()} and (word := _says("none_actual", ax)):
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


# ---------------------------------------------------------------- groups

_GROUP_POINTS = re.compile(r"^(?P<name>.*?)\s*[（(]\s*(?P<pts>\d+(?:\.\d+)?)\s*分\s*[)）]\s*$")


def split_group(text: str | None) -> tuple[str | None, Decimal | None]:
    """A 一级/二级指标 as printed → (name, points): ``产出指标(50分)`` and ``产出指标（40分）`` are
    both 产出指标 (50 and 40 points); ``产出指标`` has no points."""
    s = clean_text(text or "")
    if not s:
        return None, None
    m = _GROUP_POINTS.match(s)
    if not m or not m.group("name"):
        return s, None
    return m.group("name"), Decimal(m.group("pts"))
