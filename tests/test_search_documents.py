"""The search documents computed in the build's workers (search.report_documents, carried in
Published.search) are exactly the ones read back from the tables (search.documents), and a full
build indexes the same either way; the Traditional screen decides as OpenCC does."""
from __future__ import annotations

import sqlite3

import pytest

from jixiao import search
from jixiao.jobs import publish_file
from jixiao.database import DatabaseWriter
from jixiao.parse import identity

from .conftest import REPORTS


@pytest.fixture(scope="module")
def published():
    return [publish_file(str(p)) for p in sorted(REPORTS.glob("*.txt"))]


def _write(path, published, with_docs: bool, captured=None):
    db = DatabaseWriter(path)
    for pub in published:
        db.add(pub.sql, pub.search if with_docs else None)
    if captured is not None:
        real = search.add_documents

        def capture(conn, docs):
            captured.extend(docs)
            real(conn, docs)

        search.add_documents, restore = capture, real
        try:
            db.finish()
        finally:
            search.add_documents = restore
    else:
        db.finish()


def test_worker_documents_are_the_tables_documents(tmp_path, published):
    assert all(p.search for p in published)
    inserted: list[tuple] = []
    _write(tmp_path / "a.db", published, True, inserted)
    conn = sqlite3.connect(tmp_path / "a.db")
    from_tables = sorted(search.documents(conn))
    assert sorted(set(inserted)) == sorted(inserted) == from_tables
    kinds = {rowid >> search.KIND_SHIFT for rowid, _, _ in from_tables}
    assert kinds == {0, 1, 2, 3}  # every kind of document is covered by the samples


def test_full_build_indexes_the_same_with_or_without_worker_documents(tmp_path, published):
    _write(tmp_path / "a.db", published, True)
    _write(tmp_path / "b.db", published, False)
    a, b = sqlite3.connect(tmp_path / "a.db"), sqlite3.connect(tmp_path / "b.db")
    for q in ("调解", "法律援助", "预算执行率 OR 满意度", "扣分", '"人民 调解"'):
        m = search.escape_fts_cjk(q)
        sql = "select rowid, rank from sections_fts where sections_fts match ? order by rank, rowid"
        hits = a.execute(sql, [m]).fetchall()
        assert hits and hits == b.execute(sql, [m]).fetchall(), q
    # the same index: every term at every place of every document (the pages themselves may
    # differ: one segment flushed as it is vs. several merged by 'optimize')
    for conn in (a, b):
        conn.execute("create virtual table temp.v using fts5vocab(main, sections_fts, 'instance')")
    every = "select term, doc, col, offset from temp.v order by 1, 2, 3, 4"
    assert a.execute(every).fetchall() == b.execute(every).fetchall()


def test_one_report_without_documents_indexes_from_the_tables(tmp_path, published):
    _write(tmp_path / "a.db", published, True)
    db = DatabaseWriter(tmp_path / "c.db")
    for i, pub in enumerate(published):
        db.add(pub.sql, None if i == 1 else pub.search)
    db.finish()
    a, c = sqlite3.connect(tmp_path / "a.db"), sqlite3.connect(tmp_path / "c.db")
    sql = "select rowid from sections_fts where sections_fts match ? order by rowid"
    m = search.escape_fts_cjk("绩效")
    assert a.execute(sql, [m]).fetchall() == c.execute(sql, [m]).fetchall()


def _opencc_decision(text: str) -> bool:
    cjk = len(identity._CJK.findall(text))
    changed = sum(x != y for x, y in zip(text, identity.to_simplified(text)))
    return cjk >= 10 and changed >= 10 and changed >= 0.03 * cjk


def test_traditional_bounds_decide_as_opencc():
    from opencc import OpenCC

    s2t = OpenCC("s2t").convert
    text = sorted(REPORTS.glob("*.txt"))[0].read_text("utf-8")[:20_000]
    lines = text.splitlines()
    # all, none, and shares of the lines converted around the 3 % threshold
    for every in (1, 2, 5, 10, 20, 30, 40, 60, 100, 10 ** 6):
        sample = "\n".join(s2t(line) if i % every == 0 else line for i, line in enumerate(lines))
        assert identity.is_traditional([sample]) == _opencc_decision(sample), every
    # characters only some phrases keep (著, 乾, 於 …): the bounds leave these to OpenCC
    for sample in ("显著" * 20 + "的" * 400, "於是" * 30, "乾燥" * 15 + "于" * 100):
        assert identity.is_traditional([sample]) == _opencc_decision(sample), sample[:6]


def _tokens_by_hand(text):
    """index_text's tokens, character by character: a Han character followed by another is a
    bigram with it; one that ends its run is a token of its own."""
    text, tokens, word = search.fold(text).replace("\u200b", ""), [], ""
    han = [bool(search.HAN_RE.fullmatch(ch)) for ch in text] + [False]
    for i, ch in enumerate(text):
        if han[i]:
            tokens += [word] if word else []
            word = ""
            tokens.append(text[i:i + 2] if han[i + 1] else ch)
        else:
            word += ch
    return tokens + ([word] if word else [])


def test_index_text_is_bigrams_and_run_ends():
    texts = ["", None, "abc", "中", "中文", "a中b", "中\u200b文", "\u200b中\u200b", "a\u200bb", "2023年度 預算執行率98.5%",
             "（一）部門概況：\n  岳阳市司法局", "𠀀𠀁x𪚥", "中 文", "\u200b\u200b", "後臺與后台", "ｆｕｌｌ全角１２３"]
    texts += [p.read_text("utf-8") for p in sorted(REPORTS.glob("*.txt"))]
    for t in texts:
        # the same tokens (unicode61 splits the other text into words the same way either side)
        assert search.index_text(t).split() == " ".join(_tokens_by_hand(t)).split(), (t or "")[:20]
