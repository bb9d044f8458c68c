"""Downloads that open cleanly in Excel.

* ``.xlsx`` for every table and query (an output renderer; openpyxl). Row 1 holds the Chinese
  column titles, a second sheet 字段说明 maps them to column names. Table pages are followed
  page by page, so the workbook holds every row of the filtered table.
* ``.csv?_bom=1`` (the "Excel CSV"): Datasette's own (streamed) CSV with a UTF-8 byte order
  mark in front, which is what makes Excel read Chinese CSV as UTF-8, the header row in Chinese
  (the column titles of the schema and the stored queries, jixiao/labels.py; a title two columns
  share gets the column name in brackets), and every cell that Excel would run as a formula
  (starting with ``=``, ``+``, ``-``, ``@``, TAB or CR; plain numbers such as ``-3.5`` excepted)
  prefixed with ``'``. The plain CSV (no ``_bom``) stays exact, English column names and all.

  One header row, not two: Excel's sort, filter and pivot tables take row 1 as the header and
  every row below as data, so a second header row would be sorted in among the data. Code reads
  the plain CSV; the Chinese ↔ column-name map is in the .xlsx (字段说明) and on /dictionary.
* A workbook cut at ``MAX_XLSX_ROWS`` rows (or a query cut at ``max_returned_rows``) opens on
  a sheet 说明 saying so, and the response carries ``x-rows-truncated: <rows>``.
* A streamed CSV (``_stream``) without ``_size`` reads its rows ``jixiao.pages.STREAM_BATCH``
  (1,000) at a time, not a table page's 50: each batch is several queries, and the reports
  table at 10,000 reports took 200 batches (1.15 s against stock Datasette's 0.72 s with its
  100-row pages). Not ``max_returned_rows`` (5,000) either: a batch that long could pass
  ``sql_time_limit_ms`` under load, and Datasette then ends a started CSV with the error's text.
  Like the JSON stream and the .xlsx, its batches count no facets and no total
  (``jixiao.pages.rows_only``). The same rows, in the same order.
* Any CSV response leaves in ~64 KB messages (:class:`Coalesced`): Datasette sends one ASGI
  message per row. The reports CSV at 10,000 reports, 8 clients at once: p50 11.7 → 9.8 s
  (BENCHMARKS.md, "eleventh pass"). A CSV that Datasette cuts after it has started (a batch
  over the time limit) is not ended as if whole: the connection is dropped, so the download
  fails visibly.
"""
import asyncio
import codecs
import csv
import io
import re
import urllib.parse

from datasette import hookimpl
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from jixiao.pages import rows_only

BOM = "\ufeff".encode("utf-8")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_XLSX_ROWS = 200_000


def cell_value(value):
    if isinstance(value, dict):  # expanded foreign key: {"value": …, "label": …}
        return value.get("label") or value.get("value")
    if isinstance(value, bytes):
        return f"<二进制 {len(value)} 字节>"
    return value


def workbook_bytes(name, columns, rows, titles, truncated_at=None):
    """An .xlsx: the data (Chinese titles in row 1) and a 字段说明 sheet mapping titles to columns;
    when the rows were cut (``truncated_at``), a first sheet 说明 says so."""
    wb = Workbook()
    ws = wb.active
    if truncated_at:
        note = ws
        note.title = "说明"
        note.append([f"注意：本文件已截断，只含前 {truncated_at} 行数据，不是全部结果。"])
        note.append([f"Truncated: only the first {truncated_at} rows are in this file."])
        note.append(["完整数据请下载 CSV（?_stream=1 含全部行）或使用 JSON API 分页读取。"])
        note.column_dimensions["A"].width = 80
        ws = wb.create_sheet()
    ws.title = name[:31]
    ws.append(titles)
    for row in rows:
        values = [cell_value(v) for v in (row.get(c) for c in columns)]
        ws.append(values)
        if any(isinstance(v, str) and v.startswith("=") for v in values):
            # openpyxl stores a string starting with "=" as a live formula: report text such as
            # =HYPERLINK(…) must stay text in the download.
            for cell in ws[ws.max_row]:
                if cell.data_type == "f":
                    cell.data_type = "s"
    ws.freeze_panes = "A2"
    for i, t in enumerate(titles, 1):
        ws.column_dimensions[get_column_letter(i)].width = max(8, min(40, 2 * len(str(t)) + 2))
    fields = wb.create_sheet("字段说明")
    fields.append(["中文标题", "字段名 column"])
    for t, c in zip(titles, columns):
        fields.append([t, c])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def all_table_rows(datasette, request, rows, data):
    """The rows of this page plus every following page of the same table request."""
    next_token = data.get("next")
    path = request.path.rsplit(".", 1)[0] + ".json"
    own = {"_next", "_shape", *(k for k, _ in rows_only())}
    args = [(k, v) for k, v in urllib.parse.parse_qsl(request.query_string, keep_blank_values=True) if k not in own]
    while next_token and len(rows) < MAX_XLSX_ROWS:
        qs = urllib.parse.urlencode(args + [("_next", next_token), ("_shape", "objects"), *rows_only(datasette)])
        page = (await datasette.client.get(f"{path}?{qs}")).json()
        rows.extend(page["rows"])
        next_token = page.get("next")
    return rows, bool(next_token) or len(rows) > MAX_XLSX_ROWS


