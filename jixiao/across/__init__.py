"""Findings across reports (issue 17): copied passages, a unit among its peers, year over year.

:func:`build` reads a complete database (every report's rows written) and writes the tables of
``schema.ACROSS_TABLES``: ``passages``, ``passage_places``, ``shared_passages``,
``peer_positions``, ``score_evidence`` and ``year_changes`` (the corpus data package is made from
the database, so they reach it from there). :func:`refresh` recomputes them after an in-place
change of some reports.

The computing is pure (``passages``, ``peers``, ``years``); this module does the reading and
writing. It reads before the database's indexes exist (the build creates them last), so it reads
each table once in full and creates, for the duration of the call, the few indexes the
``report_summary`` query needs (the site's own figures, one rule for 三公), dropping them after.
"""
from __future__ import annotations

import time
from typing import Iterable

TABLE_NAMES = ("passages", "passage_places", "shared_passages", "peer_positions", "score_evidence", "year_changes")

# The lookups of views.REPORT_SUMMARY_SELECT (one index seek per report instead of a scan), made
# for the call when the database has no index leading with those columns yet (a full build).
_TEMP_INDEXES = {
    "across_tmp_evaluations": ("evaluations", ("report_id", "kind", "seq")),
    "across_tmp_funds": ("funds", ("evaluation_id", "key", "seq")),
    "across_tmp_expense_controls": ("expense_controls", ("report_id", "key", "seq")),
    "across_tmp_staffing": ("staffing", ("report_id",)),
    "across_tmp_findings": ("findings", ("report_id", "severity")),
}


def _has_index(conn, table: str, columns: tuple[str, ...]) -> bool:
    for _, name, *_ in conn.execute(f"pragma index_list([{table}])"):
        cols = tuple(r[2] for r in conn.execute(f"pragma index_info([{name}])"))
        if cols[:len(columns)] == columns:
            return True
    return False


def _rows(conn, sql: str, params=()) -> list[dict]:
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur]


def summaries(conn) -> list[dict]:
    """report_summary rows (views.REPORT_SUMMARY_SELECT) with department_kind, province."""
    from ..views import REPORT_SUMMARY_SELECT

    made = []
    for name, (table, cols) in _TEMP_INDEXES.items():
        if not _has_index(conn, table, cols):
            conn.execute(f"create index [{name}] on [{table}] ({', '.join(cols)})")
            made.append(name)
    try:
        rows = _rows(conn, f"select s.*, r.department_kind, r.province from ({REPORT_SUMMARY_SELECT}) s "
                           "join reports r on r.report_id = s.report_id order by s.report_id")
    finally:
        for name in made:
            conn.execute(f"drop index [{name}]")
    return rows


def indicator_rows(conn) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in _rows(conn, "select report_id, evaluation_id, seq, level3, topic, actual, actual_value, actual_unit, "
                         "target_met, verdict, lost_points, line from indicators where not placeholder "
                         "order by report_id, evaluation_id, seq"):
        out.setdefault(r["report_id"], []).append(r)
    return out


def _docs(conn, report_ids: Iterable[str] | None = None):
    from .passages import Doc

    heads: dict[str, set[int]] = {}
    for rid, ln in conn.execute("select report_id, line_start from sections where level >= 1"):
        heads.setdefault(rid, set()).add(ln)
    for rid, unit, text in conn.execute(
            "select r.report_id, r.unit_name, t.text from reports r join source_texts t on t.report_id = r.report_id "
            "where t.text is not null order by r.report_id"):
        yield Doc(rid, unit, text, frozenset(heads.get(rid, ())))


