"""Field-by-field comparison of a parsed report with ../shared/gold/seeds.json.

Gold conventions (gold/README.md): cell text stripped (incl. U+3000) with line breaks
removed; a plain-number cell is a JSON number, anything else the original text; rows with
nothing in target/actual/weight/score are left out of indicator lists.
"""
from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

from jixiao.model import Report, Value

ROOT = Path(__file__).resolve().parent.parent
GOLD_PATHS = [ROOT.parent / "shared" / "gold" / "seeds.json", ROOT / "tests" / "data" / "seeds.json"]

THREE_PUBLIC_KEYS = {
    "total": "three_public_total",
    "vehicles": "vehicles",
    "vehicle_purchase": "vehicle_purchase",
    "vehicle_operation": "vehicle_operation",
    "overseas": "overseas",
    "reception": "reception",
}


def load_gold() -> dict:
    for p in GOLD_PATHS:
        if p.exists():
            return json.loads(p.read_text("utf-8"))
    raise FileNotFoundError("gold/seeds.json not found")


def same_value(gold, v: Value | str | None) -> bool:
    if isinstance(v, str) or v is None:
        got = (v or "").strip()
        return (gold is None and got == "") or (gold is not None and got == str(gold))
    if gold is None:
        return v.kind == "empty"
    if isinstance(gold, (int, float)) and not isinstance(gold, bool):
        return v.kind == "number" and v.unit is None and v.op is None and v.qualifier is None \
            and v.number == Decimal(str(gold))
    return v.clean == gold


def show(v) -> str:
    if isinstance(v, Value):
        return repr(v.clean)
    return repr(v)


class Tally:
    def __init__(self, skip: tuple[str, ...] = ()) -> None:
        self.checked = 0
        self.mismatches: list[str] = []
        self.skip = skip  # field paths left out (e.g. the narrative's, for a tables-only format)

    def check(self, where: str, gold, got) -> None:
        if self.skip and where.startswith(self.skip):
            return
        self.checked += 1
        if not same_value(gold, got):
            self.mismatches.append(f"{where}: gold {gold!r}, got {show(got)}")

    def count(self, where: str, gold_n: int, got_n: int) -> None:
        if self.skip and where.startswith(self.skip):
            return
        self.checked += 1
        if gold_n != got_n:
            self.mismatches.append(f"{where}: gold {gold_n} rows, got {got_n}")


def _three_public(t: Tally, where: str, gold: dict, rows) -> None:
    for gk, mk in THREE_PUBLIC_KEYS.items():
        row = next((r for r in rows if r.key == mk), None)
        for col in ("prev_final", "budget", "final"):
            t.check(f"{where}.{gk}.{col}", gold[gk][col], getattr(row, col) if row else None)


def _indicators(t: Tally, where: str, gold: list, inds, third_party: bool = False) -> None:
    real = [i for i in inds if not i.placeholder]
    t.count(where, len(gold), len(real))
    for n, (g, i) in enumerate(zip(gold, real)):
        w = f"{where}[{n}]"
        for f in ("level1", "level2", "level3"):
            t.check(f"{w}.{f}", g[f], i.__dict__[f])
        if third_party:
            t.check(f"{w}.standard_weight", g["standard_weight"], i.weight)
            t.check(f"{w}.score", g["score"], i.score)
            t.check(f"{w}.deduction_reason", g["deduction_reason"], i.note)
        else:
            for f in ("target", "actual", "weight", "score"):
                t.check(f"{w}.{f}", g[f], getattr(i, f))
            t.check(f"{w}.deviation_note", g["deviation_note"], i.note)


def _funds(t: Tally, where: str, gold: dict, ev) -> None:
    row = ev.funds_total if ev else None
    for f in ("initial_budget", "full_year_budget", "executed", "weight", "execution_rate", "score"):
        t.check(f"{where}.{f}", gold[f], getattr(row, f) if row else None)


