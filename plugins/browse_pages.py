"""Browsing the corpus: ``/reports`` (every report, filtered, sorted and paged on the server),
``/units`` (units grouped by region, each year linking to its report) and region pages
(``/region/<省>``, ``/region/<省>/<市>``, ``/region/<省>/<市>/<县（区）>``).

Datasette's own pages in Chinese (row-page links, error messages): plugins/datasette_pages.py.

Cost at 10,000 and 100,000 reports (measured on databases that copied a 2,000-report build's rows;
that tool, benchmarks/scale_db.py, is gone: the compact storages and the contentless index made
its copies wrong, and corpora of any size are now built from benchmarks/synth.py):

* ``/reports`` reads ``report_summary`` (one row per report, materialised and indexed by
  jixiao/views.py). A page is ``limit``/``offset`` over an ``order by`` that an index of the
  summary serves where one exists (unit, total score, execution rate); the first sort column's
  NULLs go last through a second, index-ordered branch, so no branch reads more than
  ``offset + page size`` rows in index order. Offsets stop at ``MAX_OFFSET``. The number of
  matching reports is counted only up to ``COUNT_CAP`` (then "more than"); with no filter it is
  Datasette's cached table count.
* The choices of the filters (regions, years, kinds) and the region tree of ``/units`` are
  computed once per immutable database (every time for a mutable one) — a few thousand
  entries even at 100,000 reports; a page of units then reads only its regions' rows through
  the ``province`` / ``city`` / ``county`` indexes of ``reports``.
* ``reports.department_kind`` (部门类别, added by jixiao/across) is used when the column exists,
  checked once per database: the filter and the column are left out on a database without it.
"""
from __future__ import annotations

import math
import urllib.parse

from datasette import hookimpl
from jixiao.pages import (DB, UNKNOWN, not_found, once_per_database, part, region_links, region_url, render, report_url,
                          rows, table_count, unit_url)

PAGE_SIZE = 50  # reports per page of /reports
UNITS_PER_PAGE = 100  # units per page of /units and of a region page
COUNT_CAP = 10_000  # matching reports counted up to this many
MAX_OFFSET = 10_000  # deepest row a page of /reports may start at (narrow the filters beyond)
CITY_LEVEL = "市本级"  # units of a city with no county

# ---------------------------------------------------------------- once per database


async def has_department_kind(datasette) -> bool:
    async def compute():
        return "department_kind" in await datasette.get_database(DB).table_columns("reports")
    return await once_per_database(datasette, "has_department_kind", compute)


def region_key(value):
    """Sort key: named regions by name, the unknown (NULL) last."""
    return (value is None, value or "")


async def region_tree(datasette):
    """[(province, city, county, units, reports)] for every region that has reports, in region order."""
    async def compute():
        found = await rows(datasette, """
            select province, city, county, count(distinct unit_name) as units, count(*) as reports
            from reports where unit_name is not null group by province, city, county""")
        found.sort(key=lambda r: (region_key(r["province"]), region_key(r["city"]), region_key(r["county"])))
        return [(r["province"], r["city"], r["county"], r["units"], r["reports"]) for r in found]
    return await once_per_database(datasette, "region_tree", compute)


async def choices(datasette):
    """The values of the filters of /reports with their report counts."""
    async def compute():
        out = {
            "years": [(r["v"], r["n"]) for r in await rows(
                datasette, "select fiscal_year as v, count(*) as n from reports where fiscal_year is not null "
                           "group by fiscal_year order by fiscal_year desc")],
            "kinds": [(r["v"], r["n"]) for r in await rows(
                datasette, "select report_kind as v, count(*) as n from reports where report_kind is not null "
                           "group by report_kind order by n desc, v")],
            "departments": [],
        }
        if await has_department_kind(datasette):
            out["departments"] = [(r["v"], r["n"]) for r in await rows(
                datasette, "select department_kind as v, count(*) as n from reports "
                           "where department_kind is not null group by department_kind order by n desc, v")]
        return out
    return await once_per_database(datasette, "choices", compute)


def with_args(request, **changes):
    """The current URL with some arguments changed (None: removed); page is reset unless given."""
    args = [(k, v) for k, v in urllib.parse.parse_qsl(request.query_string, keep_blank_values=False)
            if k not in changes and (k != "page" or "page" in changes)]
    args += [(k, str(v)) for k, v in changes.items() if v not in (None, "")]
    return request.path + ("?" + urllib.parse.urlencode(args) if args else "")


# ---------------------------------------------------------------- /reports

