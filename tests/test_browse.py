"""Browsing the corpus (issue 14, item 1): /reports, /units, region pages, and the links from
Datasette's row pages and menu to the readable pages.

On the five samples (values from the database, never typed in) and on a synthetic corpus made
from them (``synthetic``: 205 reports in more regions, with missing scores and regions) for the
paging, the NULLs and the region tree. The plans of the page queries are checked too: a page
of /reports is read through an index, never by scanning report_summary.
"""
from __future__ import annotations

import importlib.util
import re
import shutil
import sqlite3
import urllib.parse

import pytest

from tests.conftest import ROOT, site_for


def browse_module():
    """The plugin as Datasette loaded it (its constants can be changed for a test)."""
    from datasette.plugins import pm

    return next(p for p in pm.get_plugins() if hasattr(p, "reports_page") and hasattr(p, "SORTS"))


def standalone_module():
    spec = importlib.util.spec_from_file_location("browse_test_module", ROOT / "plugins" / "browse_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def q(value) -> str:
    return urllib.parse.quote(str(value), safe="")


def report_links(html: str) -> list[str]:
    """The report ids linked from a page, in page order (each report's own link, class report-link)."""
    return [urllib.parse.unquote(m) for m in re.findall(r'class="report-link" href="/report/([^"#]+)"', html)]


def forget(ds):
    """Drop what the plugin remembers per database (choices, region tree)."""
    ds.get_database("jixiao").__dict__.pop("_jixiao_page_memo", None)


# ---------------------------------------------------------------- a synthetic corpus

COPIES = 40


@pytest.fixture(scope="module")
def synthetic(built, tmp_path_factory):
    """The samples' reports and summary rows copied COPIES times as distinct units (SYNTHETIC,
    for paging only): some moved to 江西省 南昌市 (city level), some with no region, every fifth
    copy without a total score, errors varied."""
    path = tmp_path_factory.mktemp("browse") / "jixiao.db"
    shutil.copy(built.db, path)
    con = sqlite3.connect(path)
    rcols = [r[1] for r in con.execute("pragma table_info(reports)")]
    scols = [r[1] for r in con.execute("pragma table_info(report_summary)")]
    assert con.execute("select type from sqlite_master where name = 'report_summary'").fetchone()[0] == "table"

    def select(cols, k):
        out = []
        for c in cols:
            if c == "report_id":
                out.append(f"report_id || '-合成{k}'")
            elif c == "unit_name":
                out.append(f"unit_name || '（合成{k}）'")
            elif c == "province":
                out.append("'江西省'" if k % 3 == 1 else ("null" if k % 7 == 0 else "province"))
            elif c == "city":
                out.append("'南昌市'" if k % 3 == 1 else ("null" if k % 7 == 0 else "city"))
            elif c == "county":
                out.append("null" if k % 3 == 1 or k % 7 == 0 else "county")
            elif c == "total_score":
                out.append("null" if k % 5 == 0 else f"round(total_score - {k} * 0.05, 2)")
            elif c == "findings_error":
                out.append(f"{k % 4}")
            elif c in ("source_file", "source_sha256"):
                out.append(f"{c} || '-{k}'")
            else:
                out.append(f"[{c}]")
        return ", ".join(out)

    originals = "(select report_id from reports where report_id not like '%-合成%')"
    for k in range(1, COPIES + 1):
        con.execute(f"insert into reports ({', '.join(rcols)}) select {select(rcols, k)} from reports "
                    f"where report_id in {originals}")
        con.execute(f"insert into report_summary ({', '.join(scols)}) select {select(scols, k)} from report_summary "
                    f"where report_id in {originals}")
    con.commit()
    con.close()
    return path


@pytest.fixture
async def sds(synthetic):
    return await site_for(synthetic)


@pytest.fixture(scope="module")
def sdb(synthetic):
    con = sqlite3.connect(synthetic)
    con.row_factory = sqlite3.Row
    yield con
    con.close()


# ---------------------------------------------------------------- /reports


async def test_reports_lists_every_report_with_its_readable_pages(ds, db):
    r = await ds.client.get("/reports")
    assert r.status_code == 200
    page = r.text
    reports = db.execute("select report_id, unit_name from reports").fetchall()
    assert f"共 {len(reports)} 份报告" in page
    assert sorted(report_links(page)) == sorted(x["report_id"] for x in reports)
    for x in reports:
        assert f'href="/unit/{q(x["unit_name"])}"' in page
    # newest year first by default
    years = [db.execute("select fiscal_year from reports where report_id = ?", [rid]).fetchone()[0]
             for rid in report_links(page)]
    assert years == sorted(years, reverse=True)


async def test_reports_menu_and_home_links(ds):
    page = (await ds.client.get("/")).text
    nav = page[page.index('class="site-nav"'):page.index("</nav>")]
    assert 'href="/reports"' in nav and 'href="/units"' in nav and 'href="/jixiao/reports"' not in nav
    for keep in ("/search", "/compare", "/jixiao", "/downloads", "/dictionary", "/api"):
        assert f'href="{keep}"' in nav


def summary_ids(db, where="1", params=()):
    return sorted(r[0] for r in db.execute(f"select report_id from report_summary where {where}", params))


async def test_reports_filters(ds, db):
    one = db.execute("select * from report_summary where county is not null order by report_id limit 1").fetchone()
    cases = [
        ({"province": one["province"]}, "province = ?", [one["province"]]),
        ({"province": one["province"], "city": one["city"]}, "city = ?", [one["city"]]),
        ({"city": one["city"], "county": one["county"]}, "county = ?", [one["county"]]),
        ({"year": one["fiscal_year"]}, "fiscal_year = ?", [one["fiscal_year"]]),
        ({"kind": one["report_kind"]}, "report_kind = ?", [one["report_kind"]]),
        ({"score_min": 95, "score_max": 99.2}, "total_score between 95 and 99.2", []),
        ({"score_min": 96}, "total_score >= 96", []),
        ({"errors": "1"}, "findings_error > 0", []),
        ({"errors": "0"}, "findings_error = 0", []),
        ({"errors": "1", "year": one["fiscal_year"]}, "findings_error > 0 and fiscal_year = ?", [one["fiscal_year"]]),
    ]
    for args, where, params in cases:
        r = await ds.client.get("/reports?" + urllib.parse.urlencode(args))
        assert r.status_code == 200, args
        want = summary_ids(db, where, params)
        assert sorted(report_links(r.text)) == want, args
        assert f"共 {len(want)} 份报告" in r.text, args
    # an unreadable number is ignored, and said so
    r = await ds.client.get("/reports?score_min=abc&year=x")
    assert sorted(report_links(r.text)) == summary_ids(db) and "无法识别的筛选条件已忽略" in r.text
    # nothing found
    r = await ds.client.get("/reports?score_min=1000")
    assert report_links(r.text) == [] and "没有符合条件的报告" in r.text


async def test_reports_filter_choices_come_from_the_data(ds, db):
    page = (await ds.client.get("/reports")).text
    for (year, n) in db.execute("select fiscal_year, count(*) from reports group by 1"):
        assert f'<option value="{year}">{year}（{n}）</option>' in page
    for (kind,) in db.execute("select distinct report_kind from reports"):
        assert f'<option value="{kind}">' in page
    # counties are offered once a city is chosen
    one = db.execute("select province, city, county from reports where county is not null limit 1").fetchone()
    page = (await ds.client.get("/reports?" + urllib.parse.urlencode({"province": one[0], "city": one[1]}))).text
    assert f'<option value="{one[2]}">' in page


def ordered(db, order, where="1"):
    return [r[0] for r in db.execute(f"select report_id from report_summary where {where} order by {order}")]


async def test_reports_sort_by_column_headers(ds, db):
    module = browse_module()
    page = (await ds.client.get("/reports")).text
    head = page[page.index("<thead>"):page.index("</thead>")]
    # every sort an index serves is a link in its column header, the sort in the URL
    for key in ("unit", "score", "rate"):
        assert f'href="/reports?sort={key}"' in head, key
    assert 'href="/reports?sort=year&amp;order=asc"' in head  # the current sort (year, newest first) turns around
    cases = {
        "/reports?sort=unit": "unit_name, fiscal_year, report_id",
        "/reports?sort=unit&order=desc": "unit_name desc, fiscal_year desc, report_id desc",
        "/reports?sort=score": "total_score is null, total_score desc, report_id",
        "/reports?sort=score&order=asc": "total_score is null, total_score, report_id desc",
        "/reports?sort=rate": "execution_rate is null, execution_rate desc, report_id",
        "/reports?sort=year&order=asc": "fiscal_year, unit_name desc, report_id desc",
        "/reports?sort=no_such_sort": "fiscal_year desc, unit_name, report_id",
    }
    for path, order in cases.items():
        r = await ds.client.get(path)
        assert report_links(r.text) == ordered(db, order), path
    # the active header says so
    page = (await ds.client.get("/reports?sort=score")).text
    assert 'aria-sort="descending"><a href="/reports?sort=score&amp;order=asc"' in page
    # sorts no index serves are not offered (their column title is plain text)
    leads = set(await module.summary_index_leads(ds))
    for key, (label, terms) in module.SORTS.items():
        if key != module.DEFAULT_SORT and terms[0][0] not in leads:
            assert f"sort={key}" not in head, key


async def test_reports_paging_on_a_synthetic_corpus(sds, sdb):
    module = browse_module()
    n = sdb.execute("select count(*) from report_summary").fetchone()[0]
    assert n == 5 * (COPIES + 1)
    for path, order in (("/reports", "fiscal_year desc, unit_name, report_id"),
                        ("/reports?sort=score", "total_score is null, total_score desc, report_id"),
                        ("/reports?sort=score&order=asc", "total_score is null, total_score, report_id desc"),
                        ("/reports?sort=unit", "unit_name, fiscal_year, report_id")):
        seen = []
        page_no = 1
        while True:
            r = await sds.client.get(path + ("&" if "?" in path else "?") + f"page={page_no}")
            assert r.status_code == 200
            ids = report_links(r.text)
            assert len(ids) <= module.PAGE_SIZE
            seen += ids
            if 'rel="next"' not in r.text:
                break
            page_no += 1
        assert page_no == -(-n // module.PAGE_SIZE), path
        assert seen == ordered(sdb, order), path  # every report once, in order, NULL scores last
    r = await sds.client.get("/reports?page=2")
    assert f"第 2 页，共 {-(-n // module.PAGE_SIZE)} 页" in r.text and 'rel="prev"' in r.text
    # beyond the last page: the last page
    r = await sds.client.get("/reports?page=999")
    assert report_links(r.text) == ordered(sdb, "fiscal_year desc, unit_name, report_id")[-(n % module.PAGE_SIZE or module.PAGE_SIZE):]


async def test_reports_counts_are_bounded_and_deep_pages_refused(sds, sdb, monkeypatch):
    module = browse_module()
    monkeypatch.setattr(module, "COUNT_CAP", 30)
    forget(sds)
    r = await sds.client.get("/reports?errors=1&sort=score")
    assert "符合条件的报告超过 30 份" in r.text
    monkeypatch.setattr(module, "MAX_OFFSET", 100)
    r = await sds.client.get("/reports?page=40")
    ids = report_links(r.text)
    assert ids == ordered(sdb, "fiscal_year desc, unit_name, report_id")[100:150]
    assert 'rel="next"' not in r.text and "请加筛选条件" in r.text


async def test_reports_region_filters_with_unknown_regions(sds, sdb):
    r = await sds.client.get("/reports?province=" + q("不详"))
    assert sorted(report_links(r.text)) == summary_ids(sdb, "province is null")
    r = await sds.client.get("/reports?" + urllib.parse.urlencode({"province": "江西省", "city": "南昌市"}))
    want = summary_ids(sdb, "city = '南昌市'")
    assert len(want) > 10 and f"共 {len(want)} 份报告" in r.text


async def test_reports_department_kind_when_the_column_exists(built, tmp_path):
    """reports.department_kind (jixiao/across) is used when the database has it, left out when not."""
    path = tmp_path / "jixiao.db"
    shutil.copy(built.db, path)
    con = sqlite3.connect(path)
    has = "department_kind" in [r[1] for r in con.execute("pragma table_info(reports)")]
    if not has:
        con.execute("alter table reports add column department_kind text")
    con.execute("update reports set department_kind = case when unit_name like '%法律援助%' then '法律援助' else '司法' end")
    con.commit()
    ds = await site_for(path)
    page = (await ds.client.get("/reports")).text
    assert 'name="dept"' in page and "<th scope=\"col\">部门类别</th>" in page
    r = await ds.client.get("/reports?dept=" + q("法律援助"))
    want = sorted(x[0] for x in con.execute("select report_id from reports where department_kind = '法律援助'"))
    assert sorted(report_links(r.text)) == want and want
    # and without the column: no filter, no column, and ?dept= is ignored
    for index, in con.execute("select name from sqlite_master where type = 'index' and tbl_name = 'reports' "
                              "and sql like '%department_kind%'").fetchall():
        con.execute(f"drop index [{index}]")
    con.execute("alter table reports drop column department_kind")
    con.commit()
    con.close()
    ds = await site_for(path)
    page = (await ds.client.get("/reports")).text
    assert 'name="dept"' not in page and "部门类别" not in page
    r = await ds.client.get("/reports?dept=" + q("法律援助"))
    assert r.status_code == 200 and len(report_links(r.text)) == 5


def test_report_pages_are_read_through_indexes(built, tmp_path):
    """A page of /reports never scans report_summary: each offered sort (and the filters) reads an
    index. (Planned without the five samples' statistics, on which a scan of 5 rows is cheapest:
    as SQLite plans a table of unknown, large size.)"""
    module = standalone_module()
    path = tmp_path / "jixiao.db"
    shutil.copy(built.db, path)
    con = sqlite3.connect(path)
    con.execute("delete from sqlite_stat1")
    con.commit()
    con.close()
    con = sqlite3.connect(path)
    leads = {con.execute(f"select name from pragma_index_info('{i}') where seqno = 0").fetchone()[0]
             for (i,) in con.execute("select name from pragma_index_list('report_summary')")}
    cases = [({}, key) for key, (_, terms) in module.SORTS.items() if terms[0][0] in leads]
    cases += [({"province": "湖南省"}, "year"), ({"city": "岳阳市", "province": "湖南省"}, "score"),
              ({"year": 2024}, "score"), ({"kind": "自评报告"}, "unit"), ({"errors": "1"}, "year")]
    assert len(cases) >= 8
    for f, sort in cases:
        where, params = module.where_of(f)
        for terms in (module.SORTS[sort][1], [(c, module.FLIP[d]) for c, d in module.SORTS[sort][1]]):
            for nulls in (False, True):
                sql = module.branch_sql(where, terms, nulls) + " limit 51"
                plan = " | ".join(r[3] for r in con.execute("explain query plan " + sql, params))
                assert not re.search(r"\bSCAN report_summary\b(?! USING)", plan), (f, sort, plan)
    con.close()


# ---------------------------------------------------------------- /units and region pages


async def test_units_lists_every_unit_by_region_with_links_to_its_reports(ds, db):
    r = await ds.client.get("/units")
    assert r.status_code == 200
    page = r.text
    for unit, in db.execute("select distinct unit_name from reports"):
        assert f'class="unit-link" href="/unit/{q(unit)}"' in page
    assert sorted(report_links(page)) == sorted(x[0] for x in db.execute("select report_id from reports"))
    # grouped by region: each province and city links to its page
    for province, city in db.execute("select distinct province, city from reports"):
        assert f'href="/region/{q(province)}"' in page
        assert f'href="/region/{q(province)}/{q(city)}"' in page
    n_units = db.execute("select count(distinct unit_name) from reports").fetchone()[0]
    assert f"{n_units} 个单位" in page


async def test_units_paging_on_a_synthetic_corpus(sds, sdb, monkeypatch):
    module = browse_module()
    monkeypatch.setattr(module, "UNITS_PER_PAGE", 30)
    units = [r[0] for r in sdb.execute("select distinct unit_name from reports")]
    seen, page_no = [], 1
    while True:
        page = (await sds.client.get(f"/units?page={page_no}")).text
        names = [urllib.parse.unquote(u) for u in re.findall(r'class="unit-link" href="/unit/([^"]+)"', page)]
        assert len(names) <= 30
        seen += names
        if 'rel="next"' not in page:
            break
        page_no += 1
    assert sorted(seen) == sorted(units) and len(seen) == len(set(seen))
    # in region order: 地区不详 last
    assert "地区不详" in page
    provinces = [module.region_key(sdb.execute("select province from reports where unit_name = ?", [u]).fetchone()[0])
                 for u in seen]
    assert provinces == sorted(provinces)


async def test_region_pages(ds, db):
    one = db.execute("select * from reports where county is not null limit 1").fetchone()
    province, city, county = one["province"], one["city"], one["county"]
    r = await ds.client.get(f"/region/{q(province)}")
    assert r.status_code == 200
    units = [u for (u,) in db.execute("select distinct unit_name from reports where province = ?", [province])]
    for u in units:
        assert f'href="/unit/{q(u)}"' in r.text
    assert f'href="/region/{q(province)}/{q(city)}"' in r.text
    assert f'href="/reports?province={q(province)}"' in r.text
    r = await ds.client.get(f"/region/{q(province)}/{q(city)}")
    assert f'href="/region/{q(province)}/{q(city)}/{q(county)}"' in r.text
    r = await ds.client.get(f"/region/{q(province)}/{q(city)}/{q(county)}")
    want = sorted(x[0] for x in db.execute("select report_id from reports where county = ?", [county]))
    assert sorted(report_links(r.text)) == want
    assert f"{province} {city} {county}" in r.text
    # a city's own units (no county) are 市本级
    city_level = db.execute("select province, city from reports where county is null and city is not null limit 1").fetchone()
    if city_level:
        page = (await ds.client.get(f"/region/{q(city_level[0])}/{q(city_level[1])}")).text
        assert "市本级" in page
    for bad in ("/region/" + q("没有这个省"), f"/region/{q(province)}/{q('没有这个市')}", "/region/a/b/c/d"):
        assert (await ds.client.get(bad)).status_code == 404, bad


async def test_region_page_of_unknown_regions(sds, sdb):
    r = await sds.client.get("/region/" + q("不详"))
    assert r.status_code == 200
    want = sorted(x[0] for x in sdb.execute("select report_id from reports where province is null"))
    assert sorted(report_links(r.text)) == want and want
    r = await sds.client.get("/region/" + q("江西省") + "/" + q("南昌市"))
    assert "市本级" in r.text


# ---------------------------------------------------------------- Datasette's row pages


def row_url(table, *pks):
    from datasette.utils import tilde_encode

    return f"/jixiao/{table}/" + ",".join(tilde_encode(str(p)) for p in pks)


def readable(html: str) -> list[str]:
    block = re.search(r'<p class="readable-links">(.*?)</p>', html, re.S)
    assert block, "no readable links"
    return re.findall(r'href="([^"]+)"', block.group(1))


async def test_row_pages_link_to_the_readable_pages(ds, db):
    rep = db.execute("select * from reports where county is not null limit 1").fetchone()
    rid = rep["report_id"]
    links = readable((await ds.client.get(row_url("reports", rid))).text)
    assert f"/report/{q(rid)}" in links and f"/unit/{q(rep['unit_name'])}" in links
    assert f"/region/{q(rep['province'])}/{q(rep['city'])}/{q(rep['county'])}" in links
    ev = db.execute("select evaluation_id, report_id, line_start from evaluations limit 1").fetchone()
    links = readable((await ds.client.get(row_url("evaluations", ev[0]))).text)
    assert f"/report/{q(ev[1])}#evaluations" in links and f"/report/{q(ev[1])}/source#L{ev[2]}" in links
    ind = db.execute("select evaluation_id, seq, report_id, line from indicators where line is not null limit 1").fetchone()
    links = readable((await ds.client.get(row_url("indicators", ind[0], ind[1]))).text)
    assert f"/report/{q(ind[2])}#evaluations" in links and f"/report/{q(ind[2])}/source#L{ind[3]}" in links
    f = db.execute("select report_id, seq, line from findings limit 1").fetchone()
    assert f"/report/{q(f[0])}#findings" in readable((await ds.client.get(row_url("findings", f[0], f[1]))).text)
    s = db.execute("select report_id, seq from sections where level > 0 limit 1").fetchone()
    assert f"/report/{q(s[0])}#s-{s[1]}" in readable((await ds.client.get(row_url("sections", s[0], s[1]))).text)
    c = db.execute("select report_id, table_seq from source_tables limit 1").fetchone()
    assert f"/report/{q(c[0])}#t-{c[1]}" in readable((await ds.client.get(row_url("source_tables", *c))).text)
    summary = readable((await ds.client.get(row_url("report_summary", rid))).text)
    assert f"/report/{q(rid)}" in summary and f"/unit/{q(rep['unit_name'])}" in summary
    # every row page of a table with a report_id links to its report
    for (table,) in db.execute("select m.name from sqlite_master m where m.type = 'table' and exists "
                               "(select 1 from pragma_table_info(m.name) where name = 'report_id') "
                               "and m.name not like 'sections_fts%'"):
        pks = [r["name"] for r in sorted(db.execute(f"pragma table_info([{table}])"), key=lambda r: r["pk"]) if r["pk"]]
        row = db.execute(f"select * from [{table}] limit 1").fetchone()
        if not pks or row is None:
            continue
        page = (await ds.client.get(row_url(table, *[row[p] for p in pks]))).text
        assert any(h.startswith(f"/report/{q(row['report_id'])}") for h in readable(page)), table


async def test_row_page_shows_fields_with_chinese_labels_and_referencing_rows(ds, db):
    rid = db.execute("select report_id from reports limit 1").fetchone()[0]
    page = (await ds.client.get(row_url("reports", rid))).text
    assert '<th scope="row">单位名称</th>' in page and '<th scope="row">年度</th>' in page
    assert "引用这一行的其他数据" in page
    n = db.execute("select count(*) from findings where report_id = ?", [rid]).fetchone()[0]
    assert f"发现问题：{n} 行" in page
    assert "本行数据的其他格式" in page and ".json" in page


# ---------------------------------------------------------------- on a phone (a real browser; last in
# the module: Playwright's sync API holds an event loop while its browser is open)


def test_browse_pages_fit_a_phone(site_url, chromium_browser, built):
    """No browsing page is wider than a 390 px screen: tables scroll inside their wrapper, the list
    of reports becomes cards."""
    con = sqlite3.connect(built.db)
    rid, province, city = con.execute("select report_id, province, city from reports limit 1").fetchone()
    con.close()
    paths = ["/reports", "/reports?sort=score", "/units", f"/region/{q(province)}", f"/region/{q(province)}/{q(city)}",
             row_url("reports", rid), "/jixiao/reports", "/jixiao/findings", "/jixiao/latest_reports",
             "/jixiao/-/query?sql=select+*+from+reports", "/jixiao/no_such_table", "/jixiao", "/api"]
    for width in (390, 1280):
        page = chromium_browser.new_page(viewport={"width": width, "height": 800})
        try:
            for path in paths:
                page.goto(site_url + path)
                assert page.evaluate("document.documentElement.scrollWidth") <= width, (width, path)
        finally:
            page.close()
