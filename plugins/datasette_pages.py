"""Datasette's own pages, in Chinese and pointing to the readable ones: the links of a row page
(``readable_links``), the Chinese of error messages (``zh_error``), the stored queries' notes
for /api (``stored_queries``) — Jinja globals of templates/row.html, error.html, query.html and
api.html — and the schema pages' and ``/-/``'s English answers replaced by the site's pages.
(Split out of plugins/browse_pages.py, which keeps /reports, /units and the region pages.)
"""
from __future__ import annotations

import re
import urllib.parse

from datasette import hookimpl
from datasette.utils.asgi import Response
from jixiao.pages import DB, region_links, report_url, unit_url

# ---------------------------------------------------------------- Datasette's row pages

# Where on the report page a row of each table is shown (its anchor); {…} from the row.
REPORT_ANCHORS = {
    "sections": "s-{seq}", "evaluations": "evaluations", "funds": "evaluations", "by_nature": "evaluations",
    "indicators": "evaluations", "findings": "findings", "staffing": "figures", "source_tables": "t-{table_seq}",
    "table_cells": "t-{table_seq}", "details": "tables", "source_parts": "source", "source_files": "source",
    "source_pages": "source", "source_texts": "source", "report_summary": "figures",
}


def readable_links(datasette, table, row):
    """[(label, url)]: the readable pages of a row of a Datasette table (report, unit, region,
    the source line) — what templates/row.html puts first on the page."""
    if not isinstance(row, dict):
        try:
            row = dict(row)
        except (TypeError, ValueError):
            return []
    out = []
    rid = row.get("report_id")
    if isinstance(rid, str) and rid:
        url = report_url(datasette, rid)
        if table in ("reports", "report_summary"):
            out.append(("报告页", url))
        else:
            anchor = REPORT_ANCHORS.get(table, "")
            if table == "expense_controls" and row.get("item_group") == "three_public":
                anchor = "three-public"
            try:
                anchor = anchor.format(**row)
            except (KeyError, IndexError, ValueError):
                anchor = ""
            out.append(("所属报告", url + ("#" + anchor if anchor else "")))
        line = row.get("line_start") or row.get("line")
        if isinstance(line, int) and line > 0 and table != "reports":
            out.append((f"原文第 {line} 行", url + f"/source#L{line}"))
    unit = row.get("unit_name")
    if isinstance(unit, str) and unit:
        out.append(("单位页", unit_url(datasette, unit)))
    if table in ("reports", "report_summary") and (row.get("province") or row.get("city")):
        regions = region_links(datasette, row.get("province"), row.get("city"), row.get("county"))
        if regions:
            out.append(("地区：" + " ".join(n for n, _ in regions), regions[-1][1]))
    if table == "indicator_topics" and row.get("topic"):
        out.append(("各单位的这一指标", datasette.urls.path("/compare?" + urllib.parse.urlencode({"topic": row["topic"]}))))
    return out


def row_dict(row):
    """A row (sqlite3.Row, dict or None) as a dict."""
    if row is None:
        return {}
    try:
        return dict(row)
    except (TypeError, ValueError):
        return {}


# ---------------------------------------------------------------- error messages

TITLES = {
    400: "请求有误", 403: "无权访问", 404: "未找到", 405: "不支持的请求方法", 500: "服务器出错",
}
HEADINGS = {"Forbidden": "无权访问", "SQL Interrupted": "查询超时", "Invalid SQL": "SQL 有误",
            "Not Found": "未找到", "Bad Request": "请求有误"}
