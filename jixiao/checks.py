"""Checks on a report's content → Findings (arithmetic, claims vs tables, disclosure)."""
from __future__ import annotations

from .model import Finding, Report


def run_checks(report: Report) -> list[Finding]:
    return []


def disclosure(report: Report) -> tuple[int, list[str]]:
    missing: list[str] = []
    if not report.expense_controls:
        missing.append("基础数据表")
    if report.overall is None:
        missing.append("整体自评表")
    score = round(100 * (1 - len(missing) / 2))
    return score, missing
