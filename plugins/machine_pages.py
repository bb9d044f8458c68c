"""For machines: robots.txt, sitemap.xml, an Atom feed of reports, and data package downloads.

* ``/download/report/<report_id>.zip`` — one report's data package, built from the database on
  request (jixiao/package.py ``report_package``: the same bytes every time; CSVs with a BOM).
* ``/download/jixiao-datapackage.zip`` — the corpus package (``datapackages/jixiao/``) as one zip:
  CSVs unpacked with a BOM, Parquet as it is; built once per version of the package, off the
  event loop, kept on disk.
* ``/download/jixiao/<file>`` — one file of the corpus package (a table's ``.csv.gz`` or
  ``.parquet``, or ``datapackage.json``).
* The sitemap's ``<lastmod>`` and the feed's ``<updated>`` are each report's own date: when its
  content was first built (table ``report_builds``, written by the build; jixiao/build_dates.py
  ``record_build_dates``).
"""
import asyncio
import datetime
import hashlib
import os
import re
import sqlite3
import tempfile
import urllib.parse
from pathlib import Path
from xml.sax.saxutils import escape

from datasette import hookimpl
from datasette.utils.asgi import AsgiFileDownload, Response

from jixiao import build_dates, package, schema
from jixiao.pages import not_found
from jixiao.serve import site_config

DB = schema.DATABASE
CORPUS = "jixiao"
STATIC_PAGES = ("/", "/reports", "/units", "/search", "/compare", "/downloads", "/dictionary", "/api")


DEFAULT_SITE_URL = "http://127.0.0.1:8001"


def packages_dir(datasette):
    configured = site_config(datasette).get("packages")
    if configured:
        return Path(configured).resolve()
    return Path(datasette.plugins_dir or "plugins").resolve().parent / "datapackages"


def site_url(datasette) -> str:
    """The configured absolute URL of the site (never the request's Host header)."""
    return (site_config(datasette).get("site_url") or DEFAULT_SITE_URL).rstrip("/")


def _tree_key(folder):
    """A version of a folder's files: names, sizes and mtimes."""
    parts = []
    for f in sorted(folder.rglob("*")):
        if f.is_file():
            st = f.stat()
            parts.append(f"{f.relative_to(folder).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}")
    return hashlib.sha256("\n".join([str(folder.resolve())] + parts).encode()).hexdigest()[:32]


ZIP_CACHE = Path(tempfile.gettempdir()) / "jixiao-zips"
_ZIP_LOCKS: dict = {}


async def cached_zip(folder) -> Path:
    """The corpus zip of ``folder``, built once per version of its files, off the event loop,
    and kept on disk (every later request streams the file)."""
    key = await asyncio.to_thread(_tree_key, folder)
    target = ZIP_CACHE / f"{key}.zip"
    lock = _ZIP_LOCKS.setdefault(key, asyncio.Lock())
    async with lock:
        if not target.exists():
            def build():
                ZIP_CACHE.mkdir(parents=True, exist_ok=True)
                tmp = target.with_suffix(f".{os.getpid()}.tmp")
                with open(tmp, "wb") as fh:
                    package.corpus_zip(folder, fh)
                os.replace(tmp, target)
            await asyncio.to_thread(build)
    return target


def zip_response(path, filename):
    quoted = urllib.parse.quote(filename)
    return AsgiFileDownload(path, content_type="application/zip",
                            headers={"content-disposition": f"attachment; filename*=UTF-8''{quoted}"})


def _report_zip(db_path, report_id):
    conn = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)
    try:
        return package.report_package(conn, report_id)
    finally:
        conn.close()


async def report_zip(datasette, request):
    """One report's data package, from the database (off the event loop; a report is small)."""
    report_id = urllib.parse.unquote(request.url_vars["report_id"])
    body = await asyncio.to_thread(_report_zip, datasette.get_database(DB).path, report_id)
    if body is None:
        return await not_found(datasette, request, f"没有编号为 {report_id} 的报告")
    quoted = urllib.parse.quote(f"{report_id}.zip")
    return Response(body, content_type="application/zip",
                    headers={"content-disposition": f"attachment; filename*=UTF-8''{quoted}"})


