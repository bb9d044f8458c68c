"""Chinese labels for Datasette's own pages: column, table and filter names from jixiao.schema.

Templates call ``zh_column(table, column)``, ``zh_table(table)`` and ``zh_lookup(key, display)``.
"""
from datasette import hookimpl

from jixiao.schema import TABLE_BY_NAME, TABLES

# Columns of views and stored queries that are not schema fields.
EXTRA_LABELS = {
    "report_summary": "报告要点",
    "indicator_topics": "指标主题",
    "three_public_prev_final": "三公经费上年决算",
    "three_public_budget": "三公经费本年预算",
    "three_public_final": "三公经费本年决算",
    "three_public_change": "三公经费增减",
    "three_public_change_pct": "三公经费增减率（%）",
    "staff_authorized": "编制数",
    "staff_actual": "实有人数",
    "staff_control_rate": "编制控制率",
    "score_gap": "正文分数与总分之差",
    "findings": "发现问题数",
    "findings_error": "错误数",
    "findings_doubt": "疑点数",
    "project_tables": "项目自评表数",
    "category": "类别",
    "change": "增减",
    "change_pct": "增减率（%）",
    "rank": "排名",
    "snippet": "摘要",
    "score": "得分",
    "indicators": "指标数",
    "indicators_met": "达标指标数",
    "met_pct": "达标率（%）",
    "avg_completion": "平均完成比",
    "reports": "报告数",
    "units": "单位数",
    "section": "章节",
    "rowid": "行号",
    "Link": "链接",
    "judged": "可判定指标数",
}
COLUMN_LABELS = {**{f.name: f.zh for t in reversed(TABLES) for f in t.fields}, **EXTRA_LABELS}

LOOKUPS = {
    "exact": "等于", "not": "不等于", "contains": "包含", "notcontains": "不包含",
    "endswith": "结尾是", "startswith": "开头是", "gt": "大于", "gte": "大于等于",
    "lt": "小于", "lte": "小于等于", "like": "like 匹配", "notlike": "不 like 匹配",
    "glob": "glob 匹配", "in": "属于（逗号分隔）", "notin": "不属于", "arraycontains": "数组包含",
    "arraynotcontains": "数组不包含", "date": "日期为", "isnull": "为空", "notnull": "不为空",
    "isblank": "为空白", "notblank": "不为空白",
}


def zh_column(table, column):
    """Chinese title of a column: the table's own field first, then any table's, else the name."""
    t = TABLE_BY_NAME.get(table or "")
    if t is not None and column in t.field_names:
        return t.field(column).zh
    return COLUMN_LABELS.get(column, column)


def zh_table(table):
    t = TABLE_BY_NAME.get(table or "")
    return t.zh if t else EXTRA_LABELS.get(table, table)


def zh_lookup(key, display=""):
    return LOOKUPS.get(key, display or key)


def num(value, digits=2):
    """1234.5 → 1,234.5; 12.0 → 12; text unchanged."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}".rstrip("0").rstrip(".")


@hookimpl
def prepare_jinja2_environment(env):
    env.globals.update(zh_column=zh_column, zh_table=zh_table, zh_lookup=zh_lookup)
    env.filters["num"] = num
