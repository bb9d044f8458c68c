"""The benchmark harness works (issue 7). No timing assertions: only that it runs end to end
at a tiny size, that the synthetic reports parse to what the generator intended, and that
the harness prints its figures."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import synth  # noqa: E402

pytestmark = pytest.mark.heavy  # a minute or more: collected first (tests/conftest.py)


def test_synthetic_reports_parse_to_the_intended_numbers():
    out = synth.BENCH_ROOT / "test-synth"
    synth.generate(25, out, seed=7, workers=1)
    files = sorted(out.glob("SYN_*.txt"))
    assert len(files) == 25
    for f in files:
        assert f.read_text(encoding="utf-8").lstrip("\ufeff").startswith(synth.MARKER)
        assert "合成数据" in f.read_text(encoding="utf-8").splitlines()[0]
    n, bad = synth.verify(out)
    assert n == 25
    assert bad == []
    recs = synth.read_manifest(out)
    assert len({r["report_id"] for r in recs}) == 25  # unique identities
    assert len({r["template"] for r in recs}) == len(list((ROOT / "reports").glob("*.txt")))
    # deterministic: same seed, same files
    again = synth.BENCH_ROOT / "test-synth-2"
    synth.generate(25, again, seed=7, workers=1)
    assert sorted(p.name for p in again.glob("SYN_*.txt")) == [p.name for p in files]


def test_generator_refuses_to_write_outside_build_bench(tmp_path):
    with pytest.raises(SystemExit):
        synth.generate(1, ROOT / "reports", seed=1)
    with pytest.raises(SystemExit):
        synth.generate(1, tmp_path, seed=1)
    assert not list((ROOT / "reports").glob("SYN_*"))


def test_harness_runs_and_prints_its_figures():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--sizes", "20", "--requests", "8"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    for needle in ("machine: cores", "mismatches 0", "build: cold", "cold build:", "reports/s", "peak RSS",
                   "one_changed_in_place", "nochange", "floor", "× the input", "p95", "req/s", "stock datasette",
                   "×stock", "our throughput / stock", "--live", "--workers 2", "search_rare", "recall"):
        assert needle in out, f"{needle!r} not in the harness output:\n{out[-3000:]}"
