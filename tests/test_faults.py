"""Faults (issue 8): a build killed at any moment, or one that runs out of disk or cannot write,
leaves the previous build/jixiao.db and datapackages/ intact, and the next build completes.

Everything runs in temporary folders through `jixiao build --out … --packages …` in a
subprocess (its own process group, so SIGKILL takes the parser workers too); the repository's
build/ and datapackages/ are never touched.
"""
from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.heavy  # a minute or more: collected first (tests/conftest.py)

REPO = Path(__file__).resolve().parent.parent
SAMPLES = sorted((REPO / "reports").glob("*.txt"))
JIXIAO = [sys.executable, "-m", "jixiao.cli"]
TABLES = ("reports", "sections", "indicators", "evaluations", "build_errors")


def make_corpus(d: Path, copies: int) -> Path:
    """The samples plus ``copies`` edited copies of each (different bytes, same layout)."""
    d.mkdir(parents=True, exist_ok=True)
    for s in SAMPLES:
        text = s.read_text(encoding="utf-8")
        (d / s.name).write_text(text, encoding="utf-8")
        for k in range(copies):
            (d / f"{s.stem}_copy{k:02d}.txt").write_text(text.replace("。", f"。{'' if k % 2 else ' '}", k + 1)
                                                         + f"\n备注：第{k}份副本。\n", encoding="utf-8")
    return d


def run_build(src: Path, out: Path, cwd: Path, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*JIXIAO, "build", str(src), "--out", str(out / "jixiao.db"),
                           "--packages", str(out / "datapackages"), "--no-cache", "--workers", "2"],
                          cwd=cwd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, **kw)


def db_state(db: Path) -> dict:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
        return {t: con.execute(f"select count(*) from [{t}]").fetchone()[0] for t in TABLES}
    finally:
        con.close()


def tree_hash(d: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(d.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(d)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def file_hash(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def snapshot(out: Path) -> dict:
    return {"db": db_state(out / "jixiao.db"), "db_sha": file_hash(out / "jixiao.db"),
            "packages": tree_hash(out / "datapackages")}


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    base = tmp_path_factory.mktemp("faults")
    small = make_corpus(base / "small", copies=1)
    big = make_corpus(base / "big", copies=12)
    # The reference: what a complete build of each corpus gives.
    ref = {}
    for name, src in (("small", small), ("big", big)):
        out = base / f"ref_{name}"
        t = time.monotonic()
        proc = run_build(src, out, cwd=base)
        assert proc.returncode == 0, proc.stderr[-3000:]
        ref[name] = snapshot(out) | {"seconds": time.monotonic() - t}
    return base, small, big, ref


def test_sigkill_during_build_leaves_previous_outputs(corpora, tmp_path):
    base, small, big, ref = corpora
    out = tmp_path / "out"
    assert run_build(small, out, cwd=tmp_path).returncode == 0
    old = snapshot(out)
    assert old["db"] == ref["small"]["db"] and old["packages"] == ref["small"]["packages"]
    new_db, new_packages = ref["big"]["db"], ref["big"]["packages"]

    rnd = random.Random(int(os.environ.get("FAULT_SEED", "8")))
    span = max(ref["big"]["seconds"], 1.0)
    outcomes = []
    for attempt in range(6):
        delay = rnd.uniform(0.05, span * 1.1)
        proc = subprocess.Popen([*JIXIAO, "build", str(big), "--out", str(out / "jixiao.db"),
                                 "--packages", str(out / "datapackages"), "--no-cache", "--workers", "2"],
                                cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        time.sleep(delay)
        finished = proc.poll() is not None
        if not finished:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        # Each output is complete: the old one, or (if the kill came after its rename) the new one.
        state = db_state(out / "jixiao.db")
        assert state in (old["db"], new_db), f"kill after {delay:.2f}s: database is neither old nor new: {state}"
        pk = tree_hash(out / "datapackages")
        assert pk in (old["packages"], new_packages), f"kill after {delay:.2f}s: datapackages/ is partial"
        outcomes.append((round(delay, 2), "finished" if finished else "killed",
                         "old" if state == old["db"] else "new", "old" if pk == old["packages"] else "new"))
        if state == new_db or pk == new_packages:
            # Put the old outputs back so that the next kill is tested against them again.
            shutil.rmtree(out)
            assert run_build(small, out, cwd=tmp_path).returncode == 0
    print("kill outcomes (delay, process, db, packages):", outcomes)
    assert any(o[1] == "killed" for o in outcomes)

    # Leftovers of killed builds must not stop the next build, which completes.
    proc = run_build(big, out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert db_state(out / "jixiao.db") == new_db
    assert tree_hash(out / "datapackages") == new_packages
    leftovers = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
    print("temporary files left by killed builds:", leftovers)


def _assert_clear_failure(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode != 0, "the build claimed success"
    assert "Traceback" not in proc.stderr, "a traceback instead of a clear error:\n" + proc.stderr[-1500:]
    assert "error" in proc.stderr.lower()


def test_unwritable_output_paths(corpora, tmp_path):
    base, small, big, ref = corpora
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    for out in (Path("/proc/jixiao-test/out"), blocker / "out"):
        proc = run_build(small, out, cwd=tmp_path, timeout=120)
        _assert_clear_failure(proc)


@pytest.fixture
def tiny_tmpfs(tmp_path, corpora):
    """A tmpfs just big enough for the small corpus's outputs (root only)."""
    base, small, big, ref = corpora
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    size = sum(p.stat().st_size for p in (base / "ref_small").rglob("*") if p.is_file())
    size_k = int(size * 1.6 / 1024) + 256
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_k}k", "tmpfs", str(mnt)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill up (needs root): {res.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_disk_full_keeps_old_outputs(corpora, tiny_tmpfs, tmp_path):
    base, small, big, ref = corpora
    out = tiny_tmpfs / "out"
    proc = run_build(small, out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    old = snapshot(out)
    proc = run_build(big, out, cwd=tmp_path)
    assert proc.returncode != 0, "the build claimed success on a full disk"
    assert snapshot(out) == old
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")], "temporary files left behind"
    _assert_clear_failure(proc)
    assert "space" in proc.stderr.lower() or "full" in proc.stderr.lower(), proc.stderr[-2000:]


def test_read_only_output_directory(corpora, tmp_path):
    """A read-only mount (chmod does not stop root): the build fails clearly, outputs untouched."""
    base, small, big, ref = corpora
    mnt = tmp_path / "ro"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root): {res.stderr.strip()}")
    try:
        out = mnt / "out"
        assert run_build(small, out, cwd=tmp_path).returncode == 0
        old = snapshot(out)
        res = subprocess.run(["mount", "-o", "remount,ro", str(mnt)], capture_output=True, text=True)
        if res.returncode != 0:
            pytest.skip(f"cannot remount read-only: {res.stderr.strip()}")
        proc = run_build(big, out, cwd=tmp_path)
        assert proc.returncode != 0
        assert snapshot(out) == old
        _assert_clear_failure(proc)
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
