import time
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup

from generator.commands.cli import main
from generator.core.dates import parse_when
from generator.stages.markdown.limits import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_LINK_WORK,
    MAX_MARKER_RUN,
    MAX_NESTING_WORK,
    limit_problems,
)
from generator.stages.parse import MarkdownRenderer, parse_document
from generator.stages.sources import SourceFile
from tests.conftest import NOW

TZ = ZoneInfo("Asia/Shanghai")


def doc(text: str, section: str = "highlights", path: str | None = None):
    path = path or f"content/{section}/x.md"
    return parse_document(SourceFile(path, section, text, "digest"), MarkdownRenderer(), TZ)


def messages(d) -> list[str]:
    return [str(p) for p in d.problems]


def test_front_matter_and_markdown():
    d = doc("---\ntitle: 标题\ndate: 2026-11-03 21:30\ntags: [A, b]\nauthors: alice, bob\n---\n\n正文\n第二行\n")
    assert d.ok
    assert d.front.title == "标题"
    assert d.front.date.isoformat() == "2026-11-03T21:30:00+08:00"
    assert d.front.tags == ("A", "b")
    assert d.front.authors == ("alice", "bob")
    assert d.html == "<p>正文第二行</p>"


def test_chinese_headings_get_working_anchors():
    d = doc("---\ntitle: t\ndate: 2026-01-01\n---\n## 发言规范\n\n### Python 入门：第一步\n")
    assert [(h.level, h.id, h.text) for h in d.toc] == [(2, "发言规范", "发言规范"), (3, "python-入门第一步", "Python 入门：第一步")]
    assert '<h2 id="发言规范">' in d.html


def test_headings_match_the_stock_toc_extension_and_a_literal_toc_marker_stays_text():
    import markdown

    body = "## 同名\n\n## 同名\n\n#### 深一层 *强调*\n\n##### 太深\n\n# 顶层\n\n[TOC]\n"
    d = doc("---\ntitle: t\ndate: 2026-01-01\n---\n" + body)
    assert [(h.level, h.id) for h in d.toc] == [(2, "同名"), (2, "同名_1"), (4, "深一层-强调")]
    assert "<p>[TOC]</p>" in d.html  # not replaced by a table of contents
    stock = MarkdownRenderer()
    stock.md = markdown.Markdown(extensions=["attr_list", "toc"], extension_configs={"toc": {
        "slugify": stock.md.treeprocessors["toc"].slugify, "toc_depth": "2-4"}})
    mine = MarkdownRenderer()
    sample = body.replace("[TOC]", "")
    assert mine.render(sample, "content/qa", 1)[:2] == stock.render(sample, "content/qa", 1)[:2]


def test_markdown_features():
    body = "| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nprint(1)\n```\n\n脚注[^1]\n\n[^1]: 注释\n\n!!! note \"提示\"\n    内容\n\n- [x] 完成\n- [ ] 未完成\n"
    d = doc("---\ntitle: t\ndate: 2026-01-01\n---\n" + body)
    html = d.html
    assert "<table>" in html and 'class="highlight"' in html and 'class="footnote"' in html
    assert 'class="admonition note"' in html
    assert html.count('type="checkbox"') == 2 and "checked" in html


def test_link_to_entry_file_becomes_placeholder_with_line():
    d = doc("---\ntitle: t\ndate: 2026-01-01\n---\n\n见[群规](../../qa/rules.md#发言规范)。\n", path="content/highlights/sub/x.md")
    assert 'href="kb:content/qa/rules.md#发言规范"' in d.html
    assert d.links == (("content/qa/rules.md#发言规范", 6),)


def test_external_links_get_noopener_and_scripts_do_not_run():
    d = doc('---\ntitle: t\ndate: 2026-01-01\n---\n[x](https://a.org) <script>alert(1)</script> <img src=x onerror="alert(1)"> [y](javascript:alert(1))\n')
    assert 'rel="noopener"' in d.html
    assert "<script" not in d.html and "onerror" not in d.html and "javascript:" not in d.html


