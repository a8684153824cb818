"""The fast path of `kb serve`: a saved entry's page from the last build, or None when a build must do."""
from __future__ import annotations

from pathlib import Path

import pytest

from generator.build import BuildOptions, Serving, build
from generator.commands.preview import MOST_FILES, CompiledTemplates, LastBuild, entry_sections, preview
from generator.render import THEME
from generator.speed.cache import BuildMemo
from tests.conftest import NOW

ASK = "content/qa/ask.md"


@pytest.fixture
def last(basic_site: Path) -> LastBuild:
    memo = BuildMemo()
    result = build(BuildOptions(source=basic_site, now=NOW), serving=Serving(memo))
    return LastBuild(result.site, dict(memo.related), frozenset(memo.sources))


def edit(site: Path, rel: str, old: str, new: str) -> None:
    path = site / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_saved_entry_page_shows_the_new_text_as_a_clean_build_would(basic_site, last):
    edit(basic_site, ASK, "多用搜索。", "多用站内搜索，先搜再问。")
    shown = preview(last, basic_site, {ASK})
    assert shown is not None and not shown.problems
    assert [f.path for f in shown.files] == ["qa/ask/index.html"]
    temporary = {"content/qa/4913", "content/qa/ask.md___jb_old___"}  # written and removed by vim, JetBrains
    assert preview(last, basic_site, {ASK} | temporary) == shown
    html = shown.files[0].data.decode("utf-8")
    assert "先搜再问" in html
    assert 'href="/kb/highlights/rules/#' in html  # the link to another entry's .md file, resolved
    build(BuildOptions(source=basic_site, now=NOW))
    assert shown.files[0].data == (basic_site / "output/qa/ask/index.html").read_bytes()


@pytest.mark.parametrize("old, new", [
    ("title: 怎样提一个好问题？\n", "title: 怎样提一个好问题？\nslug: ask-well\n"),  # the URL moves
    ("date: 2026-11-16 00:10", "date: 2026-11-10 00:10"),  # neighbours change
    ("tags: [ 群规 ]", "tags: [ 群规, 新标签 ]"),  # a tag page appears
    ("asker: carol\n", "asker: carol\ndraft: true\n"),  # the entry leaves the site
    ("多用搜索。", "多用搜索，见[草稿](../lessons/draft.md)。"),  # a link to a draft: only the whole site knows its URL
])
def test_changes_that_move_the_entry_or_touch_other_pages_need_a_build(basic_site, last, old, new):
    edit(basic_site, ASK, old, new)
    assert preview(last, basic_site, {ASK}) is None


def test_files_that_are_not_known_entries_need_a_build(basic_site, last):
    (basic_site / "content/qa/new.md").write_text("---\ntitle: 新\ndate: 2026-11-01\n---\n\n新的。\n", encoding="utf-8")
    assert preview(last, basic_site, {"content/qa/new.md"}) is None
    assert preview(last, basic_site, {ASK, "site_config.yaml"}) is None
    assert preview(last, basic_site, {"content/members.yaml"}) is None
    (basic_site / ASK).unlink()
    assert preview(last, basic_site, {ASK}) is None
    assert entry_sections({"content/qa/x.md"}, frozenset({"content/qa/x.md"})) == {"content/qa/x.md": "qa"}
    assert entry_sections(set(), frozenset()) is None
    many = {f"content/qa/{n}.md" for n in range(MOST_FILES + 1)}
    assert entry_sections(many, frozenset(many)) is None  # a checkout of another branch: one build


def test_a_front_matter_error_comes_back_at_once_with_its_line(basic_site, last):
    edit(basic_site, ASK, "title: 怎样提一个好问题？", "title: [怎样提一个好问题")
    shown = preview(last, basic_site, {ASK})
    assert shown is not None and not shown.files
    assert [str(p).split(": ")[0] for p in shown.problems] == [f"{ASK}:2"]


def test_a_save_that_changes_nothing_renders_nothing(basic_site, last):
    (basic_site / ASK).touch()
    shown = preview(last, basic_site, {ASK})
    assert shown is not None and shown.files == () and shown.problems == ()


def test_templates_compiled_for_one_save_are_reused_until_they_change(basic_site, last):
    compiled = CompiledTemplates()
    theme_entry = (THEME / "templates/entry.html").read_text(encoding="utf-8")
    override = basic_site / "templates/entry.html"
    override.parent.mkdir()
    for number in ("一", "二"):
        override.write_text(theme_entry.replace('<div class="prose">', f'<div class="prose v{number}">', 1), encoding="utf-8")
        edit(basic_site, ASK, "多用搜索", f"多用搜索{number}")
        html = preview(last, basic_site, {ASK}, compiled=compiled).files[0].data.decode()
        assert f"多用搜索{number}" in html and f'class="prose v{number}"' in html
        assert compiled.compiled