async def render_xlsx(datasette, request, columns, rows, table, query_name, database, data):
    rows = [dict(zip(columns, r)) if not isinstance(r, dict) else r for r in rows]
    cut = bool(data.get("truncated"))  # a query cut at max_returned_rows
    if table:
        rows, more = await all_table_rows(datasette, request, rows, data)
        cut = cut or more
    if len(rows) > MAX_XLSX_ROWS:
        rows, cut = rows[:MAX_XLSX_ROWS], True
    label = datasette.get_jinja_environment(request).globals.get("zh_column", lambda t, c: c)
    name = table or query_name or database
    # built off the event loop (a 200,000-row workbook takes seconds)
    body = await asyncio.to_thread(workbook_bytes, name, columns, rows,
                                   [label(table or query_name, c) for c in columns], len(rows) if cut else None)
    filename = urllib.parse.quote(f"{name}.xlsx")
    headers = {"content-disposition": f"attachment; filename*=UTF-8''{filename}"}
    if cut:
        headers["x-rows-truncated"] = str(len(rows))
    return {"body": body, "content_type": XLSX, "headers": headers}


@hookimpl
def register_output_renderer():
    return {"extension": "xlsx", "render": render_xlsx}


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise(cell: str) -> str:
    """A cell Excel would read as a formula (=, +, -, @, TAB, CR first) gets a leading ' —
    except a plain number such as -3.5, which stays a number."""
    if cell.startswith(FORMULA_START) and not NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def chinese_header(names, label):
    """The Chinese titles of ``names`` (``label(name)``); a title that two columns share (or an
    unknown column) keeps its column name, in brackets after the title."""
    titles = [label(n) or n for n in names]
    return [t if t == n or titles.count(t) == 1 else f"{t}（{n}）" for t, n in zip(titles, names)]


def csv_source(path: str) -> str | None:
    """The table, view or stored query a CSV path is of (``/db/<name>.csv``, ``/db/<table>/<pk>.csv``);
    None for free SQL (``/db.csv?sql=``, ``/db/-/query.csv``)."""
    from datasette.utils import tilde_decode

    parts = path.strip("/").split("/")
    if len(parts) < 2 or parts[1] == "-":
        return None
    name = parts[1][:-4] if len(parts) == 2 and parts[1].endswith(".csv") else parts[1]
    return tilde_decode(urllib.parse.unquote(name))


class CsvNeutraliser:
    """Rewrites a CSV byte stream record by record (records may span chunks and lines); with
    ``label`` (column name → title), the first record, the header, in Chinese."""

    def __init__(self, label=None):
        self.pending = ""
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.label = label

    def feed(self, data: bytes, final=False) -> bytes:
        text = self.pending + self.decoder.decode(data, final)
        cut, quoted = 0, False
        for i, ch in enumerate(text):
            if ch == '"':
                quoted = not quoted
            elif ch == "\n" and not quoted:
                cut = i + 1
        if final:
            cut = len(text)
        done, self.pending = text[:cut], text[cut:]
        if not done:
            return b""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        for row in csv.reader(io.StringIO(done, newline="")):
            if self.label is not None:
                row, self.label = chinese_header(row, self.label), None
            writer.writerow([neutralise(c) for c in row])
        return out.getvalue().encode("utf-8")


