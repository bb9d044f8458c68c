"""Measure a report read from another format against the gold extraction of its sample.

``measure(report, sample)`` compares field by field (tests/gold.py) and returns the tally;
``scope="tables"`` leaves out the gold fields only a narrative holds (headings, the stated
score, the title), for formats that publish the tables alone (spreadsheets, forms).
"""
from __future__ import annotations

from tests.gold import compare, load_gold

GOLD = load_gold()
# What only the narrative holds: a tables-only publication cannot have these.
NARRATIVE_FIELDS = ("narrative_headings", "stated_score", "evaluator", "report_kind")


def sample_of(fixture_name: str) -> str:
    """'000_b20a9b01b0d85700.pdf' → '000_b20a9b01b0d85700.txt' (the gold key)."""
    stem = fixture_name.split(".")[0]
    return next(k for k in GOLD if k.split(".")[0] == stem)


def measure(report, sample: str, scope: str = "all"):
    return compare(GOLD[sample], report, NARRATIVE_FIELDS if scope == "tables" else ())
