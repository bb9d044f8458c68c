"""A real browser: headless Debian Chromium against `datasette serve` on the real build.

Home → the search form → 调解 → the first hit's report page → the comparison page. Checks the
text a person sees and that the charts were drawn (an ECharts <canvas> with a non-zero size
after the page's JavaScript ran). Screenshots go to build/screenshots/.

Skipped, with the reason, when /usr/bin/chromium is missing (`make test` installs it).
"""
from __future__ import annotations

import html
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from jixiao.serve import Site, datasette_args, ensure_inspect

from .conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "build" / "screenshots"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--virtual-time-budget=8000", "--window-size=1280,1800"]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="Chromium not found (/usr/bin/chromium); `make test` installs it with apt (Debian package chromium)",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(built, tmp_path_factory):
    site = Site(ROOT, db_path=built.db)
    ensure_inspect(site.db, site.inspect_file)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "datasette", *datasette_args(site, port=port)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/robots.txt", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail("datasette exited: " + proc.stderr.read().decode()[-2000:])
            time.sleep(0.1)
    yield base
    proc.terminate()
    proc.wait(timeout=10)


def chromium(url: str, *args: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, url],
                              capture_output=True, timeout=90)
    return done.stdout.decode("utf-8", "replace")


def visit(url: str, shot: str) -> str:
    """The DOM after JavaScript ran, and a screenshot of the page."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    chromium(url.split("#")[0], f"--screenshot={SHOTS / shot}")  # the top of the page
    assert (SHOTS / shot).stat().st_size > 20_000, f"{shot} looks blank"
    return chromium(url, "--dump-dom")


def visible_text(dom: str) -> str:
    dom = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", dom)
    return html.unescape(re.sub(r"<[^>]+>", " ", dom))


def drawn_charts(dom: str) -> list[tuple[int, int]]:
    """(width, height) of each canvas ECharts drew inside a rendered chart."""
    sizes = []
    for chart in re.findall(r'(?s)<div class="chart"[^>]*data-rendered="1".*?</canvas>', dom):
        m = re.search(r'<canvas[^>]*width="(\d+)"[^>]*height="(\d+)"', chart)
        if m:
            sizes.append((int(m[1]), int(m[2])))
    return sizes


def test_home_search_report_compare(server):
    home = visit(server + "/", "home.png")
    assert "绩效自评报告开放数据" in visible_text(home)
    form = re.search(r'<form class="big-search" action="([^"]+)"', home)
    assert form and 'name="q"' in home

    search = visit(server + form[1] + "?" + urllib.parse.urlencode({"q": "调解"}), "search.png")
    text = visible_text(search)
    assert "共找到" in text and "【调解】" in text
    assert "<mark>【调解】</mark>" in search
    first_hit = re.search(r'<a class="hit-title" href="([^"]+)"', search)
    assert first_hit

    report = visit(server + html.unescape(first_hit[1]), "report.png")
    text = visible_text(report)
    for words in ("关键数字", "预算执行率", "三公经费", "报告正文", "SHA-256", "数据包"):
        assert words in text, words
    assert "调解" in text  # the hit is on this page
    if 'data-chart-for="chart-three-public"' in report:
        assert drawn_charts(report) and all(w > 0 and h > 0 for w, h in drawn_charts(report))

    compare = visit(server + "/compare", "compare.png")
    text = visible_text(compare)
    for words in ("比较各单位", "关键指标并列对比", "预算执行率排名", "单位历年变化"):
        assert words in text, words
    charts = drawn_charts(compare)
    assert len(charts) >= 5 and all(w > 0 and h > 0 for w, h in charts)
