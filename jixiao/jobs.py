"""The per-report work: parse and publish one file (or take its result from the cache) within its
time budget, in a local pool of worker processes that die with the build (a dead worker's files
are retried each in a process of its own), or on a Dask cluster (:mod:`jixiao.cluster`)."""
from __future__ import annotations

import os
import pickle
import shutil
import tempfile
import time
import unicodedata
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .budget import Budget, FileTimeout, in_worker_process
from .errors import ReportError
from .inputs import BuildError, cache_key, code_version
from .publish import Published


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


def _worker_init(parent: int) -> None:
    """In each worker process: die with the build. On Linux the kernel sends SIGKILL when the
    parent goes (PR_SET_PDEATHSIG); elsewhere a thread watches the parent's pid."""
    in_worker_process()
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
        with Budget(timeout):
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

    At most 64 jobs per worker are in flight: cached results come back faster than the
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
    # 64 per worker (~200 KB each, ~25 MB in all): the workers go on while the main process
    # writes a batch of 200 reports' search documents (with 4 they stood idle at every batch;
    # 2,000 reports: 16 → 64 took the build from 49.8–60.2 s to 47.5–47.9 s, two runs each)
    window = workers * 64
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
