"""The URL scheme: every URL the contract lists, made in one module, links and absolute URLs under base_url."""
from __future__ import annotations

from bs4 import BeautifulSoup

from generator.config import SiteConfig
from generator.core.weeks import SUNDAY, Week
from generator.model import urls


def test_every_url_of_the_contract_comes_from_the_scheme():
    assert [urls.HOME, urls.entry("qa", "x"), urls.section("qa"), urls.page(urls.section("qa"), 2)] == [
        "/", "/qa/x/", "/qa/", "/qa/page/2/"]
    assert urls.page(urls.tag("群规"), 1) == "/tags/群规/" and urls.tag_feed("x") == "/tags/x/feed.xml"
    assert [urls.TAGS, urls.MEMBERS, urls.member("alice"), urls.DIGESTS, urls.DIGEST_FEED] == [
        "/tags/", "/members/", "/members/alice/", "/digest/", "/digest/feed.xml"]
    assert [urls.START, urls.SEARCH, urls.OPEN_QUESTIONS, urls.OPEN_QUESTIONS_FEED, urls.STATS] == [
        "/start/", "/search/", "/qa/open/", "/qa/open/feed.xml", "/stats/"]
    assert [urls.FEED, urls.ATOM, urls.section_feed("lessons"), urls.SITEMAP, urls.NOT_FOUND] == [
        "/feed.xml", "/atom.xml", "/lessons/feed.xml", "/sitemap.xml", "/404.html"]
    assert urls.archive_year(2026) == "/archive/2026/" and urls.asset("kb.css") == "/assets/kb.css"


def test_a_digest_url_is_its_weeks_label_whatever_day_the_week_starts_on():
    assert urls.digest(Week(2026, 47)) == urls.digest(Week(2026, 47, SUNDAY)) == urls.digest("2026-W47") == "/digest/2026-W47/"


def test_the_area_of_a_page_says_whose_feed_it_has():
    assert urls.area("/qa/x/") == urls.area("/qa/page/2/") == urls.area(urls.OPEN_QUESTIONS) == ("section", "qa")
    assert urls.area("/tags/x/page/3/") == ("tag", "x") and urls.area("/tags/") == ("tags", "")
    assert urls.area("/digest/2026-W47/") == ("digest", "") and urls.area("/") == ("", "")


def test_links_and_absolute_urls_are_under_the_base_path_and_encoded_once():
    config = SiteConfig(base_url="https://x.org/kb/")
    assert urls.link(config.base_path, "/tags/群规/") == "/kb/tags/%E7%BE%A4%E8%A7%84/"
    assert urls.link("/kb/", "/tags/%E7%BE%A4%E8%A7%84/") == "/kb/tags/%E7%BE%A4%E8%A7%84/"
    assert [urls.link("/kb/", u) for u in ("https://o.org/", "#top", "mailto:a@b.c")] == ["https://o.org/", "#top", "mailto:a@b.c"]
    assert urls.absolute(config, "/tags/群规/") == "https://x.org/kb/tags/%E7%BE%A4%E8%A7%84/"


def _attributes(html: str, name: str) -> list[str]:
    return [tag[name] for tag in BeautifulSoup(html, "html.parser").find_all(attrs={name: True})]


def test_absolute_links_leave_external_and_special_links_alone():
    config = SiteConfig(base_url="https://x.org/kb/")
    html = ('<a href="https://other.org/a">x</a><a href="mailto:a@b.c">m</a><a href="#h">h</a>'
            '<a href="../y/">y</a><img src="/kb/img/%E5%9B%BE.png">')
    out = urls.absolute_links(html, "/qa/z/", config)
    assert _attributes(out, "href") == ["https://other.org/a", "mailto:a@b.c", "https://x.org/kb/qa/z/#h", "https://x.org/kb/qa/y/"]
    assert _attributes(out, "src") == ["https://x.org/kb/img/%E5%9B%BE.png"]
