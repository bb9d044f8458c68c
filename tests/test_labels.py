"""One meaning, one label (issue 13, item 1).

Every column of every table, view and stored query shows one Chinese label, and a label names one
meaning. A column's *meaning* is worked out here independently of the labeller:

* a table column is its schema field (jixiao/schema.py). Fields of several tables with the same
  name and label are one meaning (``report_id``, ``line``, ``seq`` …); a field that copies another
  says so with ``same_as``;
* a column of a view or stored query is the field the SQL reads under that name (found with
  SQLite's authorizer, on the built database), or, where the SQL renames or computes it, what the
  data declares it to be (``columns`` of the query in datasette.yml, ``VIEW_COLUMNS`` in
  jixiao/views.py): a ``table.column``, a ``view.column`` or a derived meaning of ``views.DERIVED``.

The label is what the site shows: ``zh_column(source, column)`` of the running Datasette.
"""
from __future__ import annotations

import html
import re
import sqlite3
from collections import defaultdict

import pytest
import yaml
from datasette.utils import named_parameters

from jixiao import schema, views
from jixiao.search import register_functions

from .conftest import ROOT

QUERIES = yaml.safe_load((ROOT / "datasette.yml").read_text(encoding="utf-8"))["databases"]["jixiao"]["queries"]
SAMPLE_PARAMS = {"q": "调解"}  # a search needs a word; every other parameter may be empty
SQLITE_READ = 20


# ---------------------------------------------------------------- the oracle


def field_meaning(table: str, column: str) -> tuple[str, str]:
    """(key, label) of a schema field: one key per (name, label), following ``same_as``."""
    f = schema.table(table).field(column)
    same_as = getattr(f, "same_as", None)
    if same_as:
        return field_meaning(*same_as.split("."))
    first = next(t for t in schema.TABLES if any(g.name == f.name and g.zh == f.zh for g in t.fields))
    return f"{first.name}.{f.name}", f.zh


def run_with_reads(conn: sqlite3.Connection, sql: str) -> tuple[list[str], dict[str, set[str]]]:
    """Output columns of a query and the (table → columns) it reads."""
    reads: dict[str, set[str]] = defaultdict(set)

    def authorizer(action, arg1, arg2, *_):
        if action == SQLITE_READ and arg1 and arg2:
            reads[arg1].add(arg2)
        return sqlite3.SQLITE_OK

    conn.set_authorizer(authorizer)
    try:
        params = {p: SAMPLE_PARAMS.get(p, "") for p in named_parameters(sql)}
        cur = conn.execute(sql, params)
        cur.fetchmany(1)
    finally:
        conn.set_authorizer(None)
    return [d[0] for d in cur.description], reads


def declarations(source: str) -> tuple[dict[str, str], list[str]]:
    """(columns, columns_from) a view, other table or stored query declares."""
    d = QUERIES[source] if source in QUERIES else getattr(views, "VIEW_COLUMNS", {}).get(source) or {}
    return d.get("columns") or {}, d.get("columns_from") or []


def resolve(ref: str, known: dict) -> tuple[str, str]:
    derived = getattr(views, "DERIVED", {})
    if ref in derived:
        return f"derived:{ref}", derived[ref].zh
    table, _, column = ref.partition(".")
    if table in schema.TABLE_BY_NAME:
        return field_meaning(table, column)
    return known[(table, column)]


