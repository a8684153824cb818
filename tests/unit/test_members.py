from pathlib import Path

from generator.config import SiteConfig
from generator.stages.members import load_members


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
