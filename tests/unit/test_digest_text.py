"""kb digest formats: txt split into chat messages, md, e-mail HTML."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from generator.build import BuildOptions, load_site
from generator.core.errors import Problems
from generator.core.weeks import Week
from generator.derive.digest import week_digest
from generator.derive.digest_text import MESSAGE_SEPARATOR, digest_html, digest_md, digest_txt, split_messages
from generator.render import Renderer
from tests.conftest import NOW, copy_site

W46 = Week(2026, 46)
URL = re.compile(r"https?://\S+")


@pytest.fixture
def site(tmp_path: Path):
    return load_site(BuildOptions(source=copy_site("weeks", tmp_path), now=NOW), Problems(), {})


def test_split_messages_keeps_blocks_whole_and_under_the_limit():
    blocks = [f"{i}. " + "字" * 40 for i in range(10)]
    messages = split_messages(blocks, 120)
    assert len(messages) > 1
    assert all(len(m) <= 120 for m in messages)
    assert messages[0].startswith(f"（1/{len(messages)}）\n")
    joined = "\n".join(messages)
    for block in blocks:
        assert block in joined  # never cut in the middle


def test_one_message_when_it_fits():
    assert split_messages(["a", "b"], 100) == ["a\n\nb"]


def test_a_block_longer_than_a_message_is_cut_rather_than_dropped():
    messages = split_messages(["x" * 250], 100)
    assert all(len(m) <= 100 for m in messages)
    assert "".join(m.split("\n", 1)[1] for m in messages) == "x" * 250


def test_txt_numbers_items_with_absolute_urls_and_respects_the_limit(site):
    text = digest_txt(site, week_digest(site, W46))
    messages = text.rstrip("\n").split(MESSAGE_SEPARATOR)
    assert len(messages) > 1  # digest_message_limit: 300 in the sample site
    assert all(len(m) <= site.config.digest_message_limit for m in messages)
    numbers = [int(n) for n in re.findall(r"^(\d+)\. ", text, re.M)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) == 5
    # every numbered item is followed by its absolute URL on the next line
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if re.match(r"^\d+\. ", line):
            assert lines[i + 1].startswith("https://weeks.example.org/kb/")
    assert "<p>" not in text and "**" not in text
    assert "管理员寄语" in text


def test_md_has_links_and_escapes_titles(site):
    text = digest_md(site, week_digest(site, W46))
    assert text.startswith("# ")
    assert "[Title with \\<b\\>tags\\</b\\> & \"quotes\" and 符号](https://weeks.example.org/kb/highlights/utc-sunday/)" in text
    assert "> 本周的管理员寄语：谢谢大家。" in text


class _Audit(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.urls, self.styled = [], [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        self.urls += [v for k, v in attrs if k in ("href", "src")]
        self.styled += "style" in a


def test_html_is_an_email_page_with_inline_styles_and_absolute_links(site):
    html = digest_html(site, week_digest(site, W46), Renderer(site).render)
    audit = _Audit()
    audit.feed(html)
    assert "script" not in audit.tags and "link" not in audit.tags and "style" not in audit.tags
    assert audit.styled > 10
    assert audit.urls and all(u.startswith("https://weeks.example.org/kb/") for u in audit.urls)
    assert "周日深夜的讨论" in html and "管理员寄语" in html


def test_more_open_questions_than_shown_link_to_the_open_questions_page(tmp_path: Path):
    source = copy_site("weeks", tmp_path)
    for i in range(10):
        (source / f"content/qa/waiting-{i}.md").write_text(
            f"---\ntitle: 还没人回答 {i}\ndate: 2026-11-1{i % 5} 10:00\n---\n\n问题。\n", encoding="utf-8")
    site = load_site(BuildOptions(source=source, now=NOW), Problems(), {})
    digest = week_digest(site, W46)
    assert digest.open_total > len(digest.open_questions)
    open_page = site.config.absolute("/qa/open/")
    assert open_page in URL.findall(digest_txt(site, digest))
    assert f"({open_page})" in digest_md(site, digest)
