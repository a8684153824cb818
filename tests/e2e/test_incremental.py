"""A cached build's output is byte-identical to a clean build's, edit after edit."""
from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from generator.build import BuildOptions, build
from generator.render import THEME, Renderer
from generator.speed import plan, terms, unchanged
from generator.speed.cache import CACHE_DIR
from generator.speed.fingerprint import PACKAGE
from tests.conftest import NOW, copy_example_site
from tests.helpers import page, tree


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def edit_body(site: Path) -> None:
    _replace(site / "content/qa/ask.md", "多用搜索。", "多用搜索，再看精华区。")


def edit_title(site: Path) -> None:
    _replace(site / "content/highlights/rules.md", "title: ", "title: 新版 ")


def add_tag(site: Path) -> None:
    _replace(site / "content/qa/open-question.md", "tags: [机器人]", "tags: [机器人, 新标签]")


def remove_tag(site: Path) -> None:
    _replace(site / "content/qa/open-question.md", "tags: [机器人, 新标签]", "tags: [机器人]")


def rename_member(site: Path) -> None:
    members = site / "content/members.yaml"
    text = members.read_text(encoding="utf-8")
    name = next(line for line in text.splitlines() if line.strip().startswith("name:"))
    members.write_text(text.replace(name, name + "（改名）", 1), encoding="utf-8")


def delete_entry(site: Path) -> None:
    (site / "content/qa/open-question.md").unlink()


def change_template(site: Path) -> None:
    (site / "templates/partials").mkdir(parents=True, exist_ok=True)
    card = (THEME / "templates/partials/entry_card.html").read_text(encoding="utf-8")
    (site / "templates/partials/entry_card.html").write_text(card.replace('class="card', 'class="card custom'), encoding="utf-8")


def change_config(site: Path) -> None:
    _replace(site / "site_config.yaml", "title: ", "title: 改名后的")


def add_entry(site: Path) -> None:
    (site / "content/lessons/new-one.md").write_text(
        "---\ntitle: 新的一篇\ndate: 2026-11-20 09:00\ntags: [群规]\nauthors: [alice]\n---\n\n链接到[群规](../highlights/rules.md)。\n",
        encoding="utf-8")


def add_older_entry(site: Path) -> None:
    """Older than most: it takes a doc id in the middle, so the search and term index renumber."""
    (site / "content/lessons/old-one.md").write_text(
        "---\ntitle: 旧的一篇\ndate: 2025-01-05 09:00\ntags: [群规]\n---\n\n群规第一版，关于广告和刷屏。\n",
        encoding="utf-8")


def move_entry_in_time(site: Path) -> None:
    _replace(site / "content/highlights/rules.md", "date: 2026-11-02 09:00", "date: 2025-06-02 09:00")


def touch_entry(site: Path) -> None:
    """A change that leaves every token as it was (the entry's digest changes, its postings do not)."""
    _replace(site / "content/qa/ask.md", "多用搜索，再看精华区。", "多用搜索，再看精华区。 ")


EDITS = [edit_body, edit_title, add_tag, remove_tag, rename_member, add_entry, add_older_entry, touch_entry,
         move_entry_in_time, delete_entry, change_template, change_config]


def clean_build(site: Path, tmp: Path, now: str = NOW) -> dict[str, bytes]:
    fresh = tmp / "clean"
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(site, fresh, ignore=shutil.ignore_patterns(CACHE_DIR, "output"))
    build(BuildOptions(source=fresh, now=now, cache=False))
    return tree(fresh / "output")


@pytest.fixture
def settled_at_once(monkeypatch):
    """File stamps count as settled at once, so that every build here may be skipped by the next."""
    monkeypatch.setattr(unchanged, "SETTLE_NS", 0)


