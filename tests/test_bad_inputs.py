"""Bad inputs (issue 8): every kind of broken, odd or hostile file gets either one clear error
(file, line, reason) or a parse with warnings — never a traceback — and no source line is lost.

The corpus is generated into a temporary folder by ``tests/bad_inputs/make_corpus.py`` (most
cases are mutations of the samples in ``reports/``); ``manifest.json`` there says what each
case expects. The last test builds the whole corpus plus the samples with ``jixiao build``'s
``build()`` and checks that every sample is in the database and every bad file is in
``build_errors``.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from jixiao.cli import cli
from jixiao.errors import ReportError
from jixiao.model import clean_text
from jixiao.parse import parse_file

sys.path.insert(0, str(Path(__file__).parent / "bad_inputs"))
import make_corpus  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SAMPLES = sorted((REPO / "reports").glob("*.txt"))
KINDS = make_corpus.kinds()
ARTEFACT = re.compile(r"\[bookmark: [^\]]*\]")
# Fates whose text the model does not keep (counted in line_counts only): see
# build/robustness-findings.md item 7.
TEXTLESS_FATES = ("identity", "artefact", "table_note")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad_inputs")
    cases = make_corpus.make_corpus(d)
    return d, {c.kind: c for c in cases}


_sample_cache: dict[str, object] = {}


def sample_report(name: str):
    if name not in _sample_cache:
        _sample_cache[name] = parse_file(REPO / "reports" / name)
    return _sample_cache[name]


def parse_outcome(path: Path):
    """(report, None) or (None, ReportError). Anything else propagates and fails the test."""
    try:
        return parse_file(path), None
    except ReportError as exc:
        return None, exc


# ----------------------------------------------------------------- what a parse must keep


def _strings(obj, out: list[str]) -> None:
    if isinstance(obj, str):
        out.append(obj)
    elif isinstance(obj, dict):
        for v in obj.values():
            _strings(v, out)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _strings(v, out)


def _norm(s: str) -> str:
    """Text without whitespace, Tika artefacts and invisible/control characters."""
    s = re.sub(r"\s+", "", ARTEFACT.sub("", s)).replace("\u3000", "").replace("\xa0", "")
    return "".join(c for c in s if unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp"))


def source_lines(path: Path, encoding: str) -> list[str]:
    codec = encoding.split()[0]  # e.g. 'utf-8 (5 invalid byte sequence(s) replaced)'
    text = path.read_bytes().decode(codec, errors="replace")  # the 'utf-16' codec drops the BOM
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def check_accounting(report, case, path: Path) -> None:
    counts = report.line_counts
    assert all(v >= 0 for v in counts.values()), counts
    if case.lines is not None:
        assert sum(counts.values()) == case.lines, f"line_counts {counts} do not add up to {case.lines} lines"
    assert counts.get("unparsed", 0) == len(report.unparsed)
    for u in report.unparsed:
        assert clean_text(u.text) != "" and u.reason
    if case.big or report.source_format != "tika-text":
        return
    lines = source_lines(path, report.encoding)
    assert sum(counts.values()) == len(lines)
    for u in report.unparsed:
        assert lines[u.line - 1] == u.text, f"unparsed line {u.line} does not hold the source text"
    blank = sum(1 for ln in lines if clean_text(ln) == "")
    assert counts.get("blank", 0) <= blank, "a line with text was counted as blank"
    # Every non-blank line's text is somewhere in the model (or its fate keeps no text).
    strings: list[str] = []
    _strings(report.to_dict(), strings)
    strings += [s.number + s.heading for s in report.sections]
    normed = {_norm(s) for s in strings}
    blob = "\x00".join(normed)
    missing = []
    for k, ln in enumerate(lines, 1):
        n = _norm(ln)
        # Pipe layouts ('cell |', '| a | b |'): each cell on its own; '| --- |' rules are artefacts.
        parts = [p for p in n.split("|") if p and not re.fullmatch(r":?-{3,}:?", p)] if "|" in n else [n]
        if any(p not in normed and p not in blob for p in parts if p):
            missing.append((k, ln[:80]))
    allowed = sum(counts.get(f, 0) for f in TEXTLESS_FATES)
    assert len(missing) <= allowed, f"{len(missing)} lines are nowhere in the model: {missing[:5]}"


def signature(report) -> dict:
    """What a re-encoded or re-line-ended copy of a sample must reproduce."""
    return {
        "report_id": report.report_id,
        "unit_name": report.unit_name,
        "fiscal_year": report.fiscal_year,
        "report_kind": report.report_kind,
        "tables": [t.kind for t in report.tables],
        "indicators": [(i.level1, i.level2, i.level3, i.target.clean, i.actual.clean, i.weight.clean, i.score.clean)
                       for e in report.evaluations for i in e.indicators],
        "expense_controls": [(x.item, x.budget.clean, x.final.clean) for x in report.expense_controls],
        "warnings": sorted(w.code for w in report.warnings),
        "line_counts": {k: v for k, v in report.line_counts.items() if k != "blank"},
    }


def numbers(report) -> list:
    return [x.final.number for x in report.expense_controls] + [
        f.executed.number for e in report.evaluations for f in e.funds]


# ----------------------------------------------------------------- checks for single kinds


def _same_values(kind, report, original, scale=1, sign=1):
    got, want = numbers(report), numbers(original)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if w is None:
            continue
        assert g is not None and g * scale == w * sign, f"{kind}: {g} != {w}"


EXTRA = {}


def extra(kind):
    def deco(fn):
        EXTRA[kind] = fn
        return fn
    return deco


@extra("truncated_mid_table")
def _(r):
    assert "truncated_table" in {w.code for w in r.warnings}


@extra("no_year")
def _(r):
    assert r.fiscal_year is None and "no_year" in {w.code for w in r.warnings}
    assert r.report_id.startswith("未知年度-")


@extra("year_placeholder")
def _(r):
    assert r.fiscal_year is None and "no_year" in {w.code for w in r.warnings}


@extra("year_chinese_numerals")
def _(r):
    # 二〇二三年度: either read as 2023, or no year with a warning — never another year.
    assert r.fiscal_year in (2023, None), f"二〇二三年度 read as {r.fiscal_year}"
    if r.fiscal_year is None:
        assert "no_year" in {w.code for w in r.warnings}


@extra("no_unit")
def _(r):
    assert r.unit_name is None and "no_unit" in {w.code for w in r.warnings}


@extra("amounts_thousands_separators")
def _(r):
    original = sample_report(SAMPLES[0].name)
    assert {x.money_unit for x in r.expense_controls} == {"元"}
    for x, o in zip(r.expense_controls, original.expense_controls):
        if o.final.number is not None:
            assert x.final.number == o.final.number * 10000


@extra("amounts_fullwidth_digits")
def _(r):
    _same_values("fullwidth", r, sample_report(SAMPLES[1].name))


@extra("amounts_negative")
def _(r):
    _same_values("negative", r, sample_report(SAMPLES[1].name), sign=-1)


@extra("amounts_chinese_numerals")
def _(r):
    for x in r.expense_controls:
        for v in (x.prev_final, x.budget, x.final):
            # 一百 may be read as 100 or kept as text, but the original cell text is always kept
            if v.kind == "number" and not re.search(r"\d", v.text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))):
                assert v.number is not None and v.number == v.number  # not NaN


@extra("amounts_weird_numbers")
def _(r):
    for x in r.expense_controls:
        for v in (x.prev_final, x.budget, x.final):
            if v.number is not None:
                assert v.number.is_finite(), f"{v.text!r} became {v.number}"


@extra("two_reports_one_file")
def _(r):
    own = {w.code for w in sample_report(SAMPLES[0].name).warnings}
    new = {w.code for w in r.warnings} - own
    assert new, "two reports pasted into one file were merged without a warning"


@extra("table_no_header")
def _(r):
    n = sum(len(e.indicators) for e in r.evaluations)
    assert n > 0 or r.warnings, "an indicator table without a header lost all its rows without a warning"


@extra("control_characters")
def _(r):
    for field in (r.report_id, r.unit_name or "", r.title):
        bad = [hex(ord(c)) for c in field if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]
        assert not bad, f"invisible/control characters {bad} in {field!r}"


@extra("emoji_and_astral")
def _(r):
    assert r.fiscal_year == 2023


@extra("header_repeated")
def _(r):
    assert sum(len(e.indicators) for e in r.evaluations) == sum(
        len(e.indicators) for e in sample_report(SAMPLES[1].name).evaluations)


@extra("table_100k_lines")
def _(r):
    assert len(r.details) == 25000


def _genre(r):
    # Not a performance report: a parse is acceptable only with warnings that say so.
    assert r.warnings, "another genre was taken as a report without any warning"


for _k in ("genre_juesuan_table", "genre_news_article", "html_text", "english_lorem"):
    EXTRA[_k] = _genre


# ----------------------------------------------------------------- the tests


# Known parser bugs, reported to the lead (build/robustness-findings.md). strict: a fix makes
# the test XPASS and fail, so the mark is removed with the fix.
KNOWN = {
    "no_final_newline": "P9: false truncated_table warning when a complete file has no trailing blank lines",
    "control_characters": "P10: a control character (BEL) is kept in the report title",
}


@pytest.mark.parametrize("kind", [pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=KNOWN[k]))
                                  if k in KNOWN else k for k in KINDS])
def test_bad_input(kind, corpus):
    d, cases = corpus
    case = cases[kind]
    path = d / case.file
    if kind == "fifo":
        # In a subprocess with a time limit: reading a FIFO blocks for ever.
        try:
            proc = subprocess.run([sys.executable, "-m", "jixiao.cli", "parse", str(path)],
                                  capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            pytest.fail("`jixiao parse` on a FIFO blocked for 30 s (it must refuse non-regular files)")
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert str(path) in proc.stderr and "error:" in proc.stderr
        return

    report, error = parse_outcome(path)
    if case.expect == "error":
        assert error is not None, f"{kind}: expected a clear error, got a report {report.report_id}"
    elif case.expect == "parse":
        assert report is not None, f"{kind}: expected a parse, got error: {error}"
    if error is not None:
        assert error.source == str(path)
        assert error.reason and "Traceback" not in error.reason
        assert error.line is None or (isinstance(error.line, int) and error.line >= 1)
        if case.lines is not None and error.line is not None:
            assert error.line <= case.lines + 1
        assert str(path) in str(error)
        return

    check_accounting(report, case, path)
    if case.warnings:
        assert set(case.warnings) & {w.code for w in report.warnings}, [w.code for w in report.warnings]
    for w in report.warnings:
        assert w.code and w.message and isinstance(w.line, int)
    if case.same_as:
        assert signature(report) == signature(sample_report(case.same_as))
    if kind in EXTRA:
        EXTRA[kind](report)
    if not case.big:
        json.dumps(report.to_dict(), ensure_ascii=False)  # what `jixiao parse --json` prints


CLI_KINDS = [k for k in KINDS if k not in ("fifo", "huge_50mb")]


@pytest.mark.parametrize("kind", ["empty", "png_renamed", "symlink_loop", "docx_corrupt_truncated",
                                  "control_characters", "html_text", "gbk", "name_leading_dash"])
def test_cli_parse_never_tracebacks(kind, corpus):
    d, cases = corpus
    path = d / cases[kind].file
    res = CliRunner().invoke(cli, ["parse", "--json", "--", str(path)])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert res.exit_code in (0, 1)
    assert "Traceback" not in res.output
    if res.exit_code == 1:
        assert "error:" in res.output and str(path) in res.output


def test_corpus_has_the_kinds_the_issue_asks_for():
    required = {"empty", "whitespace_only", "binary_junk", "png_renamed", "gbk", "gb18030", "utf16_le_bom",
                "utf8_bom", "crlf", "lone_cr", "truncated_mid_table", "table_missing_column", "table_extra_column",
                "shifted_cells", "table_no_header", "merged_cells_everywhere", "header_repeated",
                "two_reports_one_file", "duplicate_same_bytes_a", "duplicate_same_identity", "no_year",
                "year_chinese_numerals", "amounts_thousands_separators", "amounts_fullwidth_digits",
                "amounts_negative", "amounts_chinese_numerals", "huge_50mb", "many_copies_5mb", "table_100k_lines", "line_1mb",
                "control_characters", "genre_juesuan_table", "genre_news_article", "docx_zip_of_other",
                "docx_corrupt_truncated", "html_text", "name_spaces_chinese", "symlink_loop"}
    assert required <= set(KINDS)
    assert len(KINDS) >= 40


# ----------------------------------------------------------------- a build over all of it


BUILD_SKIPS = ("huge_50mb.txt", "many_copies_5mb.txt")


@pytest.mark.xfail(strict=True, reason="B2: symlink loops, dangling symlinks, a directory named .txt and a FIFO "
                                       "are skipped silently by discover(), not listed in build_errors (see build/robustness-findings.md)")
def test_build_over_the_bad_corpus(corpus, tmp_path):
    """Every sample is built; every bad file is in build_errors (file, line, reason); the rest
    are built, each under its own report_id.

    Duplicates (documented by jixiao/build.py): files with the same sha256 are built once, the
    first by sorted path wins and the others are skipped with a log line (not an error); two
    different files with the same unit+year+kind both get built, the second by sorted path with
    ``-2``, ``-3`` … appended to its report_id. The 50 MB and 5 MB files are left out of this
    build to keep the suite fast (their parse is tested above; a 50 MB build takes minutes).
    """
    from jixiao.build import build

    d, cases = corpus
    src = tmp_path / "reports"
    src.mkdir()
    for p in d.iterdir():
        if p.name in ("manifest.json", *BUILD_SKIPS):
            continue
        target = src / p.name
        if p.is_symlink():
            target.symlink_to(os.readlink(p))
        elif p.is_dir():
            target.mkdir()
        elif p.is_fifo():
            os.mkfifo(target)
        else:
            target.write_bytes(p.read_bytes())
    for s in SAMPLES:
        (src / s.name).write_bytes(s.read_bytes())

    out, pk = tmp_path / "out" / "jixiao.db", tmp_path / "out" / "datapackages"
    result = build([src], out=out, packages=pk, cache_dir=None, progress=False, workers=2)

    con = sqlite3.connect(f"file:{out}?mode=ro", uri=True)
    built = {r[0]: r[1] for r in con.execute("select source_file, report_id from reports")}
    errors = {Path(r[0]).name: (r[1], r[2]) for r in con.execute("select source_file, line, error from build_errors")}
    con.close()

    for s in SAMPLES:
        assert s.name in built, f"sample {s.name} missing from the database"
    assert len(set(built.values())) == len(built), "report_id is not unique"

    # Which files were skipped as byte-identical duplicates of an earlier (sorted) file.
    by_sha: dict[str, list[str]] = {}
    for p in sorted(src.iterdir(), key=str):
        if p.is_file() and not p.is_symlink() and p.suffix in (".txt", ".docx"):
            by_sha.setdefault(hashlib.sha256(p.read_bytes()).hexdigest(), []).append(p.name)
    skipped = {n for names in by_sha.values() for n in names[1:]}
    for n in skipped:
        assert any(n in line and "same content" in line for line in result.log), n

    problems = []
    for kind, case in cases.items():
        if case.file in BUILD_SKIPS or case.file in skipped:
            continue
        name = case.file
        if case.expect == "error":
            if name not in errors:
                problems.append(f"{kind}: {name} not in build_errors")
                continue
            line, reason = errors[name]
            if not reason or "Traceback" in reason or not (line is None or line >= 1):
                problems.append(f"{kind}: bad build_errors row {errors[name]}")
        elif case.expect == "parse":
            if name not in built:
                problems.append(f"{kind}: {name} not built ({errors.get(name)})")
        else:
            if name not in built and name not in errors:
                problems.append(f"{kind}: {name} neither built nor in build_errors")
    assert not problems, "\n".join(problems)

    # Same unit+year+kind, different bytes: both built, the later one with a suffix.
    sample_id = built[SAMPLES[1].name]
    assert built["dup_same_identity.txt"].startswith(sample_id + "-")
