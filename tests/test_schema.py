"""The one schema: complete, used, and the committed metadata.yml is what it generates."""
from __future__ import annotations

import re

import yaml

from jixiao import ddl, metadata, rows, schema
from jixiao.schema import CORE_TABLES, TABLES

from .conftest import ROOT, database

# DESIGN.md "Core tables (public API names)": these columns must exist, named exactly so.
CORE_COLUMNS = {
    "reports": "report_id unit_name fiscal_year province city county admin_level report_kind evaluator "
               "source_file source_sha256 total_score stated_score",
    "sections": "report_id seq level number heading path body line_start line_end",
    "staffing": "report_id authorized actual control_rate",
    "expense_controls": "report_id seq item parent_item prev_final budget final line",
    "evaluations": "evaluation_id report_id kind project_name initial_budget full_year_budget executed weight "
                   "execution_rate funds_score total_score",
    "indicators": "evaluation_id report_id seq level1 level2 level3 target actual weight score note target_op "
                  "target_value target_unit actual_value actual_unit",
    "findings": "report_id rule severity message expected actual line",
    "unparsed": "report_id line text",
    "build_errors": "source_file line error",
}


def test_core_tables_and_columns_exist():
    for name in CORE_TABLES:
        assert set(CORE_COLUMNS[name].split()) <= set(schema.table(name).field_names), name


def test_every_field_is_documented():
    for t in TABLES:
        assert t.zh and t.en and t.zh_description and t.en_description, t.name
        assert re.fullmatch(r"[a-z_]+", t.name)
        for f in t.fields:
            assert f.zh and f.en, f"{t.name}.{f.name}"
            assert re.fullmatch(r"[a-z0-9_]+", f.name), f.name
            assert f.type in ddl.SQL_TYPES


def test_keys_name_real_fields():
    for t in TABLES:
        assert t.primary_key and set(t.primary_key) <= set(t.field_names), t.name
        for fk in t.foreign_keys:
            assert fk.column in t.field_names
            assert fk.other_column in schema.table(fk.table).field_names


def test_every_row_carries_its_source_line():
    for t in TABLES:
        if t.name == "source_texts":
            continue  # the canonical text itself: the lines every other table refers to
        assert "line" in t.field_names or "line_start" in t.field_names, t.name


def test_money_fields_have_their_text_twin():
    for t in TABLES:
        for f in t.fields:
            if f.is_money:
                assert f"{f.name}_text" in t.field_names, f"{t.name}.{f.name}"


def test_every_per_report_table_has_an_extractor():
    assert {t.name for t in TABLES if t.per_report} - {"reports"} == set(rows.EXTRACTORS)


def test_metadata_yml_is_current():
    committed = (ROOT / "metadata.yml").read_text(encoding="utf-8")
    assert committed == metadata.metadata_yaml(), "metadata.yml is stale: run `jixiao metadata`"


def test_metadata_names_only_real_columns(built):
    meta = yaml.safe_load(metadata.metadata_yaml())
    db = database(built.db)
    for name, t in meta["databases"]["jixiao"]["tables"].items():
        assert list(t["columns"]) == [c.name for c in db[name].columns]
        assert t["license"] and t["source"]


def test_database_matches_schema(built):
    db = database(built.db)
    for t in TABLES:
        if t.stored_as:  # a view of the schema's columns over a compact storage (jixiao/ddl.py: STORAGE)
            assert [c.name for c in db[t.name].columns] == t.field_names
            stored = {"table_grids": (["report_id", "table_seq"], []),  # per table: its key only
                      "passage_pairs": (["place_id", "other_place_id"], [["is_template", "same_unit", "similarity"],
                                                                          ["other_place_id"]]),
                      "passage_spans": (["place_id"], [["passage_id"], ["report_id", "line"]])}
            pks, others = stored[t.stored_as]
            assert db[t.stored_as].pks == pks
            assert sorted(i.columns for i in db[t.stored_as].indexes if i.origin != "pk") == others
            if t.stored_as == "passage_pairs":  # both places of every pair are there: one view row per stored pair
                assert db[t.name].count == db[t.stored_as].count > 0
            continue
        assert [c.name for c in db[t.name].columns] == t.field_names
        assert db[t.name].pks == list(t.primary_key)
        fks = {(fk.column, fk.other_table, fk.other_column) for fk in db[t.name].foreign_keys}
        assert fks == {(fk.column, fk.table, fk.other_column) for fk in t.foreign_keys}
        indexed = {tuple(i.columns)[0] for i in db[t.name].indexes}
        assert set(t.indexed) <= indexed, t.name
