"""HTTP for a public, read-only site behind a CDN (issue 8): cache and security headers, a clean
405 where Datasette would answer 500, and a cheap database page.

One ``asgi_wrapper`` around the whole of Datasette:

* **Cache-Control** on anonymous GET/HEAD responses (no ``Cookie``, no ``Authorization``): the
  database is immutable and only changes with a deploy, so pages, JSON and CSV may be cached —
  briefly by browsers, for a day by the CDN, which is purged on deploy (docs/deploy.md):

  ========================================  ===========================================
  pages, JSON, CSV (2xx, 3xx)                ``public, max-age=300, s-maxage=86400``
  downloads: ``/<db>.db``, ``/download/…``,  ``public, max-age=3600, s-maxage=86400``
  ``.xlsx``, ``.csv?_dl=1``
  static files (``?_hash=`` keeps            ``public, max-age=3600, s-maxage=86400``
  Datasette's 1-year ``immutable``)
  404 / 410                                  ``public, max-age=60``
  other 4xx, all 5xx                         ``no-store`` (e.g. "SQL query took too long"
                                             under load must not be replayed for a day)
  ``/-/…`` (Datasette's status and debug     ``no-store``
  pages: live state, not data)
  ========================================  ===========================================

  Left as Datasette set it: responses to requests with a cookie or credentials and responses
  that set a cookie (Datasette marks them ``private, no-store``), and ``?_ttl=`` requests.
* On every response: ``X-Content-Type-Options: nosniff``, ``Referrer-Policy:
  strict-origin-when-cross-origin`` (no path or query — search words — leaves the site) and a
  ``Content-Security-Policy`` whose ``script-src 'self'`` forbids inline and third-party script:
  report text is untrusted, and this is the second line of defence behind escaping. The
  templates carry no inline script (data for scripts travels in JSON blocks, see
  static/page-data.js). Datasette's developer tools under ``/-/`` (API explorer, allow-debug)
  ship inline scripts in templates the site does not override; they show no report text and get
  ``script-src 'self' 'unsafe-inline'``.
* Any method but GET, HEAD and OPTIONS, on any path: Datasette 1.0a41 raises ``KeyError:
  'table'`` on ``POST /<db>/-/query`` and a 500 with a traceback on ``POST /-/messages`` with
  a bad ``message_type``; PUT and TRACE answered 200. The database is immutable and there is
  no login, so the answer is a plain ``405 Method Not Allowed`` with ``Allow: GET, HEAD``
  (OPTIONS stays for CORS). Anonymous responses never set a cookie (Datasette's CSRF token is dropped).
* At most ``MAX_FACETS`` facets asked for in one request (``_facet=``, ``_facet_array=``,
  ``_facet_date=``; the table's configured facets do not count): Datasette neither limits nor
  de-duplicates them, each one runs for up to ``facet_time_limit_ms``, and every facet value's
  link repeats the whole query string, so the page grows with the square of their number —
  ``?_facet=text`` × 300 on table_cells took 3 minutes and answered 756 MB on the five sample
  reports. More than ``MAX_FACETS`` → ``400`` with a message saying so.
* The database page (``/<db>`` and ``/<db>.json`` with no query string): Datasette runs ~80
  small SQL calls per request to list tables, columns, keys and full-text tables, which made it
  the slowest page under load. For an immutable database the answer is the same for every
  anonymous visitor, so the rendered response is kept in memory after the first request (per
  host and scheme, at most ``PAGE_MEMO_SIZE`` entries; visitors arriving during that first
  render wait for it). Nothing is hidden; it is simply not recomputed.
* ``_next`` on a view (``table_cells``, ``shared_passages``: compact storage, jixiao/ddl.py STORAGE):
  Datasette pages a view by OFFSET, so ``_next=99999999`` scans that many rows and ``_next=abc``
  was a 500 (``int('abc')``). A view's ``_next`` must be a whole number ≤ ``MAX_VIEW_OFFSET``,
  else ``400`` with a message; deeper rows are one filter away (``?report_id=…``) or in the
  data packages. Tables page by key (keyset) and are not limited.
* Error pages: Datasette 1.0a41 prints a ``rich`` traceback *with local variables* (the request
  scope and headers included) for every handled error, 404s and 400s too, whenever ``rich`` is
  installed (it is: typer pulls it in). That costs ~0.7 s of event-loop time per 4xx — a scanner
  or a crawler following dead links stalls the site — and writes request headers to the log.
  The plugin switches that off (``datasette.handle_exception.rich = None``); real 500s are still
  logged by Datasette's ``traceback.print_exc()``. Error messages Datasette writes as HTML
  (e.g. "SQL query took too long" with a textarea-resizing ``<script>``) lose their script
  through the ``without_script`` filter that templates/error.html uses.
"""
from __future__ import annotations

