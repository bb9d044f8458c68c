"""Each index of the built database is one the schema declares, and each is used by the query it
is there for (issue 16.1: indexes only where a page, a facet or a lookup needs them; see the index
notes above jixiao.ddl.create_indexes). Plans only: no timings here (benchmarks/ has those)."""
from __future__ import annotations

import sqlite3

import pytest
import yaml

from jixiao.schema import TABLES, table
from jixiao.textstore import register

from .conftest import ROOT

# composite index → the query that needs it (where it runs)
COMPOSITES = {
    # report_summary (jixiao/views.py): the report's first 部门整体 evaluation
    ("evaluations", ("report_id", "kind", "seq")):
        "select seq from evaluations where report_id = :id and kind = 'overall' order by seq limit 1",
}


@pytest.fixture(scope="module")
def conn(built):
    c = sqlite3.connect(f"file:{built.db}?mode=ro", uri=True)
    register(c)  # jixiao_text: table_cells reads its compressed grids with it
    yield c
    c.close()


def plan(conn, sql, **params) -> str:
    return " | ".join(r[3] for r in conn.execute("explain query plan " + sql, params))


def _indexes(conn):
    for name, tbl in conn.execute("select name, tbl_name from sqlite_master where type = 'index'"):
        yield name, tbl, tuple(r[2] for r in conn.execute(f"pragma index_info([{name}])"))


def test_every_index_is_declared(conn):
    declared = {(t.name, tuple(cols)) for t in TABLES for cols in t.indexes}
    declared |= {(t.name, (c,)) for t in TABLES for c in t.indexed}
    declared |= {(t.name, tuple(t.primary_key)) for t in TABLES}
    schema_tables = {t.name for t in TABLES}
    stray = [(tbl, cols) for _, tbl, cols in _indexes(conn)
             if tbl in schema_tables and (tbl, cols) not in declared]
    assert stray == []


def test_table_cells_is_stored_one_grid_per_table(conn):
    # one row per source table (jixiao/ddl.py: GRIDS), keyed on (report_id, table_seq); no other index
    sql, = conn.execute("select sql from sqlite_master where name = 'table_grids'").fetchone()
    assert "PRIMARY KEY ([report_id], [table_seq])" in sql
    assert [cols for _, tbl, cols in _indexes(conn) if tbl in ("table_grids", "table_cells")] == [
        ("report_id", "table_seq")]  # the key's own
    assert conn.execute("select type from sqlite_master where name = 'table_cells'").fetchone() == ("view",)
    # the report page's cells: one range of the grids' key (the sort is of that report's cells only)
    rid, = conn.execute("select report_id from table_cells limit 1").fetchone()
    p = plan(conn, "select table_seq, row, col, text from table_cells where report_id = :id "
                   "order by table_seq, row, col", id=rid)
    assert "SEARCH g USING INDEX sqlite_autoindex_table_grids_1 (report_id=?)" in p
    n_view = conn.execute("select count(*) from table_cells where report_id = ?", [rid]).fetchone()[0]
    n_grid = conn.execute("select sum(json_array_length(r.value) - (json_type(r.value, '$[0]') = 'integer')) "
                          "from table_grids g, json_each(jixiao_text(g.cells)) r where g.report_id = ?", [rid]).fetchone()[0]
    assert n_view == n_grid > 0
    # the public API is unchanged: every column, in schema order
    assert [r[1] for r in conn.execute("pragma table_info(table_cells)")] == table("table_cells").field_names


def test_grid_cells_gives_the_views_rows(conn):
    # the package writer expands the grids in Python (jixiao.ddl.grid_cells): the same rows, in
    # the same order, as the view sorted by its key, for every table of the samples
    from jixiao.ddl import grid_cells

    t = table("table_cells")
    cols = ", ".join(f"[{n}]" for n in t.field_names)
    by_view = conn.execute(f"select {cols} from table_cells order by report_id, table_seq, row, col").fetchall()
    by_grid = [row for grid in conn.execute("select report_id, table_seq, table_kind, cells from table_grids "
                                            "order by report_id, table_seq")
               for row in grid_cells(t, *grid)]
    assert len(by_view) > 2000 and by_grid == by_view


