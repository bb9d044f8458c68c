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


_QIZHONG = re.compile(r"^其中[:：]")
_QIZHONG_SP = re.compile(r"^其中[:：]\s*")


# Cached: the recognisers normalise every cell of a table several times (classify, then
# the recogniser, then the header checks), and header texts recur in every report.
@functools.lru_cache(maxsize=16384)
def normalise_label(text: str) -> str:
    """Strip what varies between reports but not in meaning."""
    s = clean_text(text).replace(" ", "").replace("\u3000", "")
    s = NUMBERING.sub("", s)
    if s.startswith("其中"):
        s = _QIZHONG.sub("", s)
    if "(" in s or "（" in s:
        s = _UNIT_PARENS.sub("", s)
    return s.strip("：:;；,，")


def strip_numbering(text: str) -> str:
    s = clean_text(text)
    s = NUMBERING.sub("", s)
    if s.startswith("其中"):
        s = _QIZHONG_SP.sub("", s)
    return s.strip().rstrip("：:")


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


@functools.lru_cache(maxsize=None)
def _index(section: str) -> tuple[dict[str, tuple[int, str]], tuple[tuple[int, str, re.Pattern], ...]]:
    """The matchers of a section split for speed: exact wordings in a dict (wording →
    (position, key), first position kept) and the regexes with their positions. The first
    matcher in file order still wins: a regex is tried only when it comes before the exact
    match."""
    exact: dict[str, tuple[int, str]] = {}
    regexes: list[tuple[int, str, re.Pattern]] = []
    for pos, (key, m) in enumerate(_matchers(section)):
        if isinstance(m, str):
            exact.setdefault(m, (pos, key))
        else:
            regexes.append((pos, key, m))
    return exact, tuple(regexes)


@functools.lru_cache(maxsize=20000)
def lookup(section: str, text: str) -> str | None:
    """The field a header or label stands for, or None."""
    s = normalise_label(text)
    if not s:
        return None
    exact, regexes = _index(section)
    hit = exact.get(s)
    limit = hit[0] if hit else len(_matchers(section))
    for pos, key, rx in regexes:
        if pos >= limit:
            break
        if rx.search(s):
            return key
    return hit[1] if hit else None


def words(name: str) -> list[str]:
    return [str(x) for x in load()[name]]
