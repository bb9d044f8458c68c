"""The site's search queries over ``sections_fts`` (jixiao/search.py builds the index and
registers the SQL functions ``escape_fts``, ``search_snippet`` and, from jixiao/search_rank.py,
``search_score``).

The stored queries ``search`` and ``search_hits`` of datasette.yml are exactly :data:`SEARCH_SQL`
and :data:`SEARCH_HITS_SQL` (a test says so); /search (plugins/search_page.py) runs
:data:`CANDIDATES_SQL` once for its facets and its page of hits, and :data:`DETAILS_SQL` for that
page's details. A document's kind is its rowid's top byte (search.KIND_SHIFT); at most
search.CANDIDATES hits are ranked per request. Datasette's table page ``/jixiao/sections?_search=``
filters by :func:`table_search_clause` (plugins/cjk_search.py).
"""
from __future__ import annotations

import json
import re

from .search import CANDIDATES, FTS_TABLE, KIND_SHIFT, KINDS

FILTERS = ("kind", "year", "province", "city", "unit")
PAGE_SIZE = 20

# One row ({row}, from 1) of the table t, read from its grid alone (the view table_cells would
# expand every cell of the table): {value} over its elements c. A compact row is its first line
# (an integer), then its cells' texts; any other row lists its cells, [text, line(, page)]; the grid is
# stored compressed, read with jixiao_text (jixiao/ddl.py).
_ROW = """(select {value} from table_grids tg, json_each(jixiao_text(tg.cells) -> ({row} - 1)) c
              where tg.report_id = t.report_id and tg.table_seq = t.table_seq{only})"""
_CELL_TEXT = "(case c.type when 'array' then c.value ->> 0 else c.value end)"
# its non-empty cells (\x1f-separated), as the index holds them
ROW_TEXT = _ROW.format(value=f"group_concat({_CELL_TEXT}, char(31))", row="{row}",
                       only=f" and c.type <> 'integer' and {_CELL_TEXT} <> ''")
# its first line
ROW_LINE = _ROW.format(value="min(case c.type when 'array' then c.value ->> 1 when 'integer' then c.value end)",
                       row="{row}", only="")

# A hit's score (search_rank.score) reads its text: the index proposes documents by their bigrams and
# keeps no positions, so the score also drops a document without the words (NULL). An indicator's
# document also holds its table row's other cells: its own columns that hold them are passed. A section's
# body goes as bytes in the file's encoding (search_rank.scorer decodes them, skipping SQLite's
# conversion to UTF-8). LIMIT -1
# keeps SQLite from moving `score is not null` into the scan, which would compute it twice.
_HIT = """select * from (select f.rowid as id,
         search_score(:q, s.heading, cast(s.body as blob),
                      case when f.rowid >> 56 = 1 then """ + ROW_TEXT.format(row="(f.rowid & 1048575)") + """ end,
                      i.level3, i.level1, i.level2, i.target, i.actual, i.note, i.standard,
                      i.level1_text, i.level2_text, i.weight_text, i.score_text, i.extra,
                      g.message, g.expected, g.actual) as score,
         f.rowid >> 56 as kind_n, r.report_id, r.unit_name, r.fiscal_year, r.province, r.city
  from {source}
  left join sections s on f.rowid < 72057594037927936 and s.rowid = f.rowid
  left join source_tables t on f.rowid >> 56 = 1 and t.rowid = (f.rowid & 72057594037927935) >> 20
  left join indicators i on f.rowid >> 56 = 2 and i.rowid = f.rowid & 72057594037927935
  left join findings g on f.rowid >> 56 = 3 and g.rowid = f.rowid & 72057594037927935
  join reports r on r.report_id = coalesce(s.report_id, t.report_id, i.report_id, g.report_id)
  where sections_fts match escape_fts(:q){filters}
  limit -1) where score is not null"""

_CANDIDATES = f"""with c as (
  -- the first {CANDIDATES} hits in index order (LIMIT stops the scan): only they are scored
  {_HIT.format(source="sections_fts f", filters="{filters}")}
  limit {CANDIDATES}
)"""

_KIND_LO = ("case :kind when 'table' then 72057594037927936 when 'indicator' then 144115188075855872 "
            "when 'finding' then 216172782113783808 else 0 end")
_KIND_HI = ("case :kind when 'section' then 72057594037927935 when 'table' then 144115188075855871 "
            "when 'indicator' then 216172782113783807 else 9223372036854775807 end")
_REPORT_FILTERS = """
    and (:year = '' or r.fiscal_year = cast(:year as integer))
    and (:province = '' or r.province = :province)
    and (:city = '' or r.city = :city)"""
