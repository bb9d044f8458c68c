"""Data packages: the corpus package (CSV.gz + Parquet per table) valid Frictionless, written
from the database, reproducible byte for byte, committed copy current; one report's package
built on request, the same bytes every time."""
from __future__ import annotations

import csv
import gzip
import io
import json
import re
import shutil
import sqlite3
import zipfile

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from frictionless import Package

from jixiao import build_dates, package
from jixiao.build import build
from jixiao.cli import cli
from jixiao.schema import TABLES
from jixiao.validate import validate

from .conftest import REPORTS, ROOT, query_rows

YUEYANG = "2024-岳阳市司法局"


def tree(path):
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def report_zip(db, report_id=YUEYANG) -> bytes:
    conn = sqlite3.connect(db)
    try:
        return package.report_package(conn, report_id)
    finally:
        conn.close()


def test_one_corpus_package_of_every_schema_table(built):
    # few files: the corpus package only, one CSV.gz and one Parquet per table of the schema
    assert [p.name for p in built.packages.iterdir()] == ["jixiao"]
    names = sorted(p.name for p in (built.packages / "jixiao").iterdir())
    assert names == sorted(["datapackage.json"] + [f"{t.name}.csv.gz" for t in TABLES]
                           + [f"{t.name}.parquet" for t in TABLES])
    desc = json.loads((built.packages / "jixiao" / "datapackage.json").read_text(encoding="utf-8"))
    tables = [r for r in desc["resources"] if r["type"] == "table"]
    assert [r["name"] for r in tables] == [t.name for t in TABLES]
    assert all(r["compression"] == "gz" and r["path"].endswith(".csv.gz") for r in tables)
    files = [r for r in desc["resources"] if r["type"] == "file"]
    assert [r["path"] for r in files] == [f"{t.name}.parquet" for t in TABLES]
    assert all(r["hash"].startswith("sha256:") and r["bytes"] > 0 for r in files)


def test_corpus_package_validates_with_frictionless(built):
    report = Package(str(built.packages / "jixiao" / "datapackage.json")).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldNumber", "type", "message"])
    rows = {t.name: t.stats.get("rows") for t in report.tasks if t.type == "table"}
    assert rows["indicators"] == query_rows(built.db, "select count(*) n from indicators")[0]["n"] == 119


def test_frictionless_catches_a_broken_package(built, tmp_path):
    target = tmp_path / "p"
    shutil.copytree(built.packages / "jixiao", target)
    ind = target / "indicators.csv.gz"
    lines = gzip.decompress(ind.read_bytes()).decode().splitlines(keepends=True)
    ind.write_bytes(gzip.compress("".join(lines[:2] + lines[1:2]).encode()))  # duplicate primary key
    cells = target / "reports.parquet"
    data = bytearray(cells.read_bytes())
    data[100] ^= 0xFF  # one byte of a Parquet file changed
    cells.write_bytes(bytes(data))
    report = Package(str(target / "datapackage.json")).validate()
    errors = {(t.name, e.type) for t in report.tasks for e in t.errors}
    assert ("indicators", "primary-key") in errors
    assert ("reports-parquet", "hash-count") in errors


def test_parquet_holds_the_database_rows_typed(built):
    t = pq.read_table(built.packages / "jixiao" / "indicators.parquet")
    assert t.schema.field("weight").type == "double" and t.schema.field("seq").type == "int64"
    assert t.schema.field("weight").metadata[b"title"].decode() == "分值"
    got = sorted(zip(*(t.column(c).to_pylist() for c in ("evaluation_id", "seq", "weight", "score"))))
    want = sorted((r["evaluation_id"], r["seq"], r["weight"], r["score"])
                  for r in query_rows(built.db, "select evaluation_id, seq, weight, score from indicators"))
    assert got == want and len(got) == 119
    staffing = pq.read_table(built.packages / "jixiao" / "staffing.parquet").to_pylist()
    assert {"report_id": YUEYANG, "authorized": 81, "actual": 76} .items() <= \
        next(r for r in staffing if r["report_id"] == YUEYANG).items()


