"""Issue 15, build side: linear patterns, a time budget per file, dead workers, bounded names,
versioned outputs swapped by one pointer, stale temporaries swept, symlinks out of the input
refused, NFC names and an unforgeable build.log."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest
import sqlite_utils

import jixiao.jobs
from jixiao.build import build
from jixiao.parse.values import parse_value

from .conftest import REPORTS

SAMPLES = sorted(REPORTS.glob("*.txt"))
SMALL = next(p for p in SAMPLES if p.name.startswith("001"))  # 株洲市芦淞区司法局 2023


def kw(tmp_path, **extra):
    return dict(out=tmp_path / "o" / "jixiao.db", packages=tmp_path / "o" / "dp", cache_dir=None,
                workers=1, progress=False, **extra)


def errors_of(db_path):
    return list(sqlite_utils.Database(db_path)["build_errors"].rows)


# ---------------------------------------------------------------- 2: linear patterns, time budget


def test_number_pattern_is_linear_on_padded_cells():
    v = parse_value("\t1" + "\u3000" * 2400 + "x")
    assert v.kind == "text"
    v = parse_value("≥" + "\u3000" * 3000 + "95" + "\u3000" * 3000 + "%")
    assert v.kind == "number" and str(v.number) == "95" and v.unit == "%" and v.op == "≥"


def test_pipe_rule_pattern_is_linear():
    from jixiao.parse import tika

    assert tika._PIPE_RULE.match("|---" + " " * 200000 + "|x|") is None
    assert tika._PIPE_RULE.match("| --- | :---: |" + " " * 20000)
    assert tika._PIPE_RULE.match("   " * 5000 + "---|---") 


def test_a_file_over_its_time_budget_is_one_build_error(tmp_path, monkeypatch):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SMALL, src / "good.txt")
    (src / "slow.txt").write_text("slow", encoding="utf-8")
    real = jixiao.jobs.publish_file

    def slow(path, *a, **k):  # test-only stand-in for a parser that never ends
        if Path(path).name == "slow.txt":
            while True:
                time.sleep(0.05)
        return real(path, *a, **k)

    monkeypatch.setattr(jixiao.jobs, "publish_file", slow)
    for workers in (1, 2):
        out = tmp_path / f"o{workers}"
        result = build([src], out=out / "jixiao.db", packages=out / "dp", cache_dir=None, workers=workers,
                       progress=False, file_timeout=1)
        assert len(result.reports) == 1
        [err] = errors_of(out / "jixiao.db")
        assert err["source_file"].endswith("slow.txt") and "1 s" in err["error"]


# ---------------------------------------------------------------- 4: a worker that dies


def test_a_worker_that_dies_is_retried_then_reported(tmp_path, monkeypatch):
    """Forked workers inherit the test's stand-in for ``publish_file``, which kills its own
    process: once for ``flaky.txt`` (the retry builds it), always for ``boom.txt``."""
    src = tmp_path / "in"
    src.mkdir()
    for i, s in enumerate(SAMPLES[:3]):
        shutil.copy(s, src / f"{i}.txt")
    shutil.copy(SAMPLES[3], src / "flaky.txt")
    (src / "boom.txt").write_text("boom " * 10, encoding="utf-8")
    marker = tmp_path / "flaky-died-once"
    real = jixiao.jobs.publish_file

    def dying(path, *a, **k):
        name = Path(path).name
        if name == "boom.txt" or (name == "flaky.txt" and not marker.exists()):
            marker.touch()
            os.kill(os.getpid(), 9)
        return real(path, *a, **k)

    monkeypatch.setattr(jixiao.jobs, "publish_file", dying)
    out = tmp_path / "o"
    result = build([src], out=out / "jixiao.db", packages=out / "dp", cache_dir=None, workers=2, progress=False)
    assert len(result.reports) == 4, [(e.source_file, e.error) for e in result.errors]
    [err] = errors_of(out / "jixiao.db")
    assert err["source_file"].endswith("boom.txt") and "worker" in err["error"]


# ---------------------------------------------------------------- 5: bounded names


def test_a_long_unit_name_gives_a_bounded_folder(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    text = SMALL.read_text(encoding="utf-8").replace("株洲市芦淞区司法局", "株洲市芦淞区" + "司法局" * 30)
    (src / "long.txt").write_text(text, encoding="utf-8")
    result = build([src], **kw(tmp_path))
    assert len(result.reports) == 1 and not result.errors
    # per-report packages are made on request from the database (jixiao.package.report_package):
    # the folder inside the zip is bounded
    import io
    import zipfile

    from jixiao.package import report_package

    con = sqlite3.connect(tmp_path / "o" / "jixiao.db")
    rid, = con.execute("select report_id from reports").fetchone()
    names = zipfile.ZipFile(io.BytesIO(report_package(con, rid))).namelist()
    folders = {n.split("/")[0] for n in names}
    assert len(folders) == 1 and len(min(folders).encode()) <= 100 and "司法局司法局" in min(folders)


# ---------------------------------------------------------------- 12 + 14: versioned outputs


def test_the_served_file_never_changes_under_a_running_server(tmp_path):
    from jixiao.serve import Site

    o = kw(tmp_path)
    build([SAMPLES[0]], **o)
    out = o["out"]
    served = Site(db_path=out).db  # what `jixiao serve` opens: the pointer, resolved at start-up
    assert served != out and served.exists()
    before = served.read_bytes()
    conn = sqlite3.connect(f"file:{served}?immutable=1", uri=True)
    assert conn.execute("select count(*) from reports").fetchone() == (1,)
    build(SAMPLES[:3], **o)
    assert served.read_bytes() == before  # unchanged, still there
    assert conn.execute("select count(*) from reports").fetchone() == (1,)
    assert sqlite3.connect(out).execute("select count(*) from reports").fetchone() == (3,)
    assert Site(db_path=out).db != served
    # old versions go: only the current one and the one before are kept
    for _ in range(3):
        build(SAMPLES[:2], **o) if _ % 2 else build(SAMPLES[:3], **o)
    versions = list(out.parent.glob("jixiao.db.versions/*/jixiao.db"))
    assert 1 <= len(versions) <= 2


def test_an_interrupted_swap_is_finished_by_the_next_build(tmp_path, monkeypatch):
    """A kill between the package tree's rename and the database pointer's: the commit record
    left behind lets the next build roll the swap forward (both outputs of the same build)."""
    import jixiao.build as jb
    import jixiao.outputs

    o = kw(tmp_path)
    build([SAMPLES[0]], **o)

    def die(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(jixiao.outputs, "_point", die)
    with pytest.raises(KeyboardInterrupt):
        build(SAMPLES[:3], **o)
    monkeypatch.undo()
    jb.recover(o["out"], o["packages"])
    assert sqlite3.connect(o["out"]).execute("select count(*) from reports").fetchone() == (3,)
    corpus = json.loads((o["packages"] / "jixiao" / "datapackage.json").read_text(encoding="utf-8"))
    assert len(corpus["sources"]) == 3  # the tree of the same build


# ---------------------------------------------------------------- 13: stale temporaries, orphan workers


def test_stale_temporaries_are_swept(tmp_path):
    o = kw(tmp_path)
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / ".jixiao.db.abc123.tmp").write_bytes(b"x" * 100)
    for wal in ("-wal", "-shm"):  # a build killed while it shared its rows (DatabaseWriter.share)
        (tmp_path / "o" / f".jixiao.db.abc123.tmp{wal}").write_bytes(b"x" * 100)
    (tmp_path / "o" / ".dp.abc123.tmp").mkdir()
    (tmp_path / "o" / ".dp.abc123.tmp" / "f.csv").write_text("x")
    build([SAMPLES[0]], **o)
    assert sorted(p.name for p in (tmp_path / "o").iterdir() if ".tmp" in p.name) == []
    for name in (".jixiao.db.x.tmp", ".datapackages.x.tmp/", "build/.jixiao.db.x.tmp"):
        ignored = subprocess.run(["git", "check-ignore", "-q", name], cwd=Path(__file__).parent.parent)
        assert ignored.returncode == 0, name


def test_workers_do_not_outlive_a_killed_build(tmp_path):
    script = (
        "import os, sys, time\n"
        "from jixiao.jobs import run_jobs\n"
        "def slow(*a, **k):\n"
        "    time.sleep(60)\n"
        "import jixiao.jobs as jb\n"
        "jb.work = slow\n"
        "jobs = [(str(i), 'x', None, None, None, None) for i in range(2)]\n"
        "print(os.getpid(), flush=True)\n"
        "next(run_jobs(jobs, 2))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    proc.stdout.readline()
    deadline = time.time() + 20
    kids = []
    while time.time() < deadline and len(kids) < 2:
        time.sleep(0.2)
        kids = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
    assert len(kids) >= 2
    proc.kill()
    proc.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(Path(f"/proc/{k}").exists() and
                                         "Z" not in Path(f"/proc/{k}/stat").read_text().split()[2] for k in kids):
        time.sleep(0.1)
    alive = [k for k in kids if Path(f"/proc/{k}").exists() and "Z" not in Path(f"/proc/{k}/stat").read_text().split()[2]]
    for k in alive:
        os.kill(k, 9)
    assert alive == []


# ---------------------------------------------------------------- 21: symlinks out of the input


def test_symlinks_outside_the_input_are_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(SAMPLES[0], outside / "secret.txt")
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SAMPLES[1], src / "good.txt")
    (src / "link.txt").symlink_to(outside / "secret.txt")
    (src / "linkdir").symlink_to(outside, target_is_directory=True)
    (src / "inside.txt").symlink_to(src / "good.txt")  # inside the input: a duplicate, fine
    result = build([src], **kw(tmp_path))
    assert len(result.reports) == 1
    errs = sorted(e["source_file"] for e in errors_of(tmp_path / "o" / "jixiao.db"))
    assert [Path(e).name for e in errs] == ["link.txt", "linkdir"]
    result = build([src], **kw(tmp_path / "f", follow_symlinks=True))
    assert len(result.reports) == 2 and not result.errors


# ---------------------------------------------------------------- 22: NFC ids, unforgeable log


def test_nfc_and_nfd_names_give_one_id(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    name = "株洲市芦淞区司法局"
    text = SMALL.read_text(encoding="utf-8")
    nfd = text.replace(name, "株洲市芦淞区Café司法局")
    nfd = unicodedata.normalize("NFD", nfd)  # e + combining acute
    (src / "a.txt").write_text(text.replace(name, "株洲市芦淞区Café司法局"), encoding="utf-8")
    (src / "b.txt").write_text(nfd, encoding="utf-8")
    result = build([src], **kw(tmp_path))
    ids = sorted(r.report_id for r in result.reports)
    assert len(ids) == 2 and ids[1] == ids[0] + "-2", ids
    assert all(unicodedata.is_normalized("NFC", i) for i in ids)


def test_a_newline_in_a_file_name_cannot_forge_log_lines(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SAMPLES[1], src / "good.txt")
    (src / "x.docx\nreports   999 built.docx").write_bytes(b"not a zip")
    build([src], **kw(tmp_path))
    log = (tmp_path / "o" / "build.log").read_text(encoding="utf-8")
    assert not any(line.startswith("reports   999") for line in log.splitlines())
    assert "x.docx\\nreports   999 built.docx" in log
