"""`jixiao serve --workers N` (issue 16.3): N Datasette processes on one port, each the same site."""
from __future__ import annotations

import json
import subprocess
import urllib.parse
import urllib.request

from .conftest import serving


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_two_worker_processes_serve_the_site(built):
    with serving(built.db, "--workers", "2", start_timeout=90) as (base, proc):
        rid = json.loads(urllib.request.urlopen(base + "/jixiao/reports.json?_shape=array&_size=1").read())[0]["report_id"]
        page = urllib.request.urlopen(base + "/report/" + urllib.parse.quote(rid)).read().decode()
        assert rid in page  # our plugins and templates, not stock Datasette
        assert len(_children(proc.pid)) >= 2  # uvicorn's supervisor and its two worker processes

