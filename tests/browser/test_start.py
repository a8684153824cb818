"""/start/ in headless Chromium: catching up since a date, and "new since your last visit"."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from generator.build import BuildOptions, build
from tests.conftest import NOW, copy_site

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path: Path, serve_dir):
    """The weeks sample site (base path /kb/) behind a static server; returns (base URL, site)."""
    source = copy_site("weeks", tmp_path)
    result = build(BuildOptions(source=source, output=tmp_path / "www" / "kb", now=NOW))
    return serve_dir(tmp_path / "www") + "/kb", result.site


def test_catch_up_since_a_date_shows_exactly_the_entries_since_then(browser, served):
    base, site = served
    tz = site.config.tz
    page = browser.new_page()
    page.goto(base + "/start/")
    page.fill("#catchup-date", "2026-11-15")
    page.click("#catchup-form button[type=submit]")
    page.wait_for_selector(".catchup-summary")
    shown = page.eval_on_selector_all("#catchup-results li[data-url]", "els => els.map(e => e.dataset.url)")
    expected = [site.config.base_path + e.url.lstrip("/") for e in site.entries
                if e.date.astimezone(tz).date() >= date(2026, 11, 15)]
    assert sorted(shown) == sorted(expected)
    assert len(shown) == 5  # Sunday 23:40 and 23:50 in Shanghai count; Saturday's question does not
    weeks = page.eval_on_selector_all("#catchup-results .catchup-week", "els => els.map(e => e.dataset.week)")
    assert weeks == ["2026-W47", "2026-W46"]  # newest week first
    digest_link = page.get_attribute(".catchup-week[data-week='2026-W46'] .catchup-digest a", "href")
    assert digest_link == "/kb/digest/2026-W46/"
    assert page.url.endswith("/start/?since=2026-11-15")  # shareable
    page.close()


def test_a_second_visit_marks_entries_new_since_the_first(browser, served):
    base, site = served
    context = browser.new_context()
    first_visit = datetime.fromisoformat("2026-11-15T23:45:00+08:00")
    context.clock.set_fixed_time(first_visit)
    page = context.new_page()
    page.goto(base + "/")
    assert page.locator(".is-new").count() == 0  # nothing is "new" on a first visit
    page.close()

    context.clock.set_fixed_time(datetime.fromisoformat(NOW))  # days later: a new visit
    page = context.new_page()
    page.goto(base + "/")
    cards = page.eval_on_selector_all("[data-url][data-date]", "els => els.map(e => [e.dataset.url, e.classList.contains('is-new')])")
    dates = {e.url: e.date for e in site.entries}
    assert cards
    for url, is_new in cards:
        assert is_new == (dates[url] > first_visit), url
    assert any(n for _, n in cards) and not all(n for _, n in cards)
    assert page.locator(".is-new .status-new").first.inner_text() == "新"

    page.goto(base + "/start/")  # still the same visit: the marks stay, and "last visit" is offered
    assert page.locator("[data-last-visit]").is_visible()
    page.click("[data-last-visit]")
    page.wait_for_selector(".catchup-summary")
    marked = page.eval_on_selector_all("#catchup-results li.is-new", "els => els.map(e => e.dataset.url)")
    assert sorted(marked) == sorted(site.config.base_path + e.url.lstrip("/") for e in site.entries if e.date > first_visit)
    context.close()