def test_shared_passages_is_stored_as_pairs_of_places(conn):
    # pairs of place ids (jixiao/ddl.py: PAIRS), clustered on the pair, behind a view with the schema's columns
    sql, = conn.execute("select sql from sqlite_master where name = 'passage_pairs'").fetchone()
    assert sql.rstrip().upper().endswith("WITHOUT ROWID")
    assert conn.execute("select type from sqlite_master where name = 'shared_passages'").fetchone() == ("view",)
    assert [r[1] for r in conn.execute("pragma table_info(shared_passages)")] == table("shared_passages").field_names
    assert conn.execute("select count(*) from passage_pairs").fetchone()[0] > 0
    # the report page: its places by (report_id, line), then their pairs by the key
    rid, = conn.execute("select report_id from shared_passages limit 1").fetchone()
    p = plan(conn, "select line, other_report_id from shared_passages where report_id = :id", id=rid)
    assert "idx_passage_spans_report_id_line (report_id=?)" in p and "SEARCH p USING PRIMARY KEY (place_id=?)" in p
    # the pairs that point at a report (in place: a removed report's pairs go): idx_passage_pairs_other_place_id
    p = plan(conn, "select line from shared_passages where other_report_id = :id", id=rid)
    assert "idx_passage_pairs_other_place_id (other_place_id=?)" in p
    # copied_between_units for every unit: a page read in order from idx_passage_pairs_ranked, no sort
    queries = yaml.safe_load((ROOT / "datasette.yml").read_text(encoding="utf-8"))["databases"]["jixiao"]["queries"]
    p = plan(conn, queries["copied_between_units"]["sql"], unit="", page="")
    every_unit = p.split("LEFT-MOST SUBQUERY")[1].split("UNION ALL")[0]
    assert "idx_passage_pairs_ranked (is_template=? AND same_unit=?)" in every_unit
    assert "TEMP B-TREE" not in every_unit  # (the unit branch sorts that unit's pairs, the end the page's 100)


def test_passage_places_are_spans_of_the_sections(conn):
    # each place's text as a span of its section's body (jixiao/ddl.py: SPANS) behind a view with the
    # schema's columns; the view gives every place's text as the across pass found it
    from jixiao.across import compute_passages

    assert conn.execute("select type from sqlite_master where name = 'passage_places'").fetchone() == ("view",)
    assert [r[1] for r in conn.execute("pragma table_info(passage_places)")] == table("passage_places").field_names
    found = compute_passages(conn)["passage_places"]
    assert len(found) > 20
    assert (conn.execute("select place_id, passage_id, report_id, line, text from passage_places order by place_id")
            .fetchall() == [(p["place_id"], p["passage_id"], p["report_id"], p["line"], p["text"])
                            for p in sorted(found, key=lambda p: p["place_id"])])
    spans, kept = conn.execute("select count(section_seq), count(kept_text) from passage_spans").fetchone()
    assert spans > 0 and kept > 0 and spans + kept == len(found)  # a place outside the sections keeps its text
    # a span is stored only where the body holds the text; a query without the text reads no section
    assert conn.execute("select count(*) from passage_spans where (section_seq is null) = (kept_text is null)"
                        ).fetchone()[0] == 0
    assert "sections" not in plan(conn, "select place_id, line from passage_places where report_id = :id", id="x")
    # the package writer reads the spans in Python (jixiao/ddl.py span_texts): the view's rows, in key order
    from jixiao.package import _table_batches
    assert [r for chunk in _table_batches(conn, table("passage_places")) for r in chunk] == conn.execute(
        "select * from passage_places order by place_id").fetchall()


@pytest.mark.parametrize("key", list(COMPOSITES), ids=lambda k: f"{k[0]}:{','.join(k[1])}")
def test_composite_index_serves_its_query(conn, key):
    name, cols = key[0], key[1]
    index = next(n for n, tbl, c in _indexes(conn) if tbl == name and c == cols)
    rid, = conn.execute("select report_id from reports limit 1").fetchone()
    sql = COMPOSITES[key]
    assert f"INDEX {index} " in plan(conn, sql, **({"id": rid} if ":id" in sql else {}))


def test_three_public_rows_are_read_by_the_reports_key(conn):
    """report_summary and the stored query three_public take a report's 三公 rows by key: one range of
    expense_controls' key (report_id, seq), never the one-column key index (every report's rows of
    that key: O(N²) over the summary). Checked with the built statistics and without any, as
    report_summary is materialised before ``analyze``."""
    from jixiao.views import THREE_PUBLIC_SOURCE

    cfg = yaml.safe_load((ROOT / "datasette.yml").read_text(encoding="utf-8"))
    stored = cfg["databases"]["jixiao"]["queries"]["three_public"]["sql"]
    lookup = stored[stored.index("select rowid from expense_controls x"):stored.index("order by x.seq limit 1")]
    lookup = lookup.replace("c.report_id", ":id").replace("k.key", "'overseas'").replace("c.three_public_source",
                                                                                         "'basic_data'")
    mem = sqlite3.connect(":memory:")
    conn.backup(mem)
    mem.execute("delete from sqlite_stat1")
    mem.commit()
    bare = sqlite3.connect(":memory:")  # statistics are read when a connection opens
    mem.backup(bare)
    pk = "USING INDEX sqlite_autoindex_expense_controls_1 (report_id=?)"
    for c in (conn, bare):
        for sql in (THREE_PUBLIC_SOURCE.format(report=":id"), lookup):
            p = plan(c, sql, id="x")
            assert pk in p and "idx_expense_controls_key" not in p, p
    assert not any(cols[:2] == ("report_id", "key") for _, tbl, cols in _indexes(conn) if tbl == "expense_controls")


