"""Chinese full-text search: ``?_search=调解`` becomes the FTS5 phrase ``"调 解"``.

The index (``sections_fts``, built by jixiao/database.py) stores every Han character as its
own token; Datasette's own ``escape_fts`` would send ``"调解"`` and find nothing. This plugin
re-registers ``escape_fts`` on every connection. ``trylast=True`` is required: a plugins-dir
plugin otherwise runs before Datasette's own hook and loses (research/chinese-search.md).
"""
from datasette import hookimpl

from jixiao.database import escape_fts_cjk


@hookimpl(trylast=True)
def prepare_connection(conn):
    conn.create_function("escape_fts", 1, escape_fts_cjk, deterministic=True)
