"""``jixiao build``: reports → parsed models (cached) → rows → database + data packages.

I/O lives here; everything it calls to shape data is pure (``jixiao.rows``, ``jixiao.schema``).

* **Inputs**: files and folders; ``.txt`` and ``.docx``; hidden files and folders are skipped,
  and a folder reached twice through symlinks is read once.
* **Duplicates**: files with the same sha256 are built once (the first by sorted path; the
  others are logged). Two different files that yield the same ``report_id`` keep it for the
  first by sorted path; the next get ``-2``, ``-3`` … appended (logged).
* **Cache**: parsed models as JSON under ``build/cache/<parser version>/<sha256>.json``. The
  parser version is a hash of the parser's own source (jixiao/parse, model, vocab), so any
  change to the parser invalidates the cache.
* **Errors**: a file that fails goes to ``build_errors`` and one log line; the build goes on.
  :func:`build` raises :class:`NothingBuilt` only when no report could be built.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

from . import model
from .errors import ReportError
from .model import Report

SUFFIXES = {".txt", ".docx"}
PACKAGE_ROOT = Path(__file__).resolve().parent
DEFAULT_INPUT = Path("reports")
DEFAULT_DB = Path("build/jixiao.db")
DEFAULT_PACKAGES = Path("datapackages")


class NothingBuilt(Exception):
    """No input could be built (no files, or every file failed)."""


@dataclass
class BuildError:
    source_file: str
    error: str
    line: int | None = None
    sha256: str | None = None


@dataclass
class Parsed:
    path: str
    sha256: str
    report: Report | None
    error: BuildError | None
    from_cache: bool


@dataclass
class BuildResult:
    reports: list[Report]
    errors: list[BuildError]
    counts: dict[str, int]
    parsed: int  # files parsed this time
    cached: int  # files taken from the cache
    duplicates: int
    seconds: float
    log: list[str] = field(default_factory=list)

    @property
    def warnings(self) -> int:
        return sum(len(r.warnings) for r in self.reports)

    @property
    def unparsed(self) -> int:
        return sum(len(r.unparsed) for r in self.reports)


# ---------------------------------------------------------------- inputs


def discover(paths: Iterable[str | Path]) -> list[Path]:
    """Report files under ``paths``: sorted, unique, no hidden files, symlink loops cut."""
    found: dict[str, Path] = {}
    seen_dirs: set[str] = set()
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for root, dirs, files in os.walk(p, followlinks=True):
                real = os.path.realpath(root)
                if real in seen_dirs:
                    dirs[:] = []
                    continue
                seen_dirs.add(real)
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for f in files:
                    fp = Path(root) / f
                    if not f.startswith(".") and fp.suffix.lower() in SUFFIXES and fp.is_file():
                        found.setdefault(os.path.realpath(fp), fp)
        else:
            # Named explicitly: taken whatever its suffix; a missing file becomes a build error.
            found.setdefault(os.path.realpath(p) if p.exists() else str(p), p)
    return sorted(found.values(), key=lambda q: str(q))


@lru_cache(maxsize=1)
def parser_version() -> str:
    """Hash of the parser's source: part of the cache key, so code changes invalidate the cache."""
    h = hashlib.sha256()
    files = sorted((PACKAGE_ROOT / "parse").rglob("*.py")) + sorted((PACKAGE_ROOT / "vocab").rglob("*.yml"))
    for f in [PACKAGE_ROOT / "model.py", PACKAGE_ROOT / "errors.py", *files]:
        h.update(f.relative_to(PACKAGE_ROOT).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


# ---------------------------------------------------------------- parsing (runs in worker processes)


def parse_one(path: str, sha256: str, cache_dir: str | None) -> Parsed:
    from .parse import parse_file

    cache_file = Path(cache_dir) / parser_version() / f"{sha256}.json" if cache_dir else None
    if cache_file and cache_file.exists():
        try:
            data = json.loads(cache_file.read_text(encoding="utf-8"))
            report = model.from_jsonable(Report, data)
            report.source_file = Path(path).name
            return Parsed(path, sha256, report, None, True)
        except (ValueError, TypeError, KeyError):
            cache_file.unlink(missing_ok=True)  # a damaged cache entry is parsed again
    try:
        report = parse_file(path)
    except ReportError as exc:
        return Parsed(path, sha256, None, BuildError(path, exc.reason, exc.line, sha256), False)
    except Exception as exc:  # a parser bug must not stop the build either
        return Parsed(path, sha256, None, BuildError(path, f"{type(exc).__name__}: {exc}", None, sha256), False)
    if cache_file:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_file.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(report.to_dict(), fh, ensure_ascii=False)
        os.replace(tmp, cache_file)
    return Parsed(path, sha256, report, None, False)


def _parse_star(args: tuple) -> Parsed:
    return parse_one(*args)


def parse_all(jobs: list[tuple[str, str, str | None]], workers: int, progress: bool) -> list[Parsed]:
    from tqdm import tqdm

    bar = tqdm(total=len(jobs), desc="parse", unit="file", file=sys.stderr, disable=not progress)
    try:
        if workers <= 1 or len(jobs) <= 1:
            results = []
            for job in jobs:
                results.append(parse_one(*job))
                bar.update()
            return results
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
            results = []
            for res in pool.map(_parse_star, jobs, chunksize=max(1, len(jobs) // (workers * 8))):
                results.append(res)
                bar.update()
            return results
    finally:
        bar.close()


# ---------------------------------------------------------------- the build


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def unique_report_ids(reports: list[Report], log: Callable[[str], None]) -> None:
    """Second and later reports with a taken report_id get ``-2``, ``-3`` … (in sorted path order)."""
    taken: set[str] = set()
    for r in reports:
        rid, n = r.report_id, 1
        while rid in taken:
            n += 1
            rid = f"{r.report_id}-{n}"
        if rid != r.report_id:
            log(f"{r.source_file}: report_id {r.report_id} is taken by another file; using {rid}")
            r.report_id = rid
        taken.add(rid)


def build(
    inputs: Iterable[str | Path] = (DEFAULT_INPUT,),
    out: str | Path | None = DEFAULT_DB,
    packages: str | Path | None = DEFAULT_PACKAGES,
    workers: int | None = None,
    cache_dir: str | Path | None = "build/cache",
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> BuildResult:
    """Build the database and the data packages. Raises :class:`NothingBuilt` if no report built."""
    from .database import write_database
    from .package import corpus_package, folder_name, package_name, report_package, write_tree
    from .rows import build_error_row, report_rows
    from .schema import TABLES

    started = time.perf_counter()
    lines: list[str] = []

    def say(msg: str) -> None:
        lines.append(msg)
        if log:
            log(msg)

    files = discover(inputs)
    errors: list[BuildError] = []
    jobs: list[tuple[str, str, str | None]] = []
    first_by_sha: dict[str, str] = {}
    duplicates = 0
    for f in files:
        try:
            sha = sha256_file(f)
        except OSError as exc:
            errors.append(BuildError(str(f), f"cannot read the file: {exc.strerror or exc}"))
            continue
        if sha in first_by_sha:
            duplicates += 1
            say(f"{f}: same content as {first_by_sha[sha]} (sha256 {sha[:12]}…); skipped")
            continue
        first_by_sha[sha] = str(f)
        jobs.append((str(f), sha, str(cache_dir) if cache_dir else None))

    results = parse_all(jobs, workers or os.cpu_count() or 1, progress)
    reports = []
    for res in results:
        if res.error:
            errors.append(res.error)
        else:
            reports.append(res.report)
    for e in errors:
        say(f"{e.source_file}:{e.line or ''}: error: {e.error}".replace(":: ", ": "))
    if not reports:
        raise NothingBuilt(f"no report could be built from {len(files)} file(s)" +
                           (f"; {len(errors)} error(s)" if errors else ""))
    unique_report_ids(reports, say)

    corpus: dict[str, list[dict]] = {t.name: [] for t in TABLES}
    tree: dict[str, dict[str, str]] = {}
    built = []
    for r in reports:
        try:
            rows = report_rows(r, package_name(r))
        except Exception as exc:  # one bad report must not stop the others
            err = BuildError(r.source_file, f"cannot publish the parsed report: {type(exc).__name__}: {exc}", None,
                             r.source_sha256)
            errors.append(err)
            say(f"{err.source_file}: error: {err.error}")
            continue
        built.append(r)
        for name, data in rows.items():
            corpus[name].extend(data)
        tree[folder_name(r)] = report_package(r, rows)
    reports = built
    if not reports:
        raise NothingBuilt(f"no report could be built from {len(files)} file(s); {len(errors)} error(s)")
    corpus["build_errors"] = [build_error_row(e.source_file, e.error, e.line, e.sha256) for e in errors]
    tree["jixiao"] = corpus_package(reports, corpus)

    counts = {name: len(data) for name, data in corpus.items()}
    if out:
        write_database(out, corpus)
    if packages:
        write_tree(packages, tree)
    result = BuildResult(
        reports=reports, errors=errors, counts=counts,
        parsed=sum(1 for r in results if not r.from_cache), cached=sum(1 for r in results if r.from_cache),
        duplicates=duplicates, seconds=time.perf_counter() - started, log=lines,
    )
    if out:
        write_log(Path(out).parent / "build.log", result)
    return result


def summary(result: BuildResult) -> str:
    rows = ", ".join(f"{k} {v}" for k, v in result.counts.items())
    return "\n".join([
        f"reports   {len(result.reports)} built ({result.parsed} parsed, {result.cached} from cache, "
        f"{result.duplicates} duplicate file(s) skipped)",
        f"rows      {rows}",
        f"warnings  {result.warnings}; unparsed lines {result.unparsed}; errors {len(result.errors)}",
        f"time      {result.seconds:.2f} s",
    ])


def write_log(path: Path, result: BuildResult) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([*result.log, summary(result)]) + "\n", encoding="utf-8")