def compare(gold: dict, r: Report, skip: tuple[str, ...] = ()) -> Tally:
    t = Tally(skip)
    t.check("unit_name", gold["unit_name"], r.unit_name)
    t.check("fiscal_year", gold["fiscal_year"], str(r.fiscal_year) if r.fiscal_year else None)
    t.check("region_city", gold["region_city"], r.city)
    t.check("region_district", gold["region_district"], r.county)
    t.check("admin_level", gold["admin_level"], r.admin_level)
    t.check("report_kind", gold["report_kind"], r.report_kind)
    t.check("evaluator", gold["evaluator"], r.evaluator)
    st = r.staffing
    for f in ("authorized", "actual", "control_rate"):
        t.check(f"staffing.{f}", gold["staffing"][f], getattr(st, f) if st else None)

    overall = r.overall
    _funds(t, "funds_total", gold["funds_total"], overall)
    nature = {n.key: n.value for n in (overall.by_nature if overall else [])}
    for k, g in gold["funds_total"]["by_nature"].items():
        t.check(f"funds_total.by_nature.{k}", g, nature.get(k))

    basic = [e for e in r.expense_controls if e.source == "basic_data"]
    tp_table = [e for e in r.expense_controls if e.source == "three_public_table"]
    basic_3p = [e for e in basic if e.group == "three_public"]
    _three_public(t, "three_public", gold["three_public"], tp_table or basic_3p)
    if "three_public_basic_data_table" in gold:
        _three_public(t, "three_public_basic_data_table", gold["three_public_basic_data_table"], basic_3p)

    lines = [e for e in basic if e.group == "project" and e.key != "project_total" and not e.placeholder]
    t.count("project_lines", len(gold["project_lines"]), len(lines))
    for n, (g, e) in enumerate(zip(gold["project_lines"], lines)):
        t.check(f"project_lines[{n}].name", g["name"], e.item)
        for col in ("prev_final", "budget", "final"):
            t.check(f"project_lines[{n}].{col}", g[col], getattr(e, col))
    total = next((e for e in basic if e.key == "project_total"), None)
    for col in ("prev_final", "budget", "final"):
        t.check(f"project_lines_total.{col}", gold["project_lines_total"][col], getattr(total, col) if total else None)

    _indicators(t, "overall_indicators", gold["overall_indicators"], overall.indicators if overall else [])
    t.check("overall_total_weight", gold["overall_total_weight"], overall.total_weight if overall else None)
    t.check("overall_total_score", gold["overall_total_score"], overall.total_score if overall else None)

    gs = gold["stated_score_in_narrative"]
    got = r.stated_score
    if "stated_score".startswith(t.skip or ("\0",)):
        pass
    elif gs is None:
        t.checked += 1
        if not got.is_blank:
            t.mismatches.append(f"stated_score: gold None, got {got.clean!r}")
    else:
        t.checked += 1
        gnum = Decimal(re.search(r"(\d+(?:\.\d+)?)\s*分", gs).group(1))
        if got.number != gnum or got.clean not in gs:
            t.mismatches.append(f"stated_score: gold {gs!r}, got {got.clean!r}")

    projects = [e for e in r.evaluations if e.kind == "project"]
    gp = gold.get("project_evaluations") or []
    t.count("project_evaluations", len(gp), len(projects))
    for n, (g, ev) in enumerate(zip(gp, projects)):
        w = f"project_evaluations[{n}]"
        t.check(f"{w}.project_name", g["project_name"], ev.project_name)
        _funds(t, f"{w}.funds", g["funds"], ev)
        t.count(f"{w}.indicator_count", g["indicator_count"], len([i for i in ev.indicators if not i.placeholder]))
        t.check(f"{w}.total_weight", g["total_weight"], ev.total_weight)
        t.check(f"{w}.total_score", g["total_score"], ev.total_score)
        _indicators(t, f"{w}.indicators", g["indicators"], ev.indicators)

    tp = next((e for e in r.evaluations if e.kind == "third_party"), None)
    if gold.get("third_party_indicators") is None:
        t.count("third_party_tables", 0, 1 if tp else 0)
    else:
        _indicators(t, "third_party_indicators", gold["third_party_indicators"], tp.indicators if tp else [], True)
        t.check("third_party_total.standard_weight", gold["third_party_total"]["standard_weight"], tp.total_weight if tp else None)
        t.check("third_party_total.score", gold["third_party_total"]["score"], tp.total_score if tp else None)

    headings = [s.number + s.heading for s in r.sections if s.level == 1]
    t.count("narrative_headings", len(gold["narrative_headings"]), len(headings))
    for n, (g, h) in enumerate(zip(gold["narrative_headings"], headings)):
        t.check(f"narrative_headings[{n}]", g, h)
    return t
