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
composite indexes declared in jixiao/schema.py (``evaluations(report_id, kind, seq)``,
``expense_controls(report_id, key, seq)``, ``findings(report_id, severity)``). Without them
SQLite picks the one-column ``kind`` / ``key`` / ``severity`` index and scans every report's
rows for each report: O(N²).
"""
from __future__ import annotations

SUMMARY = "report_summary"

# The SELECT (no ORDER BY) shared by the view and the materialised table.
REPORT_SUMMARY_SELECT = """
select
  r.report_id, r.unit_name, r.fiscal_year, r.province, r.city, r.county, r.admin_level, r.report_kind,
  e.initial_budget, e.full_year_budget, e.executed, e.execution_rate,
  tp.prev_final as three_public_prev_final, tp.budget as three_public_budget, tp.final as three_public_final,
  round(tp.final - tp.prev_final, 4) as three_public_change,
  case when tp.prev_final > 0 then round(100.0 * (tp.final - tp.prev_final) / tp.prev_final, 2) end
    as three_public_change_pct,
  s.authorized as staff_authorized, s.actual as staff_actual, s.control_rate as staff_control_rate,
  r.total_score, r.stated_score,
  case when r.total_score is not null and r.stated_score is not null
    then round(r.stated_score - r.total_score, 2) end as score_gap,
  r.disclosure_score,
  (select count(*) from findings f where f.report_id = r.report_id) as findings,
  (select count(*) from findings f where f.report_id = r.report_id and f.severity = '错误') as findings_error,
  (select count(*) from findings f where f.report_id = r.report_id and f.severity = '疑点') as findings_doubt,
  (select count(*) from evaluations p where p.report_id = r.report_id and p.kind = 'project') as project_tables,
  r.indicators_count, r.warnings_count, r.unparsed_count, r.source_file
from reports r
left join evaluations e on e.evaluation_id = (
  select evaluation_id from evaluations where report_id = r.report_id and kind = 'overall' order by seq limit 1)
left join expense_controls tp on tp.rowid = (
  select rowid from expense_controls where report_id = r.report_id and key = 'three_public_total'
  order by source = 'basic_data' desc, seq limit 1)
left join staffing s on s.report_id = r.report_id
"""

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
    for table in ("reports", "evaluations", "expense_controls", "staffing"):
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