import asyncio
import functools
import json
import re
import urllib.parse
import weakref

import datasette.handle_exception as datasette_handle_exception
from datasette import hookimpl
from markupsafe import Markup

# See the module docstring: no rich traceback (with locals) for every 4xx.
datasette_handle_exception.rich = None

MAX_VIEW_OFFSET = 100_000
PAGE = "public, max-age=300, s-maxage=86400"
DOWNLOAD = "public, max-age=3600, s-maxage=86400"
STATIC = "public, max-age=3600, s-maxage=86400"
NOT_FOUND = "public, max-age=60"
NO_STORE = "no-store"

CSP_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    # Datasette's templates use <style> blocks and style="" attributes; ECharts and CodeMirror
    # set styles from script. No secret is on any page, so inline style is not a leak.
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'self'",
}


def csp(**override: str) -> str:
    return "; ".join(f"{k} {v}" for k, v in {**CSP_DIRECTIVES, **override}.items())


CSP = csp()
CSP_DEV_TOOLS = csp(**{"script-src": "'self' 'unsafe-inline'"})
REFERRER_POLICY = "strict-origin-when-cross-origin"

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
QUERY_ENDPOINT = re.compile(r"^/[^/]+/-/query(\.[A-Za-z0-9]+)?$")
PAGE_MEMO_SIZE = 16
MAX_FACETS = 10
SECURITY_HEADERS = (b"content-security-policy", b"x-content-type-options", b"referrer-policy")


def _path(datasette, scope) -> str:
    """The request path as Datasette routes it (raw, without the base_url prefix)."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1").partition("?")[0] if raw else scope.get("path", "/")
    base_url = datasette.setting("base_url") or "/"
    if base_url != "/" and path.startswith(base_url):
        path = "/" + path[len(base_url):]
    return path


def _request_headers(scope) -> dict[bytes, bytes]:
    return {k.lower(): v for k, v in scope.get("headers") or []}


def _is_dev_tool(path: str) -> bool:
    return path.startswith("/-/") and not path.startswith(("/-/static/", "/-/static-plugins/"))


def _is_static(path: str) -> bool:
    return path.startswith(("/static/", "/-/static/", "/-/static-plugins/"))


def _is_download(datasette, path: str, query: str) -> bool:
    if path.startswith("/download/") or path.endswith(".xlsx"):
        return True
    if path.endswith((".csv", ".json")) and re.search(r"(^|&)_dl=", query):  # .json: the JSON stream
        return True
    return path.endswith(".db") and path[1:-3] in datasette.databases


def cache_control(datasette, path: str, query: str, status: int) -> str:
    """The Cache-Control of an anonymous GET/HEAD response."""
    if status >= 400:
        return NOT_FOUND if status in (404, 410) else NO_STORE
    if _is_static(path):
        return STATIC
    if _is_dev_tool(path):
        return NO_STORE
    if _is_download(datasette, path, query):
        return DOWNLOAD
    return PAGE


def _memo_key(datasette, scope, path: str, headers: dict[bytes, bytes]):
    """A key when this request is for the database page of an immutable database, else None."""
    if scope.get("method") != "GET" or scope.get("query_string"):
        return None
    name = path[1:-5] if path.endswith(".json") else path[1:]
    db = datasette.databases.get(name)
    if db is None or db.is_mutable or "/" in name:
        return None
    return (path, scope.get("scheme"), headers.get(b"host", b""))


@functools.lru_cache(maxsize=1)
def _view_names() -> frozenset[str]:
    """The site's views (jixiao.views' VIEWS are materialised as tables by the build)."""
    from jixiao.schema import TABLES

    return frozenset(t.name for t in TABLES if t.stored_as)


_VIEW_PATH = re.compile(r"^/jixiao/([^/]+?)(?:\.(?:json|csv|xlsx))?$")


def view_offset_ok(path: str, query: str) -> bool:
    """False for a ``_next`` on a view that is not a whole number ≤ MAX_VIEW_OFFSET (see above)."""
    m = _VIEW_PATH.match(path)
    if not m or urllib.parse.unquote(m.group(1)) not in _view_names():
        return True
    values = [v for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True) if k == "_next"]
    return all(v.isdigit() and len(v) <= 7 and int(v) <= MAX_VIEW_OFFSET for v in values)


def facet_count(query: str) -> int:
    keys = (k for k, _ in urllib.parse.parse_qsl(query, keep_blank_values=True))
    return sum(1 for k in keys if (k == "_facet" or k.startswith("_facet_")) and k != "_facet_size")


async def plain_error(datasette, send, path: str, status: int, title: str, zh: str, en: str, extra=()) -> None:
    """A short error answer: JSON (Datasette's error shape) for .json paths, plain text otherwise."""
    if path.endswith(".json"):
        body = json.dumps({"ok": False, "status": status, "title": title, "error": f"{zh} {en}"},
                          ensure_ascii=False).encode("utf-8")
        content_type = b"application/json; charset=utf-8"
    else:
        body = f"{status} {title}\n{zh}\n{en}\n".encode("utf-8")
        content_type = b"text/plain; charset=utf-8"
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", content_type), (b"content-length", str(len(body)).encode()), *extra,
        *([(b"access-control-allow-origin", b"*")] if datasette.cors else []),
        (b"cache-control", NO_STORE.encode()), (b"content-security-policy", CSP.encode()),
        (b"x-content-type-options", b"nosniff"), (b"referrer-policy", REFERRER_POLICY.encode())]})
    await send({"type": "http.response.body", "body": body})