_FILTERS = f"""
    and f.rowid between {_KIND_LO}
                    and {_KIND_HI}""" + _REPORT_FILTERS

# With a unit, the hits are looked up inside that unit's documents only: each of its reports'
# rows of each kind have rowids between a first and a last one (written report by report), and
# FTS5 seeks to a rowid range. Filtering every hit by unit instead reads every hit of a common
# word (336 ms at 10,000 reports). Two branches, one always empty (a bound-parameter test is
# decided before the scan), because `(:unit = '' or …)` would defeat the planner.
_UNIT_DOCS = f"""unit_reports as (select report_id from reports where unit_name = :unit and :unit <> ''),
unit_docs(lo, hi) as (
  select max(lo, {_KIND_LO}), min(hi, {_KIND_HI}) from (
    select (select min(rowid) from sections where report_id = u.report_id) as lo,
           (select max(rowid) from sections where report_id = u.report_id) as hi from unit_reports u
    union all
    select 72057594037927936 + ((select min(rowid) from source_tables where report_id = u.report_id) << 20),
           72057594037927936 + ((select max(rowid) from source_tables where report_id = u.report_id) << 20) + 1048575
    from unit_reports u
    union all
    select 144115188075855872 + (select min(rowid) from indicators where report_id = u.report_id),
           144115188075855872 + (select max(rowid) from indicators where report_id = u.report_id) from unit_reports u
    union all
    select 216172782113783808 + (select min(rowid) from findings where report_id = u.report_id),
           216172782113783808 + (select max(rowid) from findings where report_id = u.report_id) from unit_reports u)
  where lo is not null
)"""

_NO_UNIT = _FILTERS + """
    and :unit = ''"""
_IN_UNIT_DOCS = """
    and f.rowid between u.lo and u.hi""" + _REPORT_FILTERS + """
    and r.unit_name = :unit"""

_FILTERED_CANDIDATES = f"""with {_UNIT_DOCS},
c as (
  -- the first {CANDIDATES} hits in index order (LIMIT stops the scan): only they are scored
  select * from (
  {_HIT.format(source="sections_fts f", filters=_NO_UNIT)}
  union all
  select * from (select distinct * from (
  {_HIT.format(source="unit_docs u cross join sections_fts f", filters=_IN_UNIT_DOCS)}) order by id))
  limit {CANDIDATES}
)"""

_SELECT = """select case top.kind_n when 0 then 'section' when 1 then 'table' when 2 then 'indicator' else 'finding' end as kind,
       top.report_id, top.unit_name, top.fiscal_year, top.province, top.city,
       case top.kind_n
         when 0 then s.path
         when 1 then coalesce(t.caption, '表格 ' || t.table_seq) || ' 第 ' || (top.id & 1048575) || ' 行'
         when 2 then coalesce(i.level3, i.level2, i.level1)
         else g.message end as place,
       s.seq,
       case top.kind_n
         when 0 then s.line_start
         when 1 then """ + ROW_LINE.format(row="(top.id & 1048575)") + """
         when 2 then i.line
         else g.line end as line,
       case top.kind_n
         when 0 then search_snippet(:q, s.heading, s.body)
         when 1 then search_snippet(:q, """ + ROW_TEXT.format(row="(top.id & 1048575)") + """)
         when 2 then search_snippet(:q, i.level3, i.level1, i.level2, i.target, i.actual, i.note, i.standard,
                       (select group_concat(text, char(31)) from (
                          select c.text from table_cells c
                          join (select table_seq, row from table_cells where report_id = i.report_id and line = i.line
                                order by table_seq, row, col limit 1) k
                            on c.table_seq = k.table_seq and c.row = k.row
                          where c.report_id = i.report_id
                            and (select min(line) from table_cells where report_id = i.report_id
                                 and table_seq = k.table_seq and row = k.row) = i.line
                          order by c.col)))
         else search_snippet(:q, g.message, g.expected, g.actual) end as snippet,
       abs(round(top.score, 3)) as relevance  -- score <= 0: relevance >= 0, higher first
from top
left join sections s on top.kind_n = 0 and s.rowid = top.id
left join source_tables t on top.kind_n = 1 and t.rowid = (top.id & 72057594037927935) >> 20
left join indicators i on top.kind_n = 2 and i.rowid = top.id & 72057594037927935
left join findings g on top.kind_n = 3 and g.rowid = top.id & 72057594037927935
order by top.score, top.id"""

_HITS = """,
top as (select * from c order by score, id limit {limit})
""" + _SELECT
CANDIDATES_SQL = (_FILTERED_CANDIDATES
                  + "\nselect id, score, kind_n, report_id, unit_name, fiscal_year, province, city from c")