# Datasette's messages (and SQLite's) → Chinese. First match wins; groups are kept (escaped).
MESSAGES = [
    (r"Table not found(?::\s*(.+))?", "没有这张表{:0}。"),
    (r"Row not found", "没有这一行数据（编号有误，或这条记录已不存在）。"),
    (r"Record not found(?::\s*(.+))?", "没有这条记录{:0}。"),
    (r"Database not found(?::\s*(.+))?", "找不到这个页面：地址有误。"),
    (r"Query not found(?::\s*(.+))?", "没有这个查询{:0}。"),
    (r"Column not found(?::\s*(.+))?", "没有这一列{:0}。"),
    (r"404", "找不到这个页面：地址有误，或页面已移走。"),
    (r"(?s).*SQL query took too long.*", "查询超过了时间限制，已被中止。"),
    (r"Cannot sort table by (.+)", "不能按“{0}”排序。"),
    (r"no such table: (.+)", "没有名为“{0}”的表。"),
    (r"no such column: (.+)", "没有名为“{0}”的列。"),
    (r"no such function: (.+)", "没有名为“{0}”的函数。"),
    (r"near \"(.+)\": syntax error", "SQL 语法错误：在“{0}”附近。"),
    (r"incomplete input", "SQL 语句不完整。"),
    (r"(?i)statement (may only|must) .*", "只能执行只读的 SELECT 查询。"),
    (r"(?i)you did not supply a value for binding parameter :?(\w+)\.?", "缺少参数“{0}”的值。"),
    (r"(?i)only one statement.*|You can only execute one statement at a time.*", "一次只能执行一条 SQL 语句。"),
    (r"(?i)(.+) is not allowed", "不允许使用 {0}。"),
    (r"_size must be a positive integer", "每页行数（_size）必须是正整数。"),
    (r"_size must be <= (\d+)", "每页行数（_size）最多为 {0}。"),
    (r"Invalid format: (.+)", "不支持的格式：{0}。"),
    (r"Unknown _extra: (.+)", "未知的 _extra 参数：{0}。"),
    (r"Cannot search by that column", "不能按这一列检索。"),
    (r"CSV streaming is disabled", "不提供整表 CSV 流式下载。"),
    (r"_next not allowed for CSV streaming", "流式 CSV 下载不能带 _next 参数。"),
    (r"Invalid _fts_table or _fts_pk", "全文检索参数有误。"),
    (r"URL row identifier does not match the primary key for this table", "地址中的行编号与这张表的主键不符。"),
    (r"Cannot download database", "不能下载这个数据库。"),
    (r"Database download is forbidden", "不允许下载数据库。"),
    (r"You do not have permission to view this (\w+)", "无权查看。"),
    (r"Permission denied.*", "无权访问。"),
    (r"(?i)interrupted", "查询超过了时间限制，已被中止。"),
    (r"(?i)string or blob too big", "结果太大，请缩小查询范围。"),
    (r"(?i)too many (terms|columns|SQL variables).*", "SQL 过于复杂，请简化。"),
    (r"(?i)ambiguous column name: (.+)", "列名“{0}”有歧义：请写明表名。"),
    (r"(?i)misuse of aggregate.*", "聚合函数用法有误。"),
    (r"(?i)wrong number of arguments to function (\w+)\(\)", "函数 {0} 的参数个数有误。"),
    (r"(?i)attempt to write a readonly database|readonly database", "数据库是只读的。"),
    (r"(?i)fts5: syntax error.*", "检索词的语法有误。"),
    # the search index keeps neither the text nor document sizes (jixiao/search.py): it cannot be listed
    (r"(\w+): table does not support scanning",
     "{0} 是全文检索索引，不存原文，不能逐行浏览：请用 /search 页面，或在表页面加 ?_search= 检索。"),
]
COMPILED = [(re.compile(p + r"\.?\s*$", re.S), zh) for p, zh in MESSAGES]


def zh_message(message) -> str | None:
    """The Chinese of a message from Datasette or SQLite (HTML tags ignored); None when unknown.
    ``{0}`` in a translation is the message's first group, ``{:0}`` the same after "：" (or nothing)."""
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", str(message or ""))).strip()
    for pattern, zh in COMPILED:
        m = pattern.match(text)
        if m:
            first = next((g for g in m.groups() if g), "")
            return zh.replace("{:0}", f"：{first}" if first else "").replace("{0}", first)
    return None


