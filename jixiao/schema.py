"""The one schema: every published table and field, declared once.

Everything that describes the data is generated from :data:`TABLES`:

* :func:`jixiao.metadata.frictionless_schema` — the Table Schema of each CSV in ``datapackages/``;
* :func:`jixiao.ddl.create_tables` — the SQLite tables (types, primary keys, foreign keys, indexes);
* :func:`jixiao.metadata.datasette_metadata` / :func:`jixiao.metadata.metadata_yaml` — ``metadata.yml``
  for Datasette 1.0a.

The classes and shared fields the tables are declared with are in :mod:`jixiao.declarations`;
the tables across reports in :mod:`jixiao.across_tables` (``TABLES`` ends with them).

Conventions (see DESIGN.md): money is in 万元 (``unit``), converted from 元 where a report
prints 元, and each money field has a ``*_text`` twin holding the cell as printed; rates are
numbers in percent (93.38); every row carries the source ``line`` it came from. The core
table and column names in DESIGN.md are a public API: add, never rename.
"""
from __future__ import annotations

from .across_tables import ACROSS_TABLES
from .declarations import REPORT_FK, Field, ForeignKey, Table, line, money, number, report_id, seq

LICENSE = {
    "name": "CC-BY-4.0",
    "title": "Creative Commons Attribution 4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
}
SOURCE_TITLE = "各部门公开发布的部门整体支出绩效自评报告（原文件名与 SHA-256 见 reports 表）"
SOURCE_TITLE_EN = "Performance self-evaluation reports published by Chinese government departments"
DATABASE = "jixiao"

EVALUATION_FK = ForeignKey("evaluation_id", "evaluations", "evaluation_id")
EVALUATION_ID = Field("evaluation_id", "string", "评价表编号", "Id of the evaluation table: report_id + '-' + seq.",
                      required=True, index=True)
SEVERITIES = ("错误", "疑点", "提示")

# ---------------------------------------------------------------- tables