def test_cached_builds_match_clean_builds_edit_after_edit(basic_site, tmp_path, settled_at_once):
    build(BuildOptions(source=basic_site, now=NOW))
    assert (basic_site / CACHE_DIR).is_dir()
    for edit in EDITS:
        edit(basic_site)
        result = build(BuildOptions(source=basic_site, now=NOW))
        assert tree(basic_site / "output") == clean_build(basic_site, tmp_path), f"after {edit.__name__}"
        assert result.write is not None
        if edit is not touch_entry:
            assert result.write.written + result.write.removed > 0, f"{edit.__name__} changed nothing"


def test_a_body_edit_rewrites_only_the_pages_that_show_it(basic_site):
    build(BuildOptions(source=basic_site, now=NOW))
    before = tree(basic_site / "output")
    edit_body(basic_site)
    result = build(BuildOptions(source=basic_site, now=NOW))
    after = tree(basic_site / "output")
    changed = sorted(path for path in after if after[path] != before.get(path))
    assert "qa/ask/index.html" in changed
    assert "members/index.html" not in changed and "404.html" not in changed
    assert result.write.written == len(changed)
    assert "再看精华区" in page(basic_site / "output", "/qa/ask/").get_text()


def test_after_an_edit_files_output_holds_as_they_are_are_given_without_their_bytes(basic_site, tmp_path, monkeypatch):
    """The search files (keyed by their bodies), the start page's index (by its bytes): kept, not sent or compared."""
    from generator.derive import search

    monkeypatch.setattr(search, "shard_count", lambda postings: 16)  # as many files as a large site has, nearly
    monkeypatch.setattr(search, "BUNDLE", 1)
    build(BuildOptions(source=basic_site, now=NOW))
    edit_body(basic_site)
    given: list = []
    real = plan.FastStages.written
    monkeypatch.setattr(plan.FastStages, "written", lambda self, site, rendered, problems: (
        given.extend(rendered.files), real(self, site, rendered, problems))[1])
    build(BuildOptions(source=basic_site, now=NOW))
    search = {f.path: f.data for f in given if f.path.startswith("search/")}
    sent = sorted(path for path, data in search.items() if data is not None)
    assert len(search) > 20 and 0 < len(sent) < len(search) / 2, sent  # the shards of the edit's words, its bundle
    assert "search/meta.bin" in sent and "search/d/0.bin" not in sent  # the index's build digest; another entry
    assert [f.data for f in given if f.path == "start/entries.json"] == [None]  # a body edit: same bytes
    assert tree(basic_site / "output") == clean_build(basic_site, tmp_path)


def test_the_term_index_is_stored_again_once_it_lacks_more_than_a_few_docs(basic_site, tmp_path, monkeypatch):
    from generator.speed.cache import BuildCache

    build(BuildOptions(source=basic_site, now=NOW))
    stored: list[str] = []
    real = BuildCache.save_large_artifact
    monkeypatch.setattr(BuildCache, "save_large_artifact", lambda self, name, key, value: (
        self.folder and stored.append(name), real(self, name, key, value))[1])  # not the clean builds' (no cache)
    monkeypatch.setattr(terms, "STALE_DOCS", 2)  # an edit here changes one doc: two keys differ
    for name, expected in [("qa/ask.md", []), ("highlights/rules.md", ["terms", "search"]), ("qa/open-question.md", [])]:
        path = basic_site / "content" / name  # another doc each time: one, then two differ from the stored index
        path.write_text(path.read_text(encoding="utf-8") + "\n补充一句。\n", encoding="utf-8")
        build(BuildOptions(source=basic_site, now=NOW))
        assert tree(basic_site / "output") == clean_build(basic_site, tmp_path)  # patched from the stored one
        assert (name, [kind for kind in stored if kind in ("terms", "search")]) == (name, expected)
        stored.clear()
    (basic_site / CACHE_DIR / "search.pickle").unlink()  # search files made from nothing: stored with their index
    _replace(basic_site / "content/qa/open-question.md", "补充一句。", "补充两句。")  # still two docs differ
    build(BuildOptions(source=basic_site, now=NOW))
    assert [kind for kind in stored if kind in ("terms", "search")] == ["terms", "search"]
    assert tree(basic_site / "output") == clean_build(basic_site, tmp_path)


