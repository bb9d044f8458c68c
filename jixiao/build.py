"""``jixiao build``: reports → parsed and published in worker processes (cached) → streamed
into the database and the data packages.

I/O lives here; everything it calls to shape data is pure (``jixiao.publish``, ``jixiao.rows``,
``jixiao.schema``).

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

import hashlib
import json
import os
import pickle
import shutil
import stat
import sys
import tempfile
import time
import unicodedata
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, astuple, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .errors import ReportError
from .outputs import commit_outputs, recover, sweep, versions_dir  # noqa: F401  (versions_dir: tests, benchmarks)
from .publish import Built, Published

from .read import SUFFIXES  # noqa: E402 - every format a reader exists for
PACKAGE_ROOT = Path(__file__).resolve().parent
DEFAULT_INPUT = Path("reports")
DEFAULT_DB = Path("build/jixiao.db")
DEFAULT_PACKAGES = Path("datapackages")


class NothingBuilt(Exception):
    """No input could be built (no files, or every file failed)."""


class OutputError(Exception):
    """The database or the package tree could not be written; the previous outputs are intact."""


@dataclass
class BuildError:
    source_file: str
    error: str
    line: int | None = None
    sha256: str | None = None


@dataclass
class Outcome:
    """What a worker sends back for one file."""

    path: str
    sha256: str
    key: str
    published: Published | None
    error: BuildError | None
    from_cache: bool
    reused: bool = False  # the package folder was hard-linked from the previous tree


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


# ---------------------------------------------------------------- inputs


def _unreadable(fp: Path) -> str | None:
    """Why ``fp`` (named like a report) cannot be read as a regular file, or None if it can."""
    try:
        st = os.stat(fp)  # follows symlinks: a loop or a dangling link raises here
    except OSError as exc:
        return f"cannot read the file: {exc.strerror or exc}"
    if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
        return None
    return "not a regular file (a FIFO, device or socket); not read"


# Files that are obviously not reports: skipped with a log line, not a build error.
_NOT_REPORTS = {".md", ".rst", ".json", ".yml", ".yaml", ".toml", ".py", ".sh", ".csv", ".tsv", ".ini", ".cfg",
                ".log", ".db", ".sqlite", ".pickle"}
_NOT_REPORT_NAMES = {"readme", "license", "licence", "copying", "notice", "changelog", "thumbs.db", "desktop.ini"}
_ARCHIVES = {".zip", ".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz"}


def not_a_report(fp: Path) -> bool:
    return fp.suffix.lower() in _NOT_REPORTS or fp.stem.lower() in _NOT_REPORT_NAMES or fp.name.lower() in _NOT_REPORT_NAMES


def unsupported(fp: Path) -> str:
    suffix = fp.suffix.lower() or "(no suffix)"
    if suffix in _ARCHIVES:
        return f"archives are not unpacked ({suffix}): extract the files into a folder of their own"
    return (f"unsupported file type {suffix}: not read (jixiao reads "
            + " ".join(sorted(s for s in SUFFIXES)) + ")")


def _bundle_identity(files: list[Path]) -> bool:
    """Do the files of one folder belong to one report? They do unless two of them name
    different units or different years. Only formats that parse in milliseconds are asked
    (text, .docx, HTML, spreadsheets); PDFs, scans and .doc files do not vote."""
    from .parse import parse_file

    units: set[str] = set()
    years: set[int] = set()
    for f in files:
        if f.suffix.lower() not in _CHEAP_PROBE:
            continue
        try:
            with _Budget(_PROBE_SECONDS):
                r = parse_file(f)
        except (Exception, FileTimeout):  # noqa: BLE001 - a file that cannot be read does not vote
            continue
        if r.unit_name:
            if any(r.unit_name not in u and u not in r.unit_name for u in units):
                return False
            units.add(r.unit_name)
        if r.fiscal_year:
            years.add(r.fiscal_year)
            if len(years) > 1:
                return False
    return True


_CHEAP_PROBE = {".txt", ".docx", ".html", ".htm", ".xlsx", ".xls"}
_PROBE_SECONDS = 30.0


def _outside(fp: str, base: str) -> str | None:
    """Where a symlink ``fp`` points when that is outside the folder ``base`` (real path), else None."""
    if not os.path.islink(fp):
        return None
    target = os.path.realpath(fp)
    try:
        if os.path.commonpath([target, base]) == base:
            return None
    except ValueError:  # another drive
        pass
    return target


def discover(paths: Iterable[str | Path], errors: list[BuildError] | None = None,
             skipped: list[str] | None = None, follow_symlinks: bool = False) -> list[Path]:
    """Reports under ``paths``: sorted, unique, no hidden files, symlink loops cut.

    A folder below an input folder that holds no folders and two or more report files is one
    report's bundle (its files are attachments of one report) when they agree on the unit and
    year; otherwise its files are reports of their own. Entries named like a report that are
    not readable regular files, and files of a type jixiao does not read, are appended to
    ``errors`` (when given); obvious non-reports (README, .md, .json …) to ``skipped``.
    Symlinks that point outside their input folder are errors too, unless ``follow_symlinks``.
    """
    found: dict[str, Path] = {}
    seen_dirs: set[str] = set()
    bad: dict[str, BuildError] = {}
    skips: list[str] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            base = os.path.realpath(p)

            def refused(fp: Path) -> bool:
                target = None if follow_symlinks else _outside(str(fp), base)
                if target:
                    bad.setdefault(str(fp), BuildError(
                        str(fp), f"a symbolic link to {target}, outside the input folder: not followed "
                                 "(build --follow-symlinks to read it)"))
                return bool(target)

            for root, dirs, files in os.walk(p, followlinks=True):
                real = os.path.realpath(root)
                if real in seen_dirs:
                    dirs[:] = []
                    continue
                seen_dirs.add(real)
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not refused(Path(root) / d))
                readable: list[Path] = []
                for f in sorted(files):
                    fp = Path(root) / f
                    if f.startswith(".") or refused(fp):
                        continue
                    if fp.suffix.lower() not in SUFFIXES:
                        if not_a_report(fp):
                            skips.append(f"{fp}: not a report ({fp.suffix or fp.name}); skipped")
                        else:
                            bad.setdefault(str(fp), BuildError(str(fp), unsupported(fp)))
                        continue
                    why = _unreadable(fp)
                    if why:
                        bad.setdefault(str(fp), BuildError(str(fp), why))
                    elif stat.S_ISREG(os.stat(fp).st_mode):
                        readable.append(fp)
                if Path(root) != p and not dirs and len(readable) >= 2 and _bundle_identity(readable):
                    found.setdefault(os.path.realpath(root), Path(root))
                    continue
                for fp in readable:  # a file that is not a link is where its folder really is
                    found.setdefault(os.path.realpath(fp) if os.path.islink(fp) else os.path.join(real, fp.name), fp)
        else:
            # Named explicitly: taken whatever its suffix; a missing file becomes a build error.
            found.setdefault(os.path.realpath(p) if p.exists() else str(p), p)
    if errors is not None:
        errors.extend(bad[k] for k in sorted(bad))
    if skipped is not None:
        skipped.extend(skips)
    return sorted(found.values(), key=lambda q: str(q))


_RACY_NS = 2_000_000_000  # a file changed this recently may change again within its timestamp: hash it


def _hashes_file(cache_dir) -> Path | None:
    return Path(cache_dir) / "hashes.json" if cache_dir else None


def _load_hashes(cache_dir) -> dict[str, list]:
    """What the previous build hashed: absolute path → [size, mtime_ns, ctime_ns, inode, sha256]."""
    hf = _hashes_file(cache_dir)
    try:
        return json.loads(hf.read_text(encoding="utf-8")) if hf and hf.exists() else {}
    except (ValueError, OSError):
        return {}


def _save_hashes(cache_dir, hashed: dict[str, list]) -> None:
    hf = _hashes_file(cache_dir)
    if not hf:
        return
    try:
        hf.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=hf.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(hashed, fh, ensure_ascii=False)
        os.replace(tmp, hf)
    except OSError:  # an optimisation: the next build hashes again
        pass


def _sha256_known(path: Path, known: dict[str, list], hashed: dict[str, list]) -> str:
    """``sha256_entry(path)``, without reading a regular file whose size, times and inode are the
    ones it had when the previous build hashed it (a no-change rebuild of 10,000 files then
    stats them instead of reading 500 MB). ctime cannot be set back by a user; a file changed
    in the last two seconds is always read."""
    if path.is_dir():
        return sha256_entry(path)
    st = os.stat(path)
    key = os.path.abspath(path)
    sig = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
    old = known.get(key)
    if old and old[:4] == sig:
        sha = old[4]
    else:
        sha = sha256_entry(path)
    if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > _RACY_NS:
        hashed[key] = sig + [sha]
    return sha


def sha256_entry(path: Path) -> str:
    """A file's sha256; for a bundle folder, the hash of its files' names and hashes."""
    if not path.is_dir():
        return sha256_file(path)
    from .read.bundle import bundle_sha256

    files = [(f.name, f.read_bytes()) for f in sorted(path.iterdir())
             if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in SUFFIXES]
    return bundle_sha256(files)


@lru_cache(maxsize=1)
def code_version() -> str:
    """Hash of the package's source and vocabularies: part of the cache key, so any code change
    (parser, checks, rows, schema) invalidates the cache."""
    h = hashlib.sha256()
    files = sorted(PACKAGE_ROOT.rglob("*.py")) + sorted((PACKAGE_ROOT / "vocab").rglob("*.yml"))
    for f in files:
        h.update(f.relative_to(PACKAGE_ROOT).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def cache_key(path: str, sha256: str, meta: dict | None = None) -> str:
    """The file's content and its name: the name is published (reports.source_file); and its
    sources.csv row, when there is one (published too: reports.source_url …)."""
    key = f"{sha256}-{hashlib.sha256(Path(path).name.encode()).hexdigest()[:8]}"
    if meta:
        key += "-" + hashlib.sha256(json.dumps(meta, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:8]
    return key


# ---------------------------------------------------------------- parse + publish (worker processes)


def publish_file(path: str, report_id: str | None = None, meta: dict | None = None) -> Published:
    """Parse and publish one file (``report_id`` overrides the parsed one; ``meta``: its
    sources.csv row, joined here, after parsing). Raises ReportError."""
    from .parse import parse_file
    from .publish import publish

    report = parse_file(path)
    if report_id:
        report.report_id = report_id
    # NFC: names that look the same are the same (a name typed on macOS arrives decomposed),
    # so they cannot give two ids that look identical.
    for attr in ("report_id", "unit_name", "title"):
        if isinstance(getattr(report, attr, None), str):
            setattr(report, attr, unicodedata.normalize("NFC", getattr(report, attr)))
    for k, v in (meta or {}).items():
        setattr(report, k, v)
    return publish(report)


DEFAULT_FILE_TIMEOUT = 300.0  # seconds a file may take: a 50-page scan OCRs at ~5 s a page
_NATIVE_GRACE = 60.0  # CPU seconds past the budget before a worker stuck in native code is killed
_in_worker = False  # set in worker processes (see _worker_init)


class FileTimeout(BaseException):
    """A file took longer than its time budget. A BaseException, so that a reader's
    ``except Exception`` cannot swallow it and go on."""


def _on_alarm(signum, frame):
    raise FileTimeout()


class _Budget:
    """A wall-clock budget for one file: SIGALRM raises :class:`FileTimeout` in the code that
    runs (parsers, OCR waiting on tesseract). Code stuck in C never sees the exception, so in a
    worker process a CPU-time timer with the default action (SIGVTALRM terminates the process)
    backs it up: the dead worker is then handled like any other (see :func:`run_jobs`). Only in
    the main thread, and only where the platform has these timers."""

    def __init__(self, seconds: float | None):
        import signal
        import threading

        self.seconds = seconds if seconds and hasattr(signal, "setitimer") else None
        if threading.current_thread() is not threading.main_thread():
            self.seconds = None

    def __enter__(self):
        import signal

        if self.seconds:
            self._old = signal.signal(signal.SIGALRM, _on_alarm)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
            if _in_worker:
                signal.signal(signal.SIGVTALRM, signal.SIG_DFL)
                signal.setitimer(signal.ITIMER_VIRTUAL, self.seconds + _NATIVE_GRACE)
        return self

    def __exit__(self, *exc):
        import signal

        if self.seconds:
            signal.setitimer(signal.ITIMER_REAL, 0)
            if _in_worker:
                signal.setitimer(signal.ITIMER_VIRTUAL, 0)
            signal.signal(signal.SIGALRM, self._old)
        return False


def _worker_init(parent: int) -> None:
    """In each worker process: die with the build. On Linux the kernel sends SIGKILL when the
    parent goes (PR_SET_PDEATHSIG); elsewhere a thread watches the parent's pid."""
    global _in_worker
    _in_worker = True
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, signal.SIGKILL, 0, 0, 0) != 0:  # PR_SET_PDEATHSIG
            raise OSError
    except (OSError, AttributeError):
        import threading

        def watch():
            while os.getppid() == parent:
                time.sleep(1)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def work(path: str, sha256: str, cache_dir: str | None, parts: str | None = None,
         reuse_from: str | None = None, meta: dict | None = None, timeout: float | None = None) -> Outcome:
    """Parse and publish one file (or take it from the cache). ``timeout``: the file's time
    budget in seconds. (``parts``, ``reuse_from``: unused since workers stopped writing package
    folders — the packages are written from the finished database, jixiao/package.py.)"""
    key = cache_key(path, sha256, meta)
    try:
        with _Budget(timeout):
            out = _work(path, sha256, key, cache_dir, meta)
    except FileTimeout:
        return Outcome(path, sha256, key, None, BuildError(
            path, f"not built: over its time budget of {timeout:g} s (build --file-timeout)", None, sha256), False)
    return out


