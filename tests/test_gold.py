"""The parser measured against the gold extraction of the five samples, field by field."""
from pathlib import Path

import pytest

from jixiao.parse import parse_file

from .gold import compare, load_gold

ROOT = Path(__file__).resolve().parent.parent
GOLD = load_gold()


@pytest.mark.parametrize("name", sorted(GOLD))
def test_sample_matches_gold(name):
    report = parse_file(ROOT / "reports" / name)
    tally = compare(GOLD[name], report)
    accuracy = 1 - len(tally.mismatches) / tally.checked
    print(f"{name}: {tally.checked - len(tally.mismatches)}/{tally.checked} fields ({accuracy:.1%})")
    assert tally.mismatches == [], "\n".join(tally.mismatches)


def test_gold_accuracy_summary(tmp_path):
    checked = wrong = 0
    lines = []
    for name in sorted(GOLD):
        t = compare(GOLD[name], parse_file(ROOT / "reports" / name))
        checked += t.checked
        wrong += len(t.mismatches)
        lines.append(f"{name}: {t.checked - len(t.mismatches)}/{t.checked}")
    out = ROOT / "build" / "gold-accuracy.txt"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + f"\ntotal: {checked - wrong}/{checked} = {(checked - wrong) / checked:.2%}\n", "utf-8")
    assert checked > 700  # the comparison covers the whole gold file, not a sample of it
    assert wrong == 0


@pytest.mark.parametrize("name", sorted(GOLD))
def test_every_line_is_accounted_for(name):
    path = ROOT / "reports" / name
    report = parse_file(path)
    n_lines = len(path.read_text("utf-8").split("\n"))
    assert sum(report.line_counts.values()) in (n_lines, n_lines - 1)  # a final newline makes no line
    assert report.unparsed == []
    assert report.line_counts.get("unparsed", 0) == 0
