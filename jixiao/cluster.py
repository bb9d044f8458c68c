"""The build's per-report work on a Dask distributed cluster (``jixiao build --cluster ADDRESS``).

The local process pool stays the default (:func:`jixiao.jobs.run_jobs`); with a scheduler
address the same jobs go to :func:`jixiao.jobs.work` on the cluster's workers through the
``concurrent.futures`` executor that ``distributed.Client`` provides, and the outcomes come back
in job order to the one process that writes the database, as with the pool.

What a cluster needs (docs/scaling.md): every worker runs this same jixiao (checked before any job
is sent: :func:`jixiao.inputs.code_version` must match) and reads the input paths as the build
names them (a shared file system). The cache directory is an optimisation: a worker that cannot
write it builds anyway. A worker that dies is Dask's to handle (its tasks are rerun elsewhere);
a file whose task keeps killing workers, or fails on the cluster, is one build error.
"""
from __future__ import annotations

from collections import deque
from typing import Iterator


class ClusterError(Exception):
    """The cluster cannot run this build (unreachable scheduler, no workers, another jixiao)."""


def _worker_version() -> str:
    from .inputs import code_version

    return code_version()


def run_on_cluster(jobs: list[tuple], address: str, window: int | None = None,
                   connect_timeout: float = 30) -> Iterator:
    """Outcomes of ``work(*job)`` for each job, in job order, computed on the cluster at
    ``address`` (``tcp://host:8786``) or on a ``distributed`` Client/LocalCluster object given
    as ``address``. At most ``window`` jobs are in flight (default: 4 per worker thread), so
    results do not pile up in memory faster than the writer takes them."""
    from distributed import Client

    from .inputs import BuildError, cache_key, code_version
    from .jobs import Outcome, work

    if not jobs:
        return
    own = isinstance(address, str)
    try:
        client = Client(address, timeout=connect_timeout) if own else address
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
    try:
        try:
            client.wait_for_workers(1, timeout=connect_timeout)
        except TimeoutError as exc:
            raise ClusterError(f"the Dask cluster at {address} has no workers") from exc
        versions = set(client.run(_worker_version).values())
        if versions != {code_version()}:
            raise ClusterError(f"the cluster's workers run another jixiao (code versions {sorted(versions)}, "
                               f"this build {code_version()}): install the same version on every worker")
        threads = sum(client.nthreads().values()) or 1
        window = window or threads * 4
        executor = client.get_executor(pure=False)  # each job runs, even with equal arguments
        queue, pending = deque(jobs), deque()
        try:
            while queue or pending:
                while queue and len(pending) < window:
                    job = queue.popleft()
                    pending.append((job, executor.submit(work, *job)))
                job, fut = pending.popleft()
                try:
                    yield fut.result()
                except Exception as exc:  # noqa: BLE001 - KilledWorker, a worker's own failure …
                    path, sha = job[0], job[1]
                    meta = job[5] if len(job) > 5 else None
                    yield Outcome(path, sha, cache_key(path, sha, meta), None, BuildError(
                        path, f"not built: its task failed on the Dask cluster ({type(exc).__name__}: {exc})",
                        None, sha), False)
        finally:  # closed early (an error in the caller): drop what has not run
            for _, fut in pending:
                fut.cancel()
    finally:
        if own:
            client.close()
