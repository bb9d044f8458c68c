"""Indicator verdicts (达成 / 未达成 / 无法判断) with their reasons, the lost-points flag and the
normalised groups (level1/level2 without the (N分) suffix), on real rows of the five samples."""
from __future__ import annotations

import dataclasses
import functools
import re
from decimal import Decimal
from pathlib import Path

import pytest

from jixiao import rows, schema
from jixiao.parse import parse_file

REPORTS = Path(__file__).resolve().parents[1] / "reports"
B24 = "000_b20a9b01b0d85700.txt"  # 2024-岳阳市司法局
LS = "001_7a3827d77ccb6050.txt"  # 2023-株洲市芦淞区司法局
FY = "002_8bb91333aa9035c9.txt"  # 2023-岳阳市法律援助中心
HH = "003_59381bf72cd59194.txt"  # 2024-怀化市司法局
BT = "004_44f1ae10bd884054.txt"  # 2022-邵阳市北塔区司法局（第三方）
VERDICTS = ("达成", "未达成", "无法判断")


@functools.lru_cache(maxsize=None)
def _report(name):
    return parse_file(REPORTS / name)


@functools.lru_cache(maxsize=None)
def _rows(name):
    return rows.indicators_rows(_report(name))


def _row(name, level3, ev=None):
    """The indicator row whose printed 三级指标 is ``level3`` (in evaluation ``ev`` when given)."""
    found = [r for r in _rows(name) if r["level3"] == level3 and (ev is None or r["evaluation_id"].endswith(f"-{ev}"))]
    assert found, f"{name}: no row {level3!r}"
    return found[0]


def _all_rows():
    return [r for p in sorted(REPORTS.glob("*.txt")) for r in _rows(p.name)]


# ---------------------------------------------------------------- the two rows named in the issue


def test_lower_is_better_rate_is_met():
    r = _row(BT, "指标1：法律援助案件有效投诉发生率（≤，%）")
    assert (r["target"], r["actual"], r["weight"], r["score"]) == ("5%", "0%", Decimal("10"), Decimal("10"))
    assert r["verdict"] == "达成" and r["target_met"] is True
    assert r["target_op"] == "≤"
    assert "≤" in r["verdict_reason"]
    assert r["lost_points"] is False


def test_cost_cap_is_met():
    r = _row(HH, "成本控制数")
    assert (r["target"], r["actual"]) == ("1971.59", "1922.75")
    assert r["verdict"] == "达成" and r["target_met"] is True and r["target_op"] == "≤"
    assert "成本" in r["verdict_reason"]
    assert r["lost_points"] is False


def test_cost_over_cap_is_not_met_even_with_full_marks():
    r = _row(LS, "基本支出")  # 成本指标: 494.83 budgeted, 599.32 spent, 20/20
    assert r["verdict"] == "未达成" and r["target_met"] is False and r["target_op"] == "≤"
    assert r["lost_points"] is False


def _variant(name, of, **changes):
    """The real indicator ``of`` from a sample with some cells changed (to test one rule in isolation)."""
    ind = next(i for ev in _report(name).evaluations for i in ev.indicators if i.level3 == of)
    from jixiao.parse.values import parse_value
    cells = {k: parse_value(v) if k in ("target", "actual", "weight", "score") else v for k, v in changes.items()}
    return dataclasses.replace(ind, **cells)


def test_name_says_lower_is_better():
    from jixiao.verdicts import verdict
    # the same row without the (≤，%) hint in its name: 投诉/发生 says lower is better
    ind = _variant(BT, "指标1：法律援助案件有效投诉发生率（≤，%）", level3="法律援助案件有效投诉发生率")
    v = verdict(ind)
    assert v.verdict == "达成" and v.target.op == "≤" and "越低越好" in v.reason
    assert verdict(dataclasses.replace(ind, actual=_variant(BT, "指标1：法律援助案件有效投诉发生率（≤，%）",
                                                            actual="6%").actual)).verdict == "未达成"


