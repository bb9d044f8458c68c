"""Report model → rows of the published tables. Pure: no I/O.

:func:`report_rows` returns ``{table name: [row dict, …]}`` for every per-report table of
:mod:`jixiao.schema`; :func:`conform` makes every row carry exactly the schema's columns, in
schema order, so the database, the CSVs and the metadata can never disagree.

Values stay ``Decimal`` here; writers convert at the edge (SQLite: float, CSV: exact text).
Money is converted to 万元 (a report that prints 元 is divided by 10,000); the original
cell text goes to the ``*_text`` column.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from . import checks, indicators, verdicts
from .across.peers import department_kind
from .model import Evaluation, Report, Value
from .declarations import Table
from .schema import TABLES, table

TO_WANYUAN = {"万元": Decimal(1), "元": Decimal("0.0001"), "千元": Decimal("0.1"), "亿元": Decimal(10000)}
RATIO_PLACES = Decimal("0.0001")


def money(value: Value | None, money_unit: str = "万元") -> Decimal | None:
    """A money cell in 万元, or None when it is not a figure (or carries a non-money unit)."""
    if value is None or value.kind != "number" or value.number is None:
        return None
    factor = TO_WANYUAN.get(value.unit or money_unit)
    if factor is None:
        return None
    return _plain(value.number * factor)


def number(value: Value | None) -> Decimal | None:
    if value is None or value.kind != "number":
        return None
    return value.number


def text(value: Value | None) -> str | None:
    if value is None or value.is_blank:
        return None
    return value.clean


def _plain(d: Decimal) -> Decimal:
    """Drop exponent notation (0E+2 → 0) so CSV text is a plain decimal."""
    return d.quantize(Decimal(1)) if d == d.to_integral() and d.as_tuple().exponent > 0 else d


def money_cols(name: str, value: Value | None, money_unit: str) -> dict[str, Any]:
    return {name: money(value, money_unit), f"{name}_text": text(value)}


def number_cols(name: str, value: Value | None) -> dict[str, Any]:
    return {name: number(value), f"{name}_text": text(value)}


def evaluation_id(report: Report, ev: Evaluation) -> str:
    return f"{report.report_id}-{ev.seq}"


# ---------------------------------------------------------------- per table


def reports_rows(r: Report, findings_count: int, package_name: str | None) -> list[dict]:
    score, missing = checks.disclosure(r)
    return [{
        "report_id": r.report_id, "unit_name": r.unit_name, "fiscal_year": r.fiscal_year,
        "province": r.province, "city": r.city, "county": r.county, "division_code": r.division_code,
        "admin_level": r.admin_level, "department_kind": department_kind(r.unit_name),
        "report_kind": r.report_kind, "evaluator": r.evaluator,
        "title": r.title or None, "source_file": r.source_file, "source_sha256": r.source_sha256,
        "source_format": r.source_format, "encoding": r.encoding,
        **number_cols("total_score", r.total_score),
        **number_cols("stated_score", r.stated_score),
        "stated_score_line": r.stated_score.line,
        "stated_score_by": checks.stated_score_by(r),
        **number_cols("third_party_score", (tps := checks.third_party_score(r))),
        "third_party_score_line": tps.line if tps is not None else None,
        "disclosure_score": score, "disclosure_missing": list(missing),
        "sections_count": len(r.sections),
        "indicators_count": sum(len(e.indicators) for e in r.evaluations),
        "findings_count": findings_count,
        "warnings_count": len(r.warnings), "unparsed_count": len(r.unparsed),
        "line_counts": dict(sorted(r.line_counts.items())), "artefacts": dict(sorted(r.artefacts.items())),
        "package_name": package_name,
        "line": min(r.identity_lines.values()) if r.identity_lines else None,
        "source_url": r.source_url, "publisher": r.publisher, "published_date": r.published_date,
    }]


def sections_rows(r: Report) -> list[dict]:
    return [{
        "report_id": r.report_id, "seq": s.seq, "level": s.level, "number": s.number, "heading": s.heading,
        "path": s.path, "parent_seq": s.parent_seq, "body": s.body, "line_start": s.line_start,
        "line_end": s.line_end, "line": s.line_start,
    } for s in r.sections]


def staffing_rows(r: Report) -> list[dict]:
    s = r.staffing
    if s is None:
        return []
    return [{
        "report_id": r.report_id, **number_cols("authorized", s.authorized), **number_cols("actual", s.actual),
        **number_cols("control_rate", s.control_rate), "line": s.line,
    }]


def expense_controls_rows(r: Report) -> list[dict]:
    return [{
        "report_id": r.report_id, "seq": e.seq, "source": e.source, "label": e.label, "item": e.item, "key": e.key,
        "item_group": e.group, "parent_item": e.parent_item,
        **money_cols("prev_final", e.prev_final, e.money_unit), **money_cols("budget", e.budget, e.money_unit),
        **money_cols("final", e.final, e.money_unit), **money_cols("deviation", e.deviation, e.money_unit),
        "money_unit": e.money_unit, "placeholder": e.placeholder, "line": e.line,
    } for e in r.expense_controls]


def details_rows(r: Report) -> list[dict]:
    return [{
        "report_id": r.report_id, "table_seq": d.table_seq, "seq": d.seq, "number": d.number, "item": d.item,
        "parent_item": d.parent_item, **money_cols("amount", d.amount, d.money_unit), "money_unit": d.money_unit,
        "line": d.line,
    } for d in r.details]


def evaluations_rows(r: Report) -> list[dict]:
    rows = []
    for ev in r.evaluations:
        total = ev.funds_total
        mu = ev.money_unit
        rows.append({
            "evaluation_id": evaluation_id(r, ev), "report_id": r.report_id, "seq": ev.seq, "kind": ev.kind,
            "title": ev.title, "project_name": ev.project_name, "unit_cell": ev.unit_cell,
            "department": ev.department, "implementer": ev.implementer,
            **money_cols("initial_budget", total and total.initial_budget, mu),
            **money_cols("full_year_budget", total and total.full_year_budget, mu),
            **money_cols("executed", total and total.executed, mu),
            **number_cols("weight", total and total.weight),
            **number_cols("execution_rate", total and total.execution_rate),
            **number_cols("funds_score", total and total.score),
            **number_cols("total_weight", ev.total_weight), **number_cols("total_score", ev.total_score),
            "goal_expected": ev.goal_expected or None, "goal_actual": ev.goal_actual or None, "money_unit": mu,
            "line_start": ev.line_start, "line_end": ev.line_end, "line": ev.line_start,
        })
    return rows


def funds_rows(r: Report) -> list[dict]:
    return [{
        "evaluation_id": evaluation_id(r, ev), "report_id": r.report_id, "seq": i, "label": f.label, "key": f.key,
        **money_cols("initial_budget", f.initial_budget, ev.money_unit),
        **money_cols("full_year_budget", f.full_year_budget, ev.money_unit),
        **money_cols("executed", f.executed, ev.money_unit), **number_cols("weight", f.weight),
        **number_cols("execution_rate", f.execution_rate), **number_cols("score", f.score),
        "money_unit": ev.money_unit, "line": f.line,
    } for ev in r.evaluations for i, f in enumerate(ev.funds, 1)]


def by_nature_rows(r: Report) -> list[dict]:
    return [{
        "evaluation_id": evaluation_id(r, ev), "report_id": r.report_id, "seq": i, "key": n.key, "label": n.label,
        **money_cols("amount", n.value, ev.money_unit), "money_unit": ev.money_unit, "line": n.line,
    } for ev in r.evaluations for i, n in enumerate(ev.by_nature, 1)]


def indicators_rows(r: Report) -> list[dict]:
    rows = []
    for ev in r.evaluations:
        for ind in ev.indicators:
            v = verdicts.verdict(ind, ev.kind)
            target, actual, ratio = v.target, v.actual, v.ratio
            (l1, l1w), (l2, l2w) = indicators.split_group(ind.level1), indicators.split_group(ind.level2)
            rows.append({
                "evaluation_id": evaluation_id(r, ev), "report_id": r.report_id, "seq": ind.seq,
                "level1": l1, "level2": l2, "level3": ind.level3,
                "level1_text": ind.level1 or None, "level1_weight": l1w,
                "level2_text": ind.level2 or None, "level2_weight": l2w,
                "target": text(ind.target), "actual": text(ind.actual),
                **number_cols("weight", ind.weight), **number_cols("score", ind.score),
                "note": ind.note or None, "standard": ind.standard or None, "extra": dict(ind.extra),
                "placeholder": ind.placeholder,
                "target_op": target.op, "target_value": target.value, "target_unit": target.unit,
                "actual_value": actual.value, "actual_unit": actual.unit,
                "completion_ratio": None if ratio is None else ratio.quantize(RATIO_PLACES),
                "target_met": v.met, "verdict": v.verdict, "verdict_reason": v.reason, "lost_points": v.lost_points,
                "topic": indicators.topic(ind), "line": ind.line,
            })
    return rows


def findings_rows(r: Report) -> list[dict]:
    return [{
        "report_id": r.report_id, "seq": i, "rule": f.rule, "severity": f.severity, "message": f.message,
        "expected": f.expected, "actual": f.actual, "difference": f.difference, "lines": list(f.lines), "line": f.line,
    } for i, f in enumerate(checks.run_checks(r), 1)]


def warnings_rows(r: Report) -> list[dict]:
    return [{"report_id": r.report_id, "seq": i, "code": w.code, "message": w.message, "line": w.line}
            for i, w in enumerate(r.warnings, 1)]


def unparsed_rows(r: Report) -> list[dict]:
    return [{"report_id": r.report_id, "line": u.line, "text": u.text, "reason": u.reason} for u in r.unparsed]


def _page(r: Report, line: int | None) -> int | None:
    return r.line_pages[line - 1] if line and 0 < line <= len(r.line_pages) else None


def _file(r: Report, line: int | None) -> str:
    part = next((p for p in r.parts if line and p.line_start <= line <= p.line_end), None)
    return part.file if part else r.source_file


def source_tables_rows(r: Report) -> list[dict]:
    return [{
        "report_id": r.report_id, "table_seq": t.seq, "kind": t.kind, "caption": t.caption or None,
        "rows_count": len(t.rows), "columns_count": max((len(row) for row in t.rows), default=0),
        "money_unit": t.money_unit, "line_start": t.line_start, "line_end": t.line_end,
        "source_file": _file(r, t.line_start), "page": _page(r, t.line_start), "line": t.line_start,
    } for t in r.tables]


def table_cells_rows(r: Report) -> list[dict]:
    paged = bool(r.line_pages)
    return [{
        "report_id": r.report_id, "table_seq": t.seq, "row": i, "col": j, "table_kind": t.kind,
        "text": cell, "page": _page(r, line) if paged else None, "line": line,
    } for t in r.tables for i, (cells, lines) in enumerate(zip(t.rows, t.lines), 1)
        for j, (cell, line) in enumerate(zip(cells, lines), 1)]


def source_parts_rows(r: Report) -> list[dict]:
    parts = r.parts or []
    return [{
        "report_id": r.report_id, "part": n, "source_file": p.file, "source_sha256": p.sha256,
        "source_format": p.source_format, "line_start": p.line_start, "line_end": p.line_end,
    } for n, p in enumerate(parts, 1)]


def source_pages_rows(r: Report) -> list[dict]:
    """The first and last line of each page of each paged file."""
    rows: dict[tuple[str, int], dict] = {}
    for n, page in enumerate(r.line_pages, 1):
        if page is None:
            continue
        f = _file(r, n)
        row = rows.setdefault((f, page), {"report_id": r.report_id, "page": page, "source_file": f,
                                          "line_start": n, "line_end": n})
        row["line_end"] = n
    return list(rows.values())


def source_texts_rows(r: Report) -> list[dict]:
    from .textstore import pack

    text = r.source_text
    return [{"report_id": r.report_id, "lines_count": text.count("\n") + (0 if text.endswith("\n") else 1)
             if text else 0, "text": pack(text)}]


EXTRACTORS: dict[str, Callable[[Report], list[dict]]] = {
    "sections": sections_rows, "staffing": staffing_rows, "expense_controls": expense_controls_rows,
    "details": details_rows, "evaluations": evaluations_rows, "funds": funds_rows, "by_nature": by_nature_rows,
    "indicators": indicators_rows, "findings": findings_rows, "warnings": warnings_rows,
    "unparsed": unparsed_rows, "source_tables": source_tables_rows, "table_cells": table_cells_rows,
    "source_parts": source_parts_rows, "source_pages": source_pages_rows, "source_texts": source_texts_rows,
}


def conform(t: Table, row: dict) -> dict:
    """The row with exactly the schema's columns, in schema order; an unknown or missing key is a bug."""
    names = t.field_names
    if set(row) != set(names):
        extra, missing = sorted(set(row) - set(names)), sorted(set(names) - set(row))
        raise ValueError(f"{t.name}: row keys differ from the schema (extra {extra}, missing {missing})")
    return {n: row[n] for n in names}


def report_rows(report: Report, package_name: str | None = None) -> dict[str, list[dict]]:
    """Every per-report table's rows for one report, keyed by table name in schema order."""
    out: dict[str, list[dict]] = {}
    for name, extract in EXTRACTORS.items():
        out[name] = extract(report)
    out["reports"] = reports_rows(report, len(out["findings"]), package_name)
    return {t.name: [conform(t, row) for row in out[t.name]] for t in TABLES if t.per_report}


def build_error_row(source_file: str, error: str, line: int | None = None, sha256: str | None = None) -> dict:
    return conform(table("build_errors"),
                   {"source_file": source_file, "source_sha256": sha256, "line": line, "error": error})