async def method_not_allowed(datasette, path: str, send) -> None:
    if QUERY_ENDPOINT.match(path):
        zh, en = "该数据库只读，SQL 查询只接受 GET：/-/query?sql=…", "The database is read-only; send SQL with GET ?sql=…"
    else:
        zh, en = "本站只读，页面只接受 GET 和 HEAD 请求。", "This site is read-only: pages take GET and HEAD only."
    await plain_error(datasette, send, path, 405, "Method Not Allowed", zh, en, [(b"allow", b"GET, HEAD")])


# Rendered database pages, per Datasette instance (Datasette builds a new ASGI app for each
# in-process request of datasette.client, so the memo cannot live in the wrapper's closure).
_MEMOS: "weakref.WeakKeyDictionary[object, dict[tuple, list[dict]]]" = weakref.WeakKeyDictionary()
# A render in progress: later visitors wait for it instead of all rendering at once.
_RENDERING: "weakref.WeakKeyDictionary[object, dict[tuple, asyncio.Event]]" = weakref.WeakKeyDictionary()


STREAMED = re.compile(r"\.(csv|xlsx)$|^/download/")


async def cancel_on_disconnect(app, scope, receive, send):
    """Run a download; when the client hangs up, cancel it (uvicorn drops what is sent after a
    disconnect silently, so an abandoned ``?_stream=1`` CSV kept querying for minutes)."""
    first = await receive()
    handed = False

    async def app_receive():
        nonlocal handed
        if not handed:
            handed = True
            return first
        await asyncio.Event().wait()  # a GET has no more body; the watcher owns receive()

    async def watch():
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return

    task = asyncio.ensure_future(app(scope, app_receive, send))
    watcher = asyncio.ensure_future(watch()) if first.get("type") == "http.request" else None
    try:
        if watcher is None:
            return await task
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
    finally:
        if watcher is not None:
            watcher.cancel()
        if not task.done():
            task.cancel()