def test_a_title_edit_reaches_the_neighbours_and_lists(basic_site):
    build(BuildOptions(source=basic_site, now=NOW))
    edit_title(basic_site)
    build(BuildOptions(source=basic_site, now=NOW))
    output = basic_site / "output"
    titles = [a.get_text() for a in page(output, "/highlights/").select(".card-title a")]
    titles += [a.get_text() for a in page(output, "/highlights/page/2/").select(".card-title a")]
    assert any(t.startswith("新版 ") for t in titles)
    neighbour_links = [a.get_text() for p in ("/highlights/meetup/",) for a in page(output, p).select(".prev-next a")]
    assert any("新版 " in text for text in neighbour_links)


def test_the_few_lists_an_edit_changed_are_rendered_early_and_kept_by_key(basic_site, monkeypatch):
    build(BuildOptions(source=basic_site, now=NOW))
    edit_title(basic_site)
    early: list[str] = []
    real = plan.rendered_now
    monkeypatch.setattr(plan, "rendered_now", lambda pages, *rest: (
        made := real(pages, *rest), early.extend(pages[i].url for i in made))[0])
    build(BuildOptions(source=basic_site, now=NOW))
    assert "/highlights/page/2/" in early and "/highlights/rules/" not in early  # its list, not its own page
    rendered: list[str] = []
    real_render = Renderer.render
    monkeypatch.setattr(Renderer, "render", lambda self, page: (rendered.append(page.url), real_render(self, page))[1])
    os.utime(basic_site / "content/qa/ask.md")  # not a build to skip by looking: each page is keyed
    result = build(BuildOptions(source=basic_site, now=NOW))
    assert result.site is not None
    assert rendered == [] and result.write.written == 0  # each written with its page's key


def test_nothing_changed_means_nothing_written(basic_site):
    build(BuildOptions(source=basic_site, now=NOW))
    before = {p: p.stat().st_ino for p in (basic_site / "output").rglob("*") if p.is_file()}
    result = build(BuildOptions(source=basic_site, now=NOW))
    assert (result.write.written, result.write.removed) == (0, 0)
    assert {p: p.stat().st_ino for p in (basic_site / "output").rglob("*") if p.is_file()} == before


@pytest.mark.parametrize(("later", "skipped"), [
    ("2026-11-21T13:00:00+08:00", True),  # an hour later: nothing reads the clock that finely
    ("2026-11-21T20:30:00+08:00", False),  # the open question (asked 11-18 20:00) has waited a day more
    ("2026-11-22T00:00:00+08:00", False),  # a new day: today's date, this week's digest
    ("2026-12-05T00:00:00+08:00", False),  # lessons/future.md comes out
    ("2026-11-21T11:00:00+08:00", False),  # earlier than the last build: never assumed the same
])
def test_an_unchanged_site_is_skipped_only_while_the_clock_changes_nothing(basic_site, tmp_path, settled_at_once,
                                                                          later, skipped):
    build(BuildOptions(source=basic_site, now=NOW))
    result = build(BuildOptions(source=basic_site, now=later))
    assert (result.site is None) == skipped
    assert tree(basic_site / "output") == clean_build(basic_site, tmp_path, later)


def test_a_skipped_build_reports_what_the_last_one_did(basic_site, settled_at_once):
    first = build(BuildOptions(source=basic_site, now=NOW))
    again = build(BuildOptions(source=basic_site, now=NOW))
    assert again.site is None and again.write.written == 0
    assert (again.entries, again.pages, again.warnings) == (first.entries, first.pages, first.warnings)
    assert "nothing changed" in again.summary()


