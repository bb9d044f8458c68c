"""Standalone forms (a 项目支出绩效自评表 or 部门整体支出绩效自评表 published without a narrative)
from six departments and provinces, measured field by field against hand-read gold
(fixtures/forms/gold.json); plus portal chrome and codes printed before names."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from jixiao import checks
from jixiao.parse import parse_file, parse_text

from .gold import Tally

FORMS = Path(__file__).resolve().parent / "fixtures" / "forms"
GOLD = {k: v for k, v in json.loads((FORMS / "gold.json").read_text("utf-8")).items() if not k.startswith("_")}
TARGET = 0.97


def compare_form(gold: dict, r) -> Tally:
    t = Tally()
    for f in ("unit_name", "report_kind"):
        t.check(f, gold[f], getattr(r, f))
    t.check("fiscal_year", gold["fiscal_year"], str(r.fiscal_year) if r.fiscal_year else None)
    t.count("evaluations", 1, len(r.evaluations))
    ev = r.evaluations[0] if r.evaluations else None
    for f in ("project_name", "department", "implementer", "money_unit"):
        t.check(f, gold[f], getattr(ev, f) if ev else None)
    row = ev.funds_total if ev else None
    for f, g in gold["funds"].items():
        t.check(f"funds.{f}", g, getattr(row, f) if row else None)
    inds = [i for i in (ev.indicators if ev else []) if not i.placeholder]
    t.count("indicators", len(gold["indicators"]), len(inds))
    for n, (g, i) in enumerate(zip(gold["indicators"], inds)):
        for f, gv in g.items():
            t.check(f"indicators[{n}].{f}", gv, getattr(i, f))
    t.check("total_weight", gold["total_weight"], ev.total_weight if ev else None)
    t.check("total_score", gold["total_score"], ev.total_score if ev else None)
    return t


@pytest.mark.parametrize("name", sorted(GOLD))
def test_form_matches_gold(name):
    tally = compare_form(GOLD[name], parse_file(FORMS / name))
    accuracy = 1 - len(tally.mismatches) / tally.checked
    print(f"{name}: {tally.checked - len(tally.mismatches)}/{tally.checked} fields ({accuracy:.1%})")
    assert accuracy >= TARGET, "\n".join(tally.mismatches)
    assert tally.mismatches == [], "\n".join(tally.mismatches)


def test_forms_accuracy_summary():
    checked = wrong = 0
    for name in sorted(GOLD):
        t = compare_form(GOLD[name], parse_file(FORMS / name))
        checked, wrong = checked + t.checked, wrong + len(t.mismatches)
    print(f"forms: {checked - wrong}/{checked} = {(checked - wrong) / checked:.2%}")
    assert checked > 400
    assert (checked - wrong) / checked >= TARGET


@pytest.mark.parametrize("name", sorted(GOLD))
def test_every_line_of_a_form_is_accounted_for(name):
    r = parse_file(FORMS / name)
    assert r.unparsed == [] and r.line_counts.get("unparsed", 0) == 0
    # A form has no narrative: its notes, chrome and template instructions are no sections.
    assert [s for s in r.sections if s.body.strip() or s.heading] == []
    assert not any(w.code in ("no_unit", "no_year", "row_not_understood") for w in r.warnings), r.warnings


def test_portal_chrome_is_never_the_unit_or_a_section():
    r = parse_file(FORMS / "ha_weijian_jibengongwei.txt")
    roles = {o.text[:6]: o.role for o in r.other_lines}
    for start in ("欢迎来到周口", "时效性: 有", "【打印本页】", "主办单位：周", "网站标识码："):
        assert roles[start] in ("front_matter", "artefact"), (start, roles)
    assert r.title == "周口市卫生健康委员会2023年度基本公共卫生服务项目支出绩效自评表"
    assert (r.province, r.city) == ("河南省", "周口市")


CHROME_REPORT = """欢迎访问某某县人民政府网站！
您现在的位置: 首页 > 信息公开 > 财政信息 > 某县财政局2023年度部门整体支出绩效自评报告
当前位置：首页>>政务公开>>预决算公开
时效性：有效  浏览次数：88  字号：【大 中 小】
索引号：113611230000xxxx/2024-00011
贵溪市财政局2023年度部门整体支出绩效自评报告
一、部门基本情况
贵溪市财政局内设机构8个，编制30人。
二、绩效自评情况
经自评，我局2023年度部门整体支出绩效自评得分95分。
打印本页 关闭窗口
Copyright © 2024 贵溪市人民政府 版权所有
网站标识码：3606810001 赣ICP备05004411号-1 赣公网安备36068102000123号
主办单位：贵溪市人民政府办公室 承办单位：贵溪市融媒体中心
"""


def test_chrome_around_a_narrative_report():
    r = parse_text(CHROME_REPORT)
    assert r.unit_name == "贵溪市财政局" and r.fiscal_year == 2023 and r.report_kind == "自评报告"
    assert r.title == "贵溪市财政局2023年度部门整体支出绩效自评报告"
    bodies = " ".join(s.heading + s.body for s in r.sections)
    for chrome in ("欢迎", "位置", "时效性", "打印", "版权", "标识码", "主办", "索引号"):
        assert chrome not in bodies
    assert [s.heading for s in r.sections if s.level == 1] == ["部门基本情况", "绩效自评情况"]
    assert r.line_counts.get("front_matter", 0) == 5 and r.line_counts.get("artefact", 0) == 4


def test_codes_before_names_are_dropped_and_kept_in_the_cells():
    r = parse_file(FORMS / "sc_jiaoyu_xueshengzizhu.txt")
    ev = r.evaluations[0]
    assert (ev.project_name, ev.implementer) == ("学生资助补助经费", "仪陇县教育局")
    cells = [c for t in r.tables for row in t.rows for c in row]
    assert "51000023R000000104512-学生资助补助经费" in cells and "305001-仪陇县教育局" in cells
    ind = ev.indicators[0]
    assert ind.extra == {"nature": "≥", "measure_unit": "人次"}
    assert (ind.target.op, ind.target.number, ind.target.unit) == ("≥", 11000, "人次")


def test_form_report_ids_name_the_project():
    a = parse_file(FORMS / "jx_jiaotong_nongcungonglu.txt")
    b = parse_file(FORMS / "cq_minzheng_zhengti.txt")
    assert a.report_id == "2023-于都县农村公路事业发展中心-农村公路养护工程"
    assert b.report_id == "2023-重庆市渝北区民政局-整体支出自评表"


def test_form_total_score_and_disclosure():
    r = parse_file(FORMS / "cq_minzheng_zhengti.txt")
    found = {f.rule for f in checks.run_checks(r)}
    assert "total_score_sum" in found  # 99.71 printed, rows add to 98.71
    p = parse_file(FORMS / "ha_weijian_jibengongwei.txt")
    rules = {f.rule for f in checks.run_checks(p)}
    assert "project_not_in_basic_data" not in rules  # no 基础数据表 to compare with
    score, missing = checks.disclosure(p)
    assert score == 100 and missing == []


@pytest.mark.parametrize("text,topic", [
    ("家庭经济困难学生资助覆盖率", "学生资助覆盖率"), ("资助学生人数", "学生资助人数"), ("居民电子健康档案建档率", "健康档案建档率"),
    ("适龄儿童国家免疫规划疫苗接种率", "预防接种"), ("健康教育宣传活动次数", "基本公共卫生服务"), ("小型水库维修养护座数", "小型水库"),
    ("农业水价综合改革面积", "农业水价改革"), ("新增有效灌溉面积", "灌溉面积"), ("新建高标准农田面积", "高标准农田"),
    ("农村公路优良路率", "农村公路优良路率"), ("农村公路日常养护里程", "农村公路养护"), ("特困人员救助供养人数", "特困供养"),
    ("城乡低保救助人数", "社会救助人数"), ("救助资金发放及时率", "资金发放及时率"), ("生活垃圾清运率", "环境卫生"),
    ("路灯亮灯率", "市政设施"), ("网格化管理覆盖率", "基层治理"), ("农村改厕户数", "人居环境"),
    ("人民调解成功率", "调解成功率"), ("法律援助案件数", "法律援助案件数"),
])
def test_topics_beyond_sifa(text, topic):
    from jixiao.indicators import topic_of_text

    assert topic_of_text(text) == topic


def _tika(rows: list[list[str]]) -> str:
    return "".join("".join(f"\t{c}\n" for c in row) + "\n" for row in rows)


def test_year_from_a_header_cell_and_unit_from_a_filing_line():
    text = "城区道路清扫保洁项目绩效自评表\n" + _tika([
        ["项目名称", "城区道路清扫保洁"],
        ["主管部门", "", "实施单位", ""],
        ["项目资金（万元）", "", "2023年度年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
        ["", "年度资金总额", "560", "560", "548.8", "10", "98%", "9.8"],
        ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"],
        ["产出指标", "数量指标", "道路清扫保洁面积", "≥320万平方米", "326万平方米", "40", "40", ""],
        ["满意度指标", "服务对象满意度指标", "市民满意度", "≥90%", "91%", "50", "50", ""],
        ["总分", "100", "99.8", ""],
    ]) + "\n填报单位（盖章）：鹰潭市城市管理局    填报日期：2024年3月8日\n"
    r = parse_text(text)
    assert (r.unit_name, r.fiscal_year, r.report_kind) == ("鹰潭市城市管理局", 2023, "项目支出绩效自评表")
    assert str(r.evaluations[0].total_score.number) == "99.8" and r.city == "鹰潭市"
    assert r.sections == [] or all(not s.body for s in r.sections)
