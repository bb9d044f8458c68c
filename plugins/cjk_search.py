"""Chinese full-text search: ``?_search=调解`` becomes the FTS5 phrase ``"调 解"``.

The index (``sections_fts``, jixiao/search.py) stores every Han character as its own token;
Datasette's own ``escape_fts`` would send ``"调解"`` and find nothing. This plugin re-registers
``escape_fts`` on every connection (with ``A OR B``, ``-A`` and phrases, Traditional folded to
Simplified), and ``search_snippet`` that the stored search queries use (the index keeps no copy
of the text, so snippets are made from the rows shown). ``trylast=True`` is required: a
plugins-dir plugin otherwise runs before Datasette's own hook and loses
(research/chinese-search.md).
"""
from datasette import hookimpl

from jixiao import textstore
from jixiao.search import register_functions


@hookimpl(trylast=True)
def prepare_connection(conn):
    register_functions(conn)
    textstore.register(conn)  # jixiao_text(source_texts.text): the compressed canonical text in SQL