def stream_in_full(query_string: bytes, datasette=None) -> bytes:
    """A streamed CSV's query string with what it does not set of ``rows_only`` added (a size
    it asks for is kept)."""
    args = urllib.parse.parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    if not any(k == "_stream" and v for k, v in args):
        return query_string  # (Datasette streams for any non-empty _stream)
    given = {k for k, _ in args}
    added = urllib.parse.urlencode([(k, v) for k, v in rows_only(datasette) if k not in given]).encode("latin-1")
    return query_string + (b"&" if query_string and added else b"") + added


class IncompleteCsv(RuntimeError):
    """A CSV that Datasette ended early: raised so that the server drops the connection."""


class Coalesced:
    """An ASGI ``send`` that gathers a response's body into ~64 KB messages. Datasette's CSV
    stream sends one message per row (10,000 for the reports table at 10,000 reports), each
    through every wrapper and the server's transport.

    ``complete_rows``: a 200 CSV must end with a whole row. When a batch fails after the
    response has started (a statement over ``sql_time_limit_ms``, more than ``max_csv_mb``),
    Datasette writes the error's text after the rows sent so far and ends the response as if
    it were whole: a cut table that looks complete. Instead, the last message is not sent
    and :class:`IncompleteCsv` is raised, so the server closes the connection before the end of
    the chunked body and the download fails visibly (curl: "transfer closed with outstanding
    read data"; a browser marks the download failed)."""

    SIZE = 65536

    def __init__(self, send, complete_rows: bool = False):
        self.send, self.parts, self.size = send, [], 0
        self.check, self.last = complete_rows, b""
        self.failed: IncompleteCsv | None = None

    async def __call__(self, message):
        if self.failed:  # Datasette's 500 page for the exception, after the body had started
            return
        if message["type"] != "http.response.body":
            if message["type"] == "http.response.start" and message.get("status") != 200:
                self.check = False  # Datasette's own error page, whole
            await self.send(message)
            return
        body = message.get("body", b"")
        if body:
            self.last = body
        self.parts.append(body)
        self.size += len(body)
        more = message.get("more_body", False)
        if not more and self.check and self.last and not self.last.endswith(b"\n"):
            self.failed = IncompleteCsv(f"the CSV ended inside a row: {self.last[-200:].decode('utf-8', 'replace')!r}")
            raise self.failed  # Datasette catches it (see ended)
        if more and self.size < self.SIZE:
            return
        joined, self.parts, self.size = b"".join(self.parts), [], 0
        await self.send(dict(message, body=joined, more_body=more))

    def ended(self) -> None:
        """After the app: raise again what Datasette caught, past it, to the server."""
        if self.failed:
            raise self.failed


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def with_bom(scope, receive, send):
            if scope["type"] == "http" and scope["path"].endswith(".csv"):
                scope = dict(scope, query_string=stream_in_full(scope.get("query_string", b""), datasette))
            qs = scope.get("query_string", b"")
            if scope["type"] != "http" or not scope["path"].endswith(".csv"):
                return await app(scope, receive, send)
            whole = b"_trace=" not in qs  # (the debug view ends in HTML, not a row)
            if b"_bom=1" not in qs:
                out = Coalesced(send, whole)
                await app(scope, receive, out)
                return out.ended()
            state = {"first": True, "ok": False}
            source = csv_source(scope["path"])
            zh = datasette.get_jinja_environment(None).globals.get("zh_column") or (lambda s, c: c)
            header = b"_header=off" not in qs
            rewrite = CsvNeutraliser((lambda c: zh(source, c)) if header else None)

            async def send_with_bom(message):
                if message["type"] == "http.response.start":
                    state["ok"] = message["status"] == 200
                    message["headers"] = [(k, v) for k, v in message.get("headers", [])
                                          if k.lower() != b"content-length"]
                elif message["type"] == "http.response.body" and state["ok"]:
                    body = rewrite.feed(message.get("body", b""), final=not message.get("more_body"))
                    if state["first"]:
                        state["first"] = False
                        body = BOM + body
                    message = dict(message, body=body)
                await send(message)

            out = Coalesced(send_with_bom, whole)
            await app(scope, receive, out)
            return out.ended()

        return with_bom

    return wrap
