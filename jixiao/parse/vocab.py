"""The header vocabulary (``vocab/headers.yml``): messy wording → one field name."""
from __future__ import annotations

import functools
import re
from importlib import resources

import yaml

from ..model import clean_text

NUMBERING = re.compile(
    r"^(?:[一二三四五六七八九十]+\s*[、.．]|[（(]\s*[一二三四五六七八九十\d]+\s*[）)]|\d+\s*[、．.](?!\d)|[①-⑳]|\d+\s+(?=\D))\s*"
)
_UNIT_PARENS = re.compile(
    r"[（(]\s*(?:万元|元|人|个|㎡|%|件|[A-Za-z](?:\s*[/+\-×*]\s*[A-Za-z])?|\d+(?:\.\d+)?分|"
    r"\d{4}年完工(?:项目|情况)|一个专项一行|≥|≤|[≥≤]?，?[^）)]{0,3})\s*[）)]"
)


def normalise_label(text: str) -> str:
    """Strip what varies between reports but not in meaning."""
    s = clean_text(text).replace(" ", "").replace("\u3000", "")
    s = NUMBERING.sub("", s)
    s = re.sub(r"^其中[:：]", "", s)
    s = _UNIT_PARENS.sub("", s)
    return s.strip("：:;；,，")


def strip_numbering(text: str) -> str:
    s = clean_text(text)
    s = NUMBERING.sub("", s)
    return re.sub(r"^其中[:：]\s*", "", s).strip().rstrip("：:")


@functools.lru_cache(maxsize=1)
def load() -> dict:
    data = yaml.safe_load(resources.files("jixiao.vocab").joinpath("headers.yml").read_text("utf-8"))
    return data


@functools.lru_cache(maxsize=None)
def _matchers(section: str) -> tuple[tuple[str, str | re.Pattern], ...]:
    out: list[tuple[str, str | re.Pattern]] = []
    for key, variants in load()[section].items():
        for v in variants:
            v = str(v)
            if v.startswith("/") and v.endswith("/") and len(v) > 2:
                out.append((key, re.compile(v[1:-1])))
            else:
                out.append((key, normalise_label(v)))
    return tuple(out)


@functools.lru_cache(maxsize=20000)
def lookup(section: str, text: str) -> str | None:
    """The field a header or label stands for, or None."""
    s = normalise_label(text)
    if not s:
        return None
    for key, m in _matchers(section):
        if isinstance(m, str):
            if s == m:
                return key
        elif m.search(s):
            return key
    return None


def words(name: str) -> list[str]:
    return [str(x) for x in load()[name]]
