"""measure / compare / topic on cell texts from the samples."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from jixiao.indicators import compare, indicator_measures, measure, topic
from jixiao.parse import parse_file

REPORTS = Path(__file__).resolve().parents[1] / "reports"


@pytest.mark.parametrize(
    "text, op, value, unit, qualifier",
    [
        ("≥95%", "≥", "95", "%", None),
        ("400件", None, "400", "件", None),
        ("3600余人次", None, "3600", "人次", "余"),
        ("接到申请3个工作日内", "≤", "3", "个工作日", "内"),
        ("100%", None, "100", "%", None),
        ("脱管漏管0", None, "0", None, None),
        ("2024年12月之前完成", "≤", "202412", "年月", None),
        ("近12000余人次", None, "12000", "人次", "近余"),
        ("一万余次", None, "10000", "次", "余"),
        ("服务对象满意度达到95%以上", "≥", "95", "%", "以上"),
        ("　1000", None, "1000", None, None),
        ("≥80", "≥", "80", None, None),
        ("10.36%", None, "10.36", "%", None),
    ],
)
def test_measure_numbers(text, op, value, unit, qualifier):
    m = measure(text)
    assert (m.op, m.value, m.unit, m.qualifier) == (op, Decimal(value), unit, qualifier)


@pytest.mark.parametrize("text, op", [("≤预算控制数", "≤"), ("不超过年初预算", "≤"), ("有效预防化解社会矛盾纠纷", None), ("", None)])
def test_measure_keeps_text(text, op):
    m = measure(text)
    assert m.value is None and m.op == op and m.text == text


def test_compare_directions():
    assert compare(measure("≥95%"), measure("90%")) == (Decimal("90") / Decimal("95"), False)
    assert compare(measure("400件"), measure("671件"))[1] is True
    assert compare(measure("≤5%"), measure("0%"))[1] is True
    assert compare(measure("≤5%"), measure("6%"))[1] is False
    assert compare(measure("脱管漏管0"), measure("脱管漏管0")) == (None, True)
    assert compare(measure("脱管漏管0"), measure("脱管1人"))[1] is False
    assert compare(measure("接到申请3个工作日内"), measure("均在3日内"))[1] is True
    assert compare(measure("2024年12月之前完成"), measure("2024年12月之前完成"))[1] is True
    assert compare(measure("基本满意"), measure("满意")) == (None, True)
    assert compare(measure("满意"), measure("基本满意")) == (None, False)


def test_compare_not_comparable():
    assert compare(measure("≥95%"), measure("≥95%")) == (None, None)  # actual written as a target
    assert compare(measure("400件"), measure("90%")) == (None, None)
    assert compare(measure("优秀，良好，合格，不合格"), measure("平均达良好")) == (None, None)
    assert compare(measure("得到保障"), measure("得到保障")) == (None, None)


def _ind(report, level3):
    return next(i for ev in report.evaluations for i in ev.indicators if i.level3 == level3)


def test_indicator_hints_from_name():
    r = parse_file(REPORTS / "004_44f1ae10bd884054.txt")
    t, a = indicator_measures(_ind(r, "指标1：法律援助案件有效投诉发生率（≤，%）"))
    assert (t.op, t.value, a.value) == ("≤", Decimal("5"), Decimal("0")) and compare(t, a)[1] is True
    r1 = parse_file(REPORTS / "001_7a3827d77ccb6050.txt")
    t, a = indicator_measures(_ind(r1, "基本支出"))  # a cost target is a ceiling
    assert t.op == "≤" and compare(t, a)[1] is False


def test_topics_on_samples():
    r = parse_file(REPORTS / "000_b20a9b01b0d85700.txt")
    assert topic(_ind(r, "社区矫正对象无脱管漏管")) == "社区矫正脱管"
    r2 = parse_file(REPORTS / "002_8bb91333aa9035c9.txt")
    assert topic(_ind(r2, "法律援助案件数量")) == "法律援助案件数"
    assert topic(_ind(r2, "受援人、咨询人满意程度")) == "满意度"
    r1 = parse_file(REPORTS / "001_7a3827d77ccb6050.txt")
    assert topic(_ind(r1, "人民调解组织调解成功率")) == "调解成功率"
    r3 = parse_file(REPORTS / "003_59381bf72cd59194.txt")
    assert topic(_ind(r3, "完成行政复议案件")) == "行政复议案件数"


def test_topic_coverage_on_samples():
    rows = [i for p in sorted(REPORTS.glob("*.txt")) for ev in parse_file(p).evaluations for i in ev.indicators if not i.placeholder]
    with_topic = [i for i in rows if topic(i)]
    assert len(rows) >= 80
    assert len(with_topic) / len(rows) >= 0.9
