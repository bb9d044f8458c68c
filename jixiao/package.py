"""Frictionless data packages, written from the finished database.

Layout (one package: the corpus; per-report packages are made on request)::

    datapackages/jixiao/datapackage.json
    datapackages/jixiao/<table>.csv.gz      one per table of the schema (gzip, validated by Frictionless)
    datapackages/jixiao/<table>.parquet     the same rows, typed (pyarrow, zstd), for DuckDB / pandas / R

* :func:`write_corpus` reads every table of :data:`jixiao.schema.TABLES` from the database
  (a new table in the schema flows in with no code here), in primary-key order, streamed in
  batches (bounded memory), so the package is the same bytes whatever order the build inserted
  the rows in: fixed gzip header (no name, mtime 0), fixed Parquet row-group boundaries.
* :func:`report_package` is one report's package as a zip (datapackage.json + one CSV per
  table, with a UTF-8 BOM so Excel opens them), byte-identical every time: sorted entries,
  fixed timestamps and permissions. ``/download/report/<id>.zip`` and ``jixiao package``
  serve it.
* The Parquet files are listed as ``type: file`` resources with ``bytes`` and ``hash``:
  Frictionless checks their integrity, and the rows are validated on the CSVs (its Parquet
  reader needs pandas, which we do not install). ``jixiao validate`` also compares each Parquet
  file's rows and columns with the database.

``created`` is derived from the inputs, never from the clock: 1 January of the year after the
latest fiscal year covered. The date each report was first built is kept out of the package
(see :func:`record_build_dates`).
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import itertools
import json
import os
import re
import shutil
import sqlite3
import zipfile
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator

from .parquet import arrow_batch, arrow_schema, dictionary_columns
from . import textstore
from .ddl import grid_cells, section_bodies, span_texts
from .declarations import Table
from .inputs import sha256_file
from .metadata import frictionless_schema
from .schema import LICENSE, SOURCE_TITLE, TABLE_BY_NAME, TABLES

CORPUS = "jixiao"
BOM = "\ufeff"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip entry can say: fixed, so the bytes are too
# Compression: measured at 2,000 synthetic reports (92.9 MB of input), gzip 6 / zstd 6 gave a
# package of 0.70 × the input for 16 CPU-seconds; gzip 4 compresses in half gzip 6's time for
# ~5 % more bytes (sections.csv 13.8 → 14.5 MB), and the package is far under its 1.5× target.
GZIP_LEVEL = 4
ZSTD_LEVEL = 6
FETCH = 2048  # at most this many rows per fetch from SQLite …
FETCH_CHARS = 1 << 20  # … and about this much text
BATCH_ROWS = 65_536  # a Parquet row group: at most this many rows …
BATCH_CHARS = 8 << 20  # … or about this much CSV text (bounds memory for the text tables)
_SAFE_FOLDER = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def version() -> str:
    try:
        return metadata.version("jixiao")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a plain checkout
        return "0.0.0"


def package_name(report) -> str:
    """A valid Frictionless name for the report's package (lowercase ASCII, stable)."""
    return f"jixiao-{report.division_code or 'unknown'}-{report.fiscal_year or 'unknown'}-{report.source_sha256[:8]}"


MAX_NAME_BYTES = 100  # a file name, whatever the report says (file systems stop at 255 bytes)


def bounded_name(name: str, limit: int = MAX_NAME_BYTES) -> str:
    """``name`` if it fits in ``limit`` UTF-8 bytes; else its longest prefix that does, with
    ``-`` and 8 hex of the whole name's sha256 (so two long names stay apart)."""
    if len(name.encode("utf-8")) <= limit:
        return name
    tail = "-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    head = name.encode("utf-8")[:limit - len(tail)].decode("utf-8", "ignore").rstrip(". ")
    return head + tail


