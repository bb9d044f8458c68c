"""The schema as descriptors: Frictionless Table Schemas and Datasette's metadata.yml.

:func:`frictionless_schema` gives the Table Schema of each table of :data:`jixiao.schema.TABLES`
(the CSVs of ``datapackages/``, see :mod:`jixiao.package`); :func:`datasette_metadata` and
:func:`metadata_yaml` give the titles and column descriptions, in Chinese and English, that
``jixiao build`` / ``jixiao metadata`` write to ``metadata.yml`` for Datasette 1.0a (the site's
configuration is datasette.yml, written by hand).
"""
from __future__ import annotations

from typing import Any

import yaml

from .declarations import Field, Table
from .schema import DATABASE, LICENSE, SOURCE_TITLE, TABLES

# ---------------------------------------------------------------- Frictionless


def frictionless_field(f: Field) -> dict[str, Any]:
    d: dict[str, Any] = {"name": f.name, "type": f.type, "title": f.zh, "description": f.en}
    if f.zh_description:
        d["zh_description"] = f.zh_description
    if f.unit:
        d["unit"] = f.unit
    if f.is_money:
        d["currency"] = "CNY"
        if f.phase:
            d["phase"] = f.phase
    constraints: dict[str, Any] = {}
    if f.required:
        constraints["required"] = True
    if f.enum:
        constraints["enum"] = list(f.enum)
    if f.minimum is not None:
        constraints["minimum"] = f.minimum
    if constraints:
        d["constraints"] = constraints
    return d


def frictionless_schema(t: Table, with_foreign_keys: bool = True) -> dict[str, Any]:
    """The Table Schema descriptor of one table (a plain dict, stable key order)."""
    d: dict[str, Any] = {
        "fields": [frictionless_field(f) for f in t.fields],
        "missingValues": [""],
        "primaryKey": list(t.primary_key),
    }
    if with_foreign_keys and t.foreign_keys:
        d["foreignKeys"] = [
            {"fields": [fk.column], "reference": {"resource": fk.table, "fields": [fk.other_column]}}
            for fk in t.foreign_keys
        ]
    return d


# ---------------------------------------------------------------- Datasette metadata


def column_description(f: Field) -> str:
    text = f"{f.description_zh}。{f.en}"
    if f.is_money and f.phase:
        text += f" [phase: {f.phase}]"
    return text


def datasette_metadata() -> dict[str, Any]:
    """The metadata.yml document for Datasette 1.0a (descriptions only; config is datasette.yml)."""
    common = {
        "license": LICENSE["name"],
        "license_url": LICENSE["path"],
        "source": SOURCE_TITLE,
    }
    tables = {}
    for t in TABLES:
        tables[t.name] = {
            "title": f"{t.zh} {t.en}",
            "description": f"{t.zh_description}\n{t.en_description}",
            **common,
            "columns": {f.name: column_description(f) for f in t.fields},
        }
    return {
        "title": "绩效自评报告开放数据 jixiao",
        "description": "部门整体支出绩效自评报告的结构化数据：章节、基础数据表、自评表、绩效指标与自动核对结果。"
        "金额单位为万元，比率为百分数。\n"
        "Structured data from Chinese government performance self-evaluation reports. "
        "Money in 万元 (10,000 yuan), rates in percent.",
        **common,
        "databases": {
            DATABASE: {
                "title": "绩效自评报告 Performance self-evaluation reports",
                **common,
                "tables": tables,
            }
        },
    }


def metadata_yaml() -> str:
    header = "# Generated from jixiao/schema.py by `jixiao build` / `jixiao metadata`. Do not edit by hand.\n"
    return header + yaml.safe_dump(datasette_metadata(), allow_unicode=True, sort_keys=False, width=1000)