# sort key → (heading, [(column, direction)]); the columns break ties down to report_id. A sort is
# offered when an index of report_summary leads with its first column (summary_index_leads; the
# default, by year, always): today's jixiao/views.py SUMMARY_INDEXES serve year (fiscal_year
# first), unit (unit_name, fiscal_year), score (total_score desc, report_id) and rate
# (execution_rate desc, report_id); region and errors need indexes leading with province and
# findings_error, and are offered as soon as the database has them.
SORTS = {
    "year": ("年度", [("fiscal_year", "desc"), ("unit_name", "asc"), ("report_id", "asc")]),
    "unit": ("单位", [("unit_name", "asc"), ("fiscal_year", "asc"), ("report_id", "asc")]),
    "region": ("地区", [("province", "asc"), ("city", "asc"), ("county", "asc"), ("unit_name", "asc"),
                      ("fiscal_year", "desc"), ("report_id", "asc")]),
    "score": ("自评总分", [("total_score", "desc"), ("report_id", "asc")]),
    "rate": ("预算执行率", [("execution_rate", "desc"), ("report_id", "asc")]),
    "errors": ("错误", [("findings_error", "desc"), ("report_id", "asc")]),
}
DEFAULT_SORT = "year"
FLIP = {"asc": "desc", "desc": "asc"}
SUMMARY_COLUMNS = ("report_id", "unit_name", "fiscal_year", "province", "city", "county", "report_kind",
                   "total_score", "execution_rate", "findings_error", "findings_doubt")


def number_arg(value):
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def read_filters(request, departments_on):
    """The filters of the URL: {name: value} of those given and valid, and the words of those not."""
    a = request.args
    f, bad = {}, []
    for name in ("province", "city", "county", "kind"):
        if (a.get(name) or "").strip():
            f[name] = a.get(name).strip()
    if departments_on and (a.get("dept") or "").strip():
        f["dept"] = a.get("dept").strip()
    if (a.get("year") or "").strip():
        if a.get("year").strip().isdigit():
            f["year"] = int(a.get("year").strip())
        else:
            bad.append("年度")
    for name, label in (("score_min", "最低分"), ("score_max", "最高分")):
        if (a.get(name) or "").strip():
            x = number_arg(a.get(name).strip())
            if x is None:
                bad.append(label)
            else:
                f[name] = x
    if a.get("errors") in ("1", "0"):
        f["errors"] = a.get("errors")
    return f, bad


# filter → its condition on report_summary (the value is the parameter of the filter's name)
SUMMARY_FILTERS = (("year", "fiscal_year = :year"), ("kind", "report_kind = :kind"),
                   ("score_min", "total_score >= :score_min"), ("score_max", "total_score <= :score_max"))


def where_of(f):
    """SQL conditions (on report_summary) and parameters of the filters. Region and department
    filters go through the indexes of ``reports`` (province, city, county, department_kind)."""
    where, params, on_reports = [], {}, []
    for name in ("province", "city", "county"):
        if name in f:
            if f[name] == UNKNOWN:
                on_reports.append(f"{name} is null")
            else:
                on_reports.append(f"{name} = :{name}")
                params[name] = f[name]
    if "dept" in f:
        on_reports.append("department_kind = :dept")
        params["dept"] = f["dept"]
    if on_reports:
        where.append(f"report_id in (select report_id from reports where {' and '.join(on_reports)})")
    for name, condition in SUMMARY_FILTERS:
        if name in f:
            where.append(condition)
            params[name] = f[name]
    if f.get("errors") == "1":
        where.append("findings_error > 0")
    elif f.get("errors") == "0":
        where.append("findings_error = 0")
    return where, params


async def summary_index_leads(datasette):
    """The first column of every index of report_summary (none when it is a view): a sort is
    offered when an index leads with its first column, so a page is read in index order."""
    async def compute():
        leads = set()
        for idx in await rows(datasette, "select name from pragma_index_list('report_summary')"):
            first = await rows(datasette, "select name from pragma_index_info(:n) where seqno = 0", {"n": idx["name"]})
            if first and first[0]["name"]:
                leads.add(first[0]["name"])
        return sorted(leads)
    return set(await once_per_database(datasette, "summary_index_leads", compute))


def order_sql(terms):
    return ", ".join(f"{c} {d}" for c, d in terms)