def _work(path: str, sha256: str, key: str, cache_dir: str | None, meta: dict | None = None) -> Outcome:
    cache_file = Path(cache_dir) / code_version() / f"{key}.pickle" if cache_dir else None
    if cache_file and cache_file.exists():
        try:
            with open(cache_file, "rb") as fh:
                pub = pickle.load(fh)
            if isinstance(pub, Published):
                return Outcome(path, sha256, key, pub, None, True)
        except FileTimeout:
            raise
        except Exception:  # noqa: BLE001 - a damaged cache entry is built again
            pass
        cache_file.unlink(missing_ok=True)
    try:
        pub = publish_file(path, None, meta)
    except FileTimeout:
        raise
    except ReportError as exc:
        return Outcome(path, sha256, key, None, BuildError(path, exc.reason, exc.line, sha256), False)
    except Exception as exc:  # a parser or publishing bug must not stop the build either
        return Outcome(path, sha256, key, None, BuildError(path, f"{type(exc).__name__}: {exc}", None, sha256), False)
    if cache_file:
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=cache_file.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(pub, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, cache_file)
        except OSError:  # the cache is an optimisation: a full disk must not fail the report
            pass
    return Outcome(path, sha256, key, pub, None, False)


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, initializer=_worker_init, initargs=(os.getpid(),))


