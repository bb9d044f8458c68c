"""`jixiao serve --workers N` (issue 16.3): N Datasette processes on one port, each the same site."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from .conftest import ROOT


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_two_worker_processes_serve_the_site(built):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "jixiao.cli", "serve", "--db", str(built.db), "--port", str(port),
                             "--workers", "2"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("jixiao serve --workers 2 exited: " + proc.stderr.read().decode()[-2000:])
                if time.monotonic() > deadline:
                    pytest.fail("jixiao serve --workers 2 did not start")
                time.sleep(0.3)
        rid = json.loads(urllib.request.urlopen(base + "/jixiao/reports.json?_shape=array&_size=1").read())[0]["report_id"]
        page = urllib.request.urlopen(base + "/report/" + urllib.parse.quote(rid)).read().decode()
        assert rid in page  # our plugins and templates, not stock Datasette
        assert len(_children(proc.pid)) >= 2  # uvicorn's supervisor and its two worker processes
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()

