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
from typing import Any

from . import schema, views

# Datasette's own columns on table pages (not data).
CHROME = {"rowid": "行号", "Link": "链接"}


@dataclass(frozen=True)
class Meaning:
    key: str  # "table.column" of the first field with this name and title, or "derived:<key>"
    zh: str
    en: str = ""
    unit: str | None = None


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
