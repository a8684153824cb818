from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from generator.config import SiteConfig
from generator.stages.assemble import assemble_site, current_time, tag_key
from generator.stages.members import load_members
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


def test_members_in_both_forms(tmp_path: Path):
    (tmp_path / "content").mkdir()
    (tmp_path / "content/members.yaml").write_text("alice:\n  name: 爱丽丝\n  joined: 2025-01-05\nbob: 鲍勃\n", encoding="utf-8")
    members, problems = load_members(tmp_path, SiteConfig())
    assert problems == [] and members["alice"].name == "爱丽丝" and members["bob"].name == "鲍勃"
    assert str(members["alice"].joined) == "2025-01-05"
    (tmp_path / "content/members.yaml").write_text("- id: alice\n  name: A\n  links: {博客: 'https://a.org'}\n- name: no id\n", encoding="utf-8")
    members, problems = load_members(tmp_path, SiteConfig())
    assert members["alice"].links == (("博客", "https://a.org"),)
    assert [str(p) for p in problems] == ['content/members.yaml:4: a member needs an "id"']


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


def members_of(tmp_path: Path, text: str | bytes):
    (tmp_path / "content").mkdir(exist_ok=True)
    path = tmp_path / "content/members.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    members, problems = load_members(tmp_path, SiteConfig())
    return members, [str(p) for p in problems]


def test_a_member_given_twice_is_an_error_naming_both_lines_in_either_form(tmp_path: Path):
    members, problems = members_of(tmp_path, "alice:\n  name: 爱丽丝\nbob: 鲍勃\nalice:\n  name: 另一个\n")
    assert problems == ['content/members.yaml:4: "alice" is given twice, on lines 1 and 4: keep one']
    members, problems = members_of(tmp_path, "- id: alice\n  name: A\n- id: bob\n- id: alice\n  name: B\n")
    assert problems == ['content/members.yaml:4: member id "alice" is listed twice, on lines 1 and 4: keep one']
    assert members["alice"].name == "A"


def test_every_member_field_has_its_type_or_an_error_at_its_line(tmp_path: Path):
    text = ("- id: [x]\n  name: X\n"
            "- id: bob\n  name: {x: 1}\n  bio: [群主]\n  avatar: [me.png]\n  joined: {y: 2025}\n  links: {博客: [https://b.org]}\n"
            "- id: 12345\n  name: 2024\n  links: [{label: 主页, url: 12}]\n")
    members, problems = members_of(tmp_path, text)
    assert problems == [
        "content/members.yaml:1: a member id must be text such as alice, not a list",
        'content/members.yaml:4: "name" must be text, not a mapping (key: value)',
        'content/members.yaml:5: "bio" must be text, not a list',
        'content/members.yaml:6: "avatar" must be text, not a list',
        'content/members.yaml:7: "joined": must be a date such as 2025-01-05, not a mapping (key: value)',
        "content/members.yaml:8: links must be a list of {label, url} or a mapping label: url, each url text",
        "content/members.yaml:11: links must be a list of {label, url} or a mapping label: url, each url text",
    ]
    bob = members["bob"]
    assert (bob.name, bob.bio, bob.avatar, bob.joined, bob.links) == ("bob", "", "", None, ())
    assert set(members) == {"bob", "12345"} and members["12345"].name == "2024"


def test_members_that_are_not_utf8_are_an_error(tmp_path: Path):
    members, problems = members_of(tmp_path, "alice:\n  name: 爱丽丝\n".encode("gb18030"))
    assert members == {} and problems == [
        "content/members.yaml:2: this file is not UTF-8 (first seen on this line); it looks like GB18030 (GBK): "
        "save it as UTF-8, e.g. with iconv -f GB18030 -t UTF-8"]


def test_a_lone_surrogate_in_a_member_is_an_error_and_never_reaches_a_page(tmp_path: Path):
    members, problems = members_of(tmp_path, 'alice:\n  name: "爱丽丝\\uD800"\n')
    assert problems == ['content/members.yaml:2: "name" contains \\uD800, half of a character pair: '
                        "remove it or write the whole character"]
    assert members["alice"].name.encode("utf-8")
