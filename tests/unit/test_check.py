from datetime import datetime
from zoneinfo import ZoneInfo

from generator.config import SiteConfig
from generator.model.pages import Page
from generator.model.records import Member
from generator.stages.assemble import assemble_site
from generator.stages.check import SiteFiles, check_site, page_origins
from generator.stages.parse import MarkdownRenderer, parse_document
from generator.stages.sources import SourceFile

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 21, 12, tzinfo=TZ)
MEMBERS = {"alice": Member("alice", "爱丽丝"), "bob": Member("bob", "鲍勃")}


def entry(body="正文", extra="", title="t", date="2026-11-01"):
    return f"---\ntitle: {title}\ndate: {date}\n{extra}---\n\n{body}\n"


def problems(files, config=None, static=(), content=(), errors=False, pages=()):
    renderer = MarkdownRenderer()
    docs = [parse_document(SourceFile(path, path.split("/")[1], text, "d"), renderer, TZ) for path, text in files.items()]
    site = assemble_site(config or SiteConfig(), docs, MEMBERS, NOW).site
    found = check_site(site, docs, SiteFiles(frozenset(static), frozenset(content)), set(pages), errors)
    return [str(p) for p in sorted(found)]


def test_links_to_md_files_and_urls_and_anchors():
    files = {"content/qa/a.md": entry("## 第一节\n\n正文[^1]\n\n[^1]: 注释"),
             "content/lessons/b.md": entry("[ok](../qa/a.md#第一节) [ok](/qa/a/#第一节) [ok](../../qa/a/)\n"
                                           "[ok](#t) [footnote ok](../qa/a.md#fn:1)\n\n## T\n\n"
                                           "[bad](../qa/x.md)\n[bad](../../qa/x/)\n[bad](/qa/a/#第二节)\n"
                                           "[bad](#nowhere)\n\n    [in code](../qa/x.md)\n")}
    assert problems(files) == [
        'content/lessons/b.md:11: warning: broken link: "content/qa/x.md" is not an entry (did you mean "content/qa/a.md"?): check the file name and the "../" steps',
        "content/lessons/b.md:12: warning: broken link: there is no entry at /qa/x/: check the slug, or link to the entry's .md file",
        'content/lessons/b.md:13: warning: broken link: /qa/a/ (content/qa/a.md) has no heading "#第二节" (did you mean "第一节"?)',
        'content/lessons/b.md:14: warning: broken link: this page has no heading "#nowhere": '
        'a heading\'s anchor is its text, lower-cased, spaces as "-"',
    ]


def test_broken_links_are_errors_for_kb_check():
    found = problems({"content/qa/a.md": entry("[x](b.md)")}, errors=True)
    assert found == ['content/qa/a.md:6: broken link: "content/qa/b.md" is not an entry: check the file name and the "../" steps']


def test_the_same_link_twice_gets_both_lines():
    found = problems({"content/qa/a.md": entry("[x](b.md)\n\n正文\n\n[x](b.md)")})
    assert [p.split(": warning")[0] for p in found] == ["content/qa/a.md:6", "content/qa/a.md:10"]


def test_links_in_answers_point_at_the_answer_lines():
    text = entry("问题", title="q") + "\n## 回答 @alice\n\n看[这里](missing.md)\n\n## 回答 @bob\n\n**回答者：** @bob\n\n[再看](/qa/nope/)\n"
    found = problems({"content/qa/q.md": text})
    assert [p.split(": warning")[0] for p in found] == ["content/qa/q.md:10", "content/qa/q.md:16"]


def test_links_to_drafts_and_scheduled_entries_warn_even_for_check():
    files = {"content/qa/d.md": entry(extra="draft: true\n"), "content/qa/f.md": entry(date="2026-12-01"),
             "content/qa/a.md": entry("[d](d.md) [f](/qa/f/)")}
    assert problems(files, errors=True) == [
        "content/qa/a.md:6: warning: link to /qa/f/ (content/qa/f.md), which is scheduled for 2026-12-01 00:00: the link is broken until it is published",
        "content/qa/a.md:6: warning: link to content/qa/d.md, which is a draft: the link is broken until it is published",
    ]


