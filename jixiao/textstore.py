"""The canonical texts and the table grids are stored zlib-compressed (issue 16: the texts were a
whole copy of the input, 95 MB of the database at 2,000 reports, compressed about a fifth of that;
the grids of table_cells, jixiao/ddl.py GRIDS, went from 24.9 to 9.9 MB).

``source_texts.text`` and ``table_grids.cells`` hold UTF-8 text compressed with zlib, as a BLOB. The data packages
carry it as plain text, ``/report/<id>/source`` shows it, and SQL reads it with the function
``jixiao_text(text)`` that the site registers on its connections (in Python:
``zlib.decompress(blob).decode("utf-8")``). A plain string is read as it is (a database built
before the texts were compressed).
"""
from __future__ import annotations

import sqlite3
import zlib

SQL_FUNCTION = "jixiao_text"
LEVEL = 6  # level 9 saves ~1 % more for twice the time


def pack(text: str | None) -> bytes | None:
    return zlib.compress(text.encode("utf-8"), LEVEL) if text else None


def unpack(value: bytes | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return zlib.decompress(value).decode("utf-8")


def register(conn) -> None:
    """``jixiao_text(value)``: the plain text of a stored canonical text or table grid, in SQL."""
    conn.create_function(SQL_FUNCTION, 1, unpack, deterministic=True)


def ensure(conn) -> None:
    """:func:`register` unless ``conn`` has the function already (SQLite refuses to redefine a
    function while a statement of the connection is running)."""
    try:
        conn.execute(f"select {SQL_FUNCTION}(null)").fetchall()  # to its end: no statement left running
    except sqlite3.OperationalError:  # no such function
        register(conn)
