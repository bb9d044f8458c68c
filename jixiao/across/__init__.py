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

import json
import time
from typing import Iterable

TABLE_NAMES = ("passages", "passage_places", "shared_passages", "peer_positions", "score_evidence", "year_changes")

# The lookups of views.REPORT_SUMMARY_SELECT (one index seek per report instead of a scan), made
# for the call when the database has no index leading with those columns yet (a full build).
# expense_controls needs none: its 三公 rows are read by its key (report_id, seq).
_TEMP_INDEXES = {
    "across_tmp_evaluations": ("evaluations", ("report_id", "kind", "seq")),
    "across_tmp_funds": ("funds", ("evaluation_id", "key", "seq")),
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


def _json(ids) -> str:
    return json.dumps(sorted(ids), ensure_ascii=False)


def summaries(conn, ids: Iterable[str] | None = None) -> list[dict]:
    """report_summary rows (views.REPORT_SUMMARY_SELECT) with department_kind, province; of the
    reports ``ids`` only, when given."""
    from ..views import REPORT_SUMMARY_SELECT

    made = []
    # The temporary indexes serve the whole-corpus pass of a full build (which runs before the
    # build's own indexes exist). A few reports (an in-place change) are found through the keys of
    # the complete database: building and dropping them there cost 0.5 s at 10,000 reports and was
    # a schema change inside the live transaction.
    for name, (table, cols) in (_TEMP_INDEXES.items() if ids is None else ()):
        if not _has_index(conn, table, cols):
            conn.execute(f"create index [{name}] on [{table}] ({', '.join(cols)})")
            made.append(name)
    try:
        where = "" if ids is None else "where s.report_id in (select value from json_each(?)) "
        rows = _rows(conn, f"select s.*, r.department_kind, r.province from ({REPORT_SUMMARY_SELECT}) s "
                           f"join reports r on r.report_id = s.report_id {where}order by s.report_id",
                     () if ids is None else (_json(ids),))
    finally:
        for name in made:
            conn.execute(f"drop index [{name}]")
    return rows


def indicator_rows(conn, ids: Iterable[str] | None = None) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    where = "" if ids is None else "and report_id in (select value from json_each(?)) "
    for r in _rows(conn, "select report_id, evaluation_id, seq, level3, topic, actual, actual_value, actual_unit, "
                         "target_met, verdict, lost_points, line from indicators where not placeholder "
                         f"{where}order by report_id, evaluation_id, seq", () if ids is None else (_json(ids),)):
        out.setdefault(r["report_id"], []).append(r)
    return out


def _docs(conn, report_ids: Iterable[str] | None = None):
    from .passages import Doc

    heads: dict[str, set[int]] = {}
    for rid, ln in conn.execute("select report_id, line_start from sections where level >= 1"):
        heads.setdefault(rid, set()).add(ln)
    from ..textstore import unpack

    for rid, unit, text in conn.execute(
            "select r.report_id, r.unit_name, t.text from reports r join source_texts t on t.report_id = r.report_id "
            "where t.text is not null order by r.report_id"):
        yield Doc(rid, unit, unpack(text), frozenset(heads.get(rid, ())))


def _figures(summary: list[dict], inds: dict[str, list[dict]]):
    """(peers.Figures, score_evidence rows) of the summary's reports."""
    from . import peers

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
    return figures, evidence


def peers_positions(figures) -> list[dict]:
    from . import peers

    return peers.positions(figures)


def _year_rows(summary: list[dict], inds: dict[str, list[dict]]) -> list[dict]:
    from . import years

    return [row for r, o in years.previous_pairs(summary)
            for row in years.changes(r, o, inds.get(r["report_id"], []), inds.get(o["report_id"], []))]


PASSAGE_TABLES = ("passages", "passage_places", "shared_passages")


def compute_passages(conn) -> dict[str, list[dict]]:
    """The rows of the passage tables (copied text), from every report's sections."""
    from . import passages

    found, pairs = passages.find(_docs(conn))
    # places numbered in (report_id, line) order: shared_passages is stored by these ids (jixiao/ddl.py PAIRS)
    place_id = {at: n for n, at in enumerate(sorted((rid, ln) for p in found for rid, ln, _ in p.place_list), 1)}
    return {
        "passages": [{"passage_id": p.passage_id, "text": p.text, "reports": p.reports, "units": p.units,
                      "places": p.places, "is_template": p.is_template, "template_reason": p.template_reason,
                      "report_id": p.report_id, "line": p.line} for p in found],
        # the text of each place once, in passage_places (not in each of its ≤ 10 pairs: 50 MB at 2,000 reports)
        "passage_places": [{"place_id": place_id[(rid, ln)], "passage_id": p.passage_id, "report_id": rid, "line": ln,
                            "text": text} for p in found for rid, ln, text in p.place_list],
        "shared_passages": [{"passage_id": x.passage_id, "report_id": x.report_id, "line": x.line,
                             "other_report_id": x.other_report_id, "other_line": x.other_line,
                             "similarity": x.similarity, "same_unit": x.same_unit, "is_template": x.is_template}
                            for x in pairs],
    }


def compute(conn) -> dict[str, list[dict]]:
    """Every row of the across tables, from the database's other tables."""
    out = compute_passages(conn)
    summary = summaries(conn)
    inds = indicator_rows(conn)
    figures, evidence = _figures(summary, inds)
    out["peer_positions"] = peers_positions(figures)
    out["score_evidence"] = evidence
    out["year_changes"] = _year_rows(summary, inds)
    return out


def write(conn, rows: dict[str, list[dict]], names: Iterable[str] = TABLE_NAMES) -> dict[str, int]:
    """Replace the across tables' rows; returns the row count per table."""
    from ..ddl import insert_sql, pair_rows, section_bodies, span_rows, storage_name
    from ..schema import table

    counts = {}
    for name in names:
        t = table(name)
        values = _values(t, rows.get(name, []))
        if t.stored_as == "passage_pairs":  # written with passage_places, whose place ids it refers to
            values = pair_rows({(r["report_id"], r["line"]): r["place_id"] for r in rows["passage_places"]}, values)
        elif t.stored_as == "passage_spans":  # the text as a span of its section's body where one holds it
            values = span_rows(section_bodies(conn), values)
        conn.execute(f"delete from [{storage_name(t)}]")
        conn.executemany(insert_sql(t), values)
        counts[name] = len(values)
    return counts


def _values(t, rows: list[dict]) -> list[tuple]:
    """Rows of table ``t`` (dicts) as the value tuples SQLite stores, in schema order."""
    from ..ddl import sql_value
    from ..rows import conform

    return [tuple(sql_value(f, r[f.name]) for f in t.fields) for r in (conform(t, r) for r in rows)]


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


def refresh(conn, changed_report_ids: Iterable[str], passages: bool = True) -> dict[str, int]:
    """After an in-place change of some reports (added, replaced or removed; their rows already
    written or deleted): bring the across tables up to date. Returns the rows written per table.

    ``passages=True``: everything is recomputed (a changed paragraph can match any report's), which
    at 10,000 reports costs what BENCHMARKS.md ("Findings across reports") says. ``passages=False``:
    only the figures — the peer groups, units and reports the change touches (bounded by the size of
    a peer group and of a unit's years); the passage tables then wait for the next full build.
    No changed report: nothing is done.
    """
    ids = list(dict.fromkeys(changed_report_ids))
    if not ids:
        return {}
    if passages:
        return build(conn)
    return refresh_figures(conn, ids)


def refresh_passages(conn) -> dict[str, int]:
    """Recompute the passage tables alone (a changed paragraph can match any report's): the step
    an in-place change runs after its own transaction, so the change is visible first and the
    copied-text tables catch up in a second transaction (readers see the old ones until then)."""
    return write(conn, compute_passages(conn), PASSAGE_TABLES)


def refresh_figures(conn, ids: list[str]) -> dict[str, int]:
    """peer_positions, score_evidence and year_changes of what the changed reports ``ids`` touch."""
    from . import peers, years

    j = _json(ids)
    # peer groups and units before the change (the removed reports are known only there) and after
    groups = {(r["department_kind"], r["admin_level"] or "", r["fiscal_year"]) for r in _rows(
        conn, "select distinct department_kind, admin_level, fiscal_year from peer_positions "
              "where report_id in (select value from json_each(?)) and department_kind is not null", (j,))}
    linked = {x for r in _rows(conn, "select report_id, other_report_id from year_changes where report_id in "
                                     "(select value from json_each(?)) or other_report_id in (select value from "
                                     "json_each(?))", (j, j)) for x in (r["report_id"], r["other_report_id"])}
    now = _rows(conn, "select report_id, unit_name, province, city, county, fiscal_year, admin_level, department_kind "
                      "from reports where report_id in (select value from json_each(?)) or report_id in "
                      "(select value from json_each(?))", (j, _json(linked)))
    for r in now:
        if r["report_id"] in ids:
            g = peers.peer_group(peers.Figures(r["report_id"], None, r["fiscal_year"], r["admin_level"],
                                               r["department_kind"], {}, {}))
            if g:
                groups.add(g)
    units = {k for r in now if (k := years.unit_key(r))}
    in_groups, in_units = set(), set()
    for kind, level, year in groups:
        in_groups |= {r["report_id"] for r in _rows(
            conn, "select report_id from reports where department_kind = ? and coalesce(admin_level, '') = ? "
                  "and fiscal_year = ?", (kind, level, year))}
    for unit, province, city, county in units:
        in_units |= {r["report_id"] for r in _rows(
            conn, "select report_id from reports where unit_name = ? and coalesce(province, '') = ? "
                  "and coalesce(city, '') = ? and coalesce(county, '') = ?", (unit, province, city, county))}
    present = {r["report_id"] for r in now if r["report_id"] in ids}
    alone = present - in_groups  # no peer group (kind or year unknown): compared with itself only
    summary = summaries(conn, in_groups | in_units | present)
    inds = indicator_rows(conn, in_groups | in_units | present)
    figures, evidence = _figures(summary, inds)
    rows = {
        "peer_positions": peers_positions([f for f in figures if f.report_id in in_groups | alone]),
        "score_evidence": [e for e in evidence if e["report_id"] in present],
        "year_changes": _year_rows([s for s in summary if s["report_id"] in in_units], inds),
    }
    from ..ddl import insert_sql
    from ..schema import table

    drop = {"peer_positions": in_groups | set(ids), "score_evidence": set(ids), "year_changes": in_units | set(ids)}
    counts = {}
    for name, data in rows.items():
        t = table(name)
        conn.execute(f"delete from [{name}] where report_id in (select value from json_each(?))", (_json(drop[name]),))
        if name == "year_changes":
            conn.execute("delete from year_changes where other_report_id in (select value from json_each(?))", (j,))
        values = _values(t, data)
        conn.executemany(insert_sql(t), values)
        counts[name] = len(values)
    return counts
