"""Held-out standalone forms: twelve 自评表 of twelve departments and provinces, eight layouts.

The forms in tests/fixtures/heldout/ (written by tests/fixtures/heldout/make_heldout.py) were
written blind — before reading the parser, its vocabulary or the forms in tests/fixtures/forms/
it had been tuned to — with hand-made gold (gold.json): identity, the funds total row, every
real indicator row (template rows 指标2： / …… left out) with its note, the totals. Fields are
compared as tests/gold.py compares the samples (plain numbers as numbers, else printed text).
Batch 1 (eight forms, one per layout) was measured first; batch 2 (four forms with the rarer
variants: Sichuan columns, codes before names, ASCII punctuation, a 自评等级 row, 元 in spaced
text) was written after that measurement, still before reading the parser.

First measurement, before any fix (checked fields right / checked):

    batch 1                                                 first run   gold aligned*
    hb_jingmen_fgw.txt      a  Tika text                    86/86       86/86
    gd_baiyun_cgj.txt       b  one cell per line ' |'       85/86       86/86
    sd_shenxian_scjg.txt    c  web-copied cells (整体)       86/86       86/86
    gs_lintao_tyjr.docx     d  .docx, amounts in 元          70/70       70/70
    zj_linping_wglt.html    e  portal page                  70/70       70/70
    hlj_huanan_lcj.xlsx     f  .xlsx (openpyxl)             0/85 **     86/86
    fj_gulou_dongjie.pdf    g  LibreOffice PDF              70/70       70/70
    gx_tiandong_ybj.txt     h  space-separated              78/78       78/78
    batch 1                                                 545/631 = 86.4 %  (545/546 = 99.8 % readable)
    batch 2
    sc_cangxi_slj.txt       a  Tika, Sichuan columns        54/70       68/70
    nm_kyqq_wjw.txt         b  ' |', ASCII, 自评等级 row      77/78       77/78
    js_shuyang_nyj.docx     d  .docx (整体)                  102/102     102/102
    hb_weixian_zjj.txt      h  spaced, 元                    78/78       78/78
    all twelve                                              856/959 = 89.3 %   957/960 = 99.7 %

  *  Two of my gold conventions differed from the project's declared ones
     (tests/fixtures/forms/gold.json _notes): unit_name is the 实施单位 when it differs from
     the 主管部门 (I had taken the 主管部门), and 指标性质 + 指标值 + 度量单位 read as one target
     (≥36座; I had taken the bare 指标值). The gold now follows the project's conventions.
  ** jixiao.read.sheet did not exist yet (another engineer's reader, landed during the work).

Failures found (all fixed): a note under a form running on into a numbered '3.…' line made the
form a narrative report (report_kind 自评报告, no total_score); a 自评等级 | 优 row under 总分
became an indicator; beyond the gold: '其中：基本支出 | 1263.28 | …' rows of an overall form were
taken for by-nature pairs (one with an empty value, the next row not understood); notes after a
' |' form or a web-copied form were swallowed into the table (false truncated_table warnings);
a '[302]' department code was not stripped. After the fixes: 960/960.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from jixiao.parse import parse_file
from tests.gold import Tally

HELDOUT = Path(__file__).resolve().parent / "fixtures" / "heldout"
GOLD = json.loads((HELDOUT / "gold.json").read_text("utf-8"))

# What each form reaches now (checked fields right / checked); a drop is a regression.
FLOOR = {name: 1.0 for name in GOLD}

IND_FIELDS = ("level1", "level2", "level3", "target", "actual", "weight", "score")


def measure(name: str, path: Path | None = None) -> Tally:
    """The form ``name`` (or ``path``: the same form in another format) against its blind gold."""
    g = GOLD[name]
    t = Tally()
    try:
        r = parse_file(path or HELDOUT / name)
    except Exception as exc:  # a form that cannot be read scores nothing
        n = 8 + 4 + 1 + len(g["indicators"]) * (len(IND_FIELDS) + 1)
        t.checked = n
        t.mismatches = [f"parse failed: {type(exc).__name__}: {exc}"] * n
        return t
    t.check("unit_name", g["unit_name"], r.unit_name)
    t.check("fiscal_year", str(g["fiscal_year"]), str(r.fiscal_year) if r.fiscal_year else None)
    t.check("report_kind", g["report_kind"], r.report_kind)
    evs = [e for e in r.evaluations if e.kind == g["evaluation_kind"]]
    ev = evs[0] if evs else (r.evaluations[0] if r.evaluations else None)
    t.check("evaluation.kind", g["evaluation_kind"], ev.kind if ev else None)
    t.count("evaluations", 1, len(r.evaluations))
    t.check("project_name", g["project_name"], ev.project_name if ev else None)
    row = ev.funds_total if ev else None
    for f, gv in g["funds"].items():
        t.check(f"funds.{f}", gv, getattr(row, f) if row else None)
    real = [i for i in (ev.indicators if ev else []) if not i.placeholder]
    t.count("indicators", len(g["indicators"]), len(real))
    for n, gi in enumerate(g["indicators"]):
        i = real[n] if n < len(real) else None
        for f in IND_FIELDS:
            t.check(f"indicators[{n}].{f}", gi[f], getattr(i, f) if i else None)
        t.check(f"indicators[{n}].note", gi["note"] or None, i.note if i else None)
    t.check("total_weight", g["total_weight"], ev.total_weight if ev else None)
    t.check("total_score", g["total_score"], ev.total_score if ev else None)
    t.check("report.total_score", g["total_score"], r.total_score)
    return t


@pytest.mark.parametrize("name", sorted(GOLD))
def test_heldout_form(name):
    t = measure(name)
    right = t.checked - len(t.mismatches)
    print(f"{name}: {right}/{t.checked} = {100 * right / t.checked:.1f} %")
    for m in t.mismatches[:40]:
        print("   ", m)
    assert right / t.checked >= FLOOR[name], t.mismatches


def test_heldout_summary():
    right = checked = 0
    for name in sorted(GOLD):
        t = measure(name)
        checked += t.checked
        right += t.checked - len(t.mismatches)
        print(f"{name:26s} {GOLD[name]['format']:7s} {t.checked - len(t.mismatches):4d}/{t.checked:<4d}"
              f" {100 * (t.checked - len(t.mismatches)) / t.checked:5.1f} %")
    print(f"{'all':34s} {right:4d}/{checked:<4d} {100 * right / checked:5.1f} %")


@pytest.mark.parametrize("name", sorted(GOLD))
def test_heldout_form_is_read_cleanly(name):
    """No row left not understood, no false truncation, every line placed."""
    r = parse_file(HELDOUT / name)
    codes = {w.code for w in r.warnings}
    assert not codes & {"row_not_understood", "truncated_table", "row_width", "no_indicator_header"}, r.warnings
    assert r.line_counts.get("unparsed", 0) == 0


def test_overall_funds_rows_by_expenditure_nature():
    """'其中：基本支出 | 1263.28 | …' is a funds row, not a label：value pair."""
    ev = parse_file(HELDOUT / "sd_shenxian_scjg.txt").overall
    assert [(f.label, f.executed.clean) for f in ev.funds] == [
        ("年度资金总额", "1651.09"), ("基本支出", "1298.45"), ("项目支出", "352.64")]
    assert not ev.by_nature


def test_notes_under_forms_stay_notes():
    for name in ("sc_cangxi_slj.txt", "gd_baiyun_cgj.txt", "sd_shenxian_scjg.txt", "nm_kyqq_wjw.txt"):
        r = parse_file(HELDOUT / name)
        assert not [s for s in r.sections if s.level > 0], name
        last = r.tables[0].rows[-1]
        assert last[0] in ("总分", "总  分", "自评等级"), (name, last)


def test_bracketed_department_code():
    from jixiao.parse.identity import strip_code

    assert strip_code("[302]苍溪县水利局") == ("苍溪县水利局", "302")