@pytest.mark.parametrize("text,expected", [
    ("---\ntitle: t\n", 'content/highlights/x.md:1: front matter is not closed'),
    ("no front matter\n", 'content/highlights/x.md:1: missing front matter'),
    ("---\ntitle: [unclosed\ndate: 2026-01-01\n---\n", "content/highlights/x.md:2: invalid YAML: the [ … ] opened here"),
    ("---\ndate: 2026-01-01\n---\n", 'content/highlights/x.md:1: missing "title"'),
    ("---\ntitle: t\n\ndate: 2026-02-30\n---\n", 'content/highlights/x.md:4: "date": impossible date "2026-02-30"'),
    ("---\ntitle: t\ndate: yesterday\n---\n", 'content/highlights/x.md:3: "date": "yesterday" is not a date'),
    ("---\ntitle: t\ndate: 2026-01-01\nslug: ../etc\n---\n", 'content/highlights/x.md:4: slug "../etc" must be one path segment'),
    ("---\ntitle: t\ndate: 2026-01-01\ntags: {a: 1}\n---\n", 'content/highlights/x.md:4: "tags" must be a list'),
    ("---\ntitle: t\ndate: 2026-01-01\ndraft: yes please\n---\n", 'content/highlights/x.md:4: "draft" must be true or false'),
])
def test_front_matter_errors_name_the_line(text, expected):
    d = doc(text)
    assert not d.ok
    assert any(m.startswith(expected) for m in messages(d)), messages(d)


def test_unknown_key_is_a_warning_with_suggestion():
    d = doc("---\ntitle: t\ndate: 2026-01-01\ntagz: [a]\n---\n")
    assert d.ok
    assert messages(d) == ['content/highlights/x.md:4: warning: unknown front matter key "tagz" (did you mean "tags"?)']


def test_question_and_answers_are_split():
    text = ("---\ntitle: 问\ndate: 2026-11-03 21:30\nasker: carol\n---\n\n问题正文\n\n```\n## 回答 @not-an-answer\n```\n\n"
            "## 回答 @alice 2026-11-04 已采纳\n\n采纳的回答\n\n## Answer @bob 2026-11-05 10:30\n\nsecond\n\n## 回答 2\n\n**回答者：** @carol\n\n第三个\n")
    d = doc(text, section="qa")
    assert d.ok, messages(d)
    assert "not-an-answer" in d.html
    assert [(a.author, a.accepted, a.line) for a in d.answers] == [("alice", True, 13), ("bob", False, 17), ("carol", False, 21)]
    assert d.answers[1].date.isoformat() == "2026-11-05T10:30:00+08:00"
    assert d.answers[2].html == "<p>第三个</p>"
    assert "采纳的回答" in d.text


def test_two_accepted_answers_are_an_error():
    d = doc("---\ntitle: q\ndate: 2026-01-01\n---\n## 回答 @a 已采纳\nx\n## 回答 @b accepted\ny\n", section="qa")
    assert messages(d) == ["content/qa/x.md:7: more than one answer is marked accepted: keep 已采纳 on one"]


def test_dates_with_offsets_are_converted_to_site_time():
    assert parse_when("2026-11-15T16:00:00Z", TZ).isoformat() == "2026-11-16T00:00:00+08:00"
    assert parse_when("2026-11-3 9:05", TZ).isoformat() == "2026-11-03T09:05:00+08:00"


def test_headings_that_merely_start_with_answer_words_are_not_answers():
    d = doc("---\ntitle: q\ndate: 2026-01-01\n---\n## 答疑流程\n\n## 回答这个问题前\n\n## Answers we liked\n\n## 回答：@a\n\nok\n", section="qa")
    assert [a.author for a in d.answers] == ["a"]
    assert [h.text for h in d.toc] == ["答疑流程", "回答这个问题前", "Answers we liked"]


