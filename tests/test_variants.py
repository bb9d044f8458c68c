"""Layouts beyond the five samples: other provinces' headers, 元 amounts, portal front
matter, ASCII parentheses, the ` |` cell layout, Markdown rows; and malformed input."""
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from jixiao.cli import cli
from jixiao.errors import ReportError
from jixiao.parse import parse_bytes, parse_file, parse_text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@pytest.fixture(scope="module")
def jinan():
    return parse_file(HERE / "fixtures" / "variant_jinan.txt")


def test_identity_from_another_province(jinan):
    assert (jinan.unit_name, jinan.fiscal_year) == ("济南市历下区民政局", 2023)
    assert (jinan.province, jinan.city, jinan.county, jinan.admin_level) == ("山东省", "济南市", "历下区", "区级")
    assert jinan.division_code == "370102"
    assert jinan.title == "济南市历下区民政局2023年度部门整体支出绩效自评报告"
    assert jinan.line_counts["front_matter"] == 2  # 索引号 / 发布日期 are not the narrative
    assert jinan.sections[0].heading == "部门基本情况"
    assert not any("索引号" in s.body or "发布日期" in s.body for s in jinan.sections)


def test_ascii_parentheses_and_positional_headings(jinan):
    heads = [(s.level, s.number, s.heading) for s in jinan.sections if s.level]
    assert heads == [
        (1, "一、", "部门基本情况"), (2, "(一)", "部门职责"), (2, "(二)", "人员情况"),
        (1, "二、", "部门整体支出绩效情况"), (1, "三、", "存在的问题"),
        (3, "1、", "预算编制不够精细"), (3, "2、", "绩效目标设置不够细化"),
    ]
    assert jinan.sections[-1].path == "三、存在的问题 > 2、绩效目标设置不够细化"


def test_other_header_vocabulary_and_yuan(jinan):
    ev = jinan.overall
    assert ev.money_unit == "元"
    total = ev.funds_total
    assert (total.initial_budget.number, total.full_year_budget.number, total.executed.number) == (
        Decimal("1234500.00"), Decimal("1300000.00"), Decimal("1254500.00"))
    assert total.initial_budget.text.strip() == "1,234,500.00"  # original text kept
    assert (total.weight.number, total.execution_rate.number, total.execution_rate.unit) == (10, Decimal("96.50"), "%")
    ind = ev.indicators[1]
    assert (ind.level3, ind.target.number, ind.target.op, ind.target.unit) == ("救助准确率", 98, "≥", "%")
    assert (ind.actual.number, ind.weight.number, ind.score.number) == (97, 30, 28)
    assert ind.note == "个别对象信息核实不及时"  # 未完成原因分析 → note
    assert ind.extra == {"nature": "≥", "measure_unit": "%"}
    assert (ev.total_weight.number, ev.total_score.number) == (100, Decimal("92.5"))
    assert jinan.stated_score.number == Decimal("92.5")


def test_pipe_cell_layout(jinan):
    st = jinan.staffing
    assert (st.authorized.number, st.actual.number, st.control_rate.number) == (20, 19, 95)
    rows = {e.key: e for e in jinan.expense_controls}
    assert rows["three_public_total"].money_unit == "元"
    assert (rows["three_public_total"].prev_final.number, rows["three_public_total"].final.number) == (12000, 9500)
    assert rows["reception"].budget.number == 4000


def test_markdown_rows():
    text = "某某县财政局2024年度部门整体支出绩效自评报告\n一、基本情况\n正文。\n附件1\n三公经费支出表\n" \
           "| “三公经费”类别 | 预算数 | 决算数 | 偏离预算数 |\n|---|---|---|---|\n| 公务接待费 | 1.8 | 0.5 | 1.3 |\n| 合计 | 1.8 | 0.5 | 1.3 |\n"
    r = parse_text(text)
    rows = {e.key: e for e in r.expense_controls}
    assert rows["reception"].final.number == Decimal("0.5")
    assert rows["three_public_total"].deviation.number == Decimal("1.3")
    assert r.line_counts.get("unparsed", 0) == 0 and r.artefacts["table_rule"] == 1


def test_encodings_give_the_same_model():
    raw = (ROOT / "reports" / "001_7a3827d77ccb6050.txt").read_bytes()
    base = parse_bytes(raw).to_dict()
    for data, enc in [(raw.decode("utf-8").encode("gb18030"), "gb18030"),
                      (b"\xef\xbb\xbf" + raw, "utf-8-sig"),
                      (raw.replace(b"\n", b"\r\n"), "utf-8"),
                      (raw.decode("utf-8").encode("utf-16"), "utf-16")]:
        r = parse_bytes(data)
        assert r.encoding == enc
        d = r.to_dict()
        # The file's hash differs by encoding, and with it the hash of its one part.
        assert [p["sha256"] for p in d["parts"]] == [d["source_sha256"]]
        for k in ("source_sha256", "encoding", "parts"):
            d.pop(k), base.pop(k, None)
        assert d == {k: v for k, v in base.items() if k not in ("source_sha256", "encoding", "parts")}


@pytest.mark.parametrize("data,reason", [
    (b"", "empty"),
    (b"  \n\n\t \n", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
    (bytes(range(256)) * 40, "binary"),
])
def test_malformed_input_is_a_clear_error(tmp_path, data, reason):
    f = tmp_path / "bad.txt"
    f.write_bytes(data)
    with pytest.raises(ReportError) as exc:
        parse_file(f)
    assert reason in str(exc.value) and str(f) in str(exc.value) and exc.value.line is not None
    result = CliRunner().invoke(cli, ["parse", str(f)])
    assert result.exit_code == 1 and result.exception is None or isinstance(result.exception, SystemExit)
    assert "error:" in result.output and str(f) in result.output and "Traceback" not in result.output


def test_table_cut_off_mid_row_is_reported_with_its_line(tmp_path):
    lines = (ROOT / "reports" / "000_b20a9b01b0d85700.txt").read_text("utf-8").split("\n")
    cut = "\n".join(lines[:286])  # inside the first indicator row of the 自评表
    f = tmp_path / "cut.txt"
    f.write_text(cut, "utf-8")
    r = parse_file(f)
    w = [w for w in r.warnings if w.code == "truncated_table"]
    assert w and w[0].line == 283
    result = CliRunner().invoke(cli, ["parse", str(f)])
    assert f"{f}:283: warning:" in result.output


def test_parse_cli_json_is_readable_chinese():
    result = CliRunner().invoke(cli, ["parse", str(ROOT / "reports" / "002_8bb91333aa9035c9.txt"), "--json"])
    assert result.exit_code == 0
    assert '"unit_name": "岳阳市法律援助中心"' in result.output and "\\u" not in result.output