def wrap(app, datasette):
    memo = _MEMOS.setdefault(datasette, {})
    rendering = _RENDERING.setdefault(datasette, {})

    async def with_headers(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        method = scope.get("method", "GET")
        path = _path(datasette, scope)
        if method not in SAFE_METHODS:
            # Read-only site, no login: every page takes GET/HEAD (and OPTIONS for CORS) only.
            # POST /-/messages with a bad message_type was a 500 with a traceback; PUT and TRACE
            # answered 200.
            # drain the body so the client sees the answer, not a reset
            message = await receive()
            while message.get("type") == "http.request" and message.get("more_body"):
                message = await receive()
            return await method_not_allowed(datasette, path, send)

        query = scope.get("query_string", b"").decode("latin-1")
        if facet_count(query) > MAX_FACETS:
            return await plain_error(datasette, send, path, 400, "Too many facets",
                                     f"一次最多 {MAX_FACETS} 个分面（_facet…），请减少分面。",
                                     f"At most {MAX_FACETS} facets (_facet…) per request.")

        if "_next=" in query and not view_offset_ok(path, query):
            return await plain_error(datasette, send, path, 400, "Bad _next",
                                     f"视图按偏移翻页：_next 须是不超过 {MAX_VIEW_OFFSET:,} 的整数；更靠后的行请先筛选"
                                     "（例如 ?report_id=…）或下载数据包。",
                                     f"A view pages by offset: _next must be a whole number up to {MAX_VIEW_OFFSET:,}; "
                                     "filter (e.g. ?report_id=…) or download the data package for rows further on.")

        headers = _request_headers(scope)
        anonymous = b"cookie" not in headers and b"authorization" not in headers
        key = _memo_key(datasette, scope, path, headers) if anonymous else None
        owner = False
        if key is not None:
            if key not in memo and key in rendering:
                await rendering[key].wait()  # the first visitor's render, not fifty at once
            if key in memo:
                for message in memo[key]:
                    await send(message)
                return
            if key not in rendering:
                rendering[key] = asyncio.Event()
                owner = True
        recorded: list[dict] | None = [] if key is not None else None

        async def send_with_headers(message):
            nonlocal recorded
            if message["type"] == "http.response.start":
                status = message["status"]
                out = [(k, v) for k, v in message.get("headers", []) if k.lower() not in SECURITY_HEADERS]
                if anonymous and any(k.lower() == b"set-cookie" for k, v in out):
                    # no cookies for anonymous visitors (e.g. a CSRF token): nothing here takes a POST
                    out = [(k, v) for k, v in out if k.lower() != b"set-cookie"]
                    if method in ("GET", "HEAD") and status < 400:
                        out = [(k, v) for k, v in out if k.lower() != b"cache-control"]
                out += [(b"content-security-policy", (CSP_DEV_TOOLS if _is_dev_tool(path) else CSP).encode()),
                        (b"x-content-type-options", b"nosniff"),
                        (b"referrer-policy", REFERRER_POLICY.encode())]
                names = {k.lower() for k, _ in out}
                existing = b", ".join(v for k, v in out if k.lower() == b"cache-control").decode("latin-1")
                keep = (not anonymous or b"set-cookie" in names or "private" in existing
                        or re.search(r"(^|&)_ttl=", query)
                        or (_is_static(path) and "immutable" in existing and status in (200, 304)))
                if method in ("GET", "HEAD") and not keep:
                    out = [(k, v) for k, v in out if k.lower() != b"cache-control"]
                    out.append((b"cache-control", cache_control(datasette, path, query, status).encode()))
                elif method not in ("GET", "HEAD") and b"cache-control" not in names:
                    out.append((b"cache-control", NO_STORE.encode()))
                message = dict(message, headers=out)
                if recorded is not None and (status != 200 or b"set-cookie" in names):
                    recorded = None
            if recorded is not None:
                recorded.append(message)
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    if len(memo) < PAGE_MEMO_SIZE:
                        memo[key] = recorded
                    recorded = None
            await send(message)

        try:
            if method == "GET" and (STREAMED.search(path) or (path.endswith(".json") and "_stream=1" in query)):
                return await cancel_on_disconnect(app, scope, receive, send_with_headers)
            return await app(scope, receive, send_with_headers)
        finally:
            if owner:
                rendering.pop(key).set()

    return with_headers


@hookimpl
def asgi_wrapper(datasette):
    return lambda app: wrap(app, datasette)


def without_script(value):
    """An HTML message from Datasette (Markup) without its <script> elements; text unchanged."""
    if isinstance(value, Markup):
        return Markup(re.sub(r"(?is)<script\b.*?</script\s*>", "", str(value)))
    return value


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["without_script"] = without_script