def _alone(job: tuple) -> Outcome:
    """One job in a process of its own (after its worker died): a second death is its error."""
    from concurrent.futures.process import BrokenProcessPool

    path, sha = job[0], job[1]
    meta = job[5] if len(job) > 5 else None

    def clear_parts() -> None:  # what the dead worker may have half-written for this job
        if len(job) > 3 and job[3]:
            shutil.rmtree(Path(job[3]) / cache_key(path, sha, meta), ignore_errors=True)

    clear_parts()
    with _pool(1) as pool:
        try:
            return pool.submit(work, *job).result()
        except BrokenProcessPool:
            clear_parts()
            budget = job[6] if len(job) > 6 and job[6] else None
            return Outcome(path, sha, cache_key(path, sha, meta), None, BuildError(
                path, "not built: its worker process died twice while building it (killed, out of memory"
                + (f", or stuck in native code past its time budget of {budget:g} s)" if budget else ")"),
                None, sha), False)


def run_jobs(jobs: list[tuple], workers: int, cluster=None) -> Iterator[Outcome]:
    """Outcomes in job order, computed by ``workers`` processes (inline when 1), or with
    ``cluster`` (a Dask scheduler address) on that cluster (:mod:`jixiao.cluster`).

    At most a few jobs per worker are in flight: cached results come back faster than the
    main process can write them, and unbounded they would pile up in memory.

    If a worker process dies (killed, out of memory), the pool is broken: the jobs it had in
    flight are run again, each in a process of its own (a job whose process dies again becomes
    an error outcome), and the rest go on in a new pool.
    """
    from concurrent.futures import ThreadPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    if cluster:
        from .cluster import run_on_cluster

        yield from run_on_cluster(jobs, cluster)
        return
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield work(*job)
        return
    window = workers * 4
    queue = deque(jobs)
    while queue:
        pending: deque = deque()  # (job, future)
        broken = False
        pool = _pool(min(workers, len(queue)))
        try:
            while queue or pending:
                try:
                    while queue and len(pending) < window:
                        job = queue[0]
                        pending.append((job, pool.submit(work, *job)))
                        queue.popleft()
                    out = pending[0][1].result()
                except BrokenProcessPool:
                    broken = True
                    break
                pending.popleft()
                yield out
        finally:  # closed early (an error in the caller): drop what has not started, wait for the rest
            for _, fut in pending:
                fut.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
        if broken:
            def again(item):
                job, fut = item
                if fut.done() and not fut.cancelled() and fut.exception() is None:
                    return fut.result()
                return _alone(job)

            with ThreadPoolExecutor(max_workers=workers) as threads:
                results = list(threads.map(again, pending))
            yield from results


