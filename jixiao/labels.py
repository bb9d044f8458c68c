"""One meaning, one label: the Chinese label of every column of every table, view and stored query.

A column's label is the label of what it holds, looked up per (source, column), never by the
column's name alone:

* a table's column is its field in :mod:`jixiao.schema` (fields of several tables with the same
  name and title are one meaning: ``report_id``, ``line`` …; ``Field.same_as`` marks a copy);
* a view's column (and a column of another table outside the schema) is declared in
  :data:`jixiao.views.VIEW_COLUMNS`; a stored query's in datasette.yml, next to its SQL::

      columns_from: [findings, reports]   # a plain column: the field of that name of the first of these
      columns:                            # the others: table.column, view.column or a derived meaning
        snippet: snippet                  # (jixiao.views.DERIVED)

``tests/test_labels.py`` walks every table, view and stored query and fails when a label names two
meanings or a column is labelled with another column's meaning.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from . import schema, views

# Datasette's own columns on table pages (not data).
CHROME = {"rowid": "行号", "Link": "链接"}


@dataclass(frozen=True)
class Meaning:
    key: str  # "table.column" of the first field with this name and title, or "derived:<key>"
    zh: str
    en: str = ""
    unit: str | None = None


@lru_cache(maxsize=None)  # the schema is fixed; pages ask for each column's title several times
def field_meaning(table: str, column: str) -> Meaning:
    f = schema.table(table).field(column)
    if f.same_as:
        return field_meaning(*f.same_as.split(".", 1))
    first = next(t for t in schema.TABLES if any(g.name == f.name and g.zh == f.zh for g in t.fields))
    return Meaning(f"{first.name}.{f.name}", f.zh, f.en, f.unit)


class Labels:
    """Labels of the tables of the schema, the views and the given stored queries."""

    def __init__(self, queries: dict[str, Any] | None = None):
        self.declared = {name: d for name, d in views.VIEW_COLUMNS.items()}
        for name, q in (queries or {}).items():
            if isinstance(q, dict):
                self.declared[name] = {"columns_from": q.get("columns_from") or [], "columns": q.get("columns") or {}}
        self._unqualified: dict[str, Meaning | None] | None = None
        self._code_names: dict[tuple, dict[str, str] | None] = {}

    def resolve(self, ref: str) -> Meaning | None:
        """What a declaration names: a derived meaning, ``table.column`` or ``view.column``."""
        if ref in views.DERIVED:
            d = views.DERIVED[ref]
            return Meaning(f"derived:{ref}", d.zh, d.en, d.unit)
        source, _, column = ref.partition(".")
        return self.meaning(source, column) if column else None

    def meaning(self, source: str | None, column: str) -> Meaning | None:
        """What ``column`` of a table, view or stored query holds (None: unknown)."""
        t = schema.TABLE_BY_NAME.get(source or "")
        if t is not None:
            return field_meaning(t.name, column) if column in t.field_names else None
        declared = self.declared.get(source or "")
        if declared is None:
            return None
        if column in declared.get("columns", {}):
            return self.resolve(declared["columns"][column])
        for other in declared.get("columns_from", ()):
            if other != source and (m := self.meaning(other, column)) is not None:
                return m
        return None

    def unqualified(self, column: str) -> Meaning | None:
        """The meaning of a bare column name, when every table, view and query column of that name has
        the same one (free SQL, parameters); None when it has several or none."""
        if self._unqualified is None:
            found: dict[str, set] = {}
            for t in schema.TABLES:
                for f in t.fields:
                    found.setdefault(f.name, set()).add(field_meaning(t.name, f.name))
            for source, declared in self.declared.items():
                for c in declared.get("columns", {}):
                    if (m := self.meaning(source, c)) is not None:
                        found.setdefault(c, set()).add(m)
            self._unqualified = {c: next(iter(ms)) if len(ms) == 1 else None for c, ms in found.items()}
        return self._unqualified.get(column)

    def column(self, source: str | None, column: str) -> str:
        """The Chinese label of ``column`` of a table, view or stored query; its own name when unknown."""
        m = self.meaning(source, column) if source else None
        if m is None and column in CHROME:
            return CHROME[column]
        if m is None and (source is None or source not in schema.TABLE_BY_NAME):
            # free SQL, or a plain column a query does not declare: only an unambiguous name
            m = self.unqualified(column)
        return m.zh if m is not None else column

    def table(self, name: str | None) -> str:
        t = schema.TABLE_BY_NAME.get(name or "")
        return t.zh if t else views.VIEW_TITLES.get(name, name)

    # ---------------------------------------------------------------- codes stored in the data

    def origin(self, source: str | None, column: str) -> str | None:
        """Where a column of a table, view or stored query comes from: the concrete ``table.column``
        (following ``same_as``) or ``derived:<key>``; None when unknown.

        Unlike :meth:`meaning`, fields of several tables with one label stay apart here:
        ``funds.key`` and ``by_nature.key`` are both 项目代码 but hold different codes."""
        t = schema.TABLE_BY_NAME.get(source or "")
        if t is not None:
            if column not in t.field_names:
                return None
            f = t.field(column)
            return self.origin(*f.same_as.split(".", 1)) if f.same_as else f"{t.name}.{column}"
        declared = self.declared.get(source or "")
        if declared is None:
            return None
        if column in declared.get("columns", {}):
            ref = declared["columns"][column]
            if ref in views.DERIVED:
                return f"derived:{ref}"
            other, _, other_column = ref.partition(".")
            return self.origin(other, other_column) if other_column else None
        for other in declared.get("columns_from", ()):
            if other != source and (o := self.origin(other, column)) is not None:
                return o
        return None

    def code_names(self, source: str | None, column: str) -> dict[str, str] | None:
        """Chinese names of the codes a column holds (code → name), None when it holds no codes.

        ``source`` None (free SQL): only a column name that holds codes in one place only."""
        key = (source, column)
        if key not in self._code_names:
            if source is None:
                found = {o for t in schema.TABLES if column in t.field_names
                         if (o := self.origin(t.name, column)) in CODES.columns}
                names = CODES.columns[found.pop()] if len(found) == 1 else None
            else:
                names = CODES.columns.get(self.origin(source, column) or "")
            self._code_names[key] = names
        return self._code_names[key]

    def code(self, value: Any, source: str | None, column: str) -> str:
        """The Chinese name of a code in a column (the value itself when it has none)."""
        if value is None or value == "":
            return "" if value is None else value
        names = self.code_names(source, column)
        return names.get(str(value), str(value)) if names else str(value)


VOCAB = Path(__file__).resolve().parent / "vocab"


class Codes:
    """Chinese names of the codes stored in the data (rule codes, item keys, table kinds …), per
    column (``table.column`` or ``derived:<key>``, see :meth:`Labels.origin`).

    Each name is read from where it is declared (jixiao/vocab/headers.yml, jixiao/views.py
    ``SOURCE_TABLE_NAMES``, boolean fields of jixiao/schema.py); jixiao/vocab/codes.yml holds the
    names declared nowhere else. The data and the JSON/CSV API keep the codes; HTML pages show names.
    """

    def __init__(self):
        codes = yaml.safe_load((VOCAB / "codes.yml").read_text(encoding="utf-8"))
        headers = yaml.safe_load((VOCAB / "headers.yml").read_text(encoding="utf-8"))

        def first_wording(block):
            return {k: v[0] for k, v in (block or {}).items()
                    if v and isinstance(v[0], str) and not v[0].startswith("/")}

        items = first_wording(headers.get("expense_items"))
        openers: dict[str, list[str]] = {}
        for key, group in (headers.get("expense_groups") or {}).items():
            openers.setdefault(group, []).append(key)
        groups = {g: items[keys[0]] for g, keys in openers.items() if len(keys) == 1 and keys[0] in items}
        groups.update({g: items[g] for g in items if g not in groups})  # a group named after its one row
        groups.update(codes.get("item_groups") or {})
        tables = dict(codes.get("table_kinds") or {})
        tables.setdefault("basic_data", views.SOURCE_TABLE_NAMES["basic_data"])
        formats = codes.get("source_formats") or {}
        self.columns: dict[str, dict[str, str]] = {
            "findings.rule": codes.get("rules") or {},
            "warnings.code": codes.get("warnings") or {},
            "expense_controls.key": items,
            "expense_controls.item_group": groups,
            "expense_controls.source": dict(views.SOURCE_TABLE_NAMES),
            "derived:three_public_source": dict(views.SOURCE_TABLE_NAMES),
            "funds.key": first_wording(headers.get("funds_rows")),
            "by_nature.key": first_wording(headers.get("by_nature")),
            "evaluations.kind": codes.get("evaluation_kinds") or {},
            "source_tables.kind": tables,
            "unparsed.reason": codes.get("unparsed_reasons") or {},
            "reports.source_format": formats,
            "source_parts.source_format": formats,
        }
        for t in schema.TABLES:
            for f in t.fields:
                if f.type == "boolean" and not f.same_as:
                    self.columns[f"{t.name}.{f.name}"] = {"1": "是", "0": "否"}
        # Columns holding a JSON object whose keys are codes (how many of each).
        self.keys: dict[str, dict[str, str]] = {
            "reports.line_counts": codes.get("line_kinds") or {},
            "reports.artefacts": codes.get("artefact_kinds") or {},
        }
        self.parameters: dict[str, str] = codes.get("parameters") or {}

    def name(self, column: str, code: Any) -> str | None:
        """The name of ``code`` in a column (``table.column``), None when it has none."""
        return (self.columns.get(column) or {}).get(str(code))


CODES = Codes()
