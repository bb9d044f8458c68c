"""Write ``build/jixiao.db``: schema tables, Chinese full-text search and views.

The build streams each report's rows into :class:`DatabaseWriter` as they come from the
workers: one transaction into a temporary file beside the target (no journal, no fsync until
the end: a crash just leaves a temporary file that is deleted), indexes created after the
rows are in, then ``os.replace`` moves the complete file into place. A killed build therefore
leaves the previous database intact.

An incremental build ``in_place`` (``jixiao build --in-place``, for a site served with
``jixiao serve --live``) changes the served file itself instead: WAL mode, one transaction that
removes the changed reports' rows and writes the new ones, their search entries, their summary
rows and the across tables. Readers see the database before or after it, never in between (WAL
snapshots); a crash rolls it back; nothing is copied (issue 16.4).

Search follows research/chinese-search.md, design D2 (bigrams) without positions, in layout S2 (see
:mod:`jixiao.search`):
``sections_fts`` has ``rowid`` = the ``sections`` rowid, which the writer assigns itself (in a
full build also the rowids of ``source_tables``, ``indicators`` and ``findings``, which the other
kinds of documents' rowids hold, so that it can index each report's documents as it comes).
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Iterable

import sqlite_utils

from .ddl import create_indexes, create_tables, delete_reports_sql, grid_rows, insert_sql
from .schema import TABLES
from . import facet_counts, search, textstore
from .views import VIEWS, materialise, refresh_summary, topic_counts


# Big-endian: SQLite compares text with memcmp in the file's encoding, and UTF-16BE bytes sort as
# the code points do (as UTF-8's), so every ORDER BY, key and page order stays what it was;
# UTF-16LE sorts by the low byte first (the samples' packages came out in another row order).
TEXT_ENCODING = "UTF-16be"


class DatabaseWriter:
    """Streams rows into a new SQLite file; :meth:`finish` moves it into place, :meth:`abort` drops it."""

    def __init__(self, path: str | Path, previous: Path | None = None, remove_ids: Iterable[str] = (),
                 in_place: bool = False):
        """A new database, or with ``previous``: a copy of that database without the rows of
        ``remove_ids`` (every report-keyed table, their search rows and build_errors), to
        which the changed reports are then added (an incremental build); or ``in_place``: the
        same change made to the database ``path`` itself, in one WAL transaction."""
        self.path = Path(path)
        self.patch = previous is not None or in_place
        self.in_place = in_place
        self.counts = {t.name: 0 for t in TABLES}
        self.closed = False
        self._ids: list[str] = []  # report_ids added
        self._removed: list[str] = list(remove_ids)
        if in_place:
            self._open_in_place()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        os.close(fd)
        self.tmp = Path(tmp)
        self.counts = {t.name: 0 for t in TABLES}
        self.closed = False
        self._ids: list[str] = []  # report_ids added
        self._next_section = 1
        # A full build fills the search index as the reports come, from the documents the
        # workers computed (search.report_documents): the writer gives every section, table,
        # indicator and finding its rowid itself, so it knows the documents' rowids.
        self._next = {name: 1 for name in search.KIND_ROWS}
        self._docs: list[tuple] | None = None if previous is not None else []  # None: index from the tables
        self._docs_reports = 0
        try:
            if previous is not None:
                shutil.copyfile(previous, self.tmp)
            self.conn = sqlite3.connect(self.tmp, isolation_level=None)
            textstore.register(self.conn)  # table_cells reads its compressed grids with it
            # A temporary file: a crash loses nothing that matters, so skip the journal and the
            # fsyncs; one transaction for the whole load.
            for pragma in ("journal_mode = off", "synchronous = off", "temp_store = memory",
                           "cache_size = -65536", "foreign_keys = off"):
                self.conn.execute(f"pragma {pragma}")
            if previous is None:
                # Text as UTF-16: the narratives, cells and names are Chinese, 2 bytes a character
                # where UTF-8 takes 3 (2,000 reports: 304.7 → 271.7 MB; the sections 93 → 66 MB).
                # Transparent to every reader (SQLite converts at its API); only `cast(text as
                # blob)` sees it, which the search's scoring handles (jixiao/search_rank.py scorer).
                self.conn.execute(f"pragma encoding = '{TEXT_ENCODING}'")
                # Pages the build frees (dropped temporary indexes, rebuilt keys, merged search
                # segments) are mostly reused by what it writes next, but not always all: some
                # builds of the same 2,000 reports ended with 1,036 free pages (4.2 MB, the file
                # 2.52× its input instead of 2.48×). Incremental: close() gives them back.
                self.conn.execute("pragma auto_vacuum = incremental")
                create_tables(sqlite_utils.Database(self.conn), indexes=False)
                if any(t.without_rowid for t in TABLES if t.name in search.KIND_ROWS):
                    self._docs = None
                self.conn.execute("begin")
                if self._docs is not None:
                    search.begin_index(self.conn)
            else:
                self.conn.execute("begin")
                self._remove(list(remove_ids))
        except BaseException:
            self.abort()
            raise
        self._prepare()

    def _prepare(self) -> None:
        # a compact storage's rows (table_cells: one grid per table, jixiao/ddl.py STORAGE), not the view's
        self._insert = {t.name: insert_sql(t) for t in TABLES}
        # rowids given here (the first value): the sections' always, the other documents' tables in a full build
        self._explicit = {"sections", *(search.KIND_ROWS if self._docs is not None else ())}
        for name in self._explicit:
            self._insert[name] = self._insert[name].replace("([", "(rowid, [", 1).replace("values (", "values (?, ", 1)

    def _open_in_place(self) -> None:
        self.tmp = self.path  # no temporary: the transaction's commit is the switch
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no database to change in place")
        self._docs = None  # the index is changed from the tables (search.drop_reports, index_reports)
        self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        textstore.register(self.conn)
        try:
            # WAL: readers keep their snapshot while the one writer works; FULL: the commit is on disk
            # before the build says it is done.
            mode = self.conn.execute("pragma journal_mode = wal").fetchone()[0]
            if mode != "wal":
                raise sqlite3.OperationalError(f"cannot switch {self.path} to WAL mode (it is {mode})")
            for pragma in ("synchronous = full", "temp_store = memory", "cache_size = -65536",
                           "foreign_keys = off", "busy_timeout = 30000"):
                self.conn.execute(f"pragma {pragma}")
            self.conn.execute("begin immediate")  # one writer: wait for another one, never interleave
            self._remove(self._removed)
        except BaseException:
            self.abort()
            raise
        self._prepare()

    def _remove(self, ids: list[str]) -> None:
        doomed = json.dumps(ids, ensure_ascii=False)
        search.drop_reports(self.conn, ids)  # while their rows are still there
        if self.in_place:  # what they counted in indicator_topics and facet_counts, taken off after the change
            self._old_topics = topic_counts(self.conn, ids)
            self._old_facets = facet_counts.report_counts(self.conn, ids)
        for t in reversed(TABLES):  # children before reports
            if t.name == "build_errors":
                self.conn.execute("delete from build_errors")
            elif "report_id" in t.field_names:
                self.conn.execute(delete_reports_sql(t), [doomed])
        self._next_section = (self.conn.execute("select max(rowid) from sections").fetchone()[0] or 0) + 1

    def share(self) -> None:
        """Commit the rows written so far and let other processes read them while this build
        goes on (WAL: they keep that snapshot): the corpus package writes the per-report tables
        during the passes across reports. :meth:`close` turns the file back into a plain one
        (rollback journal), which waits for no reader: call it once they are done."""
        if self.in_place:
            raise RuntimeError("a change in place is one transaction: nothing is shared before its commit")
        self.conn.execute("commit")
        mode = self.conn.execute("pragma journal_mode = wal").fetchone()[0]
        if mode != "wal":
            raise sqlite3.OperationalError(f"cannot switch {self.tmp} to WAL mode (it is {mode})")
        self.conn.execute("begin")

    SEARCH_BATCH = 200  # reports whose search documents are inserted together (in rowid order)

    def add(self, sql: dict[str, list[tuple]], docs: list[tuple] | None = None) -> None:
        """One report's rows (table → value tuples in schema order) and, in a full build, its
        search documents (:func:`jixiao.search.report_documents`). Without them, the search
        index is built from the tables at the end (:func:`jixiao.search.create_index`)."""
        first: dict[str, int] = {}
        for t in TABLES:
            rows = sql.get(t.name)
            if not rows:
                continue
            if t.name in self._explicit:
                if t.name == "sections":
                    first[t.name] = self._next_section
                    self._next_section += len(rows)
                else:
                    first[t.name] = self._next[t.name]
                    self._next[t.name] += len(rows)
                self.conn.executemany(self._insert[t.name], ((first[t.name] + i, *row) for i, row in enumerate(rows)))
            else:
                self.conn.executemany(self._insert[t.name], grid_rows(t, rows) if t.stored_as else rows)
            self.counts[t.name] += len(rows)
        self._ids.extend(r[0] for r in sql.get("reports", []))
        if self._docs is None:
            return
        if docs is None:
            if any(sql.get(name) for name in (*search.KIND_ROWS, "table_cells")):
                self._docs = None  # a report without its documents: the whole index from the tables
            return
        rows_of = search.KIND_ROWS
        self._docs.extend((search.rowid(kind, first[rows_of[kind]] + n, row), heading, body)
                          for kind, n, row, heading, body in docs)
        self._docs_reports += 1
        if self._docs_reports >= self.SEARCH_BATCH:
            self._flush_docs()

    def _flush_docs(self) -> None:
        search.add_documents(self.conn, self._docs)
        self._docs.clear()
        self._docs_reports = 0

    def close(self, readers_done=None) -> None:
        """Indexes, views, checks and statistics; the file is complete but not yet in place.
        ``readers_done`` (after :meth:`share`) returns once the other processes reading the
        file are done: called after the commit, before the WAL is folded back in."""
        try:
            if not self.patch:
                # The search index first: its final merge ('optimize') frees the pages of the
                # segments it merged, and the indexes built next reuse them (built after it, 4.5 MB
                # of free pages stayed in the file at 2,000 reports).
                if self._docs is not None:
                    self._flush_docs()
                    search.finish_index(self.conn)
                else:
                    self.conn.execute(f"drop table if exists {search.FTS_TABLE}")
                    search.create_index(self.conn)
                self._repack_keys()
                db = sqlite_utils.Database(self.conn)
                create_indexes(db)
                for name, sql in VIEWS.items():
                    db.create_view(name, sql.strip())
            # The database is immutable once built: the site's summary (per-report key figures)
            # becomes an indexed table instead of a view computed per request; changed in place,
            # only the changed reports' summary rows are rewritten (no schema change).
            if self.in_place:
                refresh_summary(self.conn, self._removed + self._ids, self._ids, self._old_topics)
                facet_counts.apply(self.conn, self._old_facets, facet_counts.report_counts(self.conn, self._ids))
                _refresh_build_dates(self.conn, self._removed + self._ids)
            else:
                materialise(self.conn)
                facet_counts.write(self.conn)
            if not self.patch:
                violations = self.conn.execute("pragma foreign_key_check").fetchall()
            else:  # an incremental build checks the reports it added, not the whole file
                violations = [(t.name, rid) for t in TABLES if t.name != "reports" and "report_id" in t.field_names
                              for (rid,) in self.conn.execute(
                                  f"select distinct report_id from [{t.name}] where report_id in "
                                  "(select value from json_each(?)) and report_id not in "
                                  "(select report_id from reports)", [json.dumps(self._ids, ensure_ascii=False)])]
            if violations:
                raise RuntimeError(f"foreign key violations: {violations[:5]}")
            if self.patch:
                search.index_reports(self.conn, self._ids)  # the reports this build added
            else:
                # The search index (filled as the reports came, or else one pass over the
                # published tables, above) and the planner statistics are whole-file passes: an
                # incremental build keeps the previous ones.
                self.conn.execute("pragma analysis_limit = 1000")  # bounded: ≤ 1000 rows per index
                self.conn.execute("analyze")
            self.conn.execute("commit")
            if not self.in_place:
                # The free pages off the file's end (a copy changed by an incremental build: the
                # removed reports' too; a database made before auto-vacuum keeps them). Not in
                # place: readers share that file. executescript: through execute(), Python's
                # sqlite3 steps the pragma once, which frees one page.
                self.conn.executescript("pragma incremental_vacuum;")
            if self.in_place:  # fold the WAL back into the file when no reader holds it (never waits)
                self.conn.execute("pragma wal_checkpoint(passive)")
            else:  # one self-contained file (after share(): the WAL folded back in and removed)
                if readers_done:
                    readers_done()
                mode = self.conn.execute("pragma journal_mode = delete").fetchone()[0]
                if mode != "delete":
                    raise sqlite3.OperationalError(f"{self.tmp}: cannot leave {mode} mode (a reader still has it open)")
            self.conn.close()
            self.closed = True
        except BaseException:
            self.abort()
            raise

    def _repack_keys(self) -> None:
        """Rebuild the primary keys' own indexes in key order. They grew as the reports came, in
        file order, not key order, and their page splits left them ~3/4 full (2,000 reports: 2.5
        MB unused of 16.4); rebuilt, they are dense, and the indexes built next reuse the pages
        they free (2,000 reports: 566 pages, in 0.35 s). WITHOUT ROWID tables are their key.
        The compact storages' own indexes (jixiao/ddl.py STORAGE: created with their tables, grown
        as the across pass wrote them) are rebuilt the same way."""
        storages = {t.stored_as for t in TABLES if t.stored_as}
        for name, tbl, sql in self.conn.execute(
                "select i.name, i.tbl_name, t.sql from sqlite_master i join sqlite_master t on t.type = 'table' "
                "and t.name = i.tbl_name where i.type = 'index'").fetchall():
            if name.startswith("sqlite_autoindex_") and "WITHOUT ROWID" not in (sql or "").upper() \
                    or tbl in storages and not name.startswith("sqlite_autoindex_"):
                self.conn.execute(f"reindex [{name}]")

    def commit(self) -> None:
        """Move the complete file into place (atomic on one file system)."""
        if self.in_place:
            return  # committed by close()
        os.chmod(self.tmp, 0o644)  # mkstemp made it private; the database is public data
        os.replace(self.tmp, self.path)

    def finish(self) -> dict[str, int]:
        self.close()
        try:
            self.commit()
        except BaseException:
            self.abort()
            raise
        return dict(self.counts)

    def abort(self) -> None:
        try:
            if self.in_place and not self.closed and self.conn.in_transaction:
                self.conn.execute("rollback")
            self.conn.close()
        except Exception:  # noqa: BLE001 - already closed or never opened
            pass
        if not self.in_place:  # the served file itself is never removed; its transaction is undone
            for f in (self.tmp, *(self.tmp.with_name(self.tmp.name + s) for s in ("-wal", "-shm"))):
                f.unlink(missing_ok=True)


def _refresh_build_dates(conn, ids: list[str]) -> None:
    """report_builds (jixiao.build_dates.record_build_dates) for an in-place change, in its transaction:
    a report whose source sha256 is unchanged keeps its first-built date, a new or changed one
    gets now, a removed one goes."""
    import datetime

    if not conn.execute("select 1 from sqlite_master where name = 'report_builds'").fetchone():
        return
    doomed = json.dumps(ids, ensure_ascii=False)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    conn.execute("delete from report_builds where report_id in (select value from json_each(:ids)) and "
                 "not exists (select 1 from reports r where r.report_id = report_builds.report_id "
                 "and r.source_sha256 is report_builds.source_sha256)", {"ids": doomed})
    conn.execute("insert or ignore into report_builds (report_id, source_sha256, first_built) "
                 "select report_id, source_sha256, :now from reports where report_id in "
                 "(select value from json_each(:ids))", {"ids": doomed, "now": stamp})


def table_counts(path: str | Path, names: Iterable[str]) -> dict[str, int]:
    db = sqlite_utils.Database(path)
    try:
        return {n: db[n].count for n in names}
    finally:
        db.conn.close()
