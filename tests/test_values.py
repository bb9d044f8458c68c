from decimal import Decimal

import pytest

from jixiao.parse.values import parse_value


@pytest.mark.parametrize("text,kind,number,unit,op,qual", [
    ("93.38%", "number", "93.38", "%", None, None),
    ("≥95%", "number", "95", "%", "≥", None),
    ("3600余人次", "number", "3600", "人次", None, "余"),
    ("\u300020.60", "number", "20.60", None, None, None),
    ("1,234,567.5", "number", "1234567.5", None, None, None),
    ("１２３", "number", "123", None, None, None),
    ("-5", "number", "-5", None, None, None),
    ("95%以上", "number", "95", "%", "≥", "以上"),
    ("一万余次", "number", "10000", "次", None, "余"),
    ("近一万二千余人次", "number", "12000", "人次", None, "近"),
    ("五十万元", "number", "50", "万元", None, None),
    ("0", "number", "0", None, None, None),
    ("——", "dash", None, None, None, None),
    ("无", "none", None, None, None, None),
    ("\u3000", "empty", None, None, None, None),
    ("酌情扣分", "text", None, None, None, None),
    ("一级指标", "text", None, None, None, None),
    ("接到申请3个工作日内", "text", None, None, None, None),
])
def test_parse_value(text, kind, number, unit, op, qual):
    v = parse_value(text)
    assert (v.kind, v.number, v.unit, v.op, v.qualifier) == (kind, Decimal(number) if number else None, unit, op, qual)
    assert v.text == text  # the original text is always kept
