"""Issue 13 item 5: severity that ranks truthfully.

A sum of n parts printed to 0.01 may differ from its printed total by up to n × 0.005 through
rounding alone: such a difference is a 提示 “尾差”, not an 错误. Findings are listed most severe
first, then by the size of the difference.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from jixiao import rows
from jixiao.checks import run_checks
from jixiao.checks.base import SEVERITY_RANK, ranked, rounding_slack, sum_finding
from jixiao.parse import parse_file, parse_text

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "reports"
FIXTURES = Path(__file__).parent / "fixtures" / "checks"
SAMPLES = sorted(REPORTS.glob("*.txt"))
S0, S1, S3, S4 = (REPORTS / n for n in ("000_b20a9b01b0d85700.txt", "001_7a3827d77ccb6050.txt",
                                         "003_59381bf72cd59194.txt", "004_44f1ae10bd884054.txt"))


@pytest.fixture(scope="module")
def findings():
    return {f.name[:3]: run_checks(parse_file(f)) for f in SAMPLES}


def _of(fs, rule):
    return [f for f in fs if f.rule == rule]


# ---------------------------------------------------------------- the rule itself


def test_rounding_slack_is_half_a_cent_per_part():
    assert rounding_slack(2) == Decimal("0.01") and rounding_slack(3) == Decimal("0.015")


@pytest.mark.parametrize("total, parts, severity", [
    ("279.9", ("241.64", "38.27"), "提示"),     # 0.01 off, 2 parts: within rounding
    ("20.6", ("18.79", "0", "1.8"), "提示"),    # 0.01 off, 3 parts
    ("2572.48", ("2048.44", "524.1"), "错误"),  # 0.06 off, 2 parts: a real contradiction
    ("10.02", ("5", "5"), "错误"),              # 0.02 off, 2 parts: more than rounding can do
])
def test_sum_finding_severity(total, parts, severity):
    s = sum((Decimal(p) for p in parts), Decimal(0))
    f = sum_finding("x_sum", "错误", "合计不符。", s, Decimal(total), len(parts), [3])
    assert f.severity == severity
    assert f.difference == Decimal(total) - s
    assert ("尾差" in f.message) == (severity == "提示")


# ---------------------------------------------------------------- on the samples


def test_rounding_differences_on_the_samples_are_notes(findings):
    # 004: 基本支出 = 人员经费 + 公用经费 off by 0.01 in each of three columns
    bs = _of(findings["004"], "basic_sum")
    assert len(bs) == 3 and {f.severity for f in bs} == {"提示"}
    assert all("尾差" in f.message and abs(f.difference) == Decimal("0.01") for f in bs)
    # 003 and 004: 三公 parts vs total off by 0.01
    for key in ("003", "004"):
        (tp,) = _of(findings[key], "three_public_sum")
        assert tp.severity == "提示" and "尾差" in tp.message
    # 004: 基本支出419.83 + 项目支出1.14 = 420.97 vs 420.96
    (ns,) = _of(findings["004"], "nature_sum")
    assert ns.severity == "提示"
    # 001: 人员经费542.77 + 公用经费56.54 = 599.31 vs 基本支出599.32 in one paragraph
    (nb,) = _of(findings["001"], "narrative_basic_sum")
    assert nb.severity == "提示"


def test_real_contradictions_stay_errors(findings):
    (ns0,) = _of(findings["000"], "nature_sum")  # 0.06 off
    (ns1,) = _of(findings["001"], "nature_sum")  # 0.16 off
    (rec,) = _of(findings["001"], "narrative_project_reconcile")  # 48.04 vs 48.2
    assert {ns0.severity, ns1.severity, rec.severity} == {"错误"}
    assert all(f.severity == "错误" for f in _of(findings["004"], "project_lines_sum"))  # 27.1 vs 0


def test_no_error_is_within_rounding_of_its_parts(findings):
    """No 错误 of a sum rule on the samples has a difference of 0.01 or less."""
    sums = {"three_public_sum", "vehicles_sum", "project_lines_sum", "public_funds_parts", "basic_sum",
            "nature_sum", "narrative_basic_sum", "narrative_project_reconcile"}
    for fs in findings.values():
        for f in fs:
            if f.rule in sums and f.severity == "错误":
                assert abs(f.difference) > Decimal("0.01"), f


def test_findings_rank_by_severity_then_difference(findings):
    for key, fs in findings.items():
        assert fs == ranked(fs), key
        keys = [(SEVERITY_RANK[f.severity], f.difference is None, -abs(f.difference or 0)) for f in fs]
        assert keys == sorted(keys), key
    # 004: the 27.1 project gap leads its 错误, the 0.01 尾差 come after every 疑点
    fs = findings["004"]
    assert fs[0].rule == "project_lines_sum" and fs[0].difference == Decimal("27.1")
    last_doubt = max(i for i, f in enumerate(fs) if f.severity == "疑点")
    assert min(i for i, f in enumerate(fs) if "尾差" in f.message) > last_doubt


def test_fixture_three_public_total_off_by_a_cent_and_by_more():
    base = (FIXTURES / "three_public_ok.txt").read_text("utf-8")
    assert "\t三公经费\n\t10\n\t9\n\t8\n" in base
    cent = [f for f in run_checks(parse_text(base.replace("\t三公经费\n\t10\n\t9\n\t8\n", "\t三公经费\n\t10\n\t9\n\t8.01\n")))
            if f.rule == "three_public_sum"]
    more = [f for f in run_checks(parse_text(base.replace("\t三公经费\n\t10\n\t9\n\t8\n", "\t三公经费\n\t10\n\t9\n\t8.02\n")))
            if f.rule == "three_public_sum"]
    assert [(f.severity, f.expected, f.actual) for f in cent] == [("提示", "8", "8.01")]
    assert [(f.severity, f.expected, f.actual) for f in more] == [("错误", "8", "8.02")]


def test_findings_rows_carry_the_difference():
    r = parse_file(S4)
    got = rows.findings_rows(r)
    assert [g["seq"] for g in got] == list(range(1, len(got) + 1))
    assert (got[0]["rule"], got[0]["difference"]) == ("project_lines_sum", Decimal("27.1"))
    assert all(g["difference"] is None for g in got if g["rule"] == "shifted_cells")