def zh_error(error, status=None, title=None):
    """{heading, message, detail} of an error page or an inline query error, in Chinese.

    ``message``: the translation, or a general sentence for a message with none (the original
    stays in the JSON of the same URL: ``.json`` answers keep Datasette's messages); ``timeout``:
    the query ran out of time. A 5xx never shows its message (an internal error's text says nothing
    to a visitor and may say too much; Datasette logs it)."""
    from jinja2 import Undefined

    error, status, title = (None if isinstance(x, Undefined) else x for x in (error, status, title))
    try:
        status = int(status) if status is not None else None
    except (TypeError, ValueError):
        status = None
    if status is None and title == "Forbidden":  # Datasette's forbidden() renders error.html without a status
        status = 403
    heading = HEADINGS.get(title or "") or TITLES.get(status or 0) or (f"错误 {status}" if status else "出错了")
    if title and re.search(r"[\u4e00-\u9fff]", str(title)):
        heading = title
    if status and status >= 500:
        return {"heading": heading, "message": "生成这个页面时出了问题，我们已记下这个错误。请稍后再试，或返回首页。",
                "timeout": False}
    raw = str(error or "")
    timeout = "took too long" in raw or title == "SQL Interrupted"
    if re.search(r"[\u4e00-\u9fff]", re.sub(r"<[^>]+>", "", raw)) and not re.search(r"[A-Za-z]{4,}\s+[A-Za-z]{3,}", re.sub(r"<[^>]+>", "", raw)):
        return {"heading": heading, "message": error, "timeout": timeout}  # already Chinese
    zh = zh_message(raw)
    if zh is not None:
        return {"heading": heading, "message": zh, "timeout": timeout}
    general = {404: "找不到这个页面。", 403: "无权访问这个页面。", 400: "请求的参数有误。"}.get(status or 0, "请求未能完成。")
    return {"heading": heading, "message": general, "timeout": timeout}


# ---------------------------------------------------------------- registration


def schema_errors_as_pages():
    """Datasette's schema pages answer a missing table or database with a bare English text
    ("Table not found", text/plain) instead of its error page; the HTML format raises NotFound
    instead, so the visitor gets the site's Chinese 404 page (.json and .md are unchanged)."""
    from datasette.utils.asgi import NotFound
    from datasette.views.special import SchemaBaseView

    if getattr(SchemaBaseView, "_jixiao_error_pages", False):
        return
    original = SchemaBaseView.format_error_response

    def format_error_response(self, error_message, format_, status=404):
        if (format_ or "html") == "html" and status == 404:
            raise NotFound(error_message)
        return original(self, error_message, format_, status)

    SchemaBaseView.format_error_response = format_error_response
    SchemaBaseView._jixiao_error_pages = True


schema_errors_as_pages()


async def instance_page(datasette, request):
    """/-/ (Datasette's list of databases, always its stock English template): the database page
    lists the same tables, in Chinese. /-/.json is left to Datasette."""
    return Response.redirect(datasette.urls.database(DB))


@hookimpl
def register_routes():
    return [(r"^/-/$", instance_page)]


@hookimpl
def handle_exception(datasette, request, exception):
    """A table page whose own query runs out of time: Datasette 1.0a41's table view lets
    QueryInterrupted through as a 500 (seen at 100,000 reports on /jixiao/sections?_search=法律援助
    under 8 clients), where its SQL page answers 400 "SQL Interrupted". Answered here as that 400:
    the Chinese error page (查询超时) or Datasette's JSON error."""
    from datasette.database import QueryInterrupted

    if not isinstance(exception, QueryInterrupted):
        return None
    from datasette.handle_exception import handle_exception as default
    from datasette.views.base import DatasetteError

    return default(datasette, request, DatasetteError(
        "SQL query took too long. The time limit is controlled by the sql_time_limit_ms setting.",
        title="SQL Interrupted", status=400))


def stored_queries(datasette):
    """[{name, title, description, api, parameters}] of the stored queries of datasette.yml, for
    /api: ``api`` holds a query's notes for developers (its page shows only ``description``)."""
    from datasette.utils import named_parameters

    out = []
    queries = ((datasette.config or {}).get("databases", {}).get(DB, {}) or {}).get("queries", {}) or {}
    for name, q in queries.items():
        q = q if isinstance(q, dict) else {"sql": q}
        out.append({"name": name, "title": q.get("title") or name, "description": q.get("description") or "",
                    "api": q.get("api") or "", "parameters": named_parameters(q.get("sql") or "")})
    return out


@hookimpl
def prepare_jinja2_environment(env, datasette):
    env.globals["zh_error"] = zh_error
    env.globals["row_dict"] = row_dict
    if datasette is not None:
        env.globals["stored_queries"] = lambda: stored_queries(datasette)
        env.globals["readable_links"] = lambda table, row: readable_links(datasette, table, row)
        env.globals["region_links"] = lambda p, c=None, k=None: region_links(datasette, p, c, k)
