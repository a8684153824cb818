"""Community pages in Chromium: phone width, charts readable in light and dark, data tables open."""
from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
REPO = Path(__file__).parent.parent.parent




@pytest.mark.parametrize("width", [390, 1280])
def test_community_pages_fit_the_screen(browser, serve_dir, example_output, width):
    base = serve_dir(example_output)
    page = browser.new_page(viewport={"width": width, "height": 800})
    for url in ("/stats/", "/qa/open/", "/members/", "/members/zhou-mumu/"):
        assert page.goto(base + url).status == 200, url
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{url} scrolls sideways by {overflow}px at {width}px"
    page.close()


def test_chart_text_stays_readable_on_a_phone(browser, serve_dir, example_output):
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto(serve_dir(example_output) + "/stats/")
    sizes = page.evaluate("""[...document.querySelectorAll('.chart-svg text')]
        .map(t => t.getBoundingClientRect().height).filter(h => h > 0)""")
    assert sizes and min(sizes) >= 9, f"chart labels {min(sizes):.1f}px high"
    widths = page.evaluate("[...document.querySelectorAll('.chart-svg')].map(s => s.getBoundingClientRect().right)")
    assert len(widths) == 8 and max(widths) <= 390
    page.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_charts_follow_the_colour_scheme(browser, serve_dir, example_output, scheme):
    page = browser.new_page(viewport={"width": 1280, "height": 800}, color_scheme=scheme)
    page.goto(serve_dir(example_output) + "/stats/")
    colours = page.evaluate("""(() => {
        const bar = document.querySelector('#contributors-per-week .bar');
        const label = document.querySelector('#contributors-per-week .axis-label');
        return {bar: getComputedStyle(bar).fill, label: getComputedStyle(label).fill,
                page: getComputedStyle(document.body).backgroundColor, text: getComputedStyle(document.body).color};
    })()""")
    assert colours["label"] == colours["text"]  # axis text is the page's own text colour
    assert colours["bar"] != colours["page"]
    expected_bar = {"light": "rgb(180, 69, 31)", "dark": "rgb(240, 138, 93)"}[scheme]
    assert colours["bar"] == expected_bar
    page.close()


def test_each_chart_opens_its_data_table(browser, serve_dir, example_output):
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto(serve_dir(example_output) + "/stats/")
    table = page.locator("#top-tags table")
    assert not table.is_visible()
    page.locator("#top-tags summary").click()
    assert table.is_visible()
    rows = table.locator("tbody tr").count()
    assert rows == page.locator("#top-tags .bar").count() > 0
    page.close()
