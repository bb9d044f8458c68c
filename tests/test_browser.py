"""A real browser: headless Debian Chromium (Playwright, fixtures in conftest) against
`jixiao serve` on the real build.

Home → the search form → 调解 → a hit's report page → the comparison page. Checks the text a
person sees and that the charts were drawn (an ECharts <canvas> with a non-zero size after the
page's JavaScript ran). The journalist's tasks and the page widths: test_journalist_browser.py.

Skipped, with the reason, when Chromium or Playwright is missing (`make test` installs both).
"""
from __future__ import annotations

import re

import pytest


@pytest.fixture
def page(chromium_browser):
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


def drawn_charts(page) -> list[tuple[float, float]]:
    """(width, height) of each canvas ECharts drew, once every chart on the page is drawn."""
    page.wait_for_function("() => [...document.querySelectorAll('div.chart')].every(c => c.dataset.rendered)")
    boxes = [c.bounding_box() for c in page.locator("div.chart[data-rendered='1'] canvas").all()]
    return [(b["width"], b["height"]) for b in boxes]


def test_home_search_report_compare(page, site_url):
    page.goto(site_url + "/")
    assert "绩效自评报告开放数据" in page.locator("h1").first.inner_text()

    page.locator("form.big-search input[name=q]").fill("调解")
    with page.expect_navigation():
        page.locator("form.big-search button[type=submit]").click()
    text = page.locator("body").inner_text()
    assert "共找到" in text and "调解" in text
    assert page.locator("mark", has_text="调解").count() > 0

    # a hit's report page (not its source line): /report/<id>, with or without a #section
    report_link = page.locator(".hit a[href^='/report/']").filter(has_not_text="原文").first
    href = report_link.get_attribute("href")
    assert re.fullmatch(r"/report/[^/#]+(#s-\d+)?", href), href
    with page.expect_navigation():
        report_link.click()
    text = page.locator("body").inner_text()
    for words in ("关键数字", "预算执行率", "三公经费", "报告正文", "SHA-256", "数据包"):
        assert words in text, words
    assert "调解" in text  # the hit is on this page
    if page.locator("#chart-three-public").count():
        charts = drawn_charts(page)
        assert charts and all(w > 0 and h > 0 for w, h in charts)

    page.goto(site_url + "/compare")
    text = page.locator("body").inner_text()
    for words in ("比较各单位", "关键指标并列对比", "预算执行率排名", "单位历年变化"):
        assert words in text, words
    charts = drawn_charts(page)
    assert len(charts) >= 5 and all(w > 0 and h > 0 for w, h in charts)
