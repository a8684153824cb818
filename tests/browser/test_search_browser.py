"""Search in headless Chromium on the example site: Chinese words inside unspaced sentences,
traditional characters, mixed queries, no results for words found nowhere, the header box with
the keyboard, filters, phones, and untrusted text that must stay text."""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest

from generator.build import BuildOptions, build
from generator.core.tokens import CJK_CLASS, load_folding
from generator.derive.search import IndexReader, doc_entries, normalized_text
from tests.conftest import NOW, SITES

REPO = Path(__file__).parent.parent.parent
CJK = re.compile(f"[{CJK_CLASS}]")

# query → entries that must be among the first 5 results. In each of them every Chinese word of
# the query occurs only inside a longer unspaced sentence (checked by test_query_set_is_honest).
QUERIES: dict[str, list[str]] = {
    "押金": ["/lessons/chengdu-first-month/", "/qa/meetup-no-show/", "/lessons/first-meetup-2024/"],
    "冷场": ["/lessons/ama-playbook/", "/highlights/autumn-2024-digest/"],
    "续费率": ["/highlights/dispute-pricing-debate/", "/qa/paid-group-pricing/"],
    "禁言": ["/highlights/autumn-2024-digest/", "/qa/mute-or-remove/", "/highlights/group-rules/"],
    "广告号": ["/highlights/threshold-night-talk/", "/highlights/spam-bot-cleanup/"],
    "封号": ["/qa/wechat-bot-risk/", "/highlights/feishu-vs-wechat/"],
    "权限": ["/qa/feishu-wiki-permission/", "/lessons/notion-to-feishu/", "/lessons/handover-checklist/"],
    "腰斩": ["/qa/checkin-drop/"],
    "口径": ["/qa/newcomer-silence/", "/highlights/monthly-review-2026-10/", "/highlights/mid-year-2025/"],
    "割韭菜": ["/highlights/dispute-pricing-debate/"],
    "新加坡": ["/lessons/chengdu-first-month/", "/qa/seed-users-new-chapter/"],
    "结课": ["/lessons/python-study-group/", "/qa/python-study-which-book/"],
    "卸任": ["/lessons/volunteer-burnout/", "/lessons/handover-checklist/"],
    "门槛": ["/highlights/threshold-night-talk/", "/qa/newcomer-silence/"],
    "群公告": ["/lessons/newcomer-week/", "/lessons/ama-playbook/"],
    "违规": ["/qa/member-self-promo/", "/highlights/group-rules/"],
    "种子用户": ["/lessons/chengdu-first-month/", "/qa/seed-users-new-chapter/"],
    "嘉宾": ["/highlights/ama-qin-laoshi/", "/highlights/autumn-2024-digest/"],
    "潛水": ["/highlights/lurker-bubbling/", "/qa/newcomer-silence/", "/highlights/新人必读/"],  # traditional
    "續費率": ["/highlights/dispute-pricing-debate/", "/qa/paid-group-pricing/"],  # traditional
    "飞书 权限": ["/qa/feishu-wiki-permission/", "/lessons/notion-to-feishu/", "/lessons/handover-checklist/"],
    "冒泡 门槛": ["/qa/newcomer-silence/"],
    "Python 入门": ["/lessons/python-study-group/"],
    "NOTION 飞书": ["/lessons/notion-to-feishu/"],
    '"割韭菜"': ["/highlights/dispute-pricing-debate/"],
    "每天在群里发一张和孩子读书的照片": ["/qa/checkin-drop/"],  # a pasted sentence: 6 of its 15 bigrams fetched
}
NOWHERE = ["量子纠缠", "押金 量子纠缠", "區塊鏈", "zzyzx"]


@pytest.fixture(scope="module")
def example(example_build):
    output, result = example_build
    return output, result.site


