"""For machines: robots.txt, sitemap.xml, an Atom feed of reports, and data package zips.

Zips are built on the fly from ``datapackages/`` (the committed Frictionless packages):
``/download/report/<report_id>.zip`` for one report, ``/download/jixiao-datapackage.zip``
for the corpus.
"""
import asyncio
import datetime
import hashlib
import io
import json
import os
import tempfile
import urllib.parse
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from datasette import hookimpl
from datasette.utils.asgi import AsgiFileDownload, Response

from jixiao import schema

DB = schema.DATABASE
CORPUS = "jixiao"
STATIC_PAGES = ("/", "/search", "/compare", "/downloads", "/dictionary", "/api")


DEFAULT_SITE_URL = "http://127.0.0.1:8001"


def site_config(datasette) -> dict:
    """The ``plugins: jixiao:`` block of the configuration, written by jixiao/serve.py from the
    Site (database, packages, site_url); empty when Datasette is started some other way."""
    return ((datasette.config or {}).get("plugins") or {}).get("jixiao") or {}


def packages_dir(datasette):
    configured = site_config(datasette).get("packages")
    if configured:
        return Path(configured).resolve()
    return Path(datasette.plugins_dir or "plugins").resolve().parent / "datapackages"


def site_url(datasette) -> str:
    """The configured absolute URL of the site (never the request's Host header)."""
    return (site_config(datasette).get("site_url") or DEFAULT_SITE_URL).rstrip("/")


_FOLDERS: dict = {}


def package_folders(root):
    """Frictionless package name → folder, read from each datapackage.json — once per package
    tree (the tree is replaced as a whole by a build, so its inode and mtime name a version)."""
    try:
        st = root.stat()
    except OSError:
        return {}
    key = (str(root), st.st_ino, st.st_mtime_ns)
    if key not in _FOLDERS:
        found = {}
        for f in sorted(root.glob("*/datapackage.json")):
            try:
                found[json.loads(f.read_text(encoding="utf-8"))["name"]] = f.parent
            except (ValueError, KeyError, OSError):
                continue
        if len(_FOLDERS) > 8:
            _FOLDERS.clear()
        _FOLDERS[key] = found
    return _FOLDERS[key]


def zip_folder(folder, prefix):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                z.write(f, f"{prefix}/{f.relative_to(folder).as_posix()}")
    return out.getvalue()


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


async def cached_zip(folder, prefix) -> Path:
    """The zip of ``folder``, built once per version of its files, off the event loop, and
    kept on disk (every later request streams the file)."""
    key = await asyncio.to_thread(_tree_key, folder)
    target = ZIP_CACHE / f"{key}.zip"
    lock = _ZIP_LOCKS.setdefault(key, asyncio.Lock())
    async with lock:
        if not target.exists():
            def build():
                ZIP_CACHE.mkdir(parents=True, exist_ok=True)
                body = zip_folder(folder, prefix)
                tmp = target.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_bytes(body)
                os.replace(tmp, target)
            await asyncio.to_thread(build)
    return target


def zip_response(path, filename):
    quoted = urllib.parse.quote(filename)
    return AsgiFileDownload(path, content_type="application/zip",
                            headers={"content-disposition": f"attachment; filename*=UTF-8''{quoted}"})


async def not_found(datasette, request, message):
    """A 404 page in Chinese (raising NotFound would redirect %-encoded paths to ~-encoding)."""
    html = await datasette.render_template(["error.html"], {"title": "未找到", "error": message, "status": 404},
                                           request=request)
    return Response.html(html, status=404)

async def report_zip(datasette, request):
    report_id = urllib.parse.unquote(request.url_vars["report_id"])
    rows = (await datasette.get_database(DB).execute(
        "select package_name from reports where report_id = :id", {"id": report_id})).rows
    if not rows:
        return await not_found(datasette, request, f"没有编号为 {report_id} 的报告")
    folder = package_folders(packages_dir(datasette)).get(rows[0]["package_name"])
    if folder is None:
        return await not_found(datasette, request, f"报告 {report_id} 的数据包不在 datapackages/ 中（请先运行 jixiao build）")
    return zip_response(await cached_zip(folder, folder.name), f"{report_id}.zip")


async def corpus_zip(datasette, request):
    folder = packages_dir(datasette) / CORPUS
    if not (folder / "datapackage.json").exists():
        return await not_found(datasette, request, "全部报告的数据包不在 datapackages/jixiao/ 中（请先运行 jixiao build）")
    return zip_response(await cached_zip(folder, CORPUS), "jixiao-datapackage.zip")


async def robots(datasette):
    sitemap = datasette.urls.path("/sitemap.xml")
    return Response.text(f"User-agent: *\nDisallow: /{DB}?sql=\nDisallow: /-/\nSitemap: {sitemap}\n")


async def _reports(datasette):
    return [dict(r) for r in (await datasette.get_database(DB).execute(
        "select report_id, unit_name, fiscal_year, title, city, county, report_kind, total_score, "
        "source_url, publisher, published_date "
        "from reports order by fiscal_year desc, unit_name")).rows]


def _abs(datasette, request, path):
    """An absolute URL from the configured site URL (a Host header must not reach the cached
    sitemap and feed)."""
    return site_url(datasette) + datasette.urls.path(path)


async def sitemap(datasette, request):
    reports = await _reports(datasette)
    paths = list(STATIC_PAGES)
    paths += ["/report/" + urllib.parse.quote(r["report_id"], safe="") for r in reports]
    paths += ["/unit/" + urllib.parse.quote(u, safe="") for u in dict.fromkeys(r["unit_name"] for r in reports)]
    paths += [f"/{DB}/{t.name}" for t in schema.TABLES]
    urls = "".join(f"<url><loc>{escape(_abs(datasette, request, p))}</loc></url>\n" for p in paths)
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + urls + "</urlset>\n")
    return Response(body, content_type="application/xml; charset=utf-8")


async def feed(datasette, request):
    """Atom feed of the reports, latest fiscal year first; updated = when the database was built."""
    db = datasette.get_database(DB)
    built = datetime.datetime.fromtimestamp(os.path.getmtime(db.path), datetime.timezone.utc)
    stamp = built.strftime("%Y-%m-%dT%H:%M:%SZ")
    entries = []
    for r in await _reports(datasette):
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
            f'<link href="{escape(url)}"/>{extra}<id>{escape(url)}</id><updated>{stamp}</updated>'
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
    ]


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
