"""Chinese labels for Datasette's own pages: column, table and filter names.

Templates call ``zh_column(source, column)`` (source: a table, view or stored query; labels per
source and column from jixiao/labels.py, never one label per column name), ``zh_table(table)``
and ``zh_lookup(key, display)``.
"""
from pathlib import Path

import yaml
from datasette import hookimpl

from jixiao.labels import Labels
from jixiao.schema import DATABASE


def queries_of(config):
    return ((config or {}).get("databases", {}).get(DATABASE, {}) or {}).get("queries", {}) or {}


# The project's stored queries; prepare_jinja2_environment uses the running Datasette's own.
LABELS = Labels(queries_of(yaml.safe_load((Path(__file__).resolve().parent.parent / "datasette.yml")
                                          .read_text(encoding="utf-8"))))

LOOKUPS = {
    "exact": "等于", "not": "不等于", "contains": "包含", "notcontains": "不包含",
    "endswith": "结尾是", "startswith": "开头是", "gt": "大于", "gte": "大于等于",
    "lt": "小于", "lte": "小于等于", "like": "like 匹配", "notlike": "不 like 匹配",
    "glob": "glob 匹配", "in": "属于（逗号分隔）", "notin": "不属于", "arraycontains": "数组包含",
    "arraynotcontains": "数组不包含", "date": "日期为", "isnull": "为空", "notnull": "不为空",
    "isblank": "为空白", "notblank": "不为空白",
}


def zh_column(source, column):
    """Chinese label of a column of a table, view or stored query (None: free SQL)."""
    return LABELS.column(source, column)


def zh_table(table):
    return LABELS.table(table)


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
def prepare_jinja2_environment(env, datasette):
    labels = Labels(queries_of(datasette.config)) if datasette is not None else LABELS
    env.globals.update(zh_column=labels.column, zh_table=labels.table, zh_lookup=zh_lookup)
    env.filters["num"] = num
