"""Chinese full-text search: ``?_search=法律援助`` becomes ``("法律" AND "律援" AND "援助")``.

The index (``sections_fts``, jixiao/search.py) stores each Han run as its overlapping bigrams
(and its last character), without positions; Datasette's own ``escape_fts`` would send
``"法律援助"`` and find nothing. This plugin re-registers ``escape_fts`` on every connection (with
``A OR B``, ``-A`` and phrases, Traditional folded to Simplified), ``search_snippet`` and
``search_score`` that the stored search queries use (the index keeps no copy of the text, so
snippets and scores are made from the rows). ``trylast=True`` is required: a
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