INLINE_SAMPLE = """# 标题 *强调*

""" + "\n\n".join([  # first one construct a paragraph: each text has only that pattern's characters
    "**留存**", "__活跃度__", "*斜体*", "_下划线_", "`代码`", "\\*转义\\*", "硬换行  \n之后", "[链接](other.md#a)",
    "[引用][ref]", "[ref]", "![图](a.png)", "![引用图][ref]", "<https://example.org/x>", "<someone@example.org>",
    "<span>行内 HTML</span>", "&amp; 与 &copy;", "脚注[^1]", "a*b*c 和 2 * 3 * 4", "snake_case_name", "纯文字，没有标记。",
    # several kinds in one text, and patterns nested in others' matches
    "**[粗链接](other.md)** 与 `a*b` 与 <span>*斜*</span> &amp; \\[不是链接\\]", "[`代码` 与 *强调*](y.md)  \n_后_",
    "***粗斜*** 和 __*混合*__ 和 ![**图**](p.png) 和 [^1] 和 <https://example.org/*x*>",
]) + """

| 列 | **粗** |
| - | - |
| [a](b.md) | 纯文字 |

- [ ] 任务 *一*
- 列表项
  续行

[ref]: https://example.org/ref
[^1]: 脚注的 **内容**。
"""


def test_the_quick_inline_processor_gives_python_markdowns_html():
    import markdown

    quick, stock = MarkdownRenderer(), MarkdownRenderer()
    stock.md.treeprocessors.register(markdown.treeprocessors.InlineProcessor(stock.md), "inline", 20)
    assert quick.render(INLINE_SAMPLE, "content/qa", 1)[0] == stock.render(INLINE_SAMPLE, "content/qa", 1)[0]
    assert "<strong>留存</strong>" in quick.render(INLINE_SAMPLE, "content/qa", 1)[0]
    # The shortcut is on: every registered pattern is known (a Markdown upgrade adding one turns it off)
    assert quick.md.treeprocessors["inline"].patterns is not None
    assert hasattr(markdown.treeprocessors.InlineProcessor, "_InlineProcessor__handleInline")


# Tags whose content an HTML parser or the sanitiser takes with them (raw text, foreign content,
# elements removed whole), tags it would drop with their words, and lone tags that reshape what follows.
SWALLOWING = ["script", "style", "template", "textarea", "title", "xmp", "noembed", "noframes", "iframe",
              "plaintext", "noscript", "select", "option", "svg", "math", "object", "button", "form", "marquee",
              "listing", "desc", "annotation-xml", "head", "body", "html", "my-widget", "SCRIPT",
              "p", "div", "pre", "table", "li", "kbd", "details"]


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


@pytest.mark.parametrize("tag", SWALLOWING)
@pytest.mark.parametrize("where", ["inline", "line start"])
def test_a_tag_written_about_is_shown_and_the_rest_of_the_entry_survives(tag, where):
    said = f"the <{tag}> tag" if where == "inline" else f"<{tag}> is a tag"
    d = doc(f"---\ntitle: t\ndate: 2026-01-01\n---\n\n开头。\n\n{said}, **as written**.\n\n- 列表\n\n## 后面\n\n最后一段。\n")
    page = soup(d.html)
    assert d.ok and [p.get_text() for p in page.find_all("p")] == ["开头。", f"{said}, as written.", "最后一段。"]
    assert page.find("strong").get_text() == "as written" and page.find("li").get_text() == "列表"
    assert [h.get_text() for h in page.find_all("h2")] == ["后面"]
    assert {element.name for element in page.find_all()} == {"p", "strong", "ul", "li", "h2"}
    assert "最后一段" in d.text


@pytest.mark.parametrize("written", ["<!-- 没写完的注释", "<![CDATA[ x ]]>", "<?php echo 1 ?>", "<!DOCTYPE html>", "</script>", "</>"])
def test_markup_a_parser_would_read_to_its_end_is_shown_as_text(written):
    d = doc(f"---\ntitle: t\ndate: 2026-01-01\n---\n\n{written}\n\n写在 {written} 之后。\n\n最后一段。\n")
    shown = [line for line in soup(d.html).get_text().split("\n") if line]
    assert shown == [written, f"写在 {written} 之后。", "最后一段。"]


