"""Feeds: parse cleanly in a real feed reader, absolute links, right dates, stable bytes."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest

from generator.build import BuildOptions, build, load_site
from generator.core.errors import Problems
from generator.derive.feeds import feed_bytes, page_alternates
from tests.conftest import NOW, copy_site

BASE = "https://weeks.example.org/kb/"


@pytest.fixture
def built_weeks(tmp_path: Path) -> Path:
    site = copy_site("weeks", tmp_path)
    build(BuildOptions(source=site, now=NOW))
    return site / "output"


def parsed(path: Path):
    feed = feedparser.parse(path.read_bytes())
    assert feed.bozo == 0, f"{path}: {feed.get('bozo_exception')}"
    return feed


def all_feeds(output: Path) -> list[Path]:
    return sorted(p for p in output.rglob("*.xml") if p.name in ("feed.xml", "atom.xml"))


def test_every_feed_parses_without_error_and_links_absolutely(built_weeks):
    feeds = all_feeds(built_weeks)
    names = {p.relative_to(built_weeks).as_posix() for p in feeds}
    assert {"feed.xml", "atom.xml", "highlights/feed.xml", "qa/feed.xml", "lessons/feed.xml",
            "digest/feed.xml", "tags/活跃度/feed.xml", "tags/a&b/feed.xml"} <= names
    for path in feeds:
        feed = parsed(path)
        assert feed.feed.link.startswith(BASE)
        for entry in feed.entries:
            assert entry.link.startswith(BASE), (path, entry.link)
            assert entry.id.startswith(BASE)
            for content in entry.get("content", []):
                for attr in ("href", "src"):
                    for value in _attributes(content.value, attr):
                        assert urlsplit(value).scheme in ("http", "https"), (path, value)


def _attributes(html: str, name: str) -> list[str]:
    from html.parser import HTMLParser

    found: list[str] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.extend(v for k, v in attrs if k == name and v is not None)

    Collector().feed(html)
    return found


def test_titles_with_markup_characters_survive(built_weeks):
    for name in ("feed.xml", "atom.xml"):
        feed = parsed(built_weeks / name)
        titles = [e.title for e in feed.entries]
        assert 'Title with <b>tags</b> & "quotes" and 符号' in titles
        assert feed.feed.title == '全部内容 · 周边测试 <群> & "朋友"'


def test_relative_links_and_images_are_made_absolute(built_weeks):
    feed = parsed(built_weeks / "feed.xml")
    entry = next(e for e in feed.entries if e.title == "周日深夜的讨论")
    html = entry.content[0].value
    assert "https://weeks.example.org/kb/lessons/monday-early/" in _attributes(html, "href")
    # a root-relative path is resolved as on the page itself: from the host, like the browser does
    assert set(_attributes(html, "src")) == {"https://weeks.example.org/kb/highlights/sunday-late/pic.png",
                                             "https://weeks.example.org/images/root.png"}
    other = next(e for e in feed.entries if e.title.startswith("Title with"))
    assert _attributes(other.content[0].value, "href") == ["https://weeks.example.org/kb/highlights/sunday-late/"]


def test_dates_keep_their_instant_and_the_site_offset(built_weeks):
    feed = parsed(built_weeks / "atom.xml")
    entry = next(e for e in feed.entries if e.title == "UTC Sunday evening is Monday in Shanghai")
    assert entry.published == "2026-11-16T04:30:00+08:00"
    rss = parsed(built_weeks / "feed.xml")
    entry = next(e for e in rss.entries if e.title == "周日深夜的讨论")
    assert entry.published == "Sun, 15 Nov 2026 23:40:00 +0800"


def test_newest_first(built_weeks):
    feed = parsed(built_weeks / "feed.xml")
    stamps = [datetime(*e.published_parsed[:6]) for e in feed.entries]
    assert stamps == sorted(stamps, reverse=True)
    assert len(stamps) == 9


def test_qa_content_includes_answers_and_authors(built_weeks):
    feed = parsed(built_weeks / "qa/feed.xml")
    entry = next(e for e in feed.entries if e.title == "周日问的问题，下周才有人回答")
    assert "第 47 周回答" in entry.content[0].value
    assert entry.author in ("鲍勃", "爱丽丝")


def test_digest_feed_never_holds_the_week_in_progress(built_weeks):
    feed = parsed(built_weeks / "digest/feed.xml")
    links = [e.link for e in feed.entries]
    assert links == [BASE + "digest/2026-W46/", BASE + "digest/2025-W46/"]  # W47 is in progress
    assert feed.entries[0].id == BASE + "digest/2026-W46/"
    content = feed.entries[0].content[0].value
    assert "周日深夜的讨论" in content and "管理员寄语" in content
    assert BASE + "highlights/sunday-late/" in _attributes(content, "href")
    # published when the week closed: Monday 00:00 in the site's timezone
    assert feed.entries[0].published == "Mon, 16 Nov 2026 00:00:00 +0800"


@pytest.mark.parametrize("now, newest", [
    ("2026-11-22T23:59:59+08:00", "2026-W46"),  # Sunday night: W47 is still in progress
    ("2026-11-23T00:00:00+08:00", "2026-W47"),  # Monday 00:00 in Shanghai: W47 is complete
    ("2026-11-22T16:00:00+00:00", "2026-W47"),  # the same instant written in UTC
])
def test_digest_feed_gains_the_week_once_it_is_over(tmp_path: Path, now: str, newest: str):
    site = copy_site("weeks", tmp_path)
    build(BuildOptions(source=site, now=now))
    feed = parsed(site / "output" / "digest/feed.xml")
    assert feed.entries[0].link == BASE + f"digest/{newest}/"


def test_two_builds_give_identical_feed_bytes(tmp_path: Path):
    site = copy_site("weeks", tmp_path)
    first = build(BuildOptions(source=site, output=tmp_path / "a", now=NOW))
    build(BuildOptions(source=site, output=tmp_path / "b", now="2026-11-21T18:00:00+08:00"))
    for path in all_feeds(tmp_path / "a"):
        rel = path.relative_to(tmp_path / "a")
        assert path.read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    again = build(BuildOptions(source=site, output=tmp_path / "a", now=NOW))
    assert again.write.written == 0 and first.write.written > 0


def test_feed_limit_and_summaries_only(tmp_path: Path):
    site_dir = copy_site("weeks", tmp_path)
    config = site_dir / "site_config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("feed_limit: 50", "feed_limit: 3\nfeed_full_content: false"), encoding="utf-8")
    build(BuildOptions(source=site_dir, now=NOW))
    feed = parsed(site_dir / "output" / "feed.xml")
    assert len(feed.entries) == 3
    assert all("content" not in e for e in feed.entries)
    assert all(e.summary for e in feed.entries)


def test_feed_bytes_is_reusable_for_any_list_of_entries(tmp_path: Path):
    site = load_site(BuildOptions(source=copy_site("weeks", tmp_path), now=NOW), Problems(), {})
    open_questions = [e for e in site.entries if e.question and e.question.is_open]
    data = feed_bytes(site, "待解答", "/qa/open/feed.xml", open_questions, page_url="/qa/open/")
    feed = feedparser.parse(data)
    assert feed.bozo == 0
    assert [e.title for e in feed.entries] == ["至今没人回答的问题"]
    assert any(link.href == BASE + "qa/open/feed.xml" and link.rel == "self" for link in feed.feed.links)


def test_pages_link_their_own_feed_first(tmp_path: Path):
    site = load_site(BuildOptions(source=copy_site("weeks", tmp_path), now=NOW), Problems(), {})
    assert page_alternates(site, "/qa/x/")[0][1] == "/qa/feed.xml"
    assert page_alternates(site, "/tags/a&b/")[0][1] == "/tags/a&b/feed.xml"
    assert page_alternates(site, "/digest/2026-W46/")[0][1] == "/digest/feed.xml"
    assert [url for _, url in page_alternates(site, "/")] == ["/feed.xml", "/atom.xml", "/digest/feed.xml"]


def test_every_html_page_declares_its_feeds(built_weeks):
    from html.parser import HTMLParser

    class Alternates(HTMLParser):
        def __init__(self):
            super().__init__()
            self.hrefs = []

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "link" and a.get("rel") == "alternate":
                self.hrefs.append(a["href"])

    pages = [p for p in built_weeks.rglob("index.html")]
    assert len(pages) > 10
    for page in pages:
        parser = Alternates()
        parser.feed(page.read_text(encoding="utf-8"))
        assert BASE + "feed.xml" in parser.hrefs, page
        assert BASE + "atom.xml" in parser.hrefs, page
    tag_page = Alternates()
    tag_page.feed((built_weeks / "tags" / "a&b" / "index.html").read_text(encoding="utf-8"))
    assert tag_page.hrefs[0] == BASE + "tags/a&b/feed.xml"


def test_control_characters_pasted_from_a_chat_do_not_break_feeds(tmp_path: Path):
    site = copy_site("weeks", tmp_path)
    (site / "content" / "lessons" / "pasted.md").write_text(
        '---\ntitle: "粘贴来的\\b标题"\ndate: 2026-11-18 10:00\n---\n\n聊天记录里的\x08退格符。\n', encoding="utf-8")
    build(BuildOptions(source=site, now=NOW))
    feed = parsed(site / "output" / "feed.xml")
    entry = next(e for e in feed.entries if e.link == BASE + "lessons/pasted/")
    assert entry.title == "粘贴来的标题"