def test_corpus_csv_rows_are_the_database_rows_in_key_order(built):
    with gzip.open(built.packages / "jixiao" / "expense_controls.csv.gz", "rt", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    db = query_rows(built.db, "select report_id, seq, item, final from expense_controls order by report_id, seq")
    assert [(r["report_id"], int(r["seq"]), r["item"]) for r in rows] == [(d["report_id"], d["seq"], d["item"])
                                                                          for d in db]
    assert [float(r["final"]) if r["final"] else None for r in rows] == [d["final"] for d in db]


def test_package_metadata(built):
    desc = json.loads(zipfile.ZipFile(io.BytesIO(report_zip(built.db))).read(f"{YUEYANG}/datapackage.json"))
    assert re.fullmatch(r"[a-z0-9._-]+", desc["name"]) and desc["name"].startswith("jixiao-430600-2024-")
    assert desc["created"] == "2025-01-01T00:00:00Z"  # derived from the fiscal year, not the clock
    [src] = desc["sources"]
    assert src["path"] == "000_b20a9b01b0d85700.txt" and len(src["sha256"]) == 64
    assert desc["licenses"][0]["name"] == "CC-BY-4.0"
    fields = {f["name"]: f for r in desc["resources"] if r["name"] == "evaluations" for f in r["schema"]["fields"]}
    assert fields["full_year_budget"] == {**fields["full_year_budget"], "unit": "万元", "currency": "CNY",
                                          "phase": "全年预算"}
    assert fields["execution_rate"]["unit"] == "%"
    corpus = json.loads((built.packages / "jixiao" / "datapackage.json").read_text(encoding="utf-8"))
    assert corpus["created"] == "2025-01-01T00:00:00Z" and len(corpus["sources"]) == 5


def test_report_package_from_the_database(built, tmp_path):
    body = report_zip(built.db)
    assert body == report_zip(built.db)  # the same bytes every time
    z = zipfile.ZipFile(io.BytesIO(body))
    assert z.namelist() == sorted(z.namelist())
    assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    ind = z.read(f"{YUEYANG}/indicators.csv").decode("utf-8")
    assert ind.startswith("\ufeffevaluation_id,report_id,seq,")  # BOM: Excel reads it as UTF-8
    assert len(ind.splitlines()) - 1 == query_rows(
        built.db, "select count(*) n from indicators where report_id = ?", YUEYANG)[0]["n"] == 20
    z.extractall(tmp_path)
    report = Package(str(tmp_path / YUEYANG / "datapackage.json")).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldNumber", "type", "message"])
    assert package.report_package(sqlite3.connect(built.db), "no-such-report") is None


def test_cli_package_writes_the_same_bytes(built, tmp_path):
    out = tmp_path / "one.zip"
    res = CliRunner().invoke(cli, ["package", YUEYANG, "--db", str(built.db), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_bytes() == report_zip(built.db)
    res = CliRunner().invoke(cli, ["package", "no-such-report", "--db", str(built.db), "-o", str(out)])
    assert res.exit_code != 0 and "no report 'no-such-report'" in res.output


def test_rebuild_is_byte_identical(built, tmp_path):
    build([REPORTS], out=tmp_path / "j.db", packages=tmp_path / "dp", cache_dir=None, workers=1, progress=False)
    assert tree(tmp_path / "dp") == tree(built.packages)
    assert report_zip(tmp_path / "j.db") == report_zip(built.db)


def test_committed_datapackages_are_current(built):
    committed, fresh = tree(ROOT / "datapackages"), tree(built.packages)
    stale = sorted(k for k in committed.keys() | fresh.keys() if committed.get(k) != fresh.get(k))
    assert not stale, f"datapackages/ is stale ({stale[:5]} …): run `jixiao build`"


def test_build_dates_are_kept_for_unchanged_content(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    samples = sorted(REPORTS.glob("*.txt"))[:2]
    for s in samples:
        shutil.copy(s, src / s.name)
    kw = dict(out=tmp_path / "out" / "j.db", packages=tmp_path / "out" / "dp", cache_dir=None, workers=1,
              progress=False)
    build([src], **kw)
    db = kw["out"]
    first = {r["source_sha256"]: r["first_built"] for r in query_rows(db, "select * from report_builds")}
    assert len(first) == 2 and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", d) for d in first.values())
    conn = sqlite3.connect(db.resolve())  # an earlier date, to tell kept from new
    conn.execute("update report_builds set first_built = '2020-01-02T03:04:05Z'")
    conn.commit()
    conn.close()
    changed = src / samples[1].name
    changed.write_text(changed.read_text(encoding="utf-8") + "\n（补充说明）\n", encoding="utf-8")
    build([src], **kw)
    got = {r["report_id"]: r for r in query_rows(db, "select * from report_builds")}
    kept = [r for r in got.values() if r["first_built"] == "2020-01-02T03:04:05Z"]
    assert len(got) == 2 and len(kept) == 1 and kept[0]["source_sha256"] in first  # unchanged content
    # and the date never enters the packages
    assert b"2020-01-02" not in b"".join(tree(kw["packages"]).values())


def test_jixiao_validate_passes(built):
    v = validate(built.packages, built.db, frictionless=False)  # Frictionless itself: test above
    assert v.ok, v.text()
    assert v.checked > 50


def test_jixiao_validate_catches_a_count_mismatch(built, tmp_path):
    db = tmp_path / "j.db"
    shutil.copy(built.db, db)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("delete from indicators where evaluation_id = '2024-岳阳市司法局-1' and seq = 1")
    conn.close()
    v = validate(built.packages, db, frictionless=False)
    assert not v.ok
    assert any("2024-岳阳市司法局: the model has 20 indicators, the database 19" in p for p in v.checks)
    assert "corpus package indicators: 119 rows, database 118" in v.checks
    assert "corpus package indicators.parquet: 119 rows, database 118" in v.checks


def test_jixiao_validate_catches_a_search_index_short_of_documents(built, tmp_path):
    from jixiao import search

    db = tmp_path / "j.db"
    shutil.copy(built.db, db)
    conn = sqlite3.connect(db)
    total = search.indexed_documents(conn)
    assert total == sum(1 for _ in search.documents(conn)) > 500
    rid = conn.execute("select min(report_id) from reports").fetchone()[0]
    gone = sum(1 for _ in search.documents(conn, [rid]))
    with conn:
        search.drop_reports(conn, [rid])  # its documents out of the index, its rows kept
    assert search.indexed_documents(conn) == total - gone
    conn.close()
    v = validate(built.packages, db, frictionless=False)
    assert f"sections_fts has {total - gone} documents, the tables give {total}" in v.checks


@pytest.mark.parametrize("workers", [1, 2])
def test_corpus_is_the_same_bytes_inline_or_in_processes(built, tmp_path, monkeypatch, workers):
    monkeypatch.setattr(package, "PARALLEL_BYTES", 0)  # the samples are small: force the pool
    monkeypatch.setattr(package, "BATCH_ROWS", 500)  # and several Parquet row groups
    package.write_corpus(built.db, tmp_path / "c", workers=workers)
    a = tree(tmp_path / "c")
    package.write_corpus(built.db, tmp_path / "d", workers=3 - workers)
    assert a == tree(tmp_path / "d")
    assert pq.ParquetFile(tmp_path / "c" / "table_cells.parquet").metadata.num_row_groups > 1


def test_package_begun_during_the_build_is_the_finished_databases(built, tmp_path, monkeypatch):
    # The per-report tables are final once every report is written: other processes write their
    # part of the corpus package while the build runs the passes across reports (the rows shared
    # through WAL, DatabaseWriter.share). The samples are small: force the pool.
    monkeypatch.setattr(package, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(package.os, "cpu_count", lambda: 2)
    begun = []
    start = package.CorpusWriter.start

    def spy(self, names):
        start(self, names)
        begun.append((list(names), sorted(self.futures)))

    monkeypatch.setattr(package.CorpusWriter, "start", spy)
    build([REPORTS], out=tmp_path / "j.db", packages=tmp_path / "dp", cache_dir=None, workers=1, progress=False)
    per_report = [t.name for t in TABLES if t.per_report]
    assert begun[0] == (per_report, sorted(per_report))  # begun before the tables across reports exist
    assert tree(tmp_path / "dp") == tree(built.packages)
    db = (tmp_path / "j.db").resolve()
    assert [p.name for p in db.parent.iterdir()] == ["j.db"]  # no -wal or -shm left beside it
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("pragma journal_mode").fetchone()[0] == "delete"
    finally:
        conn.close()


def test_a_shared_build_that_fails_leaves_nothing(tmp_path):
    from jixiao.database import DatabaseWriter

    w = DatabaseWriter(tmp_path / "j.db")
    w.share()
    reader = sqlite3.connect(f"file:{w.tmp}?mode=ro", uri=True)
    assert reader.execute("select count(*) from reports").fetchone() == (0,)
    reader.close()
    assert {p.name[len(w.tmp.name):] for p in tmp_path.iterdir()} == {"", "-wal", "-shm"}
    w.abort()
    assert list(tmp_path.iterdir()) == []


def test_build_dates_survive_a_change_in_place(built, tmp_path):
    db = tmp_path / "j.db"
    shutil.copy(built.db, db)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("update report_builds set first_built = '2001-02-03T04:05:06Z'")
    conn.close()
    build_dates.record_build_dates(db, db)  # e.g. an incremental update of the served file itself
    assert {r["first_built"] for r in query_rows(db, "select first_built from report_builds")} == \
        {"2001-02-03T04:05:06Z"}
