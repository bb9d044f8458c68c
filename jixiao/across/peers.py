"""A unit among its peers, and its score against the evidence. Pure: no I/O.

Peers are the reports of the same department kind (部门类别, from the unit name through
``vocab/peers.yml``), the same administrative level and the same fiscal year. For each report
and each measure (:data:`MEASURES`) :func:`positions` gives its value, its rank among the peers
that have the measure (1 = highest value) and the peers' median, minimum and maximum.
"""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

VOCAB = Path(__file__).resolve().parent.parent / "vocab" / "peers.yml"

# measure → (Chinese name, unit). Rank 1 is the highest value whatever the measure means: for the
# 三公 change a high rank is a large increase.
MEASURES = {
    "execution_rate": ("预算执行率", "%"),
    "three_public_change_pct": ("三公经费增减率", "%"),
    "met_pct": ("指标达标率", "%"),
    "disclosure_score": ("公开完整度", "分"),
    "total_score": ("自评总分", "分"),
}
HIGH_SCORE = 95  # a self-score at or above this is "high" (the question: how many give themselves ≥ 95)
SCORE_BANDS = ((95, "95分及以上"), (90, "90–95分"), (80, "80–90分"), (float("-inf"), "80分以下"))  # a misprinted negative score too


@lru_cache(maxsize=None)
def _kinds() -> tuple[tuple[str, str | re.Pattern], ...]:
    data = yaml.safe_load(VOCAB.read_text(encoding="utf-8"))
    out = []
    for kind, words in (data.get("kinds") or {}).items():
        for w in words or []:
            w = str(w)
            out.append((kind, re.compile(w[1:-1]) if len(w) > 2 and w.startswith("/") and w.endswith("/") else w))
    return tuple(out)


def department_kind(unit_name: str | None) -> str | None:
    """部门类别 of a unit from its name: the kind whose keyword found in the name is longest
    (ties: the first in the vocabulary). None when no keyword is found."""
    if not unit_name:
        return None
    best, best_len = None, 0
    for kind, w in _kinds():
        if isinstance(w, re.Pattern):
            m = w.search(unit_name)
            n = len(m.group(0)) if m else 0
        else:
            n = len(w) if w in unit_name else 0
        if n > best_len:
            best, best_len = kind, n
    return best


def score_band(score: float | None) -> str | None:
    if score is None:
        return None
    return next(name for low, name in SCORE_BANDS if score >= low)


@dataclass(frozen=True)
class Figures:
    """A report's figures for the comparisons (from report_summary and the indicators)."""
    report_id: str
    unit_name: str | None
    fiscal_year: int | None
    admin_level: str | None
    department_kind: str | None
    values: dict  # measure → value (None when missing)
    lines: dict  # measure → source line of the figure (None when it has none)


def peer_group(f: Figures) -> tuple | None:
    if not f.department_kind or f.fiscal_year is None:
        return None
    return (f.department_kind, f.admin_level or "", f.fiscal_year)


def positions(figures: list[Figures]) -> list[dict]:
    """One row per report and measure with a value: its rank and the peers' spread."""
    groups: dict[tuple, list[Figures]] = {}
    for f in figures:
        g = peer_group(f)
        if g is not None:
            groups.setdefault(g, []).append(f)
    rows = []
    for f in figures:
        g = peer_group(f)
        peers = groups.get(g, [f]) if g else [f]
        for m, (zh, unit) in MEASURES.items():
            v = f.values.get(m)
            if v is None:
                continue
            vals = sorted((p.values[m] for p in peers if p.values.get(m) is not None), reverse=True)
            rows.append({
                "report_id": f.report_id, "measure": m, "measure_name": zh, "value": v, "unit": unit,
                "department_kind": f.department_kind, "admin_level": f.admin_level, "fiscal_year": f.fiscal_year,
                "peers": len(vals), "rank": 1 + sum(1 for x in vals if x > v),
                "peer_median": round(statistics.median(vals), 2), "peer_min": vals[-1], "peer_max": vals[0],
                "line": f.lines.get(m),
            })
    return rows


def evidence(report: dict, indicators: dict) -> dict:
    """One report's self-score against the evidence: indicators not met, points lost, findings.

    ``report``: its report_summary row; ``indicators``: counts (shown, judged, met, unmet, lost)."""
    judged, met = indicators.get("judged", 0), indicators.get("met", 0)
    score = report.get("total_score")
    return {
        "report_id": report["report_id"], "unit_name": report.get("unit_name"),
        "fiscal_year": report.get("fiscal_year"), "department_kind": report.get("department_kind"),
        "admin_level": report.get("admin_level"), "total_score": score, "score_band": score_band(score),
        "high_score": None if score is None else score >= HIGH_SCORE,
        "indicators_judged": judged, "indicators_unmet": indicators.get("unmet", 0),
        "indicators_lost_points": indicators.get("lost", 0),
        "met_pct": round(100.0 * met / judged, 1) if judged else None,
        "errors": report.get("findings_error") or 0, "doubts": report.get("findings_doubt") or 0,
        "line": indicators.get("first_unmet_line"),
    }
