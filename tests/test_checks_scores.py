"""Issue 13 item 3: scores by who gave them.

A report can carry three scores: the unit's self-score (自评表 总分), the score its narrative
states, and a third party's score (第三方评价指标表 合计). They are three fields; findings and the
report page compare like with like and say who scored what.

北塔区 (reports/004_*) is a third-party report: the unit's 自评表 says 94, the evaluator's table
and its narrative say 93. The report page showed “94 / 93 分 相差 -1” as if the narrative had
misquoted its own table.
"""
from __future__ import annotations

import urllib.parse
from decimal import Decimal
from pathlib import Path


from jixiao import rows
from jixiao.checks import run_checks
from jixiao.parse import parse_file, parse_text

from .conftest import ROOT, query_rows

S0 = ROOT / "reports" / "000_b20a9b01b0d85700.txt"
S4 = ROOT / "reports" / "004_44f1ae10bd884054.txt"
BEITA = "2022-邵阳市北塔区司法局-第三方"


def _report_row(path_or_report):
    r = parse_file(path_or_report) if isinstance(path_or_report, Path) else path_or_report
    return rows.reports_rows(r, 0, None)[0]


def test_three_scores_are_three_fields():
    row = _report_row(S4)
    assert (row["total_score"], row["stated_score"], row["third_party_score"]) == (
        Decimal("94"), Decimal("93.00"), Decimal("93.00"))
    assert row["stated_score_by"] == "第三方" and row["third_party_score_line"] == 463
    row0 = _report_row(S0)
    assert row0["third_party_score"] is None and row0["stated_score_by"] == "单位自评"


def test_third_party_report_findings_compare_like_with_like():
    fs = run_checks(parse_file(S4))
    assert not [f for f in fs if f.rule == "stated_score"]  # 93 quoted = 93 given by the third party
    (d,) = [f for f in fs if f.rule == "score_tables_disagree"]
    assert "单位自评" in d.message and "第三方" in d.message and "94" in d.message and "93" in d.message
    assert (d.expected, d.actual) == ("93", "94")


def test_a_misquoted_third_party_score_is_compared_with_the_third_party():
    text = S4.read_text("utf-8").replace("实得93.00分", "实得95.00分")
    (f,) = [f for f in run_checks(parse_text(text)) if f.rule == "stated_score"]
    assert (f.expected, f.actual) == ("93", "95")
    assert "第三方" in f.message


def test_a_self_evaluation_names_the_unit_as_scorer():
    (f,) = [f for f in run_checks(parse_file(S0)) if f.rule == "stated_score"]
    assert (f.expected, f.actual) == ("99.34", "99") and "单位自评" in f.message


def test_summary_score_gap_is_like_with_like(built):
    got = {r["report_id"]: r for r in query_rows(built.db, "select * from report_summary")}
    b = got[BEITA]
    assert (b["total_score"], b["third_party_score"], b["stated_score"]) == (94, 93, 93)
    assert b["score_gap"] == 0
    others = [r for k, r in got.items() if k != BEITA and r["stated_score"] is not None]
    assert others and all(r["score_gap"] == round(r["stated_score"] - r["total_score"], 2) for r in others)


async def test_report_page_says_who_scored_what(ds):
    page = (await ds.client.get("/report/" + urllib.parse.quote(BEITA))).text
    figures = page[page.index('id="figures"'):page.index('id="findings"')]
    assert "相差 -1" not in figures
    assert "第三方评价得分" in figures and "单位自评总分" in figures