def test_facets_read_an_index(conn):
    """The default facets of datasette.yml (Datasette: `select col, count(*) … group by col`) on
    the schema's tables read an index (or the key), never the whole table; a facet declared
    without an index (findings.severity) is one the build's facet counts hold for its table
    (jixiao/facet_counts.py), which plugins/page_speed.py reads for whole-table and filtered pages."""
    from jixiao import facet_counts

    cfg = yaml.safe_load((ROOT / "datasette.yml").read_text(encoding="utf-8"))
    names = {t.name for t in TABLES}
    checked = unindexed = 0
    for tbl, conf in cfg["databases"]["jixiao"]["tables"].items():
        if tbl not in names:
            continue
        for col in (conf or {}).get("facets") or []:
            p = plan(conn, f"select [{col}], count(*) from [{tbl}] group by [{col}]")
            if table(tbl).field(col).unindexed:
                assert tbl in facet_counts.CANDIDATES and col in table(tbl).facets, (tbl, col)
                assert not any(cols[0] == col for _, t, cols in _indexes(conn) if t == tbl), (tbl, col)
                unindexed += 1
                continue
            assert "USING COVERING INDEX" in p or "USING INDEX" in p, (tbl, col, p)
            checked += 1
    assert checked >= 20 and unindexed == 1


def test_keys_grown_out_of_order_are_repacked():
    # rows come in file order, not key order: a primary key's own index grows by page splits,
    # ~3/4 full; DatabaseWriter._repack_keys rebuilds it dense (WITHOUT ROWID tables are their key)
    import random

    from jixiao.database import DatabaseWriter

    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("create table t (report_id text, seq integer, v text, primary key (report_id, seq))")
    conn.execute("create table w (k text primary key, v text) without rowid")
    keys = [f"2024-某市某局{i:05d}" for i in range(20000)]
    random.Random(7).shuffle(keys)
    conn.executemany("insert into t values (?, 1, 'x')", [(k,) for k in keys])
    conn.executemany("insert into w values (?, 'x')", [(k,) for k in keys])

    def unused(name):
        return conn.execute("select sum(unused) * 1.0 / sum(pgsize) from dbstat where name = ?", [name]).fetchone()[0]

    w_before = conn.execute("select sum(pgsize) from dbstat where name = 'w'").fetchone()[0]
    before = unused("sqlite_autoindex_t_1")
    assert before > 0.08
    writer = object.__new__(DatabaseWriter)
    writer.conn = conn
    writer._repack_keys()
    print(f"unused {before:.3f} → {unused('sqlite_autoindex_t_1'):.3f}")
    assert unused("sqlite_autoindex_t_1") < before / 3
    assert conn.execute("select sum(pgsize) from dbstat where name = 'w'").fetchone()[0] == w_before
    assert conn.execute("select count(*) from t where report_id = ?", [keys[0]]).fetchone() == (1,)


def test_a_build_leaves_no_free_pages(conn, tmp_path):
    # the samples' build: incremental auto-vacuum, nothing free at the end
    assert conn.execute("pragma auto_vacuum").fetchone() == (2,)
    assert conn.execute("pragma freelist_count").fetchone() == (0,)
    # pages freed late in a build (here a dropped table, after the last writes could reuse them)
    # are given back by close(): the file is only what it holds
    from jixiao.database import DatabaseWriter

    w = DatabaseWriter(tmp_path / "j.db")
    w.conn.execute("create table scratch (v text)")
    w.conn.executemany("insert into scratch values (?)", [("某" * 500,)] * 2000)
    w.conn.execute("drop table scratch")
    free = w.conn.execute("pragma freelist_count").fetchone()[0]
    assert free > 200, free
    w.finish()

    def free(path):
        c = sqlite3.connect(path)
        try:
            assert c.execute("pragma page_count").fetchone()[0] * 4096 == path.stat().st_size
            return c.execute("pragma freelist_count").fetchone()[0]
        finally:
            c.close()

    assert free(w.path) == 0
    # an incremental build (a copy of the previous file, changed) gives back what it frees too
    w2 = DatabaseWriter(tmp_path / "k.db", previous=w.path)
    w2.conn.execute("create table scratch (v text)")
    w2.conn.executemany("insert into scratch values (?)", [("某" * 500,)] * 2000)
    w2.conn.execute("drop table scratch")
    w2.finish()
    assert free(w2.path) == 0
