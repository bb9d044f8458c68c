"""Checks on a report's content → :class:`Finding` rows, and disclosure completeness.

One module per concern, every rule a pure function ``Report -> list[Finding]``:

* :mod:`.arithmetic` — arithmetic and plausibility inside one table;
* :mod:`.cross_tables` — one table against another;
* :mod:`.prose` — the narrative against the tables and against itself;
* :mod:`.scores` — scores, weights and totals; who gave which score;
* :mod:`.evidence` — indicator rows against their own target and actual value;
* :mod:`.completeness` — what the report should hold (the disclosure score, attachments);
* :mod:`.base` — severities, the Finding constructor, tolerances, accessors of the model.

Severity: 错误 (the printed figures cannot all be right), 疑点 (a reader should ask),
提示 (worth knowing). Messages are Chinese with the numbers. :func:`run_checks` runs them
all in a fixed order; :func:`disclosure` scores completeness.
"""
from __future__ import annotations

from typing import Callable

from ..model import Finding, Report
from . import arithmetic, completeness, cross_tables, evidence, prose, scores
from .base import (  # noqa: F401 - the helpers are part of the package's API (tests, notebooks)
    CENT, COLUMNS, DOUBT, ERROR, NOTE, _child_index, _children, _finditer_near, aligned, fmt, narrative, ranked,
)
from .completeness import DISCLOSURE_PARTS, disclosure  # noqa: F401
from .scores import SELF, THIRD_PARTY, stated_score_by, third_party_score  # noqa: F401 - rows.py
from .prose import (  # noqa: F401 - patterns exercised by tests/test_checks.py
    _BREAKDOWN, _BREAKDOWN_CORE, _CTX_CORE, _CTX_FIG, _FACT, _FACT_CORE,
)

CHECKS: tuple[Callable[[Report], list[Finding]], ...] = (
    arithmetic.check_three_public_sum,
    arithmetic.check_vehicles_sum,
    arithmetic.check_project_lines_sum,
    arithmetic.check_public_funds_parts,
    arithmetic.check_basic_sum,
    arithmetic.check_subtotal_blank,
    arithmetic.check_three_public_column_blank,
    arithmetic.check_budget_equals_final,
    arithmetic.check_final_exceeds_budget,
    arithmetic.check_overseas_new,
    arithmetic.check_three_public_repeat,
    cross_tables.check_three_public_sources,
    arithmetic.check_deviation_column,
    cross_tables.check_detail_vs_basic,
    arithmetic.check_nature_sums,
    arithmetic.check_execution_rate,
    scores.check_funds_score,
    arithmetic.check_budget_adjustment,
    scores.check_score_over_weight,
    scores.check_total_score,
    scores.check_weights_sum,
    scores.check_stated_score,
    scores.check_scorers_disagree,
    scores.check_shifted_cells,
    evidence.check_score_vs_evidence,
    evidence.check_cost_claim,
    evidence.check_duplicate_indicators,
    cross_tables.check_indicator_swapped,
    cross_tables.check_indicator_reuse,
    prose.check_contradictory_qualifier,
    arithmetic.check_staffing,
    prose.check_narrative_staffing,
    prose.check_narrative_figures,
    prose.check_narrative_basic_sum,
    cross_tables.check_project_tables,
    prose.check_narrative_initial_budget,
    prose.check_narrative_projects,
    prose.check_narrative_counts,
    prose.check_narrative_arithmetic,
    prose.check_narrative_claims,
    completeness.check_attachments,
    completeness.check_orphan_tables,
    cross_tables.check_project_names,
    cross_tables.check_third_party_progress,
    prose.check_unit_mismatch,
    prose.check_narrative_amounts,
    arithmetic.check_procurement,
)


def run_checks(report: Report) -> list[Finding]:
    """All findings for one report, most severe first, then the largest difference first (see
    :func:`.base.ranked`); otherwise in check order. A failing check never stops the others."""
    out: list[Finding] = []
    for check in CHECKS:
        try:
            out.extend(check(report))
        except Exception as exc:  # noqa: BLE001 - bad input must not stop the build
            out.append(Finding("check_failed", NOTE, f"检查{check.__name__}未能完成：{exc!r}", None, None, None, []))
    return ranked(out)