def folder_name(report) -> str:
    """The readable folder (zip prefix) of a report's package: its report_id, made safe."""
    name = bounded_name(_SAFE_FOLDER.sub("_", report.report_id).strip(". "))
    return name if name and name != CORPUS else f"report-{report.source_sha256[:12]}"


def created(years: list[int | None]) -> str:
    known = [y for y in years if y]
    year = max(known) + 1 if known else 1970
    return f"{year:04d}-01-01T00:00:00Z"


# ---------------------------------------------------------------- descriptors


def csv_resource(t: Table, path: str) -> dict[str, Any]:
    d = {
        "name": t.name,
        "type": "table",
        "path": path,
        "scheme": "file",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        # Stated, not sniffed: a column of source text full of TABs would be taken for the delimiter.
        "dialect": {"delimiter": ",", "quoteChar": "\"", "doubleQuote": True, "header": True},
        "title": f"{t.zh} {t.en}",
        "description": f"{t.zh_description}\n{t.en_description}",
        "schema": frictionless_schema(t),
    }
    if path.endswith(".gz"):
        d["compression"] = "gz"
    return d


def parquet_resource(t: Table, size: int, sha256: str) -> dict[str, Any]:
    return {
        "name": f"{t.name}-parquet",
        "type": "file",
        "path": f"{t.name}.parquet",
        "scheme": "file",
        "format": "parquet",
        "mediatype": "application/vnd.apache.parquet",
        "title": f"{t.zh} {t.en}（Parquet）",
        "description": f"{t.name} 表的同一批行，带类型的 Parquet 格式（zstd 压缩）。"
                       f"\nThe rows of {t.name} as typed Parquet (zstd); its columns are those of the {t.name} resource.",
        "bytes": size,
        "hash": f"sha256:{sha256}",
    }


def source_entry(r) -> dict[str, Any]:
    """A report's entry in ``sources``: its file, and where it was published when sources.csv says."""
    entry = {"title": r.source_file, "path": r.source_file, "sha256": r.source_sha256, "report_id": r.report_id}
    for key, name in (("source_url", "url"), ("publisher", "publisher"), ("published_date", "published")):
        if getattr(r, key, None):
            entry[name] = getattr(r, key)
    return entry


def descriptor(name: str, title: str, description: str, reports: list, resources: list[dict]) -> dict:
    return {
        "name": name,
        "title": title,
        "description": description,
        "version": version(),
        "created": created([r.fiscal_year for r in reports]),
        "licenses": [LICENSE],
        "sources": [source_entry(r) for r in reports],
        "keywords": ["绩效自评", "部门整体支出", "performance evaluation", "China", "budget"],
        "resources": resources,
    }


def report_descriptor(report, resources: list[dict] | None = None) -> dict:
    """The datapackage.json of one report's package (``report``: a reports row, attributes)."""
    return descriptor(
        report.package_name or package_name(report),
        f"{report.title or report.report_id}",
        f"{report.unit_name or ''} {report.fiscal_year or ''} 年度绩效自评报告的结构化数据（{report.report_kind}）。"
        f"\nStructured data of one performance self-evaluation report. {SOURCE_TITLE}",
        [report], resources if resources is not None else [csv_resource(t, f"{t.name}.csv") for t in PER_REPORT],
    )


def corpus_descriptor(reports: list, resources: list[dict]) -> dict:
    """The datapackage.json of the corpus package (``reports``: anything with the source fields)."""
    return descriptor(
        CORPUS,
        "绩效自评报告开放数据（全部报告） jixiao corpus",
        f"全部 {len(reports)} 份部门整体支出绩效自评报告的结构化数据。金额单位万元，比率为百分数。"
        "每张表一个 CSV（gzip）和一个同样内容的 Parquet 文件。"
        "\nAll reports in one package. Money in 万元 (10,000 yuan), rates in percent. "
        "Each table as CSV (gzip) and the same rows as Parquet.",
        reports, resources,
    )


def dumps(desc: dict) -> str:
    return json.dumps(desc, ensure_ascii=False, indent=2) + "\n"


