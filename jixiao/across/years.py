"""Year over year for one unit: each report against the same unit's previous year. Pure: no I/O.

A unit is its name within its region (unit_name, province, city, county). Each report is compared
with the unit's report of the latest earlier year (the same report_kind first when there are
several). Key figures are compared one by one; indicators are matched by topic
(``jixiao/indicators.py``, ``vocab/topics.yml``) and wording: same topic (or both without one) and
names at least :data:`MIN_SIMILARITY` alike (bigram Jaccard), most alike first, each used once.
"""
from __future__ import annotations

import unicodedata
from decimal import Decimal

MIN_SIMILARITY = 0.5

# key figure → (Chinese name, unit, report_summary column of its source line)
FIGURES = {
    "full_year_budget": ("全年预算数", "万元", "funds_line"),
    "executed": ("全年执行数", "万元", "funds_line"),
    "execution_rate": ("预算执行率", "%", "funds_line"),
    "three_public_final": ("三公经费本年决算数", "万元", "three_public_line"),
    "staff_authorized": ("编制数", "人", "staff_line"),
    "staff_actual": ("实有人数", "人", "staff_line"),
    "total_score": ("自评总分", "分", None),
    "stated_score": ("正文所述得分", "分", None),
    "disclosure_score": ("公开完整度", "分", None),
    "findings": ("发现问题数", "件", None),
}


def unit_key(r: dict) -> tuple | None:
    if not r.get("unit_name") or r.get("fiscal_year") is None:
        return None
    return (r["unit_name"], r.get("province") or "", r.get("city") or "", r.get("county") or "")


def previous_pairs(reports: list[dict]) -> list[tuple[dict, dict]]:
    """(report, the same unit's report of the latest earlier year) for every report that has one."""
    units: dict[tuple, list[dict]] = {}
    for r in reports:
        k = unit_key(r)
        if k:
            units.setdefault(k, []).append(r)
    pairs = []
    for rs in units.values():
        for r in rs:
            earlier = [o for o in rs if o["fiscal_year"] < r["fiscal_year"]]
            if not earlier:
                continue
            year = max(o["fiscal_year"] for o in earlier)
            same = sorted((o for o in earlier if o["fiscal_year"] == year),
                          key=lambda o: (o.get("report_kind") != r.get("report_kind"), o["report_id"]))
            pairs.append((r, same[0]))
    pairs.sort(key=lambda p: p[0]["report_id"])
    return pairs


def _num(v):
    return float(v) if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) else None


def _change(v, o) -> tuple[float | None, float | None]:
    if v is None or o is None:
        return None, None
    d = round(v - o, 4)
    return d, (round(100.0 * d / o, 2) if o else None)


def _bigrams(s: str) -> frozenset[str]:
    s = "".join(ch for ch in unicodedata.normalize("NFKC", s or "") if unicodedata.category(ch)[0] not in "PZSC")
    return frozenset(s[i:i + 2] for i in range(max(1, len(s) - 1)))


def _alike(a: str, b: str) -> float:
    x, y = _bigrams(a), _bigrams(b)
    return round(len(x & y) / len(x | y), 4) if x or y else 1.0


def match_indicators(now: list[dict], before: list[dict]) -> list[tuple[dict, dict, float]]:
    """Pairs (this year's indicator, last year's, name similarity), most alike first, each used once."""
    scored = []
    for i, a in enumerate(now):
        for j, b in enumerate(before):
            if (a.get("topic") or None) != (b.get("topic") or None):
                continue
            s = _alike(a.get("level3") or "", b.get("level3") or "")
            if s >= MIN_SIMILARITY:
                scored.append((-s, i, j))
    scored.sort()
    used_a, used_b, out = set(), set(), []
    for s, i, j in scored:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        out.append((now[i], before[j], -s))
    out.sort(key=lambda m: (m[0].get("line") or 0, m[0].get("seq") or 0))
    return out


def changes(r: dict, o: dict, ind_now: list[dict], ind_before: list[dict]) -> list[dict]:
    """The rows comparing report ``r`` with ``o`` (both report_summary rows) and their indicators."""
    base = {"report_id": r["report_id"], "other_report_id": o["report_id"], "unit_name": r.get("unit_name"),
            "fiscal_year": r.get("fiscal_year"), "other_fiscal_year": o.get("fiscal_year")}
    rows = []
    for key, (name, unit, line_col) in FIGURES.items():
        v, w = _num(r.get(key)), _num(o.get(key))
        if v is None and w is None:
            continue
        d, pct = _change(v, w)
        rows.append({**base, "kind": "figure", "item": key, "item_name": name, "value": v, "other_value": w,
                     "change_value": d, "change_pct": pct, "unit": unit, "value_text": None,
                     "other_value_text": None, "verdict": None, "other_verdict": None, "match_similarity": None,
                     "line": r.get(line_col) if line_col else None,
                     "other_line": o.get(line_col) if line_col else None})
    for a, b, s in match_indicators(ind_now, ind_before):
        v, w = _num(a.get("actual_value")), _num(b.get("actual_value"))
        same_unit = (a.get("actual_unit") or "") == (b.get("actual_unit") or "")
        d, pct = _change(v, w) if same_unit else (None, None)
        rows.append({**base, "kind": "indicator", "item": a.get("topic"), "item_name": a.get("level3"),
                     "value": v, "other_value": w, "change_value": d, "change_pct": pct,
                     "unit": a.get("actual_unit") if same_unit else None,
                     "value_text": a.get("actual"), "other_value_text": b.get("actual"),
                     "verdict": a.get("verdict"), "other_verdict": b.get("verdict"), "match_similarity": s,
                     "line": a.get("line"), "other_line": b.get("line")})
    for n, row in enumerate(rows, 1):
        row["seq"] = n
    return rows