def test_links_to_entries_with_errors_are_not_reported_twice():
    files = {"content/qa/bad.md": "---\ntitle: x\ndate: 2026-02-30\n---\n", "content/qa/a.md": entry("[b](bad.md) [b](/qa/bad/)")}
    assert problems(files) == []


def test_links_to_members_tags_sections_and_other_pages():
    files = {"content/qa/a.md": entry("[m](/members/alice/) [t](/tags/x/) [s](/qa/) [p](/qa/page/2/) [f](/feed.xml)\n"
                                      "[m](/members/alcie/) [t](/tags/y/) [o](/qa/open/) [o](/stats/)", extra="tags: [x]\n")}
    assert problems(files) == [
        "content/qa/a.md:8: warning: broken link: there is no entry at /qa/open/: check the slug, or link to the entry's .md file",
        'content/qa/a.md:8: warning: broken link: there is no member at /members/alcie/ (did you mean "/members/alice/"?)',
        "content/qa/a.md:8: warning: broken link: there is no tag at /tags/y/: check the tag page's address on /tags/",
    ]
    assert problems(files, pages=["/qa/open/"])[-1].endswith("there is no tag at /tags/y/: check the tag page's address on /tags/")


def test_links_on_a_site_under_a_base_path():
    config = SiteConfig(base_url="https://example.org/kb/")
    files = {"content/qa/a.md": entry("[ok](/kb/qa/b/) [ok](../b/) [bad](/kb/qa/c/)\n\n[outside](/qa/b/) ![outside](/images/x.png)"),
             "content/qa/b.md": entry()}
    assert problems(files, config, static={"images/x.png"}) == [
        "content/qa/a.md:6: warning: broken link: there is no entry at /qa/c/: check the slug, or link to the entry's .md file",
        'content/qa/a.md:8: warning: broken link: "/qa/b/" leaves the site, which is published under /kb/: '
        'write "/kb/qa/b/" or a relative link',
        'content/qa/a.md:8: warning: image "/images/x.png" is outside the site, which is published under /kb/: '
        'write "/kb/images/x.png" or a relative path',
    ]


def test_images_must_exist_in_static_relative_to_the_page():
    files = {"content/lessons/a.md": entry("![ok](/images/ok.png) ![ok](map.png) ![ok](https://e.org/x.png)\n\n"
                                           "![bad](/images/nope.png)\n\n![beside](beside.png)")}
    found = problems(files, static={"images/ok.png", "lessons/a/map.png"}, content={"content/lessons/beside.png"})
    assert found == [
        'content/lessons/a.md:8: warning: image not found: "/images/nope.png" would be /images/nope.png: put the file at static/images/nope.png',
        'content/lessons/a.md:10: warning: image not found: "beside.png" would be /lessons/a/beside.png; '
        "content/lessons/beside.png exists but only static/ is published: move it to static/lessons/a/beside.png",
    ]


def test_typos_of_member_ids_warn_but_free_names_do_not():
    text = entry("问题", extra="authors:\n  - alice\n  - alcie\n  - 王老师\n  - 鲍勃\nasker: bbo\n") + "\n## 回答 @alise\n\n好\n"
    assert problems({"content/qa/q.md": text}) == [
        'content/qa/q.md:6: warning: author "alcie" is not in content/members.yaml (did you mean "alice"?); '
        "members are the ids in content/members.yaml; a free name such as a guest's is fine",
        'content/qa/q.md:8: warning: author "鲍勃" is the name of member "bob": write the id "bob" so the entry links to their profile',
        'content/qa/q.md:9: warning: asker "bbo" is not in content/members.yaml (did you mean "bob"?); '
        "members are the ids in content/members.yaml; a free name such as a guest's is fine",
        'content/qa/q.md:14: warning: answerer "alise" is not in content/members.yaml (did you mean "alice"?); '
        "members are the ids in content/members.yaml; a free name such as a guest's is fine",
    ]


