"""Findings across reports on the site (issue 17): shared passages on the report page, peers and
year over year on the unit page, peers and the self-score distribution on /compare, and the
/copied page (the most copied passages).

The report, unit and compare pages belong to plugins/report_pages.py and site_pages.py; their
templates include ``_across_report.html`` / ``_across_unit.html`` / ``_across_compare.html``, which
read the ``across`` variable given here (``extra_template_vars``). Everything is read from the
tables of ``jixiao/across`` through index lookups; a database without them gives no ``across``.
"""
import json
import urllib.parse
import weakref

from datasette import hookimpl
from datasette.utils.asgi import Response

from jixiao.across.peers import MEASURES, SCORE_BANDS
from jixiao.pages import DB, report_url, rows

SHOWN_PAIRS = 10  # other places listed per paragraph (shared_passages keeps at most 10 per place)
COPIED_ROWS = 100


def source_link(datasette, report_id, line):
    return report_url(datasette, report_id) + "/source" + (f"#L{line}" if line else "")


async def _has_tables(datasette):
    db = datasette.get_database(DB)
    names = set(await db.table_names()) | set(await db.view_names())  # shared_passages: a view over passage_pairs
    return "shared_passages" in names and "peer_positions" in names


async def report_vars(datasette, report_id):
    places = await rows(datasette, """
        select s.line, pp.text, s.passage_id, p.reports, p.units, p.is_template, p.template_reason,
               s.other_report_id, s.other_line, s.similarity, s.same_unit, r.unit_name as other_unit,
               r.fiscal_year as other_year
        from shared_passages s
        join passages p on p.passage_id = s.passage_id
        join passage_places pp on pp.passage_id = s.passage_id and pp.report_id = s.report_id and pp.line = s.line
        join reports r on r.report_id = s.other_report_id
        where s.report_id = :id
        order by s.line, s.similarity desc, s.same_unit desc, s.other_report_id, s.other_line""", {"id": report_id})
    by_line = {}
    for p in places:
        item = by_line.setdefault(p["line"], {
            "line": p["line"], "text": p["text"], "passage_id": p["passage_id"], "others_count": p["reports"] - 1,
            "units": p["units"], "is_template": bool(p["is_template"]), "reason": p["template_reason"],
            "source_url": source_link(datasette, report_id, p["line"]), "others": []})
        if len(item["others"]) < SHOWN_PAIRS:
            item["others"].append({
                "report_id": p["other_report_id"], "unit": p["other_unit"], "year": p["other_year"],
                "line": p["other_line"], "similarity": p["similarity"], "same_unit": bool(p["same_unit"]),
                "url": report_url(datasette, p["other_report_id"]),
                "source_url": source_link(datasette, p["other_report_id"], p["other_line"])})
    copied = [v for v in by_line.values() if not v["is_template"]]
    template = [v for v in by_line.values() if v["is_template"]]
    # (template wording shared by min_units units or more has no places or pairs: not listed here)
    return {"copied": copied, "template": template, "template_count": len(template),
            "copied_url": datasette.urls.path("/copied")}


async def peer_rows(datasette, report_ids):
    if not report_ids:
        return []
    found = await rows(datasette, """
        select p.*, r.unit_name from peer_positions p join reports r on r.report_id = p.report_id
        where p.report_id in (select value from json_each(:ids))
        order by r.fiscal_year desc, r.unit_name, p.report_id""",
                       {"ids": json.dumps(list(report_ids), ensure_ascii=False)})
    order = list(MEASURES)
    by_report = {}
    for p in found:
        rep = by_report.setdefault(p["report_id"], {
            "report_id": p["report_id"], "unit_name": p["unit_name"], "fiscal_year": p["fiscal_year"],
            "department_kind": p["department_kind"], "admin_level": p["admin_level"],
            "url": report_url(datasette, p["report_id"]), "measures": []})
        p["source_url"] = source_link(datasette, p["report_id"], p["line"]) if p["line"] else None
        rep["measures"].append(p)
    for rep in by_report.values():
        rep["measures"].sort(key=lambda m: order.index(m["measure"]) if m["measure"] in order else 99)
    return list(by_report.values())


async def unit_vars(datasette, unit):
    reports = await rows(datasette, "select report_id from reports where unit_name = :u order by fiscal_year desc",
                         {"u": unit})
    ids = [r["report_id"] for r in reports]
    changes = await rows(datasette, """
        select * from year_changes where report_id in (select value from json_each(:ids))
        order by fiscal_year desc, report_id, seq""", {"ids": json.dumps(ids, ensure_ascii=False)})
    pairs = {}
    for c in changes:
        pair = pairs.setdefault(c["report_id"], {
            "report_id": c["report_id"], "other_report_id": c["other_report_id"], "year": c["fiscal_year"],
            "other_year": c["other_fiscal_year"], "url": report_url(datasette, c["report_id"]),
            "other_url": report_url(datasette, c["other_report_id"]), "figures": [], "indicators": []})
        c["source_url"] = source_link(datasette, c["report_id"], c["line"]) if c["line"] else None
        c["other_source_url"] = source_link(datasette, c["other_report_id"], c["other_line"]) if c["other_line"] else None
        pair["figures" if c["kind"] == "figure" else "indicators"].append(c)
    return {"peers": await peer_rows(datasette, ids), "years": list(pairs.values()),
            "peers_table_url": datasette.urls.table(DB, "peer_positions")}


