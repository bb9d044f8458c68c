"""Downloads that open cleanly in Excel.

* ``.xlsx`` for every table and query (an output renderer; openpyxl). Row 1 holds the Chinese
  column titles, a second sheet 字段说明 maps them to column names. Table pages are followed
  page by page, so the workbook holds every row of the filtered table.
* ``.csv?_bom=1``: Datasette's own (streamed) CSV with a UTF-8 byte order mark in front, which
  is what makes Excel read Chinese CSV as UTF-8.
"""
import io
import urllib.parse

from datasette import hookimpl
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

BOM = "\ufeff".encode("utf-8")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_XLSX_ROWS = 200_000


def cell_value(value):
    if isinstance(value, dict):  # expanded foreign key: {"value": …, "label": …}
        return value.get("label") or value.get("value")
    if isinstance(value, bytes):
        return f"<二进制 {len(value)} 字节>"
    return value


def workbook_bytes(name, columns, rows, titles):
    """An .xlsx: the data (Chinese titles in row 1) and a 字段说明 sheet mapping titles to columns."""
    wb = Workbook()
    ws = wb.active
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
    args = [(k, v) for k, v in urllib.parse.parse_qsl(request.query_string, keep_blank_values=True)
            if k not in ("_next", "_shape", "_size")]
    while next_token and len(rows) < MAX_XLSX_ROWS:
        qs = urllib.parse.urlencode(args + [("_next", next_token), ("_shape", "objects"), ("_size", "max")])
        page = (await datasette.client.get(f"{path}?{qs}")).json()
        rows.extend(page["rows"])
        next_token = page.get("next")
    return rows


async def render_xlsx(datasette, request, columns, rows, table, query_name, database, data):
    rows = [dict(zip(columns, r)) if not isinstance(r, dict) else r for r in rows]
    if table:
        rows = await all_table_rows(datasette, request, rows, data)
    label = datasette.get_jinja_environment(request).globals.get("zh_column", lambda t, c: c)
    name = table or query_name or database
    body = workbook_bytes(name, columns, rows, [label(table or query_name, c) for c in columns])
    filename = urllib.parse.quote(f"{name}.xlsx")
    return {
        "body": body,
        "content_type": XLSX,
        "headers": {"content-disposition": f"attachment; filename*=UTF-8''{filename}"},
    }


@hookimpl
def register_output_renderer():
    return {"extension": "xlsx", "render": render_xlsx}


@hookimpl
def asgi_wrapper():
    def wrap(app):
        async def with_bom(scope, receive, send):
            qs = scope.get("query_string", b"")
            if scope["type"] != "http" or not scope["path"].endswith(".csv") or b"_bom=1" not in qs:
                return await app(scope, receive, send)
            state = {"first": True, "ok": False}

            async def send_with_bom(message):
                if message["type"] == "http.response.start":
                    state["ok"] = message["status"] == 200
                    message["headers"] = [(k, v) for k, v in message.get("headers", [])
                                          if k.lower() != b"content-length"]
                elif message["type"] == "http.response.body" and state["first"] and state["ok"]:
                    state["first"] = False
                    message = dict(message, body=BOM + message.get("body", b""))
                await send(message)

            return await app(scope, receive, send_with_bom)

        return with_bom

    return wrap