def test_tags_that_differ_in_spacing_suggest_merging_and_aliases_silence_it():
    files = {"content/qa/a.md": entry(extra="tags: [社群运营, Community]\n"),
             "content/qa/b.md": entry(extra="tags:\n  - 社群运营\n  - 社群 运营\n  - community\n"),
             "content/qa/c.md": entry(extra="tags: [社群-运营]\n")}
    assert problems(files) == [
        'content/qa/b.md:6: warning: tag "社群 运营" differs only in spacing from "社群运营" (content/qa/a.md:4), so they are two tags: '
        'write it one way, or merge them in site_config.yaml with tag_aliases: {"社群 运营": "社群运营"}',
        'content/qa/c.md:4: warning: tag "社群-运营" differs only in spacing from "社群运营" (content/qa/a.md:4), so they are two tags: '
        'write it one way, or merge them in site_config.yaml with tag_aliases: {"社群-运营": "社群运营"}',
    ]
    config = SiteConfig(tag_aliases={"社群 运营": "社群运营", "社群-运营": "社群运营"})
    assert problems(files, config) == []


def test_page_origins_name_entries_members_and_pages():
    class E:
        location = "content/qa/x.md:1"

    class M:
        location = "content/members.yaml:3"

    pages = [Page("/qa/x/", "entry.html", {"entry": E()}), Page("/members/a/", "member.html", {"member": M()}),
             Page("/qa/x/", "list.html", {})]
    assert page_origins(pages) == {"qa/x/index.html": ["content/qa/x.md:1", "the page /qa/x/ (list.html)"],
                                   "members/a/index.html": ["content/members.yaml:3"]}


def test_avatars_given_as_site_paths_must_be_static_files():
    from dataclasses import replace

    from generator.core.errors import SourceLocation

    members = {"alice": replace(MEMBERS["alice"], avatar="/images/alice.png", location=SourceLocation("content/members.yaml", 1)),
               "bob": replace(MEMBERS["bob"], avatar="https://e.org/bob.png"),
               "carol": Member("carol", "Carol", avatar="images/carol.png", location=SourceLocation("content/members.yaml", 7))}
    site = assemble_site(SiteConfig(), [], members, NOW).site
    found = check_site(site, [], SiteFiles(frozenset({"images/alice.png"}), frozenset()), set(), True)
    assert [str(p) for p in found] == ['content/members.yaml:7: avatar of "carol" not found: put the file at static/images/carol.png']


def test_plain_relative_links_resolve_as_parsed_urls_do():
    """The shortcut for links like "../slug/" gives what parsing the URL gives, for every shape it takes."""
    import itertools

    from generator.stages.check import PLAIN_RELATIVE, site_path, site_path_of_any

    heres = ["/", "/qa/ask/", "/highlights/a/", "/kb/qa/ask/", "/digest/2026-W47/", "/404.html", "/members/林晓/"]
    hrefs = [up + rest for up, rest in itertools.product(["", "../", "../../", "../../../../"],
                                                         ["slug/", "slug", "qa/x/", "a_b-c/d", "群规/", "x2/y3/z/"])]
    assert all(PLAIN_RELATIVE.fullmatch(h) for h in hrefs)
    for here, href, base in itertools.product(heres, hrefs, ["/", "/kb/"]):
        assert site_path(href, here, base) == site_path_of_any(href, here, base), (href, here, base)
    for other in ["./x/", "../x/../y/", "x//y/", "../x#a", "x%20y/", "../x?q=1", "https://e.org/x/", "/x/", "../.x/"]:
        assert not PLAIN_RELATIVE.fullmatch(other), other  # the general way: dots, fragments, escapes, schemes
