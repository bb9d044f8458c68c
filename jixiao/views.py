"""SQL views created in ``build/jixiao.db`` (read by the site pages and canned queries).

``report_summary`` (one row per report with its key figures) is declared here twice over
(and so is ``indicator_topics``, one row per indicator topic):

* :data:`VIEWS` — as a view, which is correct on any database of the schema;
* :func:`materialise` — the same rows written once into a *table* of the same name with an index
  per filter/sort column. The published database is immutable, so this is exact, and it turns
  every read of the summary (the report page, the unit page, the ranking and comparison queries,
  the ``/jixiao/report_summary`` table page and its facets) into plain index lookups instead of
  five correlated subqueries per report. Call it at the end of the build, after the views are
  created and before ``analyze`` (so the planner has statistics for the new tables).

The stored queries of datasette.yml give the same rows either way, but they meet the latency
targets only on the materialised tables: on the views, the all-years execution ranking reads the
whole view (~0.2 s at 10,000 reports) and the default topic of ``indicator_across_units`` groups
every indicator (~0.4 s).

Both read the other tables only through index seeks: the per-report subqueries use the
composite index declared in jixiao/schema.py (``evaluations(report_id, kind, seq)``), and the
keys of findings (report_id, seq; severity has no index at all) and expense_controls (report_id,
seq; its ``key`` written ``+x.key``). Without them SQLite picks the one-column ``kind`` / ``key``
index and scans every report's rows for each report: O(N²).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from . import facet_counts
from .schema import TABLE_BY_NAME

SUMMARY = "report_summary"

# Which table a comparison takes a report's 三公经费 from (the rule of the data dictionary,
# /dictionary#comparison-rules): the 基础数据表 when it prints 三公 figures, else the report's own
# 三公经费 table. Total and parts always come from that one table; figures of two tables are never
# mixed. The subquery gives the rowid of a 三公 row of the chosen table (its ``source`` is the
# choice); ``{report}`` is the report_id expression. Reads the report's rows by the table's key
# (report_id, seq); ``+x.key`` keeps SQLite off the one-column key index (every report's rows).
THREE_PUBLIC_KEYS = ("three_public_total", "overseas", "vehicles", "vehicle_purchase", "vehicle_operation",
                     "reception")
THREE_PUBLIC_SOURCE = (
    "select rowid from expense_controls x where x.report_id = {report} and +x.key in ("
    + ", ".join(f"'{k}'" for k in THREE_PUBLIC_KEYS) + ") "
    "and coalesce(x.prev_final, x.budget, x.final) is not null "
    "order by x.source = 'basic_data' desc, x.seq limit 1")
SOURCE_TABLE_NAMES = {"basic_data": "基础数据表", "three_public_table": "三公经费表"}

# The SELECT (no ORDER BY) shared by the view and the materialised table.
REPORT_SUMMARY_SELECT = """
select
  r.report_id, r.unit_name, r.fiscal_year, r.province, r.city, r.county, r.admin_level, r.report_kind,
  e.initial_budget, e.full_year_budget, e.executed, e.execution_rate,
  tp.prev_final as three_public_prev_final, tp.budget as three_public_budget, tp.final as three_public_final,
  round(tp.final - tp.prev_final, 4) as three_public_change,
  case when tp.prev_final > 0 then round(100.0 * (tp.final - tp.prev_final) / tp.prev_final, 2) end
    as three_public_change_pct,
  tp_source.source as three_public_source, tp.line as three_public_line, ft.line as funds_line,
  s.authorized as staff_authorized, s.actual as staff_actual, s.control_rate as staff_control_rate,
  s.line as staff_line,
  r.total_score, r.stated_score, r.stated_score_by, r.third_party_score,
  round(r.stated_score - case when r.stated_score_by = '第三方' then r.third_party_score else r.total_score end, 2)
    as score_gap,
  r.disclosure_score,
  (select count(*) from findings f where f.report_id = r.report_id) as findings,
  (select count(*) from findings f where f.report_id = r.report_id and f.severity = '错误') as findings_error,
  (select count(*) from findings f where f.report_id = r.report_id and f.severity = '疑点') as findings_doubt,
  (select count(*) from evaluations p where p.report_id = r.report_id and p.kind = 'project') as project_tables,
  r.indicators_count, r.warnings_count, r.unparsed_count, r.source_file