def branch_sql(where, terms, nulls):
    """Rows of report_summary whose first sort column is set (or NULL) in the order of ``terms``."""
    first = terms[0][0]
    w = " and ".join([*where, f"{first} is {'' if nulls else 'not '}null"])
    order = order_sql(terms[1:] if nulls else terms)
    return f"select {', '.join(SUMMARY_COLUMNS)} from report_summary where {w} order by {order}"


async def page_rows(datasette, where, params, terms, limit, offset):
    """One page of report_summary in the order of ``terms``, the rows whose first sort column is
    NULL last: the set rows are read in index order from ``offset``; only a page that reaches past
    them reads the NULL rows (from the right place: the set rows are counted, up to ``offset``)."""
    found = await rows(datasette, branch_sql(where, terms, False) + f" limit {int(limit)} offset {int(offset)}", params)
    if len(found) >= limit:
        return found
    if found:
        n_set = offset + len(found)
    else:
        n_set = (await rows(datasette, f"select count(*) as n from ({branch_sql(where, terms, False)} "
                                       f"limit {int(offset)})", params))[0]["n"]
    rest = await rows(datasette, branch_sql(where, terms, True)
                      + f" limit {int(limit - len(found))} offset {int(max(0, offset - n_set))}", params)
    return found + rest


async def count_of(datasette, f, where, params):
    """(n, capped): the matching reports. Cached counts where the filters allow (none: the table's
    count; only region parts: the region tree; only a year, a kind or a department kind: the
    filter's choices); else counted up to COUNT_CAP."""
    if not f:
        return await table_count(datasette, "report_summary"), False
    if set(f) <= {"province", "city", "county"}:
        wanted = [None if f.get(k) == UNKNOWN else f.get(k) for k in ("province", "city", "county")]
        return sum(r[4] for r in await region_tree(datasette)
                   if all(k not in f or r[i] == wanted[i] for i, k in enumerate(("province", "city", "county")))), False
    ch = await choices(datasette)
    for name, key in (("year", "years"), ("kind", "kinds"), ("dept", "departments")):
        if set(f) == {name}:
            return dict(ch[key]).get(f[name], 0), False
    sql = (f"select count(*) as n from (select 1 from report_summary where {' and '.join(where)} "
           f"limit {COUNT_CAP + 1})")
    n = (await rows(datasette, sql, params))[0]["n"]
    return min(n, COUNT_CAP), n > COUNT_CAP


def table_link(datasette, f):
    """The same filters on Datasette's report_summary table (for JSON and CSV), or None."""
    if "dept" in f:
        return None
    args = []
    for name, column in (("province", "province"), ("city", "city"), ("county", "county")):
        if name in f:
            args.append((f"{column}__isnull", "1") if f[name] == UNKNOWN else (column, f[name]))
    if "year" in f:
        args.append(("fiscal_year", f["year"]))
    if "kind" in f:
        args.append(("report_kind", f["kind"]))
    if "score_min" in f:
        args.append(("total_score__gte", f["score_min"]))
    if "score_max" in f:
        args.append(("total_score__lte", f["score_max"]))
    if f.get("errors") == "1":
        args.append(("findings_error__gt", 0))
    elif f.get("errors") == "0":
        args.append(("findings_error", 0))
    base = datasette.urls.table(DB, "report_summary")
    qs = urllib.parse.urlencode(args)
    return {"page": base + ("?" + qs if qs else ""),
            "json": datasette.urls.table(DB, "report_summary", format="json") + "?" + urllib.parse.urlencode(
                args + [("_shape", "array")]),
            "csv": datasette.urls.table(DB, "report_summary", format="csv") + "?" + urllib.parse.urlencode(
                args + [("_dl", "1"), ("_bom", "1"), ("_stream", "1")])}


