"""Incremental builds in place (issue 16.4): `build(..., in_place=True)` changes the served file
itself in one WAL transaction — the same rows as a full build, no copy, no new version, readers
never see half of it, a failure leaves it as it was, and a live site shows it on the next request."""
from __future__ import annotations

import os
import shutil
import sqlite3
import threading

import pytest

from jixiao import search
from jixiao.build import build, versions_dir

from .conftest import REPORTS, ROOT

SAMPLES = sorted(REPORTS.glob("*.txt"))


def _tables(db):
    from .test_build import _tables as tables

    return tables(db)


@pytest.fixture
def corpus(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for s in SAMPLES[:3]:
        shutil.copy(s, src / s.name)
    kw = dict(out=tmp_path / "o" / "jixiao.db", packages=None, cache_dir=tmp_path / "cache", workers=1,
              progress=False)
    build([src], **kw)
    return src, kw


def _change(src):
    """One report changed (a new section at the end), one added."""
    changed = src / SAMPLES[1].name
    changed.write_bytes(changed.read_bytes() + "\n六、补充说明\n本单位另行补充说明法律援助情况。\n".encode())
    shutil.copy(SAMPLES[3], src / SAMPLES[3].name)


def _snapshot(db) -> tuple:
    """One read transaction: per report, its sections_count and its sections rows; summary ids."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None)
    try:
        con.execute("begin")
        counts = dict(con.execute("select report_id, sections_count from reports"))
        rows = dict(con.execute("select report_id, count(*) from sections group by report_id"))
        summary = {r for (r,) in con.execute("select report_id from report_summary")}
        hits = con.execute("select count(*) from sections_fts where sections_fts match '\"补充\" \"充说\" \"说明\"'").fetchone()
        con.execute("commit")
    finally:
        con.close()
    return counts, rows, summary, hits[0]


def test_in_place_equals_a_full_build_without_a_copy(tmp_path, corpus):
    src, kw = corpus
    live = kw["out"].resolve()
    inode = os.stat(live).st_ino
    _change(src)
    inc = build([src], in_place=True, **kw)
    assert (inc.parsed, inc.cached) == (2, 2) and not any("not possible" in line for line in inc.log)
    assert kw["out"].resolve() == live and os.stat(live).st_ino == inode  # the same file, changed
    assert len([d for d in versions_dir(kw["out"]).iterdir() if d.is_dir()]) == 1
    assert sqlite3.connect(live).execute("pragma journal_mode").fetchone()[0] == "wal"
    full = build([src], out=tmp_path / "f" / "jixiao.db", packages=None, cache_dir=None, workers=1, progress=False)
    assert inc.counts == full.counts and inc.reports == full.reports
    assert _tables(kw["out"]) == _tables(tmp_path / "f" / "jixiao.db")


def test_readers_see_before_or_after_never_between(corpus):
    src, kw = corpus
    before = _snapshot(kw["out"])
    _change(src)
    seen, bad, done = set(), [], threading.Event()

    def read():
        while True:
            last = done.is_set()
            counts, rows, summary, hits = _snapshot(kw["out"])
            if counts != {r: rows.get(r, 0) for r in counts} or summary != set(counts) or set(rows) - set(counts):
                bad.append((counts, rows, summary))
            seen.add((len(counts), hits))
            if last:
                return

    reader = threading.Thread(target=read)
    reader.start()
    try:
        build([src], in_place=True, **kw)
    finally:
        done.set()
        reader.join()
    after = _snapshot(kw["out"])
    assert bad == []
    assert len(after[0]) == len(before[0]) + 1 and after[3] > before[3]
    assert seen <= {(len(before[0]), before[3]), (len(after[0]), after[3])}
    assert (len(after[0]), after[3]) in seen


def test_a_failed_change_leaves_the_database_as_it_was(corpus, monkeypatch):
    src, kw = corpus
    before = _tables(kw["out"])
    _change(src)

    def boom(conn, ids):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(search, "index_reports", boom)
    with pytest.raises(Exception, match="disk on fire"):
        build([src], in_place=True, **kw)
    assert _tables(kw["out"]) == before


async def test_a_live_site_shows_the_change_on_the_next_request(corpus):
    from jixiao.serve import Site, make_datasette

    src, kw = corpus
    ds = make_datasette(Site(ROOT, db_path=kw["out"], live=True))
    await ds.invoke_startup()
    url = "/jixiao/reports.json?_shape=array&_col=report_id"
    first = {r["report_id"] for r in (await ds.client.get(url)).json()}
    _change(src)
    build([src], in_place=True, **kw)
    second = {r["report_id"] for r in (await ds.client.get(url)).json()}
    assert len(second) == len(first) + 1 and first < second
    rid = (second - first).pop()
    assert (await ds.client.get(f"/report/{rid}")).status_code == 200


def test_unchanged_files_are_not_read_again(corpus, monkeypatch):
    """A rebuild stats the inputs the previous build hashed instead of reading them; a changed
    file (new size or times) is read and hashed again."""
    import jixiao.inputs as inputs

    src, kw = corpus
    monkeypatch.setattr(inputs, "_RACY_NS", 0)  # the files were just written: no racy window here
    build([src], **kw)  # records the hashes
    read = []
    real = inputs.sha256_entry
    monkeypatch.setattr(inputs, "sha256_entry", lambda p: read.append(p.name) or real(p))
    again = build([src], **kw)
    assert read == [] and any("nothing changed" in line for line in again.log)
    _change(src)
    inc = build([src], in_place=True, **kw)
    assert sorted(read) == sorted([SAMPLES[1].name, SAMPLES[3].name]) and inc.parsed == 2
