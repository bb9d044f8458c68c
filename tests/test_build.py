"""jixiao build: counts equal the model, real values, bad files, duplicates, cache, atomic writes."""
from __future__ import annotations

import shutil
from decimal import Decimal

import pytest
import sqlite_utils
from click.testing import CliRunner

from jixiao import rows
from jixiao.build import NothingBuilt, build
from jixiao.cli import cli
from jixiao.model import Value
from jixiao.parse import parse_file

from .conftest import REPORTS, database

SAMPLES = sorted(REPORTS.glob("*.txt"))


def model_counts(report) -> dict[str, int]:
    evs = report.evaluations
    return {
        "sections": len(report.sections),
        "staffing": 1 if report.staffing else 0,
        "expense_controls": len(report.expense_controls),
        "details": len(report.details),
        "evaluations": len(evs),
        "funds": sum(len(e.funds) for e in evs),
        "by_nature": sum(len(e.by_nature) for e in evs),
        "indicators": sum(len(e.indicators) for e in evs),
        "warnings": len(report.warnings),
        "unparsed": len(report.unparsed),
        "source_tables": len(report.tables),
        "table_cells": sum(len(row) for t in report.tables for row in t.rows),
    }


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_db_row_counts_equal_the_model(built, path):
    report = parse_file(path)
    db = database(built.db)
    for name, expected in model_counts(report).items():
        n = db.execute(f"select count(*) from [{name}] where report_id = ?", [report.report_id]).fetchone()[0]
        assert n == expected, name


def test_summary_counts(built):
    r = built.result
    assert len(r.reports) == len(SAMPLES) == 5
    assert r.errors == [] and r.duplicates == 0
    db = database(built.db)
    assert {t: db[t].count for t in r.counts} == r.counts


def test_real_values_from_the_samples(built):
    db = database(built.db)
    row = next(db.query("select * from report_summary where report_id = '2024-岳阳市司法局'"))
    assert row["unit_name"] == "岳阳市司法局" and row["fiscal_year"] == 2024 and row["county"] is None
    assert (row["initial_budget"], row["full_year_budget"], row["executed"]) == (2048.27, 2754.61, 2572.48)
    assert row["execution_rate"] == 93.38  # percent, not 0.9338
    assert (row["three_public_prev_final"], row["three_public_final"]) == (33.7, 24.79)
    assert row["three_public_change"] == -8.91
    assert (row["staff_authorized"], row["staff_actual"], row["staff_control_rate"]) == (81, 76, 93.83)
    assert (row["total_score"], row["stated_score"]) == (99.34, 99)
    ec = db["expense_controls"].get(("2024-岳阳市司法局", 1))
    assert (ec["item"], ec["prev_final_text"], ec["line"]) == ("三公经费", "33.7", 86)
    # the third-party report: 三公 change comes from its 基础数据表, not from the separate 三公 table
    tp = next(db.query("select * from report_summary where report_id = '2022-邵阳市北塔区司法局-第三方'"))
    assert (tp["three_public_prev_final"], tp["three_public_final"], tp["project_tables"]) == (0.21, 0.89, 1)


def test_money_is_converted_from_yuan_and_keeps_its_text():
    v = Value("25,000.00", "number", Decimal("25000.00"))
    assert rows.money(v, "元") == Decimal("2.5")
    assert rows.money(v, "万元") == Decimal("25000.00")
    assert rows.money(Value("3万元", "number", Decimal("3"), unit="万元"), "元") == Decimal("3")
    assert rows.money(Value("93.38%", "number", Decimal("93.38"), unit="%")) is None
    assert rows.money(Value("——", "dash")) is None
    assert rows.money_cols("budget", v, "元") == {"budget": Decimal("2.5"), "budget_text": "25,000.00"}