@pytest.mark.parametrize("change", ["output file deleted", "output file added", "config touched", "drafts"])
def test_a_build_is_not_skipped_when_anything_it_depends_on_changed(basic_site, settled_at_once, change):
    build(BuildOptions(source=basic_site, now=NOW))
    expected = tree(basic_site / "output")
    options = BuildOptions(source=basic_site, now=NOW)
    if change == "output file deleted":
        (basic_site / "output/qa/ask/index.html").unlink()
    elif change == "output file added":
        (basic_site / "output/stray.html").write_text("stray", encoding="utf-8")
    elif change == "config touched":
        os.utime(basic_site / "site_config.yaml", ns=(0, 0))
    else:
        options = BuildOptions(source=basic_site, now=NOW, drafts=True)
    result = build(options)
    assert result.site is not None, change
    if change != "drafts":
        assert tree(basic_site / "output") == expected


def test_many_files_changed_right_before_a_build_leave_nothing_to_skip_by(basic_site, monkeypatch):
    """A file saved in the same clock tick as the build looked at it could change again unseen;
    such files are compared by content next time, up to MAX_RACY of them."""
    monkeypatch.setattr(unchanged, "MAX_RACY", 2)
    build(BuildOptions(source=basic_site, now=NOW))  # the site was copied a moment ago
    assert build(BuildOptions(source=basic_site, now=NOW)).site is not None


def test_a_few_files_changed_right_before_a_build_are_compared_by_content(basic_site):
    build(BuildOptions(source=basic_site, now=NOW))  # the site was copied a moment ago: its files are racy
    assert build(BuildOptions(source=basic_site, now=NOW)).site is None
    ask = basic_site / "content/qa/ask.md"
    looked = unchanged.input_digest(basic_site, PACKAGE, "code", "options")
    assert str(ask) in dict(looked.racy)
    record = unchanged.BuildRecord(looked.digest, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC),
                                   0, 0, 0, (), looked.racy)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    assert record.holds(looked, now)
    ask.write_text(ask.read_text(encoding="utf-8").replace("一", "二", 1), encoding="utf-8")  # same size
    assert not record.holds(looked, now)  # as if its stamp had stayed the same: the content tells


def test_a_file_changed_in_output_by_hand_is_rewritten(basic_site):
    build(BuildOptions(source=basic_site, now=NOW))
    target = basic_site / "output/qa/ask/index.html"
    good = target.read_bytes()
    target.write_bytes(b"tampered")
    build(BuildOptions(source=basic_site, now=NOW))
    assert target.read_bytes() == good


@pytest.mark.parametrize("damage", ["garbage", "delete"])
def test_a_damaged_or_deleted_cache_only_costs_time(basic_site, damage):
    build(BuildOptions(source=basic_site, now=NOW))
    expected = tree(basic_site / "output")
    cache = basic_site / CACHE_DIR
    if damage == "delete":
        shutil.rmtree(cache)
    else:
        for path in cache.iterdir():
            if path.is_file():
                path.write_bytes(b"not a database" * 100)
    edit_body(basic_site)
    _replace(basic_site / "content/qa/ask.md", "多用搜索，再看精华区。", "多用搜索。")
    build(BuildOptions(source=basic_site, now=NOW))
    assert tree(basic_site / "output") == expected


@pytest.mark.parametrize("site_name", ["example", "basic"])
def test_builds_are_the_same_whatever_the_hash_seed(tmp_path, site_name):
    """Set and dict order must not leak into the output, or a cached build could differ from a clean one."""
    from tests.conftest import SITES, run_kb

    trees = []
    for seed in ("1", "2", "3"):
        site = tmp_path / f"site-{seed}"
        if site_name == "example":
            copy_example_site(site)
        else:
            shutil.copytree(SITES / site_name, site)
        done = run_kb("build", "--source", str(site), "--now", NOW, env={"PYTHONHASHSEED": seed})
        assert done.returncode == 0, done.stderr
        trees.append(tree(site / "output"))
    assert trees[0] == trees[1] == trees[2]