async def compare_vars(datasette, request):
    units = [u.strip() for v in request.args.getlist("unit") for u in v.replace("，", ",").replace("、", ",").split(",")
             if u.strip()]
    ids = []
    if units:
        year = request.args.get("year", "")
        found = await rows(datasette, """
            select report_id from reports where unit_name in (select value from json_each(:u))
              and (:y = '' or fiscal_year = cast(:y as integer))
            order by fiscal_year desc limit 40""",
                           {"u": json.dumps(units, ensure_ascii=False), "y": year})
        ids = [r["report_id"] for r in found]
    bands = await rows(datasette, """
        select score_band, count(*) as n, sum(indicators_unmet > 0) as with_unmet, sum(errors > 0) as with_errors
        from score_evidence where score_band is not null group by score_band""")
    by_band = {b["score_band"]: b for b in bands}
    total = sum(b["n"] for b in bands)
    distribution = [{"band": name, "n": (by_band.get(name) or {}).get("n", 0),
                     "with_unmet": (by_band.get(name) or {}).get("with_unmet") or 0,
                     "with_errors": (by_band.get(name) or {}).get("with_errors") or 0,
                     "url": datasette.urls.table(DB, "score_evidence") + "?" + urllib.parse.urlencode(
                         {"score_band": name})}
                    for _, name in SCORE_BANDS]
    return {"peers": await peer_rows(datasette, ids), "distribution": distribution, "scored": total,
            "evidence_url": datasette.urls.table(DB, "score_evidence"),
            "high_unmet_url": datasette.urls.path(f"/{DB}/high_scores_against_evidence")}


@hookimpl
def extra_template_vars(template, request, datasette):
    if template not in ("report.html", "unit.html", "compare.html") or request is None:
        return None

    async def inner():
        if not await _has_tables(datasette):
            return {}
        if template == "report.html":
            rid = urllib.parse.unquote(request.url_vars.get("report_id", ""))
            return {"across": await report_vars(datasette, rid)}
        if template == "unit.html":
            return {"across": await unit_vars(datasette, urllib.parse.unquote(request.url_vars.get("unit", "")))}
        return {"across": await compare_vars(datasette, request)}

    return inner


# /copied's totals count every place of the copied passages (~200 ms at 10,000 reports, the rest of
# the page a few ms). An immutable file cannot change while it is served: each process counts
# them once, as Datasette keeps a table's row count; a live (mutable) file is counted each time.
_COUNTS: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()


async def copied_counts(datasette) -> dict:
    kept = _COUNTS.get(datasette)
    if kept is not None:
        return kept
    counts = (await rows(datasette, """
        select count(*) as passages, coalesce(sum(not is_template), 0) as copied, coalesce(sum(is_template), 0) as template,
               (select count(distinct report_id) from passage_places pp
                where pp.passage_id in (select passage_id from passages where not is_template)) as reports_copying
        from passages"""))[0]
    if not datasette.get_database(DB).is_mutable:
        _COUNTS[datasette] = counts
    return counts


async def copied_page(datasette, request):
    """The most copied passages (not template wording), then template wording, and one passage's places."""
    if not await _has_tables(datasette):
        return Response.html("<p>本数据库没有共用段落表。</p>", status=404)
    passage = request.args.get("passage", "")
    context = {"passage": None, "copied_url": datasette.urls.path("/copied")}
    if passage.isdigit():
        found = await rows(datasette, "select * from passages where passage_id = :p", {"p": int(passage)})
        if found:
            p = found[0]
            places = await rows(datasette, """
                select pp.report_id, pp.line, r.unit_name, r.fiscal_year from passage_places pp
                join reports r on r.report_id = pp.report_id where pp.passage_id = :p
                order by r.unit_name, r.fiscal_year, pp.line""", {"p": p["passage_id"]})
            for x in places:
                x["url"] = report_url(datasette, x["report_id"])
                x["source_url"] = source_link(datasette, x["report_id"], x["line"])
            p["places_list"] = places
            p["source_url"] = source_link(datasette, p["report_id"], p["line"])
            context["passage"] = p
    top = await rows(datasette, f"""
        select p.*, r.unit_name from passages p join reports r on r.report_id = p.report_id
        where not p.is_template order by p.units desc, p.reports desc, p.passage_id limit {COPIED_ROWS}""")
    templates = await rows(datasette, f"""
        select p.*, r.unit_name from passages p join reports r on r.report_id = p.report_id
        where p.is_template order by p.units desc, p.reports desc, p.passage_id limit {COPIED_ROWS}""")
    for p in top + templates:
        p["url"] = datasette.urls.path("/copied?" + urllib.parse.urlencode({"passage": p["passage_id"]}))
        p["source_url"] = source_link(datasette, p["report_id"], p["line"])
    counts = await copied_counts(datasette)
    context.update({"top": top, "templates": templates, "counts": counts,
                    "table_url": datasette.urls.table(DB, "passages"),
                    "pairs_url": datasette.urls.table(DB, "shared_passages")})
    html = await datasette.render_template(["copied.html"], context, request=request)
    return Response.html(html)


@hookimpl
def register_routes():
    return [(r"^/copied$", copied_page)]
