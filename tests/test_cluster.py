"""The build's per-report work on a Dask distributed cluster (jixiao/cluster.py), tested on an
in-process LocalCluster: the same database as the local pool's, and a failing file is one error."""
from __future__ import annotations

import shutil

import pytest

from jixiao.build import build
from jixiao.jobs import work
from jixiao.cluster import ClusterError, run_on_cluster

from .conftest import REPORTS, database

distributed = pytest.importorskip("distributed")
SAMPLES = sorted(REPORTS.glob("*.txt"))


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as lc:
        with distributed.Client(lc) as c:
            yield c


def _rows(db):
    d = database(db)
    return {t: sorted(d.execute(f"select * from [{t}]").fetchall(), key=repr)
            for t in ("reports", "sections", "indicators", "findings", "table_cells")}


def test_cluster_build_equals_the_local_build(tmp_path, client):
    src = tmp_path / "in"
    src.mkdir()
    for s in SAMPLES[:3]:
        shutil.copy(s, src / s.name)
    (src / "broken.txt").write_bytes(b"\x00\x01 not a report")
    kw = dict(cache_dir=None, progress=False)
    on_cluster = build([src], out=tmp_path / "c" / "jixiao.db", packages=None, cluster=client, **kw)
    local = build([src], out=tmp_path / "l" / "jixiao.db", packages=None, workers=1, **kw)
    assert [r.report_id for r in on_cluster.reports] == [r.report_id for r in local.reports]
    assert len(on_cluster.reports) == 3 and [e.source_file for e in on_cluster.errors] == [str(src / "broken.txt")]
    assert on_cluster.counts == local.counts
    assert _rows(tmp_path / "c" / "jixiao.db") == _rows(tmp_path / "l" / "jixiao.db")


def test_outcomes_come_back_in_job_order(client):
    jobs = [(str(s), "0" * 64, None) for s in reversed(SAMPLES)]
    outcomes = list(run_on_cluster(jobs, client, window=2))
    assert [o.path for o in outcomes] == [j[0] for j in jobs]
    assert [o.published.report_id for o in outcomes] == [work(*j).published.report_id for j in jobs]


def test_an_unreachable_scheduler_is_one_clear_error():
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler"):
        list(run_on_cluster([("x.txt", "0" * 64, None)], "tcp://127.0.0.1:1", connect_timeout=2))