# ---------------------------------------------------------------- the build


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def next_free_id(report_id: str, taken: set[str]) -> str:
    """``report_id`` if free, else ``report_id-2``, ``-3`` …"""
    rid, n = report_id, 1
    while rid in taken:
        n += 1
        rid = f"{report_id}-{n}"
    return rid


# ---------------------------------------------------------------- what the previous build wrote


def _state_file(cache_dir) -> Path | None:
    return Path(cache_dir) / code_version() / "outputs.json" if cache_dir else None


def _stat(p: Path) -> list[int] | None:
    try:
        st = p.stat()
        return [st.st_size, st.st_mtime_ns, st.st_ino]
    except OSError:
        return None


def _fingerprint(todo, errors, packages, out) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([[str(f), key] for f, _, key in todo] +
                        [[e.source_file, e.error, e.line] for e in errors] + [str(out), str(packages)],
                        ensure_ascii=False).encode())
    return h.hexdigest()


def _load_state(cache_dir, out, packages) -> dict | None:
    """The previous build's record of its outputs, if they are still exactly what it wrote."""
    sf = _state_file(cache_dir)
    if not (sf and out and sf.exists()):
        return None
    try:
        state = json.loads(sf.read_text(encoding="utf-8"))
        where = str(Path(packages).resolve()) if packages else None
        corpus = _stat(Path(packages) / "jixiao" / "datapackage.json") if packages else None
        if (state["out"] == str(Path(out).resolve()) and state["packages"] == where
                and state["db_stat"] == _stat(Path(out)) and state["packages_stat"] == corpus):
            return state
    except (ValueError, KeyError, OSError):
        pass
    return None