PER_REPORT = [t for t in TABLES if t.per_report and "report_id" in t.field_names]

# ---------------------------------------------------------------- rows from the database


def _connect(path: str):
    """A read-only connection that can read the compressed canonical texts (jixiao/textstore.py)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    textstore.register(conn)
    return conn


def _select(t: Table, where: str = "") -> str:
    cols = ", ".join(f"{textstore.SQL_FUNCTION}([{f.name}]) as [{f.name}]" if f.compressed else f"[{f.name}]"
                     for f in t.fields)
    order = ", ".join(f"[{c}]" for c in t.primary_key)
    return f"select {cols} from [{t.name}] {where} order by {order}"


def _batches(conn: sqlite3.Connection, sql: str, params=()) -> Iterator[list[tuple]]:
    """The rows in chunks of about ``FETCH_CHARS`` characters (a chunk of report texts holds a
    few rows, of numbers thousands): the chunk size follows the rows seen, so memory stays
    bounded, and it depends on the data alone (Parquet row groups end on chunk boundaries)."""
    cur = conn.execute(sql, params)
    size = 64
    while True:
        rows = cur.fetchmany(size)
        if not rows:
            return
        yield rows
        sample = rows[::max(1, len(rows) // 64)]  # every row of a chunk cost 3 s at 2,000 reports
        chars = sum(len(v) for r in sample for v in r if isinstance(v, str)) + 8 * len(sample) * len(rows[0])
        size = max(1, min(FETCH, FETCH_CHARS * len(sample) // max(1, chars)))


def _table_batches(conn: sqlite3.Connection, t: Table, where: str = "", params=()) -> Iterator[list[tuple]]:
    """``t``'s rows in key order, in chunks (:func:`_batches`); table_cells read from its grids
    (ddl.grid_cells), a chunk per grid or more, and passage_places from its spans (ddl.span_texts),
    instead of through their views."""
    if t.stored_as == "passage_spans":
        rows = conn.execute(f"select * from passage_spans {where} order by place_id", params)
        texts = span_texts(section_bodies(conn), rows)
        while chunk := list(itertools.islice(texts, FETCH)):
            yield chunk
        return
    if t.stored_as != "table_grids":
        yield from _batches(conn, _select(t, where), params)
        return
    chunk: list[tuple] = []
    for grid in conn.execute(f"select report_id, table_seq, table_kind, cells from table_grids {where} "
                             "order by report_id, table_seq", params):
        chunk.extend(grid_cells(t, *grid))
        if len(chunk) >= FETCH:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def csv_text(rows: list[tuple]) -> str:
    """Rows as SQLite gives them: None → empty, numbers as Python prints them (shortest exact
    form), booleans 1/0 (true and false values of Frictionless), JSON columns as their text.
    No per-cell Python: this is the package writer's hot loop."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def csv_header(t: Table) -> str:
    return ",".join(t.field_names) + "\n"  # field names are plain ASCII identifiers: no quoting


def write_table(conn: sqlite3.Connection, t: Table, out_dir: Path) -> tuple[dict, dict]:
    """One table → ``<name>.csv.gz`` and ``<name>.parquet``; returns their two resources."""
    import pyarrow.parquet as pq

    schema = arrow_schema(t)
    csv_path, pq_path = out_dir / f"{t.name}.csv.gz", out_dir / f"{t.name}.parquet"
    writer = None

    def flush(rows):
        nonlocal writer
        if writer is None:
            writer = pq.ParquetWriter(pq_path, schema, compression="zstd", compression_level=ZSTD_LEVEL,
                                      use_dictionary=dictionary_columns(t, rows), write_statistics=True,
                                      store_schema=True)
        writer.write_table(arrow_batch(t, schema, rows), row_group_size=BATCH_ROWS)

    try:
        with open(csv_path, "wb") as raw, \
                gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=GZIP_LEVEL) as gz:
            gz.write(csv_header(t).encode())
            pending, chars = [], 0
            for rows in _table_batches(conn, t):
                text = csv_text(rows)
                gz.write(text.encode())
                pending.extend(rows)
                chars += len(text)
                if len(pending) >= BATCH_ROWS or chars >= BATCH_CHARS:
                    flush(pending)
                    pending, chars = [], 0
            if pending or writer is None:  # an empty table still gets its schema
                flush(pending)
    finally:
        if writer is not None:
            writer.close()
    return csv_resource(t, csv_path.name), parquet_resource(t, pq_path.stat().st_size, sha256_file(pq_path))


