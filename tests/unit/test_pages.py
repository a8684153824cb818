"""The browsing pages of the basic sample site, read back as parsed HTML."""
from generator.derive.pages import paginated
from tests.helpers import page


def test_paginated_urls_and_links():
    pages = paginated("/qa/", list(range(5)), 2)
    assert [url for url, _, _ in pages] == ["/qa/", "/qa/page/2/", "/qa/page/3/"]
    assert pages[1][2].prev_url == "/qa/" and pages[1][2].next_url == "/qa/page/3/"
    assert pages[0][2].prev_url is None and pages[2][2].next_url is None
    assert pages[2][2].urls == ("/qa/", "/qa/page/2/", "/qa/page/3/")  # for templates that number their links
    assert paginated("/qa/", [], 2)[0][1] == []


def test_every_contract_page_exists(built_basic):
    output, result = built_basic
    for url in ["/", "/highlights/", "/qa/", "/lessons/", "/highlights/rules/", "/qa/ask/", "/tags/",
                "/tags/community/", "/tags/群规/", "/members/", "/members/alice/", "/archive/"]:
        assert page(output, url).find("h1"), url
    for name in ["404.html", "sitemap.xml", "robots.txt", "assets/kb.css"]:
        assert (output / name).is_file(), name
    assert not (output / "lessons/draft").exists() and not (output / "lessons/future").exists()


def test_home_shows_pinned_latest_and_counts(built_basic):
    output, _ = built_basic
    home = page(output, "/")
    assert [a.get_text() for a in home.select(".pinned-list a")] == ["群规"]
    assert home.find("html")["lang"] == "zh-CN"
    counts = [li.get_text(" ", strip=True) for li in home.select(".stats-row li")]
    assert counts[:3] == ["2 精华", "2 问答", "1 经验分享"]
    assert home.find("link", rel="canonical")["href"] == "https://test.example.org/kb/"
    assert home.find("link", rel="stylesheet")["href"] == "/kb/assets/kb.css"


def test_entry_page_meta_and_links(built_basic):
    output, _ = built_basic
    doc = page(output, "/highlights/rules/")
    assert doc.find("h1").get_text() == "群规"
    assert doc.find("meta", property="og:title")["content"] == "群规 · 测试社群"
    assert doc.find("meta", property="og:type")["content"] == "article"
    assert doc.find("link", rel="canonical")["href"] == "https://test.example.org/kb/highlights/rules/"
    assert doc.select_one(".prose a")["href"] == "/kb/qa/ask/"
    assert [a.get_text() for a in doc.select(".byline a")] == ["爱丽丝"]
    assert doc.select_one(".prose p").get_text() == "不发广告，不刷屏。"
    assert doc.find("time")["datetime"] == "2026-11-02T09:00:00+08:00"


def test_qa_page_lists_accepted_answer_first(built_basic):
    output, _ = built_basic
    doc = page(output, "/qa/ask/")
    answers = doc.select(".answer")
    assert len(answers) == 2 and "is-accepted" in answers[0]["class"]
    assert answers[0].select_one(".person").get_text() == "爱丽丝"
    assert answers[0].select_one(".prose a")["href"] == "/kb/highlights/rules/#发言规范"
    open_doc = page(output, "/qa/open-question/")
    assert open_doc.select_one(".entry-header .status-open")
    assert open_doc.select_one(".notice")


def test_tags_fold_case_and_list_their_entries(built_basic):
    output, _ = built_basic
    doc = page(output, "/tags/community/")
    assert doc.find("h1").get_text() == "#Community"
    assert doc.select_one(".page-header p").get_text() == "2 篇"
    titles = [a.get_text() for a in doc.select(".card-title a") + page(output, "/tags/community/page/2/").select(".card-title a")]
    assert titles == ["十一月线下活动复盘", "群规"]


def test_section_pagination(built_basic):
    output, _ = built_basic
    first, second = page(output, "/highlights/"), page(output, "/highlights/page/2/")
    assert [a.get_text() for a in first.select(".card-title a")] == ["十一月线下活动复盘"]
    assert first.select_one('.pager a[rel="next"]')["href"] == "/kb/highlights/page/2/"
    assert [a.get_text() for a in second.select(".card-title a")] == ["群规"]
    assert second.select_one('.pager a[rel="prev"]')["href"] == "/kb/highlights/"


def test_member_page_lists_what_they_wrote_asked_and_answered(built_basic):
    output, _ = built_basic
    alice = page(output, "/members/alice/")
    assert alice.find("h1").get_text() == "爱丽丝"
    stats = [li.get_text(" ", strip=True) for li in alice.select(".stats-row li")]
    assert stats == ["1 精华", "0 经验分享", "0 提的问题", "1 回答", "1 已采纳"]
    bob = page(output, "/members/bob/")
    assert [li.get_text(" ", strip=True) for li in bob.select(".stats-row li")][:4] == ["1 精华", "0 经验分享", "1 提的问题", "1 回答"]


def test_sitemap_lists_pages_with_absolute_urls(built_basic):
    import xml.etree.ElementTree as ET

    output, _ = built_basic
    root = ET.parse(output / "sitemap.xml").getroot()
    locs = [el.text for el in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert "https://test.example.org/kb/qa/ask/" in locs
    assert all(loc.startswith("https://test.example.org/kb/") for loc in locs)
    assert "Sitemap: https://test.example.org/kb/sitemap.xml" in (output / "robots.txt").read_text()


def test_archive_lists_years_and_months_and_a_page_per_year(built_basic):
    output, _ = built_basic
    overview = page(output, "/archive/")
    years = [h.get_text(" ", strip=True) for h in overview.select("main h2")]
    assert years == ["2026 年 4 篇", "2025 年 1 篇"]
    months = {a.get_text(" ", strip=True): a["href"] for a in overview.select(".archive-months a")}
    assert months == {"11 月 4": "/kb/archive/2026/#m-2026-11", "11 月 1": "/kb/archive/2025/#m-2025-11"}

    year = page(output, "/archive/2026/")
    assert [h.get_text(" ", strip=True) for h in year.select("main h2")] == ["2026 年 11 月 4"]
    assert year.select_one("#m-2026-11")  # where the overview's month links point
    assert [a.get_text() for a in year.select(".archive-list a")] == [
        "机器人会被封号吗？", "怎样提一个好问题？", "十一月线下活动复盘", "群规"]  # newest first
    assert year.select_one("a[rel=next]")["href"] == "/kb/archive/2025/" and not year.select_one("a[rel=prev]")
    older = page(output, "/archive/2025/")
    assert [a.get_text() for a in older.select(".archive-list a")] == ["场地选错的教训"]
    assert older.select_one("a[rel=prev]")["href"] == "/kb/archive/2026/" and not older.select_one("a[rel=next]")
