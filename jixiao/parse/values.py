"""Cell text → :class:`Value`: numbers as Decimals with unit, operator and qualifier.

The original text is always kept; anything that is not a clean figure stays text.
"""
from __future__ import annotations

import functools
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
# Possessive ``\s*+`` and ``\d++``: nothing after them starts with a space or a digit, so they
# match what the greedy forms would; but adjacent optional groups with ``\s*`` between them
# backtracked cubically on a cell padded with spaces (``"1" + "\u3000" * N + "x"``: N=2400, 190 s).
NUMBER_RE = re.compile(
    rf"^(?P<op>{_OP_RE})?\s*+(?P<approx>近|约)?\s*+(?P<num>[-+]?\d++(?:\.\d++)?)\s*+(?P<q1>余|多)?\s*+"
    rf"(?P<unit>{_UNITS})?\s*+(?P<q2>以上|以下|以内|左右|余|之内)?(?:（含）|\(含\))?$"
)


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10_000, "亿": 100_000_000}
CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百千万亿]+")


def chinese_numeral(text: str) -> int | None:
    """一万 → 10000, 三百二十 → 320, 十五 → 15; None when it is not a numeral."""
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            section += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
        elif ch in _CN_BIG:
            total += (section + (digit or 0)) * _CN_BIG[ch]
            section, digit = 0, None
        else:
            return None
    return total + section + (digit or 0)


def _replace_chinese_numeral(s: str) -> str:
    """'近一万二千余人次' → '近12000余人次' when the numeral is the figure of the cell."""
    cn = CN_NUMBER.search(s)
    if not cn:
        return s
    prefix, word = s[:cn.start()], cn.group(0)
    if prefix and not _PREFIX_OK.fullmatch(prefix):
        return s
    if word.endswith("万") and s[cn.end():cn.end() + 1] == "元":
        word = word[:-1]  # 五十万元: the unit is 万元
    if len(word) == 1 and word in "一二两零〇" and s[cn.start() + 1:] != "" and not s[cn.start() + 1:].startswith(("万", "千")):
        return s  # 一级指标, 二级: not a figure
    n = chinese_numeral(word)
    if n is None or (n == 0 and word not in ("零", "〇")):
        return s
    return prefix + str(n) + s[cn.start() + len(word):]


_FULLWIDTH_PAIRS = tuple((chr(k), chr(v)) for k, v in _FULLWIDTH.items())
_HAS_FULLWIDTH = re.compile("[０-９．％＋－，]")
# A thousands separator: a comma between a digit and three more. Written to open with the
# literal comma (the lookbehind after it), so the regex engine jumps from comma to comma
# instead of testing the lookbehind at every position; same matches as (?<=\d),(?=…).
_THOUSANDS = re.compile(r",(?<=\d,)(?=\d{3}(?:\D|$))")
_PREFIX_OK = re.compile(rf"(?:{_OP_RE})?\s*(?:近|约)?")
_EMBEDDED = re.compile(r"[-+]?\d+(?:\.\d+)?")


def normalise_digits(text: str) -> str:
    """Full-width digits and thousands separators → plain ASCII figures."""
    # Same result as text.translate(_FULLWIDTH), but str.translate walks a CJK string char
    # by char through a dict (~10 µs a paragraph, and nearly every paragraph has a "，"),
    # while str.replace per character present scans in C. One char → one ASCII char, so
    # the order of the replacements does not matter.
    if _HAS_FULLWIDTH.search(text):
        for wide, ascii_ in _FULLWIDTH_PAIRS:
            if wide in text:
                text = text.replace(wide, ascii_)
    if "," in text:
        text = _THOUSANDS.sub("", text)
    return text


def parse_value(text: str | None, line: int | None = None) -> Value:
    raw = text or ""
    # A new Value every call (callers set .op/.unit/.text on it); the reading of the
    # text is cached, since the same cell texts (100, 10, ——, 100%) recur in every table.
    return Value(raw, *_read_value(raw), line)


@functools.lru_cache(maxsize=16384)
def _read_value(raw: str) -> tuple[str, Decimal | None, str | None, str | None, str | None]:
    """(kind, number, unit, op, qualifier) of a cell text. All parts are immutable."""
    s = clean_text(raw).replace(" ", "")
    if s == "":
        return "empty", None, None, None, None
    if s in _NONE:
        return "none", None, None, None, None
    if s in _DASHES:
        return "dash", None, None, None, None
    digits = _replace_chinese_numeral(normalise_digits(s))
    m = NUMBER_RE.match(digits)
    if m and len(m.group("num").lstrip("+-").replace(".", "").lstrip("0")) > 15:
        return "text", None, None, None, None  # no real cell holds 16+ significant digits
    if m:
        try:
            num = Decimal(m.group("num"))
        except InvalidOperation:  # pragma: no cover - the regex only admits decimals
            return "text", None, None, None, None
        unit = m.group("unit")
        if unit == "％":
            unit = "%"
        op = _OPS.get(m.group("op")) if m.group("op") else None
        qual = m.group("approx") or m.group("q1") or m.group("q2")
        if m.group("q2") in ("以上",) and not op:
            op = "≥"
        if m.group("q2") in ("以下", "以内", "之内") and not op:
            op = "≤"
        return "number", num, unit, op, qual
    return "text", None, None, None, None


def embedded_number(text: str, line: int | None = None) -> Value | None:
    """A figure inside a label cell, e.g. ``其中：一般公共预算：2569.23`` → 2569.23."""
    m = _EMBEDDED.search(normalise_digits(clean_text(text)))
    if not m:
        return None
    return Value(m.group(0), "number", Decimal(m.group(0)), line=line)
