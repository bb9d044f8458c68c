"""Text layouts that lose Tika's row breaks (jixiao.parse.regrid): one cell per line ending in
' |', one cell per blank-separated line (a web page copied as text), one row per line with
space-separated cells. Each must give the model the Tika text gives; narrative never becomes a
table. Fixtures: tests/formats/make_flat.py."""
from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest

from jixiao.model import TableBlock
from jixiao.parse import parse_bytes, parse_text, regrid
from jixiao.parse.tika import read_tika
from tests.formats.goldcheck import measure, sample_of

FLAT = Path(__file__).resolve().parent / "fixtures" / "formats" / "flat"
FIXTURES = sorted(p.name for p in FLAT.glob("*.txt"))
# What each layout reaches on the five samples (checked fields right / checked).
# spaced: 000's 其中：公车购置 has one amount of three and nothing says which column it was in.
FLOOR = {"pipe": 1.0, "web": 1.0, "spaced": 0.99}


def test_every_sample_has_each_layout():
    assert len(FIXTURES) == 15


@pytest.mark.parametrize("name", FIXTURES)
def test_gold_accuracy_and_every_line_placed(name):
    report = parse_bytes((FLAT / name).read_bytes(), source=name)
    t = measure(report, sample_of(name))
    right = t.checked - len(t.mismatches)
    print(f"{name}: {right}/{t.checked} = {100 * right / t.checked:.1f} %, unparsed lines {len(report.unparsed)}")
    assert right / t.checked >= FLOOR[name.split(".")[1]], t.mismatches
    assert report.line_counts.get("unparsed", 0) == 0


def _tables(text):
    return [b for b in read_tika(text).blocks if isinstance(b, TableBlock)]


HEAD = "某某县司法局2024年度部门整体支出绩效自评报告\n一、基本情况\n本局编制20人。\n附件2\n2024年度部门整体支出绩效自评表\n"
PIPE = HEAD + "\n".join(x + " |" if x else "|" for x in [
    "预算部门名称", "某某县司法局",
    "年度预算申请（万元）", "", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分",
    "", "年度资金总额", "100", "120", "108", "10", "90%", "9",
    "年度总体目标", "预期目标", "实际完成情况", "", "完成普法", "已完成",
    "绩效指标", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因",
    "", "产出指标", "数量指标", "普法场次", "≥20场", "25场", "20", "20", "",
    "", "", "质量指标", "调解成功率", "≥95%", "96%", "20", "18", "个别案件未成功",
    "总分", "100", "97"]) + "\n"


def test_pipe_rows_are_inferred_from_the_header():
    (t,) = _tables(PIPE)
    assert [len(r.cells) for r in t.rows] == [2, 8, 8, 3, 3, 9, 9, 9, 3]
    r = parse_text(PIPE)
    ev = r.overall
    assert ev.unit_cell == "某某县司法局" and ev.funds_total.execution_rate.number == 90
    assert [(i.level1, i.level2, i.level3, i.score.number) for i in ev.indicators] == [
        ("产出指标", "数量指标", "普法场次", 20), ("产出指标", "质量指标", "调解成功率", 18)]
    assert ev.indicators[1].note == "个别案件未成功"
    assert (ev.total_weight.number, ev.total_score.number) == (100, 97)
    assert r.line_counts.get("unparsed", 0) == 0


def test_pipe_runs_of_empty_cells():
    text = PIPE.replace("个别案件未成功 |\n", "|\n").replace("|\n|\n质量指标", "||\n质量指标")
    (t,) = _tables(text)
    assert [len(r.cells) for r in t.rows] == [2, 8, 8, 3, 3, 9, 9, 9, 3]
    assert t.rows[7].cells[1].line == t.rows[7].cells[0].line  # both empties come from one '||' line


def test_web_cells_split_labels_and_nbsp():
    cells = [x.replace("一级指标", "一级\n指标").replace("产出指标", "产出\n指标") or "&nbsp;"
             for x in PIPE[len(HEAD):].replace(" |", "").replace("|", "").split("\n")[:-1]]
    text = HEAD + "\n" + "".join(c + "\n\n" for c in cells).replace("&nbsp;\n\n", "\xa0\n\n", 2) + "二、说明\n正文。\n"
    r = parse_text(text)
    ev = r.overall
    assert [(i.level1, i.level3, i.target.clean) for i in ev.indicators] == [
        ("产出指标", "普法场次", "≥20场"), ("产出指标", "调解成功率", "≥95%")]
    assert ev.total_score.number == 97 and r.line_counts.get("unparsed", 0) == 0
    assert any(s.heading == "说明" for s in r.sections)  # the paragraph after the table stays narrative


