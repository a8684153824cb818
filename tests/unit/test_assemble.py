from datetime import datetime
from zoneinfo import ZoneInfo

from generator.config import SiteConfig
from generator.core.dates import current_time
from generator.stages.assemble import assemble_site, tag_key
from generator.stages.parse import MarkdownRenderer, parse_document
from generator.stages.sources import SourceFile

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 21, 12, tzinfo=TZ)


def docs(files: dict[str, str]):
    renderer = MarkdownRenderer()
    return [parse_document(SourceFile(path, path.split("/")[1], text, "d"), renderer, TZ) for path, text in files.items()]


def entry(title="t", date="2026-11-01", extra=""):
    return f"---\ntitle: {title}\ndate: {date}\n{extra}---\n\n正文\n"


def assemble(files, config=None, drafts=False):
    return assemble_site(config or SiteConfig(), docs(files), {}, NOW, include_drafts=drafts)


def test_slug_from_file_name_or_front_matter_and_url():
    result = assemble({"content/qa/sub/新人 必读.md": entry(), "content/lessons/x.md": entry(extra="slug: 自定义\n")})
    assert sorted(e.url for e in result.site.entries) == ["/lessons/自定义/", "/qa/新人-必读/"]


def test_duplicate_slugs_ignore_case_and_name_both_files():
    result = assemble({"content/qa/a/Rules.md": entry(), "content/qa/b/rules.md": entry()})
    assert [str(p) for p in result.problems] == [
        'content/qa/b/rules.md:1: duplicate slug "rules": content/qa/a/Rules.md already has it; rename one file or set "slug:"']


def test_drafts_and_future_entries_are_not_published():
    files = {"content/lessons/d.md": entry(extra="draft: true\n"), "content/lessons/f.md": entry(date="2026-12-05"),
             "content/lessons/ok.md": entry(date="2026-11-21 11:59")}
    assert [e.slug for e in assemble(files).site.entries] == ["ok"]
    assert sorted(e.slug for e in assemble(files, drafts=True).site.entries) == ["d", "ok"]


def test_tags_are_one_whatever_case_and_spaces_and_aliases_merge():
    files = {"content/qa/a.md": entry(extra="tags: [Community, 社群 运营]\n"),
             "content/qa/b.md": entry(extra="tags: [' community ', 社群运营, 🎉 派对]\n")}
    site = assemble(files, SiteConfig(tag_aliases={"社群 运营": "社群运营"})).site
    assert sorted(site.tags) == ["community", "社群运营", "🎉-派对"]
    assert site.tags["community"].name == "Community"
    assert all(" " not in slug for slug in site.tags)


def test_links_between_entries_are_resolved_and_broken_ones_marked():
    """Reporting broken links is generator/check.py's job (tests/unit/test_check.py)."""
    files = {"content/qa/a.md": entry(extra="") + "\n## 第一节\n",
             "content/highlights/b.md": "---\ntitle: b\ndate: 2026-11-02\n---\n[a](../qa/a.md#第一节) [x](../qa/missing.md) [y](../qa/a.md#nope)\n"}
    result = assemble(files)
    b = result.site.by_url()["/highlights/b/"]
    assert 'href="/qa/a/#第一节"' in b.html and 'href="/qa/a/#nope"' in b.html
    assert 'href="#" data-broken-link' in b.html
    assert result.problems == ()


def test_entries_are_newest_first():
    files = {"content/qa/old.md": entry(date="2025-01-01"), "content/qa/new.md": entry(date="2026-11-20")}
    assert [e.slug for e in assemble(files).site.entries] == ["new", "old"]


def test_tag_key_folds_width_case_and_spaces():
    assert tag_key("  Ｐｙｔｈｏｎ  入门 ") == tag_key("python 入门")


def test_now_from_flag_then_source_date_epoch():
    assert current_time("2026-11-21 08:00", TZ, {}).isoformat() == "2026-11-21T08:00:00+08:00"
    assert current_time(None, TZ, {"SOURCE_DATE_EPOCH": "0"}).isoformat() == "1970-01-01T08:00:00+08:00"


def test_an_entry_takes_all_but_its_tags_from_its_document_alone():
    """What an entry's `origin` (its document's key) promises in its digest: every field in
    DOCUMENT_FIELDS is the same wherever the document is assembled, whatever the rest of the site."""
    from dataclasses import fields

    from generator.model.records import DOCUMENT_FIELDS, Entry, Member

    question = ("---\ntitle: 怎么办？\ndate: 2026-11-02 10:00\ntags: [Python, 提问]\nasker: bob\nupdated: 2026-11-03\n"
                "summary: 一个问题\n---\n\n问题正文，链接 [站外](https://example.org)。\n\n## 回答 @alice 2026-11-02 已采纳\n\n这样做。\n"
                "\n## 回答 @carol\n\n也可以那样。\n")
    files = {"content/qa/q.md": question,
             "content/lessons/l.md": entry(extra="tags: [python]\nauthors: [bob, 王老师]\npinned: true\nweight: 2\nslug: 第一课\n")}
    renderer = MarkdownRenderer()

    def keyed(files: dict[str, str]):
        return [parse_document(SourceFile(path, path.split("/")[1], text, "d"), renderer, TZ, key=f"key of {path}")
                for path, text in files.items()]

    alone = assemble_site(SiteConfig(), keyed(files), {}, NOW).site
    crowded = assemble_site(
        SiteConfig(title="别的站", base_url="https://other.example/x/", tag_aliases={"提问": "问答"}, per_page=3),
        keyed({**files, "content/lessons/m.md": entry(extra="tags: [Python, PYTHON, Python]\n"),
               "content/highlights/h.md": entry(extra="tags: [Python]\n")}),
        {"bob": Member("bob", "Bob")}, datetime(2027, 1, 1, tzinfo=TZ), include_drafts=True).site
    twins = [(e, next(t for t in crowded.entries if t.origin == e.origin)) for e in alone.entries]
    assert len(twins) == 2 and all(e.origin for e, _ in twins)
    for mine, twin in twins:
        assert {n: getattr(mine, n) for n in DOCUMENT_FIELDS} == {n: getattr(twin, n) for n in DOCUMENT_FIELDS}
    assert [e.tags for e, _ in twins] != [t.tags for _, t in twins]  # the premise: the site spells the tags
    assert DOCUMENT_FIELDS | {"tags", "made_from"} == {f.name for f in fields(Entry)}  # today every other field is the document's