async def reports_page(datasette, request):
    departments_on = await has_department_kind(datasette)
    f, bad = read_filters(request, departments_on)
    leads = await summary_index_leads(datasette)
    sortable = {k for k, (_, t) in SORTS.items() if k == DEFAULT_SORT or t[0][0] in leads}
    sort = request.args.get("sort") if request.args.get("sort") in sortable else DEFAULT_SORT
    heading, terms = SORTS[sort]
    default_dir = terms[0][1]
    order = request.args.get("order") if request.args.get("order") in FLIP else default_dir
    if order != default_dir:
        terms = [(c, FLIP[d]) for c, d in terms]
    try:
        page = max(1, int(request.args.get("page") or 1))
    except ValueError:
        page = 1
    where, params = where_of(f)
    n, capped = await count_of(datasette, f, where, params)
    last_page = max(1, math.ceil(min(n, MAX_OFFSET + PAGE_SIZE) / PAGE_SIZE))
    too_deep = (page - 1) * PAGE_SIZE > MAX_OFFSET
    page = min(page, last_page) if not capped else min(page, MAX_OFFSET // PAGE_SIZE + 1)
    offset = (page - 1) * PAGE_SIZE
    found = await page_rows(datasette, where, params, terms, PAGE_SIZE + 1, offset)
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    if departments_on and found:
        ids = [r["report_id"] for r in found]
        marks = ", ".join(f":id{i}" for i in range(len(ids)))
        kinds = {r["report_id"]: r["department_kind"] for r in await rows(
            datasette, f"select report_id, department_kind from reports where report_id in ({marks})",
            {f"id{i}": x for i, x in enumerate(ids)})}
        for r in found:
            r["department_kind"] = kinds.get(r["report_id"])
    for r in found:
        r["url"] = report_url(datasette, r["report_id"])
        r["unit_url"] = unit_url(datasette, r["unit_name"]) if r["unit_name"] else None
        r["regions"] = region_links(datasette, r["province"], r["city"], r["county"])
    tree = await region_tree(datasette)
    ch = await choices(datasette)
    provinces, cities, counties = {}, {}, {}
    for p, c, k, _units, n_reports in tree:
        provinces[part(p)] = provinces.get(part(p), 0) + n_reports
        if "province" not in f or part(p) == f["province"]:
            cities[part(c)] = cities.get(part(c), 0) + n_reports
        if ("province" not in f or part(p) == f["province"]) and ("city" in f and part(c) == f["city"]) \
                and k is not None:
            counties[k] = counties.get(k, 0) + n_reports
    headers = []
    for key, (label, t) in SORTS.items():
        active = key == sort
        next_order = FLIP[order] if active else t[0][1]
        headers.append({"key": key, "label": label, "active": active, "order": order if active else None,
                        "sortable": key in sortable,
                        "url": with_args(request, sort=None if key == DEFAULT_SORT and next_order == t[0][1] else key,
                                         order=None if next_order == t[0][1] else next_order)})
    context = {
        "rows": found, "filters": f, "bad": bad, "count": n, "capped": capped, "page": page,
        "pages": None if capped else last_page, "more": more and offset + PAGE_SIZE <= MAX_OFFSET,
        "too_deep": too_deep or (more and offset + PAGE_SIZE > MAX_OFFSET), "page_size": PAGE_SIZE,
        "prev_url": with_args(request, page=page - 1 if page > 2 else None) if page > 1 else None,
        "next_url": with_args(request, page=page + 1) if more and offset + PAGE_SIZE <= MAX_OFFSET else None,
        "sort": sort, "order": order, "headers": {h["key"]: h for h in headers},
        "departments_on": departments_on, "choices": {**ch, "provinces": sorted(provinces.items(),
                                                                                key=lambda x: (x[0] == UNKNOWN, x[0])),
                                                      "cities": sorted(cities.items(), key=lambda x: (x[0] == UNKNOWN, x[0])),
                                                      "counties": sorted(counties.items())},
        "clear_url": request.path, "table_link": table_link(datasette, f), "unknown": UNKNOWN,
        "args": {k: request.args.get(k, "") for k in ("sort", "order")},
    }
    return await render(datasette, request, "reports.html", context)


# ---------------------------------------------------------------- /units and region pages


def group_heading(links, province, city, county, depth):
    """(links, words) heading a group of units on a page that already names ``depth`` region parts:
    the parts below, then 省本级 / 市本级 for the units of a province or city with no city / county."""
    shown = links[depth:]
    if province is None:
        return shown, "地区不详"
    if city is None:
        return shown, "省本级"
    if county is None:
        return shown, CITY_LEVEL
    return shown, ""


async def units_of(datasette, regions, page, depth=0):
    """The units of page ``page`` (UNITS_PER_PAGE a page) of the given regions (entries of
    region_tree, in order): [{region, heading, units: [{name, url, years: [...]}]}] and the page
    count. ``depth``: how many region parts the page itself names (0 on /units)."""
    total = sum(r[3] for r in regions)
    pages = max(1, math.ceil(total / UNITS_PER_PAGE))
    page = min(max(1, page), pages)
    start, end = (page - 1) * UNITS_PER_PAGE, page * UNITS_PER_PAGE
    groups, at = [], 0
    for province, city, county, n_units, _n_reports in regions:
        lo, hi = at, at + n_units
        at = hi
        if hi <= start or lo >= end:
            continue
        skip, take = max(0, start - lo), min(hi, end) - max(lo, start)
        params = {"p": province, "c": city, "k": county, "skip": skip, "take": take}
        found = await rows(datasette, """
            select unit_name, fiscal_year, report_id, report_kind from reports
            where province is :p and city is :c and county is :k and unit_name in (
              select distinct unit_name from reports
              where province is :p and city is :c and county is :k and unit_name is not null
              order by unit_name limit :take offset :skip)
            order by unit_name, fiscal_year, report_id""", params)
        units = {}
        for r in found:
            u = units.setdefault(r["unit_name"], {"name": r["unit_name"], "url": unit_url(datasette, r["unit_name"]),
                                                  "years": []})
            u["years"].append({"year": r["fiscal_year"], "url": report_url(datasette, r["report_id"]),
                               "kind": r["report_kind"]})
        links = region_links(datasette, province, city, county)
        shown, words = group_heading(links, province, city, county, depth)
        groups.append({"province": province, "city": city, "county": county, "links": shown, "words": words,
                       "units": list(units.values())})
    return groups, page, pages


def page_links(request, page, pages):
    return {
        "page": page, "pages": pages,
        "prev": with_args(request, page=page - 1 if page > 2 else None) if page > 1 else None,
        "next": with_args(request, page=page + 1) if page < pages else None,
    }


async def units_page(datasette, request):
    tree = await region_tree(datasette)
    try:
        page = int(request.args.get("page") or 1)
    except ValueError:
        page = 1
    groups, page, pages = await units_of(datasette, tree, page)
    provinces = {}
    for p, c, _k, n_units, n_reports in tree:
        pr = provinces.setdefault(part(p), {"name": part(p), "url": region_url(datasette, p), "units": 0,
                                           "reports": 0, "cities": {}})
        pr["units"] += n_units
        pr["reports"] += n_reports
        ci = pr["cities"].setdefault(part(c), {"name": part(c), "url": region_url(datasette, p, c), "units": 0,
                                               "reports": 0})
        ci["units"] += n_units
        ci["reports"] += n_reports
    nav = [{**p, "cities": list(p["cities"].values())} for p in provinces.values()]
    return await render(datasette, request, "units.html", {
        "groups": groups, "nav": nav, "paging": page_links(request, page, pages),
        "n_units": sum(r[3] for r in tree), "n_reports": sum(r[4] for r in tree),
    })


async def region_page(datasette, request):
    names = [urllib.parse.unquote(p) for p in request.url_vars["parts"].split("/") if p]
    if not 1 <= len(names) <= 3:
        return await not_found(datasette, request, "地区的地址应为 /region/省/市/县（区）。")
    wanted = [None if n == UNKNOWN else n for n in names]
    tree = await region_tree(datasette)
    regions = [r for r in tree if list(r[:len(wanted)]) == wanted]
    if not regions:
        return await not_found(datasette, request, f"没有“{' '.join(names)}”的报告。")
    try:
        page = int(request.args.get("page") or 1)
    except ValueError:
        page = 1
    depth = len(wanted)
    groups, page, pages = await units_of(datasette, regions, page, depth)
    subs = {}
    if depth < 3:
        for r in regions:
            child = r[depth]
            if depth == 2 and child is None:
                continue  # the city's own units, listed under 市本级
            s = subs.setdefault(part(child), {"name": part(child), "url": region_url(datasette, *r[:depth + 1]),
                                             "units": 0, "reports": 0})
            s["units"] += r[3]
            s["reports"] += r[4]
    city_level = sum(r[3] for r in regions if depth == 2 and r[2] is None)
    filter_args = dict(zip(("province", "city", "county"), names))
    return await render(datasette, request, "region.html", {
        "names": names, "trail": [(n, region_url(datasette, *wanted[:i + 1])) for i, n in enumerate(names)],
        "subs": list(subs.values()), "sub_label": ("市", "县（区）", None)[depth - 1],
        "city_level": city_level, "city_level_label": CITY_LEVEL,
        "groups": groups, "paging": page_links(request, page, pages),
        "n_units": sum(r[3] for r in regions), "n_reports": sum(r[4] for r in regions),
        "reports_url": datasette.urls.path("/reports?" + urllib.parse.urlencode(filter_args)),
    })


# ---------------------------------------------------------------- registration


@hookimpl
def register_routes():
    return [
        (r"^/reports$", reports_page),
        (r"^/units$", units_page),
        (r"^/region/(?P<parts>.+)$", region_page),
    ]
