import time

import pytest

from generator.commands.cli import main
from generator.core.yamltext import MAX_NODES, YamlError, file_text, load_yaml, load_yaml_file
from tests.conftest import NOW, SITES, copy_site


def problem(text: str, offset: int = 0) -> str:
    with pytest.raises(YamlError) as caught:
        load_yaml(text, "f.yaml", line_offset=offset)
    return str(caught.value.problem)


def test_lines_of_keys_and_list_items_with_offset():
    doc = load_yaml("title: x\ntags:\n  - a\n  - b\n", "f.md", line_offset=1)
    assert (doc.line("title"), doc.line("tags"), doc.line("tags", 1), doc.line("nope")) == (2, 3, 5, 2)


def test_dates_stay_text():
    assert load_yaml("date: 2026-02-30\n", "f").data == {"date": "2026-02-30"}


def test_alias_bomb_is_refused_quickly():
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    started = time.perf_counter()
    message = problem("\n".join(lines), offset=1)
    assert message == (f"f.yaml:2: invalid YAML: more than {MAX_NODES:,} values once anchors and aliases (&, *) "
                       "are expanded; write the values out instead")
    assert time.perf_counter() - started < 5


def test_a_few_aliases_are_fine():
    assert load_yaml("base: &b {name: x}\nother: *b\n", "f").data == {"base": {"name": "x"}, "other": {"name": "x"}}


def test_deep_nesting_is_a_clean_error():
    assert problem("a: " + "[" * 5000 + "]" * 5000) == "f.yaml:1: invalid YAML: nested too deeply; flatten the lists and mappings"


def test_control_characters_are_dropped_from_values_and_keys_with_a_warning():
    doc = load_yaml('t: "a\\x08b\\x00c\\x1b"\n"k\\x0c": "\\ufffe"\n', "f")
    assert doc.data == {"t": "abc", "k": ""}
    assert [str(p) for p in doc.problems] == [
        'f:1: warning: "t" contains the control character \\x08, which is left out: remove it',
        'f:2: warning: "k" contains the control character \\uFFFE, which is left out: remove it',
        "f:2: warning: a key contains the control character \\x0C, which is left out: remove it",
    ]


def messages(text: str, offset: int = 0) -> list[str]:
    return [str(p) for p in load_yaml(text, "f.md", line_offset=offset).problems]


def test_a_key_given_twice_is_an_error_at_the_second_naming_both_lines():
    text = "title: a\ndate: 2026-11-01\ntitle: b\ntags: [x]\nnested: {k: 1, k: 2}\ntags: [y]\n"
    assert messages(text, offset=1) == ['f.md:4: "title" is given twice, on lines 2 and 4: keep one',
                                        'f.md:6: "k" is given twice, on line 6: keep one',
                                        'f.md:7: "tags" is given twice, on lines 5 and 7: keep one']


def test_keys_that_are_one_value_written_two_ways_are_one_key():
    assert messages("1: a\n01: b\n") == ['f.md:2: "01" is given twice, on lines 1 and 2: keep one']
    assert messages('"1": a\n1: b\n') == []  # text and a number: two keys


def test_a_merged_anchor_is_not_a_key_given_twice():
    doc = load_yaml("base: &b {name: x, bio: y}\nalice: {<<: *b, name: Alice}\n", "f")
    assert doc.problems == () and doc.data["alice"] == {"name": "Alice", "bio": "y"}


def test_an_anchor_used_many_times_is_checked_once():
    assert messages('a: &a {t: "x\\uD800"}\nb: [*a, *a, *a]\n') == [
        'f.md:1: "t" contains \\uD800, half of a character pair: remove it or write the whole character']


@pytest.mark.parametrize("text, line", [
    ('title: "a\\uD800b"\n', 'f.md:2: "title" contains \\uD800'),
    ('x: 1\ntags: [ok, "\\udc00"]\n', 'f.md:3: "tags" contains \\uDC00'),
    ('"k\\uD83D": v\n', "f.md:2: a key contains \\uD83D"),
])
def test_a_lone_surrogate_is_an_error_and_never_reaches_the_data(text, line):
    doc = load_yaml(text, "f.md", line_offset=1)
    assert [str(p) for p in doc.problems] == [f"{line}, half of a character pair: remove it or write the whole character"]
    assert repr(doc.data).encode("utf-8")  # no surrogate left to crash an encoder