def corpus_folder(datasette):
    folder = packages_dir(datasette) / CORPUS
    return folder if (folder / "datapackage.json").exists() else None


async def corpus_zip(datasette, request):
    folder = corpus_folder(datasette)
    if folder is None:
        return await not_found(datasette, request, "全部报告的数据包不在 datapackages/jixiao/ 中（请先运行 jixiao build）")
    return zip_response(await cached_zip(folder), "jixiao-datapackage.zip")


CORPUS_FILE = re.compile(r"[a-z0-9_]+\.(csv\.gz|parquet)|datapackage\.json")
TYPES = {"gz": "application/gzip", "parquet": "application/vnd.apache.parquet", "json": "application/json"}


async def corpus_file(datasette, request):
    """One file of the corpus package, by the name its datapackage.json gives it."""
    name = request.url_vars["name"]
    folder = corpus_folder(datasette)
    if folder is None or not CORPUS_FILE.fullmatch(name) or not (folder / name).is_file():
        return await not_found(datasette, request, f"数据包中没有文件 {name}")
    return AsgiFileDownload(folder / name, filename=name, content_type=TYPES[name.rsplit(".", 1)[1]])


_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def robots_base(datasette, request) -> str:
    """The site URL for robots.txt: the configured one (``--site-url``), else the request's scheme
    and host (a well-formed host only), else the default."""
    configured = site_config(datasette).get("site_url")
    unroutable = configured and urllib.parse.urlsplit(configured).hostname in ("0.0.0.0", "::")
    if configured and not unroutable:
        return configured.rstrip("/")
    host = request.headers.get("host", "")
    if _HOST.fullmatch(host):
        return f"{request.scheme}://{host}"
    return DEFAULT_SITE_URL


async def robots(datasette, request):
    sitemap = robots_base(datasette, request) + datasette.urls.path("/sitemap.xml")
    return Response.text(f"User-agent: *\nDisallow: /{DB}?sql=\nDisallow: /-/\nSitemap: {sitemap}\n")


def _stamp(path) -> str:
    return datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _reports(datasette):
    """The reports, newest first, each with ``built``: when its content was first built (from
    ``report_builds``; a database built before that table existed: the file's date)."""
    db = datasette.get_database(DB)
    dated = await db.table_exists(build_dates.BUILD_DATES)
    built = "b.first_built" if dated else "null"
    join = f"left join [{build_dates.BUILD_DATES}] b on b.report_id = r.report_id" if dated else ""
    rows = [dict(r) for r in (await db.execute(
        "select r.report_id, r.unit_name, r.fiscal_year, r.title, r.city, r.county, r.report_kind, r.total_score, "
        f"r.source_url, r.publisher, r.published_date, {built} as built "
        f"from reports r {join} order by built desc, r.fiscal_year desc, r.unit_name, r.report_id")).rows]
    fallback = None
    for r in rows:
        if not r["built"]:
            r["built"] = fallback = fallback or _stamp(db.path)
    return rows


def _abs(datasette, request, path):
    """An absolute URL from the configured site URL (a Host header must not reach the cached
    sitemap and feed)."""
    return site_url(datasette) + datasette.urls.path(path)


async def sitemap(datasette, request):
    reports = await _reports(datasette)
    latest = max((r["built"] for r in reports), default=None)
    units: dict = {}
    for r in reports:  # a unit page changes when any of its reports does
        units[r["unit_name"]] = max(units.get(r["unit_name"]) or "", r["built"])
    paths = [(p, latest) for p in STATIC_PAGES]
    paths += [("/report/" + urllib.parse.quote(r["report_id"], safe=""), r["built"]) for r in reports]
    paths += [("/unit/" + urllib.parse.quote(u or "", safe=""), d) for u, d in units.items()]
    paths += [(f"/{DB}/{t.name}", latest) for t in schema.TABLES]
    urls = "".join(f"<url><loc>{escape(_abs(datasette, request, p))}</loc>"
                   + (f"<lastmod>{d}</lastmod>" if d else "") + "</url>\n" for p, d in paths)
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + urls + "</urlset>\n")
    return Response(body, content_type="application/xml; charset=utf-8")


