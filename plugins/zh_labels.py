"""Chinese labels for Datasette's own pages: column, table and filter names, and the names of codes.

Templates call ``zh_column(source, column)`` (source: a table, view or stored query; labels per
source and column from jixiao/labels.py, never one label per column name), ``zh_table(table)``,
``zh_table_description(table)``, ``zh_lookup(key, display)`` and ``zh_param(name)`` (a stored
query's parameter).

Codes stored in the data (rule codes such as ``subtotal_blank``, item keys such as
``three_public_total``, table kinds such as ``basic_data``) are shown by their Chinese names on
HTML pages: the ``zh_code`` filter for templates (``{{ f.rule|zh_code("findings", "rule") }}``)
and a ``render_cell`` hook for the cells of Datasette's table, row and query pages. The data, the
JSON and the CSV keep the codes. Names: jixiao/labels.py ``Codes``.
"""
import json
import re
from pathlib import Path

import yaml
from datasette import hookimpl
from markupsafe import Markup, escape

from jixiao import schema
from jixiao.labels import CODES, Labels
from jixiao.pages import original_url, report_url
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


def zh_param(name):
    """The label of a stored query's parameter (jixiao/vocab/codes.yml ``parameters``)."""
    return CODES.parameters.get(name) or LABELS.column(None, name)


def zh_table_description(table):
    """The Chinese description of a table of the schema ("" for others): metadata.yml holds the
    Chinese and English text for the API; HTML pages show the Chinese."""
    t = schema.TABLE_BY_NAME.get(table or "")
    return t.zh_description if t else ""


def zh_column_description(table, column):
    t = schema.TABLE_BY_NAME.get(table or "")
    if t is None or column not in t.field_names:
        return ""
    return t.field(column).description_zh


HAN = re.compile(r"[\u3400-\u9fff]")
WIDE = "\u3400-\u9fff\u3000-\u303f\uff00-\uffef"
TRAILING_LATIN = re.compile(rf"^(.*[{WIDE}])[^{WIDE}]*$", re.S)
SENTENCES = re.compile(r"(?<=[。；！？\n])|(?<=[.!?])\s+")
LATIN = re.compile(r"[A-Za-z]")


def is_chinese(sentence):
    """A sentence written in Chinese: Han characters, not a few Chinese words in an English sentence."""
    han = len(HAN.findall(sentence))
    return han > 0 and 3 * han >= len(LATIN.findall(sentence))


def zh_text(text):
    """The Chinese of a bilingual title or description (``全文检索 Full-text search``,
    ``中文说明。English sentence.``): sentences without a Han character and a trailing run without
    a Chinese character are dropped. Text with no Han character is returned as it is."""
    if not text:
        return "" if text is None else text
    s = str(text)
    if not HAN.search(s):
        return s
    kept = "".join(p for p in SENTENCES.split(s) if p and is_chinese(p)) or s
    m = TRAILING_LATIN.match(kept)
    return (m.group(1) if m else kept).strip()


def code_filter(labels):
    def zh_code(value, source=None, column=None):
        """``{{ value|zh_code("findings", "rule") }}``: the Chinese name of a code (the value when it has none)."""
        return labels.code(value, source, column) if column else ("" if value is None else value)
    return zh_code


def counts_html(value, names):
    """A JSON object of code → count as "名称 N，名称 N" (None when ``value`` is not such an object)."""
    try:
        data = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if not data:
        return Markup('<span class="na">无</span>')
    parts = [f'<span data-code="{escape(k)}">{escape(names.get(k, k))}</span> {escape(v)}' for k, v in data.items()]
    return Markup("，".join(parts))


def list_html(value):
    """A JSON array of text as items separated by "；" (None when ``value`` is not one)."""
    try:
        data = json.loads(value) if isinstance(value, str) and value.startswith("[") else None
    except ValueError:
        return None
    if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
        return None
    return Markup('<span class="na">无</span>') if not data else Markup("；".join(str(escape(x)) for x in data))


