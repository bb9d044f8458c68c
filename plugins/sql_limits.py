"""Bounds on what one SQL statement may build (issue 15, defects 1 and 20).

Datasette stops a statement after ``sql_time_limit_ms`` with a progress handler, which SQLite
calls every 1,000 virtual-machine instructions. One instruction can still make a huge value:
``printf('%.*c', 2000000000, 'x')`` ran 11 s, ``zeroblob(300000000)`` answered 400 MB. So every
connection Datasette opens to the site's database gets (``prepare_connection``):

* ``SQLITE_LIMIT_LENGTH`` = ``MAX_VALUE_BYTES``: no string or blob SQLite makes or reads may be
  longer; such a statement fails at once with "string or blob too big" (a 400 on query pages).
  The original files (``source_files.content``, which may be larger) are read by the report
  page's own fixed query with the limit lifted for that statement (plugins/report_pages.py).
* a row factory that counts the text and blob bytes a statement returns; past
  ``MAX_RESULT_BYTES`` the statement fails with the same kind of error (bounds
  ``select zeroblob(…) from big_table``: ``max_returned_rows`` × a big value).
* an authorizer that reads ``pragma_database_list.file`` as NULL: the absolute path of the
  database is not the visitor's business (Datasette's own ``PRAGMA database_list`` needs only
  ``seq`` and ``name``).

Every statement Datasette and the plugins run goes through ``Database.execute``, which applies
``sql_time_limit_ms`` (canned queries and the custom pages included).
"""
from __future__ import annotations

import re
import sqlite3
import weakref

from datasette import hookimpl

MAX_VALUE_BYTES = 8 * 1024 * 1024
MAX_RESULT_BYTES = 12 * 1024 * 1024
HIDDEN_COLUMNS = {("pragma_database_list", "file")}


class ResultTooBig(sqlite3.DataError):
    pass


def _authorizer(action, arg1, arg2, db_name, trigger):
    if action == sqlite3.SQLITE_READ and (arg1, arg2) in HIDDEN_COLUMNS:
        return sqlite3.SQLITE_IGNORE  # the column reads as NULL
    return sqlite3.SQLITE_OK


def _counting_row_factory():
    spent: "weakref.WeakKeyDictionary[sqlite3.Cursor, int]" = weakref.WeakKeyDictionary()
    row_class = sqlite3.Row

    def factory(cursor, row):
        size = 0
        for v in row:
            if v.__class__ is str or v.__class__ is bytes:
                size += len(v)
        if size:
            total = spent.get(cursor, 0) + size
            spent[cursor] = total
            if total > MAX_RESULT_BYTES:
                raise ResultTooBig(f"结果太大：一次查询最多返回 {MAX_RESULT_BYTES // (1024 * 1024)} MB 的文本和二进制数据。"
                                   f" Result too big: at most {MAX_RESULT_BYTES // (1024 * 1024)} MB per query.")
        return row_class(cursor, row)

    return factory


# printf/format: a width or precision above the length limit loops for seconds inside one
# instruction before SQLite gives up, so a wrapper refuses them and hands the rest to the
# built-in printf of a private in-memory connection.
WIDTH = re.compile(r"%[-+ 0#!,]*(\*|\d+)?(?:\.(\*|\d+))?")


def _guarded_printf(helper):
    def printf(fmt, *args):
        if fmt is None:
            return None
        if isinstance(fmt, bytes):
            fmt = fmt.decode("utf-8", "replace")
        fmt = str(fmt)
        stars = [a for a in args]
        i = 0
        for m in WIDTH.finditer(fmt):
            for part in m.groups():
                if part == "*":
                    n = stars[i] if i < len(stars) else 0
                    i += 1
                elif part:
                    n = int(part)
                else:
                    continue
                try:
                    n = abs(int(n))
                except (TypeError, ValueError):
                    n = 0
                if n > MAX_VALUE_BYTES:
                    raise ResultTooBig("string or blob too big (printf width)")
            i += 1
        row = helper.execute("select printf(" + ", ".join(["?"] * (1 + len(args))) + ")", (fmt, *args)).fetchone()
        return row[0]

    return printf


def bound_connection(conn):
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 1000)
    helper = sqlite3.connect(":memory:", check_same_thread=False)
    helper.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    for name in ("printf", "format"):
        conn.create_function(name, -1, _guarded_printf(helper))
    conn.row_factory = _counting_row_factory()
    conn.set_authorizer(_authorizer)


@hookimpl(trylast=True)
def prepare_connection(conn, database):
    if database == "_internal":
        return
    bound_connection(conn)