def reader_of(output: Path) -> IndexReader:
    root = output / "search"
    return IndexReader({p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.bin")})


def search_page(browser, base: str, query: str, width: int = 1280, **params: str):
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: errors.append("dialog: " + dialog.message))
    extra = "".join(f"&{k}={quote(v)}" for k, v in params.items())
    page.goto(f"{base}/search/?q={quote(query)}{extra}")
    page.wait_for_selector("form[data-search-done]", state="attached", timeout=15_000)
    return page, errors


def result_urls(page) -> list[str]:
    hrefs = page.eval_on_selector_all("#kb-results .search-result-title", "els => els.map(e => e.getAttribute('href'))")
    return [re.sub(r"^https?://[^/]+", "", h) for h in hrefs]


def test_query_set_is_honest(example):
    """Every expected entry holds every word, each Chinese word only inside a longer unspaced run."""
    _, site = example
    folding = load_folding()
    by_url = {e.url: e for e in site.entries}
    assert len(QUERIES) >= 20
    for query, expected in QUERIES.items():
        words = [w.strip('"') for w in query.split()]
        for url in expected:
            entry = by_url[url]
            text = normalized_text(entry.title + "\n" + entry.text, folding)
            for word in words:
                word = normalized_text(word, folding)
                spots = [m.start() for m in re.finditer(re.escape(word), text)]
                assert spots, f"{url} lacks {word}"
                if CJK.match(word):
                    for at in spots:
                        before, after = text[at - 1:at], text[at + len(word):at + len(word) + 1]
                        assert CJK.match(before or " ") or CJK.match(after or " "), f"{word} stands alone in {url}"
    for query in NOWHERE:
        assert reader_of(example[0]).search(query) == []


@pytest.mark.browser
def test_every_expected_entry_is_in_the_first_five(browser, serve_dir, example):
    output, _ = example
    base = serve_dir(output)
    reader = reader_of(output)
    misses = []
    for query, expected in QUERIES.items():
        page, errors = search_page(browser, base, query)
        top = result_urls(page)[:5]
        assert errors == [], (query, errors)
        misses += [(query, url, top) for url in expected if url not in top]
        marks = page.eval_on_selector_all("#kb-results mark", "els => els.map(e => e.textContent)")
        assert marks, f"no highlighted words for {query}"
        status = page.inner_text("[data-search-status]")
        total = len(reader.search(query))
        assert str(total) in status, (query, status, total)  # the count matches the reference reader
        page.close()
    assert misses == []


@pytest.mark.browser
@pytest.mark.parametrize("query", NOWHERE)
def test_words_found_nowhere_show_no_results(browser, serve_dir, example, query):
    page, errors = search_page(browser, serve_dir(example[0]), query)
    assert result_urls(page) == []
    assert page.eval_on_selector_all("#kb-results li", "els => els.length") == 0
    assert page.inner_text("[data-search-status]").strip() != ""
    assert errors == []
    page.close()


@pytest.mark.browser
def test_results_show_title_section_date_and_highlighted_excerpt(browser, serve_dir, example):
    page, _ = search_page(browser, serve_dir(example[0]), "腰斩")
    first = page.locator("#kb-results .search-result").first
    assert first.locator(".search-result-title").inner_text() == "21 天打卡活动，第二周参与人数就腰斩了，正常吗？"
    assert first.locator(".search-result-section").inner_text() == "问答"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", first.locator("time").get_attribute("datetime"))
    assert first.locator(".search-result-title mark").inner_text() == "腰斩"
    page.close()
    page, _ = search_page(browser, serve_dir(example[0]), "潛水")  # traditional query, simplified text
    assert set(page.eval_on_selector_all("#kb-results mark", "els => els.map(e => e.textContent)")) == {"潜水"}
    page.close()


@pytest.mark.browser
def test_filters_by_section_and_tag_and_the_url_keeps_them(browser, serve_dir, example):
    base = serve_dir(example[0])
    page, _ = search_page(browser, base, "押金")
    assert any(u.startswith("/lessons/") for u in result_urls(page))
    page.select_option("select[name=section]", "qa")
    page.wait_for_function("() => location.search.includes('section=qa')")
    page.wait_for_function("() => [...document.querySelectorAll('#kb-results .search-result-title')].every(a => a.getAttribute('href').includes('/qa/'))")
    assert result_urls(page) == ["/qa/meetup-no-show/"]
    page.close()
    page, _ = search_page(browser, base, "", tag="python")
    assert set(result_urls(page)) == {"/lessons/python-study-group/", "/qa/python-study-which-book/"}
    page.close()
    page, _ = search_page(browser, base, "腰斩")  # a tag under a result filters by it
    page.locator("#kb-results button.search-result-tag", has_text="#读书会").click()
    page.wait_for_function("() => location.search.includes('tag=')")
    assert page.locator("select[name=tag]").input_value() == "读书会"
    page.close()


@pytest.mark.browser
def test_equal_hits_rank_newer_first_as_the_python_reader_ranks_them(browser, serve_dir, example):
    """Doc ids are oldest first (a new entry adds an id): the browser and IndexReader must both turn that around."""
    output, site = example
    page, errors = search_page(browser, serve_dir(output), "", section="qa")
    shown = result_urls(page)
    newest_first = [e.url for e in site.in_section("qa")]
    assert len(shown) >= 3 and shown == newest_first[:len(shown)]
    assert [doc_entries(site)[d].url for d in reader_of(output).search("", section="qa")] == newest_first
    assert not errors
    page.close()


@pytest.mark.browser
def test_arrow_keys_and_enter_on_the_search_page(browser, serve_dir, example):
    page, _ = search_page(browser, serve_dir(example[0]), "禁言")
    box = page.locator("form[data-search-page] input[name=q]")
    box.press("ArrowDown")
    box.press("ArrowDown")
    second = page.locator("#kb-results .search-result").nth(1)
    assert second.get_attribute("aria-selected") == "true"
    target = second.locator(".search-result-title").get_attribute("href")
    box.press("Enter")
    page.wait_for_url("**" + target)
    page.close()


@pytest.mark.browser
def test_header_box_suggests_as_you_type_and_the_keyboard_opens_a_result(browser, serve_dir, example):
    base = serve_dir(example[0])
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(base + "/")
    box = page.locator("header input[name=q]")
    box.click()
    box.press_sequentially("割韭", delay=30)
    page.wait_for_selector("#kb-suggest .search-result")
    assert page.locator("#kb-suggest").is_visible()
    box.press("ArrowDown")
    assert page.locator("#kb-suggest .search-result").first.get_attribute("aria-selected") == "true"
    assert box.get_attribute("aria-activedescendant") == "kb-suggest-0"
    box.press("Enter")
    page.wait_for_url("**/highlights/dispute-pricing-debate/")
    page.close()


@pytest.mark.browser
def test_enter_without_a_choice_opens_the_search_page(browser, serve_dir, example):
    base = serve_dir(example[0])
    page = browser.new_page()
    page.goto(base + "/qa/")
    page.locator("header input[name=q]").fill("python")
    page.locator("header input[name=q]").press("Enter")
    page.wait_for_url("**/search/?q=python")
    page.wait_for_selector("form[data-search-done]", state="attached")
    assert "/qa/python-study-which-book/" in result_urls(page)
    page.close()


@pytest.mark.browser
def test_search_works_on_a_phone(browser, serve_dir, example):
    page, _ = search_page(browser, serve_dir(example[0]), "新加坡", width=390)
    assert len(result_urls(page)) == 2
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.close()
    page = browser.new_page(viewport={"width": 390, "height": 800}, is_mobile=True, has_touch=True)
    page.goto(serve_dir(example[0]) + "/")
    page.locator("header input[name=q]").tap()
    page.locator("header input[name=q]").fill("门槛")
    page.wait_for_selector("#kb-suggest .search-result")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.close()


@pytest.mark.browser
def test_untrusted_titles_and_tags_stay_text(browser, serve_dir, tmp_path):
    source = tmp_path / "site"
    shutil.copytree(SITES / "search", source)
    build(BuildOptions(source=source, now=NOW, base_url="http://127.0.0.1/"))
    page, errors = search_page(browser, serve_dir(source / "output"), "尖括号")
    title = page.locator("#kb-results .search-result-title").first
    assert title.inner_text().startswith("</script><script>alert('x')</script>")
    assert page.eval_on_selector_all("#kb-results script, #kb-results b", "els => els.length") == 0
    page.close()
    page, more_errors = search_page(browser, serve_dir(source / "output"), "报名表")
    assert page.locator("#kb-results .search-result-tag").first.inner_text() == "#<img src=x onerror=alert(1)>"
    assert page.eval_on_selector_all("#kb-results img", "els => els.length") == 0
    assert errors == more_errors == []
    page.close()