def test_a_complete_script_is_text_never_an_element_and_comments_stay_hidden():
    d = doc("---\ntitle: t\ndate: 2026-01-01\n---\n\n<script>alert(1)</script>\n\n说 <style>p{}</style> 和 <!-- 备注 --> 完。\n")
    page = soup(d.html)
    assert page.find("script") is None and page.find("style") is None
    assert [p.get_text() for p in page.find_all("p")] == ["<script>alert(1)</script>", "说 <style>p{}</style> 和  完。"]


def test_allowed_html_that_is_complete_is_kept_and_code_stays_code():
    d = doc("---\ntitle: t\ndate: 2026-01-01\n---\n\n按 <kbd>Ctrl</kbd>，换行<br>再说 `<script>` 与 `</kbd>`。\n\n"
            "<details>\n<summary>更多</summary>\n内容\n</details>\n\n```html\n<style>\n```\n")
    page = soup(d.html)
    assert page.find("kbd").get_text() == "Ctrl" and page.find("br") is not None
    assert [c.get_text() for c in page.find_all("code")] == ["<script>", "</kbd>", "<style>\n"]
    assert page.find("details").find("summary").get_text() == "更多"


def test_a_site_that_trusts_raw_html_keeps_it_as_written():
    renderer = MarkdownRenderer(trusted_html=True)
    d = parse_document(SourceFile("content/highlights/x.md", "highlights",
                                  "---\ntitle: t\ndate: 2026-01-01\n---\n\n<div>\n<script src=\"/w.js\"></script>\n</div>\n\nthe <p> tag\n",
                                  "digest"), renderer, TZ)
    page = soup(d.html)
    assert page.find("script")["src"] == "/w.js" and page.find("div") is not None
    assert "&lt;" not in d.html


def test_the_built_page_shows_every_word_after_a_tag_and_check_is_clean(basic_site, capsys):
    (basic_site / "content/lessons/tags.md").write_text(
        "---\ntitle: 讲标签\ndate: 2026-11-01\n---\n\n页面里的 <script> 标签和 <style> 标签要放在哪里？\n\n"
        "<template> 也一样。\n\n## 结论\n\n放在最后。\n", encoding="utf-8")
    assert main(["check", "--source", str(basic_site), "--now", NOW]) == 0
    assert main(["build", "--source", str(basic_site), "--now", NOW]) == 0
    capsys.readouterr()
    prose = soup((basic_site / "output/lessons/tags/index.html").read_text(encoding="utf-8")).find("div", class_="prose")
    assert [p.get_text() for p in prose.find_all("p")] == ["页面里的 <script> 标签和 <style> 标签要放在哪里？", "<template> 也一样。", "放在最后。"]
    assert prose.find("h2").get_text().strip() == "结论" and prose.find("script") is None


@pytest.mark.parametrize("slug,message", [
    ("a?b#c", 'slug "a?b#c" has "?", "#", which would break its links or its folder on some systems: write slug: a-b-c'),
    ("a%2Fb", 'slug "a%2Fb" has "%", which would break its links or its folder on some systems: write slug: a-2fb'),
    ("x:y*z|w", 'slug "x:y*z|w" has ":", "*", "|", which would break its links or its folder on some systems: write slug: x-y-z-w'),
    ("v1.", 'slug "v1." has a final ".", which would break its links or its folder on some systems: write slug: v1'),
    ("'?'", 'slug "?" has "?", which would break its links or its folder on some systems: use letters, digits and "-"'),
])
def test_a_slug_with_url_reserved_characters_is_an_error_with_a_suggestion(slug, message):
    d = doc(f"---\ntitle: t\ndate: 2026-01-01\nslug: {slug}\n---\n")
    assert messages(d) == [f"content/highlights/x.md:4: {message}"] and not d.front.slug


