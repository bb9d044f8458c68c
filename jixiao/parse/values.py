"""Cell text → :class:`Value`: numbers as Decimals with unit, operator and qualifier.

The original text is always kept; anything that is not a clean figure stays text.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ..model import Value, clean_text

_FULLWIDTH = str.maketrans("０１２３４５６７８９．％＋－，", "0123456789.%+-,")
_DASHES = {"—", "——", "-", "--", "－", "/", "／", "———", "─", "—-"}
_NONE = {"无", "没有", "无此项"}
_OPS = {
    "≥": "≥", ">=": "≥", "＞=": "≥", "不低于": "≥", "不少于": "≥", "大于等于": "≥", "达到": "≥", "至少": "≥",
    "≤": "≤", "<=": "≤", "＜=": "≤", "不高于": "≤", "不超过": "≤", "不多于": "≤", "小于等于": "≤", "控制在": "≤",
    ">": ">", "＞": ">", "大于": ">", "高于": ">", "超过": ">",
    "<": "<", "＜": "<", "小于": "<", "低于": "<",
    "=": "=", "＝": "=", "等于": "=",
}
_UNITS = (
    "万人次|万元|亿元|千元|元|个工作日|工作日|人次|户次|件次|%|‰|件|个|人|次|场|册|份|天|日|小时|个月|月|年|起|户|项|家|所|篇|期|条|台|辆|分|万份|平方米|㎡|名|批|宗|期次|课时|单"
)
_OP_RE = "|".join(sorted((re.escape(k) for k in _OPS), key=len, reverse=True))
NUMBER_RE = re.compile(
    rf"^(?P<op>{_OP_RE})?\s*(?P<approx>近|约)?\s*(?P<num>[-+]?\d+(?:\.\d+)?)\s*(?P<q1>余|多)?\s*"
    rf"(?P<unit>{_UNITS})?\s*(?P<q2>以上|以下|以内|左右|余|之内)?(?:（含）|\(含\))?$"
)


def normalise_digits(text: str) -> str:
    """Full-width digits and thousands separators → plain ASCII figures."""
    t = text.translate(_FULLWIDTH)
    return re.sub(r"(?<=\d),(?=\d{3}(?:\D|$))", "", t)


def parse_value(text: str | None, line: int | None = None) -> Value:
    raw = text or ""
    s = clean_text(raw).replace(" ", "")
    if s == "":
        return Value(raw, "empty", line=line)
    if s in _NONE:
        return Value(raw, "none", line=line)
    if s in _DASHES:
        return Value(raw, "dash", line=line)
    m = NUMBER_RE.match(normalise_digits(s))
    if m:
        try:
            num = Decimal(m.group("num"))
        except InvalidOperation:  # pragma: no cover - the regex only admits decimals
            return Value(raw, "text", line=line)
        unit = m.group("unit")
        if unit == "％":
            unit = "%"
        op = _OPS.get(m.group("op")) if m.group("op") else None
        qual = m.group("approx") or m.group("q1") or m.group("q2")
        if m.group("q2") in ("以上",) and not op:
            op = "≥"
        if m.group("q2") in ("以下", "以内", "之内") and not op:
            op = "≤"
        return Value(raw, "number", num, unit, op, qual, line)
    return Value(raw, "text", line=line)


def embedded_number(text: str, line: int | None = None) -> Value | None:
    """A figure inside a label cell, e.g. ``其中：一般公共预算：2569.23`` → 2569.23."""
    m = re.search(r"[-+]?\d+(?:\.\d+)?", normalise_digits(clean_text(text)))
    if not m:
        return None
    return Value(m.group(0), "number", Decimal(m.group(0)), line=line)
