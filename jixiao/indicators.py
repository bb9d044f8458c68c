"""Comparable indicators.

``measure`` turns a 年度指标值 / 实际完成值 cell into operator, value, unit and qualifier
(``≥95%``, ``400件``, ``3600余人次``, ``接到申请3个工作日内``, ``脱管漏管0``,
``2024年12月之前完成``, ``≤预算控制数`` …), keeping the text when nothing is numeric.
``compare`` gives the completion ratio and whether the target is met, respecting the
operator's direction. ``topic`` files an indicator under a topic key from the keyword table
``jixiao/vocab/topics.yml`` (data, not code). Whether a target was met: :mod:`jixiao.verdicts`.
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


def levels() -> list[list[str]]:
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
def directions() -> dict:
    return yaml.safe_load(resources.files("jixiao.vocab").joinpath("directions.yml").read_text("utf-8")) or {}


def _longest_first(mapping: dict) -> tuple[tuple[str, str], ...]:
    pairs = [(str(w), str(op)) for op, words in (mapping or {}).items() for w in words]
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


@functools.lru_cache(maxsize=1)
def _ops() -> tuple[tuple[str, str], ...]:
    """(word, operator) of jixiao/vocab/directions.yml ``operators``, longest word first
    (不低于 before 低于, 不超过 before 超过)."""
    return _longest_first(directions().get("operators"))


@functools.lru_cache(maxsize=1)
def _after_ops() -> dict[str, str]:
    return dict(_longest_first(directions().get("after")))


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


def canon_unit(unit: str | None) -> str | None:
    if unit is None:
        return None
    return _unit_map().get(unit, unit)


@functools.lru_cache(maxsize=4096)
def rank(text: str) -> tuple[int, int] | None:
    s = clean_text(text or "")
    for i, scale in enumerate(levels()):
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
        rt, ra = rank(target.text), rank(actual.text)
        if rt and ra and rt[0] == ra[0] and target.value is None and actual.value is None:
            return None, ra[1] >= rt[1]
        return None, None
    tu, au = canon_unit(target.unit), canon_unit(actual.unit)
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
    t, a, _ = directed(ind.level1, ind.level2, ind.level3, ind.target.text, ind.actual.text)
    return t, a


def directed(level1: str, level2: str, level3: str, target: str, actual: str) -> tuple[Measure, Measure, str | None]:
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
    d = directions()
    s = clean_text(name or "").replace(" ", "")
    if any(str(w) in s for w in d.get("higher_is_better") or ()):
        return None
    return next((str(w) for w in d.get("lower_is_better") or () if str(w) in s), None)


def _is_cost_group(level1: str, level2: str) -> bool:
    groups = f"{clean_text(level1 or '')} {clean_text(level2 or '')}"
    return any(str(w) in groups for w in directions().get("cost_groups") or ())


_TARGET_LIKE = re.compile(r"^\s*(?:[≥≤＞＜><]|大于|小于|不低于|不少于|不超过|不高于)")


def is_target_like(m: Measure) -> bool:
    """An 实际完成值 written as a target (``≥95%``): an operator sign before the figure."""
    return bool(_TARGET_LIKE.match(m.text))


def is_cost(ind: Indicator) -> bool:
    return _is_cost_group(ind.level1, ind.level2)


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
