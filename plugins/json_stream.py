"""Streamed JSON: every row of a table or canned query, ``<path>.json?…&_stream=1``.

Datasette streams only CSV (``.csv?_stream=1``); its JSON is one page (``_size`` ≤
``max_returned_rows``). Here the JSON twin: the same filters and sort, followed page by page
(Datasette's own keyset ``_next`` tokens, each page fetched in process with ``_shape=objects``,
no facets or counts) and written out as one JSON array of objects as the pages come, so memory
holds one page whatever the table's size. Types are kept (numbers stay numbers, null stays null).

Same limits as the CSV stream: refused when ``allow_csv_stream`` is off; at most ``max_csv_mb``
bytes — past it the array is left unclosed (a parser fails instead of taking a cut list for
the whole), as Datasette's CSV stream stops mid-file. A canned query gives at most
``max_returned_rows`` rows, as its CSV does; when it was cut the response says so in
``x-rows-truncated: 1`` (known from the first page, before the body starts). ``_dl=1`` makes it
a download (``content-disposition: attachment``).
"""
from __future__ import annotations

import json
import urllib.parse

from datasette import hookimpl

from jixiao.pages import rows_only

# Arguments of the outer request that the stream sets itself for each page.
OWN = {"_stream", "_shape", "_size", "_next", "_dl", "_nofacet", "_nocount", "_labels", "_json", "_extra"}


def page_url(path: str, args: list[tuple[str, str]], token: str | None, datasette=None) -> str:
    qs = args + [("_shape", "objects"), *rows_only(datasette)]
    if token:
        qs.append(("_next", token))
    return f"{path}?{urllib.parse.urlencode(qs)}"


def row_json(row) -> bytes:
    return json.dumps(row, ensure_ascii=False, default=str).encode("utf-8")


async def stream_json(datasette, scope, send) -> None:
    path = scope["path"]
    args = [(k, v) for k, v in urllib.parse.parse_qsl(scope.get("query_string", b"").decode("latin-1"),
                                                      keep_blank_values=True) if k not in OWN]
    download = dict(urllib.parse.parse_qsl(scope.get("query_string", b"").decode("latin-1"))).get("_dl") == "1"

    async def plain(status: int, body: bytes, content_type: bytes) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type)]})
        await send({"type": "http.response.body", "body": body})

    if not datasette.setting("allow_csv_stream"):
        return await plain(400, json.dumps({"ok": False, "error": "流式下载已关闭 (allow_csv_stream)",
                                            "status": 400}, ensure_ascii=False).encode(),
                           b"application/json; charset=utf-8")
    first = await datasette.client.get(page_url(path, args, None, datasette))
    if first.status_code != 200:  # a 404, a bad query…: Datasette's own answer
        return await plain(first.status_code, first.content,
                           first.headers.get("content-type", "application/json").encode("latin-1"))
    data = first.json()
    headers = [(b"content-type", b"application/json; charset=utf-8")]
    if datasette.cors:  # as Datasette's own JSON
        headers.append((b"access-control-allow-origin", b"*"))
    if download:
        name = urllib.parse.quote(path.rsplit("/", 1)[-1])
        headers.append((b"content-disposition", f"attachment; filename*=UTF-8''{name}".encode("latin-1")))
    if data.get("truncated"):
        headers.append((b"x-rows-truncated", b"1"))
    await send({"type": "http.response.start", "status": 200, "headers": headers})

    limit = (datasette.setting("max_csv_mb") or 0) * 1024 * 1024
    sent = 0

    async def write(chunk: bytes) -> bool:
        nonlocal sent
        sent += len(chunk)
        if limit and sent > limit:
            return False
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
        return True

    ok = await write(b"[")
    lead = b"\n"
    while ok:
        for row in data.get("rows") or []:
            ok = await write(lead + row_json(row))
            lead = b",\n"
            if not ok:
                break
        token = data.get("next")
        if not ok or not token:
            break
        page = await datasette.client.get(page_url(path, args, token, datasette))
        if page.status_code != 200:  # e.g. a statement over the time limit: stop, unclosed
            ok = False
            break
        data = page.json()
    await send({"type": "http.response.body", "body": b"\n]\n" if ok else b"", "more_body": False})


@hookimpl(tryfirst=True)  # innermost: the header and CSP wrappers see the streamed answer too
def asgi_wrapper(datasette):
    def wrap(app):
        async def with_json_stream(scope, receive, send):
            if (scope["type"] == "http" and scope.get("method", "GET") in ("GET", "HEAD")
                    and scope["path"].endswith(".json")
                    and dict(urllib.parse.parse_qsl(scope.get("query_string", b"").decode("latin-1"))).get("_stream") == "1"):
                return await stream_json(datasette, scope, send)
            return await app(scope, receive, send)

        return with_json_stream

    return wrap