def _save_state(cache_dir, out, packages, fingerprint, entries, errors, counts) -> None:
    sf = _state_file(cache_dir)
    if not sf:
        return
    try:
        sf.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "fingerprint": fingerprint, "out": str(Path(out).resolve()),
            "packages": str(Path(packages).resolve()) if packages else None, "db_stat": _stat(Path(out)),
            "packages_stat": _stat(Path(packages) / "jixiao" / "datapackage.json") if packages else None,
            "reports": entries, "errors": [asdict(e) for e in errors], "counts": counts,
        }
        fd, tmp = tempfile.mkstemp(dir=sf.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(state, fh, ensure_ascii=False)
        os.replace(tmp, sf)
    except OSError:
        pass


class _FullBuild(Exception):
    """An incremental build met a case only a full build settles (a report_id or folder clash)."""


# ---------------------------------------------------------------- the build


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
    known, hashed = _load_hashes(cache_dir), {}
    for f in files:
        try:
            sha = _sha256_known(f, known, hashed)
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
        state = _load_state(cache_dir, out, packages)
        fingerprint = _fingerprint(todo, errors, packages, out)
        if state and state["fingerprint"] == fingerprint:  # nothing changed: the outputs stand
            built = [Built(*e["built"]) for e in state["reports"]]
            errors = [BuildError(**e) for e in state["errors"]]
            for e in errors:
                say(f"{e.source_file}:{e.line or ''}: error: {e.error}".replace(":: ", ": "))
            say("nothing changed since the last build: outputs left as they are")
            return _finish(BuildResult(reports=built, errors=errors, counts=state["counts"], parsed=0, cached=len(built),
                                       duplicates=duplicates, seconds=time.perf_counter() - started, log=lines,
                                       reused_folders=len(built)), out)
        plan = _incremental_plan(state, todo) if state else None
        if plan is not None:
            try:
                return _build(todo, errors, unreadable, duplicates, plan, state, fingerprint, out, packages, workers,
                              cache_dir, progress, say, started, lines, metas, file_timeout, cluster, in_place)
            except _FullBuild as exc:
                say(f"incremental build not possible ({exc}); building everything")
        return _build(todo, errors, unreadable, duplicates, None, None, fingerprint, out, packages, workers, cache_dir,
                      progress, say, started, lines, metas, file_timeout, cluster)
    finally:
        _save_hashes(cache_dir, hashed)


def _incremental_plan(state: dict, todo) -> dict | None:
    """Which reports to keep from the previous build and which to remove; None: build all."""
    old = {e["key"]: e for e in state["reports"]}
    keys = {key for _, _, key in todo}
    removed = [e for k, e in old.items() if k not in keys]
    new = [k for k in keys if k not in old]
    if any(e.get("renamed") for e in state["reports"]):
        return None  # a report_id was suffixed last time: which one gets the plain id may change
    if len(removed) + len(new) > max(20, len(todo) // 10):
        return None  # many changes: a full build is as fast
    return {"old": old, "remove_ids": [e["built"][0] for e in removed]}


def _build(todo, errors, unreadable, duplicates, plan, state, fingerprint, out, packages, workers, cache_dir,
           progress, say, started, lines, metas=None, file_timeout=None, cluster=None,
           in_place=False) -> BuildResult:
    import sqlite3

    from . import originals

    from tqdm import tqdm

    from .database import DatabaseWriter
    from .package import TreeWriter, record_build_dates
    from .publish import PER_REPORT, sql_rows
    from .rows import build_error_row
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
                    raise _FullBuild(f"{pub.built.source_file}: its report_id is taken")
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
                        counts[t.name] = db.conn.execute(f"select count(*) from [{t.name}]").fetchone()[0]
                db.close()
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
        _save_state(cache_dir, out, packages, fingerprint, entries, errors, counts)
    return _finish(BuildResult(
        reports=built, errors=errors, counts=counts, parsed=parsed, cached=cached, duplicates=duplicates,
        seconds=time.perf_counter() - started, log=lines, reused_folders=reused,
    ), out)


def _refresh_passages(path) -> dict[str, int]:
    """The passage tables of a database changed in place, recomputed in one transaction of their
    own after the change itself is committed (a changed paragraph can match any report's, so this
    is a whole-corpus pass: ~14 s at 2,000 reports); readers see the previous ones until it commits."""
    import sqlite3

    from . import across

    conn = sqlite3.connect(path, isolation_level=None, timeout=60)
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