def compute(conn) -> dict[str, list[dict]]:
    """Every row of the across tables, from the database's other tables."""
    from . import passages, peers, years

    found, pairs = passages.find(_docs(conn))
    out: dict[str, list[dict]] = {
        "passages": [{"passage_id": p.passage_id, "text": p.text, "reports": p.reports, "units": p.units,
                      "places": p.places, "is_template": p.is_template, "template_reason": p.template_reason,
                      "report_id": p.report_id, "line": p.line} for p in found],
        "passage_places": [{"passage_id": p.passage_id, "report_id": rid, "line": ln}
                           for p in found for rid, ln in p.place_list],
        "shared_passages": [{"passage_id": x.passage_id, "report_id": x.report_id, "line": x.line, "text": x.text,
                             "other_report_id": x.other_report_id, "other_line": x.other_line,
                             "similarity": x.similarity, "same_unit": x.same_unit, "is_template": x.is_template}
                            for x in pairs],
    }
    summary = summaries(conn)
    inds = indicator_rows(conn)
    figures, evidence = [], []
    for s in summary:
        rows = inds.get(s["report_id"], [])
        judged = [i for i in rows if i["target_met"] is not None]
        unmet = [i for i in rows if i["verdict"] == "未达成"]
        counts = {"judged": len(judged), "met": sum(1 for i in judged if i["target_met"]), "unmet": len(unmet),
                  "lost": sum(1 for i in rows if i["lost_points"]),
                  "first_unmet_line": min((i["line"] for i in unmet if i["line"]), default=None)}
        ev = peers.evidence(s, counts)
        evidence.append(ev)
        values = {"execution_rate": s["execution_rate"], "three_public_change_pct": s["three_public_change_pct"],
                  "met_pct": ev["met_pct"], "disclosure_score": s["disclosure_score"], "total_score": s["total_score"]}
        lines = {"execution_rate": s["funds_line"], "three_public_change_pct": s["three_public_line"],
                 "met_pct": min((i["line"] for i in judged if i["line"]), default=None)}
        figures.append(peers.Figures(s["report_id"], s["unit_name"], s["fiscal_year"], s["admin_level"],
                                     s["department_kind"], values, lines))
    out["peer_positions"] = peers.positions(figures)
    out["score_evidence"] = evidence
    out["year_changes"] = [row for r, o in years.previous_pairs(summary)
                           for row in years.changes(r, o, inds.get(r["report_id"], []), inds.get(o["report_id"], []))]
    return out


def write(conn, rows: dict[str, list[dict]]) -> dict[str, int]:
    """Replace the across tables' rows; returns the row count per table."""
    from ..rows import conform
    from ..schema import sql_value, table

    counts = {}
    for name in TABLE_NAMES:
        t = table(name)
        data = [conform(t, r) for r in rows.get(name, [])]
        conn.execute(f"delete from [{name}]")
        conn.executemany(f"insert into [{name}] ({', '.join(f'[{n}]' for n in t.field_names)}) "
                         f"values ({', '.join('?' * len(t.fields))})",
                         [tuple(sql_value(f, r[f.name]) for f in t.fields) for r in data])
        counts[name] = len(data)
    return counts


def build(conn, log=None) -> dict[str, int]:
    """Compute and write every across table on a complete database (``conn``: sqlite3 connection,
    inside the build's transaction). Returns the row count per table."""
    started = time.perf_counter()
    rows = compute(conn)
    counts = write(conn, rows)
    if log:
        log(f"across: {len(rows['passages'])} shared passages, {len(rows['shared_passages'])} pairs, "
            f"{len(rows['peer_positions'])} peer positions, {len(rows['year_changes'])} year changes "
            f"in {time.perf_counter() - started:.1f} s")
    return counts


def refresh(conn, changed_report_ids: Iterable[str]) -> dict[str, int]:
    """After an in-place change of some reports (added, replaced or removed): bring the across
    tables up to date.

    Peers and years depend on whole groups and are cheap (one pass over the summary); the passages
    of the changed reports can match any other report, so they are recomputed too. Everything is
    recomputed, which at 10,000 reports costs what BENCHMARKS.md ("Findings across reports") says;
    a change that touches none of the inputs (no changed report) does nothing.
    """
    ids = list(changed_report_ids)
    if not ids:
        return {}
    return build(conn)
