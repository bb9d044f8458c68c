"""What every check shares: severities, the Finding constructor, number formatting and
tolerances, and read-only accessors of the Report model (rows of a table, the narrative).

Severity: 错误 (the printed figures cannot all be right), 疑点 (a reader should ask),
提示 (worth knowing, e.g. a rounding difference). Nothing here looks for a problem.
"""
from __future__ import annotations

import functools
import re
from collections import defaultdict
from decimal import Decimal, ROUND_HALF_UP
from typing import Iterable, Iterator

from ..model import Evaluation, ExpenseControl, Finding, Indicator, Report, Value, clean_text
from ..parse.values import normalise_digits, parse_value


ERROR, DOUBT, NOTE = "错误", "疑点", "提示"
SEVERITY_RANK = {ERROR: 0, DOUBT: 1, NOTE: 2}  # most severe first
ROUNDING = "尾差"  # what a note on a difference within the rounding of the printed parts is called

CENT = Decimal("0.005")  # figures are printed to 0.01 at most: half a unit of the last digit

COLUMNS = (("prev_final", "上年决算数"), ("budget", "本年预算数"), ("final", "本年决算数"))


NUM = r"(\d+(?:\.\d+)?)"


_DECIMALS = re.compile(r"\.(\d+)")


def _n(v: Value | None) -> Decimal | None:
    """The number of a plain (or money / percent) figure, else None."""
    if v is None or v.kind != "number" or v.number is None:
        return None
    if v.op is not None:
        return None
    return v.number