@pytest.fixture(scope="module")
def catalogue(built):
    """Every (kind, source, column) with its meaning (key, label) and the problems found on the way."""
    conn = sqlite3.connect(built.db)
    register_functions(conn)  # escape_fts and search_snippet, as the site registers them
    known: dict[tuple[str, str], tuple[str, str]] = {}
    entries, problems = [], []
    for t in schema.TABLES:
        for f in t.fields:
            known[(t.name, f.name)] = field_meaning(t.name, f.name)
            entries.append(("table", t.name, f.name))
    sources = [("view", name, sql) for name, sql in views.VIEWS.items()]
    # tables of the database outside the schema (not the FTS index, not SQLite's own)
    others = [n for (n,) in conn.execute("select name from sqlite_master where type = 'table' order by name")
              if n not in schema.TABLE_BY_NAME and n not in views.VIEWS and not n.startswith(("sections_fts", "sqlite_"))]
    sources += [("table", name, f"select * from [{name}]") for name in others]
    sources += [("query", name, q["sql"] if isinstance(q, dict) else q) for name, q in QUERIES.items()]
    for kind, source, sql in sources:
        columns, reads = run_with_reads(conn, sql)
        declared, columns_from = declarations(source)
        for stale in sorted(set(declared) - set(columns)):
            problems.append(f"{source}.{stale}: declared but not a column of the {kind}")
        for c in columns:
            candidates = {known[(t, c)] for t, cols in reads.items() if c in cols and (t, c) in known}
            if c in declared:
                try:
                    meaning = resolve(declared[c], known)
                except (KeyError, ValueError):
                    problems.append(f"{source}.{c}: declared as {declared[c]!r}, which is no field or meaning")
                    meaning = (f"unknown:{source}.{c}", None)
                if candidates and meaning not in candidates:
                    problems.append(f"{source}.{c}: declared as {declared[c]} but the SQL reads "
                                    f"{sorted(k for k, _ in candidates)}")
            elif len(candidates) == 1:
                meaning = candidates.pop()
            elif not candidates and any((t, c) in known for t in columns_from):
                # a column the SQL does not read under its name from a known table (e.g. select * from a
                # table outside the schema): the field of that name of the first table of columns_from
                meaning = next(known[(t, c)] for t in columns_from if (t, c) in known)
            else:
                why = f"ambiguous: {sorted(candidates)}" if candidates else "not a schema field and not declared"
                problems.append(f"{source}.{c}: no meaning ({why})")
                meaning = (f"unknown:{source}.{c}", None)
            known[(source, c)] = meaning
            entries.append((kind, source, c))
    conn.close()
    return {"known": known, "entries": entries, "problems": problems}


@pytest.fixture
def zh_column(ds):
    return ds.get_jinja_environment().globals["zh_column"]


def labelled(catalogue, zh_column):
    """(kind, source, column, label shown, meaning key, meaning label) for every column."""
    return [(kind, source, c, zh_column(source, c), *catalogue["known"][(source, c)])
            for kind, source, c in catalogue["entries"]]


# ---------------------------------------------------------------- (a) the walk


def test_every_table_and_view_of_the_database_is_walked(built, catalogue):
    conn = sqlite3.connect(built.db)
    names = {n for (n,) in conn.execute("select name from sqlite_master where type in ('table', 'view')")}
    conn.close()
    walked = {source for _, source, _ in catalogue["entries"]}
    assert {n for n in names if not n.startswith(("sections_fts", "sqlite_"))} <= walked


def test_every_column_has_a_meaning(catalogue):
    assert not catalogue["problems"], "\n".join(catalogue["problems"])


def test_every_column_is_labelled_with_its_own_meaning(catalogue, zh_column):
    wrong = []
    owners = defaultdict(set)  # label → fields whose label it is
    for t in schema.TABLES:
        for f in t.fields:
            owners[f.zh].add(f"{t.name}.{f.name}")
    for kind, source, c, label, key, zh in labelled(catalogue, zh_column):
        if zh is not None and label != zh:
            other = f" (the label of {', '.join(sorted(owners[label]))})" if owners.get(label) else ""
            wrong.append(f"{kind} {source}.{c} holds {key} ({zh}) but is labelled {label}{other}")
    assert not wrong, "\n".join(wrong)


def test_no_label_names_two_meanings(catalogue, zh_column):
    meanings = defaultdict(dict)  # label → meaning key → columns showing it
    for kind, source, c, label, key, _ in labelled(catalogue, zh_column):
        if label != c:  # an unlabelled column shows its own name
            meanings[label].setdefault(key, []).append(f"{source}.{c}")
    clashes = [f"{label}: " + "; ".join(f"{key} ← {', '.join(cols[:4])}{' …' if len(cols) > 4 else ''}"
                                          for key, cols in sorted(by_key.items()))
               for label, by_key in sorted(meanings.items()) if len(by_key) > 1]
    assert not clashes, "labels naming two meanings:\n" + "\n".join(clashes)