def test_bad_file_goes_to_build_errors(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SAMPLES[1], src / SAMPLES[1].name)
    (src / "bad.docx").write_bytes(b"this is not a zip file")
    (src / ".hidden.txt").write_text("skipped", encoding="utf-8")
    result = build([src], out=tmp_path / "o" / "j.db", packages=tmp_path / "o" / "dp", cache_dir=None,
                   workers=1, progress=False)
    assert len(result.reports) == 1 and len(result.errors) == 1
    db = sqlite_utils.Database(tmp_path / "o" / "j.db")
    [err] = list(db["build_errors"].rows)
    assert err["source_file"].endswith("bad.docx") and err["error"]
    assert any("bad.docx" in line and "error" in line for line in result.log)
    assert (tmp_path / "o" / "build.log").read_text(encoding="utf-8").count("bad.docx") == 1


def test_exit_non_zero_only_when_nothing_built(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02 not a report")
    with pytest.raises(NothingBuilt):
        build([bad], out=tmp_path / "j.db", packages=tmp_path / "dp", cache_dir=None, workers=1, progress=False)
    assert not (tmp_path / "j.db").exists()
    res = CliRunner().invoke(cli, ["build", str(bad), "--out", str(tmp_path / "j.db"),
                                   "--packages", str(tmp_path / "dp"), "--no-cache"])
    assert res.exit_code != 0 and "no report could be built" in res.output
    res = CliRunner().invoke(cli, ["build", str(bad), str(SAMPLES[0]), "--out", str(tmp_path / "j.db"),
                                   "--packages", str(tmp_path / "dp"), "--no-cache", "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert "reports   1 built" in res.output and "errors 1" in res.output


def test_duplicates(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SAMPLES[0], src / "a.txt")
    shutil.copy(SAMPLES[0], src / "b.txt")  # same bytes: built once
    (src / "c.txt").write_bytes(SAMPLES[0].read_bytes() + "\n（补充说明）\n".encode())  # same report_id
    result = build([src], out=tmp_path / "j.db", packages=tmp_path / "dp", cache_dir=None, workers=1,
                   progress=False)
    assert result.duplicates == 1
    assert [r.report_id for r in result.reports] == ["2024-岳阳市司法局", "2024-岳阳市司法局-2"]
    assert [r.source_file for r in result.reports] == ["a.txt", "c.txt"]
    assert sorted(p.name for p in (tmp_path / "dp").iterdir()) == ["jixiao"]  # one corpus package
    rows = sqlite_utils.Database(tmp_path / "j.db").execute("select report_id, source_file from reports").fetchall()
    assert sorted(rows) == [("2024-岳阳市司法局", "a.txt"), ("2024-岳阳市司法局-2", "c.txt")]


def test_incremental_build_parses_nothing_the_second_time(tmp_path):
    kw = dict(out=tmp_path / "j.db", packages=tmp_path / "dp", cache_dir=tmp_path / "cache", workers=2,
              progress=False)
    first = build([REPORTS], **kw)
    assert (first.parsed, first.cached) == (5, 0)
    second = build([REPORTS], **kw)
    assert (second.parsed, second.cached) == (0, 5)
    assert second.counts == first.counts
    assert second.reports == first.reports
    assert second.reused_folders == 5  # every report folder hard-linked from the first tree
    # the linked tree is byte-identical to one written from scratch
    build([REPORTS], out=tmp_path / "fresh.db", packages=tmp_path / "fresh", cache_dir=None, workers=1,
          progress=False)
    def files(root):
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    assert files(tmp_path / "dp") == files(tmp_path / "fresh")


def test_a_failed_write_leaves_the_previous_outputs(tmp_path, monkeypatch):
    import jixiao.database

    kw = dict(out=tmp_path / "j.db", packages=tmp_path / "dp", cache_dir=None, workers=1, progress=False)
    build([SAMPLES[0]], **kw)
    before = (tmp_path / "j.db").read_bytes()

    def boom(self, **kw):
        raise RuntimeError("killed")

    monkeypatch.setattr(jixiao.database.DatabaseWriter, "close", boom)
    with pytest.raises(RuntimeError):
        build([REPORTS], **kw)
    assert (tmp_path / "j.db").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _tables(db_path):
    db = sqlite_utils.Database(db_path)
    # (sqlite_stat1, the planner's statistics, is refreshed by full builds only)
    names = [n for n in db.table_names() if not n.startswith(("sections_fts", "sqlite_"))] + ["sections_fts"]
    out = {}
    for n in names:
        if n == "sections_fts":  # the sections' terms in the index, keyed by their section, not by rowid
            db.execute("create virtual table if not exists temp.fts_terms using fts5vocab(main, sections_fts, 'instance')")
            rows = db.execute("select s.report_id, s.seq, v.term from temp.fts_terms v "
                              "join sections s on s.rowid = v.doc").fetchall()
            assert rows
        elif n == "report_builds":  # when each report was first built: a clock time, not content
            rows = db.execute("select report_id, source_sha256 from report_builds").fetchall()
        else:
            rows = db.execute(f"select * from [{n}]").fetchall()
        out[n] = sorted(rows, key=repr)
    hits = db.execute("select s.report_id, s.seq from sections_fts f join sections s on s.rowid = f.rowid "
                      "where sections_fts match '\"法律\" \"律援\" \"援助\"'").fetchall()
    out["search: 法律援助"] = sorted(hits)
    return out


def test_incremental_build_equals_a_full_build(tmp_path):
    """One report changed, one added, one removed: the incremental build's outputs equal a
    full build's (same rows, byte-identical packages), and only the changed files are parsed."""
    src = tmp_path / "in"
    src.mkdir()
    for s in SAMPLES[:4]:
        shutil.copy(s, src / s.name)
    kw = dict(out=tmp_path / "o" / "j.db", packages=tmp_path / "o" / "dp", cache_dir=tmp_path / "cache", workers=2,
              progress=False)
    build([src], **kw)
    again = build([src], **kw)
    assert (again.parsed, again.cached) == (0, 4) and any("nothing changed" in line for line in again.log)

    changed = src / SAMPLES[1].name
    changed.write_bytes(changed.read_bytes().replace("法律援助".encode(), "法律服务".encode(), 1))
    (src / SAMPLES[0].name).unlink()
    shutil.copy(SAMPLES[4], src / SAMPLES[4].name)
    inc = build([src], **kw)
    assert (inc.parsed, inc.cached) == (2, 2)
    assert not any("not possible" in line for line in inc.log)

    full = build([src], out=tmp_path / "f" / "j.db", packages=tmp_path / "f" / "dp", cache_dir=None, workers=1,
                 progress=False)
    assert inc.counts == full.counts and inc.reports == full.reports
    assert _tree(tmp_path / "o" / "dp") == _tree(tmp_path / "f" / "dp")
    assert _tables(tmp_path / "o" / "j.db") == _tables(tmp_path / "f" / "j.db")


def test_incremental_build_falls_back_on_a_report_id_clash(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SAMPLES[0], src / "b.txt")
    kw = dict(out=tmp_path / "o" / "j.db", packages=tmp_path / "o" / "dp", cache_dir=tmp_path / "cache", workers=1,
              progress=False)
    build([src], **kw)
    # a different file with the same report_id that sorts first takes the plain id
    (src / "a.txt").write_bytes(SAMPLES[0].read_bytes() + "\n（补充说明）\n".encode())
    inc = build([src], **kw)
    assert any("not possible" in line for line in inc.log)
    assert [(r.source_file, r.report_id) for r in inc.reports] == [("a.txt", "2024-岳阳市司法局"),
                                                                   ("b.txt", "2024-岳阳市司法局-2")]
    full = build([src], out=tmp_path / "f" / "j.db", packages=tmp_path / "f" / "dp", cache_dir=None, workers=1,
                 progress=False)
    assert _tree(tmp_path / "o" / "dp") == _tree(tmp_path / "f" / "dp")
    assert _tables(tmp_path / "o" / "j.db") == _tables(tmp_path / "f" / "j.db")