@pytest.mark.parametrize("target", ["≤5%", "不高于5%", "不超过5%", "5%以内", "控制在5%", "低于5%"])
def test_direction_words(target):
    from jixiao.verdicts import verdict
    ind = _variant(BT, "指标1：法律援助案件有效投诉发生率（≤，%）", level3="案件办理周期", target=target, actual="3%")
    v = verdict(ind)
    assert v.verdict == "达成", (target, v)
    assert verdict(dataclasses.replace(ind, actual=_variant(BT, "社区服刑人员个案矫正率（≥，%）", actual="6%").actual)).verdict == "未达成"


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    "name, level3, verdict, lost",
    [
        (LS, "法律援助案件", "达成", False),  # 400件 → 671件
        (LS, "法律援助案卷审核合格率", "未达成", True),  # 100% → 95%, 7/8
        (LS, "满意度", "未达成", True),  # ≥95% → 90%, 8/10
        (LS, "人民调解组织调解成功率", "达成", False),  # 95% → 96.8%
        (FY, "咨询人次", "达成", False),  # 2000人次 → 3600余人次
        (FY, "案件指派时间", "达成", False),  # 3个工作日内 → 均在3日内
        (BT, "年终预算执行率", "未达成", True),  # 100% → 10.36%, 3/10
        (BT, "法律援助办理案件数量（≥，件）", "达成", False),
        (B24, "社区矫正对象无脱管漏管", "达成", None),  # 脱管漏管0 → 0; 分值 酌情扣分
        (HH, "完成及时率", "达成", False),  # 2024年12月之前完成
        (HH, "全市行政执行人员培训", "达成", False),  # 1000 → 1000
    ],
)
def test_numeric_verdicts(name, level3, verdict, lost):
    r = _row(name, level3)
    assert (r["verdict"], r["lost_points"]) == (verdict, lost), r
    assert r["target_met"] is (verdict == "达成")
    assert r["verdict_reason"]


# ---------------------------------------------------------------- words


@pytest.mark.parametrize(
    "name, level3, ev, verdict, reason",
    [
        (LS, "普法治理", None, "达成", "已完成"),  # 做好普法依法治理工作 → 已完成
        (B24, "不超过年初预算", None, "达成", "未超"),  # 控制在预算之内 → 未超标准
        (FY, "反向促进经济发展", None, "达成", "相同"),  # 经济平稳发展 → 经济平稳发展
        (FY, "对社会发展可能造成的负影响", None, "达成", "无"),  # 无 → 无负面影响
        (FY, "办案补贴/值班补贴标准", None, "达成", "符合"),  # …确定 → 符合文件标准
        (B24, "化解社会矛盾", None, "达成", "有效"),  # 有效预防化解社会矛盾纠纷 → 有效化解
        (B24, "群众法律意识提升", None, "达成", "稳定增长"),
        (HH, "助力优化法治化营商环境", None, "达成", "良好"),  # 良好 → 良好
        (HH, "法律援助应援尽援、确保社会和谐稳定、营造良好的法治环境", None, "达成", "效果显著"),  # 效果明显 → 效果显著
        (BT, "人民群众对机关履职评价及工作评价满意度:", None, "达成", "满意"),  # 基本满意 → 满意
        (BT, "工作开展时间", None, "达成", "按规定时间完成"),  # 2022年度 → 按规定时间完成工作
        (BT, "相关政策要求", None, "达成", "100%"),  # 完成政策要求 → 100%
    ],
)
def test_text_targets_judged(name, level3, ev, verdict, reason):
    r = _row(name, level3, ev)
    assert r["verdict"] == verdict, r
    assert reason in r["verdict_reason"], r["verdict_reason"]


@pytest.mark.parametrize(
    "name, level3, reason",
    [
        (FY, "法律援助案件质量", "评分等级"),  # 优秀，良好，合格，不合格 → 平均达良好
        (FY, "受援人、咨询人满意程度", "目标的写法"),  # ≥95% → ≥95%
        (B24, "经济成本", "目标的写法"),  # 预算控制数 → ≤预算控制数
        (HH, "持续发挥法治引领作用、推进依法治市", "不同的等级"),  # 效果显著 → 效果良好
        (BT, "建立健全相关政策", "基本"),  # 长期 → 基本达成预期指标
        (BT, "部门支出成本", "单位"),  # 预算经费 → 100%
        (BT, "政府采购执行率", "缺失"),  # 第三方评分表: no target, no actual
    ],
)
def test_cannot_judge_says_why(name, level3, reason):
    r = _row(name, level3)
    assert r["verdict"] == "无法判断" and r["target_met"] is None, r
    assert reason in r["verdict_reason"], r["verdict_reason"]