def test_a_label_without_its_source_is_given_only_to_an_unambiguous_name(catalogue, zh_column):
    """zh_column(None, name) (free SQL, parameters): a label only where the name has one meaning."""
    by_name = defaultdict(set)
    for _, source, c in catalogue["entries"]:
        by_name[c].add(catalogue["known"][(source, c)])
    wrong = []
    for name, ms in sorted(by_name.items()):
        label = zh_column(None, name)
        allowed = {name} | ({next(iter(ms))[1]} if len(ms) == 1 else set())
        if label not in allowed:
            wrong.append(f"{name} → {label}, but {name} means {sorted(k for k, _ in ms)}")
    assert not wrong, "\n".join(wrong)


def test_search_relevance_is_labelled_as_relevance_and_is_not_negative(built, zh_column):
    conn = sqlite3.connect(built.db)
    register_functions(conn)  # escape_fts and search_snippet, as the site registers them
    for name in ("search", "search_hits"):
        sql = QUERIES[name]["sql"]
        cur = conn.execute(sql, {p: SAMPLE_PARAMS.get(p, "") for p in named_parameters(sql)})
        columns = [d[0] for d in cur.description]
        rows = [dict(zip(columns, r)) for r in cur.fetchall()]
        assert rows, name
        labels = {c: zh_column(name, c) for c in columns}
        assert "得分" not in labels.values(), (name, labels)  # 得分 is an indicator's points
        shown = [c for c, label in labels.items() if label == "相关度"]
        assert shown == ["relevance"], (name, labels)
        values = [r["relevance"] for r in rows]
        assert all(v >= 0 for v in values), (name, values[:5])
        assert values == sorted(values, reverse=True), name  # most relevant first
    conn.close()


# ---------------------------------------------------------------- (b) the pages


def header_labels(page: str) -> dict[str, str]:
    """column name (the th's data-column, or its title) → label shown, for every header cell of a
    page (fragment). Query pages carry the name in data-column, /compare in data-col (no English
    tooltip, issue 14)."""
    cells = re.findall(r'<th[^>]*\b(?:data-column|data-col|title)="([^"]*)"[^>]*>(.*?)</th>', page, re.S)
    return {html.unescape(c): re.sub(r"<[^>]+>", "", html.unescape(text)).strip() for c, text in cells}


async def test_indicator_across_units_page_labels(ds):
    r = await ds.client.get("/jixiao/indicator_across_units")
    assert r.status_code == 200
    th = header_labels(r.text)
    assert th["actual"] == "实际完成值" and th["target"] == "年度指标值"
    assert th["score"] == "得分" and th["weight"] == "分值" and th["line"] == "原文行号"
    assert "实有人数" not in r.text


async def test_findings_overview_page_labels(ds):
    r = await ds.client.get("/jixiao/findings_overview")
    assert r.status_code == 200
    th = header_labels(r.text)
    assert th["actual"] == "实为" and th["expected"] == "应为" and th["message"] == "说明"
    assert "实有人数" not in th.values()


async def test_compare_page_labels(ds):
    r = await ds.client.get("/compare")
    assert r.status_code == 200
    sections = dict(re.findall(r'<section class="comparison" id="([^"]+)">(.*?)</section>', r.text, re.S))
    assert "indicator_across_units" in sections and "compare_units" in sections
    for name, body in sections.items():
        th = header_labels(body)
        staff = {c for c, label in th.items() if label == "实有人数"}
        assert staff <= {"staff_actual"}, (name, th)
    indicators = header_labels(sections["indicator_across_units"])
    assert indicators["actual"] == "实际完成值" and indicators["score"] == "得分"
    units = header_labels(sections["compare_units"])
    assert units["staff_actual"] == "实有人数" and units["staff_authorized"] == "编制数"
    assert len(set(units.values())) == len(units), units  # no two columns of a table share a label


async def test_search_query_page_shows_relevance(ds):
    r = await ds.client.get("/jixiao/search?q=调解")
    assert r.status_code == 200
    th = header_labels(r.text)
    assert th.get("relevance") == "相关度" and "得分" not in th.values()


async def test_query_download_headers_use_the_query_labels(ds):
    import io

    from openpyxl import load_workbook

    r = await ds.client.get("/jixiao/indicator_across_units.xlsx")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    header = [c.value for c in ws[1]]
    assert "实际完成值" in header and "实有人数" not in header