def source_of(table, request):
    """The table, view or stored query a cell belongs to: ``table``, or on a stored query's page
    the query (its route is the table route)."""
    if table:
        return table
    if request is not None:
        return (getattr(request, "url_vars", None) or {}).get("table")
    return None


def _raw(value) -> str:
    """A cell's own value (a foreign key expanded to its label arrives as {"value", "label"})."""
    return str(value["value"] if isinstance(value, dict) else value)


def cell_html(labels, datasette, value, column, table, request, row=None, pks=None):
    """What render_cell shows for a code, a count of codes, a list or a blob; None: Datasette's default."""
    if value is None and table == "source_files" and column == "content" and row is not None:
        keys = row.keys() if hasattr(row, "keys") else []  # stored as the canonical text (jixiao/originals.py)
        if {"report_id", "part", "file_name", "size"} <= set(keys):
            url = original_url(datasette, _raw(row["report_id"]), row["part"], row["file_name"])
            return Markup(f'<a class="blob-download" href="{escape(url)}">与规范文本相同，{int(row["size"]):,} 字节</a>')
    if isinstance(value, bytes) and table == "source_texts" and column == "text" and row is not None:
        keys = row.keys() if hasattr(row, "keys") else []  # compressed (jixiao/textstore.py): shown on its page
        if "report_id" in keys:
            url = report_url(datasette, _raw(row["report_id"])) + "/source"
            return Markup(f'<a href="{escape(url)}">规范文本（压缩存储，{len(value):,} 字节）</a>')
    if isinstance(value, bytes):
        n = len(value)
        url = None
        if table and pks and row is not None:
            from datasette.utils import path_from_row_pks
            url = datasette.urls.row_blob(DATABASE, table, path_from_row_pks(row, pks, not pks), column)
        if table == "source_files" and row is not None:
            keys = row.keys() if hasattr(row, "keys") else []
            if "report_id" in keys and "part" in keys and "file_name" in keys:
                url = original_url(datasette, _raw(row["report_id"]), row["part"], row["file_name"])
        text = f"二进制内容，{n:,} 字节"
        return Markup(f'<a class="blob-download" href="{escape(url)}">{text}</a>') if url else text
    if value is None or isinstance(value, (dict, float)) or value == "":
        return None
    source = source_of(table, request)
    names = labels.code_names(source, column)
    if names:
        name = names.get(str(value))
        if name is None:
            return None
        return Markup(f'<span class="code-name" data-code="{escape(value)}">{escape(name)}</span>')
    if isinstance(value, str) and value[:1] in "{[":
        origin = labels.origin(source, column) if source else None
        if origin in CODES.keys:
            return counts_html(value, CODES.keys[origin])
        if origin and schema.TABLE_BY_NAME.get(origin.split(".")[0]) is not None:
            t, _, c = origin.partition(".")
            if c in schema.table(t).field_names and schema.table(t).field(c).type == "array":
                return list_html(value)
    return None


def num(value, digits=2):
    """1234.5 → 1,234.5; 12.0 → 12; text unchanged."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}".rstrip("0").rstrip(".")


# Labels of the running Datasette's stored queries, per instance (render_cell gets no environment).
_LABELS_OF: dict[int, Labels] = {}


def labels_of(datasette):
    if datasette is None:
        return LABELS
    labels = _LABELS_OF.get(id(datasette))
    if labels is None or getattr(labels, "_for", None) is not datasette:
        labels = Labels(queries_of(datasette.config))
        labels._for = datasette
        _LABELS_OF[id(datasette)] = labels
    return labels


@hookimpl
def prepare_jinja2_environment(env, datasette):
    labels = labels_of(datasette)
    env.globals.update(zh_column=labels.column, zh_table=labels.table, zh_lookup=zh_lookup, zh_param=zh_param,
                       zh_table_description=zh_table_description, zh_column_description=zh_column_description)
    env.filters["num"] = num
    env.filters["zh_code"] = code_filter(labels)
    env.filters["zh_text"] = zh_text


@hookimpl
def render_cell(row, value, column, table, pks, database, datasette, request):
    if database != DATABASE:
        return None
    return cell_html(labels_of(datasette), datasette, value, column, table, request, row, pks)