# The hits of one page, given as :top (a JSON array of candidate rows): what search_hits selects.
DETAILS_SQL = """with top as (
  select value ->> 0 as id, value ->> 1 as score, (value ->> 0) >> 56 as kind_n, value ->> 3 as report_id,
         value ->> 4 as unit_name, value ->> 5 as fiscal_year, value ->> 6 as province, value ->> 7 as city
  from json_each(:top)
)
""" + _SELECT
# the stored query search: q only, the 50 best; search_hits: filters and pages of PAGE_SIZE
SEARCH_SQL = _CANDIDATES.format(filters="") + _HITS.format(limit=50)
SEARCH_HITS_SQL = _FILTERED_CANDIDATES + _HITS.format(
    limit=f"{PAGE_SIZE} offset (min(max(cast(:page as integer), 1), {CANDIDATES // PAGE_SIZE}) - 1) * {PAGE_SIZE}")


def page_of(candidates, page: int) -> str:
    """The candidate rows of one page in rank order, as the JSON :top of :data:`DETAILS_SQL`."""
    ranked = sorted(candidates, key=lambda r: (r[1], r[0]))
    return json.dumps([list(r) for r in ranked[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]], ensure_ascii=False)


def facet_counts(rows) -> dict[str, list[tuple[str, int]]]:
    """Counts per value of kind, year, province, city and unit over the candidate rows, most first."""
    counts: dict[str, dict[str, int]] = {k: {} for k in FILTERS}
    for _, _, kind_n, _, unit, year, province, city in rows:
        for key, value in (("kind", KINDS[kind_n]), ("year", year), ("province", province), ("city", city),
                           ("unit", unit)):
            if value not in (None, ""):
                counts[key][str(value)] = counts[key].get(str(value), 0) + 1
    return {k: sorted(v.items(), key=lambda kv: (-kv[1], kv[0])) for k, v in counts.items()}


# ---------------------------------------------------------------- ?_search= on the sections table

SECTIONS_END = 1 << KIND_SHIFT  # a section's document rowid is its sections.rowid; every other kind's is above
COMMON_SHARE = 100  # a query that matches at least one section in this many is common
_IN_KEY_ORDER = "+rowid in ("  # the unary + keeps SQLite from looking the hits up by rowid


def section_hits_sql(param: str) -> str:
    """The rowids of the sections whose documents match ``:param``. The rowid bound skips the
    index's other kinds where FTS5 reads its lists, not after: 法律援助 at 10,000 reports is 175 k
    documents, 72 k of them sections."""
    return f"select rowid from {FTS_TABLE} where {FTS_TABLE} match escape_fts(:{param}) and rowid < {SECTIONS_END}"


def table_search_clause(param: str, common: bool = False) -> str:
    """The WHERE clause of a table page's ``?_search=``: the sections among the hits.

    ``common`` (a query matching many sections, on a page in key order): ``+rowid`` keeps SQLite
    from fetching every hit and sorting them all, bodies included, for the first 50 (调解 at
    10,000 reports: 41 k hits, 49 ms); it walks the key's index in order and stops at the 51st
    hit (7 ms). For a rare query that walk would read most of the index, and its hits are few to
    fetch and sort, so they are looked up. The page's count looks them up either way
    (:func:`for_counting`)."""
    ids = section_hits_sql(param)
    return f"{_IN_KEY_ORDER}{ids})" if common else f"rowid in ({ids})"


_HITS = re.escape(section_hits_sql("PARAM")).replace("PARAM", r"\w+")
_SEARCH_ONLY = re.compile(r"from sections where rowid in \((" + _HITS + r")\)\s*")


def for_counting(from_sql: str) -> str:
    """A page's ``from … where …`` for its row count: a count has no order, so the hits are looked
    up by rowid (10,001 of 调解's at 10,000 reports: 11 ms; walking the key's index for them: 23 ms).
    A page with the search alone counts the index's section documents (one per section, the
    same rowids) without the table: ``rowid in (…)`` read every hit into a list before the count
    could stop at Datasette's limit (法律援助 at 10,000 reports: 72 k hits, 18 → 1 ms)."""
    from_sql = from_sql.replace(_IN_KEY_ORDER + f"select rowid from {FTS_TABLE} ", f"rowid in (select rowid from {FTS_TABLE} ")
    search_only = _SEARCH_ONLY.fullmatch(from_sql)
    return f"from ({search_only.group(1)})" if search_only else from_sql


def common_sql(param: str, enough: int) -> str:
    """1 when ``:param`` matches at least ``enough`` sections (the count stops there)."""
    return f"select count(*) >= {int(enough)} from ({section_hits_sql(param)} limit {int(enough)})"
