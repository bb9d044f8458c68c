"""The tables of findings across reports, declared with the classes of :mod:`jixiao.declarations`.

These are corpus-level tables (``per_report=False``) that jixiao/across computes on the whole
database after every report's rows are in: shared and copied passages, each report's position
among its peers, self-scores against the evidence, and year-over-year changes of one unit.
:data:`jixiao.schema.TABLES` ends with them; the fields only these tables have (the other
report of a pair) are declared here.
"""
from __future__ import annotations

from .declarations import REPORT_FK, Field, ForeignKey, Table, line, report_id

OTHER_REPORT_FK = ForeignKey("other_report_id", "reports", "report_id")


def other_report_id(en: str) -> Field:
    return Field("other_report_id", "string", "另一报告编号", en, required=True, index=True)


def other_line(en: str) -> Field:
    return Field("other_line", "integer", "另一报告行号", en, minimum=1)


# Tables across reports (jixiao/across): corpus-level (per_report=False), written after every
# report's rows are in. Each row names the report and source line its figure or text comes from.
ACROSS_TABLES: tuple[Table, ...] = (
    Table(
        "passages", "共用段落", "Shared passages",
        "在两份及以上报告中出现的相同或相近段落（每段一行）：出现的报告数、单位数，以及是否为模板文字"
        "（表格自带的说明、标题，或被很多单位共用的套话）。",
        "Each narrative paragraph found in two or more reports (same or near-same text): how many reports and "
        "units print it, and whether it is template wording (the form's own notes and titles, or wording shared "
        "by many units) rather than copying.",
        (
            Field("passage_id", "integer", "段落编号", "Id of the passage, numbered most shared first.",
                  required=True, minimum=1),
            Field("text", "string", "段落文字", "Text of the passage as printed at this place."),
            Field("reports", "integer", "出现的报告数", "Number of reports that print the passage.", minimum=2),
            Field("units", "integer", "出现的单位数", "Number of units that print the passage.", minimum=1,
                  index=True),
            Field("places", "integer", "出现次数", "Number of places (report and line) that print it.", minimum=2),
            Field("is_template", "boolean", "模板文字",
                  "True for template wording, not copying: the form's own notes and titles (vocab/"
                  "template_passages.yml) or a passage shared by many units (min_units there).", facet=True),
            Field("template_reason", "string", "模板依据", "Why it is template wording: 词表 (the vocabulary) or "
                  "多单位共用 (shared by many units).", enum=("词表", "多单位共用"), facet=True),
            report_id(),
            line("First place of the passage (the smallest report_id, then line)."),
        ),
        ("passage_id",), (REPORT_FK,), per_report=False, label_column="text",
        indexes=(("is_template", "units"),),
    ),
    Table(
        "passage_places", "共用段落出处", "Places of shared passages",
        "每个共用段落出现的每一处（报告与行号）。被很多单位共用的模板文字不逐处列出（见 passages.units）。",
        "Every place (report and line) of each shared passage; not listed for template wording shared by many "
        "units (see passages.units).",
        (
            Field("place_id", "integer", "出处编号",
                  "Id of the place, numbered in (report_id, line) order; shared_passages' pairs are stored by it.",
                  required=True, minimum=1),
            Field("passage_id", "integer", "段落编号", "Id of the passage.", required=True, minimum=1),
            report_id(),
            line("Source line of the paragraph."),
            Field("text", "string", "段落文字", "Text of the paragraph as printed at this place."),
        ),
        # A place is one paragraph of one report: (report_id, line) is unique too, and indexed
        # for the report page and the copied-text pairs of a unit's reports.
        ("place_id",), (ForeignKey("passage_id", "passages", "passage_id"), REPORT_FK),
        # stored as spans of the sections' bodies (SPANS in jixiao/ddl.py, with the indexes on
        # passage_id and on (report_id, line)) behind a view of this name with these columns
        per_report=False, indexes=(("report_id", "line"),), stored_as="passage_spans",
    ),
    Table(
        "shared_passages", "段落重复", "Copied passages (pairs)",
        "一段文字在两份报告中的两处：本处（报告、行号）、另一处、相似度、是否模板文字、是否同一单位的其他年度。"
        "每处最多列出与其最相似的 10 处。各处的文字见 passage_places（按段落编号、报告与行号连接）。",
        "One row per pair of places holding the same passage: this place, the other place, their similarity, "
        "whether it is template wording and whether the other report is the same unit's (another year). Each "
        "place lists at most its 10 most similar other places. The text at each place is in passage_places "
        "(join on passage_id, report_id, line).",
        (
            Field("passage_id", "integer", "段落编号", "Id of the passage (passages).", required=True, minimum=1),
            report_id(),
            line("Source line of this place."),
            other_report_id("The other report that prints the passage."),
            other_line("Source line of the passage in the other report."),
            Field("similarity", "number", "相似度",
                  "Jaccard similarity of the character trigrams of the two places' normalised texts (punctuation, "
                  "spaces and numbering removed, figures masked): 1 = the same wording.", minimum=0),
            Field("same_unit", "boolean", "同一单位", "True when the other report is the same unit's (another year)."),
            Field("is_template", "boolean", "模板文字", "True for template wording (see passages.is_template).",
                  same_as="passages.is_template", facet=True),
        ),
        ("report_id", "line", "other_report_id", "other_line"),
        (ForeignKey("passage_id", "passages", "passage_id"), REPORT_FK, OTHER_REPORT_FK),
        # 584 k pairs at 10,000 reports, each with two report ids in the row and in each of its
        # three indexes (182 MB); stored as pairs of place ids (PAIRS in jixiao/ddl.py) behind a
        # view of this name with these columns.
        per_report=False, stored_as="passage_pairs",
    ),
    Table(
        "peer_positions", "同类比较", "Position among peers",
        "每份报告在同类报告（同一部门类别、同一行政级别、同一年度）中的位置：预算执行率、三公经费增减率、"
        "指标达标率、公开完整度与自评总分的数值、排名（1 = 最高）和同类的中位数、最低与最高值。",
        "Each report among its peers (same department kind, admin level and year): for execution rate, 三公 "
        "change, share of indicators met, disclosure score and self-score, its value, its rank (1 = highest) and "
        "the peers' median, minimum and maximum.",
        (
            report_id(),
            Field("measure", "string", "比较项", "Measure compared.", required=True, facet=True,
                  enum=("execution_rate", "three_public_change_pct", "met_pct", "disclosure_score", "total_score")),
            Field("measure_name", "string", "比较项名称", "Chinese name of the measure."),
            Field("value", "number", "本报告数值", "Value of the measure in this report (unit in unit)."),
            Field("unit", "string", "计量单位", "Unit of the value (% or 分)."),
            Field("department_kind", "string", "部门类别", "Department kind (reports.department_kind).",
                  same_as="reports.department_kind", facet=True),
            Field("admin_level", "string", "行政级别", "Administrative level (reports.admin_level).", facet=True),
            Field("fiscal_year", "integer", "年度", "Fiscal year (reports.fiscal_year).", facet=True),
            Field("peers", "integer", "同类报告数", "Number of peer reports with this measure, this one included.",
                  minimum=1),
            Field("rank", "integer", "同类排名", "Rank among the peers, 1 = highest value (ties share a rank).",
                  minimum=1),
            Field("peer_median", "number", "同类中位数", "Median of the peers' values."),
            Field("peer_min", "number", "同类最低值", "Lowest of the peers' values."),
            Field("peer_max", "number", "同类最高值", "Highest of the peers' values."),
            line("Source line of the figure (null for a score over the whole report)."),
        ),
        ("report_id", "measure"), (REPORT_FK,), per_report=False,
        indexes=(("department_kind", "admin_level", "fiscal_year", "measure"),),
    ),
    Table(
        "score_evidence", "自评得分与证据", "Self-score against evidence",
        "每份报告的自评总分与证据对照：分段、是否 95 分及以上、未达成与失分的指标数、错误与疑点数。",
        "Each report's self-score against the evidence: score band, whether it is 95 or more, indicators not "
        "met and indicators that lost points, errors and doubts found by the checks.",
        (
            report_id(),
            Field("unit_name", "string", "单位名称", "Name of the reporting unit (reports.unit_name)."),
            Field("fiscal_year", "integer", "年度", "Fiscal year (reports.fiscal_year).", facet=True),
            Field("department_kind", "string", "部门类别", "Department kind (reports.department_kind).",
                  same_as="reports.department_kind", facet=True),
            Field("admin_level", "string", "行政级别", "Administrative level (reports.admin_level).", facet=True),
            Field("total_score", "number", "自评总分", "Total score of the 自评表 (reports.total_score).", unit="分",
                  minimum=0),
            Field("score_band", "string", "自评分数段", "95分及以上 | 90–95分 | 80–90分 | 80分以下.", facet=True,
                  enum=("95分及以上", "90–95分", "80–90分", "80分以下")),
            Field("high_score", "boolean", "自评95分及以上", "True when total_score ≥ 95.", facet=True),
            Field("indicators_judged", "integer", "可判断是否达标的指标数",
                  "Indicators whose actual could be compared with the target (verdict 达成 or 未达成).", minimum=0),
            Field("indicators_unmet", "integer", "未达成指标数", "Indicators with verdict 未达成.", minimum=0),
            Field("indicators_lost_points", "integer", "失分指标数", "Indicators scored below their points.",
                  minimum=0),
            Field("met_pct", "number", "指标达成比例", "indicators met / indicators judged, in percent.", unit="%",
                  minimum=0),
            Field("errors", "integer", "错误类发现数", "Findings of severity 错误.", minimum=0),
            Field("doubts", "integer", "疑点类发现数", "Findings of severity 疑点.", minimum=0),
            line("Source line of the first indicator not met (null when none)."),
        ),
        ("report_id",), (REPORT_FK,), per_report=False, indexes=(("high_score", "indicators_unmet"),),
    ),
    Table(
        "year_changes", "年度变化", "Year over year",
        "同一单位相邻两个年度报告的对比：每个关键数字（资金、执行率、三公经费、人员、分数）与两年都有的每个绩效指标"
        "（按主题与措辞配对）的数值及其变化。",
        "One unit's report against its previous year's: every key figure (funds, execution rate, 三公, staff, "
        "scores) and each indicator kept across the years (matched by topic and wording), with the change.",
        (
            report_id(),
            Field("seq", "integer", "序号", "Order within the report's comparison, from 1.", required=True, minimum=1),
            other_report_id("The same unit's report of the previous year compared with."),
            Field("unit_name", "string", "单位名称", "Name of the unit (reports.unit_name)."),
            Field("fiscal_year", "integer", "年度", "Fiscal year of this report.", facet=True),
            Field("other_fiscal_year", "integer", "对比年度", "Fiscal year of the other report."),
            Field("kind", "string", "对比类别", "figure (a key figure) or indicator (a performance indicator).",
                  enum=("figure", "indicator"), facet=True),
            Field("item", "string", "对比项", "Key figure (full_year_budget, executed …) or the indicator's topic."),
            Field("item_name", "string", "对比项名称", "Chinese name of the figure, or the indicator's 三级指标."),
            Field("value", "number", "本报告数值", "Value in this report."),
            Field("other_value", "number", "对比年度数值", "Value in the other report."),
            Field("change_value", "number", "变化量", "value − other_value (null when either is missing or their "
                  "units differ)."),
            Field("change_pct", "number", "变化率（%）", "change_value / other_value, in percent.", unit="%"),
            Field("unit", "string", "计量单位", "Unit of both values (万元, %, 人, 分 or the indicator's unit)."),
            Field("value_text", "string", "本报告原文", "The indicator's actual as printed in this report."),
            Field("other_value_text", "string", "对比年度原文", "The indicator's actual as printed in the other report."),
            Field("verdict", "string", "达标判断", "This year's verdict of the indicator (verdicts.verdict).",
                  enum=("达成", "未达成", "无法判断")),
            Field("other_verdict", "string", "对比年度达标判断", "The other year's verdict of the indicator.",
                  enum=("达成", "未达成", "无法判断")),
            Field("match_similarity", "number", "指标名称相似度",
                  "How alike the two indicators' names are (bigram Jaccard, 1 = same wording); null for figures.",
                  minimum=0),
            line("Source line of the value in this report."),
            other_line("Source line of the value in the other report."),
        ),
        ("report_id", "seq"), (REPORT_FK, OTHER_REPORT_FK), per_report=False, label_column="item_name",
        indexes=(("other_report_id",),),
    ),
)