SPACED = HEAD + """  预算部门名称  某某县司法局
年度预算申请（万元）  年初预算数  全年预算数  全年执行数  分值  执行率  得分
  年度资金总额　100　120　108　10　90%　9
  其中：当年财政拨款  100  120  108
绩效指标  一级指标  二级指标  三级指标  年度指标值  实际完成值  分值  得分  偏差原因
  产出指标    数量指标    普法场次    ≥20场    25场    20    20
      (40分)
  质量指标  调解成功率  ≥95%  96%  20  18  个别案件未成功
  效益指标  社会效益指标  指标2：
  ……
总分  100  97

二、说明
正文 20  30 处理了 40  件。
"""


def test_spaced_rows_fields_go_to_their_columns():
    r = parse_text(SPACED)
    ev = r.overall
    f = ev.funds[1]
    assert (f.initial_budget.number, f.full_year_budget.number, f.executed.number, f.execution_rate.clean) == (
        100, 120, 108, "")
    real = [i for i in ev.indicators if not i.placeholder]
    assert [(i.level1, i.level2, i.level3, i.target.clean, i.actual.clean, i.weight.number, i.score.number, i.note)
            for i in real] == [
        ("产出指标(40分)", "数量指标", "普法场次", "≥20场", "25场", 20, 20, ""),
        ("产出指标(40分)", "质量指标", "调解成功率", "≥95%", "96%", 20, 18, "个别案件未成功")]
    placeholder = [i for i in ev.indicators if i.placeholder][0]
    assert (placeholder.level1, placeholder.level2, placeholder.level3) == ("效益指标", "社会效益指标", "指标2：")
    assert (ev.total_weight.number, ev.total_score.number) == (100, 97)
    assert r.line_counts.get("unparsed", 0) == 0
    assert "正文 20  30 处理了 40  件。" in r.sections[-1].body


def test_basic_data_amounts_by_their_pattern():
    text = HEAD + """财政供养人员情况  编制数  2024年实际在职人数  控制率
  20  19  95%
经费控制情况（万元）  2023年决算数  2024年预算数  2024年决算数
三公经费  4.36  1.64
  1、公务用车购置和维护经费  2  2
  2、出国经费  0  0  0
"""
    rows = {e.key: e for e in parse_text(text).expense_controls}
    t = rows["three_public_total"]  # two different amounts: 上年决算 and 本年决算
    assert (t.prev_final.number, t.budget.clean, t.final.number) == (Decimal("4.36"), "", Decimal("1.64"))
    v = rows["vehicles"]  # two equal ones: 预算 = 决算
    assert (v.prev_final.clean, v.budget.number, v.final.number) == ("", 2, 2)


NARRATIVE = """某某县司法局2024年度部门整体支出绩效自评报告
一、基本情况
全年预算数  120 万元，全年执行数  108 万元，执行率  90%，得分  9 分。
分值  10  得分  9  一级指标  产出  二级指标  数量

年初预算数

全年预算数

全年执行数

二、绩效情况
本年预算数 100 本年决算数 98 上年决算数 97，三公经费 1.2 万元。
"""


def test_narrative_with_spaced_numbers_is_never_a_table():
    blocks = read_tika(NARRATIVE).blocks
    assert not [b for b in blocks if isinstance(b, TableBlock)]
    r = parse_text(NARRATIVE)
    assert not r.tables and r.line_counts.get("unparsed", 0) == 0


@pytest.mark.parametrize("line", [
    " " * 24000, "a" + " " * 24000 + "b", "\u3000" * 24000 + "x", " |" * 12000, "|" * 24000,
    "x " * 12000 + "|", ("一级指标" + " " * 3) * 3000, "\xa0" * 24000,
])
def test_long_lines_do_not_stall(line):
    text = "某某县司法局2024年度部门整体支出绩效自评报告\n" + line + "\n" + line + "\n\n" + line + "\n"
    t0 = time.perf_counter()
    read_tika(text)
    regrid.stream_rows([line[:200]] * 50)
    assert time.perf_counter() - t0 < 2.0


def test_tika_layout_untouched_by_pipe_rows():
    """A ' |' table whose rows are closed by blank lines keeps its rows as written."""
    text = HEAD + "经费控制情况 |\n上年决算数 |\n本年预算数 |\n本年决算数 |\n\n三公经费 |\n1 |\n2 |\n3 |\n\n"
    (t,) = _tables(text)
    assert [len(r.cells) for r in t.rows] == [4, 4]