def test_a_whole_pair_written_as_two_escapes_is_that_character():
    doc = load_yaml('title: "\\uD83D\\uDE00 ok"\n', "f")
    assert doc.data == {"title": "😀 ok"} and doc.problems == ()


def test_kb_digest_reports_a_lone_surrogate_instead_of_crashing(tmp_path, capsys):
    site = copy_site("invalid/lone-surrogate", tmp_path)
    code = main(["digest", "--source", str(site), "--now", NOW, "--week", "2026-W44"])
    err = capsys.readouterr().err.splitlines()
    assert code == 1 and err == (SITES / "invalid/lone-surrogate/expected.txt").read_text(encoding="utf-8").splitlines()


# --- Files ---------------------------------------------------------------------------------

ENTRY = "---\ntitle: 新人须知\ndate: 2026-11-01\n---\n\n欢迎加入。\n"


@pytest.mark.parametrize("data, message", [
    (ENTRY.encode("gb18030"), "x.md:2: this file is not UTF-8 (first seen on this line); it looks like GB18030 (GBK): "
                              "save it as UTF-8, e.g. with iconv -f GB18030 -t UTF-8"),
    ("---\ntitle: 新人須知\n".encode("big5"), "x.md:2: this file is not UTF-8 (first seen on this line); it looks like "
                                            "Big5: save it as UTF-8, e.g. with iconv -f Big5 -t UTF-8"),
    (ENTRY.encode("utf-16-le"), "x.md:1: this file looks like UTF-16LE without a byte-order mark: save it as UTF-8, "
                                "e.g. with iconv -f UTF-16LE -t UTF-8"),
    (ENTRY.encode()[:-12] + ENTRY.encode()[-11:], "x.md:6: this file is UTF-8 but for a damaged character on this line: retype it"),
    (b"---\ntitle: \x81\xff\n", "x.md:2: this file is not UTF-8 (first seen on this line): save it as UTF-8"),
])
def test_bytes_that_are_not_utf8_are_an_error_that_says_what_they_look_like(data, message):
    text, problems = file_text(data, "x.md")
    assert text == "" and [str(p) for p in problems] == [message]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_their_mark_are_read_with_a_warning(encoding):
    data = ENTRY.replace("\n", "\r\n").encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    name = encoding[:6].upper()
    text, problems = file_text(data, "x.md")
    assert text == ENTRY and [str(p) for p in problems] == [
        f"x.md:1: warning: this file is {name}; it was read as such, but save it as UTF-8, e.g. with iconv -f {name} -t UTF-8"]


def test_valid_utf8_reads_as_it_is_with_no_problems():
    assert file_text(("\ufeff" + ENTRY.replace("\n", "\r\n")).encode(), "x.md") == (ENTRY, [])


def test_a_yaml_file_that_links_outside_the_site_is_not_read(tmp_path):
    outside = tmp_path / "passwd"
    outside.write_text("root: x\n", encoding="utf-8")
    site = tmp_path / "site"
    site.mkdir()
    (site / "site_config.yaml").symlink_to(outside)
    doc = load_yaml_file(site, "site_config.yaml")
    assert doc.data is None and [str(p) for p in doc.problems] == [
        "site_config.yaml:1: warning: points outside the site, so it is not read"]
    assert load_yaml_file(site, "missing.yaml") is None


@pytest.mark.parametrize("text, message", [
    ("title: a: b\n", 'f.yaml:1: invalid YAML: mapping values are not allowed here: a value that contains ": " must be in quotes, like title: "A: B"'),
    ("a:\n\tb: c\n", "f.yaml:2: invalid YAML: found character '\\t' that cannot start any token: indent with spaces, not tabs"),
    ("a: *nothing\n", "f.yaml:1: invalid YAML: found undefined alias 'nothing': an *alias needs an &anchor defined above it"),
    ('a: "open\n', "f.yaml:2: invalid YAML: found unexpected end of stream: a quote or bracket is not closed"),
    ('a: 1\nb: "\\U00110000"\n', "f.yaml:2: invalid YAML: \\U00110000 is not a character (the last is \\U0010FFFF): check the escape"),
])
def test_common_mistakes_come_with_a_hint(text, message):
    assert problem(text) == message