def test_shifted_rows_are_realigned():
    # 社会效益指标 | 效果显著 | 达到一定效果 | 10 | 9 | 按90%折算计分: the 三级指标 is missing, the
    # row is shifted one cell left. Target 效果显著, actual 达到一定效果, 9 of 10 points.
    r = _row(BT, "效果显著")
    assert r["verdict"] == "未达成" and "错位" in r["verdict_reason"]
    assert r["lost_points"] is True
    # 服务对象满意度达到95%以上 | 受援人满意率100% | 100% | 酌情扣分: shifted one cell right
    r = _row(B24, "受援人满意率100%", ev=1)
    assert r["verdict"] == "达成" and "错位" in r["verdict_reason"]


# ---------------------------------------------------------------- lost points and coverage


def test_lost_points_flag():
    lost = {(r["report_id"], r["level3"]) for r in _all_rows() if r["lost_points"]}
    assert ("2022-邵阳市北塔区司法局-第三方", "政府采购执行率") in lost  # 0 of 2, third-party table
    assert ("2022-邵阳市北塔区司法局-第三方", "退役军人满意度") in lost  # 基本满意 met, 9 of 10
    assert ("2023-岳阳市法律援助中心", "法律援助案件质量") in lost
    for r in _all_rows():
        if r["weight"] is not None and r["score"] is not None:
            assert r["lost_points"] is (r["score"] < r["weight"]), r
    assert _row(BT, "退役军人满意度")["verdict"] == "达成"  # met, yet points lost: the two are separate


def test_every_row_has_a_verdict_and_a_reason():
    all_rows = _all_rows()
    for r in all_rows:
        assert r["verdict"] in VERDICTS, r
        assert r["verdict_reason"], r
        assert r["target_met"] is {"达成": True, "未达成": False, "无法判断": None}[r["verdict"]]
    placeholders = [r for r in all_rows if r["placeholder"]]
    assert placeholders and all(r["verdict"] == "无法判断" and "空行" in r["verdict_reason"] for r in placeholders)
    with_cells = [r for r in all_rows if r["target"] or r["actual"]]
    judged = [r for r in with_cells if r["verdict"] != "无法判断"]
    assert len(judged) / len(with_cells) >= 0.85


# ---------------------------------------------------------------- groups


def test_groups_drop_the_points_suffix():
    r = _row(BT, "法律援助办理案件数量（≥，件）")
    assert (r["level1"], r["level1_text"], r["level1_weight"]) == ("产出指标", "产出指标(50分)", Decimal("50"))
    r = _row(BT, "指标2：人民群众遵纪守法观念")
    assert (r["level1"], r["level1_text"], r["level1_weight"]) == ("效益指标", "效益指标（30分）", Decimal("30"))
    r = _row(BT, "政府采购执行率")
    assert (r["level1"], r["level1_weight"], r["level2"], r["level2_text"], r["level2_weight"]) == (
        "过程", Decimal("25"), "预算执行", "预算执行（10分）", Decimal("10"))
    r = _row(HH, "成本控制数")
    assert (r["level1"], r["level1_text"], r["level1_weight"]) == ("成本指标", "成本指标", None)
    suffix = re.compile(r"[（(]\s*\d+(?:\.\d+)?\s*分\s*[)）]")
    for r in _all_rows():
        assert not suffix.search(r["level1"] or ""), r["level1"]
        assert not suffix.search(r["level2"] or ""), r["level2"]
    # 产出指标(50分) and 产出指标（40分） are one facet value
    assert {r["level1"] for r in _all_rows()} >= {"产出指标", "效益指标", "满意度指标", "成本指标", "投入", "过程"}
    assert not any("产出指标" in (r["level1"] or "") and r["level1"] != "产出指标" for r in _all_rows())


def test_schema_declares_the_new_columns():
    t = schema.table("indicators")
    names = set(t.field_names)
    assert {"verdict", "verdict_reason", "lost_points", "level1_text", "level1_weight", "level2_text",
            "level2_weight"} <= names
    f = next(f for f in t.fields if f.name == "verdict")
    assert f.enum == VERDICTS and f.facet
    assert set(_all_rows()[0]) == names