def _reports(conn: sqlite3.Connection, where: str = "", params=()) -> list[SimpleNamespace]:
    """Rows of ``reports`` as objects with attributes (what the descriptors read)."""
    cur = conn.execute(f"select * from reports {where} order by report_id", params)
    names = [d[0] for d in cur.description]
    return [SimpleNamespace(**dict(zip(names, r))) for r in cur]


def _write_one(db_path: str, name: str, out_dir: str) -> tuple[dict, dict]:
    conn = _connect(db_path)
    try:
        return write_table(conn, TABLE_BY_NAME[name], Path(out_dir))
    finally:
        conn.close()


def _die_with_parent(parent: int) -> None:
    """A table writer dies with the build (Linux: the kernel's PR_SET_PDEATHSIG), so a killed
    build leaves no process writing into the temporary tree the next build sweeps."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the pool's own broken-pipe exit
        pass
    if os.getppid() != parent:
        os._exit(1)


PARALLEL_BYTES = 32 << 20  # a smaller database is written inline: starting processes costs more


def write_corpus(db_path: str | Path, out_dir: str | Path, workers: int | None = None) -> dict:
    """Write the corpus package of the (complete) database ``db_path`` into ``out_dir`` (created;
    files there are replaced). Tables are written by ``workers`` processes (default: one per
    core) when the database is big; each file depends only on the database, so the result is
    the same bytes either way. Returns the descriptor."""
    corpus = CorpusWriter(db_path, out_dir, workers)
    try:
        return corpus.finish()
    finally:
        corpus.cancel()


class CorpusWriter:
    """The corpus package in two steps: :meth:`start` the tables that are complete while the build
    goes on (the per-report ones, during the passes across reports), :meth:`finish` the rest and
    datapackage.json. Each file depends only on its table's rows, so the bytes are those of one
    pass over the finished database. A small database is written inline, all of it in
    :meth:`finish` (starting processes costs more than it saves)."""

    def __init__(self, db_path: str | Path, out_dir: str | Path, workers: int | None = None):
        self.db = str(Path(db_path).resolve())
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.workers = workers or os.cpu_count() or 1
        self.pool = None
        self.futures: dict[str, Any] = {}

    def start(self, names: list[str]) -> None:
        """Begin writing the tables ``names`` in processes (when the database is big enough to
        be worth them); their rows must not change any more."""
        if self.workers < 2 or Path(self.db).stat().st_size <= PARALLEL_BYTES:
            return
        if self.pool is None:
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(max_workers=min(self.workers, len(TABLES)), initializer=_die_with_parent,
                                            initargs=(os.getpid(),))
        conn = _connect(self.db)
        try:  # the biggest tables first, so the processes finish together
            size = {n: conn.execute(f"select count(*) from [{n}]").fetchone()[0] * len(TABLE_BY_NAME[n].fields)
                    for n in names if n not in self.futures}
        finally:
            conn.close()
        for n in sorted(size, key=lambda n: -size[n]):
            self.futures[n] = self.pool.submit(_write_one, self.db, n, str(self.out_dir))

    def finish(self) -> dict:
        """Write every table not started yet, wait for all, then datapackage.json; returns the descriptor."""
        names = [t.name for t in TABLES]
        self.start([n for n in names if n not in self.futures])
        done = {n: f.result() for n, f in self.futures.items()}
        for n in names:
            if n not in done:
                done[n] = _write_one(self.db, n, str(self.out_dir))
        self.cancel()
        conn = _connect(self.db)
        try:
            desc = corpus_descriptor(_reports(conn), [done[n][0] for n in names] + [done[n][1] for n in names])
        finally:
            conn.close()
        (self.out_dir / "datapackage.json").write_text(dumps(desc), encoding="utf-8")
        return desc

    def wait(self) -> None:
        """Until the tables started are written (their processes hold the database open till then)."""
        for f in self.futures.values():
            f.result()

    def cancel(self) -> None:
        """Stop the processes (a failed or finished build); idempotent."""
        if self.pool is None:
            return
        pool, self.pool = self.pool, None
        for p in list((getattr(pool, "_processes", None) or {}).values()):  # running tables too, at once
            if p.is_alive() and any(not f.done() for f in self.futures.values()):
                p.kill()
        pool.shutdown(wait=True, cancel_futures=True)


# ---------------------------------------------------------------- one report, on request


def _zip_entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    info.create_system = 3  # Unix, whatever machine builds it
    return info


def report_files(conn: sqlite3.Connection, report_id: str) -> dict[str, bytes] | None:
    """One report's package files (datapackage.json + one CSV per table, BOM first), or None."""
    textstore.register(conn)
    found = _reports(conn, "where report_id = ?", [report_id])
    if not found:
        return None
    report = found[0]
    files = {"datapackage.json": dumps(report_descriptor(report)).encode()}
    for t in PER_REPORT:
        parts = [BOM, csv_header(t)]
        for rows in _table_batches(conn, t, "where report_id = ?", [report_id]):
            parts.append(csv_text(rows))
        files[f"{t.name}.csv"] = "".join(parts).encode()
    return files