def fmt(d: Decimal | None) -> str:
    if d is None:
        return "—"
    q = d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if d.as_tuple().exponent < -2 else d
    s = format(q, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def _ne(a: Decimal, b: Decimal, tol: Decimal = CENT) -> bool:
    return abs(a - b) > tol


def _ne_printed(a: Decimal, b: Decimal) -> bool:
    """Different even allowing for the coarser figure being rounded as printed (524 vs 524.1)."""
    exp = max(a.as_tuple().exponent, b.as_tuple().exponent)
    tol = max(CENT, Decimal(5).scaleb(exp - 1)) if isinstance(exp, int) else CENT
    return abs(a - b) > tol


_PLAIN_FIGURE = re.compile(r"-?\d+(?:\.\d+)?%?")


def difference_of(expected: str | None, actual: str | None) -> Decimal | None:
    """actual − expected when both are plain figures (``93.39%`` / ``93.38%``, ``20.59`` / ``20.6``);
    None for a bound (``≤10``), a word (``（空白）``) or figures of different kinds."""
    if expected is None or actual is None:
        return None
    if not (_PLAIN_FIGURE.fullmatch(expected) and _PLAIN_FIGURE.fullmatch(actual)):
        return None
    if expected.endswith("%") != actual.endswith("%"):
        return None
    return Decimal(actual.rstrip("%")) - Decimal(expected.rstrip("%"))


def _f(rule: str, sev: str, msg: str, expected, actual, lines: Iterable[int | None],
       difference: Decimal | None = None) -> Finding:
    """A finding; ``difference`` (actual − expected) is worked out from the two figures when not given."""
    ls = sorted({x for x in lines if x})
    exp, act = None if expected is None else str(expected), None if actual is None else str(actual)
    if difference is None:
        difference = difference_of(exp, act)
    return Finding(rule, sev, msg, exp, act, ls[0] if ls else None, ls, difference)


def rounding_slack(n_parts: int) -> Decimal:
    """How far a sum of ``n_parts`` printed figures may be from the printed total through
    rounding alone: each part printed to 0.01 may be off by up to 0.005."""
    return CENT * n_parts


def within_rounding(diff: Decimal, n_parts: int) -> bool:
    return abs(diff) <= rounding_slack(n_parts)


def sum_finding(rule: str, sev: str, msg: str, expected: Decimal, actual: Decimal, n_parts: int,
                lines: Iterable[int | None]) -> Finding:
    """A finding on a sum of ``n_parts`` printed parts (``expected``) against a printed total
    (``actual``): a difference the parts' rounding can explain is a 提示 “尾差”, not ``sev``."""
    diff = actual - expected
    if within_rounding(diff, n_parts):
        slack = fmt(rounding_slack(n_parts))
        msg = (f"{ROUNDING}：{msg.rstrip('。')}；{n_parts}个分项各按0.01四舍五入，合计最多可差{slack}，"
               f"差额在此以内，属尾差而非错误。")
        sev = NOTE
    return _f(rule, sev, msg, fmt(expected), fmt(actual), lines, diff)


def ranked(findings: list[Finding]) -> list[Finding]:
    """Most severe first; within a severity the largest difference first, findings without a
    figure difference after those with one; otherwise in check order (the sort is stable)."""
    return sorted(findings, key=lambda f: (SEVERITY_RANK.get(f.severity, len(SEVERITY_RANK)),
                                           f.difference is None, -abs(f.difference or 0)))


def _vline(v: Value | None, fallback: int | None) -> int | None:
    return (v.line if v is not None and v.line else None) or fallback


def narrative(report: Report) -> list[tuple[str, int]]:
    """(paragraph text, line) of the narrative, one entry per source paragraph."""
    out: list[tuple[str, int]] = []
    for s in report.sections:
        out.extend(_section_narrative(s.heading, s.body, s.line_start))
    return out


# A dozen checks read the narrative; cleaning and normalising every paragraph each time was
# half the time of run_checks. Keyed on the section's own strings (their hashes are cached
# by Python after the first call), so a changed section is simply a new entry.
@functools.lru_cache(maxsize=4096)
def _section_narrative(heading: str, body: str, line_start: int) -> tuple[tuple[str, int], ...]:
    out: list[tuple[str, int]] = []
    if heading:
        out.append((clean_text(heading), line_start))
    for i, para in enumerate(body.split("\n")):
        p = clean_text(para)
        if p:
            out.append((normalise_digits(p), line_start + 1 + i))
    return tuple(out)


def _finditer_near(rx: re.Pattern, core: re.Pattern, text: str, back: int) -> Iterator[re.Match]:
    """The matches of ``rx.finditer(text)``, found faster for patterns that open with a run
    of Han characters (tried, and failed, at nearly every position of a paragraph).

    ``core`` must match wherever a match of ``rx`` has its figure, at most ``back``
    characters after the start of that match. Then the next match of ``rx`` at or after
    ``pos`` cannot start before (first ``core`` at or after ``pos``) − ``back``, so the
    search starts there; the matches found are the same, in the same order. ``rx`` must not
    match the empty string or use ``^``.
    """
    pos = 0
    while True:
        hint = core.search(text, pos)
        if hint is None:
            return
        m = rx.search(text, max(pos, hint.start() - back))
        if m is None:
            return
        yield m
        pos = m.end()


def _ec(report: Report, key: str, source: str = "basic_data") -> list[ExpenseControl]:
    return [e for e in report.expense_controls if e.key == key and e.source == source]


def _first(report: Report, key: str, source: str = "basic_data") -> ExpenseControl | None:
    rows = _ec(report, key, source)
    return rows[0] if rows else None


def _col(e: ExpenseControl | None, col: str) -> Decimal | None:
    return None if e is None else _n(getattr(e, col))


def _money_rows(report: Report) -> list[ExpenseControl]:
    return [e for e in report.expense_controls if e.group in ("three_public", "project", "public_funds", "basic", "personnel")]


def _funds_total(ev: Evaluation):
    return ev.funds_total


def _nature(ev: Evaluation, key: str) -> Decimal | None:
    for n in ev.by_nature:
        if n.key == key:
            return _n(n.value)
    return None


def _nature_line(ev: Evaluation, key: str) -> int | None:
    return next((n.line for n in ev.by_nature if n.key == key), None)


def _project_lines(report: Report) -> list[ExpenseControl]:
    return [e for e in report.expense_controls if e.source == "basic_data" and e.group == "project" and e.key != "project_total"]


_ChildIndex = dict[tuple[str, "str | None", "str | None"], list[ExpenseControl]]


def _child_index(report: Report) -> _ChildIndex:
    """(source, group, parent_item) → the rows in that place, in table order."""
    index: _ChildIndex = defaultdict(list)
    for e in report.expense_controls:
        index[(e.source, e.group, e.parent_item)].append(e)
    return index


def _children(report: Report, parent: ExpenseControl, index: _ChildIndex | None = None) -> list[ExpenseControl]:
    """The rows under ``parent`` (same source and group), at any depth, in seq order.

    Walks down through an index of parent_item names instead of rescanning every row until
    nothing changes: that was cubic in the rows, and a file holding a report 340 times
    (8,000 rows) took hours. Rows are told apart by identity (seq is unique in a report).
    """
    if index is None:
        index = _child_index(report)
    out: list[ExpenseControl] = []
    seen = {id(parent)}
    names, done = [parent.item], set()
    while names:
        name = names.pop()
        if name in done:
            continue
        done.add(name)
        for e in index.get((parent.source, parent.group, name), ()):
            if id(e) not in seen:
                seen.add(id(e))
                out.append(e)
                names.append(e.item)
    return sorted(out, key=lambda e: e.seq)


def _decimals(v: Value) -> int:
    m = _DECIMALS.search(normalise_digits(v.clean))
    return len(m.group(1)) if m else 0


def aligned(i: Indicator) -> tuple[Value, Value, Value, Value, str]:
    """(target, actual, weight, score, note) with a row shifted one column left put back:
    a text 得分 after a numeric 分值 and a numeric 实际完成值 (``10 | 9 | 按90%折算计分``)."""
    if (i.score.kind == "text" and _n(i.weight) is not None and _n(i.actual) is not None
            and not i.note):
        return parse_value(i.level3), i.target, i.actual, i.weight, i.score.clean
    return i.target, i.actual, i.weight, i.score, i.note


def _rows(ev: Evaluation) -> list[Indicator]:
    return [i for i in ev.indicators if not i.placeholder]


def _label(ev: Evaluation) -> str:
    if ev.kind == "project":
        return f"项目支出绩效自评表（{ev.project_name or ''}）"
    if ev.kind == "third_party":
        return "第三方评价指标表"
    return "整体支出绩效自评表"


def _sig(i: Indicator) -> tuple[str, str, str]:
    return clean_text(i.level3), i.target.clean, i.actual.clean
