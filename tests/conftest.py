"""Shared fixtures. The sample corpus (reports/) is built once per test session.

``built`` — a BuildResult for reports/ written to a temporary folder:
``built.db`` (jixiao.db), ``built.packages`` (datapackages), ``built.cache``.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "reports"


def pytest_collection_modifyitems(items):
    """The files marked ``heavy`` first, the rest in their order: `make test` hands whole files to
    parallel workers, and a long file handed out last would run on alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)


@dataclass
class Built:
    result: object  # jixiao.build.BuildResult
    db: Path
    packages: Path
    cache: Path


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Built:
    from jixiao.build import build

    out = tmp_path_factory.mktemp("build")
    db, packages, cache = out / "jixiao.db", out / "datapackages", out / "cache"
    result = build([REPORTS], out=db, packages=packages, cache_dir=cache, workers=2, progress=False)
    return Built(result, db, packages, cache)


async def site_for(db: Path):
    """Datasette in process, with our metadata, config, plugins and templates, on ``db``."""
    from jixiao.serve import Site, make_datasette

    datasette = make_datasette(Site(ROOT, db_path=db))
    await datasette.invoke_startup()
    return datasette


@pytest.fixture(scope="module")
def db(built):
    """The sample build's database, rows as sqlite3.Row."""
    import sqlite3

    con = connect(built.db)
    con.row_factory = sqlite3.Row
    yield con
    con.close()


@pytest.fixture
async def ds(built):
    """The site on the sample corpus, in process."""
    return await site_for(built.db)


def connect(db: Path, *args, **kwargs):
    """A connection to the database file ``db`` that reads its compressed texts and table grids
    (``jixiao_text``, jixiao/textstore.py), as the site's do."""
    import sqlite3

    from jixiao import textstore

    con = sqlite3.connect(db, *args, **kwargs)
    textstore.register(con)
    return con


def database(db: Path):
    """A sqlite_utils Database on ``db`` with the site's ``jixiao_text`` (see :func:`connect`)."""
    import sqlite_utils

    return sqlite_utils.Database(connect(db))


def query_rows(db: Path, sql: str, *params) -> list[dict]:
    """Rows of ``sql`` on the database file ``db`` as dicts."""
    import sqlite3

    con = connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql, params)]
    finally:
        con.close()


@contextmanager
def serving(db: Path, *args: str, start_timeout: float = 60):
    """A real ``jixiao serve --db <db> [args]`` process on a free 127.0.0.1 port; yields (base URL, process)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "jixiao.cli", "serve", "--db", str(db), "--port", str(port), *args],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + start_timeout
    try:
        while True:
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail("jixiao serve exited: " + proc.stderr.read().decode()[-2000:])
                if time.monotonic() > deadline:
                    pytest.fail(f"jixiao serve did not start in {start_timeout:.0f} s")
                time.sleep(0.2)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def running_site(db: Path, start_timeout: float = 60):
    """A real ``jixiao serve --db <db>`` process on a free 127.0.0.1 port; yields its base URL."""
    with serving(db, start_timeout=start_timeout) as (base, _):
        yield base


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def site_url(built):
    """A real ``jixiao serve`` on the sample build, shared by the browser tests; yields its URL."""
    with running_site(built.db) as base:
        yield base


@pytest.fixture(scope="module")
def chromium_browser():
    """Headless Debian Chromium (``make browser``) driven by Playwright (the test extra); the
    wheel's driver talks to the system browser, nothing is downloaded. Skips, saying why, when
    either is missing. One per test module: Playwright's sync API keeps an event loop running
    while it is open, which the async tests of later modules could not start beside."""
    import shutil

    path = shutil.which("chromium") or CHROMIUM
    if not Path(path).exists():
        pytest.skip("Chromium not found (/usr/bin/chromium); `make test` installs it with apt (Debian package chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright not installed; `make test` installs the test extra (pip install -e '.[test]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()
