"""The theme in a real browser: no sideways scrolling on phones, dark mode, focus, TOC anchors."""
from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
REPO = Path(__file__).parent.parent.parent




PAGES = ["/", "/highlights/group-rules/", "/qa/newcomer-silence/", "/tags/", "/members/", "/members/lin-xiao/", "/archive/", "/archive/2026/"]


@pytest.mark.parametrize("width", [390, 1280])
def test_pages_fit_the_screen(browser, serve_dir, example_output, width):
    base = serve_dir(example_output)
    page = browser.new_page(viewport={"width": width, "height": 800})
    for url in PAGES:
        response = page.goto(base + url)
        assert response.status == 200, url
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{url} scrolls sideways by {overflow}px at {width}px"
        assert page.evaluate("getComputedStyle(document.body).fontFamily").find("PingFang SC") >= 0
    page.close()


def test_dark_mode_follows_the_system(browser, serve_dir, example_output):
    base = serve_dir(example_output)
    colors = {}
    for scheme in ("light", "dark"):
        page = browser.new_page(color_scheme=scheme)
        page.goto(base + "/")
        colors[scheme] = page.evaluate("getComputedStyle(document.body).backgroundColor")
        page.close()
    assert colors["light"] != colors["dark"]
    assert colors["dark"] == "rgb(21, 23, 26)"


def test_toc_link_scrolls_to_a_chinese_heading(browser, serve_dir, example_output):
    base = serve_dir(example_output)
    page = browser.new_page(viewport={"width": 390, "height": 700})
    page.goto(base + "/highlights/group-rules/")
    page.click(".toc a >> nth=1")
    target = page.evaluate("decodeURIComponent(location.hash)")
    assert target == "#广告与推广"
    top = page.evaluate("document.getElementById('广告与推广').getBoundingClientRect().top")
    assert 0 <= top < 200
    page.close()


def test_skip_link_is_first_and_focus_is_visible(browser, serve_dir, example_output):
    base = serve_dir(example_output)
    page = browser.new_page()
    page.goto(base + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.close()