@pytest.mark.parametrize("slug", ["社群-运营", "a&b", "c++", "x<b>", "v1.2", "_under_", "emoji-🎉"])
def test_slugs_a_url_can_hold_are_kept(slug):
    d = doc(f"---\ntitle: t\ndate: 2026-01-01\nslug: '{slug}'\n---\n")
    assert d.ok and d.front.slug == slug


def body_problems(body: str) -> list[str]:
    return [str(p) for p in limit_problems(body, "content/lessons/x.md", 6)]


def test_a_file_just_under_each_limit_passes_the_scan():
    deep = "\n".join("    " * level + "- x" for level in range(MAX_DEPTH))
    quoted = "\n".join(["> - " * (MAX_DEPTH // 2) + "x"] * (MAX_NESTING_WORK // MAX_DEPTH))
    links = " ".join(["[a](b)"] * int((MAX_LINK_WORK / 7) ** 0.5))
    runs = "*_" * (MAX_MARKER_RUN // 2)
    for body in (deep, quoted, links, runs, "- [x](y)\n" * 5000, "```\n" + "[" * 5000 + "\n```\n"):
        assert body_problems(body) == []


def test_each_limit_names_the_line_the_limit_and_the_fix():
    assert body_problems("一\n\n" + "> " * (MAX_DEPTH + 1) + "x\n") == [
        f"content/lessons/x.md:8: lists, quotes or indentation nested {MAX_DEPTH + 1} levels deep; at most {MAX_DEPTH}: "
        "flatten it, or break it into lists or quotes one after another"]
    lines = MAX_NESTING_WORK // 20 + 1
    assert body_problems("\n".join(["> - " * 10 + "x"] * lines)) == [
        f"content/lessons/x.md:6: lists and quotes nested 20 levels deep here, and {lines * 20:,} levels over all the "
        f"file's lines (a line 10 deep counts 10), more than the {MAX_NESTING_WORK:,} kb takes: flatten them, or split the file"]
    paragraph = " ".join(["[a](b)"] * 1000)
    assert body_problems("一\n\n" + paragraph + "\n\n二\n") == [
        f"content/lessons/x.md:8: 1,000 links, brackets or HTML tags in one paragraph of {len(paragraph):,} characters: "
        f"the time to render grows with their number × the characters, and this file comes to {1000 * len(paragraph):,}, "
        f"more than the {MAX_LINK_WORK:,} kb takes; put the links in a list, one an item, or split the paragraph or the file"]
    assert body_problems("x\n" + "*_" * 600 + "\n") == [
        'content/lessons/x.md:7: 1,200 "*" and "_" in a row; at most 1,000: put them in a code span (`…`) or break the run with spaces']


@pytest.mark.parametrize("shape", [
    "\n".join("    " * level + "- x" for level in range(1000)),  # the 1,000 levels (2 MB)
    " ".join(f"[a{i}](http://x.org/{i})" for i in range(2000)),  # the 2,000 links
    ">" * 5000 + " x",
    "[" * 200_000,
    "*_" * 100_000 + "x" + "_*" * 100_000,
    "一" * 400_000,
])
def test_a_file_past_a_limit_is_refused_before_markdown_runs(shape):
    started = time.perf_counter()
    d = doc("---\ntitle: t\ndate: 2026-01-01\n---\n\n" + shape + "\n")
    assert not d.ok and d.html == "" and time.perf_counter() - started < 1


def test_a_file_too_big_is_refused_with_its_size(tmp_path):
    d = doc("---\ntitle: t\ndate: 2026-01-01\n---\n\n" + "一" * (MAX_FILE_BYTES // 3 + 10) + "\n")
    assert messages(d) == [f"content/highlights/x.md:1: the file is {(MAX_FILE_BYTES + 30 + 38) / 1000:,.0f} kB; "
                           f"an entry may be at most {MAX_FILE_BYTES // 1000} kB: split it into several entries"]
