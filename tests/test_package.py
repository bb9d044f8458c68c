"""Data packages: valid Frictionless, reproducible byte for byte, committed copy current."""
from __future__ import annotations

import json
import re

import pytest
from frictionless import Package

from jixiao.build import build
from jixiao.validate import validate

from .conftest import REPORTS, ROOT


def tree(path):
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_every_package_validates(built):
    descriptors = sorted(built.packages.glob("*/datapackage.json"))
    assert len(descriptors) == 6  # 5 reports + the corpus
    for d in descriptors:
        report = Package(str(d)).validate()
        assert report.valid, (d.parent.name, report.flatten(["rowNumber", "fieldNumber", "type", "message"]))


def test_frictionless_catches_a_broken_package(built, tmp_path):
    import shutil

    target = tmp_path / "p"
    shutil.copytree(built.packages / "2024-岳阳市司法局", target)
    csv = target / "indicators.csv"
    lines = csv.read_text(encoding="utf-8").splitlines(keepends=True)
    csv.write_text(lines[0] + lines[1] + lines[1], encoding="utf-8")  # duplicate primary key
    report = Package(str(target / "datapackage.json")).validate()
    assert not report.valid
    assert "primary-key" in {e.type for t in report.tasks for e in t.errors}


def test_package_metadata(built):
    d = json.loads((built.packages / "2024-岳阳市司法局" / "datapackage.json").read_text(encoding="utf-8"))
    assert re.fullmatch(r"[a-z0-9._-]+", d["name"]) and d["name"].startswith("jixiao-430600-2024-")
    assert d["created"] == "2025-01-01T00:00:00Z"  # derived from the fiscal year, not the clock
    [src] = d["sources"]
    assert src["path"] == "000_b20a9b01b0d85700.txt" and len(src["sha256"]) == 64
    assert d["licenses"][0]["name"] == "CC-BY-4.0"
    fields = {f["name"]: f for r in d["resources"] if r["name"] == "evaluations" for f in r["schema"]["fields"]}
    assert fields["full_year_budget"] == {**fields["full_year_budget"], "unit": "万元", "currency": "CNY",
                                          "phase": "全年预算"}
    assert fields["execution_rate"]["unit"] == "%"


def test_rebuild_is_byte_identical(built, tmp_path):
    build([REPORTS], out=tmp_path / "j.db", packages=tmp_path / "dp", cache_dir=None, workers=1, progress=False)
    assert tree(tmp_path / "dp") == tree(built.packages)


def test_committed_datapackages_are_current(built):
    committed, fresh = tree(ROOT / "datapackages"), tree(built.packages)
    stale = sorted(k for k in committed.keys() | fresh.keys() if committed.get(k) != fresh.get(k))
    assert not stale, f"datapackages/ is stale ({stale[:5]} …): run `jixiao build`"


def test_jixiao_validate_passes(built):
    v = validate(built.packages, built.db, frictionless=False)  # Frictionless itself: test_every_package_validates
    assert v.ok, v.text()
    assert v.checked > 50


def test_jixiao_validate_catches_a_count_mismatch(built, tmp_path):
    import shutil

    import sqlite_utils

    db = tmp_path / "j.db"
    shutil.copy(built.db, db)
    conn = sqlite_utils.Database(db).conn
    with conn:
        conn.execute("delete from indicators where evaluation_id = '2024-岳阳市司法局-1' and seq = 1")
    v = validate(built.packages, db, frictionless=False)
    assert not v.ok
    assert any("2024-岳阳市司法局: the model has 20 indicators, the database 19" in p for p in v.checks)
