"""table_cells stored as JSON grids (jixiao/ddl.py): a row on consecutive lines is compact, any other
row lists its cells; the view, the Python reader and the search's row queries read both forms."""
from __future__ import annotations

import json
import sqlite3

import pytest

from jixiao.ddl import GRID_DDL, GRID_VIEW, grid_cells, grid_rows
from jixiao.textstore import register, unpack
from jixiao.schema import table
from jixiao.search_queries import ROW_LINE, ROW_TEXT

T = table("table_cells")


def cells(rid, seq, kind, rows):
    """Cell rows in schema order from [[(text, line, page), …], …] (None: a missing row)."""
    out = []
    for i, row in enumerate(rows, 1):
        for j, (text, line, page) in enumerate(row or [], 1):
            values = dict(report_id=rid, table_seq=seq, row=i, col=j, table_kind=kind, text=text, page=page, line=line)
            out.append(tuple(values[n] for n in T.field_names))
    return out


ROWS = cells("r1", 1, "basic_data", [
    [("财政供养人员情况（人）", 72, None), ("编制数", 73, None), ("控制率", 74, None)],  # consecutive: compact
    [("年度预算申请（万元）", 210, None), ("", 213, None), ("886.90", 214, None)],  # a gap: listed
    None,  # a row the extractor skipped: an empty row in the grid, no cells in the view
    [("项目", 300, 2), ("金额", 301, 2)],  # paged (a PDF): listed
    [("12", 400, None)],  # one cell: compact
]) + cells("r1", 2, "evaluation", [[("得分", 9, None), ("10", 10, None)]])


def test_consecutive_rows_are_compact_and_others_listed():
    stored = grid_rows(T, ROWS)
    assert all(type(r[3]) is bytes for r in stored)  # compressed (jixiao/textstore.py)
    grids = {(r[0], r[1]): json.loads(unpack(r[3])) for r in stored}
    assert grids[("r1", 1)] == [
        [72, "财政供养人员情况（人）", "编制数", "控制率"],
        [["年度预算申请（万元）", 210], ["", 213], ["886.90", 214]],
        [],
        [["项目", 300, 2], ["金额", 301, 2]],
        [400, "12"],
    ]
    assert grids[("r1", 2)] == [[9, "得分", "10"]]


def test_view_and_python_reader_give_back_every_cell():
    conn = sqlite3.connect(":memory:")
    register(conn)  # jixiao_text, which the view reads the grids with
    conn.execute("create table reports (report_id text primary key)")
    conn.execute(GRID_DDL.format(store="table_grids"))
    conn.execute(GRID_VIEW.format(name="table_cells", store="table_grids"))
    stored = grid_rows(T, ROWS)
    conn.executemany("insert into table_grids values (?, ?, ?, ?)", stored)
    cols = ", ".join(f"[{n}]" for n in T.field_names)
    by_view = conn.execute(f"select {cols} from table_cells order by report_id, table_seq, row, col").fetchall()
    assert by_view == ROWS
    assert [c for g in stored for c in grid_cells(T, *g)] == ROWS
    # the search's row queries (a hit in a table row: its text and first line), both forms
    conn.execute("create table source_tables (report_id text, table_seq integer)")
    conn.execute("insert into source_tables values ('r1', 1)")

    def row(n):
        return conn.execute(f"select {ROW_TEXT.format(row=n)}, {ROW_LINE.format(row=n)} from source_tables t").fetchone()

    assert row(1) == ("财政供养人员情况（人）\x1f编制数\x1f控制率", 72)
    assert row(2) == ("年度预算申请（万元）\x1f886.90", 210)  # the empty cell is not text
    assert row(4) == ("项目\x1f金额", 300)
    assert row(5) == ("12", 400)
    conn.close()


def test_most_rows_of_the_samples_are_compact(built):
    conn = sqlite3.connect(f"file:{built.db}?mode=ro", uri=True)
    try:
        rows = [r for (g,) in conn.execute("select cells from table_grids") for r in json.loads(unpack(g))]
    finally:
        conn.close()
    compact = sum(1 for r in rows if r and type(r[0]) is int)
    print(f"{compact} of {len(rows)} rows compact")
    assert len(rows) > 300 and compact / len(rows) > 0.6


def test_the_readmes_function_reads_the_file_outside_the_site(built):
    """README.md gives the one line a program needs to read the compressed grids and texts of the
    SQLite file; with it, a plain sqlite3 connection reads table_cells as the site does."""
    import re

    from .conftest import ROOT, query_rows

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line, = re.findall(r'^conn\.create_function\("jixiao_text".*$', readme, re.M)
    conn = sqlite3.connect(f"file:{built.db}?mode=ro", uri=True)
    try:
        with pytest.raises(sqlite3.OperationalError, match="jixiao_text"):
            conn.execute("select count(*) from table_cells").fetchone()
        exec(line, {"conn": conn, "zlib": __import__("zlib")})
        sql = "select report_id, table_seq, row, col, text, line from table_cells order by report_id, table_seq, row, col"
        got = [tuple(r) for r in conn.execute(sql)]
        text, = conn.execute("select jixiao_text(text) from source_texts order by report_id limit 1").fetchone()
    finally:
        conn.close()
    assert got == [tuple(r.values()) for r in query_rows(built.db, sql)] and len(got) > 2000
    assert text == query_rows(built.db, "select jixiao_text(text) as t from source_texts order by report_id limit 1")[0]["t"]