TABLES: tuple[Table, ...] = (
    Table(
        "reports", "绩效自评报告", "Reports",
        "每份报告一行：单位、年度、地区、报告类型、来源文件与分数。",
        "One row per report: unit, fiscal year, region, kind, source file and scores.",
        (
            report_id(),
            Field("unit_name", "string", "单位名称", "Name of the reporting unit (department).", facet=True),
            Field("fiscal_year", "integer", "年度", "Fiscal year the report evaluates.", facet=True),
            Field("province", "string", "省", "Province.", facet=True),
            Field("city", "string", "市", "City (prefecture).", facet=True),
            Field("county", "string", "县（区）", "County or district; null for a city-level unit.", facet=True),
            Field("division_code", "string", "行政区划代码", "GB/T 2260 administrative division code.", index=True),
            Field("admin_level", "string", "行政级别", "Administrative level of the unit (省级 / 市级 / 区级 / 县级).",
                  facet=True),
            Field("department_kind", "string", "部门类别",
                  "Kind of department (司法, 财政, 教育 …) from the unit name through vocab/peers.yml; peers for "
                  "comparisons are reports of the same kind, admin_level and fiscal_year. Null when no keyword matches.",
                  facet=True),
            Field("report_kind", "string", "报告类型",
                  "自评报告 (self-evaluation with a narrative), 第三方评价报告 (third party), or a form published "
                  "on its own without a narrative: 项目支出绩效自评表 (one project's form; its figures are in "
                  "evaluations) or 部门整体支出绩效自评表 (the unit's overall form).",
                  facet=True),
            Field("evaluator", "string", "评价机构", "Firm that wrote a third-party evaluation.", facet=True),
            Field("title", "string", "报告标题", "Title of the report as printed."),
            Field("source_file", "string", "来源文件", "File name of the source document.", required=True),
            Field("source_sha256", "string", "来源文件 SHA-256", "SHA-256 of the source file's bytes.",
                  required=True, index=True),
            Field("source_format", "string", "来源格式",
                  "Format the report was read from: tika-text, docx, doc, pdf, pdf-scan (OCR), html, xlsx, xls, "
                  "image (OCR) or bundle (several files of one report; see source_parts).", facet=True),
            Field("encoding", "string", "文本编码", "Text encoding of the source file."),
            *number("total_score", "自评总分", "Total score of the 自评表 (overall self-evaluation table): the unit's "
                    "own score.", "分", 0),
            *number("stated_score", "正文所述得分", "Score the narrative states; given by stated_score_by.", "分", 0),
            Field("stated_score_line", "integer", "正文所述得分行号", "Source line of the stated score.", minimum=1),
            Field("stated_score_by", "string", "正文所述得分的评分方",
                  "Who gave the score the narrative states: 第三方 in a third-party report (the evaluator wrote the "
                  "narrative), else 单位自评. Compare stated_score with third_party_score or total_score accordingly.",
                  facet=True),
            *number("third_party_score", "第三方评价得分",
                    "Score a third-party evaluator gave (合计 of its 评价指标表); null when no third party scored.", "分", 0),
            Field("third_party_score_line", "integer", "第三方评价得分行号", "Source line of the third party's score.",
                  minimum=1),
            Field("disclosure_score", "integer", "公开完整度", "Disclosure completeness score, 0-100.", unit="分",
                  minimum=0),
            Field("disclosure_missing", "array", "缺失的公开内容", "Parts of a complete report that are missing."),
            Field("sections_count", "integer", "章节数", "Number of sections.", minimum=0),
            Field("indicators_count", "integer", "指标数", "Number of indicators in all evaluation tables.", minimum=0),
            Field("findings_count", "integer", "发现问题数", "Number of findings from the checks.", minimum=0),
            Field("warnings_count", "integer", "解析警告数", "Number of parser warnings.", minimum=0),
            Field("unparsed_count", "integer", "未解析行数", "Number of source lines the parser could not place.",
                  minimum=0),
            Field("line_counts", "object", "行数统计", "How every non-blank source line was accounted for."),
            Field("artefacts", "object", "排版残留", "Known artefacts skipped, e.g. [bookmark: _Toc…], by kind."),
            Field("package_name", "string", "数据包名称", "Name of this report's Frictionless data package."),
            line("First line that identifies the unit (null when the unit came from the file name)."),
            Field("source_url", "string", "发布网址",
                  "Web address the report was published at (from the build's optional sources.csv)."),
            Field("publisher", "string", "发布机构", "Who published the report (from sources.csv)."),
            Field("published_date", "string", "发布日期",
                  "Date the report was published, YYYY-MM-DD as printed in sources.csv.", index=True),
        ),
        ("report_id",), label_column="unit_name",
    ),
    Table(
        "sections", "报告章节", "Sections",
        "报告正文的章节：编号、标题、路径与正文，可全文检索。",
        "The narrative, one row per section: number, heading, path and body. Full-text searchable.",
        (
            report_id(),
            seq("Order of the section in the report, from 1."),
            Field("level", "integer", "层级", "0 = preamble, 1 = 一、, 2 = （一）, 3 = 1、/1., 4 = ①.", minimum=0,
                  facet=True),
            Field("number", "string", "编号", "Heading number as printed (一、 / （一） …)."),
            Field("heading", "string", "标题", "Heading text without its number."),
            Field("path", "string", "章节路径", "Numbers and headings of the section and its parents."),
            Field("parent_seq", "integer", "上级章节序号", "seq of the parent section."),
            Field("body", "string", "正文", "Body text of the section (paragraphs joined by newlines)."),
            Field("line_start", "integer", "起始行", "First source line.", minimum=1),
            Field("line_end", "integer", "结束行", "Last source line.", minimum=1),
            line("Source line of the heading (= line_start)."),
        ),
        ("report_id", "seq"), (REPORT_FK,), fts=("heading", "body"), label_column="heading",
    ),
    Table(
        "staffing", "人员编制", "Staffing",
        "基础数据表中的编制数、实有人数与编制控制率。",
        "Authorized posts, actual staff and control rate from the 基础数据表.",
        (
            report_id(),
            *number("authorized", "编制数", "Authorized posts (编制数).", "人", 0),
            *number("actual", "实有人数", "Actual staff (实有/在职人数).", "人", 0),
            *number("control_rate", "编制控制率", "Staffing control rate in percent.", "%", 0),
            line(),
        ),
        ("report_id",), (REPORT_FK,),
    ),
    Table(
        "expense_controls", "经费控制", "Expense controls",
        "基础数据表“经费控制”各行（三公经费、项目支出、公用经费等）及单独的三公经费表。",
        "Rows of the 经费控制 block of the 基础数据表 (三公经费, projects, public funds …) and of separate 三公 tables.",
        (
            report_id(),
            seq(),
            Field("source", "string", "来源表", "basic_data (基础数据表) or three_public_table.", facet=True),
            Field("label", "string", "项目（原文）", "Item cell as printed."),
            Field("item", "string", "项目", "Item without numbering or 其中：.", facet=True),
            Field("key", "string", "项目代码", "Vocabulary key (three_public_total, vehicles, …).", facet=True),
            Field("item_group", "string", "类别", "three_public | project | public_funds | basic | personnel | …",
                  facet=True),
            Field("parent_item", "string", "上级项目", "Item this row is part of."),
            *money("prev_final", "上年决算数", "Final accounts of the previous year.", "上年决算"),
            *money("budget", "本年预算数", "Budget of the year.", "年初预算"),
            *money("final", "本年决算数", "Final accounts of the year.", "决算"),
            *money("deviation", "偏差", "Deviation column where the table has one.", None),
            Field("money_unit", "string", "原文金额单位", "Money unit the report printed (万元 or 元).", facet=True),
            Field("placeholder", "boolean", "空行", "True when the row has no figures."),
            line(),
        ),
        # no (report_id, key, seq) index: a report's 三公 rows by key (report_summary, the stored
        # query three_public) are read from its ~20 rows by the key's report_id (tests/test_indexes.py)
        ("report_id", "seq"), (REPORT_FK,), label_column="item",
    ),
    Table(
        "details", "支出明细", "Expense details",
        "支出明细表（序号 / 支出项目 / 金额）各行。",
        "Rows of expense detail tables (序号 / 支出项目 / 金额).",
        (
            report_id(),
            Field("table_seq", "integer", "明细表序号", "Which detail table of the report, from 1.", required=True),
            seq("Order within the detail table, from 1."),
            Field("number", "string", "编号", "Number cell as printed."),
            Field("item", "string", "支出项目", "Expense item.", facet=True),
            Field("parent_item", "string", "上级项目", "Item this row is part of."),
            *money("amount", "金额", "Amount.", "决算"),
            Field("money_unit", "string", "原文金额单位", "Money unit the report printed.", facet=True),
            line(),
        ),
        ("report_id", "table_seq", "seq"), (REPORT_FK,), label_column="item",
    ),
    Table(
        "evaluations", "绩效自评表", "Evaluation tables",
        "每张自评表一行：部门整体支出绩效自评表、项目支出绩效自评表或第三方评价指标表。",
        "One row per evaluation table: overall (部门整体), project (项目支出) or third-party indicator table.",
        (
            EVALUATION_ID,
            report_id(),
            seq("Order of the evaluation table in the report, from 1."),
            Field("kind", "string", "类型", "overall | project | third_party.", required=True, facet=True,
                  enum=("overall", "project", "third_party")),
            Field("title", "string", "表名", "Table title as printed."),
            Field("project_name", "string", "项目名称", "Project name (project tables).", facet=True),
            Field("unit_cell", "string", "单位名称（表内）", "预算部门名称 / 单位名称 cell."),
            Field("department", "string", "主管部门", "Supervising department."),
            Field("implementer", "string", "实施单位", "Implementing unit."),
            *money("initial_budget", "年初预算数", "Initial budget of the funds total row.", "年初预算"),
            *money("full_year_budget", "全年预算数", "Full-year (adjusted) budget of the funds total row.", "全年预算"),
            *money("executed", "全年执行数", "Amount executed in the year.", "执行"),
            *number("weight", "分值", "Points allotted to budget execution.", "分", 0),
            *number("execution_rate", "执行率", "Budget execution rate in percent (93.38).", "%", 0),
            *number("funds_score", "预算执行得分", "Points scored for budget execution.", "分", 0),
            *number("total_weight", "总分值", "Total points of the table.", "分", 0),
            *number("total_score", "总分", "Total score of the table.", "分", 0),
            Field("goal_expected", "string", "年度总体目标", "Goals set for the year."),
            Field("goal_actual", "string", "目标实际完成情况", "What was achieved."),
            Field("money_unit", "string", "原文金额单位", "Money unit the report printed.", facet=True),
            Field("line_start", "integer", "起始行", "First source line.", minimum=1),
            Field("line_end", "integer", "结束行", "Last source line.", minimum=1),
            line("Source line where the table starts (= line_start)."),
        ),
        ("evaluation_id",), (REPORT_FK,), label_column="title",
        indexes=(("report_id", "kind", "seq"),),
    ),
    Table(
        "funds", "资金情况", "Funds",
        "自评表“资金情况”各行：年度资金总额、当年财政拨款、上年结转、其他资金。",
        "Funds rows of the evaluation tables: total, current appropriation, carry-over, other.",
        (
            EVALUATION_ID,
            report_id(),
            seq("Order within the funds block, from 1."),
            Field("label", "string", "项目（原文）", "Row label as printed."),
            Field("key", "string", "项目代码", "total | current_appropriation | carryover | other.", facet=True),
            *money("initial_budget", "年初预算数", "Initial budget.", "年初预算"),
            *money("full_year_budget", "全年预算数", "Full-year budget.", "全年预算"),
            *money("executed", "全年执行数", "Executed.", "执行"),
            *number("weight", "分值", "Points allotted.", "分", 0),
            *number("execution_rate", "执行率", "Execution rate in percent.", "%", 0),
            *number("score", "得分", "Points scored.", "分", 0),
            Field("money_unit", "string", "原文金额单位", "Money unit the report printed.", facet=True),
            line(),
        ),
        ("evaluation_id", "seq"), (EVALUATION_FK, REPORT_FK), label_column="label",
    ),
    Table(
        "by_nature", "按收支性质分", "Funds by nature",
        "自评表中按收入性质、支出性质分列的金额（一般公共预算、基本支出、项目支出等）。",
        "Amounts by income and expenditure nature (一般公共预算, 基本支出, 项目支出 …) in the evaluation tables.",
        (
            EVALUATION_ID,
            report_id(),
            seq("Order within the block, from 1."),
            Field("key", "string", "项目代码", "general_public_budget | basic_expenditure | …", facet=True),
            Field("label", "string", "项目（原文）", "Label as printed."),
            *money("amount", "金额", "Amount.", "执行"),
            Field("money_unit", "string", "原文金额单位", "Money unit the report printed.", facet=True),
            line(),
        ),
        ("evaluation_id", "seq"), (EVALUATION_FK, REPORT_FK), label_column="label",
    ),
    Table(
        "indicators", "绩效指标", "Indicators",
        "自评表中的绩效指标：一、二、三级指标，年度指标值与实际完成值（原文及解析），分值与得分。",
        "Performance indicators: levels 1-3, target and actual (as printed and parsed), weight and score.",
        (
            EVALUATION_ID,
            report_id(),
            seq("Order within the evaluation table, from 1."),
            Field("level1", "string", "一级指标", "Level-1 indicator without its points (产出指标 / 效益指标 …).",
                  zh_description="一级指标（去掉“(50分)”一类的分值后缀，便于跨表归类；原文见 level1_text）", facet=True),
            Field("level2", "string", "二级指标", "Level-2 indicator without its points (数量指标 / 质量指标 …).",
                  zh_description="二级指标（去掉“（6分）”一类的分值后缀；原文见 level2_text）", facet=True),
            Field("level3", "string", "三级指标", "Level-3 indicator (the measure itself)."),
            Field("level1_text", "string", "一级指标（原文）", "Level-1 indicator exactly as printed, e.g. 产出指标(50分)."),
            Field("level1_weight", "number", "一级指标分值", "Points printed with the level-1 indicator (产出指标(50分) → 50).",
                  unit="分"),
            Field("level2_text", "string", "二级指标（原文）", "Level-2 indicator exactly as printed, e.g. 目标设定（6分）."),
            Field("level2_weight", "number", "二级指标分值", "Points printed with the level-2 indicator (目标设定（6分） → 6).",
                  unit="分"),
            Field("target", "string", "年度指标值", "Target as printed."),
            Field("actual", "string", "实际完成值", "Actual as printed."),
            *number("weight", "分值", "Points allotted.", "分", 0),
            *number("score", "得分", "Points scored.", "分"),
            Field("note", "string", "偏差原因", "偏差原因 / 扣分原因 / 未完成原因分析."),
            Field("standard", "string", "评价标准", "Scoring standard (third-party tables)."),
            Field("extra", "object", "其他列", "Other columns (指标性质, 度量单位 …)."),
            Field("placeholder", "boolean", "空行", "True when target, actual, weight and score are all empty."),
            Field("target_op", "string", "目标比较符", "Comparison of the target (≥ ≤ > < =).", facet=True),
            Field("target_value", "number", "目标数值", "Number in the target."),
            Field("target_unit", "string", "目标单位", "Unit of the target (%, 件, 人次 …).", facet=True),
            Field("actual_value", "number", "完成数值", "Number in the actual."),
            Field("actual_unit", "string", "完成单位", "Unit of the actual.", facet=True),
            Field("completion_ratio", "number", "完成比", "actual_value / target_value (1 = on target), 4 decimals."),
            Field("target_met", "boolean", "是否达标", "Whether the actual meets the target's comparison "
                  "(1 = 达成, 0 = 未达成, empty = 无法判断; see verdict).", facet=True),
            Field("verdict", "string", "达标判断",
                  "达成 (met) | 未达成 (not met) | 无法判断 (cannot judge): the actual against the target, in the "
                  "target's direction (≤ for 不超过/以内/控制在, for names saying 投诉/差错/事故 and for 成本 caps).",
                  zh_description="达成 / 未达成 / 无法判断：按目标的方向比较实际完成值与年度指标值"
                                 "（不超过、以内、控制在、投诉率、成本上限等越低越好）；文字目标按措辞判断",
                  enum=("达成", "未达成", "无法判断"), facet=True),
            Field("verdict_reason", "string", "判断依据",
                  "Why the verdict, in Chinese: the comparison made, or why it cannot be judged "
                  "(目标为文字、实际值缺失、单位不一致 …)."),
            Field("lost_points", "boolean", "是否失分", "True when the score is below the points allotted (得分 < 分值); "
                  "empty when either is missing. Independent of verdict.", facet=True),
            Field("topic", "string", "主题", "Topic key of the indicator, for comparisons across reports.",
                  facet=True),
            line(),
        ),
        ("evaluation_id", "seq"), (EVALUATION_FK, REPORT_FK), label_column="level3",
    ),
    Table(
        "findings", "发现问题", "Findings",
        "对报告内容的自动核对：算术、正文与表格是否一致、公开是否完整。",
        "Automatic checks of the content: arithmetic, narrative against tables, disclosure.",
        (
            report_id(),
            seq("Order of the finding, from 1."),
            Field("rule", "string", "规则", "Rule that produced the finding.", required=True, facet=True),
            Field("severity", "string", "严重程度", "错误 (error) | 疑点 (doubt) | 提示 (note).", facet=True,
                  enum=SEVERITIES, unindexed=True),
            Field("message", "string", "说明", "What was found, in Chinese."),
            Field("expected", "string", "应为", "Expected value."),
            Field("actual", "string", "实为", "Value in the report."),
            Field("difference", "number", "差额",
                  "actual minus expected when both are figures, in their unit (万元, 分, 件, %); null otherwise. "
                  "Findings of one severity are numbered (seq) largest difference first."),
            Field("lines", "array", "相关行", "All source lines involved."),
            line("Main source line of the finding."),
        ),
        # No index on severity (3 values, the rarest 10 % of the rows): report_summary's per-report
        # counts read the report's rows by the key, and the stored query findings_overview walks the
        # key per severity (a page of 错误 is ~1,000 rows walked). A (severity, report_id, seq)
        # index took 4.0 MB at 2,000 reports.
        ("report_id", "seq"), (REPORT_FK,), label_column="message",
    ),
    Table(
        "warnings", "解析警告", "Parser warnings",
        "解析器对原文格式的警告（单元格错位、表格不完整等），不是对内容的判断。",
        "Parser warnings about the source layout (shifted cells, truncated tables …), not about the content.",
        (
            report_id(),
            seq("Order of the warning, from 1."),
            Field("code", "string", "代码", "Warning code.", required=True, facet=True),
            Field("message", "string", "说明", "Warning, in Chinese."),
            line(),
        ),
        ("report_id", "seq"), (REPORT_FK,), label_column="message",
    ),
    Table(
        "unparsed", "未解析内容", "Unparsed lines",
        "解析器无法归入章节或表格的原文行。",
        "Source lines the parser could not place in a section or table.",
        (
            report_id(),
            Field("line", "integer", "原文行号", "Source line.", required=True, minimum=1),
            Field("text", "string", "原文", "Text of the line."),
            Field("reason", "string", "原因", "Why it was not placed.", facet=True),
        ),
        ("report_id", "line"), (REPORT_FK,), label_column="text",
    ),
    Table(
        "source_tables", "原文表格", "Source tables",
        "报告中的每一张表格：标题、识别出的类型、行列数与位置。",
        "Every table of every report: caption, recognised kind, size and position.",
        (
            report_id(),
            Field("table_seq", "integer", "表格序号", "Order of the table in the report, from 1.", required=True),
            Field("kind", "string", "表格类型", "basic_data | evaluation | third_party | detail | three_public | generic.",
                  facet=True),
            Field("caption", "string", "表格标题", "附件 / title paragraphs before the table."),
            Field("rows_count", "integer", "表格行数", "Number of rows.", minimum=0),
            Field("columns_count", "integer", "列数", "Largest number of cells in a row.", minimum=0),
            Field("money_unit", "string", "原文金额单位", "Money unit the table prints.", facet=True),
            Field("line_start", "integer", "起始行", "First source line.", minimum=1),
            Field("line_end", "integer", "结束行", "Last source line.", minimum=1),
            Field("source_file", "string", "所在文件", "File the table was read from (for a bundle, one of its files)."),
            Field("page", "integer", "页码", "Page of the table's first row in a paged source (PDF); else null.",
                  minimum=1),
            line("First source line (= line_start)."),
        ),
        ("report_id", "table_seq"), (REPORT_FK,), label_column="caption",
    ),
    Table(
        "table_cells", "表格单元格", "Table cells",
        "每张表格的每个单元格，原文照录（合并单元格为空单元格）。",
        "Every cell of every table as the parser read it (merged cells appear as empty cells).",
        (
            report_id(),
            Field("table_seq", "integer", "表格序号", "Table the cell belongs to (source_tables.table_seq).",
                  required=True),
            Field("row", "integer", "行", "Row within the table, from 1.", required=True, minimum=1),
            Field("col", "integer", "列", "Column within the row, from 1.", required=True, minimum=1),
            # Not indexed: no page filters cells by kind across reports (the kinds are faceted on
            # source_tables, one row per table); see the index notes above ddl.create_indexes.
            Field("table_kind", "string", "表格类型", "Recognised kind of the table.",
                  same_as="source_tables.kind"),
            Field("text", "string", "单元格内容", "Cell text (padding removed)."),
            Field("page", "integer", "页码", "Page of the cell in a paged source (PDF); else null.", minimum=1),
            line(),
        ),
        ("report_id", "table_seq", "row", "col"), (REPORT_FK,), label_column="text",
        # 5 M rows at 10,000 reports: one row per cell repeated the report id, table number and kind
        # in each (76 MB at 2,000 reports, clustered); stored one row per table (GRIDS in
        # jixiao/ddl.py: 29 MB; 25.9 as a rowid table)
        stored_as="table_grids",
    ),
    Table(
        "source_parts", "来源文件", "Source files",
        "每份报告读取的文件：一份报告一个文件，或一组附件（文件夹）中的每个文件，及其在规范文本中的行范围。",
        "The files each report was read from (one, or each file of a bundle folder) and the range of lines of the "
        "canonical text each one became.",
        (
            report_id(),
            Field("part", "integer", "文件序号", "Order of the file in the report's canonical text, from 1.",
                  required=True, minimum=1),
            Field("source_file", "string", "文件名", "File name.", required=True),
            Field("source_sha256", "string", "文件 SHA-256", "SHA-256 of the file's bytes."),
            Field("source_format", "string", "文件格式", "Format the file was read as.", facet=True),
            Field("line_start", "integer", "起始行", "First line of the canonical text from this file.", minimum=1),
            Field("line_end", "integer", "结束行", "Last line of the canonical text from this file.", minimum=0),
        ),
        ("report_id", "part"), (REPORT_FK,), label_column="source_file",
    ),
    Table(
        "source_pages", "原文页码", "Source pages",
        "分页来源（PDF、扫描件）每一页对应的规范文本行范围：由行号可查到原文件的页码。",
        "For paged sources (PDF, scans): the lines of the canonical text each page became, so a line number "
        "leads to the page of the original file.",
        (
            report_id(),
            Field("page", "integer", "页码", "Page of the source file, from 1.", required=True, minimum=1),
            Field("source_file", "string", "文件名", "File the page belongs to."),
            Field("line_start", "integer", "起始行", "First line from this page.", minimum=1),
            Field("line_end", "integer", "结束行", "Last line from this page.", minimum=1),
        ),
        ("report_id", "source_file", "page"), (REPORT_FK,),
    ),
    Table(
        "source_texts", "规范文本", "Canonical texts",
        "每份报告的规范文本（与 Tika 文本相同的版式）：所有行号都指向这份文本。",
        "Each report's canonical text (the Tika-text layout every format is rendered to); every line number in "
        "the other tables refers to it.",
        (
            report_id(),
            Field("lines_count", "integer", "文本行数", "Number of lines.", minimum=0),
            Field("text", "string", "文本", "The canonical text. In the SQLite database it is stored zlib-compressed "
                  "(a BLOB: read it with the SQL function jixiao_text(text) on the site, or zlib.decompress); the "
                  "data packages carry it as plain text.", compressed=True),
        ),
        ("report_id",), (REPORT_FK,),
    ),
    Table(
        "build_errors", "构建错误", "Build errors",
        "无法构建的文件：文件、行号与原因。其余报告照常发布。",
        "Files that could not be built: file, line and reason. Every other report is still published.",
        (
            Field("source_file", "string", "来源文件", "Path of the file, as given to the build.", required=True),
            Field("source_sha256", "string", "来源文件 SHA-256", "SHA-256 of the file, when it could be read."),
            Field("line", "integer", "原文行号", "Line the error refers to, when known.", minimum=1),
            Field("error", "string", "错误", "Reason the file could not be built."),
        ),
        ("source_file",), per_report=False,
    ),
    # ---- findings across reports (issue 17; computed on the whole database by jixiao/across) ----
    *ACROSS_TABLES,
)

TABLE_BY_NAME = {t.name: t for t in TABLES}
CORE_TABLES = ("reports", "sections", "staffing", "expense_controls", "evaluations", "indicators", "findings",
               "unparsed", "build_errors")


def table(name: str) -> Table:
    return TABLE_BY_NAME[name]