from reports r
left join evaluations e on e.evaluation_id = (
  select evaluation_id from evaluations where report_id = r.report_id and kind = 'overall' order by seq limit 1)
left join funds ft on ft.rowid = (
  select rowid from funds where evaluation_id = e.evaluation_id order by key = 'total' desc, seq limit 1)
left join expense_controls tp_source on tp_source.rowid = ({THREE_PUBLIC_SOURCE})
left join expense_controls tp on tp.rowid = (
  select rowid from expense_controls where report_id = r.report_id and +key = 'three_public_total'
  and +source = tp_source.source order by seq limit 1)
left join staffing s on s.report_id = r.report_id
""".replace("{THREE_PUBLIC_SOURCE}", THREE_PUBLIC_SOURCE.format(report="r.report_id"))

TOPICS = "indicator_topics"
INDICATOR_TOPICS_SELECT = """
select topic, count(distinct report_id) as reports, count(*) as indicators
from indicators
where topic is not null and topic != ''
group by topic
"""

VIEWS = {
    # One row per report with its key figures (money in 万元, rates in percent).
    SUMMARY: REPORT_SUMMARY_SELECT.rstrip() + "\norder by r.report_id\n",
    # One row per indicator topic: in how many reports and how many indicators it occurs (the
    # topic choices of /compare and the default topic of the indicator_across_units query).
    TOPICS: INDICATOR_TOPICS_SELECT.rstrip() + "\norder by reports desc, indicators desc, topic\n",
}

# ---- what each column means (its Chinese label): see jixiao/labels.py and tests/test_labels.py.
# A column of a view or stored query holds a schema field ("table.column", label from
# jixiao/schema.py), a column of a view ("view.column") or one of these derived meanings, declared
# once here. A label names one meaning: a derived label is never a schema field's label.


@dataclass(frozen=True)
class Derived:
    zh: str  # Chinese label
    en: str  # English description
    unit: str | None = None


DERIVED = {
    # report_summary
    "three_public_prev_final": Derived("三公经费上年决算数", "三公 total, final accounts of the previous year.", "万元"),
    "three_public_budget": Derived("三公经费本年预算数", "三公 total, budget of the year.", "万元"),
    "three_public_final": Derived("三公经费本年决算数", "三公 total, final accounts of the year.", "万元"),
    "three_public_change": Derived("三公经费增减", "三公 total: final of the year minus final of the previous year.",
                                   "万元"),
    "three_public_change_pct": Derived("三公经费增减率（%）", "three_public_change / three_public_prev_final.", "%"),
    "three_public_source": Derived("三公经费来源表", "Table the 三公 figures are read from (expense_controls.source)."),
    "three_public_line": Derived("三公经费原文行号", "Source line of the 三公 total row."),
    "funds_line": Derived("资金情况原文行号", "Source line of the funds total row of the overall evaluation table."),
    "staff_line": Derived("人员编制原文行号", "Source line of the staffing row."),
    "score_gap": Derived("正文得分与同一评分方得分之差",
                         "stated_score minus the score of the same scorer: third_party_score when stated_score_by is "
                         "第三方, else total_score (the unit's own); null when either is missing.", "分"),
    "findings_error": Derived("错误数", "Number of findings of severity 错误.", "件"),
    "findings_doubt": Derived("疑点数", "Number of findings of severity 疑点.", "件"),
    "project_tables": Derived("项目自评表数", "Number of project evaluation tables (项目支出绩效自评表)."),
    # indicator_topics
    "topic_reports": Derived("含该主题的报告数", "Number of reports with an indicator of the topic."),
    "topic_indicators": Derived("该主题指标数", "Number of indicators of the topic."),
    # stored queries (datasette.yml)
    "snippet": Derived("摘要", "Text around the hits, hits in 【】."),
    "relevance": Derived("相关度", "Search relevance, 0 or more, higher is more relevant: BM25's term-frequency "
                         "part (how often the words occur, for the document's length; jixiao/search_rank.py)."),
    "section": Derived("所在章节", "Top-level section (一、…) the hit is in."),
    "category": Derived("三公经费项目", "三公 total or one of its four parts."),
    "change": Derived("增减", "Final of the year minus final of the previous year.", "万元"),
    "change_pct": Derived("增减率（%）", "change / final of the previous year, in percent.", "%"),
    "rank": Derived("排名", "Rank in the order of the query (ties share a rank)."),
    "indicators_shown": Derived("有效指标数", "Indicators of the report that are not empty rows."),
    "indicators_judged": Derived("可判定指标数", "Indicators whose actual could be compared with the target."),
    "indicators_met": Derived("达标指标数", "Indicators that met their target."),
    "met_pct": Derived("达标率（%）", "indicators_met / indicators_judged, in percent.", "%"),
    "avg_completion": Derived("平均完成比", "Mean completion_ratio of the report's indicators."),
    # source_files (jixiao/originals.py)
    "file_size": Derived("文件大小（字节）", "Size of the file in bytes."),
    "media_type": Derived("文件类型", "Media (MIME) type of the file."),
    "file_content": Derived("文件内容", "The file's bytes; NULL when the file is its canonical text (a Tika .txt): "
                                        "then it is the first file_size bytes of source_texts.text in UTF-8."),
    # table_grids (jixiao/ddl.py: GRIDS), read through the view table_cells
    "grid_cells": Derived("单元格（网格）", "The table's cells row by row as JSON, zlib-compressed (read it with "
                                          "jixiao_text(cells)): a row on consecutive source lines is [line, text, …], "
                                          "any other [[text, line(, page)], …]; table_cells lists them one per row."),
    # passage_pairs (jixiao/ddl.py: PAIRS), read through the view shared_passages
    "other_place_id": Derived("另一处出处编号", "passage_places.place_id of the other place of the pair."),
    # passage_spans (jixiao/ddl.py: SPANS), read through the view passage_places
    "span_section": Derived("所在章节序号", "sections.seq of the section whose body holds the text at this place; "
                                        "null when no body holds it (then text is given)."),
    "span_start": Derived("起始字符", "Position of the text's first character in that body (1 = the first)."),
    "span_length": Derived("字符数", "Length of the text in characters."),
    "span_text": Derived("章节外的段落文字", "Text of the paragraph when no section's body holds it; null otherwise "
                                          "(passage_places gives it as substr(body, start, length))."),
    # report_builds (jixiao/build_dates.py)
    "first_built": Derived("首次构建时间", "When this report's content (its source sha256) was first built (UTC)."),
    # facet_counts_<table> (jixiao/facet_counts.py), read by plugins/page_speed.py for filtered pages
    "facet_count": Derived("行数", "Rows of the table with these values of its facet columns."),
    # search and search_hits (jixiao/search_queries.py)
    "hit_kind": Derived("命中类型", "Kind of hit: section (正文), table row (表格), indicator (指标) or finding (发现)."),
    "hit_place": Derived("命中位置", "Where the hit is: the section heading, the table and row, the indicator or the rule."),
}

# The columns of the views (and other tables outside jixiao/schema.py): a plain column is the field
# of that name of the first table in columns_from; columns lists the others. Stored queries declare
# theirs the same way in datasette.yml.
VIEW_COLUMNS = {
    SUMMARY: {
        "columns_from": ["reports", "evaluations"],
        "columns": {
            **{c: c for c in ("three_public_prev_final", "three_public_budget", "three_public_final",
                              "three_public_change", "three_public_change_pct", "three_public_source",
                              "three_public_line", "funds_line", "staff_line", "score_gap",
                              "findings_error", "findings_doubt", "project_tables")},
            "staff_authorized": "staffing.authorized", "staff_actual": "staffing.actual",
            "staff_control_rate": "staffing.control_rate", "findings": "reports.findings_count",
        },
    },
    TOPICS: {"columns_from": ["indicators"], "columns": {"reports": "topic_reports", "indicators": "topic_indicators"}},
    "source_files": {
        "columns_from": ["source_parts"],
        "columns": {"file_name": "source_parts.source_file", "sha256": "source_parts.source_sha256",
                    "size": "file_size", "media_type": "media_type", "content": "file_content"},
    },
    "report_builds": {"columns_from": ["reports"], "columns": {"first_built": "first_built"}},
    "table_grids": {"columns_from": ["table_cells"], "columns": {"cells": "grid_cells"}},
    **{facet_counts.cube_name(t): {"columns_from": [t], "columns": {"count": "facet_count"}}
       for t in facet_counts.CANDIDATES},
    "passage_spans": {"columns_from": ["passage_places"],
                      "columns": {"section_seq": "span_section", "start": "span_start", "length": "span_length",
                                  "kept_text": "span_text"}},
    "passage_pairs": {"columns_from": ["shared_passages"],
                      "columns": {"place_id": "passage_places.place_id", "other_place_id": "other_place_id"}},
}
VIEW_TITLES = {SUMMARY: "报告要点", TOPICS: "指标主题", "source_files": "原始文件", "report_builds": "报告构建日期",
               "table_grids": "表格单元格（按表存储）", "passage_pairs": "段落重复（按出处编号存储）",
               "passage_spans": "共用段落出处（按章节位置存储）",
               **{facet_counts.cube_name(t): f"{TABLE_BY_NAME[t].zh}：分面计数" for t in facet_counts.CANDIDATES}}

# Types of the summary's computed columns (the others take the type of the column they copy).
_COMPUTED_TYPES = {
    "three_public_change": "FLOAT", "three_public_change_pct": "FLOAT", "score_gap": "FLOAT",
    "findings": "INTEGER", "findings_error": "INTEGER", "findings_doubt": "INTEGER", "project_tables": "INTEGER",
}
# Indexes of the materialised summary: the facets of datasette.yml and every column the canned
# queries and pages filter or sort on. The rankings read a page straight from an index in their
# ORDER BY (score desc, report_id), with or without a year.
SUMMARY_INDEXES = (
    ("unit_name", "fiscal_year"), ("city",), ("admin_level",), ("report_kind",),
    ("execution_rate desc", "report_id"), ("fiscal_year", "execution_rate desc", "report_id"),
    ("total_score desc", "report_id"), ("fiscal_year", "total_score desc", "report_id"),
)


def _conn(db):
    """A sqlite3 connection from a sqlite_utils.Database or a connection."""
    return getattr(db, "conn", db)


def topic_counts(db, report_ids: list[str]) -> dict[str, tuple[int, int]]:
    """Per topic: how many of these reports have indicators of it, and how many indicators."""
    rows = _conn(db).execute(
        "select topic, count(distinct report_id), count(*) from indicators where report_id in "
        "(select value from json_each(?)) and topic is not null and topic != '' group by topic",
        [json.dumps(report_ids, ensure_ascii=False)]).fetchall()
    return {t: (r, n) for t, r, n in rows}


def refresh_summary(db, changed_ids: list[str], added_ids: list[str],
                    old_topics: dict[str, tuple[int, int]] | None = None) -> None:
    """The materialised tables after an in-place change of some reports: their ``report_summary``
    rows rewritten (the others are untouched); ``indicator_topics`` moved by what the changed
    reports took away (``old_topics``, counted before their rows went) and brought (a recount of
    every topic costs 0.55 s at 10,000 reports). Rows only, no DDL, so a live site's schema does
    not change under it."""
    conn = _conn(db)
    if conn.execute("select type from sqlite_master where name = ?", (SUMMARY,)).fetchone() != ("table",):
        materialise(conn)
        return
    changed, added = json.dumps(changed_ids, ensure_ascii=False), json.dumps(added_ids, ensure_ascii=False)
    conn.execute(f"delete from [{SUMMARY}] where report_id in (select value from json_each(?))", [changed])
    conn.execute(f"insert into [{SUMMARY}] select * from ({REPORT_SUMMARY_SELECT}) "
                 "where report_id in (select value from json_each(?)) order by report_id", [added])
    if old_topics is None:
        conn.execute(f"delete from [{TOPICS}]")
        conn.execute(f"insert into [{TOPICS}] (topic, reports, indicators) {VIEWS[TOPICS]}")
        return
    delta: dict[str, list[int]] = {}
    for sign, counts in ((-1, old_topics), (1, topic_counts(conn, added_ids))):
        for topic, (r, n) in counts.items():
            d = delta.setdefault(topic, [0, 0])
            d[0] += sign * r
            d[1] += sign * n
    for topic, (r, n) in delta.items():
        conn.execute(f"insert into [{TOPICS}] (topic, reports, indicators) values (?, 0, 0) "
                     "on conflict (topic) do nothing", [topic])
        conn.execute(f"update [{TOPICS}] set reports = reports + ?, indicators = indicators + ? where topic = ?",
                     [r, n, topic])
    conn.execute(f"delete from [{TOPICS}] where indicators <= 0")


def materialise(db) -> int:
    """Replace the ``report_summary`` view with a table holding the same rows (same columns, same
    order), keyed by ``report_id`` and indexed for the site's filters, and likewise the small
    ``indicator_topics`` view. Returns the row count of ``report_summary``.

    ``db`` is a ``sqlite_utils.Database`` or a ``sqlite3.Connection`` of a complete database
    (every table filled). Idempotent: an existing view or table of that name is replaced.
    """
    conn = _conn(db)
    cur = conn.execute(f"select * from ({REPORT_SUMMARY_SELECT}) limit 0")
    columns = [d[0] for d in cur.description]
    types = {}
    for table in ("reports", "evaluations", "expense_controls", "staffing", "funds"):
        for _, name, decl, *_ in conn.execute(f"pragma table_info([{table}])"):
            types[(table, name)] = decl
    copied = {  # output column → (table, column) it copies
        **{c: ("reports", c) for c in columns if ("reports", c) in types},
        **{c: ("evaluations", c) for c in ("initial_budget", "full_year_budget", "executed", "execution_rate")},
        "three_public_prev_final": ("expense_controls", "prev_final"),
        "three_public_budget": ("expense_controls", "budget"),
        "three_public_final": ("expense_controls", "final"),
        "staff_authorized": ("staffing", "authorized"), "staff_actual": ("staffing", "actual"),
        "staff_control_rate": ("staffing", "control_rate"),
        "three_public_source": ("expense_controls", "source"), "three_public_line": ("expense_controls", "line"),
        "funds_line": ("funds", "line"), "staff_line": ("staffing", "line"),
    }
    decl = []
    for c in columns:
        t = _COMPUTED_TYPES.get(c) or types.get(copied.get(c, ("", "")), "")
        decl.append(f"[{c}] {t}".rstrip() + (" NOT NULL" if c == "report_id" else ""))
    kind = conn.execute("select type from sqlite_master where name = ?", (SUMMARY,)).fetchone()
    if kind:
        conn.execute(f"drop {kind[0]} [{SUMMARY}]")
    conn.execute(f"create table [{SUMMARY}] (\n  " + ",\n  ".join(decl) + ",\n  primary key (report_id)\n)")
    conn.execute(f"insert into [{SUMMARY}] ({', '.join(f'[{c}]' for c in columns)}) "
                 f"select * from ({REPORT_SUMMARY_SELECT}) order by report_id")
    for cols in SUMMARY_INDEXES:
        name = "_".join(c.split()[0] for c in cols)
        conn.execute(f"create index [idx_{SUMMARY}_{name}] on [{SUMMARY}] ({', '.join(cols)})")

    kind = conn.execute("select type from sqlite_master where name = ?", (TOPICS,)).fetchone()
    if kind:
        conn.execute(f"drop {kind[0]} [{TOPICS}]")
    conn.execute(f"create table [{TOPICS}] ([topic] TEXT NOT NULL, [reports] INTEGER, [indicators] INTEGER, "
                 "primary key (topic))")
    conn.execute(f"insert into [{TOPICS}] (topic, reports, indicators) {VIEWS[TOPICS]}")
    return conn.execute(f"select count(*) from [{SUMMARY}]").fetchone()[0]