async def feed(datasette, request):
    """Atom feed of the reports, newest first; each entry's updated = when that report's content
    was first built, the feed's = the latest of those."""
    reports = await _reports(datasette)
    stamp = max((r["built"] for r in reports), default=None) or _stamp(datasette.get_database(DB).path)
    entries = []
    for r in reports:
        url = _abs(datasette, request, "/report/" + urllib.parse.quote(r["report_id"], safe=""))
        place = "".join(x for x in (r["city"], r["county"]) if x)
        summary = f"{place} {r['unit_name']} {r['fiscal_year']} 年度{r['report_kind'] or ''}"
        if r["total_score"] is not None:
            summary += f"，自评总分 {r['total_score']:g}"
        # From sources.csv: where and when the report was published (rel="via": the original).
        extra = ""
        if r.get("source_url"):
            extra += f'<link rel="via" href="{escape(r["source_url"])}"/>'
        if (r.get("published_date") or "")[:10].replace("-", "").isdigit() and len(r["published_date"]) == 10:
            extra += f"<published>{escape(r['published_date'])}T00:00:00Z</published>"
        if r.get("publisher"):
            extra += f"<author><name>{escape(r['publisher'])}</name></author>"
        entries.append(
            f"<entry><title>{escape(r['title'] or r['report_id'])}</title>"
            f'<link href="{escape(url)}"/>{extra}<id>{escape(url)}</id><updated>{r["built"]}</updated>'
            f"<summary>{escape(summary)}</summary></entry>"
        )
    self_url = _abs(datasette, request, "/feed.atom")
    body = ('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="zh-CN">'
            f"<title>绩效自评开放数据：新增报告</title><id>{escape(self_url)}</id>"
            f'<link rel="self" href="{escape(self_url)}"/><link href="{escape(_abs(datasette, request, "/"))}"/>'
            f"<updated>{stamp}</updated><author><name>jixiao</name></author>\n" + "\n".join(entries) + "\n</feed>\n")
    return Response(body, content_type="application/atom+xml; charset=utf-8")


@hookimpl
def register_routes():
    return [
        (r"^/robots\.txt$", robots),
        (r"^/sitemap\.xml$", sitemap),
        (r"^/feed\.atom$", feed),
        (r"^/download/report/(?P<report_id>[^/]+)\.zip$", report_zip),
        (r"^/download/jixiao-datapackage\.zip$", corpus_zip),
        (r"^/download/jixiao/(?P<name>[^/]+)$", corpus_file),
    ]


@hookimpl
def extra_template_vars(template):
    if template == "downloads.html":  # which tables have a .parquet and .csv.gz in the corpus package
        return {"package_tables": [t.name for t in schema.TABLES]}
    return None


@hookimpl
def startup(datasette):
    """Serve the configured database under the site's name (``jixiao``) whatever its file is
    called: the stored queries, facets and every custom page refer to that name."""
    configured = site_config(datasette).get("database")
    if not configured or DB in datasette.databases:
        return
    target = Path(configured).resolve()
    for name, db in list(datasette.databases.items()):
        if db.path and Path(db.path).resolve() == target:
            renamed = {}
            for k, v in datasette.databases.items():
                renamed[DB if k == name else k] = v
            db.name = db.route = DB
            if datasette.inspect_data and name in datasette.inspect_data:
                datasette.inspect_data[DB] = datasette.inspect_data[name]
            datasette.databases = type(datasette.databases)(renamed)
            return