def zip_bytes(files: dict[str, bytes], prefix: str) -> bytes:
    """A zip of ``files`` under ``prefix/``: sorted entries, fixed times → the same bytes every time."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in sorted(files):
            z.writestr(_zip_entry(f"{prefix}/{name}"), files[name])
    return out.getvalue()


def report_package(conn: sqlite3.Connection, report_id: str) -> bytes | None:
    """One report's data package as zip bytes, from the database; None when there is no such report."""
    files = report_files(conn, report_id)
    if files is None:
        return None
    sha = conn.execute("select source_sha256 from reports where report_id = ?", [report_id]).fetchone()[0]
    return zip_bytes(files, folder_name(SimpleNamespace(report_id=report_id, source_sha256=sha)))


def corpus_zip(folder: Path, target) -> None:
    """The corpus package as one zip written to the binary file ``target``: the CSVs unpacked,
    with a BOM (Excel opens them), the Parquet files stored as they are, and a datapackage.json
    whose CSV resources name the unpacked files. Streamed: memory stays small however big."""
    desc = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    for r in desc["resources"]:
        if r.get("compression") == "gz":
            r["path"] = r["path"][:-3]
            del r["compression"]
    with zipfile.ZipFile(target, "w") as z:
        z.writestr(_zip_entry(f"{CORPUS}/datapackage.json"), dumps(desc).encode())
        for r in desc["resources"]:
            src = folder / (r["path"] + ".gz" if r["type"] == "table" else r["path"])
            info = _zip_entry(f"{CORPUS}/{r['path']}")
            if r["type"] != "table":
                info.compress_type = zipfile.ZIP_STORED  # Parquet is compressed already
            with z.open(info, "w", force_zip64=True) as dst:
                if r["type"] == "table":
                    dst.write(BOM.encode())
                    with gzip.open(src, "rb") as fh:
                        shutil.copyfileobj(fh, dst, 1 << 20)
                else:
                    with open(src, "rb") as fh:
                        shutil.copyfileobj(fh, dst, 1 << 20)
