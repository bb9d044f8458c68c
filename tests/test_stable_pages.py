"""plugins/stable_pages.py: a table sorted on a column with repeated values, read page by page
(HTML, JSON, the CSV and JSON streams), gives every row exactly once."""
from __future__ import annotations

import csv
import io
import random
import shutil
import sqlite3

from datasette.app import Datasette
from datasette.views import table as table_view

from .conftest import ROOT


def make_db(path):
    con = sqlite3.connect(path)
    con.execute("create table items (id text primary key, year integer, note text)")
    con.execute("create index items_year on items(year)")
    # inserted in a shuffled order: in a year, the index (or a table scan) meets the rows out of
    # their key order
    rows = [(f"{year}-{n:02d}", year, f"row {n % 3}") for year in (2022, 2023, 2024) for n in range(10)]
    shuffled = list(rows)
    random.Random(7).shuffle(shuffled)
    con.executemany("insert into items values (?, ?, ?)", shuffled)
    con.commit()
    con.close()
    return [r[0] for r in rows]


async def every_page(ds, path):
    ids, url = [], path
    while url:
        page = (await ds.client.get(url)).json()
        ids += [r["id"] for r in page["rows"]]
        url = page.get("next_url")
        url = url and url[url.index("/t/"):]
    return ids


async def test_sorted_pages_give_every_row_once(tmp_path):
    ids = make_db(tmp_path / "t.db")
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    shutil.copy(ROOT / "plugins" / "stable_pages.py", plugins)
    ds = Datasette([str(tmp_path / "t.db")], plugins_dir=str(plugins))
    await ds.invoke_startup()
    for order in ("_sort_desc=year", "_sort=year", "_sort_desc=note"):
        got = await every_page(ds, f"/t/items.json?{order}&_size=4")
        assert sorted(got) == sorted(ids) and len(got) == len(set(got)) == 30, order
        streamed = list(csv.DictReader(io.StringIO((await ds.client.get(f"/t/items.csv?{order}&_size=4&_stream=1")).text)))
        assert [r["id"] for r in streamed] == got
    # the first page is in the order of the others: the sort column, then the key
    first = (await ds.client.get("/t/items.json?_sort_desc=year&_size=4&_extra=query")).json()
    assert first["query"]["sql"].endswith("order by year desc, id limit 5")

    # Datasette's own ordering (the wrapper taken out) loses and repeats rows on this table
    wrapped = table_view._sort_order
    table_view._sort_order = wrapped.__globals__["_original"]
    try:
        got = await every_page(ds, "/t/items.json?_sort_desc=year&_size=4")
    finally:
        table_view._sort_order = wrapped
    assert len(got) != len(set(got)) or set(got) != set(ids)


async def test_the_reports_stream_gives_each_report_once(ds, built):
    con = sqlite3.connect(built.db)
    ids = sorted(r for (r,) in con.execute("select report_id from reports"))
    for size in (1, 2, 3):  # the reports table is sorted by fiscal_year (datasette.yml), newest first
        text = (await ds.client.get(f"/jixiao/reports.csv?_stream=1&_size={size}")).text
        got = [r["report_id"] for r in csv.DictReader(io.StringIO(text))]
        assert sorted(got) == ids, size
