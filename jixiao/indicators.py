"""Comparable indicators: 年度指标值 / 实际完成值 → Measure; completion; topic keys."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources

import yaml

from .model import Indicator, clean_text
from .parse.values import parse_value


@dataclass
class Measure:
    op: str | None
    value: Decimal | None
    unit: str | None
    qualifier: str | None
    text: str


def measure(text: str) -> Measure:
    v = parse_value(text or "")
    if v.kind == "number":
        return Measure(v.op, v.number, v.unit, v.qualifier, clean_text(text or ""))
    return Measure(None, None, None, None, clean_text(text or ""))


def compare(target: Measure, actual: Measure) -> tuple[Decimal | None, bool | None]:
    if target.value is None or actual.value is None:
        return None, None
    if target.unit and actual.unit and target.unit != actual.unit:
        return None, None
    ratio = actual.value / target.value if target.value else None
    op = target.op or "≥"
    met = {"≥": actual.value >= target.value, ">": actual.value > target.value,
           "≤": actual.value <= target.value, "<": actual.value < target.value,
           "=": actual.value == target.value}[op]
    return ratio, met


@functools.lru_cache(maxsize=1)
def _topics() -> tuple[tuple[str, str], ...]:
    data = yaml.safe_load(resources.files("jixiao.vocab").joinpath("topics.yml").read_text("utf-8")) or {}
    return tuple((k, str(w)) for k, ws in data.items() for w in ws)


def topic(indicator: Indicator) -> str | None:
    name = clean_text(indicator.level3 or "")
    for key, kw in _topics():
        if kw in name:
            return key
    return None
