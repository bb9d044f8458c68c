"""``jixiao build``: reports → parsed and published in worker processes (cached) → streamed
into the database and the data packages.

I/O lives here and in the modules it calls for each step: :mod:`jixiao.inputs` (finding and
hashing the inputs), :mod:`jixiao.jobs` (the per-report work in worker processes, within a time
budget: :mod:`jixiao.budget`), :mod:`jixiao.buildstate` (the previous build's record and the
incremental plan), :mod:`jixiao.outputs` (the switch to the new outputs); everything they call
to shape data is pure (``jixiao.publish``, ``jixiao.rows``, ``jixiao.schema``).

* **Inputs**: files and folders; every format a reader exists for (``jixiao.read.SUFFIXES``:
  text, .docx, .doc, PDF, HTML, spreadsheets, images); hidden files and folders are skipped,
  and a folder reached twice through symlinks is read once. A folder whose name ends in
  ``.txt`` is a folder like any other. Something named like a report that cannot be read
  as a regular file (a dangling symlink, a symlink loop, a FIFO, a device) is a build error;
  so is a file of a type no reader takes. Obvious non-reports (README, .md, .json …) are
  skipped with a log line. A leaf folder of two or more files that agree on unit and year
  is one report's bundle (:mod:`jixiao.read.bundle`).
* **Duplicates**: files with the same sha256 are built once (the first by sorted path; the
  others are logged). Two different files that yield the same ``report_id`` keep it for the
  first by sorted path; the next get ``-2``, ``-3`` … appended (logged).
* **Work split**: each worker parses a file and publishes it (checks, rows, CSV text, search
  tokens: :func:`jixiao.publish.publish`); the main process streams the results, in sorted
  path order, into one SQLite transaction and the package tree, holding only a small
  summary per report, so memory does not grow with the corpus.
* **Cache**: each file's :class:`~jixiao.publish.Published` result, pickled under
  ``build/cache/<code version>/<sha256>-<name hash>.pickle``. The code version is a hash of
  the package's own source and vocabularies, so any code change invalidates the cache. With
  a cache, the corpus data package is written again from the finished database.
* **Budgets**: each file has a time budget (``file_timeout``, 300 s by default: a 50-page scan
  OCRs at ~5 s a page); over it, the file is a build error. A worker process that dies (killed,
  out of memory, stuck in native code past the budget) breaks the pool: its files are retried
  each in a process of its own, and one that dies again is a build error. Workers die with the
  build (PR_SET_PDEATHSIG, or a thread watching the parent).
* **Outputs**: the database is written as a new version, ``<out>.versions/<stamp>/<out name>``,
  and ``out`` (``build/jixiao.db``) is a symlink switched to it by one rename; ``jixiao serve``
  resolves the symlink at start-up, so a rebuild never changes the file a running server reads
  (the previous version is kept; older ones are removed). Before the switch everything is
  flushed to disk and a commit record naming both new outputs is written; the package tree
  (a committed folder, so not a symlink) is then swapped by two renames and the database pointer
  by one. What remains: between those renames a reader can see the new tree with the old
  database (or, for an instant, no tree); a build killed there leaves the record, and the next
  build rolls the swap forward before anything else. Builds into one output folder take turns
  (a lock on the folder) and sweep the temporaries killed builds left (``.jixiao.db.*.tmp``,
  ``.datapackages.*.tmp/``).
* **Names**: symlinks under an input folder that point outside it are refused (a build error
  each) unless ``follow_symlinks``; report ids and unit names are NFC; log lines escape control
  characters, so a file name cannot forge lines of build.log.
* **Errors**: a file that fails goes to ``build_errors`` and one log line; the build goes on.
  :func:`build` raises :class:`NothingBuilt` only when no report could be built, and
  :class:`OutputError` when the outputs cannot be written (the previous ones stay).
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from . import buildstate
from .budget import DEFAULT_FILE_TIMEOUT
from .inputs import BuildError, cache_key, discover, load_hashes, save_hashes, sha256_known
from .jobs import publish_file, run_jobs
from .outputs import commit_outputs, recover, sweep, versions_dir  # noqa: F401  (versions_dir: tests, benchmarks)
from .publish import Built

DEFAULT_INPUT = Path("reports")
DEFAULT_DB = Path("build/jixiao.db")
DEFAULT_PACKAGES = Path("datapackages")


class NothingBuilt(Exception):
    """No input could be built (no files, or every file failed)."""


class OutputError(Exception):
    """The database or the package tree could not be written; the previous outputs are intact."""


@dataclass
class BuildResult:
    reports: list[Built]
    errors: list[BuildError]
    counts: dict[str, int]
    parsed: int  # files parsed this time
    cached: int  # files taken from the cache
    duplicates: int
    seconds: float
    log: list[str] = field(default_factory=list)
    reused_folders: int = 0  # report packages hard-linked from the previous tree

    @property
    def warnings(self) -> int:
        return sum(r.warnings for r in self.reports)

    @property
    def unparsed(self) -> int:
        return sum(r.unparsed for r in self.reports)


# ---------------------------------------------------------------- the build


def next_free_id(report_id: str, taken: set[str]) -> str:
    """``report_id`` if free, else ``report_id-2``, ``-3`` …"""
    rid, n = report_id, 1
    while rid in taken:
        n += 1
        rid = f"{report_id}-{n}"
    return rid


def build(
    inputs: Iterable[str | Path] = (DEFAULT_INPUT,),
    out: str | Path | None = DEFAULT_DB,
    packages: str | Path | None = DEFAULT_PACKAGES,
    workers: int | None = None,
    cache_dir: str | Path | None = "build/cache",
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    file_timeout: float | None = DEFAULT_FILE_TIMEOUT,
    follow_symlinks: bool = False,
    cluster=None,
    in_place: bool = False,
) -> BuildResult:
    """Build the database and the data packages (see :func:`_build_locked`), one build at a
    time per output folder: it first finishes a swap a killed build left half done
    (:func:`recover`) and sweeps the temporaries killed builds left behind."""
    anchor = Path(out).parent if out else Path(packages).parent if packages else None
    fd = None
    if anchor is not None:
        try:
            import fcntl

            anchor.mkdir(parents=True, exist_ok=True)
            fd = os.open(anchor, os.O_RDONLY)
            fcntl.flock(fd, fcntl.LOCK_EX)  # released when the process ends, however it ends
        except (OSError, ImportError):
            pass
    try:
        if anchor is not None:
            try:
                recover(out, packages)
            except OSError:
                pass
            sweep(out, packages)
        return _build_locked(inputs, out, packages, workers, cache_dir, progress, log, file_timeout,
                             follow_symlinks, cluster, in_place)
    finally:
        if fd is not None:
            os.close(fd)


def _build_locked(
    inputs: Iterable[str | Path] = (DEFAULT_INPUT,),
    out: str | Path | None = DEFAULT_DB,
    packages: str | Path | None = DEFAULT_PACKAGES,
    workers: int | None = None,
    cache_dir: str | Path | None = "build/cache",
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    file_timeout: float | None = DEFAULT_FILE_TIMEOUT,
    follow_symlinks: bool = False,
    cluster=None,
    in_place: bool = False,
) -> BuildResult:
    """Build the database and the data packages.

    With a cache (``cache_dir``) the build is incremental: when neither the inputs nor the
    code changed and the outputs are the ones it wrote, it does nothing; when a few reports
    were added, changed or removed, it copies the previous database and tree, replaces those
    reports' rows and folders, and keeps the rest. The result is the same as a full build's
    (the same rows and byte-identical packages; only the rows' physical order may differ).

    Raises :class:`NothingBuilt` if no report built, :class:`OutputError` if an output cannot
    be written; in both cases the previous outputs are left as they were.

    ``file_timeout``: each file's time budget in seconds (None: no budget); a file over it is
    one build error. ``follow_symlinks``: read what symlinks under an input folder point to
    outside it (refused by default: one build error each). ``cluster``: a Dask scheduler
    address (``tcp://host:8786``) or a ``distributed.Client``: the per-report work runs there
    (:mod:`jixiao.cluster`) instead of in the local process pool. ``in_place``: an incremental
    build changes the current database file itself, in one WAL transaction, instead of writing a
    new version (for a site served live, ``jixiao serve --live``: docs/deploy.md); a full build
    still writes a new version.
    """
    started = time.perf_counter()
    lines: list[str] = []

    def say(msg: str) -> None:
        msg = one_line(msg)
        lines.append(msg)
        if log:
            log(msg)

    errors: list[BuildError] = []
    skipped: list[str] = []
    inputs = list(inputs)
    files = discover(inputs, errors, skipped, follow_symlinks=follow_symlinks)
    from .originals import load_sources, source_of
    sources = load_sources(inputs)  # the optional sources.csv of each input folder
    metas: dict[str, dict] = {}
    for msg in skipped:
        say(msg)
    unreadable = len(errors)
    todo: list[tuple[Path, str, str]] = []  # file, sha256, cache key
    first_by_sha: dict[str, str] = {}
    duplicates = 0
    known, hashed = load_hashes(cache_dir), {}
    for f in files:
        try:
            sha = sha256_known(f, known, hashed)
        except OSError as exc:
            errors.append(BuildError(str(f), f"cannot read the file: {exc.strerror or exc}"))
            continue
        if sha in first_by_sha:
            duplicates += 1
            say(f"{f}: same content as {first_by_sha[sha]} (sha256 {sha[:12]}…); skipped")
            continue
        first_by_sha[sha] = str(f)
        meta = source_of(sources, f)
        if meta:
            metas[str(f)] = meta
        todo.append((f, sha, cache_key(str(f), sha, meta)))
    # what was hashed is saved for the next build after this one has done its work (writing it
    # first delayed an in-place change by the JSON of every input file)
    try:
        state = buildstate.load_state(cache_dir, out, packages)
        fingerprint = buildstate.build_fingerprint(todo, errors, packages, out)
        if state and state["fingerprint"] == fingerprint:  # nothing changed: the outputs stand
            built = [Built(*e["built"]) for e in state["reports"]]
            errors = [BuildError(**e) for e in state["errors"]]
            for e in errors:
                say(f"{e.source_file}:{e.line or ''}: error: {e.error}".replace(":: ", ": "))
            say("nothing changed since the last build: outputs left as they are")
            return _finish(BuildResult(reports=built, errors=errors, counts=state["counts"], parsed=0, cached=len(built),
                                       duplicates=duplicates, seconds=time.perf_counter() - started, log=lines,
                                       reused_folders=len(built)), out)
        plan = buildstate.incremental_plan(state, todo) if state else None
        if plan is not None:
            try:
                return _build(todo, errors, unreadable, duplicates, plan, state, fingerprint, out, packages, workers,
                              cache_dir, progress, say, started, lines, metas, file_timeout, cluster, in_place)
            except buildstate.FullBuild as exc:
                say(f"incremental build not possible ({exc}); building everything")
        return _build(todo, errors, unreadable, duplicates, None, None, fingerprint, out, packages, workers, cache_dir,
                      progress, say, started, lines, metas, file_timeout, cluster)
    finally:
        save_hashes(cache_dir, hashed)


def _build(todo, errors, unreadable, duplicates, plan, state, fingerprint, out, packages, workers, cache_dir,
           progress, say, started, lines, metas=None, file_timeout=None, cluster=None,
           in_place=False) -> BuildResult:
    import sqlite3

    from . import originals

    from tqdm import tqdm

    from .database import DatabaseWriter
    from .outputs import TreeWriter
    from .build_dates import record_build_dates
    from .publish import PER_REPORT, sql_rows
    from .rows import build_error_row
    from .ddl import storage_name
    from .schema import TABLES, table

    errors = list(errors)

    def writing(what, exc: BaseException) -> OutputError:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return OutputError(f"cannot write {what}: {reason} (the previous outputs are unchanged)")

    old = plan["old"] if plan else {}
    db = tree = stop_workers = None
    built: list[Built] = []
    entries: list[dict] = []
    parsed = cached = reused = 0
    counts = {t.name: 0 for t in TABLES}
    try:
        try:
            if not out:
                db = None
            elif plan and in_place:  # the served file itself, in one WAL transaction (no copy)
                db = DatabaseWriter(Path(out).resolve(), remove_ids=plan["remove_ids"], in_place=True)
            elif plan:
                db = DatabaseWriter(out, previous=Path(out), remove_ids=plan["remove_ids"])
            else:
                db = DatabaseWriter(out)
        except (OSError, sqlite3.Error) as exc:
            raise writing(out, exc) from exc
        try:
            tree = TreeWriter(packages) if packages else None
        except OSError as exc:
            raise writing(packages, exc) from exc
        cache = str(cache_dir) if cache_dir else None
        jobs = []
        for f, sha, key in todo:
            if key in old:
                continue
            jobs.append((str(f), sha, cache, None, None, (metas or {}).get(str(f)), file_timeout))
        kept = [old[key] for _, _, key in todo if key in old]
        kept_ids = {e["built"][0] for e in kept}
        taken: set[str] = set()
        outcomes = run_jobs(jobs, workers or os.cpu_count() or 1, cluster)
        stop_workers = outcomes.close  # before the temporary tree is removed: workers write into it
        bar = tqdm(total=len(todo), desc="build", unit="file", file=sys.stderr, disable=not progress)
        for f, sha, key in todo:
            bar.update()
            try:
                if key in old:  # unchanged since the previous build: taken as it is
                    e = old[key]
                    b = Built(*e["built"])
                    entries.append(e)
                    built.append(b)
                    reused += 1
                    cached += 1
                    taken.add(b.report_id)
                    for t, n in zip(PER_REPORT, e["counts"]):
                        counts[t.name] += n
                    continue
                res = next(outcomes)
                if res.error:
                    errors.append(res.error)
                    continue
                parsed += not res.from_cache
                cached += res.from_cache
                reused += res.reused
                pub, renamed = res.published, False
                if plan and (pub.report_id in kept_ids or pub.report_id in taken):
                    raise buildstate.FullBuild(f"{pub.built.source_file}: its report_id is taken")
                if pub.report_id in taken:  # rare: publish again under a free id, written here
                    rid = next_free_id(pub.report_id, taken)
                    say(f"{pub.built.source_file}: report_id {pub.report_id} is taken by another file; using {rid}")
                    pub, renamed = publish_file(res.path, rid, (metas or {}).get(res.path)), True
                taken.add(pub.report_id)
                if db:
                    db.add(pub.sql, pub.search)
                    # The original file(s), checked against the sha256 the report was built from.
                    parts = [(r[2], r[3]) for r in pub.sql.get("source_parts", [])]
                    for msg in originals.store(db.conn, res.path, pub.report_id, res.sha256, parts):
                        say(msg)
            except (OSError, sqlite3.Error) as exc:
                raise writing(out if db else packages, exc) from exc
            built.append(pub.built)
            entries.append({"key": res.key, "built": list(astuple(pub.built)),
                            "counts": [len(pub.sql[t.name]) for t in PER_REPORT], "renamed": renamed})
            for name, rows in pub.sql.items():
                counts[name] += len(rows)
        bar.close()
        for e in errors:
            say(f"{e.source_file}:{e.line or ''}: error: {e.error}".replace(":: ", ": "))
        if not built:
            raise NothingBuilt(f"no report could be built from {len(todo) + duplicates + unreadable} file(s)"
                               + (f"; {len(errors)} error(s)" if errors else ""))
        err_table = table("build_errors")
        err_rows = [build_error_row(e.source_file, e.error, e.line, e.sha256) for e in errors]
        counts["build_errors"] = len(err_rows)
        try:
            if db:
                db.add({"build_errors": sql_rows(err_table, err_rows)})
                originals.prune(db.conn)
                if tree and not db.in_place:  # the per-report tables are final: their part of the corpus
                    db.share()  # package is written by other processes during the passes below
                    tree.start(db.tmp, [t.name for t in TABLES if t.per_report])
                from . import across  # tables across reports (issue 17), computed on every report's rows
                t_across = time.perf_counter()
                db.conn.execute("savepoint across")
                try:
                    if db.in_place:  # the figures of what the changed reports touch (removed ones included);
                        # the passage tables are recomputed after the commit (below), in their own transaction
                        across.refresh(db.conn, plan["remove_ids"] + db._ids, passages=False)
                    else:
                        across.build(db.conn, log=say)
                    db.conn.execute("release across")
                except Exception as exc:  # a value no rule foresaw must not cost every report its page
                    db.conn.execute("rollback to across")
                    db.conn.execute("release across")
                    why = f"跨报告发现未能计算（{type(exc).__name__}: {one_line(str(exc))}），其余数据照常发布"
                    say(f"across: {why}")
                    db.add({"build_errors": sql_rows(err_table, [build_error_row("(跨报告发现)", why, None, None)])})
                    counts["build_errors"] += 1
                t_across = time.perf_counter() - t_across
                for t in TABLES:  # corpus-level tables are written whole, not per report: count them
                    if not t.per_report and t.name != "build_errors":
                        counts[t.name] = db.conn.execute(f"select count(*) from [{storage_name(t)}]").fetchone()[0]
                db.close(readers_done=tree.wait if tree else None)
                if db.in_place:  # what a live site waited for: the commit, and the across tables' share
                    say(f"in place: {len(db._ids)} report(s) written, {len(plan['remove_ids'])} replaced or removed; "
                        f"visible {time.perf_counter() - started:.2f} s after the build started "
                        f"(of which across.refresh {t_across:.2f} s)")
                    if db._ids or plan["remove_ids"]:
                        t_passages = time.perf_counter()
                        counts.update(_refresh_passages(db.path))
                        say(f"in place: copied-text tables caught up {time.perf_counter() - t_passages:.2f} s later")
            if db and not db.in_place:  # when each report's content was first built (sitemap, feed);
                record_build_dates(db.tmp, out)  # in place: kept up to date inside the transaction
            if tree and db:  # the corpus package, from the complete database
                tree.write(db.tmp)
        except (OSError, sqlite3.Error) as exc:
            raise writing(out if db and not db.closed else packages, exc) from exc
        # Both outputs are complete: move them into place (see commit_outputs).
        try:
            commit_outputs(db, tree, out, packages)
        except OSError as exc:
            raise writing(out, exc) from exc
    except BaseException:
        if stop_workers:
            stop_workers()
        if db:
            db.abort()
        if tree:
            tree.abort()
        raise
    if out:  # with or without packages: the next build can be incremental
        buildstate.save_state(cache_dir, out, packages, fingerprint, entries, errors, counts)
    return _finish(BuildResult(
        reports=built, errors=errors, counts=counts, parsed=parsed, cached=cached, duplicates=duplicates,
        seconds=time.perf_counter() - started, log=lines, reused_folders=reused,
    ), out)


def _refresh_passages(path) -> dict[str, int]:
    """The passage tables of a database changed in place, recomputed in one transaction of their
    own after the change itself is committed (a changed paragraph can match any report's, so this
    is a whole-corpus pass: ~14 s at 2,000 reports); readers see the previous ones until it commits."""
    import sqlite3

    from . import across, textstore

    conn = sqlite3.connect(path, isolation_level=None, timeout=60)
    textstore.register(conn)
    try:
        conn.execute("pragma busy_timeout = 60000")
        conn.execute("begin immediate")
        try:
            counts = across.refresh_passages(conn)
            conn.execute("commit")
        except BaseException:
            conn.execute("rollback")
            raise
        conn.execute("pragma wal_checkpoint(passive)")
        return counts
    finally:
        conn.close()


def _finish(result: BuildResult, out) -> BuildResult:
    if out:
        try:
            write_log(Path(out).parent / "build.log", result)
        except OSError:
            pass
    return result


def summary(result: BuildResult) -> str:
    rows = ", ".join(f"{k} {v}" for k, v in result.counts.items())
    return "\n".join([
        f"reports   {len(result.reports)} built ({result.parsed} parsed, {result.cached} from cache, "
        f"{result.duplicates} duplicate file(s) skipped; {result.reused_folders} package folder(s) unchanged)",
        f"rows      {rows}",
        f"warnings  {result.warnings}; unparsed lines {result.unparsed}; errors {len(result.errors)}",
        f"time      {result.seconds:.2f} s",
    ])


_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(32), *range(127, 160)]}
_CONTROLS.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", 0x2028: "\\u2028", 0x2029: "\\u2029"})


def one_line(msg: str) -> str:
    """A log message as one line: control characters and line separators (a file name may hold
    a newline) escaped, so a file name cannot forge lines of build.log."""
    return msg.translate(_CONTROLS)


def write_log(path: Path, result: BuildResult) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([*result.log, summary(result)]) + "\n", encoding="utf-8")
